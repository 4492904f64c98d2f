"""Scoring: transcribed calls against the checklists that apply to them; idempotent."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from qa_review.asr import profile as asr_profile
from qa_review.core.checklists import MISSING_DIRECTION, LoadedChecklist
from qa_review.core.checklists import parse as parse_checklist
from qa_review.core.domain import WRITTEN, CallStatus, Transcript
from qa_review.core.errors import ChecklistError, PermissionDenied, QAReviewError
from qa_review.core.permissions import (
    AUTO,
    OPERATOR,
    PUBLISHED,
    User,
    can_read_call,
    can_review,
    require_pipeline,
)
from qa_review.core.scoring import Scorecard
from qa_review.core.scoring import score as score_transcript
from qa_review.services import logs
from qa_review.services.catalog import find_checklist, load_checklists
from qa_review.services.ingest import Progress
from qa_review.services.settings import Settings
from qa_review.storage import Storage


def record_checklist(db: Storage, lc: LoadedChecklist) -> None:
    """Keep the text of each checklist version that scored something.

    A version is a promise: scorecards say which one they used, so the same
    id and version with different content is refused.
    """
    c = lc.checklist
    known = db.scorecards.checklist_version(c.id, c.version)
    if known is None:
        db.scorecards.add_checklist_version(c.id, c.version, c.title, lc.sha256, lc.text)
    elif known["sha256"] != lc.sha256:
        raise ChecklistError(
            f"{lc.source}: checklist {c.id!r} version {c.version} was changed after it scored "
            f"calls; raise `version:` to {c.version + 1} so old scorecards keep the version "
            "they were made with"
        )


@dataclass
class ScoreReport:
    scored: list[tuple[str, str, float | None]] = field(default_factory=list)  # call, checklist, score
    skipped: list[tuple[str, str]] = field(default_factory=list)  # already scored with that version
    failed: list[tuple[str, str]] = field(default_factory=list)  # where, reason
    unmatched: list[str] = field(default_factory=list)  # calls no checklist applies to
    up_to_date: int = 0  # calls with all their scorecards, not looked at again

    def summary(self) -> str:
        text = (
            f"{len(self.scored)} scored, {len(self.skipped) + self.up_to_date} already scored, "
            f"{len(self.failed)} failed, {len(self.unmatched)} with no applicable checklist"
        )
        if self.unmatched:
            text += (
                " (no checklist's applies_to fits their channel and direction: set direction in "
                "the manifest, add the channel to a checklist's applies_to, or pass --checklist ID)"
            )
        return text


class Scorer:
    """Scores calls one at a time against checklists read once; what it did goes into ``report``.

    Built by :func:`scorer`; transcription hands it each call as it is saved,
    so scorecards appear while a long batch is still running.
    """

    def __init__(self, db: Storage, settings: Settings, usable: list[LoadedChecklist], *, forced: bool, rescore: bool):
        self.db, self.settings, self.usable = db, settings, usable
        self.forced, self.rescore = forced, rescore  # forced: every call gets these checklists
        self.report = ScoreReport()
        self.seen: set[str] = set()
        self._profile = asr_profile.load(settings.asr_profile)
        self._names = db.users.spoken_names()

    def score(self, call: dict) -> None:
        """Score one transcribed call with each checklist that applies and it lacks."""
        db, report, cid = self.db, self.report, call["call_id"]
        self.seen.add(cid)
        chosen = (
            self.usable
            if self.forced
            else [lc for lc in self.usable if lc.checklist.applies(call["channel"], call["direction"])]
        )
        if not chosen:
            report.unmatched.append(cid)
            return
        transcript = None
        for lc in chosen:
            c = lc.checklist
            if _kept(db.scorecards.find(cid, c.id, c.version), self.rescore):
                report.skipped.append((cid, c.id))
                continue
            transcript = transcript or db.transcripts.get(cid)
            took = time.perf_counter()
            try:
                sc = score_transcript(
                    transcript,
                    c,
                    written=call["kind"] == WRITTEN,
                    variables=self._profile.variables(self._names.get(call["operator"])),
                    min_role_confidence=self.settings.mono_min_confidence,
                )
            except Exception as e:  # one call's failure must not stop the batch
                report.failed.append((cid, f"call {cid}, checklist {c.id}: {e!r}"))
                logs.event(
                    "scoring failed", "warning", call=cid, checklist=c.id, error=type(e).__name__, message=str(e)
                )
                continue
            with db.atomic():
                # Looked at again under the write lock: another run may have scored it meanwhile.
                if _kept(db.scorecards.find(cid, c.id, c.version), self.rescore):
                    report.skipped.append((cid, c.id))
                    continue
                db.scorecards.save_auto(sc)
            report.scored.append((cid, c.id, sc.score))
            logs.event(
                "scored",
                call=cid,
                checklist=c.id,
                version=c.version,
                score=sc.score,
                provisional=sc.provisional,
                seconds=time.perf_counter() - took,
            )


def scorer(
    db: Storage, actor: User, settings: Settings, *, checklist: str | None = None, rescore: bool = False
) -> Scorer:
    """A :class:`Scorer` with the folder's valid checklists (or ``checklist`` alone), each version recorded.

    An invalid checklist file is reported in the scorer's report; the others score.
    """
    require_pipeline(actor, "score")
    report_failed = []
    if checklist:
        loaded = [find_checklist(checklist, settings.checklist_dirs)]
    else:
        loaded, bad = load_checklists(settings.checklist_dirs)
        report_failed.extend((msg.split(":", 1)[0], msg) for msg in bad)
    usable = []
    for lc in loaded:
        try:
            record_checklist(db, lc)
            usable.append(lc)
        except QAReviewError as e:
            report_failed.append((lc.source, str(e)))
    s = Scorer(db, settings, usable, forced=bool(checklist), rescore=rescore)
    s.report.failed.extend(report_failed)
    return s


def score_calls(
    db: Storage,
    actor: User,
    settings: Settings,
    *,
    checklist: str | None = None,
    call_ids: list[str] | None = None,
    rescore: bool = False,
    progress: Progress | None = None,
    using: Scorer | None = None,
) -> ScoreReport:
    """Score transcribed calls against checklists; idempotent.

    With ``checklist`` (an id in the checklists folder, or a YAML path) every
    chosen call gets that checklist; without it each call gets the folder's
    checklists whose ``applies_to`` fits its channel and direction. A call
    already scored with a checklist version is skipped unless ``rescore``.
    ``using``: a scorer that already scored some calls (as they were
    transcribed); the rest are scored with it and its report is returned.
    """
    require_pipeline(actor, "score")
    s = using or scorer(db, actor, settings, checklist=checklist, rescore=rescore)
    report = s.report
    if call_ids:
        calls = []
        for cid in call_ids:
            call = db.calls.get(cid)
            if call["status"] != CallStatus.TRANSCRIBED:
                report.failed.append(
                    (cid, f"call {cid}: not transcribed yet (status {call['status']}); run `qa-review transcribe`")
                )
            else:
                calls.append(call)
    elif s.rescore or s.forced:
        calls = db.calls.list(status=CallStatus.TRANSCRIBED)
    else:
        calls = [c for c in _lacking_scorecards(db, s.usable) if c["call_id"] not in s.seen]
        report.up_to_date = db.calls.count(status=CallStatus.TRANSCRIBED) - len(calls) - len(s.seen)

    for n, call in enumerate(calls, 1):
        if progress:
            progress(f"[{n}/{len(calls)}] {call['call_id']}")
        s.score(call)
    return report


def _kept(existing: dict | None, rescore: bool) -> bool:
    """An existing scorecard stays unless rescoring, and then only if people have not touched it."""
    return existing is not None and (not rescore or existing["status"] != AUTO)


def _lacking_scorecards(db: Storage, usable: list[LoadedChecklist]) -> list[dict]:
    """Transcribed calls that lack a scorecard of a checklist that applies to them, oldest first.

    Also those with no scorecard at all, so that the calls no checklist applies
    to are reported rather than forgotten. The query narrows by channel and
    direction; ``applies`` decides.
    """
    ids: set[str] = set()
    for lc in usable:
        a = lc.checklist.applies_to
        directions = a.direction if a else None
        ids.update(
            db.calls.lacking_scorecard(
                lc.checklist.id,
                lc.checklist.version,
                channels=a.channel if a else None,
                directions=directions,
                no_direction=directions is not None and MISSING_DIRECTION in directions,
            )
        )
    ids.update(db.calls.lacking_scorecard(None, None))
    return sorted(db.calls.many(ids).values(), key=lambda c: (c["started_at"], c["call_id"]))


def scorecards(db: Storage, user: User, call_id: str) -> list[tuple[dict, Scorecard]]:
    """The call's scorecards, if this user may read the call (operators: published ones only)."""
    call = db.calls.get(call_id)
    if not can_read_call(user, call["operator"], db.users.operator_team(call["operator"])):
        raise PermissionDenied(f"{user.username} ({user.role}) may not open call {call_id}", code="denied")
    cards = db.scorecards.for_call(call_id)
    return [(r, sc) for r, sc in cards if user.role != OPERATOR or r["status"] in PUBLISHED]


