"""The recordings archive: the audio stays when the PBX's folder goes; older calls are copied in, or named."""

import shutil
import sqlite3
from pathlib import Path

from qa_review.services import archive, ingest, transcription
from qa_review.storage import open_storage
from tests.audio_factory import write_wav
from tests.cli_runner import invoke
from tests.conftest import PIPELINE, FakeTranscriber


def pbx_folder(tmp_path, n=2):
    for i in range(n):
        write_wav(tmp_path / "pbx" / f"rec{i}.wav", seconds=3.0, freqs=(300.0 + 50 * i, 600.0 + 50 * i))
    return tmp_path / "pbx"


def test_a_call_keeps_its_audio_when_the_pbx_folder_is_deleted(settings, tmp_path):
    db = open_storage(settings.db_path)
    src = pbx_folder(tmp_path)
    assert ingest.ingest(db, PIPELINE, src, settings).added == ["rec0", "rec1"]
    shutil.rmtree(src)
    report = transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber)
    assert report.done == ["rec0", "rec1"] and report.failed == []
    call = db.calls.get("rec0")
    kept = archive.folder(settings)
    assert call["source_path"].startswith(str(kept)) and call["source_path"].endswith(".wav")
    assert call["origin_path"] == str(src / "rec0.wav")
    assert db.calls.ids_by_file_name(["rec1.wav"]) == {"rec1.wav": "rec1"}  # the call log still links by name
    assert kept == (settings.db_path.parent / "qa-review-data" / "recordings").resolve()  # beside the database


def test_a_hard_link_where_it_can_and_a_copy_when_links_are_turned_off(settings, tmp_path):
    from dataclasses import replace

    db = open_storage(settings.db_path)
    src = pbx_folder(tmp_path, n=2)
    ingest.ingest(db, PIPELINE, src / "rec0.wav", settings)
    linked = Path(db.calls.get("rec0")["source_path"])
    assert linked.stat().st_ino == (src / "rec0.wav").stat().st_ino  # the same file: no second copy on disk
    ingest.ingest(db, PIPELINE, src / "rec1.wav", replace(settings, archive_links=False))
    copied = Path(db.calls.get("rec1")["source_path"])
    assert copied.stat().st_ino != (src / "rec1.wav").stat().st_ino
    assert copied.read_bytes() == (src / "rec1.wav").read_bytes()
    with (src / "rec1.wav").open("r+b") as f:  # a PBX rewriting its file in place
        f.seek(100)
        f.write(b"\x00" * 100)
    assert copied.read_bytes() != (src / "rec1.wav").read_bytes()  # the archived call is as it was ingested


def test_the_same_content_is_kept_once_and_a_refused_call_leaves_nothing(settings, tmp_path):
    db = open_storage(settings.db_path)
    src = pbx_folder(tmp_path, n=1)
    shutil.copy(src / "rec0.wav", tmp_path / "again.wav")
    ingest.ingest(db, PIPELINE, src, settings)
    report = ingest.ingest(db, PIPELINE, tmp_path / "again.wav", settings)
    assert report.added == [] and report.duplicates == [(str(tmp_path / "again.wav"), "rec0")]
    # other audio under a call id already taken: refused, and its archived copy removed
    write_wav(tmp_path / "other" / "rec0.wav", seconds=2.0, freqs=(900.0, 1200.0))
    report = ingest.ingest(db, PIPELINE, tmp_path / "other", settings)
    assert "already used by another recording" in report.errors[0][1]
    assert len([p for p in archive.folder(settings).rglob("*") if p.is_file()]) == 1


def test_an_archive_that_cannot_be_written_fails_each_file_with_what_to_check(settings, tmp_path):
    (tmp_path / "not-a-folder").write_text("x")
    settings = settings.with_(data_dir=tmp_path / "not-a-folder")
    db = open_storage(settings.db_path)
    report = ingest.ingest(db, PIPELINE, pbx_folder(tmp_path), settings)
    assert report.added == [] and len(report.errors) == 2
    assert all("recordings archive" in why and "data_dir" in why for _, why in report.errors)


def test_calls_ingested_before_the_archive_are_copied_in_and_the_lost_ones_named(settings, tmp_path):
    db = open_storage(settings.db_path)
    src = pbx_folder(tmp_path, n=3)
    ingest.ingest(db, PIPELINE, src, settings)
    shutil.rmtree(archive.folder(settings))
    with sqlite3.connect(settings.db_path) as con:  # as a database from before the archive stored them
        con.execute("update calls set source_path = origin_path, origin_path = null")
    (src / "rec1.wav").unlink()  # rotated away by the PBX
    write_wav(src / "rec2.wav", seconds=1.0, freqs=(100.0, 200.0))  # the name reused for another recording
    result = invoke("--db", settings.db_path, "archive")
    assert result.exit_code == 1
    assert "archive: 1 recording(s) archived, 2 not reachable" in result.output
    assert "NOT REACHABLE rec1: " in result.output and "no such file" in result.output
    assert "NOT REACHABLE rec2: " in result.output and "changed since it was ingested" in result.output
    call = open_storage(settings.db_path).calls.get("rec0")
    assert call["source_path"].startswith(str(archive.folder(settings))) and call["origin_path"] == str(
        src / "rec0.wav"
    )
    again = invoke("--db", settings.db_path, "archive")
    assert "archive: 0 recording(s) archived, 2 not reachable" in again.output  # safe to run again
