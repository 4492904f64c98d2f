"""Metrics on hand-built transcripts with known answers."""

import pytest

from qa_review.core.domain import Interval, Segment, Transcript, Word
from qa_review.core.metrics import compute


def call(activity, duration=60.0, words_per_turn=None):
    acts = tuple(Interval(sp, s, e) for sp, s, e in activity)
    segs = tuple(
        Segment(
            sp, s, e, "слово " * (words_per_turn or 1), tuple(Word(s, e, "слово") for _ in range(words_per_turn or 1))
        )
        for sp, s, e in activity
    )
    return Transcript("c", segs, acts, duration)


def test_silence_overtalk_and_talk_share():
    t = call(
        [
            ("operator", 1.0, 5.0),
            ("client", 6.0, 10.0),
            ("operator", 9.0, 12.0),  # starts while the client still talks: 1 s overtalk, an interruption
            ("client", 42.0, 44.0),  # 30 s of hold before this
        ]
    )
    m = compute(t, written=False)
    assert m["longest_silence_s"].value == 30.0
    assert (m["longest_silence_s"].start, m["longest_silence_s"].end) == (12.0, 42.0)
    assert m["silence_share"].value == pytest.approx((1 + 30) / 43, abs=1e-3)
    assert m["overtalk_s"].value == 1.0
    assert m["interruptions"].value == 1
    assert m["operator_talk_share"].value == pytest.approx(7 / 13, abs=1e-3)
    assert m["first_response_s"].value == 1.0
    assert m["duration_s"].value == 60.0


def test_client_starting_over_the_operator_is_not_an_operator_interruption():
    t = call([("operator", 0.0, 5.0), ("client", 4.0, 6.0), ("operator", 6.5, 8.0)])
    assert compute(t, written=False)["interruptions"].value == 0


def test_words_per_minute_uses_speaking_time():
    t = call([("operator", 0.0, 30.0), ("client", 31.0, 40.0)], words_per_turn=60)
    assert compute(t, written=False)["operator_words_per_min"].value == 120.0


def test_mono_has_no_speaker_metrics():
    t = call([("mixed", 0.0, 5.0), ("mixed", 7.0, 9.0)])
    m = compute(t, written=False)
    assert m["longest_silence_s"].value == 2.0
    for k in ("operator_talk_share", "overtalk_s", "interruptions", "first_response_s"):
        assert m[k].value is None and "mono" in m[k].note


def test_written_reply_waits():
    segs = (
        Segment("client", 0, 0, "Здравствуйте"),
        Segment("client", 30, 30, "Можно записаться?"),  # still the same wait
        Segment("operator", 120, 120, "Да"),
        Segment("client", 200, 200, "А в субботу?"),
        Segment("operator", 1100, 1100, "Есть время"),
    )
    m = compute(Transcript("w", segs, (), 1100, source="written"), written=True)
    assert m["first_response_s"].value == 120
    assert m["longest_reply_wait_s"].value == 900
    assert (m["longest_reply_wait_s"].start, m["longest_reply_wait_s"].end) == (200, 1100)
    assert m["overtalk_s"].value is None  # audio-only
