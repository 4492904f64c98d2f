"""The one route the app's server adds to Streamlit's: it keeps the session cookie.

Streamlit's pages cannot set a cookie; page script can, but then the cookie
cannot be HttpOnly, and any script in the page could read the session token.
So after a login the page hands the token once to ``COOKIE_ROUTE``, whose
answer sets it HttpOnly (and Secure behind HTTPS); reads come back through
``st.context.cookies`` on every run, as before.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from qa_review.core.errors import QAReviewError
from qa_review.services import accounts, database, settings
from qa_review.ui.session import COOKIE, COOKIE_ROUTE

MAX_AGE_S = 30 * 24 * 3600  # the browser keeps it; the server ends idle sessions much sooner


def _https(request: Request) -> bool:
    # behind the clinic's TLS proxy the app itself speaks plain HTTP
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").lower() == "https"


def _same_origin(request: Request) -> bool:
    """Only the app's own pages may set or clear the cookie (no login forced from another site)."""
    origin = request.headers.get("origin")
    host = request.headers.get("x-forwarded-host") or request.headers.get("host")
    return origin is not None and host is not None and origin.split("://", 1)[-1] == host


def _live(token: str) -> bool:
    try:
        s = settings.from_env()
        db = database.open_database(s.db_path, create=False)
    except QAReviewError:
        return False
    try:
        accounts.resume(db, token, idle_hours=s.session_idle_hours)
    except QAReviewError:
        return False
    finally:
        db.close()
    return True


async def session_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return JSONResponse({"error": "cross-origin"}, status_code=403)
    response = JSONResponse({"ok": True})
    if request.method == "DELETE":
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=_https(request))
        return response
    try:
        body = await request.json()
    except ValueError:
        body = None
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not 20 <= len(token) <= 200 or not await run_in_threadpool(_live, token):
        return JSONResponse({"error": "no such session"}, status_code=403)
    response.set_cookie(
        COOKIE, token, max_age=MAX_AGE_S, path="/", httponly=True, samesite="strict", secure=_https(request)
    )
    return response


ROUTES = [Route(COOKIE_ROUTE, session_cookie, methods=["POST", "DELETE"])]
