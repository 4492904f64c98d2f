"""Log in: the app knows who you are, and shows what your role allows."""

import streamlit as st

from qa_review.core.errors import AuthError
from qa_review.services import accounts
from qa_review.ui.common import db, error_text, tr

st.title(tr("login.title"))
conn = db()
if accounts.count(conn) == 0:
    st.info(tr("login.no_users"))
with st.form("login"):
    username = st.text_input(tr("login.username"), key="login_username")
    password = st.text_input(tr("login.password"), type="password", key="login_password")
    submitted = st.form_submit_button(tr("login.submit"))
if submitted:
    try:
        st.session_state["user"] = accounts.authenticate(conn, username, password)
    except AuthError as e:
        st.error(error_text(e))
    else:
        st.rerun()
