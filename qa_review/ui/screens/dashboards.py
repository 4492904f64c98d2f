"""Charts over final scores: trends, item failures, distributions, agreement, WER, coverage."""

import altair as alt
import streamlit as st

from qa_review.core.errors import QAReviewError
from qa_review.core.permissions import User
from qa_review.services import kpis as kpi_service
from qa_review.services.database import open_database
from qa_review.ui.common import current_user, error_text, headed, settings, tr

user = current_user()
st.title(tr("dash.title"))


@st.cache_data(ttl=120, show_spinner=True)
def load(db_path: str, username: str, role: str, team: str | None, months: int):
    # A year of a large centre takes seconds to aggregate; two minutes of
    # staleness is fine for charts, and every viewer with the same rights shares it.
    return kpi_service.dashboard(open_database(db_path), User(username, role, team=team), settings(), months)


months = st.slider(tr("dash.months"), 1, 12, 3)
try:
    d = load(str(settings().db_path), user.username, user.role, user.team, months)
except QAReviewError as e:
    st.error(error_text(e))
    st.stop()
if d["trend_operator"].empty:
    st.info(tr("dash.empty"))
    st.stop()


def chart(title, c):
    st.subheader(title)
    st.altair_chart(c, width="stretch")


score = alt.Y("score:Q", title=tr("col.score"), scale=alt.Scale(domain=[0, 100]))
chart(
    tr("dash.trend_operator"),
    alt.Chart(d["trend_operator"])
    .mark_line(point=True)
    .encode(
        x=alt.X("month:N", title=tr("kpi.month")), y=score, color=alt.Color("operator:N", title=tr("col.operator"))
    ),
)
chart(
    tr("dash.trend_team"),
    alt.Chart(d["trend_team"])
    .mark_line(point=True)
    .encode(x=alt.X("month:N", title=tr("kpi.month")), y=score, color=alt.Color("team:N", title=tr("users.team"))),
)
chart(
    tr("dash.fail_rate"),
    alt.Chart(d["fail_rate"])
    .mark_bar()
    .encode(x=alt.X("fail_rate:Q", title="%", axis=alt.Axis(format="%")), y=alt.Y("title:N", sort="-x", title=None)),
)
chart(
    tr("dash.distribution"),
    alt.Chart(d["distribution"])
    .mark_bar()
    .encode(x=alt.X("bin:O", title=tr("col.score")), y=alt.Y("calls:Q", title=None)),
)
chart(
    tr("dash.agreement"),
    alt.Chart(d["agreement"])
    .mark_bar()
    .encode(
        x=alt.X("agreement:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]), title=None),
        y=alt.Y("item_id:N", sort="x", title=None),
        tooltip=["item_id", "agreement", "scorecards"],
    ),
)
st.subheader(tr("dash.wer"))
if d["wer"].empty:
    st.caption(tr("dash.no_wer"))
else:
    st.dataframe(headed(d["wer"]), hide_index=True)
chart(
    tr("dash.coverage"),
    alt.Chart(d["coverage"])
    .mark_bar()
    .encode(
        x=alt.X("reviewed_share:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]), title=None),
        y=alt.Y("operator:N", title=None),
        tooltip=["operator", "calls", "reviewed"],
    ),
)
if not d["contact"].empty:
    rates = d["contact"].melt(
        id_vars="month", value_vars=["lost_rate", "service_level", "fcr_rate"], var_name="metric", value_name="value"
    )
    rates["metric"] = rates["metric"].map(lambda m: tr(f"dash.contact.{m}"))
    chart(
        tr("dash.contact"),
        alt.Chart(rates)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:O", title=None),
            y=alt.Y("value:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]), title=None),
            color=alt.Color("metric:N", title=None),
            tooltip=["month", "metric", alt.Tooltip("value:Q", format=".1%")],
        ),
    )
    chart(
        tr("dash.contact.aht_s"),
        alt.Chart(d["contact"])
        .mark_line(point=True)
        .encode(x=alt.X("month:O", title=None), y=alt.Y("aht_s:Q", title=tr("colname.aht_s"))),
    )
