"""Storage of calls, transcripts and scorecards (users, disputes and the
audit log are kept by accounts.py and review.py, which own those tables)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from qa_review.core.checklists import LoadedChecklist
from qa_review.core.domain import CallMeta, Coverage, Interval, Segment, Transcript
from qa_review.core.errors import CallNotFound, ChecklistError, QAReviewError
from qa_review.core.scoring import Evidence, ItemResult, Scorecard

INGESTED, TRANSCRIBED, FAILED = "ingested", "transcribed", "failed"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
    db["ingest_errors"].insert({"batch": batch, "path": path, "row": row, "reason": reason, "at": now_iso()})


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
        raise CallNotFound(f"no call with id {call_id!r}; `qa-review calls` lists the calls in the database")
    return _decode_call(rows[0])


def month_range(month: str) -> tuple[str, str]:
    """[first day, first day of the next month) of a YYYY-MM month, as strings.

    Stored times are on the clinic's clock (ingest converts them), so string
    comparison on them is calendar comparison and can use the index.
    """
    try:
        start = datetime.strptime(month, "%Y-%m")
    except (TypeError, ValueError) as e:
        raise QAReviewError(f"month {month!r}: expected YYYY-MM, e.g. 2026-11") from e
    end = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")


def list_calls(
    db: Database, *, status: str | None = None, kind: str | None = None, month: str | None = None
) -> list[dict]:
    """Calls, newest first; ``month`` (YYYY-MM on the clinic's clock) narrows them."""
    where, args = [], []
    if month:
        where.append("started_at >= ? and started_at < ?")
        args += list(month_range(month))
    if status:
        where.append("status = ?")
        args.append(status)
    if kind:
        where.append("kind = ?")
        args.append(kind)
    rows = db["calls"].rows_where(" and ".join(where) or None, args, order_by="started_at desc, call_id")
    return [_decode_call(r) for r in rows]


def call_months(db: Database) -> list[str]:
    """Months with calls, newest first (stored times are on the clinic's clock)."""
    return [r[0] for r in db.execute("select distinct substr(started_at, 1, 7) from calls order by 1 desc")]


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
                "coverage": json.dumps(
                    {
                        c.speaker: {"speech_s": c.speech_s, "covered_s": c.covered_s, "restored_s": c.restored_s}
                        for c in transcript.coverage
                    }
                )
                if transcript.coverage
                else None,
                "unheard": json.dumps([[u.speaker, u.start, u.end] for u in transcript.unheard]),
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
            {"call_id": cid, "speaker": a.speaker, "start": a.start, "end": a.end} for a in transcript.activity
        )
        db["calls"].update(cid, {"status": TRANSCRIBED, "error": None})
        low = [c for c in transcript.coverage if c.speech_s >= LOW_COVERAGE_MIN_SPEECH_S and c.coverage < LOW_COVERAGE]
        if low:
            set_flag(
                db,
                cid,
                LOW_COVERAGE_FLAG,
                "; ".join(f"{c.speaker}: {c.coverage:.0%} of {c.speech_s:.0f} s of speech recognized" for c in low),
            )
        else:
            clear_flag(db, cid, LOW_COVERAGE_FLAG)
        from qa_review.services.search import index_call  # here: search -> accounts -> store would be a cycle

        index_call(db, cid)


# A speaker with less of their speech recognized than this gets the call
# flagged: benchmarks/asr.py shows clean calls at 0.97-1.0 and the calls
# that lost whole replies below it.
LOW_COVERAGE = 0.9
LOW_COVERAGE_MIN_SPEECH_S = 3.0  # too little speech to judge a share
LOW_COVERAGE_FLAG = "low_coverage"


def set_flag(db: Database, call_id: str, code: str, detail: str) -> None:
    db["call_flags"].upsert(
        {"call_id": call_id, "code": code, "detail": detail, "created_at": now_iso()}, pk=("call_id", "code")
    )


def clear_flag(db: Database, call_id: str, code: str) -> None:
    db.execute("delete from call_flags where call_id = ? and code = ?", [call_id, code])


