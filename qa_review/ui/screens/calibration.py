"""Calibration: reviewers score the same calls blind; the lead sees agreement and records the truth."""

import pandas as pd
import streamlit as st

from qa_review.core import agreement
from qa_review.services import calibration as cal
from qa_review.services import review, scoring
from qa_review.ui.common import attempt, current_user, db, headed, settings, tr

user = current_user()
conn = db()
st.title(tr("cal.title"))
checklists = {lc.checklist.id: lc.checklist for lc in scoring.checklists(settings())[0]}
if user.role in ("supervisor", "admin"):
    with st.expander(tr("cal.new")):
        with st.form("new_session"):
            title = st.text_input(tr("cal.session_title"))
            checklist_id = st.selectbox(tr("cal.checklist"), sorted(checklists))
            calls = st.multiselect(tr("cal.calls"), [c["call_id"] for c in review.visible_calls(conn, user)])
            reviewers = st.text_input(tr("cal.reviewers"))
            if st.form_submit_button(tr("cal.create")):
                attempt(
                    cal.create,
                    conn,
                    user,
                    title,
                    checklist_id,
                    calls,
                    [r.strip() for r in reviewers.split(",") if r.strip()],
                )

sessions = cal.sessions_for(conn, user)
if not sessions:
    st.info(tr("cal.none"))
for s in sessions:
    with st.container(border=True):
        st.subheader(f"{s['title']} · {s['checklist_id']}" + (f" · {tr('cal.closed')}" if s["closed_at"] else ""))
        checklist = checklists.get(s["checklist_id"])
        if checklist is None:
            continue
        items = [it for _, it in checklist.items()]
        reviewers = s["reviewers"]
        if user.username in reviewers and not s["closed_at"]:
            mine = cal.my_verdicts(conn, user, s["id"])
            with st.form(f"rate-{s['id']}"):
                st.markdown(f"**{tr('cal.rate')}**")
                picks = {}
                for call_id in s["calls"]:
                    st.caption(call_id)
                    cols = st.columns(4)
                    for n, it in enumerate(items):
                        current = mine.get((call_id, it.id), "pass")
                        picks[(call_id, it.id)] = cols[n % 4].selectbox(
                            it.title or it.id,
                            ["pass", "fail", "na"],
                            index=["pass", "fail", "na"].index(current),
                            format_func=lambda v: tr(f"verdict.{v}"),
                            key=f"r-{s['id']}-{call_id}-{it.id}",
                        )
                if st.form_submit_button(tr("cal.save")):
                    for (call_id, item_id), v in picks.items():
                        cal.rate(conn, user, s["id"], call_id, item_id, v)
                    st.rerun()
        if user.username == s["lead"]:
            ratings = cal.ratings(conn, user, s["id"])
            if ratings:
                rep = agreement.report(ratings)
                st.markdown(f"**{tr('cal.report')}**")
                st.dataframe(headed(pd.DataFrame(rep.items)), hide_index=True)
                st.dataframe(headed(pd.DataFrame(rep.reviewers)), hide_index=True)
                if not s["closed_at"] and st.button(tr("cal.agree"), key=f"agree-{s['id']}"):
                    agreed = {k: agreement.consensus(v) for k, v in ratings.items()}
                    cal.agree(conn, user, s["id"], {k: v for k, v in agreed.items() if v})
                    st.rerun()
            if s["closed_at"]:
                a = cal.automatic_vs_agreed(conn, user, s["id"])
                st.caption(tr("cal.auto", agree=a.agree, pairs=a.pairs))
