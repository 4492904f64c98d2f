"""One call's transcription as a task a worker runs anywhere: everything that needs the model.

A task carries the recording (its bytes, or its path where the workers see the
same disk) and the call's facts (roles of the channels, vocabulary, direction,
the checklists' phrases); the worker decodes, transcribes, guards against lost
speech, tells a mono call's voices apart and names the roles, and returns the
transcript. It never touches the database: the coordinator saves.

Each worker process builds its engine (the ASR model and the speaker encoder)
once per ``Engine.key`` and keeps it for the next tasks.
"""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa_review.asr import models as asr_models
from qa_review.asr.allocator import restore_malloc_thresholds
from qa_review.asr.diarize import Diarizer
from qa_review.asr.transcribe import AsrOptions, Transcriber, transcribe_call
from qa_review.core import roles
from qa_review.core.domain import Transcript
from qa_review.core.errors import ModelError, QAReviewError


@dataclass(frozen=True)
class CallJob:
    call_id: str
    source: str  # the recording's path on the coordinator (and on the workers, with shared storage)
    channel_roles: tuple[str, str]
    audio: bytes | None = None  # the recording itself, when the workers do not share the disk
    hotwords: str | None = None
    direction: str | None = None
    operator_phrases: tuple[str, ...] = ()
    client_phrases: tuple[str, ...] = ()


def worker_models_dir() -> Path:
    """Where a worker machine keeps its models: QA_REVIEW_MODELS there, else ./models."""
    return Path(os.environ.get("QA_REVIEW_MODELS") or "models")


@dataclass(frozen=True)
class SiteModel:
    """The site's model (``spec``: a registry name, a faster-whisper name or a folder) loaded where the
    task runs, with the ASR options the coordinator sends, so every worker transcribes the same way.

    ``models_dir`` None: the worker's own (:func:`worker_models_dir`).
    """

    spec: str
    options: AsrOptions
    models_dir: str | None = None

    def __call__(self) -> Transcriber:
        from qa_review.asr.engines import make_transcriber

        where = Path(self.models_dir) if self.models_dir else worker_models_dir()
        try:
            path = asr_models.resolve(self.spec, where)
            return make_transcriber(path, self.options, model_name=self.spec)
        except ModelError as e:
            raise ModelError(f"on worker {socket.gethostname()}: {e}") from e


@dataclass(frozen=True)
class Engine:
    """How a worker builds what transcribes: the recognizer, and the speaker encoder's folder (None: no diarization)."""

    make_transcriber: Callable[[], Transcriber]
    key: str  # one build per key and process
    models_dir: str | None = None  # None: the worker's own (speaker encoder)
    diarize: bool = True


_built: dict[str, tuple[Transcriber, Diarizer | None]] = {}
_lock = threading.Lock()
# Engines of a cluster inside this process, by key: its tasks carry only the key,
# so a factory that cannot be pickled (a test's, a closure) still works locally.
_here: dict[str, Engine] = {}


def here(engine: Engine) -> str:
    """Make ``engine`` reachable by key for tasks run in this process; forget it with :func:`gone`."""
    _here[engine.key] = engine
    return engine.key


def gone(key: str) -> None:
    _here.pop(key, None)
    with _lock:
        _built.pop(key, None)


def _engine(engine: Engine | str) -> tuple[Transcriber, Diarizer | None]:
    if isinstance(engine, str):
        engine = _here[engine]
    with _lock:
        if engine.key not in _built:
            _built.clear()  # a worker keeps one model: a new batch's model replaces the last one
            restore_malloc_thresholds()
            transcriber = engine.make_transcriber()
            where = Path(engine.models_dir) if engine.models_dir else worker_models_dir()
            diarizer = Diarizer.installed(where) if engine.diarize else None
            _built[engine.key] = (transcriber, diarizer)
        return _built[engine.key]


def run_job(engine: Engine | str, job: CallJob) -> tuple[Transcript, float, str, dict]:
    """Transcribe one call: (transcript, seconds it took, model name, options).

    ``engine``: the Engine itself (a remote worker builds it), or the key of one in this process.
    """
    transcriber, diarizer = _engine(engine)
    t0 = time.perf_counter()
    if job.audio is None:
        transcript = _transcribe(job, Path(job.source), transcriber, diarizer)
    else:
        suffix = Path(job.source).suffix
        with tempfile.NamedTemporaryFile(suffix=suffix) as f:
            f.write(job.audio)
            f.flush()
            try:
                transcript = _transcribe(job, Path(f.name), transcriber, diarizer)
            except QAReviewError as e:
                # the worker's scratch copy means nothing to whoever reads the failure: name the recording
                where = f"{job.source} (as sent to worker {socket.gethostname()})"
                raise type(e)(str(e).replace(f.name, where), code=e.code, **e.params) from e
    return transcript, time.perf_counter() - t0, transcriber.model_name, transcriber.options.to_dict()


def _transcribe(job: CallJob, path: Path, transcriber: Transcriber, diarizer: Diarizer | None) -> Transcript:
    t = transcribe_call(job.call_id, path, transcriber, job.channel_roles, hotwords=job.hotwords, diarizer=diarizer)
    if t.diarization is not None:
        t = roles.assign(
            t,
            direction=job.direction,
            operator_phrases=job.operator_phrases,
            client_phrases=job.client_phrases,
        )
    return t
