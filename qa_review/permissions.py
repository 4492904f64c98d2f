"""Who may do what: pure rules over a user and the thing they touch.

The service layer asks these before every read and write; the pages only
mirror them to hide buttons, never to enforce them.
"""

from __future__ import annotations

from dataclasses import dataclass

ADMIN, SUPERVISOR, TRAINER, OPERATOR = "admin", "supervisor", "trainer", "operator"
ROLES = (ADMIN, SUPERVISOR, TRAINER, OPERATOR)

# Scorecard states and the moves between them.
AUTO, IN_REVIEW, FINAL, DISPUTED, RESOLVED = "auto", "in_review", "final", "disputed", "resolved"
EDITABLE = (AUTO, IN_REVIEW)
PUBLISHED = (FINAL, DISPUTED, RESOLVED)  # what operators may see


@dataclass(frozen=True)
class User:
    username: str
    role: str
    display_name: str = ""
    team: str | None = None
    operator_id: str | None = None
    spoken_name: str | None = None  # the name they give on the phone ("Анна")

    @property
    def name(self) -> str:
        return self.display_name or self.username


def _same_team(user: User, call_team: str | None) -> bool:
    # A supervisor without a team oversees every team (a small centre).
    return user.team is None or user.team == call_team


def can_read_call(user: User, call_operator: str, call_team: str | None) -> bool:
    if user.role in (ADMIN, TRAINER):
        return True
    if user.role == SUPERVISOR:
        return _same_team(user, call_team)
    if user.role == OPERATOR:
        return user.operator_id is not None and user.operator_id == call_operator
    return False


def can_read_scorecard(user: User, status: str, call_operator: str, call_team: str | None) -> bool:
    if not can_read_call(user, call_operator, call_team):
        return False
    return user.role != OPERATOR or status in PUBLISHED


def can_review(user: User, call_team: str | None) -> bool:
    """Change verdicts, correct the transcript, write feedback, finalize."""
    return user.role == SUPERVISOR and _same_team(user, call_team)


def can_dispute(user: User, call_operator: str) -> bool:
    return user.role == OPERATOR and user.operator_id == call_operator


def can_resolve(user: User, call_team: str | None) -> bool:
    return user.role == SUPERVISOR and _same_team(user, call_team)


def can_manage_users(user: User) -> bool:
    return user.role == ADMIN
