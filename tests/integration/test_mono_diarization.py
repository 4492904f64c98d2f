"""A committed two-voice mono call (festival's Russian voice for the operator, espeak-ng's for the
patient, generated once by scripts/make_mono_fixture.py) through the real model and speaker encoder."""

import csv
import json
import shutil
from pathlib import Path

import pytest

from qa_review.services import ingest, scoring, transcription
from qa_review.services.settings import Settings
from qa_review.storage import open_storage
from tests.conftest import MODELS, PIPELINE

pytestmark = pytest.mark.model

DATA = Path(__file__).resolve().parent.parent / "data"
REFERENCE = json.loads((DATA / "mono-two-voices.json").read_text(encoding="utf-8"))


def _role_at(t: float) -> str:
    return min(
        REFERENCE["segments"],
        key=lambda s: 0 if s["start"] <= t <= s["end"] else min(abs(t - s["start"]), abs(t - s["end"])),
    )["speaker"]


@pytest.fixture(scope="module")
def mono(tmp_path_factory, real_transcriber, voice_encoder_path):
    tmp = tmp_path_factory.mktemp("mono")
    (tmp / "in").mkdir()
    shutil.copy(DATA / "mono-two-voices.ogg", tmp / "in")
    with open(tmp / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(
            [
                ["file", "call_id", "operator", "started_at", "direction"],
                ["mono-two-voices.ogg", "mono-1", "anna.smirnova", "2026-11-05T10:00:00+03:00", "inbound"],
            ]
        )
    settings = Settings(db_path=tmp / "qa.db", models_dir=MODELS)
    db = open_storage(settings.db_path)
    assert ingest.ingest(db, PIPELINE, tmp / "in", settings, manifest=tmp / "manifest.csv").errors == []
    report = transcription.transcribe_pending(db, PIPELINE, settings, lambda: real_transcriber)
    assert report.failed == [] and report.mono_undivided == 0
    scoring.score_calls(db, PIPELINE, settings)
    return db


def test_the_two_voices_come_apart_as_operator_and_client(mono):
    t = mono.transcripts.get("mono-1")
    assert {s.speaker for s in t.segments} == {"operator", "client"}
    words = [(w, s.speaker) for s in t.segments for w in s.words]
    right = sum(sp == _role_at((w.start + w.end) / 2) for w, sp in words)
    assert right / len(words) >= 0.85, [(w.text, sp) for w, sp in words]
    assert t.segments[0].speaker == "operator" and "клиник" in t.segments[0].text.lower()
    d = t.diarization
    assert d.separation > 0.17 and d.confidence >= 0.8 and d.corrected_by is None
    assert any(c["kind"] == "operator_phrase" and c["role"] == "operator" for c in d.cues)
    # talk share and first response exist for a mono call now
    assert {a.speaker for a in t.activity} == {"operator", "client"}


def test_speaker_bound_items_are_scored_on_the_recovered_roles(mono):
    (_, card), *_ = mono.scorecards.for_call("mono-1")
    greet = card.item("greet_clinic")
    assert greet.verdict == "pass" and greet.evidence[0].speaker == "operator"
    assert not any(e.code == "roles_uncertain" for i in card.items for e in i.evidence)
