"""The only module that names tables: reads and writes of calls and transcripts."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlite_utils import Database

from .domain import CallMeta, Interval, Segment, Transcript
from .errors import CallNotFound

INGESTED, TRANSCRIBED, FAILED = "ingested", "transcribed", "failed"


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class AudioFacts:
    channels: int
    sample_rate: int
    duration_s: float


def call_by_sha(db: Database, sha256: str) -> dict | None:
    rows = list(db["calls"].rows_where("content_sha256 = ?", [sha256], limit=1))
    return rows[0] if rows else None


def call_exists(db: Database, call_id: str) -> bool:
    return bool(list(db["calls"].rows_where("call_id = ?", [call_id], limit=1)))


def add_call(
    db: Database,
    meta: CallMeta,
    *,
    kind: str,
    source_path: str,
    sha256: str,
    audio: AudioFacts | None = None,
    status: str = INGESTED,
) -> None:
    db["calls"].insert(
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


def record_ingest_error(db: Database, batch: str, path: str, row: int | None, reason: str) -> None:
    db["ingest_errors"].insert(
        {"batch": batch, "path": path, "row": row, "reason": reason, "at": now_iso()}
    )


def ingest_errors(db: Database, batch: str | None = None) -> list[dict]:
    if batch is None:
        return list(db["ingest_errors"].rows_where(order_by="id"))
    return list(db["ingest_errors"].rows_where("batch = ?", [batch], order_by="id"))


def _decode_call(row: dict) -> dict:
    row = dict(row)
    row["tags"] = json.loads(row["tags"] or "[]")
    return row


def get_call(db: Database, call_id: str) -> dict:
    rows = list(db["calls"].rows_where("call_id = ?", [call_id], limit=1))
    if not rows:
        raise CallNotFound(
            f"no call with id {call_id!r}; `qa-review calls` lists the calls in the database"
        )
    return _decode_call(rows[0])


def list_calls(db: Database, *, status: str | None = None, kind: str | None = None) -> list[dict]:
    where, args = [], []
    if status:
        where.append("status = ?")
        args.append(status)
    if kind:
        where.append("kind = ?")
        args.append(kind)
    rows = db["calls"].rows_where(
        " and ".join(where) or None, args, order_by="started_at desc, call_id"
    )
    return [_decode_call(r) for r in rows]


def calls_to_transcribe(db: Database) -> list[dict]:
    """Audio calls with no transcript yet; failed ones are tried again."""
    return [
        _decode_call(r)
        for r in db["calls"].rows_where(
            "kind = 'audio' and status in (?, ?)", [INGESTED, FAILED], order_by="started_at, call_id"
        )
    ]


def save_transcript(
    db: Database,
    transcript: Transcript,
    *,
    model: str,
    settings: dict,
    processing_s: float,
) -> None:
    """Write a whole transcript and mark the call transcribed, atomically.

    A process killed midway leaves the call as it was, so a rerun redoes it
    and never sees half a transcript.
    """
    cid = transcript.call_id
    with db.atomic():
        _delete_transcript(db, cid)
        db["transcripts"].insert(
            {
                "call_id": cid,
                "source": transcript.source,
                "model": model,
                "language": transcript.language,
                "settings": json.dumps(settings, ensure_ascii=False, sort_keys=True),
                "duration_s": transcript.duration_s,
                "processing_s": processing_s,
                "created_at": now_iso(),
            }
        )
        db["segments"].insert_all(
            {
                "call_id": cid,
                "idx": i,
                "speaker": s.speaker,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "words": json.dumps([w.__dict__ for w in s.words], ensure_ascii=False),
            }
            for i, s in enumerate(transcript.segments)
        )
        db["activity"].insert_all(
            {"call_id": cid, "speaker": a.speaker, "start": a.start, "end": a.end}
            for a in transcript.activity
        )
        db["calls"].update(cid, {"status": TRANSCRIBED, "error": None})


def _delete_transcript(db: Database, call_id: str) -> None:
    for table in ("segments", "activity", "transcripts"):
        db.execute(f"delete from [{table}] where call_id = ?", [call_id])


def mark_failed(db: Database, call_id: str, reason: str) -> None:
    db["calls"].update(call_id, {"status": FAILED, "error": reason})


def get_transcript(db: Database, call_id: str) -> Transcript | None:
    meta = list(db["transcripts"].rows_where("call_id = ?", [call_id], limit=1))
    if not meta:
        return None
    segs = tuple(
        Segment.from_dict({**r, "words": json.loads(r["words"] or "[]")})
        for r in db["segments"].rows_where("call_id = ?", [call_id], order_by="idx")
    )
    act = tuple(
        Interval(r["speaker"], r["start"], r["end"])
        for r in db["activity"].rows_where("call_id = ?", [call_id], order_by="start")
    )
    m = meta[0]
    return Transcript(
        call_id=call_id,
        segments=segs,
        activity=act,
        duration_s=m["duration_s"] or 0.0,
        language=m["language"] or "",
        source=m["source"],
    )


def transcript_info(db: Database, call_id: str) -> dict | None:
    rows = list(db["transcripts"].rows_where("call_id = ?", [call_id], limit=1))
    if not rows:
        return None
    row = dict(rows[0])
    row["settings"] = json.loads(row["settings"] or "{}")
    return row


def status_counts(db: Database) -> dict[str, int]:
    return {
        r["status"]: r["n"]
        for r in db.query("select status, count(*) as n from calls group by status")
    }
