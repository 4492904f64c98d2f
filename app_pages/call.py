"""One call: audio player and the transcript by speaker; a line's button plays from there."""

import mimetypes

import streamlit as st

from qa_review import services
from qa_review.errors import CallNotFound
from qa_review.webui import clock, db, local_time, tr

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
except CallNotFound as e:
    st.error(str(e))
    st.stop()
call, transcript, asr = detail["call"], detail["transcript"], detail["asr"]

st.title(call_id)
st.caption(
    tr("call.meta", operator=call["operator"], started=local_time(call["started_at"]),
       channel=tr(f"channel.{call['channel']}"))
    + (f" · {call['direction']}" if call["direction"] else "")
    + (f" · {', '.join(call['tags'])}" if call["tags"] else "")
)

seek_key = f"seek:{call_id}"
if call["kind"] == "audio":
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

st.subheader(tr("call.transcript"))
if call["status"] == "failed":
    st.error(tr("call.failed", error=call["error"]))
if transcript is None:
    st.info(tr("call.no_transcript"))
    st.stop()
if asr and asr.get("model"):
    st.caption(tr("call.asr", model=asr["model"], seconds=round(asr["processing_s"] or 0, 1)))

COLOUR = {"operator": "blue", "client": "orange", "mixed": "violet"}


def seek(at: float) -> None:
    st.session_state[seek_key] = at


for i, seg in enumerate(transcript.segments):
    c_time, c_who, c_text = st.columns([1.3, 1.6, 8], vertical_alignment="center")
    if call["kind"] == "audio":
        c_time.button(
            f"▶ {clock(seg.start)}",
            key=f"seg-{i}",
            on_click=seek,
            args=(seg.start,),
            help=tr("call.play_from", t=clock(seg.start)),
        )
    else:
        c_time.write(local_time(call["started_at"], seg.start))
    c_who.markdown(f":{COLOUR.get(seg.speaker, 'gray')}[**{tr(f'speaker.{seg.speaker}')}**]")
    c_text.write(seg.text)
