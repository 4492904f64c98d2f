"""One call: player, transcript by speaker, scorecards with evidence.

What can be done here depends on the role; the service layer decides, the
page only offers: a supervisor changes verdicts, corrects lines, writes
feedback and finalizes; an operator disputes items of a final scorecard.
"""

import mimetypes
from pathlib import Path

import pandas as pd
import streamlit as st

from qa_review.core.domain import AUDIO, TEXT_ONLY
from qa_review.core.errors import QAReviewError
from qa_review.core.permissions import EDITABLE, PUBLISHED
from qa_review.core.scoring import VERDICTS
from qa_review.services import review, self_assessment, tags
from qa_review.ui.common import (
    VERDICT_STYLE,
    attempt,
    clock,
    current_user,
    db,
    error_text,
    evidence_text,
    headed,
    highlighted,
    local_time,
    settings,
    show_flash,
    tr,
)

user = current_user()
conn = db()
wanted = st.query_params.get("call") or st.session_state.get("call_id")
# the chooser lists one month of calls: the asked-for call's, else the one picked on the list
months = review.call_months(conn)
month = st.session_state.get("calls_month") or (months[0] if months else None)
if wanted:
    try:
        month = review.call_meta(conn, user, wanted)["started_at"][:7]
    except QAReviewError:
        pass
calls = review.visible_calls(conn, user, month)
if not calls:
    st.info(tr("calls.empty"))
    st.stop()
by_id = {c["call_id"]: c for c in calls}
ids = list(by_id)

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
    detail = review.call_for(conn, user, call_id)
except QAReviewError as e:
    st.error(error_text(e))
    st.stop()
call, transcript, asr, cards = detail["call"], detail["transcript"], detail["asr"], detail["scorecards"]
moved = detail.get("moved") or {}
is_audio = call["kind"] == AUDIO
is_reviewer = user.role == "supervisor"

st.title(call_id)
st.caption(
    tr(
        "call.meta",
        operator=call["operator"],
        started=local_time(call["started_at"]),
        channel=tr(f"channel.{call['channel']}"),
    )
    + (f" · {call['direction']}" if call["direction"] else "")
    + (f" · {', '.join(call['tags'])}" if call["tags"] else "")
)

seek_key, mark_key = f"seek:{call_id}", f"mark:{call_id}"


def seek(at: float, span=None) -> None:
    st.session_state[seek_key] = at
    st.session_state[mark_key] = span


show_flash()

if user.role in ("supervisor", "trainer"):
    with st.expander(tr("tags.edit"), expanded=False), st.form(f"tags-{call_id}"):
        offered = sorted(set(tags.known_tags(conn, user)) | set(call["tags"]))
        chosen = st.multiselect(
            tr("col.tags"), offered, default=call["tags"], accept_new_options=True, key=f"tags-pick-{call_id}"
        )
        st.caption(tr("tags.help"))
        if st.form_submit_button(tr("review.save")):
            attempt(tags.set_tags, conn, user, call_id, chosen, success=tr("tags.saved"))

if is_audio:
    path = call["source_path"]
    if call.get("audio_removed_at"):
        st.info(tr("call.audio_removed", date=local_time(call["audio_removed_at"])[:10]))
    elif path and Path(path).exists():
        start = st.session_state.get(seek_key, 0)
        st.audio(path, format=mimetypes.guess_type(path)[0] or "audio/wav", start_time=int(start), autoplay=bool(start))
    else:
        st.warning(tr("call.audio_missing", path=path))
