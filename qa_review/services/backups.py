"""Backups of the database and restoring one: admins only, and a restore keeps what it replaces."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from qa_review.core.errors import PermissionDenied
from qa_review.core.permissions import ADMIN, User
from qa_review.services import logs
from qa_review.storage import Storage, Upgrade, check_backup, upgrade
from qa_review.storage.backup import BackupFacts


def _admin_only(user: User, what: str) -> None:
    if user.role != ADMIN:
        raise PermissionDenied(f"{user.username} ({user.role}) may not {what}; an admin does")


def backup(db: Storage, user: User, dest: Path, progress=None) -> BackupFacts:
    """A consistent copy of the live database (the app and batch jobs may go on writing)."""
    _admin_only(user, "make backups")
    with logs.step("backup", user=user.username) as f:
        facts = db.backup_to(Path(dest), progress)
        f.update(file=facts.path, calls=facts.calls, bytes=facts.bytes)
    return facts


def inspect(user: User, source: Path) -> BackupFacts:
    """What a backup holds; refused if it is not a sound qa-review database."""
    _admin_only(user, "restore backups")
    return check_backup(Path(source))


def restore(db: Storage, user: User, source: Path, db_path: Path, progress=None) -> tuple[BackupFacts, Path]:
    """Put the backup in place of the live database; the state it replaces is saved beside it first.

    Returns what was restored and where the replaced state was kept.
    """
    _admin_only(user, "restore backups")
    check_backup(Path(source))  # refused before anything is touched
    db_path = Path(db_path)
    kept = db_path.with_name(f"{db_path.stem}.before-restore-{datetime.now():%Y%m%d-%H%M%S}{db_path.suffix}")
    with logs.step("restore", user=user.username, file=str(source), kept=str(kept)):
        db.backup_to(kept)
        return db.restore_from(Path(source), progress), kept


def migrate(user: User, db_path: Path) -> tuple[Upgrade, str]:
    """Upgrade the database's schema now, a copy taken first; what was applied, the copy, and the schema now.

    Opening a database upgrades it too (with the same copy); this is for an
    upgrade done on purpose, before the services start again.
    """
    _admin_only(user, "upgrade the database")
    with logs.step("migrate", user=user.username) as f:
        done, schema = upgrade(Path(db_path))
        f.update(applied=list(done.applied), copy=str(done.backup) if done.backup else None, schema=schema)
    return done, schema
