"""Review and disputes: the rules of who changes what, when. Service layer.

Every function takes the acting user and checks the permission rules
(permissions.py) and the scorecard's state before it touches anything;
every change is written to the audit log with who, when, old -> new, why.
Saves carry the revision the user loaded (optimistic locking): if someone
saved in between, the save is refused and nothing is lost silently.

States: auto -> in_review -> final -> disputed -> resolved (-> disputed
again for another item, within the dispute window).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from qa_review.core.errors import ConcurrentChange, InvalidTransition, NotFound, PermissionDenied, QAReviewError
from qa_review.core.permissions import (
    DISPUTED,
    EDITABLE,
    FINAL,
    IN_REVIEW,
    PUBLISHED,
    RESOLVED,
    User,
    can_dispute,
    can_read_call,
    can_read_scorecard,
    can_resolve,
    can_review,
)
from qa_review.core.scoring import FAIL, NA, PASS, VERDICTS, total
from qa_review.services import accounts
from qa_review.services.search import index_call
from qa_review.storage import store

DEFAULT_DISPUTE_DAYS = 5


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


@dataclass(frozen=True)
class Context:
    """A scorecard with the facts every rule needs."""

    row: dict
    call: dict
    team: str | None

    @property
    def id(self) -> int:
        return self.row["id"]


def _context(db: Database, scorecard_id: int) -> Context:
    rows = list(db["scorecards"].rows_where("id = ?", [scorecard_id], limit=1))
    if not rows:
        raise NotFound(f"no scorecard {scorecard_id}")
    call = store.get_call(db, rows[0]["call_id"])
    return Context(rows[0], call, accounts.operator_team(db, call["operator"]))


def _refuse(user: User, what: str, ctx: Context) -> PermissionDenied:
    return PermissionDenied(
        f"{user.username} ({user.role}) may not {what} on call {ctx.call['call_id']}", code="denied"
    )


def _expect(ctx: Context, revision: int | None) -> None:
    if revision is not None and ctx.row["revision"] != revision:
        raise ConcurrentChange(
            f"scorecard of call {ctx.call['call_id']} was saved by someone else "
            f"(revision {ctx.row['revision']}, you loaded {revision}) at {ctx.row['updated_at']}; "
            "reload it and apply your change again",
            code="concurrent",
            call=ctx.call["call_id"],
        )


def _audit(
    db: Database,
    user: User,
    action: str,
    ctx: Context | None,
    *,
    call_id: str | None = None,
    target: str | None = None,
    old=None,
    new=None,
    reason: str | None = None,
    now: datetime | None = None,
) -> None:
    db["audit_log"].insert(
        {
            "at": _now(now).isoformat(timespec="seconds"),
            "username": user.username,
            "action": action,
            "call_id": call_id or (ctx.call["call_id"] if ctx else None),
            "scorecard_id": ctx.id if ctx else None,
            "target": target,
            "old": None if old is None else str(old),
            "new": None if new is None else str(new),
            "reason": reason,
        }
    )


def _notify(db: Database, usernames: list[str], kind: str, ctx: Context, text: str, now=None) -> None:
    db["notifications"].insert_all(
        {
            "username": u,
            "kind": kind,
            "call_id": ctx.call["call_id"],
            "scorecard_id": ctx.id,
            "text": text,
            "created_at": _now(now).isoformat(timespec="seconds"),
            "read_at": None,
        }
        for u in usernames
    )


def _items(db: Database, scorecard_id: int) -> list[dict]:
    return list(db["scorecard_items"].rows_where("scorecard_id = ?", [scorecard_id], order_by="position"))


def _save(db: Database, ctx: Context, now=None, **fields) -> int:
    """Recompute the score from the items, bump the revision; returns it."""
    sc = store.scorecard_from_rows(ctx.row, _items(db, ctx.id))
    score, provisional, critical, passed = total(sc.items, ctx.row["pass_mark"])
    revision = ctx.row["revision"] + 1
    db["scorecards"].update(
        ctx.id,
        {
            **fields,
            "score": score,
            "provisional": int(provisional),
            "critical_failed": int(critical),
            "passed": None if passed is None else int(passed),
            "revision": revision,
            "updated_at": _now(now).isoformat(timespec="seconds"),
        },
    )
    return revision


# --- reading ------------------------------------------------------------------


def visible_calls(db: Database, user: User, month: str | None = None) -> list[dict]:
    teams = accounts.teams_by_operator(db)
    return [
        c for c in store.list_calls(db, month=month) if can_read_call(user, c["operator"], teams.get(c["operator"]))
    ]


def scores_for(db: Database, user: User, month: str | None) -> dict[str, tuple[float | None, str]]:
    """call -> (score, status) of its newest scorecard this user may see (operators: published only)."""
    where, args = "", []
    if month:
        where, args = "where c.started_at >= ? and c.started_at < ?", list(store.month_range(month))
    out: dict[str, tuple[float | None, str]] = {}
    for r in db.query(
        f"""select s.call_id, s.score, s.status from scorecards s
                          join calls c on c.call_id = s.call_id {where} order by s.checklist_version""",
        args,
    ):
        if user.role != "operator" or r["status"] in PUBLISHED:
            out[r["call_id"]] = (r["score"], r["status"])
    return out


def call_for(db: Database, user: User, call_id: str) -> dict:
    """The call, transcript and the scorecards this user may see; refused otherwise."""
    call = store.get_call(db, call_id)
    team = accounts.operator_team(db, call["operator"])
    if not can_read_call(user, call["operator"], team):
        raise PermissionDenied(f"{user.username} ({user.role}) may not open call {call_id}", code="denied")
    cards = []
    for row, sc in store.scorecards_for_call(db, call_id):
        if can_read_scorecard(user, row["status"], call["operator"], team):
            cards.append((row, sc, disputes_of(db, row["id"])))
    return {
        "call": call,
        "transcript": store.get_transcript(db, call_id),
        "asr": store.transcript_info(db, call_id),
        "scorecards": cards,
    }


def disputes_of(db: Database, scorecard_id: int) -> list[dict]:
    return list(db["disputes"].rows_where("scorecard_id = ?", [scorecard_id], order_by="id"))


def audit_for_call(db: Database, user: User, call_id: str) -> list[dict]:
    call_for(db, user, call_id)  # the same read permission
    return list(db["audit_log"].rows_where("call_id = ?", [call_id], order_by="id"))


def export_audit(db: Database, user: User) -> list[dict]:
    if user.role not in ("admin", "supervisor"):
        raise PermissionDenied(f"{user.username} ({user.role}) may not export the audit log")
    return [
        r
        for r in db["audit_log"].rows_where(order_by="id")
        if user.role == "admin" or can_read_call(user, *_call_owner(db, r["call_id"]))
    ]


def _call_owner(db: Database, call_id: str | None) -> tuple[str, str | None]:
    if not call_id:
        return "", None
    op = store.get_call(db, call_id)["operator"]
    return op, accounts.operator_team(db, op)


# --- review -------------------------------------------------------------------


def set_verdict(
    db: Database,
    user: User,
    scorecard_id: int,
    item_id: str,
    verdict: str,
    comment: str,
    revision: int | None,
    now: datetime | None = None,
) -> int:
    ctx = _context(db, scorecard_id)
    if not can_review(user, ctx.team):
        raise _refuse(user, "change verdicts", ctx)
    if ctx.row["status"] not in EDITABLE:
        raise InvalidTransition(
            f"the scorecard of call {ctx.call['call_id']} is {ctx.row['status']}: verdicts change "
            "only before finalization (after it, through a dispute)",
            code="not_editable",
            call=ctx.call["call_id"],
        )
    if verdict not in VERDICTS:
        raise QAReviewError(f"verdict {verdict!r}: expected one of {', '.join(VERDICTS)}")
    item = next((i for i in _items(db, scorecard_id) if i["item_id"] == item_id), None)
    if item is None:
        raise NotFound(f"no item {item_id!r} in the scorecard of call {ctx.call['call_id']}")
    if verdict != item["verdict"] and not (comment or "").strip():
        raise QAReviewError(
            f"item {item_id}: a comment is required when changing a verdict", code="comment_required", item=item_id
        )
    _expect(ctx, revision)
    with db.atomic():
        db["scorecard_items"].update(item["id"], {"verdict": verdict, "comment": comment, "changed_by": user.username})
        rev = _save(db, ctx, now, status=IN_REVIEW)
        _audit(db, user, "verdict", ctx, target=item_id, old=item["verdict"], new=verdict, reason=comment, now=now)
    return rev


def set_feedback(
    db: Database, user: User, scorecard_id: int, text: str, revision: int | None, now: datetime | None = None
) -> int:
    ctx = _context(db, scorecard_id)
    if not can_review(user, ctx.team):
        raise _refuse(user, "write feedback", ctx)
    if ctx.row["status"] not in EDITABLE:
        raise InvalidTransition(f"the scorecard of call {ctx.call['call_id']} is {ctx.row['status']}")
    _expect(ctx, revision)
    with db.atomic():
        rev = _save(db, ctx, now, status=IN_REVIEW, feedback=text)
        _audit(db, user, "feedback", ctx, old=ctx.row["feedback"], new=text, now=now)
    return rev


def finalize(db: Database, user: User, scorecard_id: int, revision: int | None, now: datetime | None = None) -> int:
    ctx = _context(db, scorecard_id)
    if not can_review(user, ctx.team):
        raise _refuse(user, "finalize scorecards", ctx)
    if ctx.row["status"] not in EDITABLE:
        raise InvalidTransition(
            f"the scorecard of call {ctx.call['call_id']} is already {ctx.row['status']}",
            code="not_editable",
            call=ctx.call["call_id"],
        )
    undecided = [i["item_id"] for i in _items(db, scorecard_id) if i["verdict"] == "review"]
    if undecided:
        raise InvalidTransition(
            f"decide these items before finalizing: {', '.join(undecided)}",
            code="undecided",
            items=", ".join(undecided),
        )
    _expect(ctx, revision)
    at = _now(now).isoformat(timespec="seconds")
    with db.atomic():
        rev = _save(db, ctx, now, status=FINAL, finalized_at=at, finalized_by=user.username)
        _audit(db, user, "finalize", ctx, old=ctx.row["status"], new=FINAL, now=now)
        _notify(
            db,
            accounts.users_for_operator(db, ctx.call["operator"]),
            "final",
            ctx,
            f"final scorecard for call {ctx.call['call_id']}",
            now,
        )
    return rev


def correct_segment(db: Database, user: User, call_id: str, index: int, text: str, now: datetime | None = None) -> None:
    """Fix a transcript line; the ASR text is kept for measuring WER later."""
    call = store.get_call(db, call_id)
    team = accounts.operator_team(db, call["operator"])
    if not can_review(user, team):
        raise PermissionDenied(f"{user.username} ({user.role}) may not correct the transcript of call {call_id}")
    rows = list(db["segments"].rows_where("call_id = ? and idx = ?", [call_id, index], limit=1))
    if not rows:
        raise NotFound(f"call {call_id} has no transcript line {index}")
    seg = rows[0]
    text = (text or "").strip()
    if not text or text == seg["text"]:
        return
    with db.atomic():
        db["segments"].update(seg["id"], {"text": text, "original_text": seg["original_text"] or seg["text"]})
        index_call(db, call_id)
        _audit(
            db, user, "transcript", None, call_id=call_id, target=f"line {index}", old=seg["text"], new=text, now=now
        )


def add_line(
    db: Database,
    user: User,
    call_id: str,
    speaker: str,
    start: float,
    end: float,
    text: str,
    now: datetime | None = None,
) -> int:
    """Add a line the recognizer missed (speech the VAD dropped never reaches a
    correction of existing lines); it counts as a reference for ASR accuracy,
    with no recognized words. Returns the new line's index."""
    call = store.get_call(db, call_id)
    team = accounts.operator_team(db, call["operator"])
    if not can_review(user, team):
        raise PermissionDenied(f"{user.username} ({user.role}) may not correct the transcript of call {call_id}")
    text = " ".join((text or "").split())
    if not text:
        raise QAReviewError("the new line has no text", code="line_empty")
    if speaker not in ("operator", "client", "mixed"):
        raise QAReviewError(f"speaker {speaker!r}: expected operator, client or mixed", code="line_speaker")
    duration = call["duration_s"] or float("inf")
    if not (0 <= start < end <= duration + 0.5):
        raise QAReviewError(
            f"call {call_id}: the line's time {start:.1f}-{end:.1f} s is not inside the call (0-{duration:.1f} s)",
            code="line_time",
            start=f"{start:.1f}",
            end=f"{end:.1f}",
        )
    if store.get_transcript(db, call_id) is None:
        raise NotFound(f"call {call_id} has no transcript yet")
    with db.atomic():
        index = store.insert_segment(db, call_id, speaker, start, end, text, added_by=user.username)
        index_call(db, call_id)
        _audit(
            db,
            user,
            "transcript",
            None,
            call_id=call_id,
            target=f"line {index} added",
            old=None,
            new=f"{speaker} {start:.1f}-{end:.1f}: {text}",
            now=now,
        )
    return index


