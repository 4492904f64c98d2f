"""qa-review web app: the entry script routes by who is logged in (st.navigation)."""

import streamlit as st

from qa_review import review
from qa_review.i18n import LANGUAGES
from qa_review.webui import db, local_time, tr

st.set_page_config(page_title="qa-review", page_icon=":material/headphones:", layout="wide")

user = st.session_state.get("user")
with st.sidebar:
    st.selectbox(
        "Язык / Language",
        LANGUAGES,
        key="lang",
        format_func=lambda code: {"ru": "Русский", "en": "English"}[code],
    )
    if user is not None:
        st.caption(tr("login.as", name=user.name, role=tr(f"role.{user.role}")))
        unread = review.notifications(db(), user)
        if unread:
            with st.expander(tr("notify.title", n=len(unread)), expanded=True):
                for n in unread[:10]:
                    st.caption(f"{local_time(n['created_at'])} · " + tr(f"notify.{n['kind']}", call=n["call_id"]))
                if st.button(tr("notify.read"), key="mark_read"):
                    review.mark_read(db(), user)
                    st.rerun()
        if st.button(tr("login.logout"), key="logout"):
            for key in ("user", "call_id"):
                st.session_state.pop(key, None)
            st.rerun()


def page(path, key, icon, **kw):
    return st.Page(path, title=tr(key), icon=icon, url_path=path.split("/")[-1][:-3], **kw)


if user is None:
    pages = [page("app_pages/login.py", "nav.login", ":material/login:", default=True)]
else:
    calls_title = "nav.my_calls" if user.role == "operator" else "nav.calls"
    pages = [
        page("app_pages/calls.py", calls_title, ":material/list:", default=user.role != "supervisor"),
        page("app_pages/call.py", "nav.call", ":material/headphones:"),
        page("app_pages/search.py", "nav.search", ":material/search:"),
        page("app_pages/library.py", "nav.library", ":material/video_library:"),
    ]
    if user.role == "supervisor":
        pages.insert(0, page("app_pages/queue.py", "nav.queue", ":material/fact_check:", default=True))
        pages.append(page("app_pages/disputes.py", "nav.disputes", ":material/gavel:"))
    if user.role == "operator":
        pages.append(page("app_pages/my_month.py", "nav.my_month", ":material/trending_up:"))
    if user.role in ("operator", "supervisor"):
        pages.append(page("app_pages/goals.py", "nav.goals", ":material/flag:"))
    if user.role in ("supervisor", "admin"):
        pages.append(page("app_pages/calibration.py", "nav.calibration", ":material/balance:"))
    if user.role in ("admin", "supervisor", "trainer"):
        pages.append(page("app_pages/kpi.py", "nav.kpi", ":material/payments:"))
        pages.append(page("app_pages/dashboards.py", "nav.dashboards", ":material/monitoring:"))
        pages.append(page("app_pages/checklists.py", "nav.checklists", ":material/checklist:"))
    if user.role == "admin":
        pages.append(page("app_pages/users.py", "nav.users", ":material/group:"))
st.navigation(pages).run()
