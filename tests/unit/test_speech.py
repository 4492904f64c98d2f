"""The energy speech detector and span arithmetic behind the speech-loss guard."""

import numpy as np
import pytest

from qa_review.core import speech

RATE = 16000


def _channel(spans, seconds=10.0, level=0.1, hiss=0.001, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, hiss, int(seconds * RATE)).astype(np.float32)
    t = np.arange(len(x)) / RATE
    for s, e in spans:
        on = (t >= s) & (t < e)
        x[on] += level * np.sin(2 * np.pi * 440 * t[on])
    return x


def test_detects_each_stretch_of_speech_with_its_bounds():
    found = speech.detect(_channel([(1.0, 2.0), (5.0, 6.5)]), RATE)
    assert len(found) == 2
    for (s, e), (ws, we) in zip(found, [(1.0, 2.0), (5.0, 6.5)]):
        assert s == pytest.approx(ws, abs=0.06) and e == pytest.approx(we, abs=0.06)


def test_a_quiet_speaker_is_still_found_over_the_line_noise():
    # -40 dBFS speech over -60 dBFS hiss: what a VAD tuned on loud calls misses
    found = speech.detect(_channel([(3.0, 4.0)], level=0.014), RATE)
    assert len(found) == 1 and found[0][0] == pytest.approx(3.0, abs=0.06)


def test_the_other_sides_echo_is_not_speech():
    other = _channel([(2.0, 4.0)], level=0.3, seed=1)
    own = _channel([(7.0, 8.0)]) + 0.02 * other  # the far side leaking in at -24 dB
    found = speech.detect(own, RATE, other)
    assert len(found) == 1 and found[0][0] == pytest.approx(7.0, abs=0.06)


def test_silence_holds_no_speech():
    assert speech.detect(_channel([]), RATE) == []
    assert speech.detect(np.zeros(0, np.float32), RATE) == []


@pytest.mark.parametrize(
    "spans, words, min_s, expected",
    [
        ([(0.0, 5.0)], [(0.2, 4.8)], 0.7, []),  # all heard
        ([(0.0, 5.0)], [], 0.7, [(0.0, 5.0)]),  # nothing heard
        ([(0.0, 5.0)], [(0.0, 1.0)], 0.7, [(1.35, 5.0)]),  # the end missed
        ([(0.0, 1.0)], [], 1.5, []),  # shorter than the guard's minimum
        ([(0.0, 1.0), (3.0, 3.5)], [(0.2, 0.5)], 0.4, [(3.0, 3.5)]),
    ],
)
def test_missed_is_detected_speech_no_word_accounts_for(spans, words, min_s, expected):
    got = speech.missed(spans, words, min_s)
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g == pytest.approx(e)


def test_intersect_and_subtract_are_consistent():
    a, b = [(0.0, 4.0), (6.0, 8.0)], [(1.0, 2.0), (3.0, 7.0)]
    inside = speech.intersect_length(a, b)
    outside = sum(e - s for s, e in speech.subtract(a, b))
    assert inside == pytest.approx(3.0)  # 1-2, 3-4 and 6-7
    assert inside + outside == pytest.approx(6.0)


@pytest.mark.parametrize(
    "word, spans, expected",
    [
        ((13.34, 17.58), [(10.0, 11.0), (17.16, 17.9)], (17.16, 17.58)),  # stretched back over silence
        ((2.0, 2.6), [(5.0, 6.0)], (2.0, 2.6)),  # an ordinary word is left alone
        ((1.0, 4.0), [], (1.0, 4.0)),  # no speech found: nothing to snap to
        ((1.0, 4.0), [(0.5, 1.5), (3.5, 6.0)], (1.0, 4.0)),  # speech at both ends: it may be real
    ],
)
def test_snap_trims_words_the_aligner_stretched_over_silence(word, spans, expected):
    assert speech.snap(*word, spans) == pytest.approx(expected)
