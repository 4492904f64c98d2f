"""The audit log's integrity: its hash chain, checked end to end (admins)."""

from __future__ import annotations

from qa_review.core.errors import PermissionDenied
from qa_review.core.permissions import ADMIN, User
from qa_review.storage import Storage
from qa_review.storage.disputes import ChainCheck


def verify(db: Storage, user: User) -> ChainCheck:
    """Every entry's link recomputed from the first; the first that does not hold is reported."""
    if user.role != ADMIN:
        raise PermissionDenied(f"{user.username} ({user.role}) may not verify the audit log; an admin does")
    return db.audit.verify()
