"""Ingest: recordings, written conversations and call transcripts into the database.

Each input is checked on its own; a bad one is recorded with its reason and
the batch goes on. Identical content (by sha256) is stored once, so running
the same ingest twice changes nothing, also when both run at once: the
database decides (insert-or-ignore on the unique hash) and the second run
finds a duplicate.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from qa_review.asr.audio import AUDIO_SUFFIXES, probe, sha256_file
from qa_review.core.conversations import (
    is_call_transcript,
    looks_like_conversation,
    parse_call_transcript,
    parse_conversation,
)
from qa_review.core.domain import AUDIO, TEXT_ONLY, WRITTEN, CallMeta
from qa_review.core.errors import IngestError, ManifestError
from qa_review.core.metadata import meta_from_filename, meta_from_mapping, read_manifest
from qa_review.core.permissions import User, require_pipeline
from qa_review.services import archive, logs
from qa_review.services.settings import Settings
from qa_review.services.transcription import save_transcript
from qa_review.storage import AudioFacts, Storage

Progress = Callable[[str], None]

# A chat or an e-mail thread is kilobytes; anything this big is another kind
# of file, and reading it whole would hold the batch up.
MAX_JSON_BYTES = 20 * 1024 * 1024


@dataclass
class IngestReport:
    batch: str
    added: list[str] = field(default_factory=list)
    duplicates: list[tuple[str, str]] = field(default_factory=list)  # (path, existing call id)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (where, reason)
    unlisted: list[str] = field(default_factory=list)  # files beside a manifest that it does not name

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        text = f"{len(self.added)} added, {len(self.duplicates)} already ingested, {len(self.errors)} failed"
        if self.unlisted:
            text += f", {len(self.unlisted)} file(s) in the folder not in the manifest (not ingested)"
        return text


@dataclass(frozen=True)
class _Item:
    path: Path
    meta: CallMeta | None = None  # None: find it from a sidecar or the name
    where: str = ""  # for messages: the file, or manifest line
    # What a retry ingests again: the file itself, or the manifest (with its row)
    source: Path | None = None
    row: int | None = None


def _walk(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and not p.name.startswith("."):
            yield p


def ingest(
    db: Storage,
    actor: User,
    path: Path,
    settings: Settings,
    *,
    manifest: Path | None = None,
    progress: Progress | None = None,
    only: Collection[Path] | None = None,
) -> IngestReport:
    """Ingest a file or folder (with ``manifest``: the rows it lists; ``only``: just its rows for these files).

    ``only`` is for the intake, which follows a manifest as its recordings
    arrive: rows already in, or still to come, are left alone. With files
    in ``only``, the manifest's unusable rows are not reported again (they
    were when it was read, with ``only`` empty).
    """
    require_pipeline(actor, "ingest")
    path = Path(path)
    report = IngestReport(batch=uuid.uuid4().hex[:12])
    # A manifest's errors are retried by ingesting the manifest again, into the same folder.
    root = str(_absolute(path)) if manifest is not None else None

    def fail(where: str, reason: str, row: int | None = None, source: Path | None = None) -> None:
        report.errors.append((where, reason))
        logs.event("ingest failed", "warning", batch=report.batch, where=where, row=row, reason=reason)
        origin = str(_absolute(source if source is not None else Path(where)))
        db.calls.record_ingest_error(report.batch, where, row, reason, source=origin, root=root)

    if not path.exists():
        fail(str(path), f"{path}: no such file or folder")
        return report

    if manifest is not None:
        wanted = None if only is None else {_absolute(Path(p)) for p in only}
        items = list(_items_from_manifest(path, Path(manifest), settings, fail, report.unlisted, db, wanted))
    else:
        items = list(_items_from_folder(path, fail))

    started = time.perf_counter()
    for n, item in enumerate(items, 1):
        if progress:
            progress(f"[{n}/{len(items)}] {item.path.name}")
        source = item.source or item.path
        before, took = len(report.added), time.perf_counter()
        try:
            _ingest_one(db, actor, item, settings, report)
        except IngestError as e:
            fail(item.where or str(item.path), str(e), item.row, source)
        else:
            # In, or already in: what an earlier run recorded against it is settled.
            db.calls.resolve_ingest_errors(str(_absolute(source)), item.row)
            added = len(report.added) > before
            logs.event(
                "ingested" if added else "ingest duplicate",
                "info" if added else "debug",
                batch=report.batch,
                call=report.added[-1] if added else report.duplicates[-1][1],
                seconds=time.perf_counter() - took,
            )
    logs.event(
        "ingest batch",
        batch=report.batch,
        added=len(report.added),
        duplicates=len(report.duplicates),
        failed=len(report.errors),
        seconds=time.perf_counter() - started,
    )
    return report


def _items_from_manifest(
    root: Path, manifest: Path, settings: Settings, fail, unlisted: list[str], db: Storage, wanted: set[Path] | None
) -> Iterator[_Item]:
    try:
        text = manifest.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        fail(str(manifest), f"{manifest}: cannot read the manifest ({e}); save it as UTF-8 CSV", 1)
        return
    try:
        rows, bad = read_manifest(text, str(manifest))
    except ManifestError as e:
        fail(str(manifest), str(e), 1)
        return
    db.calls.resolve_ingest_errors(str(_absolute(manifest)), 1)  # it reads now
    for line, reason in bad if not wanted else ():  # a run for some of its files: said when it was read
        fail(f"{manifest}:{line}", reason, line, manifest)
    base = root if root.is_dir() else manifest.parent
    named = named_files(rows, base)
    if root.is_dir() and wanted is None:
        unlisted.extend(_unlisted(root, named, manifest))
    for r in rows:
        where = f"{manifest}:{r.row}"
        if wanted is not None and _absolute(base / r.file) not in wanted:
            continue
        try:
            meta = meta_from_mapping(r.fields, settings.tz, f"{manifest}: line {r.row}")
        except ManifestError as e:
            fail(where, str(e), r.row, manifest)
            continue
        file = base / r.file  # an absolute name stays itself
        if not file.exists():
            fail(where, f"{manifest}: line {r.row}: file {r.file!r} not found under {base}", r.row, manifest)
            continue
        yield _Item(path=file, meta=meta, where=where, source=manifest, row=r.row)


def named_files(rows, base: Path) -> set[Path]:
    """The files a manifest's rows name, absolute (a relative name is under ``base``)."""
    return {_absolute(base / r.file) for r in rows}


