"""Transcription: the site's ASR setup, batches of calls through the recognizer, and storing transcripts.

Workers transcribe in threads; only the calling thread writes, one whole
transcript per transaction, so an interrupted batch resumes where it stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from qa_review.asr import models as asr_models
from qa_review.asr import profile as asr_profile
from qa_review.asr.profile import AsrProfile
from qa_review.asr.transcribe import AsrOptions, Transcriber, transcribe_call
from qa_review.core.domain import Transcript
from qa_review.core.errors import QAReviewError
from qa_review.services.settings import Settings
from qa_review.storage import Storage

# A speaker with less of their speech recognized than this gets the call
# flagged: benchmarks/asr.py shows clean calls at 0.97-1.0 and the calls
# that lost whole replies below it.
LOW_COVERAGE = 0.9
LOW_COVERAGE_MIN_SPEECH_S = 3.0  # too little speech to judge a share
LOW_COVERAGE_FLAG = "low_coverage"


def save_transcript(db: Storage, transcript: Transcript, *, model: str, settings: dict, processing_s: float) -> None:
    """Store a whole transcript, mark the call transcribed and (un)flag low coverage, in one transaction."""
    cid = transcript.call_id
    low = [c for c in transcript.coverage if c.speech_s >= LOW_COVERAGE_MIN_SPEECH_S and c.coverage < LOW_COVERAGE]
    with db.atomic():
        db.transcripts.save(transcript, model=model, settings=settings, processing_s=processing_s)
        db.calls.mark_transcribed(cid)
        if low:
            detail = "; ".join(f"{c.speaker}: {c.coverage:.0%} of {c.speech_s:.0f} s of speech recognized" for c in low)
            db.calls.set_flag(cid, LOW_COVERAGE_FLAG, detail)
        else:
            db.calls.clear_flag(cid, LOW_COVERAGE_FLAG)


def transcript_info(db: Storage, call_id: str) -> dict | None:
    """The ASR facts of a call (model, settings, coverage, unheard stretches) and its flags."""
    info = db.transcripts.info(call_id)
    if info is not None:
        info["flags"] = db.calls.flags([call_id]).get(call_id, [])
    return info


def list_calls(db: Storage, *, status: str | None = None) -> list[dict]:
    return db.calls.list(status=status)


def call_detail(db: Storage, call_id: str) -> dict:
    """A call with its transcript (None until transcribed) and ASR facts."""
    return detail_of(db, db.calls.get(call_id))


def detail_of(db: Storage, call: dict) -> dict:
    """:func:`call_detail` for a call already read."""
    cid = call["call_id"]
    return {"call": call, "transcript": db.transcripts.get(cid), "asr": transcript_info(db, cid)}


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
    audio_s: float = 0.0
    processing_s: float = 0.0

    @property
    def real_time_factor(self) -> float:
        return self.processing_s / self.audio_s if self.audio_s else 0.0

    def summary(self) -> str:
        return (
            f"{len(self.done)} transcribed, {len(self.failed)} failed; "
            f"{self.audio_s / 60:.1f} min of audio in {self.processing_s:.0f} s "
            f"(real-time factor {self.real_time_factor:.2f})"
        )


TranscribeProgress = Callable[[int, int, str, str | None], None]  # done, total, call, error


def transcribe_pending(
    db: Storage,
    settings: Settings,
    make_transcriber: Callable[[], Transcriber],
    *,
    call_ids: list[str] | None = None,
    progress: TranscribeProgress | None = None,
    workers: int = 1,
    profile: AsrProfile | None = None,
) -> TranscribeReport:
    """Transcribe every audio call without a transcript (or those in ``call_ids``).

    Workers transcribe in threads (CTranslate2 releases the GIL); only this
    thread writes, one whole transcript per transaction, so an interrupted
    batch resumes where it stopped.
    """
    calls = db.calls.to_transcribe()
    if call_ids is not None:
        wanted = set(call_ids)
        calls = [c for c in calls if c["call_id"] in wanted]
    report = TranscribeReport()
    if not calls:
        return report
    transcriber = make_transcriber()
    started = time.perf_counter()
    profile = profile or asr_profile.load(settings.asr_profile)
    names = db.users.spoken_names()

    def work(call: dict):
        t0 = time.perf_counter()
        tr = transcribe_call(
            call["call_id"],
            Path(call["source_path"]),
            transcriber,
            settings.channel_roles,
            hotwords=profile.hotwords(names.get(call["operator"])),
        )
        return tr, time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {pool.submit(work, c): c for c in calls}
        for n, fut in enumerate(as_completed(futures), 1):
            call = futures[fut]
            cid = call["call_id"]
            try:
                transcript, took = fut.result()
            except Exception as e:  # one call's failure must not stop the batch
                reason = str(e) if isinstance(e, QAReviewError) else f"call {cid}: {e!r}"
                db.calls.mark_failed(cid, reason)
                report.failed.append((cid, reason))
                if progress:
                    progress(n, len(calls), cid, reason)
                continue
            save_transcript(
                db,
                transcript,
                model=transcriber.model_name,
                settings=transcriber.options.to_dict(),
                processing_s=round(took, 3),
            )
            report.done.append(cid)
            report.audio_s += transcript.duration_s
            if progress:
                progress(n, len(calls), cid, None)
    report.processing_s = time.perf_counter() - started
    return report
