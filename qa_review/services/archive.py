"""The recordings archive: each ingested recording is kept under the data folder, named by its content.

A QA record whose audio can vanish is not a record: a dispute three weeks
later needs the audio, and a PBX rotates and moves its folders. So ingest
keeps each recording at ``DATA/recordings/ab/abcd….ext`` (its sha256): a
hard link where the data folder is on the same filesystem (no second copy
on disk, and it survives the source being deleted; ``archive_links: no``
turns this off), else a copy. The same
content is stored once, and a file can be checked against its name.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from qa_review.asr.audio import sha256_file
from qa_review.core.errors import ArchiveError
from qa_review.core.permissions import User, require_pipeline
from qa_review.services.settings import Settings
from qa_review.storage import Storage


def folder(settings: Settings) -> Path:
    return (settings.data_folder / "recordings").resolve()


def keep(path: Path, sha256: str, settings: Settings) -> Path:
    """The archived copy of ``path`` (made now, or already there)."""
    dest = folder(settings) / sha256[:2] / f"{sha256}{path.suffix.lower()}"
    if dest.exists():
        return dest
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.part")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            if not settings.archive_links:
                raise OSError("copies asked for")
            os.link(path, tmp)
        except OSError:  # another filesystem, links not allowed, or not wanted: a copy
            shutil.copyfile(path, tmp)
        os.replace(tmp, dest)  # whole or not at all, also when two ingests keep the same file
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise ArchiveError(
            f"{path}: cannot keep it in the recordings archive {dest.parent} ({e.strerror or e}); "
            "check that the data folder (data_dir) exists, is writable and has space"
        ) from e
    return dest


def drop_unused(db: Storage, kept: Path, sha256: str) -> None:
    """Remove an archived file that no call came to use (its insert was refused)."""
    if db.calls.by_sha(sha256) is None:
        kept.unlink(missing_ok=True)


@dataclass
class ArchiveReport:
    archived: list[str] = field(default_factory=list)
    unreachable: list[tuple[str, str]] = field(default_factory=list)  # (call id, why)

    def summary(self) -> str:
        return f"{len(self.archived)} recording(s) archived, {len(self.unreachable)} not reachable"


def archive_existing(
    db: Storage, actor: User, settings: Settings, progress: Callable[[str], None] | None = None
) -> ArchiveReport:
    """Copy into the archive the recordings of calls ingested before it; name those no longer reachable.

    A file is taken only if it still has the content that was ingested (its
    sha256), so a PBX that reused a file name does not slip another call's
    audio in. Safe to run again: archived calls are skipped.
    """
    require_pipeline(actor, "archive")
    report = ArchiveReport()
    waiting = db.calls.unarchived(str(folder(settings)))
    for n, call in enumerate(waiting, 1):
        if progress:
            progress(f"[{n}/{len(waiting)}] {call['call_id']}")
        path = Path(call["source_path"] or "")
        if not path.is_file():
            report.unreachable.append((call["call_id"], f"{path}: no such file"))
            continue
        try:
            if sha256_file(path) != call["content_sha256"]:
                report.unreachable.append(
                    (call["call_id"], f"{path}: the file has changed since it was ingested (another recording?)")
                )
                continue
            kept = keep(path, call["content_sha256"], settings)
        except (OSError, ArchiveError) as e:
            report.unreachable.append((call["call_id"], str(e)))
            continue
        db.calls.set_archived(call["call_id"], str(kept))
        report.archived.append(call["call_id"])
    return report
