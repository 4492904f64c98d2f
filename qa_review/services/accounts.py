"""Users: creating them, logging in. Passwords are hashed with Argon2id."""

from __future__ import annotations

import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qa_review.core.errors import AuthError, NotFound, PermissionDenied, QAReviewError
from qa_review.core.permissions import OPERATOR, ROLES, User, can_manage_users
from qa_review.storage import Storage

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[a-z0-9_.\-@]{2,64}$")
MIN_PASSWORD = 8


def count(db: Storage) -> int:
    return db.users.count()


def exists(db: Storage, username: str) -> bool:
    """Whether the user name is taken (by an active or a deactivated user)."""
    return db.users.exists(username)


def add_user(
    db: Storage,
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
    if db.users.exists(username):
        raise QAReviewError(f"user {username!r} already exists", code="user_exists", name=username)
    db.users.add(
        username,
        role=role,
        password_hash=_hasher.hash(password),
        display_name=display_name,
        team=team,
        operator_id=operator_id,
        spoken_name=_spoken(spoken_name),
    )
    return get(db, username)


def _spoken(name: str | None) -> str | None:
    name = " ".join((name or "").split())
    if name and not re.search(r"\w", name):
        raise QAReviewError(f"spoken name {name!r} has no letters", code="spoken_name_invalid", name=name)
    return name or None


def set_spoken_name(db: Storage, actor: User, username: str, spoken_name: str | None) -> User:
    """The name a user gives on the phone: checklists' {operator_name}, the ASR vocabulary."""
    if not can_manage_users(actor):
        raise PermissionDenied("only an admin can edit users")
    get(db, username)
    db.users.update(username, spoken_name=_spoken(spoken_name))
    return get(db, username)


def spoken_names(db: Storage) -> dict[str, str]:
    """{operator_id: spoken name} of active operators who have one."""
    return db.users.spoken_names()


def get(db: Storage, username: str) -> User:
    user = db.users.get(username)
    if user is None:
        raise NotFound(f"no active user {username!r}")
    return user


def authenticate(db: Storage, username: str, password: str) -> User:
    found = db.users.credentials(username.strip().lower())
    # one message for both cases: do not tell which user names exist
    wrong = AuthError("wrong user name or password", code="auth")
    if found is None:
        raise wrong
    user, password_hash = found
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        raise wrong from None
    return user


def list_users(db: Storage, actor: User) -> list[User]:
    if not can_manage_users(actor):
        raise PermissionDenied("only an admin can list users")
    return db.users.active()


def set_password(db: Storage, actor: User, username: str, password: str) -> None:
    if actor.username != username and not can_manage_users(actor):
        raise PermissionDenied("only an admin can change another user's password")
    if len(password or "") < MIN_PASSWORD:
        raise QAReviewError(f"password for {username}: at least {MIN_PASSWORD} characters")
    get(db, username)
    db.users.update(username, password_hash=_hasher.hash(password))
