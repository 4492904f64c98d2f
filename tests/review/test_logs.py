"""The log: each call's steps with its id and durations, at the level asked, with no personal data."""

import io
import json
import os
import time

import pytest

from qa_review.core.errors import AuthError
from qa_review.services import accounts, intake, logs
from tests.audio_factory import write_wav
from tests.cli_runner import invoke
from tests.conftest import PIPELINE, FakeTranscriber

PHONE = "79161234567"


@pytest.fixture
def log():
    buf = io.StringIO()
    logs.configure("info", None, "json", stream=buf)
    yield lambda: [json.loads(line) for line in buf.getvalue().splitlines()]
    logs.configure()  # off again, for the tests after this one


def test_each_file_and_call_is_logged_with_its_id_and_durations_and_no_phone_number(world, tmp_path, log):
    pbx = tmp_path / "pbx"
    write_wav(pbx / f"in_{PHONE}.wav", seconds=2.0)
    (pbx / "broken.wav").write_bytes(b"RIFF....not audio at all")
    for p in pbx.iterdir():
        os.utime(p, (time.time() - 60,) * 2)
    r = intake.Intake(world.db, PIPELINE, world.settings, pbx, FakeTranscriber, settle_s=10).round()
    assert r.ingested == [f"in_{PHONE}"] and len(r.failed) == 1

    lines = log()
    by = {}
    for e in lines:
        by.setdefault(e["event"], []).append(e)
    call = "in_*********67"
    (ingested,) = by["ingested"]
    assert ingested["call"] == call and ingested["seconds"] >= 0 and ingested["level"] == "info"
    (failed,) = by["ingest failed"]
    assert failed["level"] == "warning" and "broken.wav" in failed["where"] and failed["reason"]
    (done,) = by["transcribed"]
    assert done["call"] == call and done["audio_s"] == 2.0 and done["seconds"] >= 0 and done["segments"] >= 1
    assert done["rtf"] == pytest.approx(done["seconds"] / 2.0, abs=0.001)
    assert {e["call"] for e in by["scored"]} == {call} and all("checklist" in e for e in by["scored"])
    (batch,) = by["transcribe batch"]
    assert (batch["done"], batch["failed"], batch["cluster"]) == (1, 0, "local")
    (rnd,) = by["intake round"]
    assert (rnd["ingested"], rnd["failed"], rnd["transcribed"]) == (1, 1, 1)
    # The order a call went through its steps.
    order = [e["event"] for e in lines if e.get("call") == call]
    assert order.index("ingested") < order.index("transcribed") < order.index("scored")
    everything = json.dumps(lines, ensure_ascii=False)
    assert PHONE not in everything and "9161234567" not in everything


def test_a_step_that_fails_is_a_warning_with_its_error_and_the_levels_filter(log):
    with pytest.raises(ValueError), logs.step("backup", user="admin") as found:
        found["file"] = "/backups/qa.db"
        raise ValueError("disk full")
    logs.event("quiet", "debug", n=1)  # below info: not written
    with logs.step("restore"):
        pass
    failed, done = log()
    assert failed["event"] == "backup failed" and failed["level"] == "warning"
    assert (failed["user"], failed["file"], failed["error"], failed["message"]) == (
        "admin",
        "/backups/qa.db",
        "ValueError",
        "disk full",
    )
    assert done["event"] == "restore" and done["seconds"] >= 0


def test_a_crash_is_logged_with_its_traceback_scrubbed(log):
    try:
        raise RuntimeError(f"cannot open /pbx/out_{PHONE}.wav")
    except RuntimeError:
        logs.crash("command crashed", command="ingest")
    (e,) = log()
    assert e["level"] == "error" and e["error"] == "RuntimeError" and "Traceback" in e["traceback"]
    assert PHONE not in json.dumps(e)


def test_configuring_again_replaces_the_log_and_off_is_silent(tmp_path):
    first, second = io.StringIO(), io.StringIO()
    logs.configure("info", None, "text", stream=first)
    logs.configure("info", None, "text", stream=second)
    logs.event("one")
    logs.configure()
    logs.event("two", "error")
    assert first.getvalue() == "" and second.getvalue().count("event=one") == 1 and "two" not in second.getvalue()


