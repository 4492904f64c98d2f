"""Failed ingests and transcriptions stay visible until they are settled, and can be retried."""

import pytest

from qa_review.cli import calls as cli_calls
from qa_review.core.errors import PermissionDenied
from qa_review.core.permissions import User
from qa_review.services import failures
from qa_review.services.database import open_database
from tests.audio_factory import write_wav
from tests.cli_runner import invoke
from tests.conftest import FakeTranscriber


@pytest.fixture
def fake_asr(monkeypatch):
    monkeypatch.setattr(cli_calls, "make_transcriber", lambda *a, **k: FakeTranscriber())
    monkeypatch.setattr("qa_review.asr.models.resolve", lambda spec, d: "/fake")


def test_a_failed_file_is_listed_until_a_retry_gets_it_in(tmp_path):
    db = tmp_path / "qa.db"
    write_wav(tmp_path / "in" / "good.wav")
    (tmp_path / "in" / "broken.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    assert invoke("--db", db, "ingest", tmp_path / "in", "--no-score").exit_code == 1
    assert invoke("--db", db, "ingest", tmp_path / "in", "--no-score").exit_code == 1  # the same failure again

    listed = invoke("--db", db, "errors")
    assert listed.exit_code == 1
    assert "broken.wav" in listed.output and "corrupt" in listed.output
    assert "1 input(s) not ingested" in listed.output  # superseded, not counted twice

    write_wav(tmp_path / "in" / "broken.wav", freqs=(300.0,))  # copied again from the recorder
    retried = invoke("--db", db, "errors", "--retry")
    assert "ingest again: 1 added" in retried.output
    assert retried.exit_code == 0 and "0 input(s) not ingested, 0 call(s) not transcribed" in retried.output


def test_a_manifest_row_is_retried_by_ingesting_its_manifest_into_its_folder(tmp_path):
    db = tmp_path / "qa.db"
    write_wav(tmp_path / "in" / "a.wav")
    (tmp_path / "m.csv").write_text(
        "file,call_id,operator,started_at\na.wav,A1,anna,2026-11-02T09:00:00\nlate.wav,B1,ivan,2026-11-02T09:10:00\n"
    )
    assert invoke("--db", db, "ingest", tmp_path / "in", "--manifest", tmp_path / "m.csv").exit_code == 1
    assert "late.wav" in invoke("--db", db, "errors").output
    write_wav(tmp_path / "in" / "late.wav", freqs=(300.0,))
    assert invoke("--db", db, "errors", "--retry").exit_code == 0
    assert {c["call_id"] for c in open_database(db).calls.list()} == {"A1", "B1"}


def test_an_error_can_be_dismissed(tmp_path):
    db = tmp_path / "qa.db"
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "readme.txt").write_text("not a call")
    invoke("--db", db, "ingest", tmp_path / "in")
    (error,) = failures.failures(open_database(db), User("root", "admin")).ingest
    assert "unsupported format" in error["reason"]
    result = invoke("--db", db, "errors", "--dismiss", error["id"])
    assert "dismissed 1" in result.output and result.exit_code == 0


def test_a_failed_transcription_is_listed_and_retried(tmp_path, fake_asr):
    db = tmp_path / "qa.db"
    write_wav(tmp_path / "in" / "c.wav", seconds=2.0)
    invoke("--db", db, "ingest", tmp_path / "in")
    path = open_database(db).calls.get("c")["source_path"]
    good = open(path, "rb").read()
    open(path, "wb").write(b"damaged after ingest")
    assert invoke("--db", db, "transcribe").exit_code == 1
    listed = invoke("--db", db, "errors")
    assert "transcribe c" in listed.output and "1 call(s) not transcribed" in listed.output
    open(path, "wb").write(good)  # restored from the recorder
    retried = invoke("--db", db, "errors", "--retry")
    assert "1 transcribed" in retried.output and retried.exit_code == 0


def test_only_an_admin_sees_or_retries_failures(tmp_path):
    db = open_database(tmp_path / "qa.db")
    for who in (User("sup", "supervisor"), User("t", "trainer"), User("o", "operator", operator_id="o")):
        with pytest.raises(PermissionDenied):
            failures.failures(db, who)
        with pytest.raises(PermissionDenied):
            failures.retry_ingests(db, who, None)
