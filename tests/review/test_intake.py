"""Continuous intake: complete files only, a bad file reported once, nothing twice across a restart."""

import os
import time

from qa_review.asr.models import REQUIRED_FILES
from qa_review.services import ingest, intake
from tests.audio_factory import write_wav
from tests.cli_runner import invoke
from tests.conftest import PIPELINE, FakeTranscriber


class Loads:
    """A transcriber factory that counts how often the model is loaded."""

    def __init__(self):
        self.n = 0

    def __call__(self):
        self.n += 1
        return FakeTranscriber()


def stamp(path, t):
    os.utime(path, (t, t))


def job(w, folder, loads=None):
    return intake.Intake(w.db, PIPELINE, w.settings, folder, loads or Loads(), settle_s=10)


def test_a_file_written_slowly_is_taken_once_complete_then_transcribed_and_scored(world, tmp_path):
    w, now = world, time.time()
    pbx = tmp_path / "pbx"
    full = write_wav(tmp_path / "full.wav", seconds=3.0)
    pbx.mkdir()
    part = pbx / "call-1.wav"
    part.write_bytes(full.read_bytes()[:2000])  # the PBX is still writing
    stamp(part, now)
    loads = Loads()
    j = job(w, pbx, loads)
    first = j.round(now=now + 1)
    assert first.ingested == [] and first.waiting == 1
    part.write_bytes(full.read_bytes())
    stamp(part, now + 2)
    assert j.round(now=now + 3).waiting == 1  # it changed: the clock starts again
    done = j.round(now=now + 14)
    assert done.ingested == ["call-1"] and done.transcribed == 1 and done.failed == []
    assert w.db.calls.get("call-1")["duration_s"] == 3.0  # the whole recording, not the part
    assert w.db.scorecards.for_call("call-1")
    assert j.round(now=now + 30).ingested == [] and loads.n == 1  # nothing twice; the model loaded once


def test_a_bad_file_is_reported_once_the_rest_go_on_and_a_restart_repeats_nothing(world, tmp_path):
    w, now = world, time.time()
    pbx = tmp_path / "pbx"
    write_wav(pbx / "good.wav", seconds=2.0)
    (pbx / "broken.wav").write_bytes(b"RIFF....not audio at all")
    for p in pbx.iterdir():
        stamp(p, now - 60)
    j = job(w, pbx)
    r = j.round(now=now)
    assert r.ingested == ["good"] and len(r.failed) == 1 and "broken.wav" in r.failed[0][0]
    assert j.round(now=now + 40).failed == []  # not again while it is unchanged
    again = job(w, pbx)  # a restart: a new process on the same database
    r = again.round(now=now + 80)
    assert r.ingested == [] and r.failed == []
    write_wav(pbx / "broken.wav", seconds=2.0, freqs=(250.0, 350.0))  # replaced by a good file
    stamp(pbx / "broken.wav", now + 90)
    assert again.round(now=now + 120).ingested == ["broken"]


def test_the_first_round_transcribes_what_a_stopped_run_left(world, tmp_path):
    w = world
    write_wav(tmp_path / "earlier" / "left.wav", seconds=2.0)
    ingest.ingest(w.db, PIPELINE, tmp_path / "earlier", w.settings)  # ingested, then the process died
    (tmp_path / "pbx").mkdir()
    r = job(w, tmp_path / "pbx").round()
    assert r.transcribed == 1 and w.db.calls.get("left")["status"] == "transcribed"


def test_watch_once_from_cron(world, tmp_path, monkeypatch):
    monkeypatch.setattr("qa_review.cli.calls.make_transcriber", lambda *a, **k: FakeTranscriber())
    pbx = tmp_path / "pbx"
    write_wav(pbx / "a.wav", seconds=2.0)
    stamp(pbx / "a.wav", time.time() - 60)
    write_wav(pbx / "fresh.wav", seconds=2.0, freqs=(500.0, 800.0))  # just written: waits for the next run
    model = tmp_path / "model"  # a model folder's shape; the transcriber itself is the fake one
    model.mkdir()
    for name in REQUIRED_FILES:
        (model / name).write_text("{}")
    result = invoke("--db", world.settings.db_path, "watch", pbx, "--once", env={"QA_REVIEW_MODEL": str(model)})
    assert result.exit_code == 0, result.output
    assert "watch: 1 ingested, 0 failed, 1 still being written, 1 transcribed" in result.output
    # A first start on a new server: the intake makes the database, as ingest does.
    fresh_db = tmp_path / "new" / "qa.db"
    fresh_db.parent.mkdir()
    first = invoke("--db", fresh_db, "watch", pbx, "--once", env={"QA_REVIEW_MODEL": str(model)})
    assert first.exit_code == 0 and "watch: 1 ingested" in first.output and fresh_db.is_file()
