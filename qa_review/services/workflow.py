"""The data flow's composed steps: what arrives is scored as soon as it can be.

Written conversations arrive with their text, so ingest scores them at once;
recordings are scored when transcription finishes. The CLI and the app both
call these, so neither composes the steps itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qa_review.asr.transcribe import Transcriber
from qa_review.core.domain import AUDIO
from qa_review.core.permissions import User
from qa_review.services import ingest, scoring, transcription
from qa_review.services.settings import Settings
from qa_review.storage import Storage


def ingest_then_score(
    db: Storage,
    actor: User,
    path: Path,
    settings: Settings,
    *,
    manifest: Path | None = None,
    progress: ingest.Progress | None = None,
    score: bool = True,
    only=None,
) -> tuple[ingest.IngestReport, scoring.ScoreReport | None]:
    """Ingest a file or folder; the new calls that arrived with their words (conversations, transcripts) are scored."""
    report = ingest.ingest(db, actor, path, settings, manifest=manifest, progress=progress, only=only)
    ready = [c["call_id"] for c in db.calls.many(report.added).values() if c["kind"] != AUDIO]
    scored = scoring.score_calls(db, actor, settings, call_ids=sorted(ready)) if score and ready else None
    return report, scored


def transcribe_then_score(
    db: Storage,
    actor: User,
    settings: Settings,
    make_transcriber: Callable[[], Transcriber],
    *,
    call_ids: list[str] | None = None,
    progress=None,
    workers: int = 1,
    profile=None,
    score: bool = True,
    scheduler: str | None = None,
    security=None,
    shared_storage: bool = False,
) -> tuple[transcription.TranscribeReport, scoring.ScoreReport | None]:
    """Transcribe the pending calls, scoring each as it is saved; then score every transcribed call
    that still lacks a scorecard.

    Not only this run's: the calls an interrupted run transcribed before it
    stopped, or another run transcribed meanwhile, are scored too.
    """
    scorer = scoring.scorer(db, actor, settings) if score else None
    report = transcription.transcribe_pending(
        db,
        actor,
        settings,
        make_transcriber,
        call_ids=call_ids,
        progress=progress,
        workers=workers,
        profile=profile,
        scheduler=scheduler,
        security=security,
        shared_storage=shared_storage,
        saved=scorer.score if scorer else None,
    )
    scored = scoring.score_calls(db, actor, settings, using=scorer) if scorer else None
    return report, scored
