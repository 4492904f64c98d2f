"""Search every transcript the user may read; open a hit at its moment."""

import streamlit as st

from qa_review.services import review, search
from qa_review.ui.common import clock, current_user, db, go, local_time, tr

user = current_user()
conn = db()
st.title(tr("search.title"))
query = st.text_input(tr("search.query"), key="search_query")
c1, c2, c3, c4 = st.columns(4)
operator = c1.text_input(tr("calls.filter_operator"), key="search_operator") or None
channel = c2.selectbox(
    tr("calls.filter_channel"),
    [None, "phone", "chat", "messenger", "email"],
    format_func=lambda v: "—" if v is None else tr(f"channel.{v}"),
    key="search_channel",
)
item_id = c3.text_input(tr("search.item"), key="search_item") or None
verdict = c4.selectbox(
    tr("search.verdict"),
    [None, "pass", "fail", "na"],
    format_func=lambda v: "—" if v is None else tr(f"verdict.{v}"),
    key="search_verdict",
)
if not query.strip():
    st.stop()
hits = search.search(
    conn, user, query, operator=operator, channel=channel, item_id=item_id, verdict=verdict if item_id else None
)
own = {c["call_id"] for c in review.visible_calls(conn, user)}  # others' are shared clips: open in the library
st.caption(tr("search.found", n=len(hits)) if hits else tr("search.nothing"))
for h in hits:
    a, b, c = st.columns([2.5, 7, 1.2], vertical_alignment="center")
    a.caption(f"{h.call_id} · {h.operator} · {local_time(h.started_at)}")
    b.markdown(f"`{clock(h.start)}` {tr(f'speaker.{h.speaker}')}: {h.highlighted}")
    if h.call_id not in own:
        c.caption(tr("nav.library"))
    elif c.button(tr("search.open"), key=f"hit-{h.call_id}-{h.idx}"):
        st.session_state["call_id"] = h.call_id
        st.session_state[f"seek:{h.call_id}"] = h.start
        go("call")
