"""Continuous intake: a watched folder's new recordings and conversations are ingested, transcribed and scored.

One process, safe to stop and start again: a file already ingested is
known by the path it came from, a file that failed is not tried again
until it changes (also across a restart: the failure is in the database),
and the calls a killed run left untranscribed are taken on the first round
(under the transcription leases, so two intakes on one database share the
work rather than repeat it). The model is loaded once per process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from qa_review.asr.audio import AUDIO_SUFFIXES
from qa_review.asr.transcribe import Transcriber
from qa_review.core.domain import AUDIO
from qa_review.core.intake import Settling, Stamp
from qa_review.core.permissions import User, require_pipeline
from qa_review.services import logs, workflow
from qa_review.services.settings import Settings
from qa_review.storage import Storage


@dataclass
class Round:
    ingested: list[str] = field(default_factory=list)  # call ids
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why): each reported once
    waiting: int = 0  # files seen but not complete yet
    transcribed: int = 0
    transcription_failed: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{len(self.ingested)} ingested, {len(self.failed)} failed, {self.waiting} still being written, "
            f"{self.transcribed} transcribed, {len(self.transcription_failed)} not transcribed"
        )


def _stamp(p: Path) -> Stamp | None:
    try:
        st = p.stat()
    except OSError:  # gone between the listing and now
        return None
    return st.st_size, st.st_mtime


class Intake:
    def __init__(
        self,
        db: Storage,
        actor: User,
        settings: Settings,
        folder: Path,
        make_transcriber: Callable[[], Transcriber],
        *,
        settle_s: float = 10.0,
        workers: int = 1,
        scheduler: str | None = None,
        profile=None,
    ) -> None:
        require_pipeline(actor, "watch")
        self.db, self.actor, self.settings, self.folder = db, actor, settings, Path(folder).resolve()
        self.settling = Settling(settle_s)
        self.tried: dict[str, Stamp] = {}  # failed here: not again until the file changes
        self.workers, self.scheduler, self.profile = workers, scheduler, profile
        self._make, self._model = make_transcriber, None
        self._caught_up = False

    def _transcriber(self) -> Transcriber:
        if self._model is None:
            with logs.step("model loaded"):
                self._model = self._make()
        return self._model

    def _files(self) -> dict[str, Stamp]:
        found = [p for p in self.folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
        audio_stems = {p.with_suffix("") for p in found if p.suffix.lower() in AUDIO_SUFFIXES}
        out = {}
        for p in found:
            suffix = p.suffix.lower()
            if suffix in AUDIO_SUFFIXES or (suffix == ".json" and p.with_suffix("") not in audio_stems):
                if (stamp := _stamp(p)) is not None:
                    out[str(p)] = stamp
        return out

    def round(self, now: float | None = None) -> Round:
        """One pass: take the complete new files, then transcribe and score what waits."""
        started = time.perf_counter()
        now = time.time() if now is None else now
        r = Round()
        files = self._files()
        known = self.db.calls.known_origins(files)
        failed_at = self.db.calls.open_error_times(files)
        new = {}
        for path, stamp in files.items():
            if path in known or self.tried.get(path) == stamp:
                continue
            if path in failed_at and datetime.fromisoformat(failed_at[path]).timestamp() >= stamp[1]:
                continue  # failed in an earlier run and not changed since
            new[path] = stamp
        ready = self.settling.ready(new, now)
        r.waiting = len(new) - len(ready)
        for path in ready:
            report, _ = workflow.ingest_then_score(self.db, self.actor, Path(path), self.settings)
            r.ingested += report.added
            if report.errors:
                self.tried[path] = new[path]
                r.failed += report.errors
        audio = [c for c, row in self.db.calls.many(r.ingested).items() if row["kind"] == AUDIO]
        if audio or not self._caught_up:
            # The first round also takes what a stopped run left untranscribed.
            rep, _ = workflow.transcribe_then_score(
                self.db,
                self.actor,
                self.settings,
                self._transcriber,
                call_ids=None if not self._caught_up else sorted(audio),
                workers=self.workers,
                scheduler=self.scheduler,
                profile=self.profile,
            )
            r.transcribed, r.transcription_failed = len(rep.done), rep.failed
            self._caught_up = True
        busy = r.ingested or r.failed or r.transcribed or r.transcription_failed
        logs.event(
            "intake round",
            "info" if busy else "debug",  # a quiet folder is not a line every half minute
            ingested=len(r.ingested),
            failed=len(r.failed),
            waiting=r.waiting,
            transcribed=r.transcribed,
            transcription_failed=len(r.transcription_failed),
            seconds=time.perf_counter() - started,
        )
        return r

    def watch(self, stop: Callable[[], bool], interval_s: float, report: Callable[[Round], None]) -> None:
        """Rounds until ``stop()``; between them, wait ``interval_s`` (waking early to stop)."""
        while not stop():
            report(self.round())
            deadline = time.monotonic() + interval_s
            while not stop() and time.monotonic() < deadline:
                time.sleep(min(0.5, interval_s))