# --- disputes -----------------------------------------------------------------


def open_disputes(
    db: Database,
    user: User,
    scorecard_id: int,
    reasons: dict[str, str],
    *,
    window_days: int = DEFAULT_DISPUTE_DAYS,
    now: datetime | None = None,
) -> list[int]:
    """Dispute items of a final scorecard, each with a reason; once per item."""
    ctx = _context(db, scorecard_id)
    if not can_dispute(user, ctx.call["operator"]):
        raise _refuse(user, "dispute the scorecard", ctx)
    if ctx.row["status"] not in PUBLISHED:
        raise InvalidTransition(
            f"the scorecard of call {ctx.call['call_id']} is not final yet", code="not_final", call=ctx.call["call_id"]
        )
    finalized = datetime.fromisoformat(ctx.row["finalized_at"])
    deadline = finalized + timedelta(days=window_days)
    if _now(now) > deadline:
        raise InvalidTransition(
            f"the dispute window for call {ctx.call['call_id']} closed on "
            f"{deadline.date().isoformat()} ({window_days} days after finalization)",
            code="window_closed",
            date=deadline.date().strftime("%d.%m.%Y"),
            days=window_days,
        )
    if not reasons:
        raise QAReviewError("choose at least one item to dispute", code="no_items")
    items = {i["item_id"]: i for i in _items(db, scorecard_id)}
    taken = {d["item_id"] for d in disputes_of(db, scorecard_id)}
    for item_id, reason in reasons.items():
        if item_id not in items:
            raise NotFound(f"no item {item_id!r} in the scorecard of call {ctx.call['call_id']}")
        if item_id in taken:
            raise InvalidTransition(
                f"item {item_id} was already disputed; an item can be disputed once", code="disputed_once", item=item_id
            )
        if not (reason or "").strip():
            raise QAReviewError(f"item {item_id}: give a reason for the dispute", code="reason_required", item=item_id)
    at = _now(now).isoformat(timespec="seconds")
    ids = []
    with db.atomic():
        for item_id, reason in reasons.items():
            ids.append(
                db["disputes"]
                .insert(
                    {
                        "scorecard_id": scorecard_id,
                        "item_id": item_id,
                        "opened_by": user.username,
                        "reason": reason.strip(),
                        "opened_at": at,
                        "status": "open",
                        "verdict_before": items[item_id]["verdict"],
                    }
                )
                .last_pk
            )
            _audit(db, user, "dispute", ctx, target=item_id, old=items[item_id]["verdict"], reason=reason, now=now)
        _save(db, ctx, now, status=DISPUTED)
        _notify(
            db,
            accounts.supervisors_of(db, ctx.team),
            "dispute",
            ctx,
            f"{user.name} disputes {', '.join(reasons)} on call {ctx.call['call_id']}",
            now,
        )
    return ids


