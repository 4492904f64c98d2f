"""Telling two voices apart from embeddings: pure, on synthetic embeddings with known voices."""

import numpy as np

from qa_review.core import diarization as d
from qa_review.core.domain import MIXED, VOICE_1, VOICE_2, Segment, Transcript, Word


def unit(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


RNG = np.random.default_rng(7)
A, B = unit(RNG.normal(size=32)), unit(RNG.normal(size=32))


def voice(centre, n, spread=0.25):
    return unit(centre + spread * RNG.normal(size=(n, 32)) / np.sqrt(32))


def test_windows_are_centred_on_the_speech_a_centre_every_so_often():
    words = [(0.0, 0.2), (0.25, 0.4), (5.0, 5.4)]
    spans = d.speech_spans(words)
    assert spans == [(0.0, 0.9), (4.4, 6.0)]  # the second word is under the first window's centre
    assert all(b - a <= d.SPAN_S for a, b in spans)


def test_two_voices_in_turns_are_told_apart():
    # 6 turns of 5 words, voices alternating; one window per word
    words, truth, emb = [], [], []
    t = 0.0
    for turn in range(6):
        who = turn % 2
        e = voice(A if who == 0 else B, 5)
        for k in range(5):
            words.append((t, t + 0.3))
            truth.append(who)
            emb.append(e[k])
            t += 0.4
        t += 0.6
    split = d.split_words(words, [(a - 0.1, b + 0.1) for a, b in words], np.array(emb))
    labels = np.array(split.labels)
    assert (labels == truth).all() or (labels != truth).all()
    assert split.separation > 0.5


def test_one_voice_barely_separates():
    words = [(k * 0.4, k * 0.4 + 0.3) for k in range(30)]
    split = d.split_words(words, [(a, b) for a, b in words], voice(A, 30, spread=0.15))
    assert split.separation < 0.05


def test_an_odd_window_does_not_take_a_voice_of_its_own():
    # a click unlike everything: one start alone would make it a "voice"
    emb = np.vstack([voice(A, 20), voice(B, 20), unit(-A - B)[None]])
    centroids = d.two_voices(emb)
    sims = np.array([A, B]) @ centroids.T
    assert sims.max(axis=1).min() > 0.9  # both real voices are found


def test_a_weak_contrary_word_inside_a_stretch_keeps_its_neighbours_voice():
    words = [(k * 0.3, k * 0.3 + 0.25) for k in range(9)]  # one breath: no pause between the words
    emb = voice(A, 9, spread=0.05)
    emb[4] = unit(0.55 * A + 0.45 * B)  # slightly nearer the other voice
    emb = np.vstack([emb, voice(B, 9, spread=0.05)])
    later = [(10 + k * 0.3, 10 + k * 0.3 + 0.25) for k in range(9)]
    split = d.split_words(words + later, words + later, emb)
    assert len(set(split.labels[:9])) == 1 and split.labels[0] != split.labels[-1]


def test_a_mono_transcript_becomes_two_voices_turns():
    def w(t, s):
        return Word(t, t + 0.3, " " + s)

    ws = [w(0.0, "клиника"), w(0.4, "здоровье"), w(2.0, "да"), w(2.4, "хочу"), w(4.0, "конечно")]
    mixed = Transcript("m", (Segment(MIXED, 0.0, 4.3, "...", tuple(ws)),), (), 5.0)
    emb = np.vstack([voice(A, 2), voice(B, 2), voice(A, 1)])
    spans = [(x.start - 0.1, x.end + 0.1) for x in ws]
    t = d.split_transcript(mixed, spans, emb)
    assert [s.speaker for s in t.segments] == [VOICE_1, VOICE_2, VOICE_1]
    assert t.segments[1].text == "да хочу"
    assert t.diarization.minority_share == 0.4 and t.diarization.separation > 0.5
    assert {a.speaker for a in t.activity} == {VOICE_1, VOICE_2}
