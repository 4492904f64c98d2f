"""The only code that touches SQLite: the schema and one repository per aggregate.

Services receive a :class:`Storage` and never a connection: its repositories
say what is read and written, and ``atomic()`` makes several writes one
transaction.
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from qa_review.core.errors import Busy, DatabaseError
from qa_review.storage import backup, schema
from qa_review.storage.calibration import Calibration
from qa_review.storage.call_log import CallLog
from qa_review.storage.calls import AudioFacts, Calls
from qa_review.storage.disputes import Audit, Disputes, Notifications
from qa_review.storage.goals import Goals
from qa_review.storage.kpis import Kpis
from qa_review.storage.library import Library
from qa_review.storage.scorecards import Scorecards
from qa_review.storage.search_index import SearchIndex
from qa_review.storage.sessions import Sessions
from qa_review.storage.transcripts import Transcripts
from qa_review.storage.users import Users

__all__ = [
    "AudioFacts",
    "DatabaseStatus",
    "Storage",
    "Upgrade",
    "check_backup",
    "database_status",
    "open_storage",
    "upgrade",
]

Upgrade = schema.Upgrade


def _copy_before_upgrade(db: Database, dest: Path) -> None:
    backup.write(db.conn, dest)


DatabaseStatus = backup.DatabaseStatus


def database_status(path: str | Path) -> DatabaseStatus:
    """The schema and size of the database at ``path``, read without changing it (``qa-review doctor``)."""
    try:
        return backup.status(Path(path))
    except sqlite3.DatabaseError as e:
        raise _database_error(path, e) from e


def upgrade(path: str | Path) -> tuple[Upgrade, str]:
    """``qa-review migrate``: a checked copy of the database beside it, then the pending migrations."""
    return schema.upgrade(path, _copy_before_upgrade)


check_backup = backup.check


class Storage:
    """One database: its repositories, and transactions across them."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.upgraded: Upgrade | None = None  # the migrations opening it applied, and the copy taken first
        self.search = SearchIndex(db)
        self.calls = Calls(db)
        self.transcripts = Transcripts(db, self.search)
        self.scorecards = Scorecards(db)
        self.users = Users(db)
        self.sessions = Sessions(db)
        self.disputes = Disputes(db)
        self.audit = Audit(db)
        self.notifications = Notifications(db)
        self.kpis = Kpis(db)
        self.library = Library(db)
        self.calibration = Calibration(db)
        self.goals = Goals(db)
        self.call_log = CallLog(db)

    @contextmanager
    def atomic(self):
        """One write transaction: all the writes inside land, or none (a nested block is a savepoint).

        It begins IMMEDIATE: the write lock is taken first, so what is read
        inside is what the writes apply to, and a second writer waits its
        turn (the busy timeout) instead of failing half-way on a stale read.
        A lock held past the timeout is :class:`Busy`, with nothing changed.
        """
        conn = self._db.conn
        if conn.in_transaction:
            with self._db.atomic():
                yield self
            return
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield self
            conn.execute("COMMIT")
        except BaseException as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if not isinstance(e, sqlite3.OperationalError) or not ("locked" in str(e) or "busy" in str(e)):
                raise
            raise Busy(
                f"the database is locked by another writer ({e}); nothing was changed: try again in a moment",
                code="busy",
            ) from e

    def backup_to(self, dest: Path, progress=None) -> backup.BackupFacts:
        """A consistent, checked copy of this database at ``dest``, made while others keep writing."""
        try:
            return backup.write(self._db.conn, dest, progress)
        except (sqlite3.DatabaseError, OSError) as e:
            raise DatabaseError(f"cannot write the backup {dest}: {e}", code="backup_failed", path=str(dest)) from e

    def restore_from(self, source: Path, progress=None) -> backup.BackupFacts:
        """Replace this database's content with a checked backup, then bring its schema up to date."""
        facts = backup.restore(source, self._db.conn, progress)
        if self._db.journal_mode != "wal":
            self._db.enable_wal()
        schema.migrations.apply(self._db)
        return facts

    def close(self) -> None:
        self._db.close()


def open_storage(path: str | Path, *, check_same_thread: bool = True) -> Storage:
    """Open (creating and migrating as needed) the database at ``path``; ``":memory:"`` for tests.

    A file that is not SQLite, another program's database, or one that cannot
    be opened, read or written is a :class:`DatabaseError` naming the path.
    """
    try:
        done: list[Upgrade] = []
        db = schema.connect(path, check_same_thread=check_same_thread, copy=_copy_before_upgrade, upgraded=done.append)
        storage = Storage(db)
        storage.upgraded = done[0] if done and done[0].applied else None
        if schema.REINDEX_SEARCH in schema.pending_tasks(db):
            with storage.atomic():
                storage.search.rebuild()
                schema.task_done(db, schema.REINDEX_SEARCH)
    except (sqlite3.DatabaseError, OSError) as e:
        raise _database_error(path, e) from e
    return storage


def _database_error(path, e: Exception) -> Exception:
    text = str(e)
    where = "check --db (or QA_REVIEW_DB)"
    if "not a database" in text:
        return DatabaseError(f"{path} is not a SQLite database ({text}); {where}", code="db_not_sqlite", path=str(path))
    if "readonly" in text or "read-only" in text or isinstance(e, PermissionError):
        return DatabaseError(
            f"database {path} cannot be written ({text}); qa-review writes the file and its -wal and -shm "
            "files beside it: give this user write access to the file and its folder",
            code="db_unwritable",
            path=str(path),
        )
    if "locked" in text or "busy" in text:
        return Busy(f"database {path} is locked by another program ({text}); try again in a moment", code="busy")
    return DatabaseError(
        f"cannot open database {path} ({text}): it must be a file in a folder that exists and "
        f"this user may read and write; {where}",
        code="db_unopenable",
        path=str(path),
    )
