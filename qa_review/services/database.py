"""The one door entry points open the database through (they never import the storage layer)."""

from __future__ import annotations

from pathlib import Path

from qa_review.storage import Storage, open_storage


def open_database(path: str | Path, *, check_same_thread: bool = True) -> Storage:
    """Open (creating and migrating as needed) the database at ``path``."""
    return open_storage(path, check_same_thread=check_same_thread)