def flags_of(db: Database, call_ids: list[str] | None = None) -> dict[str, list[dict]]:
    """{call_id: [{code, detail}, ...]} for the given calls (all when None)."""
    if call_ids is None:
        rows = db.query("select call_id, code, detail from call_flags order by call_id, code")
    else:
        if not call_ids:
            return {}
        marks = ",".join("?" * len(call_ids))
        rows = db.query(
            f"select call_id, code, detail from call_flags where call_id in ({marks}) order by call_id, code", call_ids
        )
    out: dict[str, list[dict]] = {}
    for r in rows:
        out.setdefault(r["call_id"], []).append({"code": r["code"], "detail": r["detail"]})
    return out


def _delete_transcript(db: Database, call_id: str) -> None:
    for table in ("segments", "activity", "transcripts", "segments_fts"):
        db.execute(f"delete from [{table}] where call_id = ?", [call_id])


def insert_segment(
    db: Database, call_id: str, speaker: str, start: float, end: float, text: str, *, added_by: str
) -> int:
    """Put a reviewer's line among the others by time; the call's unheard
    stretches it covers are no longer unheard. Returns its index."""
    rows = list(db["segments"].rows_where("call_id = ?", [call_id], order_by="idx"))
    index = sum(1 for r in rows if r["start"] <= start)  # after the lines that start no later
    with db.atomic():
        for r in reversed(rows[index:]):
            db["segments"].update(r["id"], {"idx": r["idx"] + 1})
        db["segments"].insert(
            {
                "call_id": call_id,
                "idx": index,
                "speaker": speaker,
                "start": round(start, 3),
                "end": round(end, 3),
                "text": text,
                "words": "[]",
                "original_text": "",
                "added_by": added_by,
            }
        )
        info = list(db["transcripts"].rows_where("call_id = ?", [call_id], limit=1))[0]
        unheard = [
            u
            for u in json.loads(info.get("unheard") or "[]")
            if not (u[0] in (speaker, "mixed") and u[1] < end and u[2] > start)
        ]
        db["transcripts"].update(call_id, {"unheard": json.dumps(unheard)})
    return index


def reviewed_lines(db: Database, since: str | None = None) -> list[dict]:
    """Every line of the calls a reviewer corrected or added a line to.

    A reviewer who fixed some lines read the call, so its untouched lines are
    references too: ``text`` is what was said, ``asr_text`` what the
    recognizer wrote ('' for a line it never heard). ``since``: ISO date of
    the call.
    """
    sql = """
        select s.call_id, s.idx, s.speaker, s.start, s.end, s.text,
               case when s.added_by is not null then '' else coalesce(s.original_text, s.text) end as asr_text,
               s.added_by, c.operator, c.queue, c.started_at, c.source_path, t.model, t.settings
        from segments s
        join calls c on c.call_id = s.call_id
        join transcripts t on t.call_id = s.call_id
        where s.call_id in (select call_id from segments
                            where original_text is not null or added_by is not null)
          and c.kind = 'audio' and (? is null or c.started_at >= ?)
        order by c.started_at, s.call_id, s.idx
    """
    return list(db.query(sql, [since, since]))


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
    cov = json.loads(m.get("coverage") or "{}")
    return Transcript(
        call_id=call_id,
        segments=segs,
        activity=act,
        duration_s=m["duration_s"] or 0.0,
        language=m["language"] or "",
        source=m["source"],
        coverage=tuple(Coverage(sp, v["speech_s"], v["covered_s"], v.get("restored_s", 0.0)) for sp, v in cov.items()),
        unheard=tuple(Interval(sp, s, e) for sp, s, e in json.loads(m.get("unheard") or "[]")),
    )


def transcript_info(db: Database, call_id: str) -> dict | None:
    rows = list(db["transcripts"].rows_where("call_id = ?", [call_id], limit=1))
    if not rows:
        return None
    row = dict(rows[0])
    row["settings"] = json.loads(row["settings"] or "{}")
    row["coverage"] = json.loads(row.get("coverage") or "{}")
    row["unheard"] = json.loads(row.get("unheard") or "[]")
    row["flags"] = flags_of(db, [call_id]).get(call_id, [])
    return row


# --- checklists and scorecards ----------------------------------------------

AUTO = "auto"


