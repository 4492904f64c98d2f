"""A PBX call log (CDR) as rows: every call the telephony saw, answered or not.

Pure: the caller reads the file and hands in its text. A bad row is
reported with its line and call id; the others are kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from qa_review.core.csv_rows import dict_reader
from qa_review.core.metadata import CALL_ID_RE, DIRECTIONS, parse_time

REQUIRED = ("call_id", "started_at", "direction", "phone", "queue", "operator", "status", "wait_s", "talk_s", "hold_s")
OPTIONAL = ("recording",)
ANSWERED, MISSED, ABANDONED = "answered", "missed", "abandoned"
STATUSES = (ANSWERED, MISSED, ABANDONED)
PHONE_DIGITS = 10  # Russian numbers: +7 916 ..., 8 (916) ... and 916 ... are one number


@dataclass(frozen=True)
class LogRow:
    call_id: str
    started_at: datetime  # on the clinic's clock
    direction: str
    phone: str | None
    queue: str | None
    operator: str | None  # None: nobody answered
    status: str
    wait_s: float
    talk_s: float
    hold_s: float
    recording: str | None = None


def phone_keys(phones: pd.Series, digits: int = PHONE_DIGITS) -> pd.Series:
    """Each number's last ``digits`` digits, so one number written two ways compares equal (None: no digits).

    A whole column at once: a month of a large centre is ~750 000 numbers.
    """
    only = phones.fillna("").astype(str).str.replace(r"\D", "", regex=True).str[-digits:]
    return only.where(only != "")


def mask_phone(phone: str | None) -> str | None:
    """The number with all but its last two digits hidden, for those who need to see that a call was lost,
    not whom to ring."""
    if not phone:
        return phone
    total = sum(c.isdigit() for c in phone)
    seen = 0
    out = []
    for c in phone:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - 2 else "•")
        else:
            out.append(c)
    return "".join(out)


def _seconds(raw: str, column: str) -> float:
    text = (raw or "").strip().replace(",", ".")
    if text == "":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{column}: {text!r} is not a number of seconds") from None
    if value < 0 or value != value:
        raise ValueError(f"{column}: {text} is negative; durations are 0 or more seconds")
    return value


def _row(raw: dict, tz: ZoneInfo) -> LogRow:
    def text(column: str) -> str | None:
        return (raw.get(column) or "").strip() or None

    call_id = text("call_id")
    if call_id is None:
        raise ValueError("call_id: required, but missing or empty")
    if not CALL_ID_RE.match(call_id):
        raise ValueError("call_id: use 1-128 letters, digits and . _ - : @ (no spaces or slashes)")
    started = text("started_at")
    if started is None:
        raise ValueError("started_at: required, but missing or empty")
    try:
        started_at = parse_time(started, tz)
    except ValueError:
        raise ValueError(f"started_at: {started!r} is not an ISO 8601 time (2026-11-03T09:15:00)") from None
    direction = (text("direction") or "").lower()
    if direction not in DIRECTIONS:
        raise ValueError(f"direction: {text('direction')!r}: expected {' or '.join(DIRECTIONS)}")
    status = (text("status") or "").lower()
    if status not in STATUSES:
        raise ValueError(f"status: {text('status')!r}: expected {', '.join(STATUSES)}")
    operator = text("operator")
    if status == ANSWERED and operator is None:
        raise ValueError("operator: an answered call needs the operator who answered it")
    return LogRow(
        call_id=call_id,
        started_at=started_at,
        direction=direction,
        phone=text("phone"),
        queue=text("queue"),
        operator=operator,
        status=status,
        wait_s=_seconds(raw.get("wait_s"), "wait_s"),
        talk_s=_seconds(raw.get("talk_s"), "talk_s"),
        hold_s=_seconds(raw.get("hold_s"), "hold_s"),
        recording=text("recording"),
    )


def read_call_log(text: str, where: str, tz: ZoneInfo) -> tuple[list[LogRow], list[str]]:
    """The usable rows, and one message per row that is not ('FILE: line N, call ID: what').

    Comma, semicolon or tab; UTF-8 with or without a BOM. A missing column
    fails the whole file. A call id seen twice keeps its last row.
    """
    reader = dict_reader(text, where, REQUIRED, OPTIONAL, "a call log")
    rows: dict[str, LogRow] = {}
    errors = []
    for raw in reader:
        line = reader.line_num
        if not any((v or "").strip() for v in raw.values() if isinstance(v, str)):
            continue
        cid = (raw.get("call_id") or "").strip()
        label = f"{where}: line {line}" + (f", call {cid}" if cid else "")
        if None in raw:
            errors.append(f"{label}: more values than columns")
            continue
        try:
            row = _row(raw, tz)
        except ValueError as e:
            errors.append(f"{label}: {e}")
            continue
        rows[row.call_id] = row
    return list(rows.values()), errors
