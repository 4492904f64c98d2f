"""Set-up mistakes at the command line: one line naming the path and what to do, exit code 2, no traceback."""

import os
import sqlite3

import pytest

from tests.audio_factory import write_wav
from tests.cli_runner import invoke


def refused(result, *words):
    assert result.exit_code == 2, result.output
    assert all(w in result.output for w in words), result.output
    assert "Traceback" not in result.output


@pytest.fixture
def db_with_a_call(tmp_path):
    db = tmp_path / "clinic.db"
    write_wav(tmp_path / "in" / "a.wav")
    assert invoke("--db", db, "ingest", tmp_path / "in", "--no-score").exit_code == 0
    return db


def test_db_may_come_after_the_command(db_with_a_call):
    after = invoke("calls", "--db", db_with_a_call)
    assert after.exit_code == 0 and "1 call(s)" in after.output
    nested = invoke("export", "transcripts", "--db", db_with_a_call, "--format", "json")
    assert nested.exit_code == 0 and nested.output.strip() == "[]"  # not transcribed yet


def test_a_command_that_reads_refuses_a_database_that_does_not_exist(tmp_path, db_with_a_call):
    typo = tmp_path / "clinc.db"
    for args in (["calls"], ["score"], ["kpi", "--month", "2026-11"], ["export", "scores"]):
        refused(invoke("--db", typo, *args), str(typo), "does not exist", "--db")
    assert not typo.exists()  # no empty database left behind to answer "0 calls" next time
    refused(invoke("--db", tmp_path / "nowhere" / "x.db", "serve"), "does not exist")


def test_commands_that_put_something_in_create_the_database(tmp_path):
    db = tmp_path / "new" / "qa.db"
    added = invoke("--db", db, "users", "add", "root", "--role", "admin", "--password", "password-1")
    assert added.exit_code == 0 and db.exists()


def test_a_file_that_is_not_sqlite_is_named(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, just notes\n" * 100)
    before = notes.read_bytes()
    refused(invoke("--db", notes, "calls"), str(notes), "not a SQLite database")
    refused(invoke("--db", notes, "ingest", tmp_path), "not a SQLite database")
    assert notes.read_bytes() == before


def test_a_folder_given_as_the_database_is_named(tmp_path):
    refused(invoke("--db", tmp_path, "ingest", tmp_path), str(tmp_path), "cannot open database")


def test_another_programs_database_is_left_alone(tmp_path):
    other = tmp_path / "places.sqlite"
    with sqlite3.connect(other) as c:
        c.execute("create table moz_places (id integer primary key, url text)")
    refused(invoke("--db", other, "calls"), "another program")
    tables = {r[0] for r in sqlite3.connect(other).execute("select name from sqlite_master where type = 'table'")}
    assert tables == {"moz_places"}


def test_an_output_folder_that_does_not_exist_is_named(db_with_a_call, tmp_path):
    out = tmp_path / "missing" / "scores.csv"
    refused(invoke("--db", db_with_a_call, "export", "scores", "-o", out), str(out), "folder")


def test_a_missing_input_is_a_usage_error(tmp_path):
    refused(invoke("--db", tmp_path / "qa.db", "ingest", tmp_path / "nope"), "does not exist")
    assert not (tmp_path / "qa.db").exists()


def test_files_left_out_of_the_manifest_are_named(tmp_path):
    write_wav(tmp_path / "in" / "listed.wav")
    write_wav(tmp_path / "in" / "forgotten.wav", freqs=(300.0,))
    (tmp_path / "m.csv").write_text("file,call_id,operator,started_at\nlisted.wav,L1,anna,2026-11-02T09:00:00\n")
    result = invoke("--db", tmp_path / "qa.db", "ingest", tmp_path / "in", "--manifest", tmp_path / "m.csv")
    assert result.exit_code == 0
    assert f"not in the manifest, not ingested: {tmp_path / 'in' / 'forgotten.wav'}" in result.output
    assert "1 file(s) in the folder not in the manifest" in result.output


def test_a_call_no_checklist_applies_to_is_named_with_what_to_set(tmp_path):
    from qa_review.services.settings import REPO_ROOT

    only_phone = tmp_path / "checklists"
    only_phone.mkdir()
    (only_phone / "clinic-inbound.yaml").write_text((REPO_ROOT / "checklists" / "clinic-inbound.yaml").read_text())
    chat = {
        "conversation_id": "chat-7",
        "operator": "anna",
        "started_at": "2026-11-04T19:00:00+03:00",
        "channel": "chat",
        "messages": [{"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "Здравствуйте"}],
    }
    (tmp_path / "chat.json").write_text(__import__("json").dumps(chat, ensure_ascii=False))
    env = {"QA_REVIEW_CHECKLISTS": str(only_phone)}
    ingested = invoke("--db", tmp_path / "qa.db", "ingest", tmp_path / "chat.json", env=env)
    assert "no checklist applies: chat-7" in ingested.output
    result = invoke("--db", tmp_path / "qa.db", "score", env=env)
    assert result.exit_code == 0
    assert "no checklist applies: chat-7" in result.output
    assert "1 with no applicable checklist" in result.output and "set direction" in result.output


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files: the refusal cannot happen")
def test_a_database_this_user_may_not_write_is_named(db_with_a_call, tmp_path):
    db_with_a_call.chmod(0o444)
    tmp_path.chmod(0o555)  # nor create the -wal beside it
    try:
        refused(invoke("--db", db_with_a_call, "ingest", tmp_path / "in"), str(db_with_a_call))
    finally:
        tmp_path.chmod(0o755)
        db_with_a_call.chmod(0o644)
