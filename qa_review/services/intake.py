"""Continuous intake: a watched folder's new recordings and conversations are ingested, transcribed and scored.

With a manifest pattern, CSV manifests the PBX drops into the folder give
the calls' metadata: a recording a manifest lists is ingested with its row
(as soon as both are complete, whichever came first), and a recording no
manifest lists waits for one, ``manifest_wait_s`` at most, then goes in on
its file name or sidecar. A manifest is read again whenever it changes (a
PBX that appends a row per call); its own errors are reported once per
version.

One process, safe to stop and start again: a file already ingested is
known by the path it came from, a file that failed is not tried again
until it changes (also across a restart: the failure is in the database),
and the calls a killed run left untranscribed are taken on the first round
(under the transcription leases, so two intakes on one database share the
work rather than repeat it). The model is loaded once per process.
"""

from __future__ import annotations

import fnmatch
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from qa_review.asr.audio import AUDIO_SUFFIXES
from qa_review.asr.transcribe import Transcriber
from qa_review.core.domain import AUDIO
from qa_review.core.errors import ManifestError
from qa_review.core.intake import Settling, Stamp
from qa_review.core.metadata import read_manifest
from qa_review.core.permissions import User, require_pipeline
from qa_review.services import ingest, logs, workflow
from qa_review.services.settings import Settings
from qa_review.storage import Storage


@dataclass
class Round:
    ingested: list[str] = field(default_factory=list)  # call ids
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, why): each reported once
    waiting: int = 0  # files seen but not complete yet
    transcribed: int = 0
    transcription_failed: list[tuple[str, str]] = field(default_factory=list)
    manifests: bool = False  # watching with a manifest pattern
    unlisted: int = 0  # recordings waiting for a manifest to name them
    awaited: int = 0  # rows of the manifests whose recording has not arrived

    def summary(self) -> str:
        text = (
            f"{len(self.ingested)} ingested, {len(self.failed)} failed, {self.waiting} still being written, "
            f"{self.transcribed} transcribed, {len(self.transcription_failed)} not transcribed"
        )
        if self.manifests:
            text += f"; {self.unlisted} recording(s) waiting for a manifest, {self.awaited} listed but not arrived"
        return text


def _stamp(p: Path) -> Stamp | None:
    try:
        st = p.stat()
    except OSError:  # gone between the listing and now
        return None
    return st.st_size, st.st_mtime


MANIFEST, FILE = "manifest", "file"
RACY_NS = 2 * 10**9  # a folder changed this recently may change again within its mtime's tick


@dataclass
class _Folder:
    mtime_ns: int
    subfolders: list[str]
    watched: dict[str, str]  # path -> MANIFEST or FILE: stat'ed every round


