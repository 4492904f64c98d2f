"""Exports of transcripts, scores and the audit for other systems (JSON, CSV with stable columns).

Everything leaving this way is masked (``core.redaction``) unless an admin
asks for it in clear, which the audit records. Each export holds only the
calls the asking user may read. CSV cells go through ``core.spreadsheet``: a
text that a spreadsheet would run as a formula is written with a leading
quote.
"""

from __future__ import annotations

import json
from dataclasses import replace

from qa_review.core import spreadsheet
from qa_review.core.domain import CallStatus
from qa_review.core.errors import CallNotFound, PermissionDenied, QAReviewError
from qa_review.core.permissions import ADMIN, SUPERVISOR, TRAINER, User, can_read_call
from qa_review.core.redaction import redact as mask
from qa_review.core.redaction import redact_words
from qa_review.core.spreadsheet import PLAIN
from qa_review.services import review
from qa_review.services.transcription import call_detail
from qa_review.storage import Storage
from qa_review.storage.queries import now_iso


def _may_export(db: Storage, user: User, what: str, redact: bool) -> None:
    """Who may take data out, and a record whenever it leaves unmasked."""
    if user.role not in (ADMIN, SUPERVISOR, TRAINER):
        raise PermissionDenied(f"{user.username} ({user.role}) may not export {what}")
    if not redact:
        if user.role != ADMIN:
            raise PermissionDenied(
                f"{user.username} ({user.role}) may not export {what} unmasked; an admin may (--no-redact)"
            )
        db.audit.write(
            at=now_iso(),
            username=user.username,
            action="export_unredacted",
            call_id=None,
            scorecard_id=None,
            target=what,
            old=None,
            new=None,
            reason=user.display_name or None,
        )


def _readable(db: Storage, user: User):
    """A test of whether ``user`` may read a call of a given operator."""
    teams = db.users.teams_by_operator()
    return lambda operator: can_read_call(user, operator or "", teams.get(operator))


META_COLUMNS = ("call_id", "channel", "operator", "started_at", "direction", "phone", "queue", "tags")
SEGMENT_COLUMNS = ("segment", "speaker", "start", "end", "text")


def export_transcripts(
    db: Storage,
    user: User,
    fmt: str = "json",
    call_id: str | None = None,
    *,
    redact: bool = True,
    dialect: str = PLAIN,
    lang: str = "ru",
) -> str:
    """Transcripts with metadata, personal data (and the client's phone) masked unless ``redact`` is off."""
    if fmt not in ("json", "csv"):
        raise QAReviewError(f"unknown export format {fmt!r}; use json or csv")
    _may_export(db, user, "transcripts", redact)
    may_read = _readable(db, user)
    if call_id is not None:
        call = db.calls.get(call_id)  # CallNotFound names the id
        if not may_read(call["operator"]):
            raise PermissionDenied(f"{user.username} ({user.role}) may not read call {call_id}")
        ids = [call_id]
    else:
        ids = [c["call_id"] for c in db.calls.list(status=CallStatus.TRANSCRIBED) if may_read(c["operator"])]
    items = []
    for cid in sorted(ids):
        detail = call_detail(db, user, cid)
        t = detail["transcript"]
        if t is None:
            raise CallNotFound(f"call {cid!r} has no transcript yet; run `qa-review transcribe`")
        meta = {k: detail["call"][k] for k in META_COLUMNS}
        meta["duration_s"] = t.duration_s
        if redact:
            meta["phone"] = "[телефон]" if meta["phone"] else None
            t = replace(
                t,
                segments=tuple(
                    replace(
                        s,
                        text=mask(s.text),
                        words=tuple(
                            replace(w, text=m) for w, m in zip(s.words, redact_words([w.text for w in s.words]))
                        ),
                    )
                    for s in t.segments
                ),
            )
        meta["model"] = (detail["asr"] or {}).get("model") or None
        items.append((meta, t))
    if fmt == "json":
        return json.dumps(
            [{**meta, "segments": [s.to_dict() for s in t.segments]} for meta, t in items],
            ensure_ascii=False,
            indent=1,
        )
    rows = []
    for meta, t in items:
        base = [";".join(meta[k]) if k == "tags" else meta[k] for k in META_COLUMNS]
        rows += [base + [i, s.speaker, round(s.start, 2), round(s.end, 2), s.text] for i, s in enumerate(t.segments)]
    return spreadsheet.csv_text(META_COLUMNS + SEGMENT_COLUMNS, rows, dialect, lang=lang)


SCORE_COLUMNS = (
    "call_id",
    "operator",
    "started_at",
    "channel",
    "direction",
    "checklist_id",
    "checklist_version",
    "score",
    "provisional",
    "critical_failed",
    "passed",
    "status",
    "section_id",
    "item_id",
    "item_title",
    "kind",
    "weight",
    "critical",
    "verdict",
    "evidence",
    "evidence_speaker",
    "evidence_start",
    "evidence_end",
    "evidence_words",
)


def export_scores(
    db: Storage, user: User, fmt: str = "csv", *, redact: bool = True, dialect: str = PLAIN, lang: str = "ru"
) -> str:
    """One row per call × checklist item; stable column names (SCORE_COLUMNS); evidence masked unless not ``redact``."""
    if fmt not in ("json", "csv"):
        raise QAReviewError(f"unknown export format {fmt!r}; use json or csv")
    _may_export(db, user, "scores", redact)
    may_read = _readable(db, user)
    rows = []
    for r in db.scorecards.export_rows():
        if not may_read(r["operator"]):
            continue
        ev = json.loads(r.pop("evidence") or "[]")
        if redact:
            ev = [{**e, **{k: mask(e[k]) for k in ("text", "words") if isinstance(e.get(k), str)}} for e in ev]
        first = next((e for e in ev if "start" in e), {})
        rows.append(
            {
                **r,
                "evidence": " | ".join(e["text"] for e in ev),
                "evidence_speaker": first.get("speaker"),
                "evidence_start": first.get("start"),
                "evidence_end": first.get("end"),
                "evidence_words": first.get("words"),
                "evidence_items": ev,
            }
        )
    if fmt == "json":
        return json.dumps(
            [{**{k: r[k] for k in SCORE_COLUMNS}, "evidence": r["evidence_items"]} for r in rows],
            ensure_ascii=False,
            indent=1,
        )
    yes_no = {"provisional", "critical_failed", "passed", "critical"}
    return spreadsheet.csv_text(
        SCORE_COLUMNS,
        ([bool(r[k]) if k in yes_no and r[k] is not None else r[k] for k in SCORE_COLUMNS] for r in rows),
        dialect,
        lang=lang,
    )


AUDIT_COLUMNS = ("id", "at", "username", "action", "call_id", "scorecard_id", "target", "old", "new", "reason")


def export_audit(
    db: Storage, user: User, fmt: str = "csv", *, redact: bool = True, dialect: str = PLAIN, lang: str = "ru"
) -> str:
    """The audit entries ``user`` may read; their texts (comments, corrections, reasons) masked if ``redact``."""
    if fmt not in ("json", "csv"):
        raise QAReviewError(f"unknown export format {fmt!r}; use json or csv")
    rows = review.export_audit(db, user)
    _may_export(db, user, "the audit", redact)
    if redact:
        rows = [{**r, **{k: mask(r[k]) for k in ("old", "new", "reason") if isinstance(r.get(k), str)}} for r in rows]
    if fmt == "json":
        return json.dumps(rows, ensure_ascii=False, indent=1)
    return spreadsheet.csv_text(AUDIT_COLUMNS, ([r.get(k) for k in AUDIT_COLUMNS] for r in rows), dialect, lang=lang)
