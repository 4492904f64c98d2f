"""Review and disputes: the rules of who changes what, when.

Every function takes the acting user and checks the permission rules
(core/permissions.py) and the scorecard's state (its TRANSITIONS table)
before it touches anything; every change is written to the audit log with
who, when, old -> new, why. Saves carry the revision the user loaded
(optimistic locking): if someone saved in between, the save is refused and
nothing is lost silently.

Each action runs in one write transaction (``@_one_transaction``): its checks,
the old values the audit records and its writes all see the same state, and
the scorecard update itself requires the revision it read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from qa_review.core import roles
from qa_review.core.domain import AUDIO
from qa_review.core.errors import ConcurrentChange, InvalidTransition, NotFound, PermissionDenied, QAReviewError
from qa_review.core.permissions import (
    ADMIN,
    DISPUTED,
    EDITABLE,
    OPERATOR,
    PUBLISHED,
    RESOLVED,
    SUPERVISOR,
    User,
    can_dispute,
    can_read_call,
    can_read_scorecard,
    can_resolve,
    can_review,
    overseen_operators,
    transition,
)
from qa_review.core.scoring import FAIL, NA, PASS, REVIEW, VERDICTS, total
from qa_review.services.scoring import score_again
from qa_review.services.settings import Settings, from_env
from qa_review.services.transcription import call_detail
from qa_review.storage import Storage
from qa_review.storage.scorecards import from_rows


def _now(now: datetime | None) -> datetime:
    return now or datetime.now(UTC)


def _at(now: datetime | None) -> str:
    return _now(now).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Context:
    """A scorecard with the facts every rule needs."""

    row: dict
    call: dict
    team: str | None

    @property
    def id(self) -> int:
        return self.row["id"]

    @property
    def call_id(self) -> str:
        return self.call["call_id"]


def _one_transaction(action):
    """Run a review action, checks and writes, in one write transaction (see the module's docstring)."""

    @functools.wraps(action)
    def run(db: Storage, *args, **kwargs):
        with db.atomic():
            return action(db, *args, **kwargs)

    return run


def _context(db: Storage, scorecard_id: int) -> Context:
    row = db.scorecards.get(scorecard_id)
    call = db.calls.get(row["call_id"])
    return Context(row, call, db.users.operator_team(call["operator"]))


def _refuse(user: User, what: str, ctx: Context) -> PermissionDenied:
    return PermissionDenied(f"{user.username} ({user.role}) may not {what} on call {ctx.call_id}", code="denied")


def _expect(ctx: Context, revision: int | None) -> None:
    if revision is not None and ctx.row["revision"] != revision:
        raise ConcurrentChange(
            f"scorecard of call {ctx.call_id} was saved by someone else "
            f"(revision {ctx.row['revision']}, you loaded {revision}) at {ctx.row['updated_at']}; "
            "reload it and apply your change again",
            code="concurrent",
            call=ctx.call_id,
        )


def _audit(
    db: Storage,
    user: User,
    action: str,
    ctx: Context | None,
    *,
    call_id: str | None = None,
    target: str | None = None,
    old=None,
    new=None,
    reason: str | None = None,
    now=None,
) -> None:
    db.audit.write(
        at=_at(now),
        username=user.username,
        action=action,
        call_id=call_id or (ctx.call_id if ctx else None),
        scorecard_id=ctx.id if ctx else None,
        target=target,
        old=old,
        new=new,
        reason=reason,
    )


def _notify(db: Storage, usernames: list[str], kind: str, ctx: Context, text: str, now=None) -> None:
    db.notifications.send(usernames, kind=kind, call_id=ctx.call_id, scorecard_id=ctx.id, text=text, at=_at(now))


def _save(db: Storage, ctx: Context, now=None, **fields) -> int:
    """Recompute the score from the items, bump the revision; returns it."""
    sc = from_rows(ctx.row, db.scorecards.items(ctx.id))
    score, provisional, critical, passed = total(sc.items, ctx.row["pass_mark"])
    revision = ctx.row["revision"] + 1
    saved = db.scorecards.update(
        ctx.id,
        expect_revision=ctx.row["revision"],
        fields={
            **fields,
            "score": score,
            "provisional": int(provisional),
            "critical_failed": int(critical),
            "passed": None if passed is None else int(passed),
            "revision": revision,
            "updated_at": _at(now),
        },
    )
    if not saved:  # the row count decides: a save never overwrites a revision it did not read
        raise ConcurrentChange(
            f"scorecard of call {ctx.call_id} changed while it was being saved; reload it and apply your change again",
            code="concurrent",
            call=ctx.call_id,
        )
    return revision


def _item(db: Storage, ctx: Context, item_id: str) -> dict:
    item = next((i for i in db.scorecards.items(ctx.id) if i["item_id"] == item_id), None)
    if item is None:
        raise NotFound(f"no item {item_id!r} in the scorecard of call {ctx.call_id}")
    return item


# --- reading ------------------------------------------------------------------


def visible_calls(db: Storage, user: User, month: str | None = None) -> list[dict]:
    teams = db.users.teams_by_operator()
    return [c for c in db.calls.list(month=month) if can_read_call(user, c["operator"], teams.get(c["operator"]))]


def call_months(db: Storage) -> list[str]:
    """Months with calls, newest first."""
    return db.calls.months()


def scores_for(db: Storage, user: User, month: str | None) -> dict[str, tuple[float | None, str]]:
    """call -> (score, status) of its newest scorecard this user may see (operators: published only)."""
    out: dict[str, tuple[float | None, str]] = {}
    teams = db.users.teams_by_operator()
    for r in db.scorecards.latest_by_call(month):
        if not can_read_call(user, r["operator"], teams.get(r["operator"])):
            continue  # another operator's, another team's
        if user.role != OPERATOR or r["status"] in PUBLISHED:
            out[r["call_id"]] = (r["score"], r["status"])
    return out


def _readable(db: Storage, user: User, call_id: str) -> tuple[dict, str | None]:
    """The call and its operator's team, when this user may read it; refused otherwise."""
    call = db.calls.get(call_id)
    team = db.users.operator_team(call["operator"])
    if not can_read_call(user, call["operator"], team):
        raise PermissionDenied(f"{user.username} ({user.role}) may not open call {call_id}", code="denied")
    return call, team


def call_meta(db: Storage, user: User, call_id: str) -> dict:
    """The call's metadata alone (no transcript, no scorecards), under the same read permission."""
    return _readable(db, user, call_id)[0]


def call_for(db: Storage, user: User, call_id: str) -> dict:
    """The call, transcript and the scorecards this user may see; refused otherwise."""
    call, team = _readable(db, user, call_id)
    cards = []
    for row, sc in db.scorecards.for_call(call_id):
        if can_read_scorecard(user, row["status"], call["operator"], team):
            cards.append((row, sc, db.disputes.of(row["id"])))
    moved = db.transcripts.moved_lines(call_id) if call["kind"] == AUDIO else {}
    return {**call_detail(db, user, call["call_id"]), "scorecards": cards, "moved": moved}


def disputes_of(db: Storage, user: User, scorecard_id: int) -> list[dict]:
    """A scorecard's disputes, if this user may see the scorecard."""
    ctx = _context(db, scorecard_id)
    if not can_read_call(user, ctx.call["operator"], ctx.team) or (
        user.role == OPERATOR and ctx.row["status"] not in PUBLISHED
    ):
        raise _refuse(user, "read the disputes of", ctx)
    return db.disputes.of(scorecard_id)


# What an operator may read of their own call's history: the outcome, not
# the work in progress, and not what supervisors wrote to each other.
OPERATOR_SEES_REASON = {"dispute", "uphold", "reject"}


def audit_for_call(db: Storage, user: User, call_id: str) -> list[dict]:
    """The call's history. Operators: only entries of their published scorecards, without reviewers' comments."""
    call_for(db, user, call_id)  # the same read permission
    entries = db.audit.for_call(call_id)
    if user.role != OPERATOR:
        return entries
    published = {r["id"] for r in db.scorecards.rows_for_call(call_id) if r["status"] in PUBLISHED}
    return [
        {**e, "reason": e["reason"] if e["action"] in OPERATOR_SEES_REASON else None}
        for e in entries
        if e["scorecard_id"] in published
    ]


def export_audit(db: Storage, user: User) -> list[dict]:
    if user.role not in (ADMIN, SUPERVISOR):
        raise PermissionDenied(f"{user.username} ({user.role}) may not export the audit log")
    teams = db.users.teams_by_operator()
    out = []
    for r in db.audit.with_operators():
        op = r.pop("call_operator")
        if user.role == ADMIN or can_read_call(user, op or "", teams.get(op) if op else None):
            out.append(r)
    return out


# --- review -------------------------------------------------------------------


@_one_transaction
def set_verdict(
    db: Storage,
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
            f"the scorecard of call {ctx.call_id} is {ctx.row['status']}: verdicts change "
            "only before finalization (after it, through a dispute)",
            code="not_editable",
            call=ctx.call_id,
        )
    target = transition("verdict", ctx.row["status"], ctx.call_id)
    if verdict not in VERDICTS:
        raise QAReviewError(f"verdict {verdict!r}: expected one of {', '.join(VERDICTS)}")
    item = _item(db, ctx, item_id)
    if verdict != item["verdict"] and not (comment or "").strip():
        raise QAReviewError(
            f"item {item_id}: a comment is required when changing a verdict", code="comment_required", item=item_id
        )
    _expect(ctx, revision)
    with db.atomic():
        db.scorecards.set_item(ctx.id, item_id, verdict=verdict, comment=comment, changed_by=user.username)
        rev = _save(db, ctx, now, status=target)
        _audit(db, user, "verdict", ctx, target=item_id, old=item["verdict"], new=verdict, reason=comment, now=now)
    return rev


@_one_transaction
def set_feedback(
    db: Storage, user: User, scorecard_id: int, text: str, revision: int | None, now: datetime | None = None
) -> int:
    ctx = _context(db, scorecard_id)
    if not can_review(user, ctx.team):
        raise _refuse(user, "write feedback", ctx)
    target = transition("feedback", ctx.row["status"], ctx.call_id)
    _expect(ctx, revision)
    with db.atomic():
        rev = _save(db, ctx, now, status=target, feedback=text)
        _audit(db, user, "feedback", ctx, old=ctx.row["feedback"], new=text, now=now)
    return rev


@_one_transaction
def finalize(db: Storage, user: User, scorecard_id: int, revision: int | None, now: datetime | None = None) -> int:
    ctx = _context(db, scorecard_id)
    if not can_review(user, ctx.team):
        raise _refuse(user, "finalize scorecards", ctx)
    if ctx.row["status"] not in EDITABLE:
        raise InvalidTransition(
            f"the scorecard of call {ctx.call_id} is already {ctx.row['status']}", code="not_editable", call=ctx.call_id
        )
    target = transition("finalize", ctx.row["status"], ctx.call_id)
    undecided = [i["item_id"] for i in db.scorecards.items(ctx.id) if i["verdict"] == REVIEW]
    if undecided:
        raise InvalidTransition(
            f"decide these items before finalizing: {', '.join(undecided)}",
            code="undecided",
            items=", ".join(undecided),
        )
    _expect(ctx, revision)
    with db.atomic():
        rev = _save(db, ctx, now, status=target, finalized_at=_at(now), finalized_by=user.username)
        _audit(db, user, "finalize", ctx, old=ctx.row["status"], new=target, now=now)
        _notify(
            db,
            db.users.for_operator(ctx.call["operator"]),
            "final",
            ctx,
            f"final scorecard for call {ctx.call_id}",
            now,
        )
    return rev


def _may_edit_transcript(db: Storage, user: User, call_id: str) -> dict:
    call = db.calls.get(call_id)
    if not can_review(user, db.users.operator_team(call["operator"])):
        raise PermissionDenied(f"{user.username} ({user.role}) may not correct the transcript of call {call_id}")
    return call


@_one_transaction
def correct_segment(db: Storage, user: User, call_id: str, index: int, text: str, now: datetime | None = None) -> None:
    """Fix a transcript line; the ASR text is kept for measuring WER later."""
    _may_edit_transcript(db, user, call_id)
    seg = db.transcripts.line(call_id, index)
    text = (text or "").strip()
    if not text or text == seg["text"]:
        return
    with db.atomic():
        db.transcripts.correct_line(call_id, index, text)
        _audit(
            db, user, "transcript", None, call_id=call_id, target=f"line {index}", old=seg["text"], new=text, now=now
        )


@_one_transaction
def add_line(
    db: Storage,
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
    call = _may_edit_transcript(db, user, call_id)
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
    if db.transcripts.info(call_id) is None:
        raise NotFound(f"call {call_id} has no transcript yet")
    with db.atomic():
        index = db.transcripts.insert_line(call_id, speaker, start, end, text, added_by=user.username)
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


@dataclass
class SpeakerChange:
    """What a change of speakers did to the call's scorecards."""

    rescored: list[tuple[str, float | None, float | None]]  # checklist, old score, new score
    final: list[str]  # checklists whose scorecard is final: left as they are


@_one_transaction
def swap_roles(
    db: Storage, user: User, call_id: str, *, settings: Settings | None = None, now: datetime | None = None
) -> SpeakerChange:
    """Give every operator's line to the client and back (a mono call's roles guessed the wrong way
    round, or a stereo call's channels wired the other way); the call is scored again."""
    return _change_speakers(db, user, call_id, None, "roles swapped", settings, now)


@_one_transaction
def move_line(
    db: Storage,
    user: User,
    call_id: str,
    index: int,
    speaker: str,
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> SpeakerChange:
    """Give one line to the other side (``speaker``: operator or client); the call is scored again."""
    if speaker not in roles.OTHER_SIDE:
        raise QAReviewError(f"speaker {speaker!r}: a line goes to the operator or the client", code="line_speaker")
    return _change_speakers(db, user, call_id, (index, speaker), f"line {index}", settings, now)


def _change_speakers(db: Storage, user: User, call_id: str, move, target: str, settings, now) -> SpeakerChange:
    settings = settings or from_env()
    call = _may_edit_transcript(db, user, call_id)
    transcript = db.transcripts.get(call_id)
    if transcript is None or transcript.source != "asr":
        raise InvalidTransition(f"call {call_id} has no recognized speech to reassign", code="no_speakers")
    if move is None:
        speakers = roles.swapped(transcript)
        old, new = "operator ↔ client", "client ↔ operator"
    else:
        index, speaker = move
        if not 0 <= index < len(transcript.segments):
            raise NotFound(f"call {call_id} has no transcript line {index}")
        was = transcript.segments[index].speaker
        if was == speaker:
            return SpeakerChange([], [])
        speakers = {index: speaker}
        old, new = f"{was}: {transcript.segments[index].text}", speaker
    if not speakers:
        raise InvalidTransition(f"call {call_id}: no line is the operator's or the client's", code="no_speakers")
    changed = roles.relabel(transcript, speakers)
    if changed.diarization is not None:
        changed = replace(changed, diarization=replace(changed.diarization, corrected_by=user.username))
    with db.atomic():
        db.transcripts.set_speakers(call_id, speakers, changed.activity, changed.diarization)
        _audit(db, user, "speakers", None, call_id=call_id, target=target, old=old, new=new, now=now)
        report = SpeakerChange([], [])
        team = db.users.operator_team(call["operator"])
        for row in db.scorecards.rows_for_call(call_id):
            ctx = Context(row, call, team)
            if row["status"] not in EDITABLE:
                report.final.append(row["checklist_id"])
                continue
            fresh = score_again(db, user, row, call, changed, settings)
            db.scorecards.rescore_items(ctx.id, fresh.items)
            _save(db, ctx, now)
            new_score = db.scorecards.get(ctx.id)["score"]
            _audit(db, user, "rescore", ctx, target="speakers changed", old=row["score"], new=new_score, now=now)
            report.rescored.append((row["checklist_id"], row["score"], new_score))
    return report


# --- disputes -----------------------------------------------------------------


def dispute_deadline(row: dict, settings: Settings | None = None) -> datetime:
    """When the dispute window of a finalized scorecard closes."""
    days = (settings or from_env()).dispute_window_days
    return datetime.fromisoformat(row["finalized_at"]) + timedelta(days=days)


@_one_transaction
def open_disputes(
    db: Storage,
    user: User,
    scorecard_id: int,
    reasons: dict[str, str],
    *,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Dispute items of a final scorecard, each with a reason; once per item, within the window."""
    settings = settings or from_env()
    ctx = _context(db, scorecard_id)
    if not can_dispute(user, ctx.call["operator"]):
        raise _refuse(user, "dispute the scorecard", ctx)
    if ctx.row["status"] not in PUBLISHED:
        raise InvalidTransition(
            f"the scorecard of call {ctx.call_id} is not final yet", code="not_final", call=ctx.call_id
        )
    target = transition("dispute", ctx.row["status"], ctx.call_id)
    deadline = dispute_deadline(ctx.row, settings)
    if _now(now) > deadline:
        days = settings.dispute_window_days
        raise InvalidTransition(
            f"the dispute window for call {ctx.call_id} closed on "
            f"{deadline.date().isoformat()} ({days} days after finalization)",
            code="window_closed",
            date=deadline.date().strftime("%d.%m.%Y"),
            days=days,
        )
    if not reasons:
        raise QAReviewError("choose at least one item to dispute", code="no_items")
    items = {i["item_id"]: i for i in db.scorecards.items(ctx.id)}
    taken = {d["item_id"] for d in db.disputes.of(ctx.id)}
    for item_id, reason in reasons.items():
        if item_id not in items:
            raise NotFound(f"no item {item_id!r} in the scorecard of call {ctx.call_id}")
        if item_id in taken:
            raise InvalidTransition(
                f"item {item_id} was already disputed; an item can be disputed once", code="disputed_once", item=item_id
            )
        if not (reason or "").strip():
            raise QAReviewError(f"item {item_id}: give a reason for the dispute", code="reason_required", item=item_id)
    ids = []
    with db.atomic():
        for item_id, reason in reasons.items():
            ids.append(
                db.disputes.open(
                    ctx.id,
                    item_id,
                    opened_by=user.username,
                    reason=reason.strip(),
                    at=_at(now),
                    verdict_before=items[item_id]["verdict"],
                )
            )
            _audit(db, user, "dispute", ctx, target=item_id, old=items[item_id]["verdict"], reason=reason, now=now)
        _save(db, ctx, now, status=target)
        _notify(
            db,
            db.users.supervisors_of(ctx.team),
            "dispute",
            ctx,
            f"{user.name} disputes {', '.join(reasons)} on call {ctx.call_id}",
            now,
        )
    return ids


FLIP = {PASS: FAIL, FAIL: PASS}


@_one_transaction
def resolve_dispute(
    db: Storage,
    user: User,
    dispute_id: int,
    uphold: bool,
    reply: str,
    *,
    verdict: str | None = None,
    now: datetime | None = None,
) -> None:
    """Uphold (the verdict changes, the score is recalculated) or reject with a reply."""
    d = db.disputes.get(dispute_id)
    ctx = _context(db, d["scorecard_id"])
    if not can_resolve(user, ctx.team):
        raise _refuse(user, "resolve disputes", ctx)
    if d["status"] != "open":
        raise InvalidTransition(f"dispute {dispute_id} is already {d['status']}", code="dispute_done")
    transition("resolve", ctx.row["status"], ctx.call_id)
    if not (reply or "").strip():
        raise QAReviewError("write a reply to the operator", code="reply_required")
    item = _item(db, ctx, d["item_id"])
    new = item["verdict"]
    if uphold:
        new = verdict or FLIP.get(item["verdict"])
        if new is None or new not in (PASS, FAIL, NA):
            raise QAReviewError(f"item {d['item_id']} is {item['verdict']}: say which verdict the upheld dispute gives")
    with db.atomic():
        if uphold:
            db.scorecards.set_item(ctx.id, d["item_id"], verdict=new, comment=reply, changed_by=user.username)
        db.disputes.close(
            dispute_id, upheld=uphold, verdict_after=new, resolved_by=user.username, at=_at(now), reply=reply.strip()
        )
        still_open = [x for x in db.disputes.of(ctx.id) if x["status"] == "open"]
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
            db.users.for_operator(ctx.call["operator"]),
            "resolution",
            ctx,
            f"dispute on {d['item_id']} {'upheld' if uphold else 'rejected'}: {reply.strip()}",
            now,
        )


def open_dispute_list(db: Storage, user: User) -> list[dict]:
    """Open disputes this user may resolve, oldest first."""
    teams = db.users.teams_by_operator()
    return [d for d in db.disputes.open_with_calls() if can_resolve(user, teams.get(d["operator"]))]


# --- queue and notifications ---------------------------------------------------


def review_queue(
    db: Storage,
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
    """The supervisor's scorecards to review (assigned to them or to nobody), oldest call first, with flags."""
    if user.role != SUPERVISOR:
        raise PermissionDenied(f"{user.username} ({user.role}) has no review queue")
    rows = db.scorecards.queue(
        states=status,
        operator=operator,
        checklist=checklist,
        date_from=date_from,
        date_to=date_to,
        max_score=max_score,
        critical_only=critical_only,
        assignee=user.username,
        operators=overseen_operators(user, db.users.teams_by_operator()),
    )
    # What a person should know before listening: a recording fault, speech not recognized.
    flags = db.calls.flags(sorted({r["call_id"] for r in rows}))
    for r in rows:
        r["flags"] = [f["code"] for f in flags.get(r["call_id"], [])]
    return rows


def notifications(db: Storage, user: User, unread_only: bool = True) -> list[dict]:
    return db.notifications.of(user.username, unread_only)


def mark_read(db: Storage, user: User, ids: list[int] | None = None, now=None) -> None:
    db.notifications.mark_read(user.username, _at(now), ids)
