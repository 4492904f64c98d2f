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


def model_folder(tmp_path):
    """A model folder's shape; the transcriber itself is the fake one."""
    model = tmp_path / "model"
    model.mkdir()
    for name in REQUIRED_FILES:
        (model / name).write_text("{}")
    return model


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
    model = model_folder(tmp_path)
    result = invoke("--db", world.settings.db_path, "watch", pbx, "--once", env={"QA_REVIEW_MODEL": str(model)})
    assert result.exit_code == 0, result.output
    assert "watch: 1 ingested, 0 failed, 1 still being written, 1 transcribed" in result.output
    # A first start on a new server: the intake makes the database, as ingest does.
    fresh_db = tmp_path / "new" / "qa.db"
    fresh_db.parent.mkdir()
    first = invoke("--db", fresh_db, "watch", pbx, "--once", env={"QA_REVIEW_MODEL": str(model)})
    assert first.exit_code == 0 and "watch: 1 ingested" in first.output and fresh_db.is_file()


MANIFEST_HEADER = "file,call_id,operator,started_at,direction\n"


def manifest_job(w, folder, wait=3600):
    return intake.Intake(
        w.db, PIPELINE, w.settings, folder, Loads(), settle_s=10, manifest_pattern="calls-*.csv", manifest_wait_s=wait
    )


def test_recordings_go_in_with_their_manifest_row_whichever_arrives_first(world, tmp_path):
    w, now = world, time.time()
    pbx = tmp_path / "pbx"
    write_wav(pbx / "r1.wav", seconds=2.0)
    stamp(pbx / "r1.wav", now - 60)
    j = manifest_job(w, pbx)
    first = j.round(now=now)
    assert first.ingested == [] and first.unlisted == 1  # no manifest names it yet: it waits
    # The PBX writes the day's manifest: r1 is there, r2 not yet, and one row is bad.
    (pbx / "calls-2026-11-24.csv").write_text(
        MANIFEST_HEADER
        + "r1.wav,pbx-1,anna.smirnova,2026-11-24T09:00:00+03:00,inbound\n"
        + "r2.wav,pbx-2,petr.volkov,2026-11-24T09:05:00+03:00,outbound\n"
        + ",pbx-3,anna.smirnova,2026-11-24T09:10:00+03:00,inbound\n"
    )
    stamp(pbx / "calls-2026-11-24.csv", now - 30)
    second = j.round(now=now + 1)
    assert second.ingested == ["pbx-1"] and second.awaited == 1 and second.unlisted == 0
    assert [why for _, why in second.failed] == [
        f"{pbx / 'calls-2026-11-24.csv'}: line 4: file: required, but missing or empty"
    ]
    call = w.db.calls.get("pbx-1")
    assert (call["operator"], call["direction"]) == ("anna.smirnova", "inbound")  # the row's, not the file name's
    assert j.round(now=now + 40).failed == []  # the manifest's error: once
    write_wav(pbx / "r2.wav", seconds=2.0, freqs=(300.0, 600.0))  # the recording after its row
    stamp(pbx / "r2.wav", now + 45)
    assert j.round(now=now + 50).ingested == []  # still settling
    third = j.round(now=now + 60)
    assert third.ingested == ["pbx-2"] and third.awaited == 0
    assert w.db.calls.get("pbx-2")["operator"] == "petr.volkov"
    assert third.transcribed == 1

    # A restart repeats nothing: not the manifest's error, not a call.
    again = manifest_job(w, pbx).round(now=now + 120)
    assert again.ingested == [] and again.failed == [] and again.unlisted == 0


def test_a_recording_no_manifest_names_goes_in_on_its_own_after_the_wait(world, tmp_path):
    w, now = world, time.time()
    pbx = tmp_path / "pbx"
    write_wav(pbx / "lonely.wav", seconds=2.0)
    stamp(pbx / "lonely.wav", now - 100)
    j = manifest_job(w, pbx, wait=600)
    assert j.round(now=now).unlisted == 1
    later = j.round(now=now + 600)
    assert later.ingested == ["lonely"] and later.unlisted == 0