class FolderScan:
    """The watched tree, so that an idle round costs a stat per folder rather than one per file.

    A folder whose mtime has not changed holds the same names, so it is not
    listed again; of its files, only those not known to be ingested yet (and
    the manifests, which a PBX appends to) are looked at. A PBX folder grows
    by a day's recordings a day, and most of it is already in.
    """

    def __init__(self, root: Path, manifest_pattern: str | None) -> None:
        self.root, self.manifest_pattern = str(root), manifest_pattern
        self._folders: dict[str, _Folder] = {}

    def files(self) -> tuple[dict[str, Stamp], dict[str, Stamp]]:
        """(recordings and conversations, manifests) in the folder, each with its stamp."""
        files: dict[str, Stamp] = {}
        manifests: dict[str, Stamp] = {}
        started, seen, stack = time.time_ns(), set(), [self.root]
        while stack:
            d = stack.pop()
            try:
                mtime = os.stat(d).st_mtime_ns
            except OSError:  # gone since its parent was listed
                continue
            seen.add(d)
            folder = self._folders.get(d)
            if folder is None or folder.mtime_ns != mtime:
                folder = self._list(d, mtime if started - mtime > RACY_NS else -1)
                self._folders[d] = folder
            stack.extend(folder.subfolders)
            for path, kind in folder.watched.items():
                if (stamp := _stamp(Path(path))) is not None:
                    (manifests if kind == MANIFEST else files)[path] = stamp
        for gone in set(self._folders) - seen:
            del self._folders[gone]
        return files, manifests

    def forget(self, known) -> None:
        """These files are in: not looked at again while their folder is unchanged."""
        for path in known:
            folder = self._folders.get(os.path.dirname(path))
            if folder is not None:
                folder.watched.pop(path, None)

    def _list(self, d: str, mtime_ns: int) -> _Folder:
        subfolders, names = [], []
        try:
            with os.scandir(d) as entries:
                for e in entries:
                    if e.is_dir(follow_symlinks=False):
                        subfolders.append(e.path)
                    elif e.is_file() and not e.name.startswith("."):
                        names.append(e.name)
        except OSError:
            return _Folder(-1, [], {})
        audio_stems = {os.path.splitext(n)[0] for n in names if os.path.splitext(n)[1].lower() in AUDIO_SUFFIXES}
        watched = {}
        for n in names:
            stem, suffix = os.path.splitext(n)
            if self.manifest_pattern and fnmatch.fnmatch(n, self.manifest_pattern):
                watched[os.path.join(d, n)] = MANIFEST
            elif suffix.lower() in AUDIO_SUFFIXES or (suffix.lower() == ".json" and stem not in audio_stems):
                watched[os.path.join(d, n)] = FILE  # a JSON beside its recording is its sidecar, read with it
        return _Folder(mtime_ns, subfolders, watched)


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
        manifest_pattern: str | None = None,
        manifest_wait_s: float = 3600.0,
    ) -> None:
        require_pipeline(actor, "watch")
        self.manifest_pattern, self.manifest_wait_s = manifest_pattern, manifest_wait_s
        self.manifest_settling = Settling(settle_s)
        self.read: dict[str, Stamp] = {}  # manifest -> the version read
        self.listing: dict[str, set[str]] = {}  # manifest -> the files it names
        self.owner: dict[str, str] = {}  # file -> the manifest naming it (the latest read wins)
        self.db, self.actor, self.settings, self.folder = db, actor, settings, Path(folder).resolve()
        self.settling = Settling(settle_s)
        self.scan = FolderScan(self.folder, manifest_pattern)
        self.tried: dict[str, Stamp] = {}  # failed here: not again until the file changes
        self.workers, self.scheduler, self.profile = workers, scheduler, profile
        self._make, self._model = make_transcriber, None
        self._caught_up = False

    def _transcriber(self) -> Transcriber:
        if self._model is None:
            with logs.step("model loaded"):
                self._model = self._make()
        return self._model

    def _read_manifests(self, manifests: dict[str, Stamp], now: float, r: Round) -> None:
        """Read the manifests that are new or changed, once complete; report their own errors once a version."""
        changed = {m: st for m, st in manifests.items() if self.read.get(m) != st}
        reported_at = self.db.calls.open_error_times(changed)
        for m in self.manifest_settling.ready(changed, now):
            self.read[m] = changed[m]
            for f in self.listing.pop(m, set()):
                self.owner.pop(f, None)
            self.listing[m] = listed = _listed(Path(m))
            for f in listed:
                self.owner[f] = m
            if m in reported_at and datetime.fromisoformat(reported_at[m]).timestamp() >= changed[m][1]:
                continue  # this version's errors were reported by an earlier run
            # Its rows' files come in as they arrive; this reads it for its own errors (header, bad rows).
            report, _ = workflow.ingest_then_score(
                self.db, self.actor, Path(m).parent, self.settings, manifest=Path(m), only=()
            )
            r.failed += report.errors
        for gone in set(self.read) - set(manifests):
            del self.read[gone]
            for f in self.listing.pop(gone, set()):
                self.owner.pop(f, None)

    def round(self, now: float | None = None) -> Round:
        """One pass: take the complete new files, then transcribe and score what waits."""
        started = time.perf_counter()
        now = time.time() if now is None else now
        r = Round()
        files, manifests = self.scan.files()
        r.manifests = self.manifest_pattern is not None
        if r.manifests:
            self._read_manifests(manifests, now, r)
        known = self.db.calls.known_origins(files)
        self.scan.forget(known)
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
        runs: dict[str, list[str]] = {}  # manifest -> its complete new files
        for path in ready:
            if path in self.owner:
                runs.setdefault(self.owner[path], []).append(path)
                continue
            is_audio = Path(path).suffix.lower() in AUDIO_SUFFIXES
            if r.manifests and is_audio and now - new[path][1] < self.manifest_wait_s:
                r.unlisted += 1  # a manifest may name it yet
                continue
            report, _ = workflow.ingest_then_score(self.db, self.actor, Path(path), self.settings)
            r.ingested += report.added
            if report.errors:
                self.tried[path] = new[path]
                r.failed += report.errors
        for m, paths in sorted(runs.items()):
            report, _ = workflow.ingest_then_score(
                self.db, self.actor, Path(m).parent, self.settings, manifest=Path(m), only=paths
            )
            r.ingested += report.added
            r.failed += report.errors
            now_known = self.db.calls.known_origins(paths)
            for p in set(paths) - now_known:
                self.tried[p] = new[p]  # its row failed: not again until the file changes
        if r.manifests:
            missing = [f for f in self.owner if f not in files]  # not arrived, or ingested and moved away since
            r.awaited = len(missing) - len(self.db.calls.known_origins(missing))
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


def _listed(manifest: Path) -> set[str]:
    """The files a manifest names (absolute); an unreadable one names none (its ingest reports why)."""
    try:
        rows, _ = read_manifest(manifest.read_text(encoding="utf-8"), str(manifest))
    except (OSError, UnicodeDecodeError, ManifestError):
        return set()
    return {str(p) for p in ingest.named_files(rows, manifest.parent)}
