"""Reviewers' corrections and added lines as ASR references: evaluate and tune."""

import csv
from dataclasses import replace

import numpy as np
import pytest

from qa_review.asr import profile as asr_profile
from qa_review.asr.transcribe import AsrOptions
from qa_review.core.domain import Segment, Word
from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.services import asr_feedback, ingest, kpis, review, transcription
from tests.audio_factory import write_turns
from tests.conftest import PIPELINE
from tests.review.test_text_only_calls import ingest_text

RATE = 16000


COUNT = ["раз", "два", "три", "четыре", "пять"]


class SaysYes:
    """One word per second with sound (counting, by the second); its VAD (on,
    threshold >= 0.4) ignores quiet seconds, as the VAD of issue #9 dropped
    quiet replies."""

    model_name = "says-yes"

    def __init__(self):
        self.options = replace(AsrOptions(), guard=False, vad_threshold=0.5, vad_min_silence_ms=2000)

    def transcribe(self, audio, *, vad=True, hotwords=None):
        strict = vad and self.options.vad_filter and self.options.vad_threshold >= 0.4
        floor = 0.1 if strict else 0.02  # over the resampler's ringing at a tone's edges
        words = [
            Word(s + 0.1, s + 0.6, " " + COUNT[s % 5], 0.9)
            for s in range(int(np.ceil(len(audio) / RATE)))
            if float(np.abs(audio[s * RATE : (s + 1) * RATE]).max(initial=0)) > floor
        ]
        if not words:
            return [], "ru"
        return [Segment("", words[0].start, words[-1].end, "".join(w.text for w in words), tuple(words))], "ru"


@pytest.fixture
def audio_world(world, tmp_path):
    """An audio call of anna's: operator loud at 1-4 s, client loud at 5-7 s and quiet at 10-12 s."""
    folder = tmp_path / "calls"
    path = write_turns(folder / "call-1.wav", [(0, 1, 4), (1, 5, 7)], seconds=14)
    import wave

    with wave.open(str(path)) as w:
        rate, data = w.getframerate(), np.frombuffer(w.readframes(w.getnframes()), np.int16).reshape(-1, 2).copy()
    t = np.arange(len(data)) / rate
    quiet = (t >= 10) & (t < 12)
    data[quiet, 1] = (0.05 * np.sin(2 * np.pi * 500 * t[quiet]) * 32767).astype(np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())
    with open(tmp_path / "manifest.csv", "w", newline="") as f:
        csv.writer(f).writerows(
            [
                ["file", "call_id", "operator", "started_at", "direction"],
                ["call-1.wav", "call-1", "anna.smirnova", "2026-11-05T10:00:00+03:00", "inbound"],
            ]
        )
    ingest.ingest(world.db, PIPELINE, folder, world.settings, manifest=tmp_path / "manifest.csv")
    world.settings = world.settings.with_(asr_profile=tmp_path / "asr-profile.yaml")
    # a strict VAD and no guard: the profile a clinic might have come with
    asr_profile.write(
        asr_profile.parse("vad: {threshold: 0.5, min_silence_ms: 2000}\nguard: {enabled: false}"),
        world.settings.asr_profile,
    )
    report = transcription.transcribe_pending(world.db, PIPELINE, world.settings, SaysYes)
    assert report.done == ["call-1"]
    return world


def test_a_reviewer_adds_a_missed_line_in_time_order_and_it_is_audited(audio_world):
    w = audio_world
    before = w.db.transcripts.get("call-1")
    assert [s.speaker for s in before.segments] == ["operator", "client"]
    index = review.add_line(w.db, w.sup_a, "call-1", "client", 10.0, 12.0, "раз два")
    after = w.db.transcripts.get("call-1")
    assert index == 2 and [s.text for s in after.segments][-1] == "раз два"
    assert after.unheard == ()  # the line covers what was unheard
    audit = [a for a in review.audit_for_call(w.db, w.sup_a, "call-1") if a["action"] == "transcript"]
    assert audit and "client 10.0-12.0: раз два" in audit[-1]["new"]


