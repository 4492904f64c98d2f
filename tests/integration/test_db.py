import sqlite3

import pytest
from sqlite_utils import Database

from qa_review.core.errors import MigrationError
from qa_review.core.text_search import fts_query
from qa_review.storage import open_storage
from qa_review.storage.schema import connect, migrations, schema_version


def test_new_database_gets_schema_and_wal(tmp_path):
    db = connect(tmp_path / "a.db")
    assert {"calls", "transcripts", "segments", "activity", "ingest_errors"} <= set(db.table_names())
    assert db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert schema_version(db)[:2] == ["m001_calls_and_transcripts", "m002_checklists_and_scorecards"]
    assert migrations.pending(db) == []


def test_reopening_keeps_data_and_applies_nothing_twice(tmp_path):
    db = connect(tmp_path / "a.db")
    db["ingest_errors"].insert({"batch": "b", "path": "p", "reason": "r", "at": "t"})
    applied = schema_version(db)
    db.conn.close()
    again = connect(tmp_path / "a.db")
    assert again["ingest_errors"].count == 1
    assert schema_version(again) == applied


def test_database_from_a_newer_version_is_refused(tmp_path):
    db = connect(tmp_path / "a.db")
    db["_sqlite_migrations"].insert({"migration_set": "qa_review", "name": "m999_future", "applied_at": "2030-01-01"})
    db.conn.close()
    with pytest.raises(MigrationError, match="newer qa-review"):
        connect(tmp_path / "a.db")


def test_directory_for_the_database_is_created(tmp_path):
    connect(tmp_path / "deep" / "dir" / "a.db")
    assert sqlite3.connect(tmp_path / "deep" / "dir" / "a.db").execute("select 1").fetchone()


def test_old_database_is_upgraded_in_place(tmp_path):
    old = Database(tmp_path / "old.db")
    migrations.apply(old, stop_before="m002_checklists_and_scorecards")
    old["calls"].insert(
        {
            "call_id": "kept",
            "kind": "audio",
            "channel": "phone",
            "operator": "a",
            "started_at": "2026-11-01T10:00:00+03:00",
            "status": "ingested",
        }
    )
    old.conn.close()
    db = connect(tmp_path / "old.db")
    assert "scorecards" in db.table_names()
    assert [r["call_id"] for r in db["calls"].rows] == ["kept"]


def test_an_index_a_migration_adds_is_filled_on_open_without_the_migration_running_app_code(tmp_path):
    old = Database(tmp_path / "old.db")
    migrations.apply(old, stop_before="m006_transcript_search")
    old["calls"].insert(
        {
            "call_id": "c1",
            "kind": "written",
            "channel": "chat",
            "operator": "a",
            "started_at": "2026-11-01T10:00:00+03:00",
            "status": "transcribed",
        }
    )
    old["segments"].insert(
        {
            "call_id": "c1",
            "idx": 0,
            "speaker": "operator",
            "start": 0.0,
            "end": 1.0,
            "text": "Я записала вас к терапевту",
            "words": "[]",
        }
    )
    old.conn.close()
    storage = open_storage(tmp_path / "old.db")
    assert [r["call_id"] for r in storage.search.find(fts_query("записать"))] == ["c1"]
    storage.close()
    again = open_storage(tmp_path / "old.db")  # the task ran once and is gone
    assert [r["call_id"] for r in again.search.find(fts_query("терапевт"))] == ["c1"]
