"""Scorecards from hand-built transcripts: verdicts, evidence, totals."""

import pytest

from qa_review.core.checklists import parse
from qa_review.core.domain import Interval, Segment, Transcript, Word
from qa_review.core.scoring import FAIL, NA, PASS, REVIEW, score


def seg(speaker, start, text, step=0.4):
    words = tuple(Word(start + i * step, start + i * step + 0.3, " " + w) for i, w in enumerate(text.split()))
    return Segment(speaker, start, words[-1].end, text, words)


def transcript(*segs, duration=60.0, call_id="c1"):
    acts = tuple(Interval(s.speaker, s.start, s.end) for s in segs)
    return Transcript(call_id, tuple(segs), acts, duration)


CHECKLIST = parse("""
id: t
title: T
version: 3
pass_mark: 80
sections:
  - id: s
    items:
      - id: greet
        weight: 2
        check: {kind: phrase, within_first_s: 10, any: ["клиника здоровье"]}
      - id: slot
        applies_if: {speaker: client, any: ["записаться"]}
        check: {kind: phrase, any: ["вам удобно"]}
      - id: no_shift
        critical: true
        check: {kind: forbidden, any: ["позвоните сами"]}
      - id: hold
        check: {kind: metric, metric: longest_silence_s, max: 30}
      - id: empathy
        check: {kind: manual}
""").checklist

GOOD = transcript(
    seg("operator", 0.5, "Клиника Здоровье здравствуйте"),
    seg("client", 3.0, "хочу записаться к терапевту"),
    seg("operator", 6.0, "завтра в десять вам удобно"),
    seg("client", 9.0, "да"),
)


def test_good_call_passes_with_evidence():
    sc = score(GOOD, CHECKLIST, written=False)
    v = {i.item_id: i.verdict for i in sc.items}
    assert v == {"greet": PASS, "slot": PASS, "no_shift": PASS, "hold": PASS, "empathy": REVIEW}
    greet = sc.item("greet").evidence[0]
    assert (greet.kind, greet.words, greet.speaker, greet.start) == ("found", "Клиника Здоровье", "operator", 0.5)
    slot = sc.item("slot").evidence
    assert slot[0].words == "вам удобно" and "applies because" in slot[-1].text
    assert sc.score == 100.0 and sc.provisional and sc.passed
    assert sc.checklist_version == 3


def test_phrase_outside_its_window_fails():
    late = transcript(seg("operator", 20.0, "клиника здоровье"), duration=30)
    sc = score(late, CHECKLIST, written=False)
    assert sc.item("greet").verdict == FAIL
    assert "in the first 10 s" in sc.item("greet").evidence[0].text


def test_phrase_said_by_the_other_speaker_does_not_count():
    t = transcript(seg("client", 0.5, "это клиника здоровье"), duration=10)
    assert score(t, CHECKLIST, written=False).item("greet").verdict == FAIL


def test_condition_not_met_is_na_and_leaves_the_score():
    t = transcript(seg("operator", 0.5, "клиника здоровье"), seg("client", 3.0, "сколько стоит"))
    sc = score(t, CHECKLIST, written=False)
    assert sc.item("slot").verdict == NA
    assert sc.score == 100.0  # greet + no_shift + hold, all passed


def test_failed_critical_item_zeroes_the_score():
    t = transcript(seg("operator", 0.5, "клиника здоровье позвоните сами доктору"))
    sc = score(t, CHECKLIST, written=False)
    ev = sc.item("no_shift").evidence[0]
    assert sc.item("no_shift").verdict == FAIL and ev.words == "позвоните сами"
    assert sc.score == 0.0 and sc.critical_failed and sc.passed is False


def test_score_is_weighted_share_of_decided_items():
    t = transcript(seg("client", 0.5, "записаться хочу"), seg("operator", 2.0, "вам удобно завтра"))
    sc = score(t, CHECKLIST, written=False)
    # greet (2) fails; slot (1), no_shift (1), hold (1) pass: 3 of 5
    assert sc.score == 60.0 and sc.passed is False


