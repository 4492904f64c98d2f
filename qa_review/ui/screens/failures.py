"""What failed (admin): ingests and transcriptions still failing, with their reasons; retry or dismiss."""

import streamlit as st

from qa_review.core.errors import QAReviewError
from qa_review.services import failures
from qa_review.ui.common import attempt, current_user, db, error_text, local_time, settings, show_flash, tr

user = current_user()
conn = db()
st.title(tr("failures.title"))
show_flash()
try:
    now = failures.failures(conn, user)
except QAReviewError as e:
    st.error(error_text(e))
    st.stop()
if not now:
    st.success(tr("failures.none"))
    st.stop()

st.subheader(tr("failures.ingest", n=len(now.ingest)))
if now.ingest:
    picked = st.dataframe(
        [
            {
                tr("failures.when"): local_time(e["at"]),
                tr("failures.where"): e["path"],
                tr("failures.reason"): e["reason"],
            }
            for e in now.ingest
        ],
        hide_index=True,
        on_select="rerun",
        selection_mode="multi-row",
        key="ingest_errors",
    )
    c1, c2 = st.columns(2)
    if c1.button(tr("failures.retry"), key="retry_ingests", type="primary"):
        try:
            with st.spinner(tr("failures.retrying")):
                reports = failures.retry_ingests(conn, user, settings())
        except QAReviewError as e:
            st.error(error_text(e))
        else:
            added = sum(len(r.added) + len(r.duplicates) for r in reports)
            failed = sum(len(r.errors) for r in reports)
            st.session_state["flash"] = (
                "success" if not failed else "warning",
                tr("failures.retried", ok=added, failed=failed),
            )
            st.rerun()
    chosen = [now.ingest[i]["id"] for i in picked.selection.rows]
    if c2.button(tr("failures.dismiss", n=len(chosen)), key="dismiss", disabled=not chosen):
        attempt(failures.dismiss, conn, user, chosen, success=tr("failures.dismissed", n=len(chosen)))

st.subheader(tr("failures.transcription", n=len(now.transcription)))
if now.transcription:
    st.dataframe(
        [
            {tr("col.call_id"): c["call_id"], tr("col.operator"): c["operator"], tr("failures.reason"): c["error"]}
            for c in now.transcription
        ],
        hide_index=True,
    )
    st.info(tr("failures.transcription_retry"))
