"""Transcription: the site's ASR setup, batches of calls through the recognizer, and storing transcripts.

Workers transcribe in threads; only the calling thread writes, one whole
transcript per transaction, so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from qa_review.asr import models as asr_models
from qa_review.asr import profile as asr_profile
from qa_review.asr.diarize import Diarizer
from qa_review.asr.profile import AsrProfile
from qa_review.asr.transcribe import AsrOptions, Transcriber, transcribe_call
from qa_review.core import roles
from qa_review.core.domain import MIXED, Transcript
from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.permissions import User, can_read_call, require_pipeline
from qa_review.core.recording_faults import FAULT_CODES, recording_fault
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


def asr_setup(settings: Settings, *, model: str | None = None, language: str | None = None) -> AsrSetup:
    """The site's ASR profile with the overrides applied: option > environment > profile file.

    A bad profile or an unknown or missing model fails here, before any call is tried.
    """
    profile = asr_profile.load(settings.asr_profile)
    spec = model or settings.model or profile.model
    options = profile.options(language=language or settings.language)
    return AsrSetup(profile, options, spec, asr_models.resolve(spec, settings.models_dir))


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
) -> TranscribeReport:
    """Transcribe every audio call without a transcript (or those in ``call_ids``).

    Calls are taken one at a time under a lease, so runs on one database
    share the work and a killed run's calls are taken again once its leases
    expire. Workers transcribe in threads (CTranslate2 releases the GIL);
    only this thread writes, one whole transcript per transaction, and it
    renews the leases while the workers run.
    """
    require_pipeline(actor, "transcribe")
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    report = TranscribeReport()
    tried: list[str] = []  # failed in this run: not taken again by it
    total = db.calls.waiting(now=clock(), among=call_ids)
    if not total:
        report.held_elsewhere = db.calls.held_elsewhere(owner, now=clock(), among=call_ids)
        return report
    transcriber = make_transcriber()
    started = time.perf_counter()
    profile = profile or asr_profile.load(settings.asr_profile)
    names = db.users.spoken_names()
    diarizer = Diarizer.installed(settings.models_dir) if settings.diarize else None
    checklists, _ = load_checklists(settings.checklists_dir)  # their phrases tell the operator's voice

    def work(call: dict):
        t0 = time.perf_counter()
        operator_name = names.get(call["operator"])
        tr = transcribe_call(
            call["call_id"],
            Path(call["source_path"]),
            transcriber,
            settings.channel_roles,
            hotwords=profile.hotwords(operator_name),
            diarizer=diarizer,
        )
        if tr.diarization is not None:
            applying = [lc.checklist for lc in checklists if lc.checklist.applies(call["channel"], call["direction"])]
            op, cl = roles.role_phrases(applying, profile.variables(operator_name))
            tr = roles.assign(tr, direction=call["direction"], operator_phrases=op, client_phrases=cl)
        return tr, time.perf_counter() - t0

    def claim() -> dict | None:
        with db.atomic():
            return db.calls.claim(owner, now=clock(), lease_s=lease_s, among=call_ids, skip=tried)

    in_flight: dict[Future, dict] = {}
    n = 0
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:

            def fill() -> None:
                while len(in_flight) < max(1, workers) and (call := claim()) is not None:
                    in_flight[pool.submit(work, call)] = call

            fill()
            beat = clock()
            while in_flight:
                finished, _ = wait(in_flight, timeout=lease_s / 3, return_when=FIRST_COMPLETED)
                if clock() - beat >= lease_s / 3:
                    with db.atomic():
                        db.calls.renew(owner, (c["call_id"] for c in in_flight.values()), until=clock() + lease_s)
                    beat = clock()
                for fut in finished:
                    call = in_flight.pop(fut)
                    n += 1
                    error = _store_result(
                        db, fut, call, transcriber, report, tried, warn_mono=settings.diarize and not diarizer
                    )
                    if progress:
                        progress(n, max(n, total), call["call_id"], error)
                fill()
    finally:
        with db.atomic():
            db.calls.release(owner)
    report.held_elsewhere = db.calls.held_elsewhere(owner, now=clock(), among=call_ids)
    report.processing_s = time.perf_counter() - started
    return report


def _store_result(
    db: Storage, fut: Future, call: dict, transcriber, report: TranscribeReport, tried: list, *, warn_mono: bool
) -> str | None:
    """Store one finished call's transcript, or its failure; the failure's reason is returned."""
    cid = call["call_id"]
    try:
        transcript, took = fut.result()
    except Exception as e:  # one call's failure must not stop the batch
        reason = str(e) if isinstance(e, QAReviewError) else f"call {cid}: {e!r}"
        with db.atomic():
            db.calls.mark_failed(cid, reason)
        report.failed.append((cid, reason))
        tried.append(cid)
        return reason
    _store_transcript(
        db,
        transcript,
        model=transcriber.model_name,
        settings=transcriber.options.to_dict(),
        processing_s=round(took, 3),
    )
    report.done.append(cid)
    report.audio_s += transcript.duration_s
    if warn_mono and any(s.speaker == MIXED for s in transcript.segments):
        report.mono_undivided += 1
    return None
