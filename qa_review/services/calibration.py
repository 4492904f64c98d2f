"""Calibration sessions: reviewers score the same calls blind, then agree.

The statistics (percent agreement, Cohen's and Fleiss' kappa, deviation from
the consensus) are pure and live in core/agreement.py. The session's agreed
verdicts become reference verdicts for measuring the automatic scoring.
"""

from __future__ import annotations

from qa_review.core.agreement import Ratings, compare
from qa_review.core.errors import InvalidTransition, PermissionDenied, QAReviewError
from qa_review.core.permissions import ADMIN, SUPERVISOR, User
from qa_review.core.scoring import REVIEW, VERDICTS
from qa_review.storage import Storage


def create(db: Storage, user: User, title: str, checklist_id: str, call_ids: list[str], reviewers: list[str]) -> int:
    if user.role not in (SUPERVISOR, ADMIN):
        raise PermissionDenied(f"{user.username} ({user.role}) may not lead a calibration session")
    if not call_ids or len(reviewers) < 2:
        raise QAReviewError("a calibration needs at least one call and two reviewers")
    calls = db.calls.many(call_ids)
    missing = set(call_ids) - set(calls)
    if missing:
        db.calls.get(sorted(missing)[0])  # CallNotFound names it
    if user.role == SUPERVISOR and user.team is not None:
        # A team supervisor calibrates on their team's calls, with their team's reviewers.
        teams = db.users.teams_by_operator()
        foreign = sorted(cid for cid, c in calls.items() if teams.get(c["operator"]) != user.team)
        if foreign:
            raise PermissionDenied(f"{user.username} may not put calls of another team in a calibration: {foreign[0]}")
        for name in reviewers:
            reviewer = db.users.get(name)
            if reviewer is None or reviewer.role not in (SUPERVISOR, ADMIN) or reviewer.team not in (None, user.team):
                raise PermissionDenied(
                    f"{user.username} may not ask {name} to calibrate: not a supervisor of team {user.team}"
                )
    with db.atomic():
        return db.calibration.create(title, checklist_id, user.username, call_ids, reviewers)


def sessions_for(db: Storage, user: User) -> list[dict]:
    return db.calibration.sessions_of(user.username)


def rate(db: Storage, user: User, session_id: int, call_id: str, item_id: str, verdict: str) -> None:
    s = db.calibration.session(session_id)
    if user.username not in db.calibration.reviewers(session_id):
        raise PermissionDenied(f"{user.username} is not a reviewer of calibration {session_id}")
    if s["closed_at"]:
        raise InvalidTransition(f"calibration {session_id} is closed")
    if verdict not in VERDICTS or verdict == REVIEW:
        raise QAReviewError(f"verdict {verdict!r}: use pass, fail or na")
    db.calibration.rate(session_id, call_id, item_id, user.username, verdict)


def my_verdicts(db: Storage, user: User, session_id: int) -> dict[tuple[str, str], str]:
    """Blind scoring: a reviewer sees only their own verdicts."""
    return {(r["call_id"], r["item_id"]): r["verdict"] for r in db.calibration.verdicts(session_id, user.username)}


def ratings(db: Storage, user: User, session_id: int) -> Ratings:
    s = db.calibration.session(session_id)
    if user.username != s["lead"]:
        raise PermissionDenied("only the session's lead sees everyone's verdicts (scoring is blind)")
    out: Ratings = {}
    for r in db.calibration.verdicts(session_id):
        out.setdefault((r["call_id"], r["item_id"]), {})[r["reviewer"]] = r["verdict"]
    return out


def agree(db: Storage, user: User, session_id: int, verdicts: dict[tuple[str, str], str]) -> None:
    """The lead records the agreed verdicts and closes the session."""
    s = db.calibration.session(session_id)
    if user.username != s["lead"]:
        raise PermissionDenied("only the session's lead records the agreed verdicts")
    with db.atomic():
        db.calibration.agree(session_id, verdicts)


def automatic_vs_agreed(db: Storage, user: User, session_id: int):
    """How the automatic verdicts compare with the agreed reference verdicts (the lead, or an admin)."""
    s = db.calibration.session(session_id)
    if user.username != s["lead"] and user.role != ADMIN:
        raise PermissionDenied("only the session's lead (or an admin) compares it with the automatic verdicts")
    ref = db.calibration.agreed(session_id)
    return compare(db.scorecards.auto_verdicts(s["checklist_id"], ref), ref)
