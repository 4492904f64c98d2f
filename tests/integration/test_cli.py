import csv
import io
import json
from datetime import UTC

import click
import pytest
from click.testing import CliRunner

from qa_review.cli import calls as cli_module
from qa_review.cli import cli
from tests.audio_factory import write_wav
from tests.conftest import PIPELINE


def all_commands(group: click.Group, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, prefix + (name,))


@pytest.mark.parametrize(
    "path, cmd", list(all_commands(cli)), ids=lambda v: " ".join(v) if isinstance(v, tuple) else ""
)
def test_every_command_has_help_with_an_example(path, cmd):
    assert cmd.help and "qa-review" in cmd.help, f"{' '.join(path)} needs help text with an example"
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0


@pytest.fixture
def run(tmp_path):
    db = str(tmp_path / "cli.db")

    def invoke(*args):
        return CliRunner().invoke(cli, ["--db", db, *map(str, args)])

    return invoke


def test_ingest_reports_summary_and_fails_on_bad_input(run, tmp_path):
    write_wav(tmp_path / "in" / "a.wav")
    (tmp_path / "in" / "bad.wav").write_bytes(b"")
    result = run("ingest", tmp_path / "in")
    assert result.exit_code == 1
    assert "1 added, 0 already ingested, 1 failed" in result.output
    assert "bad.wav: the file is empty" in result.output
    again = run("ingest", tmp_path / "in" / "a.wav")
    assert again.exit_code == 0 and "already ingested as a" in again.output


def test_db_option_also_read_from_environment(tmp_path, monkeypatch):
    write_wav(tmp_path / "in" / "a.wav")
    monkeypatch.setenv("QA_REVIEW_DB", str(tmp_path / "env.db"))
    assert CliRunner().invoke(cli, ["ingest", str(tmp_path / "in")]).exit_code == 0
    assert (tmp_path / "env.db").exists()


def test_transcribe_missing_model_names_the_install_command(run, tmp_path):
    models = tmp_path / "models"
    models.mkdir()
    (models / "registry.yaml").write_text(
        "base:\n  packages: [{name: p, version: '1', module: p}]\n  files: {model.bin: {}}\n"
    )
    write_wav(tmp_path / "in" / "a.wav")
    run("ingest", tmp_path / "in")
    result = CliRunner(env={"QA_REVIEW_MODELS": str(models)}).invoke(
        cli, ["--db", str(tmp_path / "cli.db"), "transcribe", "--model", "base"]
    )
    assert result.exit_code == 2  # a set-up error, found before any call is tried
    assert "qa-review models install base" in result.output


def test_transcribe_and_export(run, tmp_path, monkeypatch):
    from tests.conftest import FakeTranscriber

    monkeypatch.setattr(cli_module, "make_transcriber", lambda *a, **k: FakeTranscriber())
    monkeypatch.setattr("qa_review.asr.models.resolve", lambda spec, d: "/fake")
    write_wav(tmp_path / "in" / "a.wav", seconds=2.0)
    write_wav(tmp_path / "in" / "b.wav", seconds=2.0, freqs=(300.0, 350.0))
    run("ingest", tmp_path / "in")
    result = run("transcribe")
    assert result.exit_code == 0, result.output
    assert "2 transcribed, 0 failed" in result.output
    # scored straight away; the tone files have no direction, so they count as inbound
    assert "score: 2 scored, 0 already scored, 0 failed, 0 with no applicable checklist" in result.output

    listed = run("calls", "--status", "transcribed")
    assert "2 call(s)" in listed.output

    data = json.loads(run("export", "transcripts", "--format", "json").output)
    assert [d["call_id"] for d in data] == ["a", "b"]
    seg = data[0]["segments"][0]
    assert set(seg) == {"speaker", "start", "end", "text", "words"} and seg["words"]

    rows = list(csv.DictReader(io.StringIO(run("export", "transcripts", "--format", "csv", "--call", "b").output)))
    assert {r["call_id"] for r in rows} == {"b"}
    assert list(rows[0]) == [
        "call_id",
        "channel",
        "operator",
        "started_at",
        "direction",
        "phone",
        "queue",
        "tags",
        "segment",
        "speaker",
        "start",
        "end",
        "text",
    ]


