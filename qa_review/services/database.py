"""The one door entry points open the database through (they never import the storage layer)."""

from __future__ import annotations

from pathlib import Path

from qa_review.core.errors import DatabaseError
from qa_review.services import logs
from qa_review.storage import Storage, open_storage


def open_database(path: str | Path, *, check_same_thread: bool = True, create: bool = True) -> Storage:
    """Open (migrating as needed) the database at ``path``.

    Only the commands that put something in (ingest, adding a user) create
    it: for the others a missing file is a mistyped path, and answering
    "0 calls" from a new empty database would hide that.
    """
    if not create and str(path) != ":memory:" and not Path(path).exists():
        raise DatabaseError(
            f"database {path} does not exist: check --db (or QA_REVIEW_DB); a new one is made by "
            "`qa-review ingest FOLDER` or `qa-review users add NAME`",
            code="db_missing",
            path=str(path),
        )
    storage = open_storage(path, check_same_thread=check_same_thread)
    if storage.upgraded is not None:
        done = storage.upgraded
        logs.event(
            "database upgraded",
            applied=list(done.applied),
            copy=str(done.backup) if done.backup else None,
        )
    return storage