def checklists(settings: Settings):
    """Valid checklists in the folder, and the errors of invalid files."""
    return load_checklists(settings.checklist_dirs)


def score_again(
    db: Storage, user: User, row: dict, call: dict, transcript: Transcript, settings: Settings
) -> Scorecard:
    """What the machine says of ``transcript`` with the checklist version the scorecard ``row`` was made with.

    For a reviewer who changed the call's transcript. The version's text is
    kept in the database, so a call is scored again by the same rules even
    after the checklist file moved on.
    """
    if not can_review(user, db.users.operator_team(call["operator"])):
        raise PermissionDenied(f"{user.username} ({user.role}) may not rescore call {call['call_id']}", code="denied")
    kept = db.scorecards.checklist_version(row["checklist_id"], row["checklist_version"])
    if kept is None:
        raise QAReviewError(
            f"call {call['call_id']}: checklist {row['checklist_id']} version {row['checklist_version']} "
            "is not in the database; run `qa-review score --rescore`"
        )
    checklist = parse_checklist(kept["yaml"], f"{row['checklist_id']} v{row['checklist_version']}").checklist
    profile = asr_profile.load(settings.asr_profile)
    return score_transcript(
        transcript,
        checklist,
        written=call["kind"] == WRITTEN,
        variables=profile.variables(db.users.spoken_names().get(call["operator"])),
        min_role_confidence=settings.mono_min_confidence,
    )
