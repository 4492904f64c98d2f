"""Review queue: the supervisor's scorecards still to review, with filters."""

import pandas as pd
import streamlit as st

from qa_review.services import review
from qa_review.ui.common import current_user, db, go, local_time, tr

user = current_user()
conn = db()
st.title(tr("queue.title"))
everything = review.review_queue(conn, user)
c1, c2, c3, c4, c5, c6 = st.columns([2, 2, 2, 2, 2, 1.5])
operator = c1.selectbox(
    tr("calls.filter_operator"),
    [None] + sorted({r["operator"] for r in everything}),
    format_func=lambda v: "—" if v is None else v,
)
checklist = c2.selectbox(
    tr("col.checklist"),
    [None] + sorted({r["checklist_id"] for r in everything}),
    format_func=lambda v: "—" if v is None else v,
)
max_score = c3.slider(tr("queue.max_score"), 0, 100, 100)
statuses = c4.multiselect(
    tr("col.status"), ["auto", "in_review"], default=["auto", "in_review"], format_func=lambda v: tr(f"status.{v}")
)
dates = c5.date_input(tr("queue.dates"), value=())
critical = c6.toggle(tr("queue.critical_only"))
date_from = dates[0].isoformat() if len(dates) > 0 else None
date_to = dates[1].isoformat() if len(dates) > 1 else date_from
rows = review.review_queue(
    conn,
    user,
    operator=operator,
    checklist=checklist,
    status=tuple(statuses),
    date_from=date_from,
    date_to=date_to,
    max_score=None if max_score == 100 else max_score,
    critical_only=critical,
)
if not rows:
    st.info(tr("queue.empty"))
    st.stop()
table = pd.DataFrame(
    {
        tr("col.call_id"): [r["call_id"] for r in rows],
        tr("col.started_at"): [local_time(r["started_at"]) for r in rows],
        tr("col.operator"): [r["operator"] for r in rows],
        tr("col.checklist"): [r["checklist_id"] for r in rows],
        tr("col.score"): [r["score"] for r in rows],
        tr("col.critical"): ["!" if r["critical_failed"] else "" for r in rows],
        tr("col.flags"): [", ".join(tr(f"flagname.{f}") for f in r["flags"]) for r in rows],
        tr("col.status"): [tr(f"status.{r['status']}") for r in rows],
    }
)
event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="queue_table")
if event.selection.rows:
    st.session_state["call_id"] = rows[event.selection.rows[0]]["call_id"]
    go("call")