def test_a_manifest_appended_to_is_read_again_and_a_bad_listed_file_is_reported_once(world, tmp_path):
    w, now = world, time.time()
    pbx = tmp_path / "pbx"
    write_wav(pbx / "a.wav", seconds=2.0)
    (pbx / "b.wav").write_bytes(b"RIFF....not audio at all")
    for p in pbx.iterdir():
        stamp(p, now - 60)
    m = pbx / "calls-1.csv"
    m.write_text(MANIFEST_HEADER + "a.wav,pbx-a,anna.smirnova,2026-11-24T09:00:00+03:00,inbound\n")
    stamp(m, now - 60)
    j = manifest_job(w, pbx)
    assert j.round(now=now).ingested == ["pbx-a"]
    with m.open("a") as f:  # the PBX appends a row per call
        f.write("b.wav,pbx-b,anna.smirnova,2026-11-24T09:10:00+03:00,inbound\n")
    stamp(m, now + 5)
    assert j.round(now=now + 6).failed == []  # the new version settles first
    bad = j.round(now=now + 20)
    assert bad.ingested == [] and len(bad.failed) == 1 and "calls-1.csv:3" in bad.failed[0][0]
    assert j.round(now=now + 40).failed == []


def test_watch_once_with_a_manifest_pattern(world, tmp_path, monkeypatch):
    monkeypatch.setattr("qa_review.cli.calls.make_transcriber", lambda *a, **k: FakeTranscriber())
    pbx = tmp_path / "pbx"
    write_wav(pbx / "r1.wav", seconds=2.0)
    write_wav(pbx / "unlisted.wav", seconds=2.0, freqs=(500.0, 800.0))
    (pbx / "calls-1.csv").write_text(MANIFEST_HEADER + "r1.wav,pbx-1,anna.smirnova,2026-11-24T09:00:00+03:00,inbound\n")
    for p in pbx.iterdir():
        stamp(p, time.time() - 60)
    model = model_folder(tmp_path)
    args = ("--db", world.settings.db_path, "watch", pbx, "--once", "--manifest-pattern", "calls-*.csv")
    result = invoke(*args, env={"QA_REVIEW_MODEL": str(model)})
    assert result.exit_code == 0, result.output
    assert "watch: 1 ingested" in result.output and "1 recording(s) waiting for a manifest" in result.output
    assert world.db.calls.get("pbx-1")["operator"] == "anna.smirnova"


def test_new_files_are_found_in_old_folders_new_folders_and_right_after_a_listing(world, tmp_path):
    w, now = world, time.time()
    pbx = tmp_path / "pbx"
    write_wav(pbx / "2026-11-23" / "a.wav", seconds=2.0)
    for p in (pbx / "2026-11-23" / "a.wav", pbx / "2026-11-23", pbx):
        stamp(p, now - 3600)  # yesterday's folder, long unchanged: listed once, then trusted
    j = job(w, pbx)
    assert j.round(now=now).ingested == ["a"]
    assert j.round(now=now + 1).ingested == []
    write_wav(pbx / "2026-11-23" / "late.wav", seconds=2.0, freqs=(250.0, 350.0))  # the folder changes
    write_wav(pbx / "2026-11-24" / "b.wav", seconds=2.0, freqs=(300.0, 700.0))  # a new day's folder
    for p in (pbx / "2026-11-23" / "late.wav", pbx / "2026-11-24" / "b.wav"):
        stamp(p, now - 60)
    assert sorted(j.round(now=now + 2).ingested) == ["b", "late"]
    # Written within the same tick of the folder's clock as that listing: its mtime has not moved, yet it is found.
    day = pbx / "2026-11-24"
    listed_at = day.stat().st_mtime_ns
    write_wav(day / "c.wav", seconds=2.0, freqs=(400.0, 900.0))
    stamp(day / "c.wav", now - 60)
    os.utime(day, ns=(listed_at, listed_at))
    assert j.round(now=now + 3).ingested == ["c"]
