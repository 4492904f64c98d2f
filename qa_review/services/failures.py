"""What failed and is still failing: ingests and transcriptions, for an admin to see and retry.

An ingest error stays open until a later run ingests that input (or finds it
already in); a failed transcription until a later run transcribes the call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from qa_review.core.domain import CallStatus
from qa_review.core.errors import PermissionDenied
from qa_review.core.permissions import ADMIN, User
from qa_review.services import workflow
from qa_review.services.ingest import IngestReport, Progress
from qa_review.services.settings import Settings
from qa_review.storage import Storage


def _admin_only(user: User) -> None:
    if user.role != ADMIN:
        raise PermissionDenied(f"{user.username} ({user.role}) may not see the failure list; an admin does")


@dataclass
class Failures:
    ingest: list[dict] = field(default_factory=list)  # open ingest errors, oldest first
    transcription: list[dict] = field(default_factory=list)  # calls whose transcription failed

    def __bool__(self) -> bool:
        return bool(self.ingest or self.transcription)


def failures(db: Storage, user: User) -> Failures:
    _admin_only(user)
    return Failures(
        ingest=db.calls.ingest_errors(open_only=True),
        transcription=db.calls.list(status=CallStatus.FAILED),
    )


def retry_ingests(db: Storage, user: User, settings: Settings, progress: Progress | None = None) -> list[IngestReport]:
    """Ingest again every input with an open error: each file on its own, each manifest once into its folder.

    An input that now goes in settles its error; one that fails again gets a
    new error in place of the old; the rest of the batch goes on as always.
    """
    _admin_only(user)
    files: list[str] = []
    manifests: dict[tuple[str, str], None] = {}
    for e in db.calls.ingest_errors(open_only=True):
        if e["source"] is None:  # recorded before sources were kept: no way to know what to run
            continue
        if e["root"]:
            manifests[(e["root"], e["source"])] = None
        elif e["source"] not in files:
            files.append(e["source"])
    reports = []
    for root, manifest in manifests:
        reports.append(
            workflow.ingest_then_score(db, user, Path(root), settings, manifest=Path(manifest), progress=progress)[0]
        )
    for f in files:
        reports.append(workflow.ingest_then_score(db, user, Path(f), settings, progress=progress)[0])
    return reports


def dismiss(db: Storage, user: User, error_ids: list[int]) -> int:
    """Settle ingest errors by hand (a file that is not a call, a folder left out on purpose); returns how many."""
    _admin_only(user)
    return db.calls.dismiss_ingest_errors(error_ids)
