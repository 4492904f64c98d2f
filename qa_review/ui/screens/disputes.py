"""Open disputes a supervisor may resolve, oldest first, with their age."""

from datetime import UTC, datetime

import streamlit as st

from qa_review.core.errors import QAReviewError
from qa_review.services import review
from qa_review.ui.common import current_user, db, error_text, go, local_time, tr

user = current_user()
conn = db()
st.title(tr("nav.disputes"))
flash = st.session_state.pop("dispute_flash", None)
if flash:
    st.success(flash)
open_ = review.open_dispute_list(conn, user)
if not open_:
    st.info(tr("dispute.none_open"))
now = datetime.now(UTC)
for d in open_:
    age = (now - datetime.fromisoformat(d["opened_at"])).days
    with st.container(border=True):
        st.markdown(
            tr("dispute.age", call=d["call_id"], item=d["item_id"], opened=local_time(d["opened_at"]), days=age)
        )
        st.caption(tr("dispute.operator_reason", reason=d["reason"]))
        if st.button(tr("nav.call") + f" {d['call_id']}", key=f"open-{d['id']}"):
            st.session_state["call_id"] = d["call_id"]
            go("call")
        reply = st.text_input(tr("dispute.your_reply"), key=f"reply-{d['id']}")
        b1, b2 = st.columns(2)
        for col, uphold, label in ((b1, True, "dispute.uphold"), (b2, False, "dispute.reject")):
            if col.button(tr(label), key=f"{label}-{d['id']}"):
                try:
                    review.resolve_dispute(conn, user, d["id"], uphold, reply)
                except QAReviewError as e:
                    st.error(error_text(e))
                else:
                    st.session_state["dispute_flash"] = tr(f"dispute.{'upheld' if uphold else 'rejected'}")
                    st.rerun()
