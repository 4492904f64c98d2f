"""Coaching goals: what an operator works on after a review, and how it goes.

A goal names checklist items, a target pass rate and a due date; progress is
computed from the operator's final scorecards of calls made after the goal
was set, so it measures the change the goal asked for.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlite_utils import Database

from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.permissions import OPERATOR, User, can_read_call, can_review
from qa_review.services import accounts
from qa_review.storage import store


@dataclass(frozen=True)
class Progress:
    decided: int
    passed: int
    state: str  # achieved | overdue | in_progress | not_started

    @property
    def rate(self) -> float | None:
        return self.passed / self.decided if self.decided else None


def progress(verdicts: list[str], target: float, due: date, today: date) -> Progress:
    """Pure: the goal items' verdicts (pass / fail) since the goal was set."""
    decided = [v for v in verdicts if v in ("pass", "fail")]
    passed = sum(v == "pass" for v in decided)
    rate = passed / len(decided) if decided else None
    if rate is not None and rate >= target:
        state = "achieved"
    elif today > due:
        state = "overdue"
    else:
        state = "in_progress" if decided else "not_started"
    return Progress(len(decided), passed, state)


def set_goal(
    db: Database, user: User, operator_id: str, items: list[str], target: float, due: date, note: str = ""
) -> int:
    team = accounts.operator_team(db, operator_id)
    if not can_review(user, team):
        raise PermissionDenied(f"{user.username} ({user.role}) may not set goals for {operator_id}")
    if not items:
        raise QAReviewError("a goal needs at least one checklist item")
    if not 0 < target <= 1:
        raise QAReviewError(f"target pass rate {target}: give a share between 0 and 1 (e.g. 0.9)")
    if due <= date.today():
        raise QAReviewError(f"due date {due.isoformat()} is not in the future")
    return (
        db["goals"]
        .insert(
            {
                "operator_id": operator_id,
                "items": json.dumps(items),
                "target": target,
                "due": due.isoformat(),
                "note": note,
                "set_by": user.username,
                "created_at": store.now_iso(),
            }
        )
        .last_pk
    )


def goals(db: Database, user: User, today: date | None = None) -> list[dict]:
    """Goals this user may see (own for operators, their teams' for supervisors), with progress."""
    today = today or datetime.now(UTC).date()
    teams = accounts.teams_by_operator(db)
    out = []
    for g in db["goals"].rows_where(order_by="due"):
        if user.role == OPERATOR and user.operator_id != g["operator_id"]:
            continue
        if not can_read_call(user, g["operator_id"], teams.get(g["operator_id"])):
            continue
        items = json.loads(g["items"])
        marks = ", ".join("?" * len(items))
        verdicts = [
            r[0]
            for r in db.execute(
                f"""select i.verdict from scorecard_items i join scorecards s on s.id = i.scorecard_id
                join calls c on c.call_id = s.call_id
                where c.operator = ? and s.status in ('final', 'disputed', 'resolved')
                and s.finalized_at >= ? and i.item_id in ({marks})""",
                [g["operator_id"], g["created_at"], *items],
            ).fetchall()
        ]
        p = progress(verdicts, g["target"], date.fromisoformat(g["due"]), today)
        out.append({**g, "items": items, "decided": p.decided, "passed": p.passed, "rate": p.rate, "state": p.state})
    return out