elif call["kind"] == TEXT_ONLY:
    st.caption(tr("call.text_only"))

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
        if asr and asr.get("coverage"):
            st.caption(
                tr("call.coverage")
                + " · ".join(
                    f"{tr(f'speaker.{sp}')} {v['covered_s'] / v['speech_s']:.0%}"
                    if v["speech_s"]
                    else f"{tr(f'speaker.{sp}')} —"
                    for sp, v in asr["coverage"].items()
                )
            )
        for flag in (asr or {}).get("flags", []):
            st.warning(tr(f"flag.{flag['code']}", detail=flag["detail"]))
        if transcript.unheard:
            with st.expander(tr("call.unheard", n=len(transcript.unheard)), expanded=is_reviewer):
                for k, u in enumerate(transcript.unheard):
                    c_play, c_what = st.columns([2.2, 8.8], vertical_alignment="center")
                    if is_audio:
                        c_play.button(f"▶ {clock(u.start)}", key=f"unheard-{k}", on_click=seek, args=(u.start,))
                    c_what.write(
                        tr(
                            "call.unheard_span",
                            speaker=tr(f"speaker.{u.speaker}"),
                            start=clock(u.start),
                            end=clock(u.end),
                        )
                    )
        roles = transcript.diarization
        if roles is not None:
            conf = f"{roles.confidence:.2f}".replace(".", ",")
            if roles.corrected_by:
                st.info(tr("call.roles_corrected", user=roles.corrected_by))
            elif all(s.speaker == "mixed" for s in transcript.segments):
                st.warning(tr("call.roles_one_voice"))
            elif roles.confidence >= settings().mono_min_confidence:
                st.caption(tr("call.roles_recovered", conf=conf))
            else:
                st.warning(tr("call.roles_uncertain", conf=conf))
            if roles.cues and not roles.corrected_by:
                with st.expander(tr("call.roles_why")):
                    for cue in roles.cues:
                        st.caption(
                            tr(
                                f"cue.{cue['kind']}",
                                role=tr(f"speaker.{cue['role']}"),
                                phrase=cue["phrase"],
                                at=clock(cue["at"]) if cue["at"] is not None else "",
                                direction=tr(f"cue.direction.{cue['phrase'] or 'unknown'}"),
                            )
                        )
        colour = {"operator": "blue", "client": "orange", "mixed": "violet"}
        mark = st.session_state.get(mark_key)
        for i, seg in enumerate(transcript.segments):
            c_time, c_who, c_text = st.columns([2.2, 1.8, 7], vertical_alignment="center")
            if is_audio:
                c_time.button(
                    f"▶ {clock(seg.start)}",
                    key=f"seg-{i}",
                    on_click=seek,
                    args=(seg.start,),
                    help=tr("call.play_from", t=clock(seg.start)),
                )
            elif call["kind"] == TEXT_ONLY:
                c_time.write(clock(seg.start))
            else:
                c_time.write(local_time(call["started_at"], seg.start))
            who = f":{colour.get(seg.speaker, 'gray')}[**{tr(f'speaker.{seg.speaker}')}**]"
            if i in moved:
                c_who.markdown(who + " ✎", help=tr("call.line_moved", was=tr(f"speaker.{moved[i]}")))
            elif roles is not None and not roles.corrected_by and seg.speaker != "mixed":
                c_who.markdown(who + " ≈", help=tr("call.line_recovered"))
            else:
                c_who.markdown(who)
            c_text.markdown(highlighted(seg, mark))
        if is_reviewer:
            with st.expander(tr("review.correct")):
                with st.form(f"correct-{call_id}"):
                    line = st.selectbox(
                        tr("review.line"),
                        range(len(transcript.segments)),
                        format_func=lambda k: (
                            f"{clock(transcript.segments[k].start)} {transcript.segments[k].text[:60]}"
                        ),
                    )
                    text = st.text_area(tr("review.new_text"), key=f"correct-text-{call_id}")
                    if st.form_submit_button(tr("review.save")):
                        attempt(review.correct_segment, conn, user, call_id, line, text, success=tr("review.saved"))
            if is_audio and transcript.source == "asr":
                with st.expander(tr("review.speakers"), expanded=roles is not None and not roles.corrected_by):
                    st.caption(tr("review.speakers_help"))
                    if any(s.speaker in ("operator", "client") for s in transcript.segments):
                        if st.button(tr("review.swap_roles"), key=f"swap-{call_id}"):
                            attempt(
                                review.swap_roles,
                                conn,
                                user,
                                call_id,
                                settings=settings(),
                                success=tr("review.speakers_saved"),
                            )
                    with st.form(f"move-{call_id}"):
                        line_no = st.selectbox(
                            tr("review.line"),
                            range(len(transcript.segments)),
                            format_func=lambda k: (
                                f"{clock(transcript.segments[k].start)} "
                                f"{tr(f'speaker.{transcript.segments[k].speaker}')}: "
                                f"{transcript.segments[k].text[:50]}"
                            ),
                        )
                        to = st.selectbox(
                            tr("review.move_to"), ["operator", "client"], format_func=lambda sp: tr(f"speaker.{sp}")
                        )
                        if st.form_submit_button(tr("review.move_line")):
                            attempt(
                                review.move_line,
                                conn,
                                user,
                                call_id,
                                line_no,
                                to,
                                settings=settings(),
                                success=tr("review.speakers_saved"),
                            )
            with st.expander(tr("review.add_line"), expanded=bool(transcript.unheard)):
                st.caption(tr("review.add_line_help"))
                first = transcript.unheard[0] if transcript.unheard else None
                with st.form(f"add-line-{call_id}"):
                    speakers = (
                        ["operator", "client"] if any(s.speaker != "mixed" for s in transcript.segments) else ["mixed"]
                    )
                    who = st.selectbox(
                        tr("review.line_speaker"),
                        speakers,
                        format_func=lambda sp: tr(f"speaker.{sp}"),
                        index=speakers.index(first.speaker) if first and first.speaker in speakers else 0,
                    )
                    c1, c2 = st.columns(2)
                    t0 = c1.number_input(
                        tr("review.line_start"), min_value=0.0, step=0.1, value=float(first.start) if first else 0.0
                    )
                    t1 = c2.number_input(
                        tr("review.line_end"), min_value=0.0, step=0.1, value=float(first.end) if first else 1.0
                    )
                    said = st.text_area(tr("review.new_text"), key=f"add-text-{call_id}")
                    if st.form_submit_button(tr("review.save")):
                        attempt(review.add_line, conn, user, call_id, who, t0, t1, said, success=tr("review.saved"))

