"""Transcription: the site's ASR setup, batches of calls through the recognizer, and storing transcripts.

Workers transcribe in threads; only the calling thread writes, one whole
transcript per transaction, so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import functools
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa_review.asr import jobs
from qa_review.asr import models as asr_models
from qa_review.asr import profile as asr_profile
from qa_review.asr.profile import AsrProfile
from qa_review.asr.transcribe import AsrOptions, Transcriber
from qa_review.core import roles
from qa_review.core.domain import MIXED, Transcript
from qa_review.core.errors import ModelError, PermissionDenied, QAReviewError
from qa_review.core.permissions import User, can_read_call, require_pipeline
from qa_review.core.recording_faults import FAULT_CODES, recording_fault
from qa_review.services import cluster, logs
from qa_review.services.catalog import load_checklists
from qa_review.services.settings import Settings
from qa_review.storage import Storage

# A speaker with less of their speech recognized than this gets the call
# flagged: benchmarks/asr.py shows clean calls at 0.97-1.0 and the calls
# that lost whole replies below it.
LOW_COVERAGE = 0.9
LOW_COVERAGE_MIN_SPEECH_S = 3.0  # too little speech to judge a share
LOW_COVERAGE_FLAG = "low_coverage"


def save_transcript(
    db: Storage, actor: User, transcript: Transcript, *, model: str, settings: dict, processing_s: float
) -> None:
    """Store a whole transcript, mark the call transcribed and (un)flag low coverage, in one transaction."""
    require_pipeline(actor, "transcribe")
    _store_transcript(db, transcript, model=model, settings=settings, processing_s=processing_s)


def _store_transcript(db: Storage, transcript: Transcript, *, model: str, settings: dict, processing_s: float) -> None:
    cid = transcript.call_id
    low = [c for c in transcript.coverage if c.speech_s >= LOW_COVERAGE_MIN_SPEECH_S and c.coverage < LOW_COVERAGE]
    flags = {}
    if low:
        flags[LOW_COVERAGE_FLAG] = "; ".join(
            f"{c.speaker}: {c.coverage:.0%} of {c.speech_s:.0f} s of speech recognized" for c in low
        )
    fault = recording_fault(transcript)
    if fault is not None:
        flags[fault.code] = fault.detail
    with db.atomic():
        db.transcripts.save(transcript, model=model, settings=settings, processing_s=processing_s)
        db.calls.mark_transcribed(cid)
        # One flag mechanism for everything a person should look at; a new transcript decides afresh.
        for code in (LOW_COVERAGE_FLAG, *FAULT_CODES):
            if code in flags:
                db.calls.set_flag(cid, code, flags[code])
            else:
                db.calls.clear_flag(cid, code)


def _may_read(db: Storage, user: User, call: dict) -> None:
    if not can_read_call(user, call["operator"], db.users.operator_team(call["operator"])):
        raise PermissionDenied(f"{user.username} ({user.role}) may not open call {call['call_id']}", code="denied")


def transcript_info(db: Storage, user: User, call_id: str) -> dict | None:
    """The ASR facts of a call (model, settings, coverage, unheard stretches) and its flags."""
    _may_read(db, user, db.calls.get(call_id))
    return _info(db, call_id)


def _info(db: Storage, call_id: str) -> dict | None:
    info = db.transcripts.info(call_id)
    if info is not None:
        info["flags"] = db.calls.flags([call_id]).get(call_id, [])
    return info


def list_calls(db: Storage, user: User, *, status: str | None = None) -> list[dict]:
    """The calls this user may read, newest first."""
    teams = db.users.teams_by_operator()
    return [c for c in db.calls.list(status=status) if can_read_call(user, c["operator"], teams.get(c["operator"]))]


def call_detail(db: Storage, user: User, call_id: str) -> dict:
    """A call with its transcript (None until transcribed) and ASR facts, if this user may read it."""
    call = db.calls.get(call_id)
    _may_read(db, user, call)
    return {"call": call, "transcript": db.transcripts.get(call_id), "asr": _info(db, call_id)}


@dataclass(frozen=True)
class AsrSetup:
    profile: AsrProfile
    options: AsrOptions
    model: str  # what the user named
    model_path: str  # what faster-whisper loads


def asr_setup(
    settings: Settings, *, model: str | None = None, language: str | None = None, resolve_model: bool = True
) -> AsrSetup:
    """The site's ASR profile with the overrides applied: option > environment > profile file.

    A bad profile or an unknown or missing model fails here, before any call is tried
    (``resolve_model=False``: the workers of a cluster find the model in their own folders).
    """
    profile = asr_profile.load(settings.asr_profile)
    spec = model or settings.model or profile.model
    options = profile.options(language=language or settings.language)
    return AsrSetup(profile, options, spec, asr_models.resolve(spec, settings.models_dir) if resolve_model else spec)


@dataclass
class TranscribeReport:
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    held_elsewhere: int = 0  # waiting calls another run is transcribing
    mono_undivided: int = 0  # mono calls left as one speaker: no speaker encoder installed
    audio_s: float = 0.0
    processing_s: float = 0.0

    @property
    def real_time_factor(self) -> float:
        return self.processing_s / self.audio_s if self.audio_s else 0.0

    def summary(self) -> str:
        text = (
            f"{len(self.done)} transcribed, {len(self.failed)} failed; "
            f"{self.audio_s / 60:.1f} min of audio in {self.processing_s:.0f} s "
            f"(real-time factor {self.real_time_factor:.2f})"
        )
        if self.held_elsewhere:
            text += f"; {self.held_elsewhere} being transcribed by another run"
        if self.mono_undivided:
            text += (
                f"; {self.mono_undivided} mono call(s) kept as one speaker: run "
                "`qa-review models install voice-encoder` and transcribe them again to tell operator from client"
            )
        return text


TranscribeProgress = Callable[[int, int, str, str | None], None]  # done, total, call, error

# A run renews its leases every third of this; a run that stops renewing
# (killed, machine down) loses its calls to the next run after this long.
LEASE_S = 60.0


def transcribe_pending(
    db: Storage,
    actor: User,
    settings: Settings,
    make_transcriber: Callable[[], Transcriber],
    *,
    call_ids: list[str] | None = None,
    progress: TranscribeProgress | None = None,
    workers: int = 1,
    profile: AsrProfile | None = None,
    lease_s: float = LEASE_S,
    clock: Callable[[], float] = time.time,
    scheduler: str | None = None,
    security=None,
    shared_storage: bool = False,
    saved: Callable[[dict], None] | None = None,
) -> TranscribeReport:
    """Transcribe every audio call without a transcript (or those in ``call_ids``).

    Each call is a Dask task (``asr.jobs.run_job``): on a local cluster in
    this process (``workers`` calls at once, sharing one model), or on the
    workers of the cluster at ``scheduler`` (each loads the model once, from
    its own models folder; the recording travels with the task unless
    ``shared_storage``). Calls are taken one at a time under a lease, so
    coordinators on one database share the work and a killed one's calls are
    taken again once its leases expire; only this thread writes, one whole
    transcript per transaction, as results arrive, and it renews the leases
    while the tasks run. A task whose worker died is run again elsewhere
    (Dask's ``allowed-failures``, 3); a call that kills workers that often
    is marked failed. ``saved`` is called with each call whose transcript
    was stored (the workflow scores it there and then).
    """
    require_pipeline(actor, "transcribe")
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    report = TranscribeReport()
    tried: list[str] = []  # failed in this run: not taken again by it
    total = db.calls.waiting(now=clock(), among=call_ids)
    if not total:
        report.held_elsewhere = db.calls.held_elsewhere(owner, now=clock(), among=call_ids)
        return report
    started = time.perf_counter()
    profile = profile or asr_profile.load(settings.asr_profile)
    names = db.users.spoken_names()
    checklists, _ = load_checklists(settings.checklist_dirs)  # their phrases tell the operator's voice
    engine = jobs.Engine(
        make_transcriber,
        # a site model is kept by a worker from batch to batch; anything else is built afresh
        key=repr(make_transcriber) if isinstance(make_transcriber, jobs.SiteModel) else uuid.uuid4().hex,
        models_dir=None if scheduler else str(settings.models_dir),
        diarize=settings.diarize,
    )

    @functools.cache
    def phrases(channel: str, direction: str | None, operator_name: str | None) -> tuple[tuple, tuple]:
        applying = [lc.checklist for lc in checklists if lc.checklist.applies(channel, direction)]
        op, cl = roles.role_phrases(applying, profile.variables(operator_name))
        return tuple(op), tuple(cl)

    def job_for(call: dict) -> jobs.CallJob:
        operator_name = names.get(call["operator"])
        op, cl = phrases(call["channel"], call["direction"], operator_name)
        path = Path(call["source_path"])
        return jobs.CallJob(
            call_id=call["call_id"],
            source=str(path),
            channel_roles=settings.channel_roles,
            audio=None if shared_storage or not scheduler else _read_recording(call["call_id"], path),
            hotwords=profile.hotwords(operator_name),
            direction=call["direction"],
            operator_phrases=op,
            client_phrases=cl,
        )

    ref = engine if scheduler else jobs.here(engine)

    def claim() -> dict | None:
        with db.atomic():
            return db.calls.claim(owner, now=clock(), lease_s=lease_s, among=call_ids, skip=tried)

    in_flight: dict = {}
    n = 0
    try:
        with cluster.connect(scheduler, workers=workers, security=security) as client:

            def fill() -> None:
                # asked each time: workers join and leave a cluster while it runs
                slots = cluster.task_slots(client, workers, remote=bool(scheduler))
                while len(in_flight) < slots and (call := claim()) is not None:
                    try:
                        job = job_for(call)
                    except QAReviewError as e:
                        _store_failure(db, call["call_id"], str(e), report, tried)
                        continue
                    future = client.submit(jobs.run_job, ref, job, key=f"transcribe-{call['call_id']}-{owner}")
                    in_flight[future] = call

            try:
                fill()
                beat = clock()
                while in_flight:
                    finished = cluster.first_done(list(in_flight), timeout=lease_s / 3)
                    if clock() - beat >= lease_s / 3:
                        with db.atomic():
                            db.calls.renew(owner, (c["call_id"] for c in in_flight.values()), until=clock() + lease_s)
                        beat = clock()
                    for fut in finished:
                        call = in_flight.pop(fut)
                        n += 1
                        error = _store_result(db, fut, call, report, tried, warn_mono=settings.diarize)
                        if error is None and saved:
                            saved(call)
                        if progress:
                            progress(n, max(n, total), call["call_id"], error)
                    fill()
            finally:
                # Ctrl-C or a fatal error: the calls still out are not waited for (their leases are given back)
                if in_flight:
                    client.cancel(list(in_flight))
    finally:
        if not scheduler:
            jobs.gone(engine.key)
        with db.atomic():
            db.calls.release(owner)
    report.held_elsewhere = db.calls.held_elsewhere(owner, now=clock(), among=call_ids)
    report.processing_s = time.perf_counter() - started
    logs.event(
        "transcribe batch",
        done=len(report.done),
        failed=len(report.failed),
        held_elsewhere=report.held_elsewhere,
        audio_s=report.audio_s,
        seconds=report.processing_s,
        workers=workers,
        cluster="remote" if scheduler else "local",
    )
    return report


def _read_recording(call_id: str, path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise QAReviewError(f"call {call_id}: cannot read the recording {path} ({e.strerror}); restore the file") from e


def _store_failure(db: Storage, cid: str, reason: str, report: TranscribeReport, tried: list) -> None:
    with db.atomic():
        db.calls.mark_failed(cid, reason)
    logs.event("transcription failed", "warning", call=cid, reason=reason)
    report.failed.append((cid, reason))
    tried.append(cid)


def _store_result(
    db: Storage, fut, call: dict, report: TranscribeReport, tried: list, *, warn_mono: bool
) -> str | None:
    """Store one finished call's transcript, or its failure; the failure's reason is returned.

    A worker that cannot load the model stops the batch: every call would fail the same way.
    """
    cid = call["call_id"]
    try:
        transcript, took, model, options = fut.result()
    except ModelError as e:
        logs.event("model failed", "error", call=cid, error=type(e).__name__, message=str(e))
        raise
    except Exception as e:  # one call's failure must not stop the batch
        reason = cluster.failure_reason(cid, e)
        _store_failure(db, cid, reason, report, tried)
        return reason
    _store_transcript(db, transcript, model=model, settings=options, processing_s=round(took, 3))
    report.done.append(cid)
    report.audio_s += transcript.duration_s
    logs.event(
        "transcribed",
        call=cid,
        model=model,
        audio_s=transcript.duration_s,
        seconds=took,
        rtf=took / transcript.duration_s if transcript.duration_s else None,
        segments=len(transcript.segments),
    )
    if warn_mono and transcript.diarization is None and any(s.speaker == MIXED for s in transcript.segments):
        report.mono_undivided += 1
    return None