def record_checklist(db: Database, lc: LoadedChecklist) -> None:
    """Keep the text of each checklist version that scored something.

    A version is a promise: scorecards say which one they used, so the same
    id and version with different content is refused.
    """
    c = lc.checklist
    rows = list(db["checklist_versions"].rows_where("checklist_id = ? and version = ?", [c.id, c.version], limit=1))
    if rows:
        if rows[0]["sha256"] != lc.sha256:
            raise ChecklistError(
                f"{lc.source}: checklist {c.id!r} version {c.version} was changed after it scored "
                f"calls; raise `version:` to {c.version + 1} so old scorecards keep the version "
                "they were made with"
            )
        return
    db["checklist_versions"].insert(
        {
            "checklist_id": c.id,
            "version": c.version,
            "title": c.title,
            "sha256": lc.sha256,
            "yaml": lc.text,
            "first_used_at": now_iso(),
        }
    )


def scorecard_row(db: Database, call_id: str, checklist_id: str, version: int) -> dict | None:
    rows = list(
        db["scorecards"].rows_where(
            "call_id = ? and checklist_id = ? and checklist_version = ?", [call_id, checklist_id, version], limit=1
        )
    )
    return rows[0] if rows else None


def save_scorecard(db: Database, sc: Scorecard) -> int:
    """Insert (or replace an automatic) scorecard with its items, atomically."""
    now = now_iso()
    with db.atomic():
        old = scorecard_row(db, sc.call_id, sc.checklist_id, sc.checklist_version)
        if old:
            db.execute("delete from scorecard_items where scorecard_id = ?", [old["id"]])
            db.execute("delete from scorecards where id = ?", [old["id"]])
        sid = (
            db["scorecards"]
            .insert(
                {
                    "call_id": sc.call_id,
                    "checklist_id": sc.checklist_id,
                    "checklist_version": sc.checklist_version,
                    "score": sc.score,
                    "provisional": int(sc.provisional),
                    "critical_failed": int(sc.critical_failed),
                    "passed": None if sc.passed is None else int(sc.passed),
                    "pass_mark": sc.pass_mark,
                    "status": AUTO,
                    "revision": (old["revision"] + 1) if old else 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            .last_pk
        )
        db["scorecard_items"].insert_all(
            {
                "scorecard_id": sid,
                "position": n,
                "section_id": it.section_id,
                "item_id": it.item_id,
                "title": it.title,
                "kind": it.kind,
                "weight": it.weight,
                "critical": int(it.critical),
                "verdict": it.verdict,
                "auto_verdict": it.verdict,
                "evidence": json.dumps([e.to_dict() for e in it.evidence], ensure_ascii=False),
                "comment": None,
            }
            for n, it in enumerate(sc.items)
        )
    return sid


def scorecard_from_rows(row: dict, items: list[dict]) -> Scorecard:
    return Scorecard(
        call_id=row["call_id"],
        checklist_id=row["checklist_id"],
        checklist_version=row["checklist_version"],
        items=tuple(
            ItemResult(
                section_id=r["section_id"],
                item_id=r["item_id"],
                title=r["title"],
                kind=r["kind"],
                weight=r["weight"],
                critical=bool(r["critical"]),
                verdict=r["verdict"],
                evidence=tuple(Evidence.from_dict(e) for e in json.loads(r["evidence"] or "[]")),
            )
            for r in items
        ),
        score=row["score"],
        provisional=bool(row["provisional"]),
        critical_failed=bool(row["critical_failed"]),
        passed=None if row["passed"] is None else bool(row["passed"]),
        pass_mark=row["pass_mark"],
    )


def scorecards_for_call(db: Database, call_id: str) -> list[tuple[dict, Scorecard]]:
    """(row, scorecard) for each checklist version that scored the call, newest first."""
    out = []
    for row in db["scorecards"].rows_where("call_id = ?", [call_id], order_by="checklist_id, checklist_version desc"):
        items = list(db["scorecard_items"].rows_where("scorecard_id = ?", [row["id"]], order_by="position"))
        out.append((row, scorecard_from_rows(row, items)))
    return out


def score_rows(db: Database) -> list[dict]:
    """One row per call × item of every scorecard, for export."""
    sql = """
        select c.call_id, c.operator, c.started_at, c.channel, c.direction,
               s.checklist_id, s.checklist_version, s.score, s.provisional,
               s.critical_failed, s.passed, s.status,
               i.section_id, i.item_id, i.title as item_title, i.kind, i.weight,
               i.critical, i.verdict, i.evidence
        from scorecard_items i
        join scorecards s on s.id = i.scorecard_id
        join calls c on c.call_id = s.call_id
        order by c.call_id, s.checklist_id, s.checklist_version, i.position
    """
    return list(db.query(sql))
