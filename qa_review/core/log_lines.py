"""One log line from one event: JSON or key=value, with personal data scrubbed. Pure.

A log leaves the clinic's review screens: it is read by IT, copied into
tickets and shipped to a log server. So every text that goes into it (an
error message, a file name, a call id built from a PBX file name) passes
through the same masking as an export, and a bare run of 10 or 11 digits
(a number the PBX wrote into a file name: ``in_79161234567.wav``) keeps
only its last two digits. Dates and compact date-times (8, 12 or 14 digits)
stay readable. Callers pass ids, counts and durations, never transcript
text, names or comments.
"""

from __future__ import annotations

import json
import re
from datetime import datetime

from qa_review.core.redaction import redact

LEVELS = ("debug", "info", "warning", "error")
OFF = "off"  # as a level: no log at all (the default; a terminal has the commands' own output)
FORMATS = ("text", "json")

_NUMBER = re.compile(r"(?<!\d)(\+?)(\d{10,11})(?!\d)")


def scrub(text: str) -> str:
    """``text`` with personal data masked (as in exports) and PBX-style numbers cut to their last two digits."""
    masked = redact(text)
    return _NUMBER.sub(lambda m: m.group(1) + "*" * (len(m.group(2)) - 2) + m.group(2)[-2:], masked)


def _clean(value):
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, float):
        return round(value, 3)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return scrub(str(value))


_BARE = re.compile(r"[^\s\"=\\]+")


def _logfmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    s = str(value)
    return s if _BARE.fullmatch(s) else json.dumps(s, ensure_ascii=False)


def line(at: datetime, level: str, event: str, fields: dict, fmt: str = "text") -> str:
    """The event as one line: ``ts``, ``level``, ``event``, then ``fields`` in their order, every text scrubbed."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; use {' or '.join(FORMATS)}")
    record = {"ts": at.isoformat(timespec="milliseconds"), "level": level, "event": scrub(event)}
    for name, value in fields.items():
        if name not in record:
            record[name] = _clean(value)
    if fmt == "json":
        return json.dumps(record, ensure_ascii=False)
    return " ".join(f"{name}={_logfmt(value)}" for name, value in record.items())
