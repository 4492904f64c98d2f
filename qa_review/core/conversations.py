"""Written conversations (chat, messenger, e-mail) as transcripts.

A message becomes a segment whose start is its time in seconds from the
start of the conversation, so scoring windows ("within the first 15 s",
reply waits) mean the same on every channel.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from qa_review.core.domain import WRITTEN_CHANNELS, CallMeta, Segment, Transcript
from qa_review.core.errors import ConversationError
from qa_review.core.metadata import CallFields, describe, parse_time


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    speaker: Literal["operator", "client"]
    at: datetime
    text: str

    @field_validator("text")
    @classmethod
    def _text(cls, v: str) -> str:
        if not v:
            raise ValueError("must not be empty")
        return v


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


def looks_like_conversation(data: object) -> bool:
    return isinstance(data, dict) and "messages" in data


def parse_conversation(text: str, where: str, tz: ZoneInfo) -> tuple[CallMeta, Transcript]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ConversationError(f"{where}: line {e.lineno}, column {e.colno}: not valid JSON ({e.msg})") from e
    except RecursionError as e:
        raise ConversationError(f"{where}: the JSON is nested too deeply to read (over a thousand levels)") from e
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
