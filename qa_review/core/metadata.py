"""Call metadata from a manifest row, a sidecar JSON, or the file itself.

Pure validation: the caller reads the files and hands in their contents.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from qa_review.core.csv_rows import dict_reader
from qa_review.core.domain import AUDIO_CHANNEL, CallMeta
from qa_review.core.errors import ManifestError

REQUIRED_COLUMNS = ("file", "call_id", "operator", "started_at")
OPTIONAL_COLUMNS = ("direction", "phone", "queue", "tags")
DIRECTIONS = ("inbound", "outbound")
CALL_ID_RE = re.compile(r"^[\w.\-:@]{1,128}$")
UNKNOWN_OPERATOR = "unknown"


def parse_time(value: str | datetime, tz: ZoneInfo) -> datetime:
    """ISO 8601, on the clinic's clock; a time without an offset is taken as such.

    Stored times are all in the clinic's zone, so a stored date's first
    seven characters are its month in the clinic's calendar.
    """
    dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).strip())
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt.astimezone(tz)


def split_tags(value) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, (list, tuple)) else re.split(r"[;,|]", str(value))
    return tuple(t.strip() for t in items if str(t).strip())


class CallFields(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    call_id: str
    operator: str
    started_at: datetime
    direction: str | None = None
    phone: str | None = None
    queue: str | None = None
    tags: tuple[str, ...] = ()

    @field_validator("call_id")
    @classmethod
    def _call_id(cls, v: str) -> str:
        if not CALL_ID_RE.match(v):
            raise ValueError("use 1-128 letters, digits and . _ - : @ (no spaces or slashes)")
        return v

    @field_validator("operator")
    @classmethod
    def _operator(cls, v: str) -> str:
        if not v:
            raise ValueError("must not be empty")
        return v

    @field_validator("direction", "phone", "queue", mode="before")
    @classmethod
    def _blank_is_none(cls, v):
        return None if v is None or str(v).strip() == "" else str(v).strip()

    @field_validator("direction")
    @classmethod
    def _direction(cls, v):
        if v is not None and v.lower() not in DIRECTIONS:
            raise ValueError(f"expected one of {', '.join(DIRECTIONS)}")
        return v.lower() if v else v

    @field_validator("tags", mode="before")
    @classmethod
    def _tags(cls, v):
        return split_tags(v)

    def to_meta(self, tz: ZoneInfo, channel: str = AUDIO_CHANNEL) -> CallMeta:
        return CallMeta(
            call_id=self.call_id,
            operator=self.operator,
            started_at=parse_time(self.started_at, tz),
            channel=channel,
            direction=self.direction,
            phone=self.phone,
            queue=self.queue,
            tags=self.tags,
        )


def describe(e: ValidationError) -> str:
    """'field: problem' for each problem, as one line."""
    parts = []
    for err in e.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "(row)"
        msg = err["msg"]
        if err["type"] == "missing":
            msg = "required, but missing or empty"
        parts.append(f"{loc}: {msg}")
    return "; ".join(parts)


def meta_from_mapping(data: dict, tz: ZoneInfo, where: str) -> CallMeta:
    cleaned = {k: v for k, v in data.items() if v not in ("", None)}
    try:
        return CallFields.model_validate(cleaned).to_meta(tz)
    except ValidationError as e:
        raise ManifestError(f"{where}: {describe(e)}") from e


_STAMP = re.compile(r"(20\d\d)[-_.]?(\d\d)[-_.]?(\d\d)[-_T ]?(\d\d)[-_.:]?(\d\d)[-_.:]?(\d\d)")


def meta_from_filename(path: Path, mtime: float, tz: ZoneInfo) -> CallMeta:
    """Fallback: call id from the name, time from a stamp in it or the mtime.

    The operator stays 'unknown' so the call is visibly unassigned rather than
    credited to a guessed person.
    """
    m = _STAMP.search(path.stem)
    started = None
    if m:
        try:
            started = datetime(*map(int, m.groups()), tzinfo=tz)
        except ValueError:
            started = None
    if started is None:
        started = datetime.fromtimestamp(mtime, tz)
    call_id = re.sub(r"[^\w.\-:@]", "_", path.stem)[:128]
    return CallMeta(call_id=call_id, operator=UNKNOWN_OPERATOR, started_at=started)


class ManifestRow(BaseModel):
    row: int  # line number in the file, header = 1
    file: str
    fields: dict


def read_manifest(text: str, where: str) -> tuple[list[ManifestRow], list[tuple[int, str]]]:
    """Rows with a file name, and (line, reason) for rows that cannot be used.

    A missing required column fails the whole manifest: no row could be read.
    """
    reader = dict_reader(text, where, REQUIRED_COLUMNS, OPTIONAL_COLUMNS, "the header")
    rows, bad = [], []
    for raw in reader:
        line = reader.line_num
        if None in raw:
            bad.append((line, f"{where}: line {line}: more values than columns"))
            continue
        if not any((v or "").strip() for v in raw.values()):
            continue
        fname = (raw.get("file") or "").strip()
        if not fname:
            bad.append((line, f"{where}: line {line}: file: required, but missing or empty"))
            continue
        rows.append(ManifestRow(row=line, file=fname, fields=raw))
    return rows, bad