def test_export_unknown_call_is_a_clear_error(run, tmp_path):
    run("users", "add", "root", "--role", "admin", "--password", "password-1")  # the database exists
    result = run("export", "transcripts", "--call", "nope")
    assert result.exit_code == 2 and "no call with id 'nope'" in result.output


def test_checklist_validate_reports_each_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad\ntitle: B\nversion: 1\nsections:\n  - id: s\n    items:\n      - id: x\n        check: {kind: nope}\n"
    )
    from qa_review.services.settings import REPO_ROOT

    good = REPO_ROOT / "checklists" / "clinic-inbound.yaml"
    result = CliRunner().invoke(cli, ["checklist", "validate", str(good), str(bad)])
    assert result.exit_code == 1
    assert "clinic-inbound.yaml: ok (clinic-inbound v2" in result.output
    assert "bad.yaml:8: sections[s].items[x].check.kind: unknown kind 'nope'" in result.output
    assert "1 of 2 checklist(s) invalid" in result.output


def test_score_show_and_export_scores(run, tmp_path):
    chat = {
        "conversation_id": "c1",
        "operator": "anna",
        "started_at": "2026-11-04T19:00:00+03:00",
        "channel": "chat",
        "messages": [
            {"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "Сколько стоит УЗИ?"},
            {
                "speaker": "operator",
                "at": "2026-11-04T19:01:00+03:00",
                "text": "Здравствуйте, клиника Здоровье. 2200 рублей. Всего доброго!",
            },
        ],
    }
    (tmp_path / "c1.json").write_text(json.dumps(chat, ensure_ascii=False))
    ingested = run("ingest", tmp_path / "c1.json")
    assert "score: 1 scored" in ingested.output  # a written conversation is scored on arrival
    assert "0 scored, 1 already scored" in run("score", "--all").output
    rescored = run("score", "--rescore")
    assert rescored.exit_code == 0 and "1 scored" in rescored.output and "written-chat" in rescored.output
    shown = run("show", "c1")
    assert "written-chat v1: 100.0" in shown.output and "PASS   greet" in shown.output
    data = json.loads(run("show", "c1", "--json").output)
    assert data["scorecards"][0]["items"][0]["evidence"][0]["speaker"] == "operator"
    rows = list(csv.DictReader(io.StringIO(run("export", "scores").output)))
    assert {r["item_id"] for r in rows} >= {"greet", "farewell"}
    assert "give --call or --all" in run("score", "--all", "--call", "c1").output


def test_users_add_list_and_first_must_be_admin(run):
    refused = run("users", "add", "sup", "--role", "supervisor", "--password", "password-1")
    assert refused.exit_code == 2 and "first user must be an admin" in refused.output
    assert run("users", "add", "root", "--role", "admin", "--password", "password-1").exit_code == 0
    added = run(
        "users",
        "add",
        "anna",
        "--role",
        "operator",
        "--team",
        "A",
        "--operator-id",
        "anna.smirnova",
        "--password",
        "password-2",
    )
    assert added.exit_code == 0 and "added anna (operator, team A)" in added.output
    assert (
        "exists"
        in run(
            "users", "add", "anna", "--role", "operator", "--operator-id", "x", "--password", "password-2", "--exist-ok"
        ).output
    )
    listed = run("users", "list").output
    assert "anna" in listed and "anna.smirnova" in listed and "root" in listed
    assert run("users", "passwd", "anna", "--password", "short").exit_code == 2
    moved = run("users", "set-role", "anna", "--role", "operator", "--team", "registry", "--operator-id", "x")
    assert moved.exit_code == 0 and "operator, team registry" in moved.output
    assert run("users", "disable", "anna").exit_code == 0
    assert "anna" not in run("users", "list").output
    assert run("users", "enable", "anna").exit_code == 0 and "anna" in run("users", "list").output


def test_every_ui_message_has_russian_and_english():
    from qa_review.ui.i18n import catalogue

    missing = [k for k, v in catalogue().items() if not (v.get("ru") and v.get("en"))]
    assert missing == []


def test_export_audit_after_a_change(run, tmp_path):
    import sqlite3

    run("users", "add", "root", "--role", "admin", "--password", "password-1")
    with sqlite3.connect(tmp_path / "cli.db") as c:
        c.execute(
            "insert into audit_log (at, username, action, call_id, target, old, new, reason) "
            "values ('2026-11-02T10:00:00+00:00', 'sup', 'verdict', null, 'greet', 'pass', 'fail', 'why')"
        )
    rows = list(csv.DictReader(io.StringIO(run("export", "audit").output)))
    assert [(r["username"], r["action"], r["old"], r["new"], r["reason"]) for r in rows] == [
        ("sup", "verdict", "pass", "fail", "why")
    ]


def test_export_transcripts_redacted(run, tmp_path):
    chat = {
        "conversation_id": "c9",
        "operator": "anna",
        "started_at": "2026-11-04T19:00:00+03:00",
        "channel": "chat",
        "phone": "+79161234567",
        "messages": [
            {
                "speaker": "client",
                "at": "2026-11-04T19:00:00+03:00",
                "text": "Запишите меня, мой телефон 8 (916) 123-45-67, приём в 10:30",
            }
        ],
    }
    (tmp_path / "c9.json").write_text(json.dumps(chat, ensure_ascii=False))
    run("ingest", tmp_path / "c9.json")
    masked = run("export", "transcripts", "--format", "csv").output  # masked unless asked otherwise
    plain = run("export", "transcripts", "--format", "csv", "--no-redact").output
    assert "123-45-67" in plain and "+79161234567" in plain
    assert "123-45-67" not in masked and "+79161234567" not in masked
    audit = run("export", "audit", "--format", "json").output
    (entry,) = [a for a in json.loads(audit) if a["action"] == "export_unredacted"]
    assert entry["target"] == "transcripts" and entry["username"].startswith("cli:")  # who, from which OS account
    assert "[телефон]" in masked and "10:30" in masked


def test_service_errors_speak_the_ui_language():
    from qa_review.core.errors import QAReviewError
    from qa_review.ui.i18n import t

    e = QAReviewError("item greet: a comment is required", code="comment_required", item="greet")
    assert t(f"err.{e.code}", "ru", **e.params) == "Пункт greet: при изменении вердикта нужен комментарий."
    assert t(f"err.{e.code}", "en", **e.params) == "Item greet: a comment is required when changing a verdict."
    assert str(e) == "item greet: a comment is required"  # the CLI keeps the English message


def test_every_metric_has_a_name_in_the_catalogue():
    from qa_review.core.checklists import METRICS
    from qa_review.ui.i18n import catalogue

    assert [m for m in METRICS if f"metric.{m}" not in catalogue()] == []


def test_show_reports_coverage_and_unheard_speech(tmp_path):
    from datetime import datetime

    from click.testing import CliRunner

    from qa_review.cli import cli
    from qa_review.core.domain import CallMeta, Coverage, Interval, Segment, Transcript, Word
    from qa_review.services.transcription import save_transcript
    from qa_review.storage import open_storage

    db_path = tmp_path / "qa.db"
    db = open_storage(db_path)
    db.calls.add(
        CallMeta("c1", "anna", datetime(2026, 11, 2, tzinfo=UTC)),
        kind="audio",
        source_path="/x.wav",
        sha256="x",
    )
    save_transcript(
        db,
        PIPELINE,
        Transcript(
            "c1",
            (Segment("operator", 0.5, 0.9, "алло", (Word(0.5, 0.9, " алло"),)),),
            duration_s=10,
            coverage=(Coverage("client", 10.0, 5.0, 1.5),),
            unheard=(Interval("client", 4.0, 8.0),),
        ),
        model="m",
        settings={},
        processing_s=1,
    )
    out = CliRunner().invoke(cli, ["--db", str(db_path), "show", "c1"]).output
    assert "speech recognized: client 50% of 10 s (1.5 s by the guard)" in out
    assert "UNHEARD  client 4.0-8.0 s" in out
    assert "FLAG     low_coverage: client: 50%" in out