with right:
    if user.role == "operator":
        # blind: the operator's own verdicts first, before any scorecard is shown to them
        for form in self_assessment.forms(conn, user, call_id):
            with (
                st.expander(tr("self.title", id=form.checklist_id), expanded=not form.mine),
                st.form(f"self-{form.scorecard_id}"),
            ):
                st.caption(tr("self.help"))
                given = {
                    item_id: st.radio(
                        title,
                        ["pass", "fail", "na"],
                        index=["pass", "fail", "na"].index(form.mine[item_id]) if item_id in form.mine else None,
                        format_func=lambda v: tr(f"verdict.{v}"),
                        horizontal=True,
                        key=f"self-{form.scorecard_id}-{item_id}",
                    )
                    for item_id, title in form.items
                }
                note = st.text_input(tr("self.comment"), value=form.comment or "", key=f"self-note-{form.scorecard_id}")
                if st.form_submit_button(tr("self.submit")):
                    attempt(
                        self_assessment.submit,
                        conn,
                        user,
                        form.scorecard_id,
                        {k: v for k, v in given.items() if v},
                        note or None,
                        success=tr("self.saved"),
                    )
    st.subheader(tr("call.scorecard"))
    if not cards:
        st.info(tr("call.no_scorecard"))
    for n, (row, sc, disputes) in enumerate(cards):
        # A button press reruns the script, which reads the scorecard afresh: the
        # save must carry the revision the person was looking at (the previous
        # run's), or a change someone else made meanwhile would be overwritten unseen.
        seen = st.session_state.get(f"seen-rev-{row['id']}", row["revision"])
        st.session_state[f"seen-rev-{row['id']}"] = row["revision"]
        st.caption(
            tr("call.checklist", id=sc.checklist_id, version=sc.checklist_version)
            + " · "
            + tr("review.status", status=tr(f"status.{row['status']}"), revision=row["revision"])
        )
        st.metric(tr("call.score"), "—" if sc.score is None else f"{sc.score:.1f}")
        both = self_assessment.side_by_side(conn, user, row["id"])
        if both is not None:
            with st.expander(tr("self.compare"), expanded=user.role == "operator"):
                st.dataframe(
                    headed(
                        both.assign(
                            **{c: both[c].map(lambda v: tr(f"verdict.{v}") if v else "") for c in ("own", "final")}
                        )
                    ),
                    hide_index=True,
                    key=f"self-compare-{row['id']}",
                )
        if sc.critical_failed:
            st.error(tr("call.critical"))
        if sc.provisional:
            st.warning(tr("call.provisional"))
        if row["feedback"] and not is_reviewer:
            st.info(f"**{tr('review.feedback')}:** {row['feedback']}")
        editable = is_reviewer and row["status"] in EDITABLE
        by_item = {d["item_id"]: d for d in disputes}
        for item in sc.items:
            hue, icon = VERDICT_STYLE[item.verdict]
            label = f":{hue}[{icon} {tr(f'verdict.{item.verdict}')}] · {item.title}"
            if item.critical:
                label += f" · :red[{tr('call.critical_item')}]"
            d = by_item.get(item.item_id)
            if d:
                label += " · " + tr("dispute.state", status=tr(f"dispute.{d['status']}"))
            with st.expander(label, expanded=item.verdict in ("fail", "review")):
                for k, ev in enumerate(item.evidence):
                    ev_text, ev_play = st.columns([5, 2.2], vertical_alignment="center")
                    ev_text.caption(evidence_text(ev))
                    if ev.start is not None:
                        span = (ev.speaker, ev.start, ev.end if ev.end is not None else ev.start)
                        ev_play.button(
                            f"▶ {clock(ev.start)}" if is_audio else tr("call.show_evidence"),
                            key=f"ev-{n}-{item.item_id}-{k}",
                            on_click=seek,
                            args=(ev.start if is_audio else 0, span),
                        )
                if d:
                    st.caption(tr("dispute.operator_reason", reason=d["reason"]))
                    if d["reply"]:
                        st.caption(tr("dispute.reply", reply=d["reply"]))
                if editable:
                    with st.form(f"verdict-{n}-{item.item_id}"):
                        verdict = st.selectbox(
                            tr("review.verdict"),
                            VERDICTS,
                            index=VERDICTS.index(item.verdict),
                            format_func=lambda v: tr(f"verdict.{v}"),
                            key=f"v-{n}-{item.item_id}",
                        )
                        comment = st.text_input(tr("review.comment"), key=f"c-{n}-{item.item_id}")
                        if st.form_submit_button(tr("review.save")):
                            attempt(
                                review.set_verdict,
                                conn,
                                user,
                                row["id"],
                                item.item_id,
                                verdict,
                                comment,
                                seen,
                                success=tr("review.saved"),
                            )
        if editable:
            with st.form(f"feedback-{n}"):
                feedback = st.text_area(tr("review.feedback"), value=row["feedback"] or "", key=f"fb-{n}")
                if st.form_submit_button(tr("review.save")):
                    attempt(
                        review.set_feedback,
                        conn,
                        user,
                        row["id"],
                        feedback,
                        seen,
                        success=tr("review.saved"),
                    )
            if st.button(tr("review.finalize"), key=f"finalize-{n}", type="primary"):
                attempt(review.finalize, conn, user, row["id"], seen, success=tr("review.finalized"))
        if user.role == "operator" and row["status"] in PUBLISHED:
            until = review.dispute_deadline(row, settings())
            open_items = [i for i in sc.items if i.item_id not in by_item]
            if open_items:
                st.markdown(f"**{tr('dispute.title')}** · " + tr("dispute.window", date=local_time(until.isoformat())))
                chosen = st.multiselect(
                    tr("dispute.items"),
                    [i.item_id for i in open_items],
                    format_func=lambda i, sc=sc: sc.item(i).title,
                    key=f"d-items-{n}",
                )
                with st.form(f"dispute-{n}"):
                    reasons = {
                        i: st.text_input(tr("dispute.reason", item=sc.item(i).title), key=f"d-reason-{n}-{i}")
                        for i in chosen
                    }
                    if st.form_submit_button(tr("dispute.submit")):
                        attempt(
                            review.open_disputes,
                            conn,
                            user,
                            row["id"],
                            reasons,
                            settings=settings(),
                            success=tr("dispute.sent"),
                        )

if user.role != "operator" and cards:
    with st.expander(tr("review.audit")):
        log = review.audit_for_call(conn, user, call_id)
        if log:
            st.dataframe(
                headed(
                    pd.DataFrame(
                        [{k: e[k] for k in ("at", "username", "action", "target", "old", "new", "reason")} for e in log]
                    )
                ),
                hide_index=True,
            )