@pytest.mark.parametrize(
    "args, code",
    [
        (("client", 10.0, 12.0, "   "), "line_empty"),
        (("client", 12.0, 10.0, "да"), "line_time"),
        (("client", 10.0, 99.0, "да"), "line_time"),
        (("boss", 10.0, 12.0, "да"), "line_speaker"),
    ],
)
def test_a_bad_added_line_is_refused_with_its_reason(audio_world, args, code):
    with pytest.raises(QAReviewError) as e:
        review.add_line(audio_world.db, audio_world.sup_a, "call-1", *args)
    assert e.value.code == code


def test_only_the_calls_reviewers_may_add_lines(audio_world):
    w = audio_world
    for who in (w.anna, w.sup_b, w.trainer):
        with pytest.raises(PermissionDenied):
            review.add_line(w.db, who, "call-1", "client", 10.0, 12.0, "да")


def test_asr_evaluate_counts_corrections_and_added_lines(audio_world):
    w = audio_world
    assert asr_feedback.asr_evaluate(w.db, w.admin)["speaker"] == []  # nothing corrected yet
    t = w.db.transcripts.get("call-1")
    op_words = len(t.text_of("operator").split())
    cl_words = len(t.text_of("client").split())
    assert op_words == 3 and cl_words == 2
    assert t.text_of("operator") == "два три четыре"
    # the operator line: one word misheard
    review.correct_segment(w.db, w.sup_a, "call-1", 0, "два нет четыре")
    # the client's quiet reply the recognizer never heard: two words
    review.add_line(w.db, w.sup_a, "call-1", "client", 10.0, 12.0, "раз два")
    tables = asr_feedback.asr_evaluate(w.db, w.admin)
    by_speaker = {r["key"]: r for r in tables["speaker"]}
    assert by_speaker["operator"]["wer"] == pytest.approx(1 / 3, abs=1e-3)
    assert by_speaker["client"]["wer"] == pytest.approx(2 / 4, abs=1e-3)
    assert by_speaker["client"]["words"] == 4 and by_speaker["client"]["lines"] == 2
    assert tables["operator"] == [{"key": "anna.smirnova", "calls": 1, "lines": 3, "words": 7, "wer": round(3 / 7, 3)}]
    assert asr_feedback.asr_evaluate(w.db, w.admin, since="2026-12-01")["speaker"] == []


def test_asr_tune_finds_the_profile_that_hears_the_quiet_reply(audio_world):
    w = audio_world
    review.add_line(w.db, w.sup_a, "call-1", "client", 10.0, 12.0, "раз два")
    report = asr_feedback.asr_tune(w.db, w.admin, w.settings, SaysYes())
    assert report.calls == 1 and report.words == 7
    assert report.current.wer == pytest.approx(2 / 7, abs=1e-3)
    assert report.best.name != "current" and report.best.wer == 0
    text = report.candidate.read_text(encoding="utf-8")
    assert f"WER 0.000 against {report.current.wer:.3f}" in text
    assert asr_profile.load(report.candidate) == report.best.profile
    assert asr_profile.load(w.settings.asr_profile).guard.enabled is False  # not applied yet

    applied = asr_feedback.asr_tune(w.db, w.admin, w.settings, SaysYes(), apply=True)
    assert applied.applied
    assert asr_profile.load(w.settings.asr_profile) == applied.best.profile
    assert w.settings.asr_profile.with_name("asr-profile.yaml.bak").exists()


def test_asr_tune_without_corrected_calls_says_what_to_do(audio_world):
    with pytest.raises(QAReviewError, match="correct transcripts"):
        asr_feedback.asr_tune(audio_world.db, audio_world.admin, audio_world.settings, SaysYes())


def test_corrections_on_a_call_transcript_are_not_asr_errors(audio_world, tmp_path):
    w = audio_world
    ingest_text(w, tmp_path)
    review.correct_segment(w.db, w.sup_a, "text-1", 0, "Клиника Здоровье, добрый день, меня зовут Анна.")
    review.correct_segment(w.db, w.sup_a, "call-1", 0, "два нет четыре")
    tables = asr_feedback.asr_evaluate(w.db, w.admin)
    assert [(r["key"], r["calls"], r["words"]) for r in tables["operator"]] == [("anna.smirnova", 1, 5)]
    wer = kpis.dashboard(w.db, w.admin, w.settings, last_months=120)["wer"]
    assert wer["corrected_lines"].tolist() == [1] and wer["wer"].tolist() == [pytest.approx(1 / 3, abs=1e-3)]
