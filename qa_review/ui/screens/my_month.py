"""An operator's own month: trend, items failed most, bonus standing, disputes."""

import altair as alt
import streamlit as st

from qa_review.services import kpis as kpi_service
from qa_review.services import self_assessment
from qa_review.ui.common import current_user, db, headed, settings, tr

user = current_user()
st.title(tr("my.title"))
mine = kpi_service.operator_month(db(), user, settings())
if mine["month"] is None:
    st.info(tr("my.none"))
    st.stop()
c1, c2, c3 = st.columns(3)
c1.metric(tr("my.mean", month=mine["month"]), f"{mine['mean']:.1f}".replace(".", ","))
stand = mine["standing"]
c2.metric(tr("my.band"), "—" if stand["band"] is None else f"{stand['band']:.2f}".replace(".", ","))
c3.caption(tr("my.to_next", next=stand["next"], points=stand["points_to_next"]) if stand["next"] else tr("my.top"))
st.caption(tr("my.reviewed", n=mine["reviewed"], min=mine["min_reviewed"]))
st.subheader(tr("my.trend"))
st.altair_chart(
    alt.Chart(mine["trend"])
    .mark_line(point=True)
    .encode(
        x=alt.X("month:N", title=tr("kpi.month")),
        y=alt.Y("mean:Q", title=tr("col.score"), scale=alt.Scale(domain=[0, 100])),
    ),
    width="stretch",
)
st.subheader(tr("my.failed"))
st.dataframe(mine["failed_items"].rename(tr("my.failed")), width="stretch")
st.subheader(tr("my.disputes"))
st.dataframe(headed(mine["disputes"]), hide_index=True)
closeness = self_assessment.closeness(db(), user, settings())
if not closeness.empty:
    st.subheader(tr("self.closeness"))
    st.dataframe(headed(closeness), hide_index=True, key="self_closeness")
