"""Scoring through the service layer: idempotence, versions, batches."""

import json
import shutil

import pytest

from qa_review.core.errors import ChecklistError
from qa_review.core.permissions import User
from qa_review.core.permissions import User as _User  # noqa: E402
from qa_review.services import exports, ingest, scoring
from qa_review.services.settings import REPO_ROOT, Settings
from qa_review.storage import open_storage
from tests.conftest import PIPELINE

ADMIN_USER = _User("root", "admin")

CHAT = {
    "conversation_id": "chat-1",
    "operator": "anna",
    "started_at": "2026-11-04T19:00:00+03:00",
    "channel": "chat",
    "messages": [
        {"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "Можно записаться к окулисту?"},
        {
            "speaker": "operator",
            "at": "2026-11-04T19:01:00+03:00",
            "text": "Здравствуйте! Клиника «Здоровье», Анна. В субботу есть время в 10:00, вам удобно?",
        },
        {"speaker": "client", "at": "2026-11-04T19:02:00+03:00", "text": "Да"},
        {"speaker": "operator", "at": "2026-11-04T19:03:00+03:00", "text": "Записала вас на субботу. Всего доброго!"},
    ],
}


@pytest.fixture
def env(tmp_path):
    checklists = tmp_path / "checklists"
    shutil.copytree(REPO_ROOT / "checklists", checklists)
    settings = Settings(db_path=tmp_path / "qa.db", checklist_dirs=(checklists,))
    db = open_storage(settings.db_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "chat.json").write_text(json.dumps(CHAT, ensure_ascii=False))
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    return db, settings, checklists


def test_written_conversation_scored_end_to_end(env):
    db, settings, _ = env
    report = scoring.score_calls(db, PIPELINE, settings)
    assert report.scored == [("chat-1", "written-chat", 100.0)] and report.failed == []
    ((row, sc),) = scoring.scorecards(db, ADMIN_USER, "chat-1")
    assert row["status"] == "auto" and sc.provisional  # the manual tone item waits for a person
    assert sc.item("greet").verdict == "pass"
    assert sc.item("first_response").evidence[0].value == 60


def test_scoring_twice_changes_nothing(env):
    db, settings, _ = env
    scoring.score_calls(db, PIPELINE, settings)
    again = scoring.score_calls(db, PIPELINE, settings)
    assert again.scored == [] and again.up_to_date == 1  # not even read again
    assert "0 scored, 1 already scored" in again.summary()
    assert len(scoring.scorecards(db, ADMIN_USER, "chat-1")) == 1


def test_rescore_replaces_the_automatic_scorecard(env):
    db, settings, _ = env
    scoring.score_calls(db, PIPELINE, settings)
    report = scoring.score_calls(db, PIPELINE, settings, rescore=True)
    assert len(report.scored) == 1
    assert db.scorecards.find("chat-1", "written-chat", 1)["revision"] == 2


def test_changed_checklist_needs_a_new_version_and_old_scorecards_stay(env):
    db, settings, folder = env
    scoring.score_calls(db, PIPELINE, settings)
    path = folder / "written-chat.yaml"
    edited = path.read_text(encoding="utf-8").replace('"всего доброго", ', "")
    path.write_text(edited, encoding="utf-8")
    refused = scoring.score_calls(db, PIPELINE, settings)
    assert refused.scored == []
    assert any("raise `version:` to 2" in reason for _, reason in refused.failed)

    path.write_text(edited.replace("version: 1", "version: 2"), encoding="utf-8")
    report = scoring.score_calls(db, PIPELINE, settings)
    # v2 no longer accepts "всего доброго" as a farewell: 8 of 9 weight points
    assert report.scored == [("chat-1", "written-chat", 88.9)]
    cards = [(row["checklist_version"], sc.score) for row, sc in scoring.scorecards(db, ADMIN_USER, "chat-1")]
    assert cards == [(2, 88.9), (1, 100.0)]


def test_invalid_checklist_in_folder_is_reported_and_others_still_score(env):
    db, settings, folder = env
    (folder / "broken.yaml").write_text("id: broken\ntitle: x\nversion: 1\nsections: nope\n")
    report = scoring.score_calls(db, PIPELINE, settings)
    assert report.scored and any("broken.yaml" in r for _, r in report.failed)


def test_explicit_checklist_file_scores_any_call(env, tmp_path):
    db, settings, _ = env
    custom = tmp_path / "mine.yaml"
    custom.write_text(
        "id: mine\ntitle: Mine\nversion: 1\nsections:\n  - id: s\n    items:\n"
        "      - id: bye\n        check: {kind: phrase, any: [всего доброго]}\n"
    )
    report = scoring.score_calls(db, PIPELINE, settings, checklist=str(custom))
    assert report.scored == [("chat-1", "mine", 100.0)]


def test_unknown_checklist_id_is_a_clear_error(env):
    db, settings, _ = env
    with pytest.raises(ChecklistError, match="no checklist with id 'nope'.*known: clinic-inbound"):
        scoring.score_calls(db, PIPELINE, settings, checklist="nope")


def test_untranscribed_call_is_reported(env, tmp_path):
    db, settings, _ = env
    from tests.audio_factory import write_wav

    write_wav(tmp_path / "a" / "call.wav")
    ingest.ingest(db, PIPELINE, tmp_path / "a", settings)
    report = scoring.score_calls(db, PIPELINE, settings, call_ids=["call", "chat-1"])
    assert [c for c, _, _ in report.scored] == ["chat-1"]
    assert "not transcribed yet" in report.failed[0][1]


ADMIN = User("root", "admin")


def test_export_scores_has_one_row_per_item_with_stable_columns(env):
    db, settings, _ = env
    scoring.score_calls(db, PIPELINE, settings)
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(exports.export_scores(db, ADMIN, "csv"))))
    assert tuple(rows[0]) == exports.SCORE_COLUMNS
    assert len(rows) == 8 and {r["checklist_id"] for r in rows} == {"written-chat"}
    greet = next(r for r in rows if r["item_id"] == "greet")
    assert greet["verdict"] == "pass" and greet["evidence_speaker"] == "operator"
    data = json.loads(exports.export_scores(db, ADMIN, "json"))
    assert data[0]["evidence"] and isinstance(data[0]["evidence"], list)


