"""Conversations that arrive as text: written ones, and calls known only by their transcript.

A written message (chat, messenger, e-mail) becomes a segment whose start is
its time in seconds from the start of the conversation, so scoring windows
("within the first 15 s", reply waits) mean the same on every channel.

A call transcript (``"segments"`` instead of ``"messages"``) is a phone call
whose words come from elsewhere: another system's speech analytics, or the
demo's generated history. It has no recording, so it is never sent to the
recognizer and never counted in ASR figures.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from qa_review.core.domain import AUDIO_CHANNEL, WRITTEN_CHANNELS, CallMeta, Interval, Segment, Transcript
from qa_review.core.errors import ConversationError
from qa_review.core.metadata import CallFields, describe, parse_time


class _Said(BaseModel):
    """What one side said or wrote; the times are the subclass's."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    speaker: Literal["operator", "client"]
    text: str

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v:
            raise ValueError("must not be empty")
        return v


class Message(_Said):
    at: datetime


class Conversation(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    conversation_id: str
    operator: str
    started_at: datetime
    channel: str
    messages: list[Message]
    direction: str | None = None
    phone: str | None = None
    queue: str | None = None
    tags: tuple[str, ...] | list[str] | str | None = None

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        v = v.lower()
        if v not in WRITTEN_CHANNELS:
            raise ValueError(f"expected one of {', '.join(WRITTEN_CHANNELS)}")
        return v

    @field_validator("messages")
    @classmethod
    def _messages(cls, v: list) -> list:
        if not v:
            raise ValueError("a conversation needs at least one message")
        return v


class Line(_Said):
    start: float = Field(ge=0)
    end: float = Field(ge=0)

    @model_validator(mode="after")
    def _order(self) -> Line:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self


class CallTranscript(BaseModel):
    model_config = ConfigDict(extra="ignore")

    channel: str = AUDIO_CHANNEL
    segments: list[Line]

    @field_validator("channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        if v.lower() != AUDIO_CHANNEL:
            raise ValueError(
                f"a transcript with segments is a phone call ({AUDIO_CHANNEL!r}); "
                'a written conversation lists its messages under "messages"'
            )
        return AUDIO_CHANNEL

    @field_validator("segments")
    @classmethod
    def _segments(cls, v: list) -> list:
        if not v:
            raise ValueError("a call transcript needs at least one segment")
        return v


def looks_like_conversation(data: object) -> bool:
    return isinstance(data, dict) and ("messages" in data or "segments" in data)


def is_call_transcript(data: object) -> bool:
    return isinstance(data, dict) and "segments" in data and "messages" not in data


def parse_call_transcript(text: str, where: str, tz: ZoneInfo) -> tuple[CallMeta, Transcript]:
    """A phone call given as its transcript: metadata as in a sidecar, and ``segments`` in seconds from the start."""
    data = _load(text, where)
    try:
        call = CallTranscript.model_validate(data)
        fields = CallFields.model_validate(data)
    except ValidationError as e:
        raise ConversationError(f"{where}: {describe(e)}") from e
    segments = sorted((Segment(s.speaker, s.start, s.end, s.text) for s in call.segments), key=lambda s: s.start)
    meta = fields.to_meta(tz, channel=AUDIO_CHANNEL)
    transcript = Transcript(
        call_id=meta.call_id,
        segments=tuple(segments),
        # No word timings: each line's span is its speaker's activity, so
        # silence and overtalk are measured as on a recording.
        activity=tuple(Interval(s.speaker, s.start, s.end) for s in segments),
        duration_s=max(s.end for s in segments),
        language="",
        source="imported",
    )
    return meta, transcript


def _load(text: str, where: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise ConversationError(f"{where}: line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})") from e
    except RecursionError as e:
        raise ConversationError(f"{where}: the JSON is nested too deeply to read (over a thousand levels)") from e


def parse_conversation(text: str, where: str, tz: ZoneInfo) -> tuple[CallMeta, Transcript]:
    data = _load(text, where)
    try:
        conv = Conversation.model_validate(data)
        fields = CallFields.model_validate(
            {
                "call_id": conv.conversation_id,
                "operator": conv.operator,
                "started_at": conv.started_at,
                "direction": conv.direction,
                "phone": conv.phone,
                "queue": conv.queue,
                "tags": conv.tags,
            }
        )
    except ValidationError as e:
        raise ConversationError(f"{where}: {describe(e)}") from e
    meta = fields.to_meta(tz, channel=conv.channel)
    t0 = meta.started_at
    segments = []
    for i, m in enumerate(conv.messages):
        at = (parse_time(m.at, tz) - t0).total_seconds()
        if at < 0:
            raise ConversationError(
                f"{where}: messages.{i}.at: {m.at.isoformat()} is before started_at "
                f"{t0.isoformat()}; fix the time or started_at"
            )
        segments.append(Segment(speaker=m.speaker, start=at, end=at, text=m.text))
    segments.sort(key=lambda s: s.start)  # stable: equal times keep file order
    transcript = Transcript(
        call_id=meta.call_id,
        segments=tuple(segments),
        duration_s=segments[-1].end if segments else 0.0,
        language="",
        source="written",
    )
    return meta, transcript
