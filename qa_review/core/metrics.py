"""Conversation metrics from a transcript: pure functions.

Audio metrics come from speech activity (word timings per speaker), never
from segment bounds. Each metric returns a value and the span of the call
that decided it, so a reviewer can jump there. A metric that does not exist
for a conversation (talk share of a chat, operator metrics of a mono call)
is None: the checklist item is then N/A.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa_review.core.domain import CLIENT, MIXED, OPERATOR, Interval, Transcript

# What a checklist's metric items may name: each kind of conversation
# computes its own, and marks the other kind's as not applicable.
AUDIO_METRICS = (
    "longest_silence_s",
    "silence_share",
    "operator_talk_share",
    "overtalk_s",
    "interruptions",
    "operator_words_per_min",
)
WRITTEN_METRICS = ("longest_reply_wait_s",)

INTERRUPT_MARGIN_S = 0.3  # the client must still have this much to say


@dataclass(frozen=True)
class MetricValue:
    value: float | None
    start: float | None = None  # the span that decided it, if one did
    end: float | None = None
    note: str = ""


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for s, e in sorted(intervals):
        if out and s <= out[-1][1]:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def _length(intervals) -> float:
    return sum(e - s for s, e in intervals)


def _intersect(a, b) -> list[tuple[float, float]]:
    out, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        s, e = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if s < e:
            out.append((s, e))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def _spans(activity: tuple[Interval, ...], speaker: str | None = None):
    return _union([(a.start, a.end) for a in activity if speaker is None or a.speaker == speaker])


def _gaps(spans):
    return [(spans[k][1], spans[k + 1][0]) for k in range(len(spans) - 1)]


def compute(transcript: Transcript, written: bool) -> dict[str, MetricValue]:
    return _written(transcript) if written else _audio(transcript)


def _audio(t: Transcript) -> dict[str, MetricValue]:
    anyone = _spans(t.activity)
    speakers = {a.speaker for a in t.activity}
    stereo = MIXED not in speakers
    op, cl = _spans(t.activity, OPERATOR), _spans(t.activity, CLIENT)
    m: dict[str, MetricValue] = {"duration_s": MetricValue(round(t.duration_s, 2))}

    # Silence counts between the first and the last word: ringing before and
    # hang-up after are not hold time.
    gaps = _gaps(anyone)
    if anyone:
        longest = max(gaps, key=lambda g: g[1] - g[0], default=(anyone[0][1], anyone[0][1]))
        span = anyone[-1][1] - anyone[0][0]
        m["longest_silence_s"] = MetricValue(round(longest[1] - longest[0], 2), longest[0], longest[1])
        m["silence_share"] = MetricValue(round(_length(gaps) / span, 3) if span > 0 else 0.0)
    else:
        m["longest_silence_s"] = MetricValue(None, note="no speech")
        m["silence_share"] = MetricValue(None, note="no speech")

    if not stereo:
        for k in ("operator_talk_share", "overtalk_s", "interruptions", "operator_words_per_min", "first_response_s"):
            m[k] = MetricValue(None, note="mono recording: speakers are not separated")
        return m

    talk = _length(op) + _length(cl)
    m["operator_talk_share"] = MetricValue(round(_length(op) / talk, 3) if talk else None)
    both = _intersect(op, cl)
    m["overtalk_s"] = MetricValue(
        round(_length(both), 2),
        both[0][0] if both else None,
        both[0][1] if both else None,
    )
    starts = [s for s, _ in op if any(cs < s < ce - INTERRUPT_MARGIN_S for cs, ce in cl)]
    m["interruptions"] = MetricValue(float(len(starts)), starts[0] if starts else None, starts[0] if starts else None)
    op_words = sum(len(s.words) or len(s.text.split()) for s in t.segments if s.speaker == OPERATOR)
    op_time = _length(op)
    m["operator_words_per_min"] = MetricValue(round(op_words / (op_time / 60), 1) if op_time else None)
    m["first_response_s"] = (
        MetricValue(round(op[0][0], 2), op[0][0], op[0][1])
        if op
        else MetricValue(None, note="the operator never speaks")
    )
    return m


def _written(t: Transcript) -> dict[str, MetricValue]:
    m: dict[str, MetricValue] = {"duration_s": MetricValue(round(t.duration_s, 2))}
    waits: list[tuple[float, float]] = []
    pending: float | None = None  # time of the first client message still unanswered
    for s in t.segments:
        if s.speaker == CLIENT and pending is None:
            pending = s.start
        elif s.speaker == OPERATOR and pending is not None:
            waits.append((pending, s.start))
            pending = None
    if pending is not None:
        waits.append((pending, t.duration_s))  # never answered
    first = waits[0] if waits else None
    m["first_response_s"] = (
        MetricValue(round(first[1] - first[0], 2), first[0], first[1])
        if first
        else MetricValue(None, note="no client message")
    )
    longest = max(waits, key=lambda w: w[1] - w[0], default=None)
    m["longest_reply_wait_s"] = (
        MetricValue(round(longest[1] - longest[0], 2), longest[0], longest[1])
        if longest
        else MetricValue(None, note="no client message")
    )
    for k in AUDIO_METRICS:
        m[k] = MetricValue(None, note="audio-only metric")
    return m
