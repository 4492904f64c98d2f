"""The audio retention policy: old recordings go, the record stays, and audio someone may need is never removed."""

import csv
from datetime import datetime
from pathlib import Path

import pytest

from qa_review.core.errors import ConfigError
from qa_review.services import ingest, library, retention, review, scoring, transcription
from tests.audio_factory import write_wav
from tests.cli_runner import invoke
from tests.conftest import PIPELINE, FakeTranscriber

NOW = datetime.fromisoformat("2026-11-24T12:00:00+03:00")
CALLS = {  # call id: started
    "plain": "2026-01-10T10:00:00+03:00",
    "disputed": "2026-01-11T10:00:00+03:00",
    "collected": "2026-01-12T10:00:00+03:00",
    "just-final": "2026-02-01T10:00:00+03:00",
    "recent": "2026-11-17T10:00:00+03:00",
}


def ingest_calls(w, tmp_path, calls, folder="pbx", base=300.0):
    rows = [["file", "call_id", "operator", "started_at", "direction"]]
    for i, (cid, started) in enumerate(calls.items()):
        write_wav(tmp_path / folder / f"{cid}.wav", seconds=3.0, freqs=(base + 30 * i, base + 400.0 + 30 * i))
        rows.append([f"{cid}.wav", cid, "anna.smirnova", started, "inbound"])
    with open(tmp_path / f"{folder}.csv", "w", newline="") as f:
        csv.writer(f).writerows(rows)
    report = ingest.ingest(w.db, PIPELINE, tmp_path / folder, w.settings, manifest=tmp_path / f"{folder}.csv")
    assert report.added == list(calls)


def finalize(w, call_id):
    ((row, card, _),) = review.call_for(w.db, w.sup_a, call_id)["scorecards"]
    rev = row["revision"]
    for item in card.items:
        if item.verdict == "review":
            rev = review.set_verdict(w.db, w.sup_a, row["id"], item.item_id, "pass", "ok", rev, now=NOW)
    review.finalize(w.db, w.sup_a, row["id"], rev, now=NOW)
    return row["id"], card


@pytest.fixture
def clinic(world, tmp_path):
    w = world
    ingest_calls(w, tmp_path, CALLS)
    assert transcription.transcribe_pending(w.db, PIPELINE, w.settings, FakeTranscriber).failed == []
    scoring.score_calls(w.db, PIPELINE, w.settings)
    ingest_calls(w, tmp_path, {"untranscribed": "2026-01-05T10:00:00+03:00"}, folder="late", base=1000.0)
    card, sc = finalize(w, "disputed")
    review.open_disputes(w.db, w.anna, card, {sc.items[0].item_id: "я это сказала"}, now=NOW)
    finalize(w, "just-final")
    cid = library.create_collection(w.db, w.trainer, "Образцы")
    library.add_clip(w.db, w.trainer, cid, "collected", 0.0, 2.0, [], "good")
    return w


def test_a_dry_run_lists_what_would_go_and_removes_nothing(clinic):
    w = clinic
    plan = retention.retention(w.db, PIPELINE, w.settings, months=6, now=NOW)
    assert plan.before == "2026-05-24" and [c["call_id"] for c in plan.calls] == ["plain"]
    assert plan.kept == {"open dispute": 1, "in an example collection": 1, "dispute window open": 1}
    assert not plan.applied and plan.bytes > 0
    assert all(Path(w.db.calls.get(c)["source_path"]).is_file() for c in CALLS)


def test_removing_keeps_the_transcript_scores_and_audit_and_a_second_run_finds_nothing(clinic):
    w = clinic
    path = Path(w.db.calls.get("plain")["source_path"])
    plan = retention.retention(w.db, PIPELINE, w.settings, months=6, delete=True, now=NOW)
    assert plan.applied and plan.removed == ["plain"]
    assert not path.exists()
    call = w.db.calls.get("plain")
    assert call["audio_removed_at"] and call["status"] == "transcribed"
    assert w.db.transcripts.get("plain") is not None and w.db.scorecards.for_call("plain")
    assert [e["action"] for e in w.db.audit.for_call("plain")].count("audio_removed") == 1
    for kept in ("disputed", "collected", "just-final", "recent", "untranscribed"):
        assert Path(w.db.calls.get(kept)["source_path"]).is_file()
    assert retention.retention(w.db, PIPELINE, w.settings, months=6, delete=True, now=NOW).removed == []


def test_without_a_period_it_says_where_to_set_one(clinic):
    with pytest.raises(ConfigError, match="audio_retention_months"):
        retention.retention(clinic.db, PIPELINE, clinic.settings, now=NOW)
    result = invoke("--db", clinic.settings.db_path, "retention", "apply")
    assert result.exit_code == 2 and "audio_retention_months" in result.output
    result = invoke(
        "--db", clinic.settings.db_path, "retention", "apply", env={"QA_REVIEW_AUDIO_RETENTION_MONTHS": "1"}
    )
    assert result.exit_code == 0 and "dry run" in result.output and "plain" in result.output
