"""Monthly KPIs and bonus coefficients, coverage, export, and queue sampling."""

import streamlit as st

from qa_review.core.errors import QAReviewError
from qa_review.services import call_log, review
from qa_review.services import kpis as kpi_service
from qa_review.services.call_log import PERCENT_COLUMNS
from qa_review.services.call_log import RU_HEADERS as CALL_LOG_HEADERS
from qa_review.services.kpis import RU_HEADERS
from qa_review.ui.common import current_user, db, error_text, headed, lang, settings, tr

user = current_user()
conn = db()
cfg = settings()
st.title(tr("kpi.title"))
months = review.call_months(conn)
if not months:
    st.info(tr("kpi.no_calls"))
    st.stop()
month = st.selectbox(tr("kpi.month"), months, key="kpi_month")
try:
    rep = kpi_service.report(conn, user, month, cfg)
except QAReviewError as e:
    st.error(error_text(e))
    st.stop()
st.caption(tr("kpi.rules", id=rep.rules_id, version=rep.rules_version))
if rep.may_change:
    st.warning(tr("kpi.may_change"))


def show(df):
    headers = RU_HEADERS if lang() == "ru" else {}
    st.dataframe(
        df.rename(columns=headers),
        hide_index=True,
        column_config={
            headers.get(c, c): st.column_config.NumberColumn(format="localized")
            for c in ("mean_final_score", "coefficient", "reviewed_share")
        },
    )


st.subheader(tr("kpi.operators"))
if rep.operators.empty:
    st.info(tr("kpi.no_final"))
show(rep.operators.assign(note=rep.notes_in(lang())))
st.subheader(tr("kpi.teams"))
show(rep.teams)
c1, c2 = st.columns(2)
c1.download_button(tr("kpi.download_csv"), kpi_service.export(rep, "csv", lang=lang()), f"kpi-{month}.csv", "text/csv")
c2.download_button(
    tr("kpi.download_xlsx"),
    kpi_service.export(rep, "xlsx"),
    f"kpi-{month}.xlsx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
)

contact = call_log.report(conn, user, month, cfg)
if not contact.queues.empty or not contact.operators.empty:
    # beside quality: what the PBX's call log says about the same month
    st.subheader(tr("kpi.contact"))
    st.caption(tr("kpi.contact_help", id=contact.rules_id, version=contact.rules_version))
    names = CALL_LOG_HEADERS if lang() == "ru" else {}
    percent = {c: st.column_config.NumberColumn(format="percent") for c in PERCENT_COLUMNS}
    for df in (contact.queues, contact.operators):
        st.dataframe(
            df.rename(columns=names),
            hide_index=True,
            column_config={names.get(c, c): v for c, v in percent.items()},
        )
    st.download_button(
        tr("kpi.contact_download"),
        call_log.export(contact, "xlsx"),
        f"cdr-{month}.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )

st.subheader(tr("kpi.coverage"))
show(kpi_service.coverage(conn, user, month, cfg))

if user.role in ("admin", "supervisor"):
    with st.form("sample"):
        st.markdown(f"**{tr('kpi.sample')}**")
        a, b = st.columns(2)
        per_operator = a.number_input(tr("kpi.per_operator"), 0, 500, 5)
        seed = b.number_input(tr("kpi.seed"), 0, 10**9, 1)
        if st.form_submit_button(tr("kpi.sample")):
            try:
                chosen = kpi_service.sample(conn, user, month, cfg, int(per_operator), int(seed))
            except QAReviewError as e:
                st.error(error_text(e))
            else:
                st.success(tr("kpi.sampled", n=len(chosen)))
                st.dataframe(headed(chosen), hide_index=True)
    if not rep.operators["band_certain"].all():
        st.caption(tr("kpi.uncertain", n=int((~rep.operators["band_certain"]).sum())))
        if st.button(tr("kpi.top_up"), key="top_up"):
            try:
                added = kpi_service.top_up(conn, user, month, cfg)
            except QAReviewError as e:
                st.error(error_text(e))
            else:
                st.success(tr("kpi.sampled", n=len(added)))
