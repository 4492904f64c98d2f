"""Lost calls nobody has returned yet, oldest first, and when the centre loses them."""

import altair as alt
import streamlit as st

from qa_review.services import call_log
from qa_review.ui.common import current_user, db, headed, local_time, settings, tr

user = current_user()
st.title(tr("lost.title"))
days = st.slider(tr("lost.days"), 1, 60, 14, key="lost_days")
lost = call_log.lost_calls(db(), user, settings(), days=days)
calls = lost.calls
st.metric(tr("lost.open"), len(calls))
if lost.masked:
    st.caption(tr("lost.masked"))
if calls.empty:
    st.success(tr("lost.none"))
else:
    queues = sorted(calls["queue"].fillna("—").unique())
    pick = st.multiselect(tr("lost.queue"), queues, key="lost_queue")
    shown = calls.assign(queue=calls["queue"].fillna("—"))
    if pick:
        shown = shown[shown["queue"].isin(pick)]
    table = shown.assign(started_at=shown["started_at"].map(local_time))[
        ["started_at", "queue", "phone", "wait_s", "waiting_h", "call_id"]
    ]
    st.dataframe(headed(table), hide_index=True, key="lost_table")
st.subheader(tr("lost.by_day"))
st.altair_chart(
    alt.Chart(lost.by_day).mark_bar().encode(x=alt.X("day:O", title=""), y=alt.Y("lost:Q", title=tr("lost.count"))),
    width="stretch",
)
st.subheader(tr("lost.by_hour"))
st.altair_chart(
    alt.Chart(lost.by_hour).mark_bar().encode(x=alt.X("hour:O", title=""), y=alt.Y("lost:Q", title=tr("lost.count"))),
    width="stretch",
)