def test_operator_name_comes_from_the_account_and_clinic_from_the_profile(env, tmp_path):
    from qa_review.core.permissions import User
    from qa_review.services import accounts

    db, settings, checklists = env
    (checklists / "named.yaml").write_text(
        "id: named\ntitle: N\nversion: 1\napplies_to: {channel: [chat]}\nsections:\n  - id: s\n    items:\n"
        '      - id: intro\n        check: {kind: phrase, any: ["{operator_name}"]}\n'
        '      - id: clinic\n        check: {kind: phrase, any: ["{clinic}"]}\n',
        encoding="utf-8",
    )
    admin = accounts.add_user(db, None, "admin", "password-1", "admin")
    accounts.add_user(db, admin, "anna", "password-1", "operator", operator_id="anna")
    report = scoring.score_calls(db, PIPELINE, settings, checklist="named")
    sc = scoring.scorecards(db, ADMIN_USER, "chat-1")[0][1]
    assert {i.item_id: i.verdict for i in sc.items} == {"intro": "review", "clinic": "review"}

    accounts.set_spoken_name(db, User("admin", "admin"), "anna", "Анна")
    (tmp_path / "asr-profile.yaml").write_text("vocabulary: {clinic: Здоровье}\n", encoding="utf-8")
    settings = settings.with_(asr_profile=tmp_path / "asr-profile.yaml")
    scoring.score_calls(db, PIPELINE, settings, checklist="named", rescore=True)
    sc = scoring.scorecards(db, ADMIN_USER, "chat-1")[0][1]
    assert {i.item_id: i.verdict for i in sc.items} == {"intro": "pass", "clinic": "pass"}
    assert report.failed == []
