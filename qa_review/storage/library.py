"""The trainers' library: collections, their clips, and who they are shared with."""

from __future__ import annotations

import json

from sqlite_utils import Database

from qa_review.core.errors import NotFound
from qa_review.storage.queries import Where, now_iso, one


class Library:
    def __init__(self, db: Database) -> None:
        self._db = db

    def collection(self, collection_id: int) -> dict:
        return one(self._db, "collections", "id = ?", [collection_id], NotFound(f"no collection {collection_id}"))

    def collection_named(self, name: str) -> dict | None:
        return one(self._db, "collections", "name = ?", [name])

    def add_collection(self, name: str, description: str, created_by: str) -> int:
        return (
            self._db["collections"]
            .insert({"name": name, "description": description, "created_by": created_by, "created_at": now_iso()})
            .last_pk
        )

    def collections(self) -> list[dict]:
        """Every collection with its clip count and audiences, in one query."""
        rows = self._db.query(
            """select c.*, (select count(*) from clips k where k.collection_id = c.id) as clips,
                      (select json_group_array(audience) from collection_shares s where s.collection_id = c.id)
                      as audiences
               from collections c order by c.name"""
        )
        return [{**r, "audiences": json.loads(r["audiences"] or "[]")} for r in rows]

    def audiences(self, collection_id: int) -> set[str]:
        return {r["audience"] for r in self._db["collection_shares"].rows_where("collection_id = ?", [collection_id])}

    def share(self, collection_id: int, audience: str) -> None:
        self._db["collection_shares"].upsert(
            {"collection_id": collection_id, "audience": audience}, pk=("collection_id", "audience")
        )

    def add_clip(
        self,
        collection_id: int,
        call_id: str,
        start: float,
        end: float,
        items: list[str],
        example: str,
        note: str,
        created_by: str,
    ) -> int:
        return (
            self._db["clips"]
            .insert(
                {
                    "collection_id": collection_id,
                    "call_id": call_id,
                    "start": start,
                    "end": end,
                    "items": json.dumps(items),
                    "example": example,
                    "note": note,
                    "created_by": created_by,
                    "created_at": now_iso(),
                }
            )
            .last_pk
        )

    def clips(self, collection_id: int | None = None) -> list[dict]:
        """Clips of one collection (all when None), items decoded."""
        w = Where().add("collection_id = ?", collection_id, when=collection_id is not None)
        return [
            {**c, "items": json.loads(c["items"])}
            for c in self._db["clips"].rows_where(w.clause(), w.args, order_by="id")
        ]
