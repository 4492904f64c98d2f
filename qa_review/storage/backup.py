"""Consistent copies of a live database, and putting one back, with SQLite's online backup.

The backup API copies the pages under SQLite's own locking, so the copy is
one consistent state even while the app and batch jobs write; copying the
file (and its -wal) with cp is not.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qa_review.core.errors import DatabaseError
from qa_review.storage import schema

Progress = Callable[[int, int], None]  # pages done, pages in all

STEP_PAGES = 4096  # 16 MiB at SQLite's default page size: writers get a turn between steps


@dataclass(frozen=True)
class BackupFacts:
    path: str
    calls: int
    scorecards: int
    migrations: int
    bytes: int


def write(conn: sqlite3.Connection, dest: Path, progress: Progress | None = None) -> BackupFacts:
    """Copy the database behind ``conn`` to ``dest`` (a new file), checked; a half copy never has its name."""
    dest = Path(dest)
    partial = dest.with_name(f".{dest.name}.partial")
    partial.unlink(missing_ok=True)
    try:
        target = sqlite3.connect(partial)
        try:
            conn.backup(
                target,
                pages=STEP_PAGES,
                progress=(lambda _status, remaining, total: progress(total - remaining, total)) if progress else None,
            )
            # The copy is a plain file, readable without its -wal beside it.
            target.execute("PRAGMA journal_mode = DELETE")
        finally:
            target.close()
        facts = check(partial)
        os.replace(partial, dest)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return BackupFacts(str(dest), facts.calls, facts.scorecards, facts.migrations, dest.stat().st_size)


def check(path: Path) -> BackupFacts:
    """What a backup holds, read without changing it; a file that is not a sound qa-review database is refused."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"{path}: no such backup file", code="backup_bad", path=str(path))
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            if ok != "ok":
                raise DatabaseError(
                    f"{path}: the backup is damaged ({ok}); use another one", code="backup_bad", path=str(path)
                )
            tables, applied = _schema_of(conn, path, "use a file `qa-review backup` made", "backup_bad")
            known = {m.name for m in schema.migrations._migrations}
            if applied - known:
                raise DatabaseError(
                    f"{path}: the backup was made by a newer qa-review; upgrade qa-review before restoring it",
                    code="backup_bad",
                    path=str(path),
                )
            count = lambda t: conn.execute(f"select count(*) from {t}").fetchone()[0] if t in tables else 0  # noqa: E731
            return BackupFacts(str(path), count("calls"), count("scorecards"), len(applied), path.stat().st_size)
        finally:
            conn.close()
    except sqlite3.DatabaseError as e:
        what = "the backup is damaged" if "malformed" in str(e) else "not a SQLite database"
        raise DatabaseError(f"{path}: {what} ({e}); use another backup", code="backup_bad", path=str(path)) from e


def _schema_of(conn: sqlite3.Connection, path: Path, hint: str, code: str) -> tuple[set[str], set[str]]:
    """The tables and the applied migrations of a qa-review database; another file is refused."""
    tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    if schema.migrations.migrations_table not in tables:
        raise DatabaseError(f"{path}: not a qa-review database (no schema history); {hint}", code=code, path=str(path))
    applied = {
        r[0]
        for r in conn.execute(
            f"select name from {schema.migrations.migrations_table} where migration_set = ?",
            [schema.migrations.name],
        )
    }
    return tables, applied


@dataclass(frozen=True)
class DatabaseStatus:
    applied: tuple[str, ...]
    pending: tuple[str, ...]  # known to this program, not applied yet
    unknown: tuple[str, ...]  # applied by a newer program
    calls: int


def status(path: Path) -> DatabaseStatus:
    """The schema and size of the database at ``path``, read without changing it (``qa-review doctor``)."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseError(f"{path}: no such database; check --db (or database in qa-review.yaml)", code="db_missing")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables, applied = _schema_of(conn, path, "check --db (or database in qa-review.yaml)", "db_foreign")
        calls = conn.execute("select count(*) from calls").fetchone()[0] if "calls" in tables else 0
    finally:
        conn.close()
    known = [m.name for m in schema.migrations._migrations]
    return DatabaseStatus(
        tuple(sorted(applied)), tuple(n for n in known if n not in applied), tuple(sorted(applied - set(known))), calls
    )


def restore(source: Path, conn: sqlite3.Connection, progress: Progress | None = None) -> BackupFacts:
    """Replace the database behind ``conn`` with the checked backup at ``source``, in place.

    In place through the backup API rather than by moving files: the app's
    connections stay valid and see the restored data, and the -wal of the
    old state can never be replayed over it.
    """
    facts = check(source)
    src = sqlite3.connect(f"file:{Path(source)}?mode=ro", uri=True)
    try:
        src.backup(
            conn,
            pages=STEP_PAGES,
            progress=(lambda _status, remaining, total: progress(total - remaining, total)) if progress else None,
        )
    finally:
        src.close()
    return facts
