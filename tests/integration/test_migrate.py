"""Upgrading a database: a copy first, then the migrations; the copy opens as the old schema."""

import sqlite3

from sqlite_utils import Database

from qa_review.storage import open_storage
from qa_review.storage.schema import migrations
from tests.cli_runner import invoke


def old_database(path, stop_before="m021_recordings_archive"):
    db = Database(sqlite3.connect(path))
    migrations.apply(db, stop_before=stop_before)
    db["calls"].insert(
        {
            "call_id": "c1",
            "kind": "audio",
            "channel": "phone",
            "operator": "anna",
            "started_at": "2026-01-01T10:00:00+03:00",
            "status": "transcribed",
            "source_path": "/pbx/c1.wav",
        }
    )
    db.close()


def applied(path):
    with sqlite3.connect(path) as con:
        return sorted(r[0] for r in con.execute("select name from _sqlite_migrations"))


def test_migrate_copies_the_database_first_then_upgrades_it(tmp_path):
    path = tmp_path / "qa.db"
    old_database(path)
    before = applied(path)
    result = invoke("--db", path, "migrate")
    assert result.exit_code == 0, result.output
    copies = list(tmp_path.glob("qa.before-m021-*.db"))
    assert len(copies) == 1 and f"copy before the upgrade: {copies[0]}" in result.output
    assert "applied: m021_recordings_archive, m022_audio_retention" in result.output
    assert applied(copies[0]) == before  # the way back is the old schema, with the data
    with sqlite3.connect(copies[0]) as con:
        assert con.execute("select call_id from calls").fetchall() == [("c1",)]
    assert applied(path)[-1] == "m022_audio_retention"
    again = invoke("--db", path, "migrate")
    assert "(already up to date)" in again.output and len(list(tmp_path.glob("qa.before-*.db"))) == 1


def test_opening_an_old_database_upgrades_it_with_the_same_copy_and_a_new_one_gets_none(tmp_path):
    path = tmp_path / "qa.db"
    old_database(path)
    assert open_storage(path).calls.get("c1")["origin_path"] is None
    assert len(list(tmp_path.glob("qa.before-m021-*.db"))) == 1
    open_storage(tmp_path / "fresh.db")
    assert list(tmp_path.glob("fresh.before-*")) == []
    missing = invoke("--db", tmp_path / "nowhere.db", "migrate")
    assert missing.exit_code == 2 and "no such database" in missing.output
