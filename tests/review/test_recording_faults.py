"""A dead line or a one-sided recording goes to a person with its fault named, never a zero for the operator."""

import json

import numpy as np
import pytest

from qa_review.core.permissions import User
from qa_review.core.permissions import User as _User  # noqa: E402
from qa_review.services import ingest, review, scoring, transcription, workflow
from qa_review.services.settings import REPO_ROOT, Settings
from qa_review.storage import open_storage
from tests.audio_factory import write_turns
from tests.conftest import PIPELINE, FakeTranscriber

ADMIN_USER = _User("root", "admin")

SUP = User("sup", "supervisor")  # no team: oversees every team


@pytest.fixture
def env(tmp_path):
    s = Settings(db_path=tmp_path / "qa.db", checklist_dirs=(REPO_ROOT / "checklists",))
    return open_storage(s.db_path), s, tmp_path / "in"


def write_silence(path, seconds=30.0, rate=8000):
    import wave

    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.zeros((int(seconds * rate), 2), dtype=np.int16).tobytes())


def transcribe_and_score(db, s, folder):
    ingest.ingest(db, PIPELINE, folder, s)
    report, scored = workflow.transcribe_then_score(db, PIPELINE, s, FakeTranscriber)
    assert report.failed == [] and scored.failed == []


def test_a_silent_recording_is_flagged_and_every_item_waits_for_a_person(env):
    db, s, folder = env
    write_silence(folder / "dead.wav")
    write_turns(folder / "fine.wav", [(0, 0.0, 4.0), (1, 4.5, 8.0), (0, 8.5, 12.0)], seconds=12.0)
    transcribe_and_score(db, s, folder)

    flags = transcription.transcript_info(db, ADMIN_USER, "dead")["flags"]
    assert [f["code"] for f in flags] == ["no_speech"] and "30 s" in flags[0]["detail"]
    ((row, card),) = scoring.scorecards(db, ADMIN_USER, "dead")
    assert card.score is None and card.provisional and not card.critical_failed  # not a zero
    assert {i.verdict for i in card.items} == {"review"}
    assert all(i.evidence[0].code == "no_speech" for i in card.items)

    queue = {r["call_id"]: r["flags"] for r in review.review_queue(db, SUP)}
    assert queue == {"dead": ["no_speech"], "fine": []}
    ((_, fine),) = scoring.scorecards(db, ADMIN_USER, "fine")
    assert {"pass", "fail"} & {i.verdict for i in fine.items}  # an ordinary call is judged
    assert not any(e.code in ("no_speech", "operator_silent") for i in fine.items for e in i.evidence)


def test_a_recording_with_nothing_on_the_operators_channel_is_flagged(env):
    db, s, folder = env
    write_turns(folder / "one-sided.wav", [(1, 0.0, 6.0), (1, 7.0, 14.0)], seconds=15.0)  # the client only
    transcribe_and_score(db, s, folder)
    flags = transcription.transcript_info(db, ADMIN_USER, "one-sided")["flags"]
    assert [f["code"] for f in flags] == ["operator_silent"] and "QA_REVIEW_CHANNELS" in flags[0]["detail"]
    ((_, card),) = scoring.scorecards(db, ADMIN_USER, "one-sided")
    assert card.score is None and {i.verdict for i in card.items} == {"review"}


def test_a_chat_the_operator_never_answered_is_the_operators_fault_not_the_recordings(env, tmp_path):
    db, s, _ = env
    chat = {
        "conversation_id": "unanswered",
        "operator": "anna",
        "started_at": "2026-11-04T19:00:00+03:00",
        "channel": "chat",
        "messages": [{"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "Можно записаться?"}],
    }
    (tmp_path / "c.json").write_text(json.dumps(chat, ensure_ascii=False))
    workflow.ingest_then_score(db, PIPELINE, tmp_path / "c.json", s)
    assert transcription.transcript_info(db, ADMIN_USER, "unanswered")["flags"] == []
    ((_, card),) = scoring.scorecards(db, ADMIN_USER, "unanswered")
    assert "fail" in {i.verdict for i in card.items}
