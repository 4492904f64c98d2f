"""Who may do what: pure rules over a user and the thing they touch.

The service layer asks these before every read and write; the pages only
mirror them to hide buttons, never to enforce them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from qa_review.core.errors import InvalidTransition, PermissionDenied


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    TRAINER = "trainer"
    OPERATOR = "operator"


ADMIN, SUPERVISOR, TRAINER, OPERATOR = Role.ADMIN, Role.SUPERVISOR, Role.TRAINER, Role.OPERATOR
ROLES = tuple(Role)


class State(StrEnum):
    """A scorecard's state; stored as its value."""

    AUTO = "auto"  # scored by the machine, nobody has touched it
    IN_REVIEW = "in_review"  # a supervisor changed something
    FINAL = "final"  # finalized: counts for KPIs, the operator sees it
    DISPUTED = "disputed"  # an item is disputed
    RESOLVED = "resolved"  # every dispute answered


AUTO, IN_REVIEW, FINAL, DISPUTED, RESOLVED = State
EDITABLE = (AUTO, IN_REVIEW)
PUBLISHED = (FINAL, DISPUTED, RESOLVED)  # what operators see and KPIs count

# The one table of moves: action -> (states it starts from, state it leads to).
# ``None`` as the target: decided by the action (a resolution leaves the card
# disputed while other disputes stay open).
TRANSITIONS: dict[str, tuple[tuple[State, ...], State | None]] = {
    "verdict": (EDITABLE, IN_REVIEW),
    "feedback": (EDITABLE, IN_REVIEW),
    "finalize": (EDITABLE, FINAL),
    "dispute": (PUBLISHED, DISPUTED),
    "resolve": ((DISPUTED,), None),
    "rescore": ((AUTO,), AUTO),
}


def transition(action: str, state: str, call_id: str) -> State | None:
    """The state ``action`` leads to from ``state``; refused when the table has no such move."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        allowed = ", ".join(s.value for s in sources)
        raise InvalidTransition(
            f"the scorecard of call {call_id} is {state}: {action} is possible only when it is {allowed}",
            code=f"{action}_from_{state}",
            call=call_id,
        )
    return target


# Which screens each role has; the app's router draws its menu from this.
SCREENS: dict[str, tuple[Role, ...]] = {
    "queue": (SUPERVISOR,),
    "calls": (ADMIN, SUPERVISOR, TRAINER, OPERATOR),
    "call": (ADMIN, SUPERVISOR, TRAINER, OPERATOR),
    "search": (ADMIN, SUPERVISOR, TRAINER, OPERATOR),
    "library": (ADMIN, SUPERVISOR, TRAINER, OPERATOR),
    "disputes": (SUPERVISOR,),
    "my_month": (OPERATOR,),
    "goals": (OPERATOR, SUPERVISOR),
    "calibration": (SUPERVISOR, ADMIN),
    "kpi": (ADMIN, SUPERVISOR, TRAINER),
    "dashboards": (ADMIN, SUPERVISOR, TRAINER),
    "lost": (ADMIN, SUPERVISOR, TRAINER),
    "checklists": (ADMIN, SUPERVISOR, TRAINER),
    "users": (ADMIN,),
    "failures": (ADMIN,),
}


@dataclass(frozen=True)
class User:
    username: str
    role: str
    display_name: str = ""
    team: str | None = None
    operator_id: str | None = None
    spoken_name: str | None = None  # the name they give on the phone ("Анна")
    # "demo": a demo account with a published password; "first": the admin
    # created at first run from the command line; None: a real account.
    kind: str | None = None
    sso_identity: str | None = None  # the directory identity that logs in as this user (single sign-on)

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


def overseen_operators(user: User, teams: dict[str, str | None]) -> list[str] | None:
    """The operator ids a team supervisor oversees (``teams``: operator id -> team); None when the
    user's view is not narrowed to a team."""
    if user.role == SUPERVISOR and user.team is not None:
        return sorted(op for op, t in teams.items() if t == user.team)
    return None


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


def can_run_pipeline(user: User) -> bool:
    """Ingest, transcribe and score: every team's calls at once, so admins only (the command line is one)."""
    return user.role == ADMIN


def require_pipeline(user: User, what: str) -> None:
    if not can_run_pipeline(user):
        raise PermissionDenied(f"{user.username} may not {what}: only an admin or the command line (qa-review {what})")


def system_actor(name: str) -> User:
    """The admin a program acts as (the command line, a scheduled job); the audit names it ``cli:<name>``."""
    return User(f"cli:{name}", ADMIN, "command line")
