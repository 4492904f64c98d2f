"""Two voices in one channel: which words each said, from voice embeddings of the speech.

A mono recording's words come from the ASR with their timings. Each word
gets a 1.6 s window of audio around it, each window a voice embedding
(``asr.voice_encoder``), the windows fall into two voices (spherical
k-means, the best of several starts), and each word takes the voice of the
windows around it, smoothed so a voice does not flip inside a breath. How far apart the two voices are
says how much to trust the split: one voice, or two alike, gives a small
separation, and the caller sends such calls to a person.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from qa_review.core.domain import VOICE_1, VOICE_2, Diarization, Transcript, Word
from qa_review.core.turns import merge_channels, split_turns

PAUSE_S = 0.25  # a gap this long between words is a pause, where turns may change
SPAN_S = 1.6  # the encoder's window, as it was trained
CENTRE_GAP_S = 0.3  # words closer than this share a window
SWITCH_COST = 0.08  # cosine similarity a word must gain to change voice mid-stretch
PAUSE_SWITCH_COST = 0.01  # ... and across a pause (turns change there)
RESTARTS = 8  # k-means starts


@dataclass(frozen=True)
class VoiceSplit:
    labels: tuple[int, ...]  # per word: voice 0 or 1
    separation: float  # 1 - cosine of the two voices' centroids: 0 for one voice
    margins: tuple[float, ...]  # per word: similarity to its voice minus to the other


def speech_spans(words: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Windows to embed: SPAN_S of audio centred on the words, a centre at most every CENTRE_GAP_S.

    A window around each word rather than each stretch between pauses: the
    encoder needs its 1.6 s to tell voices apart (stretches cut at pauses
    were often a single short word, and split a call no better than chance),
    and centring on the speech makes no assumption about how long people
    pause between turns.
    """
    centres: list[float] = []
    for start, end in sorted(words):
        mid = (start + end) / 2
        if not centres or mid - centres[-1] >= CENTRE_GAP_S:
            centres.append(mid)
    return [(max(0.0, c - SPAN_S / 2), c + SPAN_S / 2) for c in centres]


def _kmeans(e: np.ndarray, w: np.ndarray, centroids: np.ndarray, iterations: int) -> tuple[np.ndarray, float]:
    for _ in range(iterations):
        label = np.argmax(e @ centroids.T, axis=1)
        new = []
        for k in range(2):
            mine = label == k
            if not mine.any():
                new.append(centroids[k])
                continue
            c = (e[mine] * w[mine, None]).sum(axis=0)
            new.append(c / max(np.linalg.norm(c), 1e-12))
        new = np.stack(new)
        if np.allclose(new, centroids):
            break
        centroids = new
    fit = float((w * np.max(e @ centroids.T, axis=1)).sum())
    return centroids, fit


def two_voices(embeddings: np.ndarray, weights: np.ndarray | None = None, iterations: int = 20) -> np.ndarray:
    """(2, d) unit centroids of two voices among the embeddings (rows unit-length).

    Spherical k-means from several starts, the best fit kept: the two least
    alike windows, and each of a few windows spread over the call with the
    window least like it, and with the least like it among the typical half.
    One start alone is fooled by an odd window (a cough, a line click) that
    is unlike everything and takes a "voice" of its own.
    """
    e = np.asarray(embeddings, dtype=np.float64)
    w = np.ones(len(e)) if weights is None else np.asarray(weights, dtype=np.float64)
    sims = e @ e.T
    starts = {tuple(int(i) for i in sorted(np.unravel_index(np.argmin(sims), sims.shape)))}
    typical = np.flatnonzero(sims.mean(axis=1) >= np.median(sims.mean(axis=1)))  # no outliers among these
    for a in np.linspace(0, len(e) - 1, num=min(len(e), RESTARTS)).astype(int):
        starts.add(tuple(sorted((int(a), int(np.argmin(sims[a]))))))
        starts.add(tuple(sorted((int(a), int(typical[np.argmin(sims[a, typical])])))))
    best, best_fit = None, -np.inf
    for a, b in sorted(starts):
        if a == b:
            continue
        centroids, fit = _kmeans(e, w, np.stack([e[a], e[b]]), iterations)
        if fit > best_fit + 1e-9:
            best, best_fit = centroids, fit
    return best if best is not None else np.stack([e[0], e[0]])