FLIP = {PASS: FAIL, FAIL: PASS}


def resolve_dispute(
    db: Database,
    user: User,
    dispute_id: int,
    uphold: bool,
    reply: str,
    *,
    verdict: str | None = None,
    now: datetime | None = None,
) -> None:
    """Uphold (the verdict changes, the score is recalculated) or reject with a reply."""
    rows = list(db["disputes"].rows_where("id = ?", [dispute_id], limit=1))
    if not rows:
        raise NotFound(f"no dispute {dispute_id}")
    d = rows[0]
    ctx = _context(db, d["scorecard_id"])
    if not can_resolve(user, ctx.team):
        raise _refuse(user, "resolve disputes", ctx)
    if d["status"] != "open":
        raise InvalidTransition(f"dispute {dispute_id} is already {d['status']}", code="dispute_done")
    if not (reply or "").strip():
        raise QAReviewError("write a reply to the operator", code="reply_required")
    item = next(i for i in _items(db, ctx.id) if i["item_id"] == d["item_id"])
    new = item["verdict"]
    if uphold:
        new = verdict or FLIP.get(item["verdict"])
        if new is None or new not in (PASS, FAIL, NA):
            raise QAReviewError(f"item {d['item_id']} is {item['verdict']}: say which verdict the upheld dispute gives")
    at = _now(now).isoformat(timespec="seconds")
    with db.atomic():
        if uphold:
            db["scorecard_items"].update(item["id"], {"verdict": new, "comment": reply, "changed_by": user.username})
        db["disputes"].update(
            dispute_id,
            {
                "status": "upheld" if uphold else "rejected",
                "verdict_after": new,
                "resolved_by": user.username,
                "resolved_at": at,
                "reply": reply.strip(),
            },
        )
        still_open = [x for x in disputes_of(db, ctx.id) if x["status"] == "open"]
        _save(db, ctx, now, status=DISPUTED if still_open else RESOLVED)
        _audit(
            db,
            user,
            "uphold" if uphold else "reject",
            ctx,
            target=d["item_id"],
            old=item["verdict"],
            new=new,
            reason=reply,
            now=now,
        )
        _notify(
            db,
            accounts.users_for_operator(db, ctx.call["operator"]),
            "resolution",
            ctx,
            f"dispute on {d['item_id']} {'upheld' if uphold else 'rejected'}: {reply.strip()}",
            now,
        )


