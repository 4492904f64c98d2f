"""qa-review doctor on a sound deployment and on one broken in every piece."""

import socket

import pytest

from tests.cli_runner import invoke
from tests.conftest import MODELS


def lines(output):
    return {
        line[6:24].strip(): line[:4].strip()
        for line in output.splitlines()
        if line[:4].strip() in ("ok", "warn", "FAIL")
    }


def test_a_sound_deployment_is_all_ok(tmp_path):
    db = tmp_path / "qa.db"
    assert invoke("--db", db, "users", "add", "admin", "--role", "admin", "--password", "password-1").exit_code == 0
    config = tmp_path / "qa-review.yaml"
    config.write_text(f"database: {db}\nmodels_dir: {MODELS}\n", encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    result = invoke("--config", config, "doctor", "--no-load", "--port", free)
    assert result.exit_code == 0, result.output
    assert set(lines(result.output).values()) == {"ok"} and len(lines(result.output)) == 9
    assert "schema m022_audio_retention (up to date)" in result.output


def test_each_broken_piece_is_named_with_what_to_do_and_the_rest_still_checked(tmp_path):
    (tmp_path / "checklists").mkdir()
    (tmp_path / "checklists" / "bad.yaml").write_text("id: bad\nsections: 3\n", encoding="utf-8")
    (tmp_path / "data").write_text("a file where the data folder should be")
    config = tmp_path / "qa-review.yaml"
    config.write_text(
        f"database: {tmp_path / 'missing.db'}\nmodels_dir: {tmp_path / 'no-models'}\n"
        f"checklists: [{tmp_path / 'checklists'}]\ndata_dir: {tmp_path / 'data'}\n"
        f"log_level: info\nlog_file: {tmp_path / 'data' / 'qa.log'}\n",
        encoding="utf-8",
    )
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = invoke("--config", config, "doctor", "--port", port)
    assert result.exit_code == 1
    found = lines(result.output)
    assert found == {
        "configuration": "ok",
        "database": "FAIL",
        "ASR model": "FAIL",
        "checklists": "FAIL",
        "rules": "ok",
        "recordings archive": "FAIL",
        "log": "FAIL",
        "time zone": "ok",
        "app port": "warn",
    }
    assert "missing.db: no such database" in result.output
    assert "qa-review models install" in result.output
    assert "bad.yaml:2" in result.output
    assert f"{port} is in use" in result.output
    assert "qa.log: cannot write there" in result.output
    assert "failed: database, ASR model, checklists, recordings archive, log" in result.output


def test_a_broken_configuration_is_reported_and_the_rest_checked_on_the_defaults(tmp_path):
    config = tmp_path / "qa-review.yaml"
    config.write_text("timezone: Mars/Olympus\n", encoding="utf-8")
    result = invoke("--config", config, "--db", tmp_path / "none.db", "doctor", "--no-load")
    assert result.exit_code == 1
    assert "qa-review.yaml:1: timezone: 'Mars/Olympus'" in result.output
    assert lines(result.output)["checklists"] == "ok"  # the shipped ones, on the defaults
    shown = invoke("--config", config, "config", "show")
    assert shown.exit_code == 2 and "Mars/Olympus" in shown.output  # other commands refuse to run


@pytest.mark.model
def test_the_installed_model_loads_and_runs(tmp_path):
    db = tmp_path / "qa.db"
    assert invoke("--db", db, "users", "add", "admin", "--role", "admin", "--password", "password-1").exit_code == 0
    result = invoke("--db", db, "doctor", env={"QA_REVIEW_MODELS": str(MODELS)})
    assert "installed at" in result.output and "loads and runs" in result.output
    assert lines(result.output)["ASR model"] == "ok"