def split_words(
    words: list[tuple[float, float]], spans: list[tuple[float, float]], embeddings: np.ndarray
) -> VoiceSplit:
    """Each word's voice (0 or 1), from the embeddings of ``spans`` (as :func:`speech_spans` gave them)."""
    if not words:
        return VoiceSplit((), 0.0, ())
    e = np.asarray(embeddings, dtype=np.float64)
    if len(e) < 2:
        return VoiceSplit(tuple(0 for _ in words), 0.0, tuple(0.0 for _ in words))
    lengths = np.array([end - start for start, end in spans])
    centroids = two_voices(e, weights=lengths)
    separation = float(1.0 - centroids[0] @ centroids[1])
    span_sims = e @ centroids.T  # (spans, 2)
    starts = np.array([s for s, _ in spans])
    ends = np.array([t for _, t in spans])
    scores = np.zeros((len(words), 2))
    for i, (ws, we) in enumerate(words):
        mid = (ws + we) / 2
        around = (starts <= mid) & (ends >= mid)
        if not around.any():  # between spans: the nearest one
            around = np.zeros(len(spans), bool)
            around[np.argmin(np.minimum(abs(starts - mid), abs(ends - mid)))] = True
        scores[i] = span_sims[around].mean(axis=0)
    labels = _smooth(words, scores)
    margins = tuple(float(scores[i, k] - scores[i, 1 - k]) for i, k in enumerate(labels))
    return VoiceSplit(tuple(int(k) for k in labels), separation, margins)


def _smooth(words: list[tuple[float, float]], scores: np.ndarray) -> list[int]:
    """The voice sequence with the highest total similarity, less a cost for every change (Viterbi)."""
    n = len(words)
    total = scores[0].copy()
    back = np.zeros((n, 2), int)
    for i in range(1, n):
        cost = PAUSE_SWITCH_COST if words[i][0] - words[i - 1][1] >= PAUSE_S else SWITCH_COST
        new = np.empty(2)
        for k in range(2):
            stay, switch = total[k], total[1 - k] - cost
            back[i, k] = k if stay >= switch else 1 - k
            new[k] = max(stay, switch) + scores[i, k]
        total = new
    labels = [int(np.argmax(total))]
    for i in range(n - 1, 0, -1):
        labels.append(int(back[i, labels[-1]]))
    return labels[::-1]


def voices(words: list[Word], spans: list[tuple[float, float]], embeddings: np.ndarray) -> tuple[dict, Diarization]:
    """The words of each voice ({VOICE_1: [...], VOICE_2: [...]}) and how far apart the voices are.

    VOICE_1 is whoever speaks first, so the names do not depend on the clustering's order.
    """
    ordered = sorted(words, key=lambda w: w.start)
    split = split_words([(w.start, w.end) for w in ordered], spans, embeddings)
    first = split.labels[0] if split.labels else 0
    out: dict[str, list[Word]] = {VOICE_1: [], VOICE_2: []}
    for w, k in zip(ordered, split.labels, strict=True):
        out[VOICE_1 if k == first else VOICE_2].append(w)
    minority = min(len(out[VOICE_1]), len(out[VOICE_2])) / len(ordered) if ordered else 0.0
    return out, Diarization(separation=round(split.separation, 4), minority_share=round(minority, 4))


def split_transcript(transcript: Transcript, spans: list[tuple[float, float]], embeddings: np.ndarray) -> Transcript:
    """A mono transcript's words as the turns of two voices, with how far apart the voices are.

    ``spans`` and ``embeddings`` are the voice embeddings of its speech; the
    coverage and unheard stretches stay the channel's (``mixed``).
    """
    words = [w for s in transcript.segments for w in s.words]
    if not words:
        return transcript
    by_voice, found = voices(words, spans, embeddings)
    turns = [(v, split_turns(v, ws)) for v, ws in by_voice.items()]
    merged = merge_channels(transcript.call_id, turns, transcript.duration_s, transcript.language)
    return replace(transcript, segments=merged.segments, activity=merged.activity, diarization=found)
