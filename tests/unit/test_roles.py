"""Which voice of a mono call is the operator: cues, direction, confidence; and reviewers' relabelling."""

import pytest

from qa_review.core import roles
from qa_review.core.checklists import parse
from qa_review.core.domain import VOICE_1, VOICE_2, Diarization, Interval, Segment, Transcript, Word


def seg(speaker, start, text, step=0.4):
    words = tuple(Word(start + i * step, start + i * step + 0.3, " " + w) for i, w in enumerate(text.split()))
    return Segment(speaker, start, words[-1].end, text, words)


def voices(*segs, separation=0.3, minority=0.4):
    acts = tuple(Interval(s.speaker, s.start, s.end) for s in segs)
    return Transcript("m1", tuple(segs), acts, 60.0, diarization=Diarization(separation, minority))


INBOUND = voices(
    seg(VOICE_1, 0.5, "клиника здоровье здравствуйте меня зовут анна чем могу помочь"),
    seg(VOICE_2, 5.0, "здравствуйте я хочу записаться к терапевту"),
    seg(VOICE_1, 9.0, "конечно как к вам обращаться"),
)

OUTBOUND = voices(
    seg(VOICE_1, 0.5, "алло"),
    seg(VOICE_2, 1.5, "добрый день вас беспокоит клиника здоровье администратор анна"),
    seg(VOICE_1, 6.0, "да слушаю"),
    seg(VOICE_2, 8.0, "напоминаем вам о приёме завтра в десять"),
)


def test_inbound_the_voice_with_the_operators_phrases_is_the_operator():
    t = roles.assign(INBOUND, direction="inbound")
    assert [s.speaker for s in t.segments] == ["operator", "client", "operator"]
    assert {a.speaker for a in t.activity} == {"operator", "client"}
    assert t.diarization.confidence > 0.95
    kinds = {(c["kind"], c["role"]) for c in t.diarization.cues}
    assert ("operator_phrase", "operator") in kinds and ("client_phrase", "client") in kinds
    assert ("first_speaker", "operator") in kinds


def test_outbound_the_patient_answers_first_and_is_not_taken_for_the_operator():
    t = roles.assign(OUTBOUND, direction="outbound")
    assert [s.speaker for s in t.segments] == ["client", "operator", "client", "operator"]
    assert t.diarization.confidence > 0.95
    first = next(c for c in t.diarization.cues if c["kind"] == "first_speaker")
    assert (first["role"], first["phrase"]) == ("client", "outbound")


def test_who_speaks_first_alone_is_too_weak_to_trust():
    plain = voices(seg(VOICE_1, 0.5, "да да хорошо"), seg(VOICE_2, 3.0, "понятно спасибо"))
    t = roles.assign(plain, direction="inbound")
    assert t.segments[0].speaker == "operator"
    assert 0.5 < t.diarization.confidence < 0.8
    assert not roles.roles_certain(t, 0.8)
    unknown = roles.assign(plain, direction=None)
    assert unknown.diarization.confidence < t.diarization.confidence


def test_cues_against_the_first_speaker_outweigh_it():
    # inbound, but the patient speaks first (the operator picked up silently)
    t = roles.assign(
        voices(
            seg(VOICE_1, 0.5, "алло алло я хотела бы записаться"),
            seg(VOICE_2, 4.0, "да регистратура клиники чем могу помочь"),
        ),
        direction="inbound",
    )
    assert [s.speaker for s in t.segments] == ["client", "operator"]


def test_a_phrase_both_voices_say_is_no_cue():
    t = voices(seg(VOICE_1, 0.5, "всего доброго"), seg(VOICE_2, 3.0, "всего доброго"))
    assert [c for c in roles.cues(t, direction=None) if c.kind != "first_speaker"] == []


def test_one_voice_is_not_split_whatever_the_words():
    for t in (
        roles.assign(voices(*INBOUND.segments, separation=0.05), direction="inbound"),
        roles.assign(voices(*INBOUND.segments, minority=0.01), direction="inbound"),
    ):
        assert {s.speaker for s in t.segments} == {"mixed"}
        assert {a.speaker for a in t.activity} == {"mixed"}
        assert t.diarization.confidence == pytest.approx(0.5)
        assert not roles.roles_certain(t, 0.8)


def test_voices_barely_apart_lower_the_confidence():
    clear = roles.assign(INBOUND, direction="inbound").diarization.confidence
    close = roles.assign(voices(*INBOUND.segments, separation=0.14), direction="inbound").diarization.confidence
    assert 0.5 < close < clear


def test_stereo_and_written_transcripts_pass_through():
    stereo = Transcript("s1", (seg("operator", 0.5, "клиника здоровье"),), (), 10.0)
    assert roles.assign(stereo, direction="inbound") is stereo
    assert roles.roles_certain(stereo, 0.99)


def test_the_checklists_phrases_of_several_words_become_cues():
    checklist = parse("""
id: c
title: C
version: 1
sections:
  - id: s
    items:
      - id: greet
        check: {kind: phrase, any: ["{clinic} здравствуйте", "добрый день"]}
      - id: short
        check: {kind: phrase, any: ["здравствуйте"]}
      - id: forbidden
        check: {kind: forbidden, any: ["позвоните сами"]}
      - id: slot
        applies_if: {speaker: client, any: ["хочу попасть", "анализ"]}
        check: {kind: phrase, any: ["вам удобно"]}
""").checklist
    op, cl = roles.role_phrases([checklist], {"clinic": "Клиника Здоровье"})
    assert op == ["Клиника Здоровье здравствуйте", "добрый день", "вам удобно"]
    assert cl == ["хочу попасть"]
    t = voices(seg(VOICE_1, 0.5, "да"), seg(VOICE_2, 2.0, "добрый день вам удобно"))
    named = roles.assign(t, direction=None, operator_phrases=op)
    assert named.segments[1].speaker == "operator"


def test_relabel_moves_a_line_and_rebuilds_the_activity():
    t = roles.assign(INBOUND, direction="inbound")
    moved = roles.relabel(t, {1: "operator"})
    assert [s.speaker for s in moved.segments] == ["operator", "operator", "operator"]
    assert {a.speaker for a in moved.activity} == {"operator"}
    swapped = roles.relabel(t, roles.swapped(t))
    assert [s.speaker for s in swapped.segments] == ["client", "operator", "client"]
    assert t.segments[0].words == swapped.segments[0].words
