"""Users: creating and changing them, logging in, sessions. Passwords are hashed with Argon2id.

A login gives a random session token that the browser keeps; only its hash
is stored. A session ends when its user logs out, is disabled or has their
role or team changed, or after it went unused for the idle time. Failed
logins are counted per user name and per client: after MAX_FAILURES within
FAILURE_WINDOW_S, logins from there wait.
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from qa_review.core.errors import AuthError, NotFound, PermissionDenied, QAReviewError
from qa_review.core.permissions import ADMIN, OPERATOR, ROLES, User, can_manage_users
from qa_review.services import logs
from qa_review.storage import Storage

_hasher = PasswordHasher()
USERNAME_RE = re.compile(r"^[a-z0-9_.\-@]{2,64}$")
MIN_PASSWORD = 8
MAX_FAILURES = 5
FAILURE_WINDOW_S = 15 * 60
# A single sign-on opens a session only this soon after the provider issued
# it: the provider's identity cookie outlives our session, and must not quietly
# reopen one after the idle time or a logout.
SSO_FRESH_S = 5 * 60
_dummy: tuple[PasswordHasher, str] | None = None  # a hash made with the current hasher's cost


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
    demo: bool = False,
) -> User:
    """Create a user. Only an admin may, except the very first user (an admin).

    ``demo`` marks an account whose password is published (the demo's): the
    app says so to whoever uses it. The first user is marked as the first-run admin.
    """
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
        kind="demo" if demo else "first" if first else None,
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
    """The user with this name and password; the same message and the same time whether or not the name exists."""
    global _dummy
    found = db.users.credentials(username.strip().lower())
    wrong = AuthError("wrong user name or password", code="auth")
    if found is None:
        # Verify against a hash anyway: answering at once would tell which names exist.
        if _dummy is None or _dummy[0] is not _hasher:
            _dummy = (_hasher, _hasher.hash(secrets.token_hex(16)))
        try:
            _hasher.verify(_dummy[1], password or "-")
        except (VerificationError, InvalidHashError):
            pass
        raise wrong
    user, password_hash = found
    try:
        _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        raise wrong from None
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(db: Storage, username: str, password: str, *, client: str | None = None, now: float | None = None):
    """(user, session token) for the right password, unless too many logins failed lately from that name or client."""
    now = time.time() if now is None else now
    name = (username or "").strip().lower()
    keys = [f"user:{name}"] + ([f"client:{client}"] if client else [])
    recent = db.sessions.failures_since(keys, now - FAILURE_WINDOW_S)
    full = [times for times in recent.values() if len(times) >= MAX_FAILURES]
    if full:
        wait = max(times[-MAX_FAILURES] + FAILURE_WINDOW_S - now for times in full)
        minutes = max(1, math.ceil(wait / 60))
        logs.event("login refused", "warning", via="password", reason="throttled", minutes=minutes)
        raise AuthError(
            f"too many failed logins for {name or 'this client'}; try again in {minutes} min",
            code="throttled",
            n=minutes,
        )
    try:
        user = authenticate(db, name, password)
    except AuthError:
        with db.atomic():
            db.sessions.add_failure(keys, now)
            db.sessions.forget_failures_before(now - FAILURE_WINDOW_S)
        # not the name typed: a password typed into the name field must not reach a log
        logs.event("login refused", "warning", via="password", reason="auth")
        raise
    token = secrets.token_urlsafe(32)
    with db.atomic():
        db.sessions.clear_failures(f"user:{name}")
        db.sessions.create(_token_hash(token), user.username, now=now, client=client)
    logs.event("logged in", user=user.username, role=user.role, via="password")
    return user, token


def resume(db: Storage, token: str, *, idle_hours: float, now: float | None = None) -> User:
    """The user of a live session, as they are now (role, team); an ended or idle one asks to log in again."""
    now = time.time() if now is None else now
    key = _token_hash(token or "")
    session = db.sessions.get(key)
    if session is None:
        raise AuthError("your session has ended; log in again", code="session_ended")
    user = db.users.get(session["username"])  # active users only
    idle = now - session["last_seen"]
    if user is None or idle > idle_hours * 3600:
        db.sessions.revoke(key)
        raise AuthError("your session has ended; log in again", code="session_ended")
    if idle > 60:  # a write a minute at most, not one per click
        db.sessions.touch(key, now)
    return user


def _sso_identity(value) -> str | None:
    value = value.strip().lower() if isinstance(value, str) else ""
    return value or None


def login_sso(
    db: Storage, claims: dict, *, claim: str = "email", client: str | None = None, now: float | None = None
) -> tuple[User, str]:
    """(user, session token) for a fresh sign-in through the identity provider, by the identity an admin linked.

    ``claims`` are the identity token's, as Streamlit's ``st.user`` gives
    them; ``claim`` names the one linked to users (e-mail, upn...). Each
    sign-in opens one session: a logout is not undone by the same sign-in.
    """
    try:
        user, token = _sso_session(db, claims, claim, client, now)
    except AuthError as e:
        logs.event("login refused", "warning", via="sso", reason=e.code)  # not the identity: a person's address
        raise
    logs.event("logged in", user=user.username, role=user.role, via="sso")
    return user, token


def _sso_session(db: Storage, claims: dict, claim: str, client: str | None, now: float | None) -> tuple[User, str]:
    now = time.time() if now is None else now
    identity = _sso_identity(claims.get(claim))
    if identity is None:
        raise AuthError(
            f"the identity provider sent no {claim!r} claim; ask an admin to set QA_REVIEW_SSO_CLAIM "
            f"to a claim it sends ({', '.join(sorted(k for k in claims if isinstance(claims[k], str))) or 'none'})",
            code="sso_no_claim",
            name=claim,
        )
    if claim == "email" and claims.get("email_verified") is False:
        raise AuthError(f"the identity provider has not verified {identity}", code="sso_unverified", name=identity)
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or not (now - SSO_FRESH_S <= issued <= now + 60):
        raise AuthError("sign in through single sign-on again", code="sso_stale")
    signin = hashlib.sha256(
        "|".join(str(claims.get(k, "")) for k in ("iss", "sub", "iat", "nonce")).encode()
    ).hexdigest()
    found = db.users.by_sso_identity(identity)
    if found is None:
        raise AuthError(
            f"{identity} is not linked to a qa-review user; ask an admin to link it "
            f"(Users page, or: qa-review users link-sso USER {identity})",
            code="sso_unknown",
            name=identity,
        )
    user, active = found
    if not active:
        raise AuthError(f"the account {user.username} is disabled; ask an admin", code="disabled", name=user.username)
    token = secrets.token_urlsafe(32)
    with db.atomic():
        if db.sessions.sso_signin_used(signin):
            raise AuthError("sign in through single sign-on again", code="sso_stale")
        db.sessions.create(_token_hash(token), user.username, now=now, client=client, sso_signin=signin)
    return user, token


def link_sso(db: Storage, actor: User, username: str, identity: str | None) -> User:
    """Link (or, with None, unlink) the directory identity that logs in as this user (admins; audited)."""
    if not can_manage_users(actor):
        raise PermissionDenied("only an admin can link single sign-on identities")
    before = get(db, username)
    identity = _sso_identity(identity)
    if identity is not None:
        holder = db.users.by_sso_identity(identity)
        if holder is not None and holder[0].username != username:
            raise QAReviewError(
                f"{identity} is already linked to {holder[0].username}; unlink it there first",
                code="sso_taken",
                name=holder[0].username,
            )
    with db.atomic():
        db.users.update(username, sso_identity=identity)
        _audit_account(db, actor, "user_sso", username, before.sso_identity, identity)
    return get(db, username)


def logout(db: Storage, token: str) -> None:
    db.sessions.revoke(_token_hash(token or ""))


def _audit_account(db: Storage, actor: User, action: str, username: str, old, new) -> None:
    db.audit.write(
        at=_now_iso(),
        username=actor.username,
        action=action,
        call_id=None,
        scorecard_id=None,
        target=username,
        old=old,
        new=new,
        reason=None,
    )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def set_active(db: Storage, actor: User, username: str, active: bool) -> None:
    """Disable or enable a user (admins); disabling ends their sessions at once."""
    if not can_manage_users(actor):
        raise PermissionDenied("only an admin can disable or enable users")
    if not db.users.exists(username):
        raise NotFound(f"no user {username!r}")
    if not active and username == actor.username:
        raise QAReviewError("you cannot disable yourself; another admin can", code="self_disable")
    with db.atomic():
        db.users.update(username, active=1 if active else 0)
        if not active:
            db.sessions.revoke_user(username)
        _audit_account(db, actor, "user_enabled" if active else "user_disabled", username, None, None)


def change_role(
    db: Storage, actor: User, username: str, *, role: str, team: str | None, operator_id: str | None
) -> User:
    """Change a user's role, team and operator id (admins); their sessions end, so the change holds at once."""
    if not can_manage_users(actor):
        raise PermissionDenied("only an admin can change roles and teams")
    before = get(db, username)
    if role not in ROLES:
        raise QAReviewError(f"role {role!r}: expected one of {', '.join(ROLES)}")
    if role == OPERATOR and not operator_id:
        raise QAReviewError(f"operator {username}: give the operator id calls carry", code="operator_id_required")
    if before.role == ADMIN and role != ADMIN and sum(u.role == ADMIN for u in db.users.active()) == 1:
        raise QAReviewError("the last admin cannot be given another role; make someone else admin first")
    with db.atomic():
        db.users.update(username, role=role, team=team or None, operator_id=operator_id or None)
        db.sessions.revoke_user(username)
        _audit_account(
            db,
            actor,
            "user_role",
            username,
            f"{before.role}/{before.team or '-'}/{before.operator_id or '-'}",
            f"{role}/{team or '-'}/{operator_id or '-'}",
        )
    return get(db, username)


def disabled_users(db: Storage, actor: User) -> list[str]:
    if not can_manage_users(actor):
        raise PermissionDenied("only an admin can list users")
    return db.users.disabled()


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
