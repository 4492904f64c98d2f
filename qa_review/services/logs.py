"""Where qa-review's log goes, and how a step is logged.

Every entry point (the CLI, ``watch``, the app) calls ``configure`` once
with the settings in force: the log goes to ``log_file`` (reopened when
logrotate moves it) or to standard error (journald under systemd), one
line per event, at ``log_level`` and above. Only the ``qa_review`` logger is
set up: Dask's and Streamlit's own logs keep their handlers.

Services log events (``event``) and timed steps (``step``): what happened,
to which call (its id), how long it took; ``core.log_lines`` scrubs every
text. No transcript text, names or comments are ever passed in.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from qa_review.core.errors import ConfigError
from qa_review.core.log_lines import OFF, line

LOGGER = "qa_review"
_FIELDS = "qa_fields"
_OURS = "_qa_review_handler"
_LEVEL_NUMBERS = logging.getLevelNamesMapping()  # a copy a call otherwise, and event() runs for every call


class _Lines(logging.Formatter):
    def __init__(self, fmt: str):
        super().__init__()
        self.fmt = fmt

    def format(self, record: logging.LogRecord) -> str:
        fields = dict(getattr(record, _FIELDS, {}))
        if record.exc_info and record.exc_info[1] is not None:
            e = record.exc_info[1]
            fields.setdefault("error", type(e).__name__)
            fields.setdefault("message", str(e))
            fields["traceback"] = "".join(traceback.format_exception(*record.exc_info)).strip()
        at = datetime.fromtimestamp(record.created, UTC)
        return line(at, record.levelname.lower(), record.getMessage(), fields, self.fmt)


class _Stderr(logging.StreamHandler):
    """Standard error as it is when a line is written (a test runner or a daemon may swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _):
        pass


def configure(level: str = OFF, file: Path | None = None, fmt: str = "text", *, stream=None) -> None:
    """Send the ``qa_review`` log to ``file`` (else ``stream``, else standard error); calling again replaces it.

    ``off``: no log at all, not even Python's last-resort lines on standard error.
    """
    logger = logging.getLogger(LOGGER)
    for h in [h for h in logger.handlers if getattr(h, _OURS, False)]:
        logger.removeHandler(h)
        h.close()
    logger.propagate = False  # one line per event, whatever the host (Streamlit, Dask) set on the root logger
    if level == OFF:
        logger.setLevel(logging.CRITICAL + 1)
        return
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            # reopens the file when logrotate has moved it away
            handler: logging.Handler = logging.handlers.WatchedFileHandler(file, encoding="utf-8")
        except OSError as e:
            raise ConfigError(
                f"log_file {file}: cannot write there ({e.strerror}); give a file the service's user may write, "
                "or leave log_file out to log to standard error"
            ) from e
    else:
        handler = logging.StreamHandler(stream) if stream is not None else _Stderr()
    setattr(handler, _OURS, True)
    handler.setFormatter(_Lines(fmt))
    logger.addHandler(handler)
    logger.setLevel(level.upper())


def configure_from(settings) -> None:
    configure(settings.log_level, settings.log_file, settings.log_format)


def crash(name: str, /, **fields) -> None:
    """Log ``name`` as an error with the exception being handled and its traceback (scrubbed like every text)."""
    logging.getLogger(LOGGER).exception(name, extra={_FIELDS: fields})


def event(name: str, level: str = "info", /, **fields) -> None:
    """Log ``name`` with ``fields`` (ids, counts, seconds) at ``level``."""
    logging.getLogger(LOGGER).log(_LEVEL_NUMBERS[level.upper()], name, extra={_FIELDS: fields})


@contextmanager
def step(name: str, /, **fields) -> Iterator[dict]:
    """Time a step; log ``name`` with ``seconds`` when it ends, or ``name failed`` (a warning) with the error.

    The dict yielded takes fields learnt along the way (a call id, a count).
    """
    extra: dict = {}
    started = time.perf_counter()
    try:
        yield extra
    except Exception as e:
        failed = {"seconds": time.perf_counter() - started, "error": type(e).__name__, "message": str(e)}
        event(f"{name} failed", "warning", **{**fields, **extra, **failed})
        raise
    event(name, "info", **{**fields, **extra, "seconds": time.perf_counter() - started})
