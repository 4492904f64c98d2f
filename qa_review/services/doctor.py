"""qa-review doctor: is this deployment sound? Each piece checked on its own, each problem with what to do.

An IT person installing qa-review at a clinic needs one command that tells
a working installation from a broken one before users find out: the
configuration, the database and its schema, the model, the checklists and
rules, the recordings archive and its disk, the time zone, the app's port.
A broken piece never stops the others from being checked.
"""

from __future__ import annotations

import shutil
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from qa_review.asr.engines import make_transcriber
from qa_review.core.errors import QAReviewError
from qa_review.core.log_lines import OFF
from qa_review.core.permissions import User, require_pipeline
from qa_review.services import archive, catalog, scoring, transcription
from qa_review.services.settings import Effective, Settings
from qa_review.storage import database_status

OK, WARN, FAIL = "ok", "warn", "FAIL"
LOW_DISK_BYTES = 5 * 2**30  # a day of a large centre's recordings, roughly


@dataclass(frozen=True)
class Finding:
    status: str  # ok | warn | FAIL
    what: str
    detail: str


def _run(name: str, check: Callable[[], Finding]) -> Finding:
    try:
        return check()
    except QAReviewError as e:
        return Finding(FAIL, name, str(e))
    except OSError as e:
        return Finding(FAIL, name, f"{e.strerror or e}: {e.filename or ''}".rstrip(": "))


def check(
    actor: User,
    effective: Effective,
    *,
    config_error: QAReviewError | None = None,
    port: int = 8501,
    load_model: bool = True,
) -> list[Finding]:
    """Every check's finding, in order; ``load_model``: load the ASR model and run it on a second of silence."""
    require_pipeline(actor, "doctor")
    s = effective.settings
    out = []
    if config_error is not None:
        out.append(Finding(FAIL, "configuration", f"{config_error}\n(the other checks use the defaults)"))
    else:
        where = f"{effective.config}" if effective.config else "no file (defaults and environment)"
        out.append(Finding(OK, "configuration", f"{where}; `qa-review config show` lists every setting"))
    out.append(_run("database", lambda: _database(s)))
    out.append(_run("ASR model", lambda: _model(s, load_model)))
    out.append(_run("checklists", lambda: _checklists(s)))
    out.append(_run("rules", lambda: _rules(s)))
    out.append(_run("recordings archive", lambda: _archive(s)))
    out.append(_run("log", lambda: _log(s)))
    out.append(
        _run(
            "time zone",
            lambda: Finding(OK, "time zone", f"{s.timezone}: now {datetime.now(s.tz):%Y-%m-%d %H:%M} there"),
        )
    )
    out.append(_run("app port", lambda: _port(port)))
    return out


def _database(s: Settings) -> Finding:
    st = database_status(s.db_path)
    if st.unknown:
        return Finding(
            FAIL, "database", f"{s.db_path}: written by a newer qa-review ({', '.join(st.unknown)}); upgrade qa-review"
        )
    schema = st.applied[-1] if st.applied else "empty"
    if st.pending:
        return Finding(
            WARN,
            "database",
            f"{s.db_path}: schema {schema}, {len(st.pending)} migration(s) to apply ({', '.join(st.pending)}); "
            "run `qa-review migrate` (it copies the database first)",
        )
    return Finding(OK, "database", f"{s.db_path}: schema {schema} (up to date), {st.calls} call(s)")


def _model(s: Settings, load: bool) -> Finding:
    setup = transcription.asr_setup(s)
    if not load:
        return Finding(OK, "ASR model", f"{setup.model} installed at {setup.model_path} (not loaded: --no-load)")
    try:
        model = make_transcriber(str(setup.model_path), setup.options, model_name=setup.model)
        model.transcribe(np.zeros(16000, dtype=np.float32), vad=False)
    except Exception as e:  # noqa: BLE001  (whatever the engine raises, the finding is the same)
        return Finding(
            FAIL,
            "ASR model",
            f"{setup.model} at {setup.model_path} is installed but does not load ({type(e).__name__}: {e}); "
            f"install it again: qa-review models install {setup.model}",
        )
    return Finding(OK, "ASR model", f"{setup.model} installed at {setup.model_path}, loads and runs")


def _checklists(s: Settings) -> Finding:
    good, bad = scoring.checklists(s)
    folders = ", ".join(str(f) for f in s.checklist_dirs)
    if bad:
        return Finding(FAIL, "checklists", "\n".join(bad) + "\n(fix or remove these files; the others are used)")
    if not good:
        return Finding(FAIL, "checklists", f"no checklist in {folders}: calls would not be scored")
    return Finding(OK, "checklists", f"{len(good)} valid in {folders}: {', '.join(lc.checklist.id for lc in good)}")


def _rules(s: Settings) -> Finding:
    bonus = catalog.load_rules(s.bonus_rules)
    log = catalog.load_call_log_rules(s.call_log_rules)
    return Finding(OK, "rules", f"bonus rules {bonus.source}; call log rules {log.source}")


def _archive(s: Settings) -> Finding:
    where = archive.folder(s)
    where.mkdir(parents=True, exist_ok=True)
    probe = where / f".doctor-{uuid.uuid4().hex}"
    probe.write_bytes(b"qa-review")
    probe.unlink()
    free = shutil.disk_usage(where).free
    text = f"{where}: writable, {free / 2**30:.1f} GiB free"
    if free < LOW_DISK_BYTES:
        return Finding(WARN, "recordings archive", text + "; new recordings will soon fail to be kept: free some space")
    return Finding(OK, "recordings archive", text)


def _log(s: Settings) -> Finding:
    if s.log_level == OFF:
        return Finding(OK, "log", "off; for services set log_level: info (and log_file), see the README's Logs")
    if s.log_file is None:
        return Finding(OK, "log", f"{s.log_level} and above, {s.log_format} lines, to standard error")
    try:
        s.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(s.log_file, "a", encoding="utf-8"):
            pass
    except OSError as e:
        return Finding(
            FAIL,
            "log",
            f"log_file {s.log_file}: cannot write there ({e.strerror}); every command but doctor refuses to run: "
            "give a file the service's user may write, or leave log_file out to log to standard error",
        )
    return Finding(OK, "log", f"{s.log_level} and above, {s.log_format} lines, to {s.log_file} (writable)")


def _port(port: int) -> Finding:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return Finding(
                WARN,
                "app port",
                f"{port} is in use: the app may already run there (fine), or another program holds it "
                "(then start the app with `qa-review serve --port N`)",
            )
    return Finding(OK, "app port", f"{port} is free for `qa-review serve`")