def test_borderline_match_goes_to_review():
    t = transcript(seg("operator", 0.5, "клиника здаровье"))  # close, not exact
    strict = parse(CHECKLIST_YAML_WITH_THRESHOLD).checklist
    sc = score(t, strict, written=False)
    assert sc.item("greet").verdict == REVIEW and sc.item("greet").evidence[0].kind == "borderline"


CHECKLIST_YAML_WITH_THRESHOLD = """
id: strict
title: Strict
version: 1
matching: {threshold: 0.99, review_below: 0.7}
sections:
  - id: s
    items:
      - id: greet
        check: {kind: phrase, any: ["клиника здоровье"]}
"""


def test_item_threshold_overrides_the_checklist():
    text = CHECKLIST_YAML_WITH_THRESHOLD.replace(
        'any: ["клиника здоровье"]', 'any: ["клиника здоровье"], threshold: 0.8'
    )
    t = transcript(seg("operator", 0.5, "клиника здаровье"))
    assert score(t, parse(text).checklist, written=False).item("greet").verdict == PASS


def test_long_hold_fails_the_metric_with_its_span():
    t = transcript(seg("operator", 0.5, "клиника здоровье подождите"), seg("operator", 45.0, "спасибо за ожидание"))
    item = score(t, CHECKLIST, written=False).item("hold")
    assert item.verdict == FAIL
    # "подождите" ends at 1.6 s, "спасибо" starts at 45.0 s
    assert item.evidence[0].value == pytest.approx(43.4) and item.evidence[0].start == pytest.approx(1.6)


def test_forbidden_phrase_on_mono_goes_to_review():
    t = transcript(seg("mixed", 0.5, "клиника здоровье позвоните сами"))
    sc = score(t, CHECKLIST, written=False)
    assert sc.item("greet").verdict == PASS
    assert sc.item("no_shift").verdict == REVIEW
    assert not sc.critical_failed


def test_only_manual_items_undecided_leaves_no_score():
    only_manual = parse("""
id: m
title: M
version: 1
sections: [{id: s, items: [{id: e, check: {kind: manual}}]}]
""").checklist
    sc = score(GOOD, only_manual, written=False)
    assert sc.score is None and sc.provisional


def test_written_conversation_uses_turns_and_reply_waits():
    chat = parse("""
id: chat
title: Chat
version: 1
sections:
  - id: s
    items:
      - id: greet
        check: {kind: phrase, within_first_turns: 1, all: ["здравствуйте", "клиника здоровье"]}
      - id: wait
        check: {kind: metric, metric: longest_reply_wait_s, max: 600}
      - id: hold
        check: {kind: metric, metric: longest_silence_s, max: 30}
""").checklist
    t = Transcript(
        "w",
        (
            Segment("client", 0, 0, "Можно записаться?"),
            Segment("operator", 70, 70, "Здравствуйте! Клиника «Здоровье», Анна."),
            Segment("client", 100, 100, "А в субботу?"),
            Segment("operator", 1000, 1000, "Есть время в 10:00"),
        ),
        (),
        1000,
        source="written",
    )
    sc = score(t, chat, written=True)
    assert sc.item("greet").verdict == PASS
    assert sc.item("wait").verdict == FAIL and sc.item("wait").evidence[0].value == 900
    assert sc.item("hold").verdict == NA


def test_any_of_several_conditions_makes_an_item_apply():
    c = parse("""
id: c
title: C
version: 1
sections:
  - id: s
    items:
      - id: confirm
        applies_if:
          - {speaker: client, any: ["записаться"]}
          - {speaker: operator, any: ["записываю вас"]}
        check: {kind: phrase, any: ["до свидания"]}
""").checklist
    by_operator = transcript(seg("client", 0.5, "можно в субботу"), seg("operator", 3.0, "записываю вас до свидания"))
    item = score(by_operator, c, written=False).item("confirm")
    assert item.verdict == PASS and "applies because" in item.evidence[-1].text
    neither = transcript(seg("client", 0.5, "сколько стоит"), seg("operator", 3.0, "до свидания"))
    na = score(neither, c, written=False).item("confirm")
    assert na.verdict == NA and len(na.evidence) == 2


