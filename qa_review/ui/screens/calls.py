"""Calls list: every call and conversation with its status."""

import pandas as pd
import streamlit as st

from qa_review.services import review
from qa_review.ui.common import current_user, db, go, local_time, tr

user = current_user()
st.title(tr("calls.title"))
conn = db()
months = review.call_months(conn)
# a busy centre has hundreds of thousands of calls: one month at a time
month = st.selectbox(tr("kpi.month"), months, key="calls_month") if months else None
rows = review.visible_calls(conn, user, month)
if not rows:
    st.info(tr("calls.empty"))
    st.stop()

c1, c2, c3, c4 = st.columns(4)
statuses = sorted({r["status"] for r in rows})
operators = sorted({r["operator"] for r in rows})
channels = sorted({r["channel"] for r in rows})
tag_names = sorted({t for r in rows for t in r["tags"]})
pick_status = c1.multiselect(tr("calls.filter_status"), statuses, format_func=lambda s: tr(f"status.{s}"))
pick_operator = c2.multiselect(tr("calls.filter_operator"), operators)
pick_channel = c3.multiselect(tr("calls.filter_channel"), channels, format_func=lambda s: tr(f"channel.{s}"))
pick_tags = c4.multiselect(tr("calls.filter_tags"), tag_names, key="calls_tags")

shown = [
    r
    for r in rows
    if (not pick_status or r["status"] in pick_status)
    and (not pick_operator or r["operator"] in pick_operator)
    and (not pick_channel or r["channel"] in pick_channel)
    and all(t in r["tags"] for t in pick_tags)  # every chosen tag: narrowing, as the other filters do
]
scores = review.scores_for(conn, user, month)
table = pd.DataFrame(
    {
        tr("col.call_id"): [r["call_id"] for r in shown],
        tr("col.started_at"): [local_time(r["started_at"]) for r in shown],
        tr("col.operator"): [r["operator"] for r in shown],
        tr("col.channel"): [tr(f"channel.{r['channel']}") for r in shown],
        tr("col.duration"): [round(r["duration_s"], 1) if r["duration_s"] else None for r in shown],
        tr("col.status"): [tr(f"status.{r['status']}") for r in shown],
        tr("col.score"): [scores.get(r["call_id"], (None, ""))[0] for r in shown],
        tr("col.review"): [tr(f"status.{scores[r['call_id']][1]}") if r["call_id"] in scores else "" for r in shown],
        tr("col.tags"): [", ".join(r["tags"]) for r in shown],
    }
)
st.caption(tr("calls.count", n=len(shown)) + " · " + tr("calls.open"))
event = st.dataframe(table, hide_index=True, on_select="rerun", selection_mode="single-row", key="calls_table")
if event.selection.rows:
    st.session_state["call_id"] = shown[event.selection.rows[0]]["call_id"]
    go("call")
