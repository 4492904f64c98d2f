"""From per-channel ASR output to one transcript: pure functions.

ASR segments carry words with timings. Turns are cut where a speaker pauses,
turns of both channels are merged by time, and speech activity comes from
the words, since Whisper's segment bounds stretch over silence.
"""

from __future__ import annotations

import re
from dataclasses import replace

import numpy as np

from qa_review.core.domain import Interval, Segment, Transcript, Word

# Phrases Whisper writes over silence or noise in Russian (learned from
# subtitle data), never said on a clinic's phone line. A segment that is only
# one of these is dropped.
HALLUCINATIONS = (
    "продолжение следует",
    "субтитры сделал dimatorzok",
    "субтитры создавал dimatorzok",
    "субтитры делал dimatorzok",
    "редактор субтитров а синецкая корректор а егорова",
    "спасибо за просмотр",
    "подписывайтесь на канал",
    "ставьте лайки",
)

PAUSE_SPLIT_S = 1.0  # a pause this long inside a channel starts a new turn
ACTIVITY_GAP_S = 0.3  # words closer than this are one stretch of speech
MAX_WORD_S = 1.5  # a longer "word" is an alignment artefact spanning silence


def _norm(text: str) -> str:
    return " ".join(re.sub(r"[^\w]+", " ", text.lower().replace("ё", "е")).split())


def is_hallucination(text: str) -> bool:
    return _norm(text) in HALLUCINATIONS


def _text(words: list[Word]) -> str:
    # faster-whisper keeps each word's leading space; plain words get one.
    joined = "".join(w.text if w.text[:1].isspace() else " " + w.text for w in words)
    return " ".join(joined.split())


def collapse_repeats(words: list[Word], max_repeats: int = 2) -> list[Word]:
    """Cut a run of the same 1-6 word phrase to ``max_repeats`` copies.

    Whisper falls into loops ("да да да да да ...", a phrase twenty times)
    on noise; people rarely repeat a phrase more than twice in a row.
    """
    keys = [_norm(w.text) for w in words]
    out_idx: list[int] = []
    i = 0
    while i < len(words):
        cut = False
        for n in range(1, 7):
            if i + n * (max_repeats + 1) > len(words):
                break
            gram = keys[i : i + n]
            if not all(gram):
                continue
            reps = 1
            while keys[i + reps * n : i + (reps + 1) * n] == gram:
                reps += 1
            if reps > max_repeats:
                out_idx.extend(range(i, i + n * max_repeats))
                i += n * reps
                cut = True
                break
        if not cut:
            out_idx.append(i)
            i += 1
    return [words[k] for k in out_idx]


def split_turns(speaker: str, words: list[Word], pause_s: float = PAUSE_SPLIT_S) -> list[Segment]:
    turns: list[list[Word]] = []
    for w in words:
        if turns and w.start - turns[-1][-1].end < pause_s:
            turns[-1].append(w)
        else:
            turns.append([w])
    return [
        Segment(speaker=speaker, start=t[0].start, end=t[-1].end, text=_text(t), words=tuple(t))
        for t in turns
        if _text(t)
    ]


def clean_channel(speaker: str, segments: list[Segment]) -> list[Segment]:
    """Drop hallucinated segments, collapse loops, cut turns at pauses."""
    words: list[Word] = []
    for seg in segments:
        if is_hallucination(seg.text):
            continue
        seg_words = list(seg.words) or [Word(seg.start, seg.end, seg.text)]
        words.extend(collapse_repeats(seg_words))
    words.sort(key=lambda w: w.start)
    return split_turns(speaker, words)


def activity(speaker: str, words: list[Word], gap_s: float = ACTIVITY_GAP_S) -> list[Interval]:
    spans: list[list[float]] = []
    for w in sorted(words, key=lambda w: w.start):
        end = min(w.end, w.start + MAX_WORD_S)
        if spans and w.start - spans[-1][1] <= gap_s:
            spans[-1][1] = max(spans[-1][1], end)
        else:
            spans.append([w.start, end])
    return [Interval(speaker, round(s, 3), round(e, 3)) for s, e in spans if e > s]


def merge_channels(
    call_id: str,
    channels: list[tuple[str, list[Segment]]],
    duration_s: float,
    language: str,
) -> Transcript:
    """One transcript from the cleaned turns of each channel, ordered by time."""
    order = {sp: i for i, (sp, _) in enumerate(channels)}
    segments: list[Segment] = []
    acts: list[Interval] = []
    for speaker, segs in channels:
        segments.extend(segs)
        acts.extend(activity(speaker, [w for s in segs for w in s.words]))
    segments.sort(key=lambda s: (s.start, order[s.speaker]))
    acts.sort(key=lambda a: (a.start, order[a.speaker]))
    segments = [replace(s, start=round(s.start, 3), end=round(s.end, 3)) for s in segments]
    return Transcript(
        call_id=call_id,
        segments=tuple(segments),
        activity=tuple(acts),
        duration_s=round(duration_s, 3),
        language=language,
        source="asr",
    )


CROSSTALK_RATIO = 0.25  # own channel under -12 dB of the other side: an echo


def drop_crosstalk(
    segments: list[Segment],
    own: np.ndarray,
    other: np.ndarray,
    rate: int,
    ratio: float = CROSSTALK_RATIO,
) -> list[Segment]:
    """Remove words that are the other party's voice leaking into this channel.

    Telephone lines and headsets leak each side into the other at -20 to
    -40 dB, and Whisper transcribes the leak as if this speaker said it. A word
    whose own-channel energy is far below the other channel's over the same
    span is such a leak; when both really talk at once, both are loud and
    the word stays.
    """

    def rms(x: np.ndarray, s: float, e: float) -> float:
        a, b = int(s * rate), max(int(e * rate), int(s * rate) + 1)
        part = x[a:b]
        return float(np.sqrt(np.mean(part * part))) if part.size else 0.0

    out = []
    for seg in segments:
        if not seg.words:
            out.append(seg)
            continue
        kept = tuple(w for w in seg.words if rms(own, w.start, w.end) >= ratio * rms(other, w.start, w.end))
        if kept:
            out.append(replace(seg, words=kept, text=_text(list(kept))))
    return out
