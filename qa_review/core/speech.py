"""Where a channel holds speech, independently of the recognizer. Pure.

Whisper's VAD decides what Whisper hears; on recordings it was not tuned for
it opens late after a silence and swallows short replies ("Да, удобно")
whole. An energy detector is crude but has no such blind spot, so comparing
the two shows what the recognizer missed. The detector adapts to each
channel's noise floor and, like the cross-talk filter, ignores frames where
this channel is only the other side's echo.
"""

from __future__ import annotations

import numpy as np

FRAME_S = 0.03
FLOOR_PERCENTILE = 20  # the line's noise: most of a channel is the other party talking
ABOVE_FLOOR_DB = 10.0  # speech stands this far over the floor
MIN_LEVEL_DB = -55.0  # below this it is hiss whatever the floor
BRIDGE_S = 0.4  # pauses inside one utterance ("Да, | удобно") are shorter
MIN_SPEECH_S = 0.2  # a click or a breath is shorter
ECHO_RATIO = 0.25  # the same -12 dB rule as turns.drop_crosstalk

Span = tuple[float, float]


def _frame_rms(x: np.ndarray, n: int) -> np.ndarray:
    frames = len(x) // n
    if frames == 0:
        return np.zeros(0)
    f = x[: frames * n].astype(np.float64).reshape(frames, n)
    return np.sqrt(np.mean(f * f, axis=1))


def merge_spans(spans: list[Span], bridge: float = 0.0) -> list[Span]:
    out: list[list[float]] = []
    for s, e in sorted(spans):
        if out and s - out[-1][1] <= bridge:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(a, b) for a, b in out]


def detect(own: np.ndarray, rate: int, other: np.ndarray | None = None) -> list[Span]:
    """Stretches of speech on ``own`` (seconds from its start)."""
    n = max(1, int(FRAME_S * rate))
    rms = _frame_rms(own, n)
    if rms.size == 0:
        return []
    db = 20 * np.log10(np.maximum(rms, 1e-7))
    floor = float(np.percentile(db, FLOOR_PERCENTILE))
    loud = db > max(floor + ABOVE_FLOOR_DB, MIN_LEVEL_DB)
    if other is not None:
        orms = _frame_rms(other, n)[: rms.size]
        if orms.size == rms.size:
            loud &= rms >= ECHO_RATIO * orms
    spans = []
    idx = np.flatnonzero(np.diff(np.concatenate([[0], loud.astype(np.int8), [0]])))
    for a, b in zip(idx[::2], idx[1::2]):
        spans.append((a * FRAME_S, b * FRAME_S))
    spans = merge_spans(spans, BRIDGE_S)
    return [(round(float(s), 3), round(float(e), 3)) for s, e in spans if e - s >= MIN_SPEECH_S]


def intersect_length(a: list[Span], b: list[Span]) -> float:
    total, j = 0.0, 0
    b = sorted(b)
    for s, e in sorted(a):
        while j < len(b) and b[j][1] <= s:
            j += 1
        k = j
        while k < len(b) and b[k][0] < e:
            total += max(0.0, min(e, b[k][1]) - max(s, b[k][0]))
            k += 1
    return total


def subtract(a: list[Span], b: list[Span]) -> list[Span]:
    """Parts of ``a`` outside every span of ``b``."""
    out = []
    b = merge_spans(b)
    for s, e in sorted(a):
        cur = s
        for bs, be in b:
            if be <= cur or bs >= e:
                continue
            if bs > cur:
                out.append((cur, bs))
            cur = max(cur, be)
        if cur < e:
            out.append((cur, e))
    return out


def heard(word_spans: list[Span], pad: float = 0.35) -> list[Span]:
    """Time a listener would credit to recognized words (a word's edges are fuzzy)."""
    return merge_spans([(s - pad, e + pad) for s, e in word_spans])


def missed(speech: list[Span], word_spans: list[Span], min_s: float) -> list[Span]:
    """Stretches of detected speech of at least ``min_s`` with no recognized word."""
    gaps = merge_spans(subtract(speech, heard(word_spans)), bridge=0.15)
    return [(round(s, 3), round(e, 3)) for s, e in gaps if e - s >= min_s]


def snap(start: float, end: float, spans: list[Span], longer_than: float = 1.0) -> tuple[float, float]:
    """A word's span trimmed to the channel's detected speech inside it.

    Whisper's alignment stretches the first word after a silence back over
    it ("Марии" timed 13.3-17.6 s for speech starting at 17.2 s); an
    overlap with the other side that never happened then reads as an
    interruption. Ordinary words (up to ``longer_than``) are left alone.
    """
    if end - start <= longer_than:
        return start, end
    inside = [(max(s, start), min(e, end)) for s, e in spans if s < end and e > start]
    if not inside:
        return start, end
    return float(inside[0][0]), float(max(inside[-1][1], inside[0][0] + 0.05))
