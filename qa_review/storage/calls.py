"""Calls: their metadata and state, the batch errors of ingest, and the flags on them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from qa_review.core.domain import CallMeta, CallStatus
from qa_review.core.errors import CallNotFound
from qa_review.storage.queries import Where, marks, now_iso, one

INGESTED, TRANSCRIBED, FAILED = CallStatus


@dataclass(frozen=True)
class AudioFacts:
    channels: int
    sample_rate: int
    duration_s: float


def _decode(row: dict) -> dict:
    row = dict(row)
    row["tags"] = json.loads(row["tags"] or "[]")
    return row


class Calls:
    def __init__(self, db: Database) -> None:
        self._db = db

    def by_sha(self, sha256: str) -> dict | None:
        return one(self._db, "calls", "content_sha256 = ?", [sha256])

    def exists(self, call_id: str) -> bool:
        return one(self._db, "calls", "call_id = ?", [call_id]) is not None

    def add(
        self,
        meta: CallMeta,
        *,
        kind: str,
        source_path: str,
        sha256: str,
        audio: AudioFacts | None = None,
        status: str = INGESTED,
    ) -> None:
        self._db["calls"].insert(
            {
                "call_id": meta.call_id,
                "kind": kind,
                "channel": meta.channel,
                "operator": meta.operator,
                "started_at": meta.started_at.isoformat(),
                "direction": meta.direction,
                "phone": meta.phone,
                "queue": meta.queue,
                "tags": json.dumps(list(meta.tags), ensure_ascii=False),
                "source_path": source_path,
                "content_sha256": sha256,
                "audio_channels": audio.channels if audio else None,
                "sample_rate": audio.sample_rate if audio else None,
                "duration_s": audio.duration_s if audio else None,
                "status": status,
                "error": None,
                "ingested_at": now_iso(),
            }
        )

    def get(self, call_id: str) -> dict:
        missing = CallNotFound(f"no call with id {call_id!r}; `qa-review calls` lists the calls in the database")
        return _decode(one(self._db, "calls", "call_id = ?", [call_id], missing))

    def many(self, call_ids) -> dict[str, dict]:
        """{call_id: call} for the given ids, in one query."""
        ids = list(set(call_ids))
        if not ids:
            return {}
        return {r["call_id"]: _decode(r) for r in self._db["calls"].rows_where(f"call_id in ({marks(ids)})", ids)}

    def list(
        self, *, status: str | None = None, kind: str | None = None, month: str | None = None, operators=None
    ) -> list[dict]:
        """Calls, newest first; ``month`` (YYYY-MM on the clinic's clock) narrows them."""
        w = Where().month("started_at", month).eq("status", status).eq("kind", kind).among("operator", operators)
        rows = self._db["calls"].rows_where(w.clause(), w.args, order_by="started_at desc, call_id")
        return [_decode(r) for r in rows]

    def months(self) -> list[str]:
        """Months with calls, newest first (stored times are on the clinic's clock)."""
        return [r[0] for r in self._db.execute("select distinct substr(started_at, 1, 7) from calls order by 1 desc")]

    def to_transcribe(self) -> list[dict]:
        """Audio calls with no transcript yet; failed ones are tried again."""
        rows = self._db["calls"].rows_where(
            "kind = 'audio' and status in (?, ?)", [INGESTED, FAILED], order_by="started_at, call_id"
        )
        return [_decode(r) for r in rows]

    def mark_failed(self, call_id: str, reason: str) -> None:
        self._db["calls"].update(call_id, {"status": FAILED, "error": reason})

    def mark_transcribed(self, call_id: str) -> None:
        self._db["calls"].update(call_id, {"status": TRANSCRIBED, "error": None})

    # --- what went wrong in a batch ---------------------------------------------

    def record_ingest_error(self, batch: str, path: str, row: int | None, reason: str) -> None:
        self._db["ingest_errors"].insert({"batch": batch, "path": path, "row": row, "reason": reason, "at": now_iso()})

    def ingest_errors(self, batch: str | None = None) -> list[dict]:
        w = Where().eq("batch", batch)
        return list(self._db["ingest_errors"].rows_where(w.clause(), w.args, order_by="id"))

    # --- flags: calls a person should look at ------------------------------------

    def set_flag(self, call_id: str, code: str, detail: str) -> None:
        self._db["call_flags"].upsert(
            {"call_id": call_id, "code": code, "detail": detail, "created_at": now_iso()}, pk=("call_id", "code")
        )

    def clear_flag(self, call_id: str, code: str) -> None:
        self._db.execute("delete from call_flags where call_id = ? and code = ?", [call_id, code])

    def flags(self, call_ids: list[str] | None = None) -> dict[str, list[dict]]:
        """{call_id: [{code, detail}, ...]} for the given calls (all when None)."""
        w = Where().among("call_id", call_ids)
        out: dict[str, list[dict]] = {}
        for r in self._db.query(
            f"select call_id, code, detail from call_flags {w.sql()} order by call_id, code", w.args
        ):
            out.setdefault(r["call_id"], []).append({"code": r["code"], "detail": r["detail"]})
        return out
