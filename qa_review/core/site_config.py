"""The site's settings as text: what each one is called, and what a good value looks like.

One table serves the configuration file and the environment, so a value
is checked by the same rule wherever it was set, and an error names the
place it came from (``qa-review.yaml:7`` or ``QA_REVIEW_TZ``). Pure: the
file's text comes in, values with their lines go out; reading files and
the environment is the service layer's work.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from qa_review.core.domain import CLIENT, OPERATOR
from qa_review.core.errors import ConfigError
from qa_review.core.log_lines import FORMATS, LEVELS, OFF
from qa_review.core.yamlcheck import compose

SHIPPED = "shipped"  # in a list of checklist folders: the ones qa-review comes with


@dataclass(frozen=True)
class Key:
    name: str  # in the file
    env: str  # the environment variable
    parse: Callable[[object], object]  # raises ValueError saying what is expected
    kind: str = "value"  # "path", "paths" (resolved against the file's folder) or "value"
    help: str = ""


def _text(v: object) -> str:
    if not isinstance(v, str | int | float) or isinstance(v, bool):
        raise ValueError("expected a text value")
    return str(v).strip()


def _nonempty(v: object) -> str:
    s = _text(v)
    if not s:
        raise ValueError("must not be empty")
    return s


def _paths(v: object) -> tuple[str, ...]:
    items = v if isinstance(v, list) else [p for p in _text(v).split(":")]
    out = tuple(_nonempty(p) for p in items)
    if not out:
        raise ValueError(f"expected at least one folder (or {SHIPPED!r}, the checklists qa-review comes with)")
    return out


def _channels(v: object) -> tuple[str, str]:
    parts = tuple(p.strip().lower() for p in (v if isinstance(v, list) else _text(v).split(",")))
    if sorted(parts) != sorted((OPERATOR, CLIENT)):
        raise ValueError("expected 'operator,client' or 'client,operator' (left channel first)")
    return parts  # type: ignore[return-value]


def _language(v: object) -> str:
    s = _text(v).lower()
    return "auto" if s in ("", "auto") else s


def _zone(v: object) -> str:
    s = _nonempty(v)
    try:
        ZoneInfo(s)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ValueError("not a known time zone; use an IANA name such as Europe/Moscow") from e
    return s


def _number(cast: Callable[[str], float], ok: Callable[[float], bool], expected: str) -> Callable[[object], float]:
    def parse(v: object) -> float:
        try:
            n = cast(_text(v))
        except ValueError:
            raise ValueError(expected) from None
        if not ok(n):
            raise ValueError(expected)
        return n

    return parse


_days = _number(int, lambda n: n >= 0, "expected a whole number of days, 0 or more")
_hours = _number(float, lambda h: h > 0, "expected hours above 0, e.g. 8")
_confidence = _number(
    float,
    lambda c: 0.5 <= c <= 1.0,
    "expected a number from 0.5 (trust every guess) to 1 (a person checks every mono call), e.g. 0.8",
)


def _choice(*allowed: str) -> Callable[[object], str]:
    def parse(v: object) -> str:
        s = _text(v).lower()
        if s not in allowed:
            raise ValueError(f"expected one of: {', '.join(allowed)}")
        return s

    return parse


def _flag(v: object) -> bool:
    if isinstance(v, bool):
        return v
    s = _text(v).lower()
    if s not in ("0", "1", "yes", "no", "true", "false", "on", "off"):
        raise ValueError("expected 1 or 0 (or yes, no)")
    return s in ("1", "yes", "true", "on")


KEYS = (
    Key("database", "QA_REVIEW_DB", _nonempty, "path", "the SQLite database file"),
    Key(
        "data_dir",
        "QA_REVIEW_DATA",
        _nonempty,
        "path",
        "the data folder: the recordings archive (default: qa-review-data beside the database)",
    ),
    Key("timezone", "QA_REVIEW_TZ", _zone, help="the clinic's time zone, for times written without an offset"),
    Key("channels", "QA_REVIEW_CHANNELS", _channels, help="who is on the left and right channel of a stereo call"),
    Key("language", "QA_REVIEW_LANGUAGE", _language, help="the calls' language for the recognizer (auto: detect)"),
    Key("dispute_window_days", "QA_REVIEW_DISPUTE_DAYS", _days, help="days an operator may dispute after finalization"),
    Key("session_idle_hours", "QA_REVIEW_SESSION_IDLE_HOURS", _hours, help="an app session unused this long ends"),
    Key(
        "checklists",
        "QA_REVIEW_CHECKLISTS",
        _paths,
        "paths",
        f"checklist folders, in order; a later folder's checklist wins on the same id ({SHIPPED}: qa-review's own)",
    ),
    Key("bonus_rules", "QA_REVIEW_RULES", _nonempty, "path", "the bonus rules file"),
    Key("call_log_rules", "QA_REVIEW_CALL_LOG_RULES", _nonempty, "path", "the call log rules file"),
    Key("asr_profile", "QA_REVIEW_ASR_PROFILE", _nonempty, "path", "the site's ASR profile (qa-review asr tune)"),
    Key("models_dir", "QA_REVIEW_MODELS", _nonempty, "path", "where ASR models are installed"),
    Key("model", "QA_REVIEW_MODEL", _nonempty, help="the ASR model: a registry name, a faster-whisper name or a path"),
    Key("scheduler", "QA_REVIEW_SCHEDULER", _nonempty, help="a Dask scheduler for transcription (tcp://HOST:8786)"),
    Key("diarize", "QA_REVIEW_DIARIZE", _flag, help="tell the two voices of a mono call apart"),
    Key(
        "mono_min_confidence",
        "QA_REVIEW_MONO_MIN_CONFIDENCE",
        _confidence,
        help="below this confidence in a mono call's roles, role-bound verdicts go to a person",
    ),
    Key(
        "archive_links",
        "QA_REVIEW_ARCHIVE_LINKS",
        _flag,
        help="keep recordings as hard links where the filesystem allows (no): always a copy",
    ),
    Key(
        "audio_retention_months",
        "QA_REVIEW_AUDIO_RETENTION_MONTHS",
        _number(int, lambda n: n >= 1, "expected a whole number of months, 1 or more (leave it out to keep audio)"),
        help="qa-review retention apply removes recordings older than this (transcripts and scores stay)",
    ),
    Key(
        "log_level",
        "QA_REVIEW_LOG_LEVEL",
        _choice(*LEVELS, OFF),
        help=f"log this level and above ({', '.join(LEVELS)}), or {OFF}",
    ),
    Key(
        "log_file",
        "QA_REVIEW_LOG_FILE",
        _nonempty,
        "path",
        "the log file (reopened after logrotate); default: standard error",
    ),
    Key("log_format", "QA_REVIEW_LOG_FORMAT", _choice(*FORMATS), help="text (key=value) or json (one object a line)"),
    Key("sso_config", "QA_REVIEW_SSO_CONFIG", _nonempty, "path", "the identity provider's TOML ([auth] section)"),
    Key("sso_claim", "QA_REVIEW_SSO_CLAIM", _nonempty, help="the identity token's claim admins link users by"),
)
BY_NAME = {k.name: k for k in KEYS}


@dataclass(frozen=True)
class FileValue:
    value: object
    line: int


def parse_config(text: str, source: str) -> dict[str, FileValue]:
    """The file's settings by name, each parsed, with its line; every problem in one ConfigError."""
    if not text.strip():
        return {}
    node, data = compose(text, source, ConfigError, "expected settings as 'name: value' lines")
    lines = {k.value: k.start_mark.line + 1 for k, _ in node.value if isinstance(k, yaml.ScalarNode)}
    out: dict[str, FileValue] = {}
    problems = []
    for name, raw in data.items():
        line = lines.get(name, 1)
        key = BY_NAME.get(name)
        if key is None:
            problems.append(f"{source}:{line}: unknown setting {name!r}; known: {', '.join(BY_NAME)}")
            continue
        try:
            out[name] = FileValue(key.parse(raw), line)
        except ValueError as e:
            problems.append(f"{source}:{line}: {name}: {raw!r}: {e}")
    if problems:
        raise ConfigError("\n".join(problems))
    return out


def parse_env(key: Key, raw: str) -> object:
    try:
        return key.parse(raw)
    except ValueError as e:
        raise ConfigError(f"{key.env}={raw!r}: {e}") from e
