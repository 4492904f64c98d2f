"""Coaching goals: supervisors set them after a review; operators follow them."""

from datetime import date, timedelta

import streamlit as st

from qa_review.core.errors import QAReviewError
from qa_review.services import coaching
from qa_review.ui.common import current_user, db, error_text, tr

user = current_user()
conn = db()
st.title(tr("goals.title"))
if user.role == "supervisor":
    with st.form("new_goal"):
        st.markdown(f"**{tr('goals.new')}**")
        a, b = st.columns(2)
        operator = a.text_input(tr("goals.operator"))
        items = b.text_input(tr("goals.items"))
        target = a.number_input(tr("goals.target"), 1, 100, 90)
        due = b.date_input(tr("goals.due"), date.today() + timedelta(days=30))
        note = st.text_input(tr("goals.note"))
        if st.form_submit_button(tr("goals.save")):
            try:
                coaching.set_goal(
                    conn,
                    user,
                    operator.strip(),
                    [i.strip() for i in items.split(",") if i.strip()],
                    target / 100,
                    due,
                    note,
                )
            except QAReviewError as e:
                st.error(error_text(e))
            else:
                st.success(tr("goals.saved"))
goals = coaching.goals(conn, user)
if not goals:
    st.info(tr("goals.none"))
colour = {"achieved": "green", "overdue": "red", "in_progress": "blue", "not_started": "gray"}
for g in goals:
    st.markdown(
        f":{colour[g['state']]}[{tr('goals.state.' + g['state'])}] · "
        + tr(
            "goals.line",
            operator=g["operator_id"],
            items=", ".join(g["items"]),
            target=round(g["target"] * 100),
            due=g["due"],
            passed=g["passed"],
            decided=g["decided"],
        )
        + (f" · {g['note']}" if g["note"] else "")
    )
