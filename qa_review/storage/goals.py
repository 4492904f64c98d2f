"""Coaching goals set for operators."""

from __future__ import annotations

import json

from sqlite_utils import Database

from qa_review.storage.queries import Where, now_iso


class Goals:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, operator_id: str, items: list[str], target: float, due: str, note: str, set_by: str) -> int:
        return (
            self._db["goals"]
            .insert(
                {
                    "operator_id": operator_id,
                    "items": json.dumps(items),
                    "target": target,
                    "due": due,
                    "note": note,
                    "set_by": set_by,
                    "created_at": now_iso(),
                }
            )
            .last_pk
        )

    def list(self, operators=None) -> list[dict]:
        """Goals of these operators (all when None), soonest due first, items decoded."""
        w = Where().among("operator_id", operators)
        return [
            {**g, "items": json.loads(g["items"])}
            for g in self._db["goals"].rows_where(w.clause(), w.args, order_by="due")
        ]