def _absolute(p: Path) -> Path:
    return Path(os.path.abspath(p))


def _unlisted(root: Path, named: set[Path], manifest: Path) -> list[str]:
    """Recordings and conversations in the folder the manifest does not name (a sidecar goes with its recording)."""
    out = []
    for p in _walk(root):
        suffix = p.suffix.lower()
        if suffix not in AUDIO_SUFFIXES and suffix != ".json":
            continue
        ap = _absolute(p)
        if ap in named or ap == _absolute(manifest):
            continue
        if suffix == ".json" and any(ap.with_suffix(a) in named for a in AUDIO_SUFFIXES):
            continue
        out.append(str(p))
    return out


def _items_from_folder(root: Path, fail) -> Iterator[_Item]:
    files = list(_walk(root))
    audio_stems = {p.with_suffix("") for p in files if p.suffix.lower() in AUDIO_SUFFIXES}
    for p in files:
        suffix = p.suffix.lower()
        if suffix in AUDIO_SUFFIXES:
            yield _Item(path=p, where=str(p))
        elif suffix == ".json":
            if p.with_suffix("") in audio_stems:
                continue  # a sidecar: read with its recording
            yield _Item(path=p, where=str(p))
        elif suffix == ".csv":
            fail(str(p), f"{p}: a CSV in the folder is not read on its own; pass it as --manifest {p}")
        else:
            fail(
                str(p),
                f"{p}: unsupported format {suffix or '(no extension)'}; expected "
                f"audio ({', '.join(sorted(AUDIO_SUFFIXES))}) or conversation .json",
            )


