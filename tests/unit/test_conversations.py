import json
from zoneinfo import ZoneInfo

import pytest

from qa_review.core.conversations import parse_call_transcript, parse_conversation
from qa_review.core.errors import ConversationError

TZ = ZoneInfo("Europe/Moscow")
GOOD = {
    "conversation_id": "m-1",
    "operator": "petr",
    "started_at": "2026-11-09T08:10:00",
    "channel": "email",
    "messages": [
        {"speaker": "client", "at": "2026-11-09T08:10:00", "text": "Сколько стоит МРТ?"},
        {"speaker": "operator", "at": "2026-11-09T13:47:00", "text": "Пять тысяч рублей."},
    ],
}


def test_messages_become_segments_timed_from_the_start():
    meta, t = parse_conversation(json.dumps(GOOD), "m.json", TZ)
    assert meta.channel == "email" and meta.started_at.utcoffset().total_seconds() == 3 * 3600
    assert [(s.speaker, s.start) for s in t.segments] == [("client", 0.0), ("operator", 20220.0)]
    assert t.source == "written"


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"channel": "fax"}, "channel"),
        ({"messages": []}, "messages"),
        ({"operator": ""}, "operator"),
        ({"messages": [{"speaker": "bot", "at": "2026-11-09T08:10:00", "text": "x"}]}, "messages.0.speaker"),
        ({"messages": [{"speaker": "client", "at": "soon", "text": "x"}]}, "messages.0.at"),
        ({"messages": [{"speaker": "client", "at": "2026-11-09T08:00:00", "text": "x"}]}, "before started_at"),
        ({"messages": [{"speaker": "client", "at": "2026-11-09T08:10:00", "text": " "}]}, "messages.0.text"),
    ],
)
def test_errors_name_the_field(change, expected):
    with pytest.raises(ConversationError) as e:
        parse_conversation(json.dumps({**GOOD, **change}), "conv.json", TZ)
    assert "conv.json" in str(e.value) and expected in str(e.value)


def test_broken_json_gives_line_and_column():
    with pytest.raises(ConversationError, match=r"conv.json: line 2, column"):
        parse_conversation('{\n  "conversation_id": ,\n}', "conv.json", TZ)


CALL = {
    "call_id": "t-1",
    "operator": "anna",
    "started_at": "2026-10-01T09:00:00",
    "direction": "inbound",
    "segments": [
        {"speaker": "client", "start": 4.0, "end": 6.5, "text": "Хочу записаться"},
        {"speaker": "operator", "start": 0.5, "end": 3.0, "text": "Клиника Здоровье, здравствуйте"},
    ],
}


def test_a_call_transcript_is_a_phone_call_in_time_order_with_no_recording():
    meta, t = parse_call_transcript(json.dumps(CALL), "t.json", TZ)
    assert (
        meta.channel == "phone"
        and meta.direction == "inbound"
        and meta.started_at.utcoffset().total_seconds() == 3 * 3600
    )
    assert [(s.speaker, s.start, s.end) for s in t.segments] == [("operator", 0.5, 3.0), ("client", 4.0, 6.5)]
    assert t.source == "imported" and t.duration_s == 6.5
    assert [(a.speaker, a.start, a.end) for a in t.activity] == [("operator", 0.5, 3.0), ("client", 4.0, 6.5)]


@pytest.mark.parametrize(
    "change, expected",
    [
        ({"channel": "chat"}, "channel: Value error, a transcript with segments is a phone call"),
        ({"segments": []}, "segments"),
        ({"call_id": ""}, "call_id"),
        ({"segments": [{"speaker": "bot", "start": 0, "end": 1, "text": "x"}]}, "segments.0.speaker"),
        ({"segments": [{"speaker": "client", "start": -1, "end": 1, "text": "x"}]}, "segments.0.start"),
        (
            {"segments": [{"speaker": "client", "start": 5, "end": 1, "text": "x"}]},
            "segments.0: Value error, end 1.0 is before start 5.0",
        ),
        ({"segments": [{"speaker": "client", "start": 0, "end": 1, "text": ""}]}, "segments.0.text"),
    ],
)
def test_call_transcript_errors_name_the_field(change, expected):
    with pytest.raises(ConversationError) as e:
        parse_call_transcript(json.dumps({**CALL, **change}), "t.json", TZ)
    assert str(e.value).startswith("t.json: ") and expected in str(e.value)
