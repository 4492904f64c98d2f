import time
from dataclasses import replace

import numpy as np
import pytest

from qa_review.core.permissions import User as _User  # noqa: E402
from qa_review.services import ingest, transcription
from qa_review.services.settings import Settings
from qa_review.services.transcription import transcript_info
from qa_review.storage import open_storage
from tests.audio_factory import write_wav
from tests.conftest import PIPELINE, FakeTranscriber

ADMIN_USER = _User("root", "admin")


@pytest.fixture
def db(settings):
    return open_storage(settings.db_path)


def ingest_n(db, settings, tmp_path, n, channels=2, seconds=3.0):
    for i in range(n):
        write_wav(
            tmp_path / "in" / f"call{i}.wav", channels=channels, seconds=seconds, freqs=(300.0 + 40 * i, 500.0 + 40 * i)
        )
    assert len(ingest.ingest(db, PIPELINE, tmp_path / "in", settings).added) == n


def segment_count(db):
    return sum(len(t.segments) for c in db.calls.list() if (t := db.transcripts.get(c["call_id"])))


def test_stereo_channels_become_operator_and_client(db, settings, tmp_path):
    ingest_n(db, settings, tmp_path, 1)
    report = transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber)
    assert report.done == ["call0"] and report.failed == []
    t = db.transcripts.get("call0")
    assert {s.speaker for s in t.segments} == {"operator", "client"}
    assert t.duration_s == pytest.approx(3.0, abs=0.01)
    assert db.calls.get("call0")["status"] == "transcribed"
    assert transcript_info(db, ADMIN_USER, "call0")["settings"]["language"] == "ru"


def test_channel_roles_can_be_swapped(db, settings, tmp_path):
    (tmp_path / "in").mkdir()
    sr = 8000
    left = 0.3 * np.sin(np.arange(sr * 3) / sr * 2 * np.pi * 300)
    right = np.zeros(sr * 3)
    right[:sr] = 0.3  # the right side speaks only in the first second
    import wave

    with wave.open(str(tmp_path / "in" / "c.wav"), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes((np.stack([left, right], 1) * 32767).astype(np.int16).tobytes())
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    swapped = Settings(db_path=settings.db_path, channel_roles=("client", "operator"))
    transcription.transcribe_pending(db, PIPELINE, swapped, FakeTranscriber)
    t = db.transcripts.get("c")
    by = {sp: [s for s in t.segments if s.speaker == sp] for sp in ("operator", "client")}
    assert by["operator"][0].end < 1.0  # the right channel, now the operator
    assert by["client"][-1].end > 2.0


def test_mono_and_identical_stereo_get_one_mixed_speaker(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "mono.wav", channels=1)
    write_wav(tmp_path / "in" / "dup.wav", channels=2, freqs=(440.0,))  # same signal both sides
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber)
    for cid in ("mono", "dup"):
        # a tone is one "voice" (or, without the speaker encoder, nothing tells voices apart)
        assert {s.speaker for s in db.transcripts.get(cid).segments} == {"mixed"}


def test_without_diarization_mono_calls_stay_mixed_and_say_why(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "mono.wav", channels=1)
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    report = transcription.transcribe_pending(
        db, PIPELINE, replace(settings, models_dir=tmp_path / "no-models"), FakeTranscriber
    )
    t = db.transcripts.get("mono")
    assert {s.speaker for s in t.segments} == {"mixed"} and t.diarization is None
    assert report.mono_undivided == 1 and "models install voice-encoder" in report.summary()
    off = transcription.transcribe_pending(db, PIPELINE, replace(settings, diarize=False), FakeTranscriber)
    assert off.mono_undivided == 0


def test_a_stereo_call_gets_no_diarization(db, settings, tmp_path):
    write_wav(tmp_path / "in" / "st.wav", channels=2)
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings)
    transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber)
    t = db.transcripts.get("st")
    assert t.diarization is None and {s.speaker for s in t.segments} <= {"operator", "client"}


def test_one_failing_call_does_not_stop_the_batch(db, settings, tmp_path):
    ingest_n(db, settings, tmp_path, 3)
    broken = db.calls.get("call1")["source_path"]
    open(broken, "wb").write(b"damaged after ingest")
    seen = []
    report = transcription.transcribe_pending(
        db, PIPELINE, settings, FakeTranscriber, progress=lambda d, t, cid, err: seen.append((d, t, cid, err))
    )
    assert sorted(report.done) == ["call0", "call2"]
    assert [cid for cid, _ in report.failed] == ["call1"]
    assert "call1" in report.failed[0][1]
    assert db.calls.get("call1")["status"] == "failed"
    assert [s[:2] for s in seen] == [(1, 3), (2, 3), (3, 3)]
    assert [s[3] is not None for s in seen].count(True) == 1


def test_failed_call_is_retried_on_the_next_run(db, settings, tmp_path):
    ingest_n(db, settings, tmp_path, 1)
    transcription.transcribe_pending(db, PIPELINE, settings, lambda: FakeTranscriber(fail_after=0))
    assert db.calls.get("call0")["status"] == "failed"
    report = transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber)
    assert report.done == ["call0"]
    assert db.calls.get("call0")["error"] is None


class SlowTranscriber(FakeTranscriber):
    def transcribe(self, audio, **kw):
        time.sleep(0.2)  # long enough for the interrupt to find calls in flight
        return super().transcribe(audio, **kw)


def ctrl_c_after(n: int):
    def progress(done, total, call_id, error):
        if done >= n:
            raise KeyboardInterrupt

    return progress


def test_interrupted_batch_resumes_without_duplicates(db, settings, tmp_path):
    ingest_n(db, settings, tmp_path, 4)
    # Ctrl-C reaches the coordinator (the main thread) once two calls are saved, with more in flight.
    with pytest.raises(KeyboardInterrupt):
        transcription.transcribe_pending(db, PIPELINE, settings, SlowTranscriber, progress=ctrl_c_after(2))
    statuses = {c["call_id"]: c["status"] for c in db.calls.list()}
    assert sorted(statuses.values()) == ["ingested", "ingested", "transcribed", "transcribed"]
    partial = segment_count(db)
    report = transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber)
    assert len(report.done) == 2
    assert all(c["status"] == "transcribed" for c in db.calls.list())
    per_call = {cid: len(db.transcripts.get(cid).segments) for cid in statuses}
    assert segment_count(db) == sum(per_call.values()) > partial
    for cid in statuses:  # nothing of the interrupted call was kept twice
        segs = db.transcripts.get(cid).segments
        assert len({(s.speaker, s.start, s.end) for s in segs}) == len(segs)


def test_nothing_to_do_loads_no_model(db, settings):
    def explode():
        raise AssertionError("model loaded for nothing")

    assert transcription.transcribe_pending(db, PIPELINE, settings, explode).done == []


def test_workers_transcribe_every_call_once(db, settings, tmp_path):
    ingest_n(db, settings, tmp_path, 5)
    report = transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber, workers=3)
    assert sorted(report.done) == [f"call{i}" for i in range(5)]