def _ingest_one(db: Storage, actor: User, item: _Item, settings: Settings, report: IngestReport) -> None:
    p = item.path
    if p.suffix.lower() == ".json":
        _ingest_conversation(db, actor, item, settings, report)
        return
    sha = sha256_file(p)
    existing = db.calls.by_sha(sha)
    if existing:
        report.duplicates.append((str(p), existing["call_id"]))
        return
    meta = item.meta or _meta_for_audio(p, settings)
    info = probe(p)
    kept = archive.keep(p, sha, settings)
    with db.atomic():
        added = db.calls.add(
            meta,
            kind=AUDIO,
            source_path=str(kept),
            origin_path=str(p.resolve()),
            sha256=sha,
            audio=AudioFacts(info.channels, info.sample_rate, info.duration_s),
        )
        if not added:
            archive.drop_unused(db, kept, sha)
            _not_added(db, meta.call_id, sha, item.where or str(p), report)
            return
    report.added.append(meta.call_id)


def _meta_for_audio(p: Path, settings: Settings) -> CallMeta:
    sidecar = p.with_suffix(".json")
    if sidecar.exists():
        try:
            data = _json(sidecar, _read_text(sidecar))
        except json.JSONDecodeError as e:
            raise IngestError(f"{sidecar}: cannot read the sidecar metadata ({e})") from e
        if not isinstance(data, dict):
            raise IngestError(f"{sidecar}: expected a JSON object with call_id, operator, started_at")
        return meta_from_mapping(data, settings.tz, str(sidecar))
    return meta_from_filename(p, p.stat().st_mtime, settings.tz)


def _ingest_conversation(db: Storage, actor: User, item: _Item, settings: Settings, report: IngestReport) -> None:
    p = item.path
    text = _read_text(p)
    sha = sha256_file(p)
    existing = db.calls.by_sha(sha)
    if existing:
        report.duplicates.append((str(p), existing["call_id"]))
        return
    try:
        data = _json(p, text)
    except json.JSONDecodeError:
        data = None  # parse_conversation reports it with line and column
    if data is not None and not looks_like_conversation(data):
        raise IngestError(
            f'{p}: a JSON file without "messages" or "segments" and without a recording of the same '
            "name; expected a conversation, a call transcript, or a sidecar next to its audio file"
        )
    if is_call_transcript(data):
        kind, (meta, transcript) = TEXT_ONLY, parse_call_transcript(text, str(p), settings.tz)
    else:
        kind, (meta, transcript) = WRITTEN, parse_conversation(text, str(p), settings.tz)
    with db.atomic():
        if not db.calls.add(meta, kind=kind, source_path=str(p.resolve()), sha256=sha):
            _not_added(db, meta.call_id, sha, str(p), report)
            return
        save_transcript(db, actor, transcript, model="", settings={}, processing_s=0.0)
    report.added.append(meta.call_id)


def _read_text(p: Path) -> str:
    try:
        size = p.stat().st_size
        if size > MAX_JSON_BYTES:
            raise IngestError(
                f"{p}: {size / 2**20:.1f} MiB is too large for a conversation or metadata file "
                f"(at most {MAX_JSON_BYTES / 2**20:.1f} MiB); split the export into one file per conversation"
            )
        return p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise IngestError(f"{p}: cannot read the file ({e}); save it as UTF-8 JSON") from e


def _json(p: Path, text: str):
    """The parsed JSON; a nesting too deep to read is this file's error, not the batch's end."""
    try:
        return json.loads(text)
    except RecursionError as e:
        raise IngestError(
            f"{p}: the JSON is nested too deeply to read (over a thousand levels); a conversation is "
            'an object with a "messages" list: check what exported it'
        ) from e


def _not_added(db: Storage, call_id: str, sha: str, where: str, report: IngestReport) -> None:
    """Why the insert was ignored, decided in its transaction: the same content, or the id taken by another."""
    existing = db.calls.by_sha(sha)
    if existing:  # another ingest stored it since we looked
        report.duplicates.append((where, existing["call_id"]))
        return
    raise IngestError(
        f"{where}: call id {call_id!r} is already used by another recording; "
        "give this one a unique call_id in the manifest or sidecar"
    )
