"""Users and teams (admin)."""

import streamlit as st

from qa_review.core.errors import QAReviewError
from qa_review.core.permissions import ROLES
from qa_review.services import accounts
from qa_review.ui.common import attempt, current_user, db, error_text, show_flash, tr

user = current_user()
conn = db()
st.title(tr("users.title"))
show_flash()
try:
    people = accounts.list_users(conn, user)
except QAReviewError as e:
    st.error(error_text(e))
    st.stop()
st.dataframe(
    [
        {
            tr("login.username"): u.username,
            tr("users.display_name"): u.display_name,
            tr("users.role"): tr(f"role.{u.role}"),
            tr("users.team"): u.team or "",
            tr("users.operator_id"): u.operator_id or "",
            tr("users.spoken_name"): u.spoken_name or "",
        }
        for u in people
    ],
    hide_index=True,
)
with st.form("add_user"):
    st.subheader(tr("users.add"))
    c1, c2 = st.columns(2)
    username = c1.text_input(tr("login.username"))
    password = c2.text_input(tr("login.password"), type="password")
    role = c1.selectbox(tr("users.role"), ROLES, format_func=lambda r: tr(f"role.{r}"))
    display = c2.text_input(tr("users.display_name"))
    team = c1.text_input(tr("users.team"))
    operator_id = c2.text_input(tr("users.operator_id"))
    spoken = c1.text_input(tr("users.spoken_name"), help=tr("users.spoken_name_help"))
    if st.form_submit_button(tr("users.add")):
        attempt(
            accounts.add_user,
            conn,
            user,
            username.strip().lower(),
            password,
            role,
            display_name=display,
            team=team.strip() or None,
            operator_id=operator_id.strip() or None,
            spoken_name=spoken.strip() or None,
            success=tr("users.added", name=username.strip().lower()),
        )

operators = [u for u in people if u.operator_id]
if operators:
    with st.form("spoken_name"):
        st.subheader(tr("users.edit_spoken_name"))
        c1, c2 = st.columns(2)
        who = c1.selectbox(tr("login.username"), [u.username for u in operators])
        name = c2.text_input(tr("users.spoken_name"), help=tr("users.spoken_name_help"))
        if st.form_submit_button(tr("review.save")):
            attempt(accounts.set_spoken_name, conn, user, who, name)
