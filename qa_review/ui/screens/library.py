"""Example library: trainers collect clips; operators open what is shared with them."""

import streamlit as st

from qa_review.services import library, review
from qa_review.ui.common import attempt, clock, current_user, db, tr

user = current_user()
conn = db()
curator = user.role in library.CURATORS
st.title(tr("lib.title"))
# Encoding a clip (decode, bleep, Opus) takes a moment: once per clip and session, not on every rerun.
encoded = st.session_state.setdefault("clip_audio", {})


if curator:
    with st.expander(tr("lib.new")):
        with st.form("new_collection"):
            name = st.text_input(tr("lib.name"))
            description = st.text_input(tr("lib.description"))
            if st.form_submit_button(tr("lib.create")):
                attempt(library.create_collection, conn, user, name, description)

colls = library.collections(conn, user)
if not colls:
    st.info(tr("lib.none"))
for c in colls:
    with st.expander(f"**{c['name']}** · " + tr("lib.clips", n=c["clips"]), expanded=not curator):
        if c["description"]:
            st.caption(c["description"])
        for clip in library.clips(conn, user, c["id"]):
            label = tr("lib.good") if clip["example"] == "good" else tr("lib.bad")
            st.markdown(
                f"**{label}** · {', '.join(clip['items'])} · {clip['call_id']} "
                f"{clock(clip['start'])}–{clock(clip['end'])} · {clip['note'] or ''}"
            )
            if clip["id"] not in encoded:
                encoded[clip["id"]] = library.clip_audio(conn, user, clip)
            if encoded[clip["id"]]:
                st.audio(encoded[clip["id"]], format="audio/ogg")
            for line in clip["lines"]:
                st.caption(f"{clock(line['start'])} · {tr('speaker.' + line['speaker'])}: {line['text']}")
        if curator:
            with st.form(f"add-{c['id']}"):
                st.markdown(f"**{tr('lib.add_clip')}**")
                a, b, d = st.columns(3)
                call_id = a.selectbox(
                    tr("lib.call"), [x["call_id"] for x in review.visible_calls(conn, user)], key=f"call-{c['id']}"
                )
                start = b.number_input(tr("lib.start"), 0.0, 36000.0, 0.0, key=f"start-{c['id']}")
                end = d.number_input(tr("lib.end"), 0.0, 36000.0, 10.0, key=f"end-{c['id']}")
                items = a.text_input(tr("lib.items"), key=f"items-{c['id']}")
                example = b.selectbox(
                    tr("lib.example"), ["good", "bad"], key=f"ex-{c['id']}", format_func=lambda v: tr(f"lib.{v}")
                )
                note = d.text_input(tr("lib.note"), key=f"note-{c['id']}")
                if st.form_submit_button(tr("lib.add")):
                    attempt(
                        library.add_clip,
                        conn,
                        user,
                        c["id"],
                        call_id,
                        start,
                        end,
                        [i.strip() for i in items.split(",") if i.strip()],
                        example,
                        note,
                    )
            with st.form(f"share-{c['id']}"):
                audience = st.text_input(tr("lib.share"), key=f"aud-{c['id']}")
                if st.form_submit_button(tr("lib.share_button")):
                    attempt(library.share, conn, user, c["id"], audience.strip())
        if c["clips"]:
            zipped = f"zip-data-{c['id']}"
            if st.button(tr("lib.export"), key=f"zip-make-{c['id']}"):
                st.session_state[zipped] = library.export_zip(conn, user, c["id"])
            if st.session_state.get(zipped):
                st.download_button(
                    tr("lib.download"),
                    st.session_state[zipped],
                    f"{c['name']}.zip",
                    "application/zip",
                    key=f"zip-{c['id']}",
                )
