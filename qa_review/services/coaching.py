"""Coaching goals: what an operator works on after a review, and how it goes.

A goal names checklist items, a target pass rate and a due date; progress is
computed from the operator's final scorecards of calls made after the goal
was set, so it measures the change the goal asked for.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.goals import progress
from qa_review.core.permissions import OPERATOR, PUBLISHED, User, can_read_call, can_review
from qa_review.storage import Storage


def set_goal(
    db: Storage, user: User, operator_id: str, items: list[str], target: float, due: date, note: str = ""
) -> int:
    if not can_review(user, db.users.operator_team(operator_id)):
        raise PermissionDenied(f"{user.username} ({user.role}) may not set goals for {operator_id}")
    if not items:
        raise QAReviewError("a goal needs at least one checklist item")
    if not 0 < target <= 1:
        raise QAReviewError(f"target pass rate {target}: give a share between 0 and 1 (e.g. 0.9)")
    if due <= date.today():
        raise QAReviewError(f"due date {due.isoformat()} is not in the future")
    return db.goals.add(operator_id, items, target, due.isoformat(), note, user.username)


def goals(db: Storage, user: User, today: date | None = None) -> list[dict]:
    """Goals this user may see (own for operators, their teams' for supervisors), with progress."""
    today = today or datetime.now(UTC).date()
    teams = db.users.teams_by_operator()
    out = []
    for g in db.goals.list([user.operator_id or ""] if user.role == OPERATOR else None):
        if not can_read_call(user, g["operator_id"], teams.get(g["operator_id"])):
            continue
        verdicts = db.scorecards.verdicts_since(g["operator_id"], g["created_at"], g["items"], PUBLISHED)
        p = progress(verdicts, g["target"], date.fromisoformat(g["due"]), today)
        out.append({**g, "decided": p.decided, "passed": p.passed, "rate": p.rate, "state": p.state})
    return out
