"""One call: player, transcript by speaker, and its scorecards with evidence.

A line's ▶ plays the recording from there; an evidence's ▶ plays from the
words that decided the verdict and highlights them in the transcript.
"""

import mimetypes

import streamlit as st

from qa_review import services
from qa_review.errors import CallNotFound
from qa_review.webui import VERDICT_STYLE, clock, db, evidence_text, highlighted, local_time, tr

conn = db()
calls = services.list_calls(conn)
if not calls:
    st.info(tr("calls.empty"))
    st.stop()
by_id = {c["call_id"]: c for c in calls}
ids = list(by_id)

wanted = st.query_params.get("call") or st.session_state.get("call_id")
if wanted and wanted not in by_id:
    st.error(tr("call.not_found", id=wanted))
    wanted = None
call_id = st.selectbox(
    tr("call.choose"),
    ids,
    index=ids.index(wanted) if wanted else 0,
    format_func=lambda i: f"{i} · {by_id[i]['operator']} · {local_time(by_id[i]['started_at'])}",
    key="call_select",
)
st.session_state["call_id"] = call_id
st.query_params["call"] = call_id

try:
    detail = services.call_detail(conn, call_id)
    cards = services.scorecards(conn, call_id)
except CallNotFound as e:
    st.error(str(e))
    st.stop()
call, transcript, asr = detail["call"], detail["transcript"], detail["asr"]
is_audio = call["kind"] == "audio"

st.title(call_id)
st.caption(
    tr("call.meta", operator=call["operator"], started=local_time(call["started_at"]),
       channel=tr(f"channel.{call['channel']}"))
    + (f" · {call['direction']}" if call["direction"] else "")
    + (f" · {', '.join(call['tags'])}" if call["tags"] else "")
)

seek_key, mark_key = f"seek:{call_id}", f"mark:{call_id}"


def seek(at: float, span=None) -> None:
    st.session_state[seek_key] = at
    st.session_state[mark_key] = span


if is_audio:
    path = services.audio_path(conn, call_id)
    if path and path.exists():
        start = st.session_state.get(seek_key, 0)
        st.audio(
            str(path),
            format=mimetypes.guess_type(path.name)[0] or "audio/wav",
            start_time=int(start),
            autoplay=bool(start),
        )
    else:
        st.warning(tr("call.audio_missing", path=path))

left, right = st.columns([3, 2], gap="large")

with left:
    st.subheader(tr("call.transcript"))
    if call["status"] == "failed":
        st.error(tr("call.failed", error=call["error"]))
    if transcript is None:
        st.info(tr("call.no_transcript"))
    else:
        if asr and asr.get("model"):
            st.caption(tr("call.asr", model=asr["model"], seconds=round(asr["processing_s"] or 0, 1)))
        colour = {"operator": "blue", "client": "orange", "mixed": "violet"}
        mark = st.session_state.get(mark_key)
        for i, seg in enumerate(transcript.segments):
            c_time, c_who, c_text = st.columns([2.2, 1.8, 7], vertical_alignment="center")
            if is_audio:
                c_time.button(f"▶ {clock(seg.start)}", key=f"seg-{i}", on_click=seek, args=(seg.start,),
                              help=tr("call.play_from", t=clock(seg.start)))
            else:
                c_time.write(local_time(call["started_at"], seg.start))
            c_who.markdown(f":{colour.get(seg.speaker, 'gray')}[**{tr(f'speaker.{seg.speaker}')}**]")
            c_text.markdown(highlighted(seg, mark))

with right:
    st.subheader(tr("call.scorecard"))
    if not cards:
        st.info(tr("call.no_scorecard"))
    for n, (row, sc) in enumerate(cards):
        st.caption(tr("call.checklist", id=sc.checklist_id, version=sc.checklist_version))
        value = "—" if sc.score is None else f"{sc.score:.1f}"
        st.metric(tr("call.score"), value)
        if sc.critical_failed:
            st.error(tr("call.critical"))
        if sc.provisional:
            st.warning(tr("call.provisional"))
        for item in sc.items:
            hue, icon = VERDICT_STYLE[item.verdict]
            label = f":{hue}[{icon} {tr(f'verdict.{item.verdict}')}] · {item.title}"
            if item.critical:
                label += f" · :red[{tr('call.critical_item')}]"
            with st.expander(label, expanded=item.verdict in ("fail", "review")):
                for k, ev in enumerate(item.evidence):
                    ev_text, ev_play = st.columns([5, 2.2], vertical_alignment="center")
                    ev_text.caption(evidence_text(ev))
                    if ev.start is not None:
                        span = (ev.speaker, ev.start, ev.end if ev.end is not None else ev.start)
                        ev_play.button(
                            f"▶ {clock(ev.start)}" if is_audio else tr("call.show_evidence"),
                            key=f"ev-{n}-{item.item_id}-{k}",
                            on_click=seek, args=(ev.start if is_audio else 0, span),
                        )
