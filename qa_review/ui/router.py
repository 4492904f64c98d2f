"""Who sees which page: the sidebar, and st.navigation over the pages allowed to the role."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from qa_review.core.errors import ConfigError, DatabaseError
from qa_review.core.permissions import SCREENS, Role
from qa_review.services import logs, review
from qa_review.ui.common import db, error_text, local_time, start_log, tr
from qa_review.ui.i18n import LANGUAGES
from qa_review.ui.session import current_user, log_out, login_form

PAGES_DIR = Path(__file__).with_name("screens")

# screen -> (title key, icon); the order is the sidebar's
LOOK = {
    "queue": ("nav.queue", ":material/fact_check:"),
    "calls": ("nav.calls", ":material/list:"),
    "call": ("nav.call", ":material/headphones:"),
    "search": ("nav.search", ":material/search:"),
    "library": ("nav.library", ":material/video_library:"),
    "disputes": ("nav.disputes", ":material/gavel:"),
    "my_month": ("nav.my_month", ":material/trending_up:"),
    "goals": ("nav.goals", ":material/flag:"),
    "calibration": ("nav.calibration", ":material/balance:"),
    "kpi": ("nav.kpi", ":material/payments:"),
    "dashboards": ("nav.dashboards", ":material/monitoring:"),
    "lost": ("nav.lost", ":material/phone_missed:"),
    "checklists": ("nav.checklists", ":material/checklist:"),
    "failures": ("nav.failures", ":material/error:"),
    "users": ("nav.users", ":material/group:"),
}
HOME = {Role.SUPERVISOR: "queue"}  # everyone else starts at the calls list


def page(name: str, title_key: str, icon: str, default: bool = False):
    return st.Page(str(PAGES_DIR / f"{name}.py"), title=tr(title_key), icon=icon, url_path=name, default=default)


def _sidebar(user) -> None:
    with st.sidebar:
        st.selectbox(
            "Язык / Language",
            LANGUAGES,
            key="lang",
            format_func=lambda code: {"ru": "Русский", "en": "English"}[code],
        )
        if user is None:
            return
        st.caption(tr("login.as", name=user.name, role=tr(f"role.{user.role}")))
        if user.kind == "demo":
            st.warning(tr("login.demo_account"))
        elif user.kind == "first":
            st.info(tr("login.first_admin"))
        conn = db()
        unread = review.notifications(conn, user)
        if unread:
            with st.expander(tr("notify.title", n=len(unread)), expanded=True):
                for n in unread[:10]:
                    st.caption(f"{local_time(n['created_at'])} · " + tr(f"notify.{n['kind']}", call=n["call_id"]))
                if st.button(tr("notify.read"), key="mark_read"):
                    review.mark_read(conn, user)
                    st.rerun()
        if st.button(tr("login.logout"), key="logout"):
            log_out(conn)
            st.rerun()


def main() -> None:
    st.set_page_config(page_title="qa-review", page_icon=":material/headphones:", layout="wide")
    try:
        start_log()
        _route()
    except (DatabaseError, ConfigError) as e:  # a wrong QA_REVIEW_DB: say which file and what to do, not a traceback
        logs.event("page failed", "error", error=type(e).__name__, message=str(e))
        st.error(error_text(e))
    except Exception:
        # Streamlit shows it on the page; the log keeps it for IT (st.rerun and st.stop are not Exceptions)
        logs.crash("page crashed")
        raise


def _route() -> None:
    conn = db()
    user = current_user(conn)
    _sidebar(user)
    if user is None:
        # Every page is routable, so a link (/call?call=ID) keeps its address
        # while the login form shows; after logging in, that page opens.
        login = page("login", "nav.login", ":material/login:", default=True)
        others = [page(name, key, icon) for name, (key, icon) in LOOK.items()]
        chosen = st.navigation([login, *others], position="hidden")
        if chosen.url_path in ("", "login"):
            chosen.run()
        else:
            login_form(conn)
        return
    role = Role(user.role)
    home = HOME.get(role, "calls")
    pages = []
    for name, (key, icon) in LOOK.items():
        if role in SCREENS[name]:
            if name == "calls" and role == Role.OPERATOR:
                key = "nav.my_calls"
            pages.append(page(name, key, icon, default=name == home))
    st.navigation(pages).run()
