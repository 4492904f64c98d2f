import json
from zoneinfo import ZoneInfo

import pytest

from qa_review.core.conversations import parse_conversation
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
