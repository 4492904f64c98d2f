"""The site's configuration file: precedence, errors with lines, checklist folders, and the app reading it."""

import json
import shutil

import pytest

from qa_review.core.errors import ConfigError
from qa_review.services import scoring
from qa_review.services.settings import REPO_ROOT, load
from tests.cli_runner import invoke


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def shown(result):
    assert result.exit_code == 0, result.output
    return {r["setting"]: (r["value"], r["source"]) for r in json.loads(result.output)}


def test_the_file_is_overridden_by_the_environment_and_that_by_an_option(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("QA_REVIEW_DB", "QA_REVIEW_TZ", "QA_REVIEW_CONFIG", "QA_REVIEW_DISPUTE_DAYS"):
        monkeypatch.delenv(name, raising=False)
    write(
        tmp_path / "qa-review.yaml",
        "# clinic\ndatabase: data/clinic.db\ntimezone: Asia/Yekaterinburg\ndispute_window_days: 7\n",
    )
    s = shown(invoke("config", "show", "--json"))  # found in the working directory
    assert s["database"] == (str(tmp_path / "data" / "clinic.db"), f"{tmp_path / 'qa-review.yaml'}:2")
    assert s["timezone"][1].endswith("qa-review.yaml:3") and s["session_idle_hours"] == ("8.0", "default")
    s = shown(invoke("config", "show", "--json", env={"QA_REVIEW_TZ": "Europe/Samara"}))
    assert s["timezone"] == ("Europe/Samara", "env QA_REVIEW_TZ") and s["dispute_window_days"][0] == "7"
    s = shown(invoke("--db", "other.db", "config", "show", "--json", env={"QA_REVIEW_DB": "env.db"}))
    assert s["database"] == ("other.db", "option --db")
    s = shown(invoke("config", "show", "--json", env={"QA_REVIEW_DB": "env.db"}))
    assert s["database"] == ("env.db", "env QA_REVIEW_DB")


def test_every_mistake_is_named_with_its_line_and_nothing_runs(tmp_path):
    bad = write(
        tmp_path / "site.yaml",
        "timezone: Mars/Olympus\ncolour: blue\ndispute_window_days: -2\nchannels: operator,operator\n",
    )
    result = invoke("--config", bad, "config", "show")
    assert result.exit_code == 2
    for said in (
        "site.yaml:1: timezone: 'Mars/Olympus': not a known time zone",
        "site.yaml:2: unknown setting 'colour'",
        "site.yaml:3: dispute_window_days: -2: expected a whole number of days",
        "site.yaml:4: channels",
    ):
        assert said in result.output
    result = invoke("--config", write(tmp_path / "broken.yaml", "timezone: [Europe\n"), "config", "show")
    assert result.exit_code == 2 and "broken.yaml:2: not valid YAML" in result.output
    result = invoke("calls", env={"QA_REVIEW_CONFIG": str(tmp_path / "missing.yaml")})
    assert result.exit_code == 2 and "QA_REVIEW_CONFIG=" in result.output and "no such file" in result.output
    with pytest.raises(ConfigError, match="QA_REVIEW_DISPUTE_DAYS='soon': expected a whole number"):
        load(env={"QA_REVIEW_DISPUTE_DAYS": "soon"})


def test_the_clinics_checklist_folder_wins_on_the_same_id(tmp_path):
    own = tmp_path / "own"
    shipped_chat = (REPO_ROOT / "checklists" / "written-chat.yaml").read_text(encoding="utf-8")
    write(own / "chat.yaml", shipped_chat.replace("pass_mark: 80", "pass_mark: 90").replace("version: 1", "version: 2"))
    shutil.copy(REPO_ROOT / "checklists" / "clinic-inbound.yaml", own / "inbound-copy.yaml")
    config = write(tmp_path / "etc" / "qa-review.yaml", "checklists: [shipped, ../own]\n")
    settings = load(config, env={}).settings
    assert settings.checklist_dirs == (REPO_ROOT / "checklists", tmp_path / "own")
    good, bad = scoring.checklists(settings)
    by_id = {lc.checklist.id: lc for lc in good}
    assert by_id["written-chat"].checklist.pass_mark == 90 and by_id["written-chat"].source.endswith("chat.yaml")
    assert by_id["clinic-inbound"].source.endswith("inbound-copy.yaml")  # the later folder's copy
    assert set(by_id) == {"written-chat", "clinic-inbound", "outbound-confirmation"} and bad == []
    shutil.copy(own / "chat.yaml", own / "chat-again.yaml")
    _, bad = scoring.checklists(settings)
    assert len(bad) == 1 and "is also used by" in bad[0]  # within one folder an id is still unique


def test_the_app_reads_the_file_it_is_pointed_at(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from qa_review.core.permissions import User
    from tests.ui.test_pages import APP

    db = tmp_path / "clinic.db"
    assert invoke("--db", db, "users", "add", "admin", "--role", "admin", "--password", "password-1").exit_code == 0
    monkeypatch.delenv("QA_REVIEW_DB", raising=False)
    monkeypatch.setenv("QA_REVIEW_CONFIG", str(write(tmp_path / "qa.yaml", f"database: {db}\n")))
    at = AppTest.from_file(APP, default_timeout=30)
    at.session_state["user"] = User("admin", "admin")
    at.run()
    at.switch_page("screens/users.py").run()
    assert not at.exception
    assert "admin" in set(at.dataframe[0].value["Логин"])