def open_dispute_list(db: Database, user: User) -> list[dict]:
    """Open disputes this user may resolve, oldest first, with their age."""
    out = []
    for d in db["disputes"].rows_where("status = 'open'", order_by="opened_at"):
        ctx = _context(db, d["scorecard_id"])
        if can_resolve(user, ctx.team):
            out.append({**d, "call_id": ctx.call["call_id"], "operator": ctx.call["operator"]})
    return out


# --- queue and notifications ---------------------------------------------------


def review_queue(
    db: Database,
    user: User,
    *,
    operator: str | None = None,
    checklist: str | None = None,
    status: tuple[str, ...] = EDITABLE,
    date_from: str | None = None,
    date_to: str | None = None,
    max_score: float | None = None,
    critical_only: bool = False,
) -> list[dict]:
    if user.role != "supervisor":
        raise PermissionDenied(f"{user.username} ({user.role}) has no review queue")
    sql = """select s.*, c.operator, c.started_at, c.channel, c.duration_s from scorecards s
             join calls c on c.call_id = s.call_id order by c.started_at"""
    teams = accounts.teams_by_operator(db)
    out = []
    for r in db.query(sql):
        if r["status"] not in status:
            continue
        if operator and r["operator"] != operator or checklist and r["checklist_id"] != checklist:
            continue
        day = r["started_at"][:10]
        if date_from and day < date_from or date_to and day > date_to:
            continue
        if max_score is not None and (r["score"] is None or r["score"] > max_score):
            continue
        if critical_only and not r["critical_failed"]:
            continue
        if r["assignee"] and r["assignee"] != user.username:
            continue
        if not can_review(user, teams.get(r["operator"])):
            continue
        out.append(r)
    return out


def notifications(db: Database, user: User, unread_only: bool = True) -> list[dict]:
    where = "username = ?" + (" and read_at is null" if unread_only else "")
    return list(db["notifications"].rows_where(where, [user.username], order_by="id desc"))


def mark_read(db: Database, user: User, ids: list[int] | None = None, now=None) -> None:
    for n in notifications(db, user):
        if ids is None or n["id"] in ids:
            db["notifications"].update(n["id"], {"read_at": _now(now).isoformat(timespec="seconds")})


def audit_json(rows: list[dict]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=1)
