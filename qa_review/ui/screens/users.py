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
            tr("users.kind"): tr(f"users.kind_{u.kind}") if u.kind else "",
            tr("users.sso"): u.sso_identity or "",
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

st.subheader(tr("users.change"))
# Outside the form: choosing someone fills the form with their role and team.
who = st.selectbox(tr("login.username"), [u.username for u in people], key="change_who")
current = next(u for u in people if u.username == who)
with st.form(f"change_role-{who}"):
    c1, c2 = st.columns(2)
    new_role = c2.selectbox(
        tr("users.role"), ROLES, index=list(ROLES).index(current.role), format_func=lambda r: tr(f"role.{r}")
    )
    new_team = c1.text_input(tr("users.team"), value=current.team or "", key=f"change_team-{who}")
    new_op = c2.text_input(tr("users.operator_id"), value=current.operator_id or "", key=f"change_op-{who}")
    if st.form_submit_button(tr("review.save")):
        attempt(
            accounts.change_role,
            conn,
            user,
            who,
            role=new_role,
            team=new_team.strip() or None,
            operator_id=new_op.strip() or None,
            success=tr("users.changed", name=who),
        )
with st.form(f"sso-{who}"):
    identity = st.text_input(
        tr("users.sso"), value=current.sso_identity or "", key=f"sso_identity-{who}", help=tr("users.sso_help")
    )
    if st.form_submit_button(tr("users.sso_save")):
        attempt(accounts.link_sso, conn, user, who, identity.strip() or None, success=tr("users.sso_linked", name=who))

c1, c2 = st.columns(2)
with c1.form("disable"):
    st.subheader(tr("users.disable"))
    off = st.selectbox(tr("login.username"), [u.username for u in people if u.username != user.username], key="off")
    if st.form_submit_button(tr("users.disable")):
        attempt(accounts.set_active, conn, user, off, False, success=tr("users.disabled", name=off))
disabled = accounts.disabled_users(conn, user)
if disabled:
    with c2.form("enable"):
        st.subheader(tr("users.enable"))
        on = st.selectbox(tr("login.username"), disabled, key="on")
        if st.form_submit_button(tr("users.enable")):
            attempt(accounts.set_active, conn, user, on, True, success=tr("users.enabled", name=on))