# --- speech the recognizer did not hear -----------------------------------------


def _with_unheard(t, *spans):
    from dataclasses import replace

    return replace(t, unheard=tuple(Interval(sp, s, e) for sp, s, e in spans))


def test_a_phrase_missing_where_the_operator_spoke_unheard_goes_to_review():
    t = _with_unheard(
        transcript(seg("client", 3.0, "хочу записаться"), seg("operator", 6.0, "вам удобно")), ("operator", 0.5, 2.5)
    )
    item = score(t, CHECKLIST, written=False).item("greet")
    assert item.verdict == REVIEW
    note = item.evidence[0]
    assert note.code == "unheard_speech" and (note.start, note.end) == (0.5, 2.5) and note.speaker == "operator"


@pytest.mark.parametrize("span", [("client", 0.5, 2.5), ("operator", 20.0, 22.0)])
def test_unheard_speech_of_the_other_speaker_or_outside_the_window_changes_nothing(span):
    t = _with_unheard(transcript(seg("client", 3.0, "хочу записаться"), seg("operator", 6.0, "вам удобно")), span)
    assert score(t, CHECKLIST, written=False).item("greet").verdict == FAIL


def test_unheard_speech_never_overturns_a_found_phrase():
    t = _with_unheard(GOOD, ("operator", 1.0, 2.0))
    assert score(t, CHECKLIST, written=False).item("greet").verdict == PASS


# --- call variables ----------------------------------------------------------------

NAMED = parse("""
id: named
title: N
version: 1
sections:
  - id: s
    items:
      - id: intro
        check: {kind: phrase, within_first_s: 10, any: ["меня зовут", "{operator_name}"]}
      - id: clinic
        check: {kind: phrase, within_first_s: 10, all: ["{clinic}"]}
""").checklist
HELLO = transcript(seg("operator", 0.5, "Клиника Здоровье Ольга здравствуйте"))


def test_variables_are_filled_per_call():
    sc = score(HELLO, NAMED, written=False, variables={"operator_name": "Ольга", "clinic": "Клиника Здоровье"})
    assert sc.item("intro").verdict == PASS and sc.item("intro").evidence[0].phrase == "Ольга"
    assert sc.item("clinic").verdict == PASS
    other = score(HELLO, NAMED, written=False, variables={"operator_name": "Анна", "clinic": "Клиника Здоровье"})
    assert other.item("intro").verdict == FAIL  # a different operator's name is not theirs


def test_an_unknown_variable_sends_the_item_to_review_not_to_fail():
    sc = score(HELLO, NAMED, written=False, variables={})
    for item_id in ("intro", "clinic"):
        item = sc.item(item_id)
        assert item.verdict == REVIEW
        assert any(e.code == "unresolved_variable" for e in item.evidence)
    # another phrase of an `any` list that is found still decides
    said = transcript(seg("operator", 0.5, "здравствуйте меня зовут Ольга"))
    assert score(said, NAMED, written=False, variables={}).item("intro").verdict == PASS


def test_a_checklist_naming_an_unknown_variable_is_refused_with_its_line():
    from qa_review.core.errors import ChecklistError

    text = (
        "id: x\ntitle: X\nversion: 1\nsections:\n  - id: s\n    items:\n      - id: i\n"
        '        check: {kind: phrase, any: ["{operator}"]}\n'
    )
    with pytest.raises(ChecklistError, match=r"x.yaml:8: .*unknown call variable \{operator\}"):
        parse(text, "x.yaml")