def test_a_refused_login_is_logged_without_the_name_typed(world, log):
    with pytest.raises(AuthError):
        accounts.login(world.db, "my-secret-password", "anna")  # the password typed into the name field
    accounts.login(world.db, "anna", "password-anna")
    refused, logged_in = log()
    assert refused["event"] == "login refused" and refused["level"] == "warning"
    assert "my-secret-password" not in json.dumps(refused)
    assert (logged_in["event"], logged_in["user"], logged_in["via"]) == ("logged in", "anna", "password")


def test_single_sign_on_is_logged_without_the_address(world, log):
    from tests.review.test_accounts import T, signin

    with pytest.raises(AuthError):
        accounts.login_sso(world.db, signin(), now=T + 5)  # not linked yet
    accounts.link_sso(world.db, world.admin, "anna", "anna.smirnova@clinic.ru")
    accounts.login_sso(world.db, signin(nonce="n2"), now=T + 5)
    refused, logged_in = [e for e in log() if e["event"] in ("login refused", "logged in")]
    assert (refused["via"], refused["reason"], refused["level"]) == ("sso", "sso_unknown", "warning")
    assert (logged_in["user"], logged_in["via"]) == ("anna", "sso")
    assert "clinic.ru" not in json.dumps([refused, logged_in]).lower()


def test_an_upgrade_on_open_is_logged_with_its_copy(tmp_path, log):
    from qa_review.services.database import open_database
    from tests.integration.test_migrate import old_database

    old_database(tmp_path / "qa.db")
    open_database(tmp_path / "qa.db").close()
    open_database(tmp_path / "qa.db").close()  # up to date now: nothing to say
    (e,) = [e for e in log() if e["event"] == "database upgraded"]
    assert e["applied"][0] == "m021_recordings_archive" and "qa.before-m021-" in e["copy"]


def test_the_cli_logs_to_the_configured_file_and_by_default_says_nothing_more(world, tmp_path):
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "bad.json").write_text("{not json")
    quiet = invoke("--db", world.settings.db_path, "ingest", folder)
    assert quiet.exit_code == 1 and "level=" not in quiet.output and '"level"' not in quiet.output

    log_file = tmp_path / "logs" / "qa-review.log"
    env = {"QA_REVIEW_LOG_LEVEL": "info", "QA_REVIEW_LOG_FILE": str(log_file), "QA_REVIEW_LOG_FORMAT": "text"}
    try:
        loud = invoke("--db", world.settings.db_path, "ingest", folder, env=env)
    finally:
        logs.configure()
    assert loud.exit_code == 1 and "level=" not in loud.output  # the file has the log, the terminal the report
    text = log_file.read_text(encoding="utf-8")
    assert 'level=warning event="ingest failed"' in text and 'event="ingest batch"' in text
    assert "failed=1" in text


def test_a_log_file_that_cannot_be_written_is_a_configuration_error_doctor_reports(world, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    env = {"QA_REVIEW_LOG_LEVEL": "info", "QA_REVIEW_LOG_FILE": str(blocker / "qa.log")}
    try:
        refused = invoke("--db", world.settings.db_path, "calls", env=env)
        doctor = invoke("--db", world.settings.db_path, "doctor", "--no-load", env=env)
    finally:
        logs.configure()
    assert refused.exit_code == 2 and "log_file" in refused.output and "leave log_file out" in refused.output
    assert "ok    configuration" in doctor.output  # the file is sound; its log is the one broken piece
    assert "FAIL  log" in doctor.output and "cannot write there" in doctor.output


def test_an_unknown_level_names_the_variable(world):
    out = invoke("--db", world.settings.db_path, "calls", env={"QA_REVIEW_LOG_LEVEL": "loud"})
    assert out.exit_code == 2 and "QA_REVIEW_LOG_LEVEL='loud'" in out.output and "debug, info" in out.output
