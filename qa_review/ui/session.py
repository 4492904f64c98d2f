"""Who is logged in: the session token the browser keeps in a cookie, resumed on every run.

Streamlit forgets its session state on a reload; the token in the cookie
survives it, and the service checks it on every run (ended, idle, disabled
user, changed role), so what a page shows is always what the user may see now.
"""

from __future__ import annotations

import streamlit as st

from qa_review.core.errors import AuthError
from qa_review.services import accounts
from qa_review.ui.common import error_text, settings, tr

COOKIE = "qa_review_session"
COOKIE_ROUTE = "/qa-session"  # the server's route that sets and clears it (qa_review/ui/server.py)


def _cookie() -> str | None:
    try:
        value = st.context.cookies.get(COOKIE)
    except Exception:  # no browser behind the run (AppTest): no cookie
        return None
    return value if isinstance(value, str) else None


def sso_enabled() -> bool:
    """Whether the identity provider is configured (Streamlit's [auth] secrets)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def _sso_provider() -> str | None:
    # `qa-review serve` checked there is one: given in [auth] itself, or named
    auth = st.secrets["auth"]
    if "client_id" in auth:
        return None
    return next((name for name in auth if hasattr(auth[name], "keys")), None)


def _client() -> str | None:
    try:
        client = st.context.ip_address
    except Exception:
        return None
    return client if isinstance(client, str) else None


def _sso_token(conn) -> str | None:
    """A session from a sign-in the identity provider just made, tried once per sign-in in this tab."""
    try:
        claims = st.user.to_dict() if st.user.is_logged_in else None
    except Exception:
        claims = None
    if not claims:
        return None
    signin = tuple(str(claims.get(k)) for k in ("iss", "sub", "iat"))
    if st.session_state.get("sso_tried") == signin:
        return None
    st.session_state["sso_tried"] = signin
    try:
        _, token = accounts.login_sso(conn, claims, claim=settings().sso_claim, client=_client())
    except AuthError as e:
        st.session_state["login_notice"] = error_text(e)
        return None
    return token


def current_user(conn):
    """The logged-in user, resumed from this run's token or the browser's cookie; None asks to log in."""
    token = st.session_state.get("token")
    cookie = _cookie()
    if token is None and cookie and cookie != st.session_state.get("dead_token"):
        token = cookie
    if token is None and sso_enabled():
        token = _sso_token(conn)
    if token is None:
        return st.session_state.get("user")  # only code sets it without a token (page tests)
    try:
        user = accounts.resume(conn, token, idle_hours=settings().session_idle_hours)
    except AuthError as e:
        forget(token)
        st.session_state["login_notice"] = error_text(e)
        return None
    st.session_state["user"], st.session_state["token"] = user, token
    _keep_cookie(token, cookie)
    return user


def _keep_cookie(token: str, cookie: str | None) -> None:
    if cookie != token:
        # Pages cannot set cookies: the page hands the token to the server's
        # own route, whose answer sets it HttpOnly (qa_review/ui/server.py).
        _page_script(
            f"fetch('{COOKIE_ROUTE}', {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, "
            f"credentials: 'same-origin', body: JSON.stringify({{token: '{token}'}})}});"
        )


def _page_script(js: str) -> None:
    try:
        st.html(f"<script>{js}</script>", unsafe_allow_javascript=True)
    except Exception:  # no browser behind the run (AppTest)
        pass


def forget(token: str | None) -> None:
    """Drop the session from this browser tab (the cookie too); the server side is the caller's."""
    for key in ("user", "token", "call_id"):
        st.session_state.pop(key, None)
    if token:
        st.session_state["dead_token"] = token
    _page_script(f"fetch('{COOKIE_ROUTE}', {{method: 'DELETE', credentials: 'same-origin'}});")


def log_out(conn) -> None:
    token = st.session_state.get("token")
    if token:
        accounts.logout(conn, token)
    forget(token)
    if sso_enabled():
        # The provider's identity cookie too: its sign-in opens no second
        # session anyway, but the next person at this browser starts clean.
        st.logout()


def login_form(conn) -> None:
    """The login form, on whatever page was asked for: after logging in, that page opens."""
    st.title(tr("login.title"))
    notice = st.session_state.pop("login_notice", None)
    if notice:
        st.warning(notice)
    if accounts.count(conn) == 0:
        st.info(tr("login.no_users"))
    if sso_enabled():
        if st.button(tr("login.sso"), type="primary", key="login_sso"):
            st.login(_sso_provider())
        st.caption(tr("login.or"))
    with st.form("login"):
        username = st.text_input(tr("login.username"), key="login_username")
        password = st.text_input(tr("login.password"), type="password", key="login_password")
        submitted = st.form_submit_button(tr("login.submit"))
    if submitted:
        try:
            user, token = accounts.login(conn, username, password, client=_client())
        except AuthError as e:
            st.error(error_text(e))
        else:
            st.session_state["user"], st.session_state["token"] = user, token
            st.session_state.pop("dead_token", None)
            st.rerun()
