"""Users: creating them, logging in. Passwords are hashed with Argon2id."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database

from qa_review.core.errors import AuthError, NotFound, PermissionDenied, QAReviewError
from qa_review.core.permissions import OPERATOR, ROLES, User, can_manage_users
from qa_review.storage.store import now_iso

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[a-z0-9_.\-@]{2,64}$")
MIN_PASSWORD = 8


def _user(row: dict) -> User:
    return User(
        username=row["username"],
        role=row["role"],
        display_name=row["display_name"] or "",
        team=row["team"] or None,
        operator_id=row["operator_id"] or None,
        spoken_name=row.get("spoken_name") or None,
    )


def count(db: Database) -> int:
    return db["users"].count


def add_user(
    db: Database,
    actor: User | None,
    username: str,
    password: str,
    role: str,
    *,
    display_name: str = "",
    team: str | None = None,
    operator_id: str | None = None,
    spoken_name: str | None = None,
) -> User:
    """Create a user. Only an admin may, except the very first user (an admin)."""
    first = count(db) == 0
    if first and role != "admin":
        raise PermissionDenied("the first user must be an admin: qa-review users add NAME --role admin")
    if not first and (actor is None or not can_manage_users(actor)):
        raise PermissionDenied("only an admin can add users")
    if not USERNAME_RE.match(username or ""):
        raise QAReviewError(
            f"user name {username!r}: use 2-64 lower-case letters, digits and . _ - @",
            code="username_invalid",
            name=username,
        )
    if role not in ROLES:
        raise QAReviewError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise QAReviewError(
            f"password for {username}: at least {MIN_PASSWORD} characters", code="password_short", n=MIN_PASSWORD
        )
    if role == OPERATOR and not operator_id:
        raise QAReviewError(
            f"operator {username}: give --operator-id, the operator's id in call metadata, so they see their own calls",
            code="operator_id_required",
        )
    if list(db["users"].rows_where("username = ?", [username], limit=1)):
        raise QAReviewError(f"user {username!r} already exists", code="user_exists", name=username)
    db["users"].insert(
        {
            "username": username,
            "display_name": display_name,
            "role": role,
            "team": team,
            "operator_id": operator_id,
            "password_hash": _hasher.hash(password),
            "active": 1,
            "created_at": now_iso(),
            "spoken_name": _spoken(spoken_name),
        }
    )
    return get(db, username)


def _spoken(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    if name and not re.search(r"\w", name):
        raise QAReviewError(f"spoken name {name!r} has no letters", code="spoken_name_invalid", name=name)
    return name or None


def set_spoken_name(db: Database, actor: User, username: str, spoken_name: str | None) -> User:
    """The name a user gives on the phone: checklists' {operator_name}, the ASR vocabulary."""
    if not can_manage_users(actor):
        raise PermissionDenied("only an admin can edit users")
    get(db, username)
    db["users"].update(username, {"spoken_name": _spoken(spoken_name)})
    return get(db, username)


def spoken_names(db: Database) -> dict[str, str]:
    """{operator_id: spoken name} of active operators who have one."""
    return {
        r["operator_id"]: r["spoken_name"]
        for r in db["users"].rows_where("operator_id is not null and spoken_name is not null and active = 1")
    }


def get(db: Database, username: str) -> User:
    rows = list(db["users"].rows_where("username = ? and active = 1", [username], limit=1))
    if not rows:
        raise NotFound(f"no active user {username!r}")
    return _user(rows[0])


def authenticate(db: Database, username: str, password: str) -> User:
    rows = list(db["users"].rows_where("username = ?", [username.strip().lower()], limit=1))
    # one message for both cases: do not tell which user names exist
    wrong = AuthError("wrong user name or password", code="auth")
    if not rows or not rows[0]["active"]:
        raise wrong
    try:
        _hasher.verify(rows[0]["password_hash"], password)
    except (VerificationError, InvalidHashError):
        raise wrong from None
    return _user(rows[0])


def list_users(db: Database, actor: User) -> list[User]:
    if not can_manage_users(actor):
        raise PermissionDenied("only an admin can list users")
    return [_user(r) for r in db["users"].rows_where("active = 1", order_by="role, username")]


def set_password(db: Database, actor: User, username: str, password: str) -> None:
    if actor.username != username and not can_manage_users(actor):
        raise PermissionDenied("only an admin can change another user's password")
    if len(password or "") < MIN_PASSWORD:
        raise QAReviewError(f"password for {username}: at least {MIN_PASSWORD} characters")
    get(db, username)
    db["users"].update(username, {"password_hash": _hasher.hash(password)})


def operator_team(db: Database, operator_id: str) -> str | None:
    """The team of the operator user linked to a call's operator id."""
    rows = list(db["users"].rows_where("operator_id = ? and active = 1", [operator_id], limit=1))
    return rows[0]["team"] if rows else None


def teams_by_operator(db: Database) -> dict[str, str | None]:
    """operator id -> team, for filtering many calls with one query."""
    return {r["operator_id"]: r["team"] for r in db["users"].rows_where("operator_id is not null and active = 1")}


def users_for_operator(db: Database, operator_id: str) -> list[str]:
    return [r["username"] for r in db["users"].rows_where("operator_id = ? and active = 1", [operator_id])]


def supervisors_of(db: Database, team: str | None) -> list[str]:
    return [
        r["username"]
        for r in db["users"].rows_where("role = 'supervisor' and active = 1")
        if r["team"] is None or r["team"] == team
    ]
