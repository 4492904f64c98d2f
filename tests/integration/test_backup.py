"""Backups taken while others write, and restoring one, through the command line."""

import multiprocessing as mp
import sqlite3
import time

import pytest

from qa_review.core.errors import PermissionDenied
from qa_review.core.permissions import User
from qa_review.services import accounts, backups
from qa_review.services.database import open_database
from tests.audio_factory import write_wav
from tests.cli_runner import invoke


def users_in(path):
    return {r[0] for r in sqlite3.connect(path).execute("select username from users")}


@pytest.fixture
def live(tmp_path):
    db = tmp_path / "qa.db"
    assert invoke("--db", db, "users", "add", "root", "--role", "admin", "--password", "password-1").exit_code == 0
    write_wav(tmp_path / "in" / "a.wav")
    assert invoke("--db", db, "ingest", tmp_path / "in").exit_code == 0
    return db


def keep_adding_users(db_path, stop_at):
    db = open_database(db_path)
    admin = User("root", "admin")
    n = 0
    while time.time() < stop_at:
        accounts.add_user(db, admin, f"u{n}", "password-123", "trainer")
        n += 1


def test_a_backup_taken_while_another_process_writes_is_whole_and_sound(live, tmp_path):
    writer = mp.get_context("spawn").Process(target=keep_adding_users, args=(live, time.time() + 6))
    writer.start()
    try:
        deadline = time.time() + 30
        while len(users_in(live)) < 5:  # the writer is running
            assert time.time() < deadline
            time.sleep(0.05)
        result = invoke("--db", live, "backup", tmp_path / "copy.db")
        during = users_in(live)
    finally:
        writer.join(timeout=60)
    assert result.exit_code == 0 and "1 call(s)" in result.output
    assert sqlite3.connect(tmp_path / "copy.db").execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    copied = users_in(tmp_path / "copy.db")
    assert {"root"} < copied <= during  # one moment's state: every user it has existed then
    # the users are added in order, so a consistent copy has a prefix of them
    numbered = sorted(int(u[1:]) for u in copied if u != "root")
    assert numbered == list(range(len(numbered)))
    assert not list(tmp_path.glob(".copy.db.partial"))


def test_restore_puts_the_backup_back_and_keeps_what_it_replaced(live, tmp_path):
    assert invoke("--db", live, "backup", tmp_path / "monday.db").exit_code == 0
    invoke("--db", live, "users", "add", "late", "--role", "trainer", "--password", "password-2")
    refused = invoke("--db", live, "restore", tmp_path / "monday.db", input="n\n")
    assert refused.exit_code == 1 and "late" in users_in(live)  # asked, and declined
    result = invoke("--db", live, "restore", tmp_path / "monday.db", "--yes")
    assert result.exit_code == 0, result.output
    assert users_in(live) == {"root"}
    (kept,) = tmp_path.glob("qa.before-restore-*.db")
    assert "late" in users_in(kept) and str(kept) in result.output
    assert "1 call(s)" in invoke("--db", live, "calls").output


def test_restore_refuses_what_is_not_a_sound_qa_review_backup(live, tmp_path):
    assert invoke("--db", live, "backup", tmp_path / "good.db").exit_code == 0
    data = (tmp_path / "good.db").read_bytes()
    (tmp_path / "cut.db").write_bytes(data[: len(data) // 2])
    (tmp_path / "notes.txt").write_text("not a database\n" * 200)
    with sqlite3.connect(tmp_path / "other.db") as c:
        c.execute("create table t (x)")
    before = users_in(live)
    for bad, words in (("cut.db", "damaged"), ("notes.txt", "not a SQLite"), ("other.db", "not a qa-review")):
        result = invoke("--db", live, "restore", tmp_path / bad, "--yes")
        assert result.exit_code == 2 and words in result.output, (bad, result.output)
    assert users_in(live) == before and not list(tmp_path.glob("qa.before-restore-*"))


def test_a_backup_never_replaces_the_database_or_another_file(live, tmp_path):
    before = live.read_bytes()
    assert invoke("--db", live, "backup", live, "--force").exit_code == 2
    assert live.read_bytes() == before
    (tmp_path / "notes.txt").write_text("keep me")
    assert invoke("--db", live, "backup", tmp_path / "notes.txt").exit_code == 2
    assert invoke("--db", live, "backup", tmp_path / "notes.txt", "--force").exit_code == 2
    assert (tmp_path / "notes.txt").read_text() == "keep me"
    assert invoke("--db", live, "backup", tmp_path / "b.db").exit_code == 0
    assert invoke("--db", live, "backup", tmp_path / "b.db").exit_code == 2  # exists
    assert invoke("--db", live, "backup", tmp_path / "b.db", "--force").exit_code == 0  # an old backup: replaced


def test_only_an_admin_makes_or_restores_backups(live, tmp_path):
    db = open_database(live)
    sup = User("sup", "supervisor")
    with pytest.raises(PermissionDenied):
        backups.backup(db, sup, tmp_path / "x.db")
    with pytest.raises(PermissionDenied):
        backups.restore(db, sup, tmp_path / "x.db", live)
