"""The speech-loss guard and windowed transcription, through transcribe_call."""

import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from qa_review.asr.audio import decode_channels, decode_range, iter_windows
from qa_review.asr.transcribe import AsrOptions, transcribe_call
from qa_review.core.domain import Segment, Word

RATE = 16000


class DeafVadTranscriber:
    """A recognizer whose VAD ignores quiet speech (as Silero did on the calls in
    issue #9): with the VAD on it hears only loud seconds, without it every
    second with sound. One word per second heard, like the suite's fake."""

    model_name = "deaf-vad"

    def __init__(self, options: AsrOptions):
        self.options = options
        self.passes: list[bool] = []

    def transcribe(self, audio, *, vad=True, hotwords=None):
        self.passes.append(vad)
        floor = 0.1 if vad else 0.005
        words = []
        for sec in range(int(np.ceil(len(audio) / RATE))):
            chunk = audio[sec * RATE : (sec + 1) * RATE]
            if chunk.size and float(np.abs(chunk).max()) > floor:
                words.append(Word(sec + 0.1, sec + 0.6, f" слово{sec}", 0.9))
        if not words:
            return [], "ru"
        return [Segment("", words[0].start, words[-1].end, "".join(w.text for w in words), tuple(words))], "ru"


def _write(path: Path, channels: list[np.ndarray]) -> Path:
    pcm = (np.clip(np.stack(channels, axis=1), -1, 1) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(len(channels))
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    return path


def _tone(seconds, spans, level, freq=440.0, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 0.0005, int(seconds * RATE)).astype(np.float32)
    t = np.arange(len(x)) / RATE
    for s, e in spans:
        on = (t >= s) & (t < e)
        x[on] += level * np.sin(2 * np.pi * freq * t[on])
    return x


@pytest.fixture
def call_with_quiet_reply(tmp_path):
    # operator loud at 1-4 s; the client answers loudly at 5-7 s, then
    # quietly (-37 dBFS) at 10-12 s: the reply the VAD drops
    op = _tone(14, [(1, 4)], 0.3)
    cl = _tone(14, [(5, 7)], 0.3, 600, seed=1) + _tone(14, [(10, 12)], 0.02, 600, seed=2)
    return _write(tmp_path / "quiet.wav", [op, cl])


def test_without_the_guard_the_quiet_reply_is_lost_and_reported_unheard(call_with_quiet_reply):
    tr = DeafVadTranscriber(replace(AsrOptions(), guard=False))
    t = transcribe_call("c1", call_with_quiet_reply, tr, ("operator", "client"))
    client = [w for s in t.segments if s.speaker == "client" for w in s.words]
    assert all(w.start < 8 for w in client)
    assert [(u.speaker, round(u.start), round(u.end)) for u in t.unheard] == [("client", 10, 12)]
    cov = t.coverage_of("client")
    assert cov.coverage == pytest.approx(0.5, abs=0.1) and cov.restored_s == 0


def test_the_guard_restores_the_quiet_reply_at_its_time(call_with_quiet_reply):
    tr = DeafVadTranscriber(AsrOptions())
    t = transcribe_call("c1", call_with_quiet_reply, tr, ("operator", "client"))
    late = [w for s in t.segments if s.speaker == "client" for w in s.words if w.start > 8]
    assert late and 9.5 <= late[0].start <= 12 and late[-1].end <= 12.5
    assert t.unheard == ()
    cov = t.coverage_of("client")
    assert cov.coverage > 0.95 and cov.restored_s == pytest.approx(2.0, abs=0.8)
    assert tr.passes.count(False) == 1  # one second pass for the client, none for the operator


def test_chunked_decoding_returns_the_same_samples(tmp_path):
    # 50 s of two tones with pauses: windows of 12 s must tile it exactly
    rng = np.random.default_rng(3)
    x = [
        (_tone(50, [(s, s + 3) for s in range(0, 50, 5)], 0.2) + rng.normal(0, 0.01, 50 * RATE)).astype(np.float32)
        for _ in range(2)
    ]
    path = _write(tmp_path / "long.wav", x)
    whole = decode_channels(path, RATE)
    wins = list(iter_windows(path, RATE, window_s=12, search_s=3, overlap_s=0.5))
    assert len(wins) >= 3
    own = []
    for w in wins:
        a = round((w.keep_from - w.offset_s) * RATE)
        b = len(w.channels[0]) if w.keep_to == float("inf") else round((w.keep_to - w.offset_s) * RATE)
        own.append(np.stack(w.channels)[:, a:b])
        assert len(w.channels[0]) / RATE <= 12 + 3 + 2 * 0.5 + 0.01  # bounded
    joined = np.concatenate(own, axis=1)
    assert joined.shape == np.stack(whole).shape
    assert np.array_equal(joined, np.stack(whole))
    for prev, nxt in zip(wins, wins[1:]):
        assert prev.keep_to == nxt.keep_from


def test_a_clip_is_cut_by_seeking_to_the_same_samples(tmp_path):
    x = [_tone(30, [(2, 28)], 0.2, 300 + 100 * i, seed=i) for i in range(2)]
    path = _write(tmp_path / "clip.wav", x)
    whole = decode_channels(path, RATE)
    part = decode_range(path, 12.25, 14.75, RATE)
    a = int(12.25 * RATE)
    assert len(part[0]) == int(2.5 * RATE)
    assert np.allclose(part[0], whole[0][a : a + len(part[0])], atol=1e-4)


def test_windowed_transcription_keeps_each_word_once(tmp_path):
    # a 40 s call cut into ~10 s windows: the fake hears a word each loud
    # second, so every loud second must appear exactly once
    op = _tone(40, [(s, s + 2) for s in range(1, 40, 4)], 0.3)
    cl = _tone(40, [(s + 2.2, s + 3.5) for s in range(1, 38, 4)], 0.3, 600, seed=1)
    path = _write(tmp_path / "w.wav", [op, cl])
    small = DeafVadTranscriber(replace(AsrOptions(), window_s=10.0))
    big = DeafVadTranscriber(replace(AsrOptions(), window_s=600.0))
    t_small = transcribe_call("w", path, small, ("operator", "client"))
    t_big = transcribe_call("w", path, big, ("operator", "client"))
    assert small.passes.count(True) > big.passes.count(True)  # it did cut the call
    spans = {"operator": [(s, s + 2) for s in range(1, 40, 4)], "client": [(s + 2.2, s + 3.5) for s in range(1, 38, 4)]}
    for seg in t_small.segments:
        mids = [(w.start + w.end) / 2 for w in seg.words]
        # every word lies on its own speaker's sound (the fake's 1 s grid aside)
        assert all(any(a - 1 <= m <= b + 1 for a, b in spans[seg.speaker]) for m in mids)
    for speaker, its in spans.items():
        mids = [(w.start + w.end) / 2 for s in t_small.segments if s.speaker == speaker for w in s.words]
        assert all(any(a - 0.6 <= m <= b + 0.6 for m in mids) for a, b in its)  # nothing lost at an edge
        assert all(b - a > 0.3 for a, b in zip(sorted(mids), sorted(mids)[1:]))  # nothing twice
    assert t_small.duration_s == pytest.approx(t_big.duration_s)
