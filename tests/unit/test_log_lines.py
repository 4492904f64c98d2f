"""A log line: one per event, JSON or key=value, and no personal data in it."""

import json
from datetime import UTC, datetime

import pytest

from qa_review.core.log_lines import line, scrub

AT = datetime(2026, 11, 24, 9, 30, 0, 123000, tzinfo=UTC)


def test_numbers_a_pbx_writes_into_file_names_keep_only_their_last_two_digits():
    assert scrub("in_79161234567.wav") == "in_*********67.wav"
    path = scrub("/pbx/2026-11-24/+79161234567_out.wav")
    assert "9161234567" not in path and path.startswith("/pbx/2026-11-24/") and path.endswith("_out.wav")
    assert scrub("4951234567-20261124-093000.wav").endswith("-20261124-093000.wav")
    assert "1234567" not in scrub("4951234567-20261124-093000.wav")
    assert scrub("out_89031234567.mp3") == "out_*********67.mp3"  # "_" hides it from the text rules


def test_dates_times_and_ids_stay_readable():
    for text in ("2026-11-24T09:30:00+03:00", "rec-20261124093000.wav", "call 42 of 1200", "demo-01-booking"):
        assert scrub(text) == text


def test_what_exports_mask_is_masked_in_a_log_too():
    out = scrub("client said +7 (916) 123-45-67 and ivan@example.ru")
    assert "123-45-67" not in out and "ivan@example.ru" not in out and "[телефон]" in out


def test_json_lines_hold_the_fields_in_order_with_numbers_as_numbers():
    text = line(AT, "info", "transcribed", {"call": "in_79161234567", "seconds": 1.23456, "ok": True}, "json")
    assert "\n" not in text
    data = json.loads(text)
    assert list(data) == ["ts", "level", "event", "call", "seconds", "ok"]
    assert data["ts"] == "2026-11-24T09:30:00.123+00:00" and data["level"] == "info"
    assert data["call"] == "in_*********67" and data["seconds"] == 1.235 and data["ok"] is True


def test_key_value_lines_quote_what_has_spaces_and_stay_on_one_line():
    text = line(AT, "warning", "ingest failed", {"where": "a b.wav", "row": None, "reason": 'bad "x"\nnext'}, "text")
    assert text.startswith('ts=2026-11-24T09:30:00.123+00:00 level=warning event="ingest failed" ')
    assert 'where="a b.wav" row= reason="bad \\"x\\"\\nnext"' in text and "\n" not in text


def test_a_field_cannot_pass_for_the_line_s_own():
    data = json.loads(line(AT, "info", "x", {"level": "error", "n": 1}, "json"))
    assert data["level"] == "info" and data["n"] == 1


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="text or json"):
        line(AT, "info", "x", {}, "xml")
