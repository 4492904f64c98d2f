"""Commands run at the same time on one database: they share or skip the work, they never crash.

Each racer is a separate process (spawned, like a second terminal or a cron
job), released at once behind a barrier.
"""

import multiprocessing as mp
import os
import signal
import sqlite3
import time

import pytest

from qa_review.services import ingest, scoring, transcription, workflow
from qa_review.services.settings import REPO_ROOT, Settings
from qa_review.storage import open_storage
from tests.audio_factory import write_wav
from tests.conftest import PIPELINE, FakeTranscriber
from tests.integration.test_transcribe_batch import SlowTranscriber as PausingTranscriber
from tests.integration.test_transcribe_batch import ctrl_c_after

SPAWN = mp.get_context("spawn")


def settings_for(db_path) -> Settings:
    return Settings(db_path=db_path, checklist_dirs=(REPO_ROOT / "checklists",))


def run_all(target, args_each, timeout=120):
    """Start one process per argument tuple, wait for them, return what each put on the queue."""
    results = SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args, results)) for args in args_each]
    for p in procs:
        p.start()
    out = [results.get(timeout=timeout) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    return out


def make_calls(folder, n, seconds=2.0):
    for i in range(n):
        write_wav(folder / f"call{i}.wav", seconds=seconds, freqs=(300.0 + 40 * i, 500.0 + 40 * i))


# --- ingest ------------------------------------------------------------------------


def ingest_racer(db_path, folder, barrier, results):
    db = open_storage(db_path)
    barrier.wait(timeout=60)
    try:
        r = ingest.ingest(db, PIPELINE, folder, settings_for(db_path))
        results.put(("ok", r.added, [cid for _, cid in r.duplicates], r.errors))
    except BaseException as e:  # the failure is the finding: report it, don't hang
        results.put(("crash", repr(e), [], []))


def test_two_ingests_of_one_folder_store_each_call_once(tmp_path):
    make_calls(tmp_path / "in", 12, seconds=0.5)
    db_path = tmp_path / "qa.db"
    open_storage(db_path).close()
    barrier = SPAWN.Barrier(3)
    out = run_all(ingest_racer, [(db_path, tmp_path / "in", barrier)] * 3)
    assert [o[0] for o in out] == ["ok"] * 3, out
    assert all(o[3] == [] for o in out), out  # no false "call id already used", no crash
    added = [cid for o in out for cid in o[1]]
    assert sorted(added) == sorted(f"call{i}" for i in range(12))  # each once, by one of them
    for _, mine, dups, _ in out:  # the others call it a duplicate of that call
        assert sorted(mine + dups) == sorted(added)
    assert open_storage(db_path).calls.count() == 12


# --- migrations --------------------------------------------------------------------


def opener(db_path, barrier, results):
    barrier.wait(timeout=60)
    try:
        db = open_storage(db_path)
        results.put(("ok", db.calls.count()))
    except BaseException as e:
        results.put(("crash", repr(e)))


def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path):
    db_path = tmp_path / "new.db"
    barrier = SPAWN.Barrier(4)
    out = run_all(opener, [(db_path, barrier)] * 4)
    assert out == [("ok", 0)] * 4
    names = [r[0] for r in sqlite3.connect(db_path).execute("select name from _sqlite_migrations")]
    assert len(names) == len(set(names)) > 10


# --- transcription -----------------------------------------------------------------


class SlowTranscriber(FakeTranscriber):
    def transcribe(self, audio, **kw):
        time.sleep(self.delay)
        return super().transcribe(audio, **kw)


def transcribe_racer(db_path, barrier, results):
    db = open_storage(db_path)

    def make():
        barrier.wait(timeout=60)  # both have seen calls waiting before either takes one
        t = SlowTranscriber()
        t.delay = 0.15
        return t

    r = transcription.transcribe_pending(db, PIPELINE, settings_for(db_path), make)
    results.put((r.done, r.failed))


def test_two_transcribe_runs_share_the_calls_and_do_each_once(tmp_path):
    db_path = tmp_path / "qa.db"
    db = open_storage(db_path)
    make_calls(tmp_path / "in", 8)
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings_for(db_path))
    barrier = SPAWN.Barrier(2)
    out = run_all(transcribe_racer, [(db_path, barrier)] * 2)
    done = [cid for d, _ in out for cid in d]
    assert sorted(done) == [f"call{i}" for i in range(8)]  # every call, none twice
    assert all(d for d, _ in out)  # both did some of it
    assert all(f == [] for _, f in out)
    assert {c["status"] for c in db.calls.list()} == {"transcribed"}


def stuck_run(db_path, lease_s):
    class Stuck(FakeTranscriber):
        def transcribe(self, audio, **kw):
            time.sleep(3600)  # a hung decoder, or a machine that went away

    db = open_storage(db_path)
    transcription.transcribe_pending(db, PIPELINE, settings_for(db_path), Stuck, lease_s=lease_s)


def test_the_calls_of_a_killed_run_are_taken_again_when_its_lease_expires(tmp_path):
    db_path = tmp_path / "qa.db"
    db = open_storage(db_path)
    make_calls(tmp_path / "in", 1)
    ingest.ingest(db, PIPELINE, tmp_path / "in", settings_for(db_path))
    lease_s = 1.5
    p = SPAWN.Process(target=stuck_run, args=(db_path, lease_s))
    p.start()
    try:
        deadline = time.monotonic() + 60
        while db.calls.get("call0")["lease_owner"] is None:
            assert time.monotonic() < deadline, "the stuck run never took the call"
            time.sleep(0.05)
        time.sleep(lease_s)  # it keeps renewing while alive
        assert (
            transcription.transcribe_pending(db, PIPELINE, settings_for(db_path), FakeTranscriber).held_elsewhere == 1
        )
    finally:
        os.kill(p.pid, signal.SIGKILL)  # no chance to give the lease back
        p.join()
    report = transcription.transcribe_pending(db, PIPELINE, settings_for(db_path), FakeTranscriber)
    assert report.done == [] and "1 being transcribed by another run" in report.summary()
    time.sleep(lease_s + 0.2)
    assert transcription.transcribe_pending(db, PIPELINE, settings_for(db_path), FakeTranscriber).done == ["call0"]
    assert db.calls.get("call0")["lease_owner"] is None


# --- nothing left half-done ----------------------------------------------------------


def cards(db, n: int) -> int:
    return sum(len(db.scorecards.for_call(f"call{i}")) for i in range(n))


def test_calls_transcribed_before_a_kill_are_scored_by_the_next_run(tmp_path):
    s = settings_for(tmp_path / "qa.db")
    db = open_storage(s.db_path)
    make_calls(tmp_path / "in", 4)
    ingest.ingest(db, PIPELINE, tmp_path / "in", s)
    # A run stopped after two calls were saved and before they were scored (transcription alone).
    with pytest.raises(KeyboardInterrupt):
        transcription.transcribe_pending(db, PIPELINE, s, PausingTranscriber, progress=ctrl_c_after(2))
    assert db.calls.count(status="transcribed") == 2 and cards(db, 4) == 0
    report, scored = workflow.transcribe_then_score(db, PIPELINE, s, FakeTranscriber)
    assert len(report.done) == 2
    assert sorted(cid for cid, _, _ in scored.scored) == [f"call{i}" for i in range(4)]

    # And with nothing left to transcribe, what another command transcribed is still scored.
    write_wav(tmp_path / "more" / "late.wav", seconds=1.5, freqs=(900.0, 1100.0))
    ingest.ingest(db, PIPELINE, tmp_path / "more" / "late.wav", s)
    transcription.transcribe_pending(db, PIPELINE, s, FakeTranscriber)
    report, scored = workflow.transcribe_then_score(db, PIPELINE, s, FakeTranscriber)
    assert report.done == [] and [cid for cid, _, _ in scored.scored] == ["late"]
    assert scoring.score_calls(db, PIPELINE, s).summary().startswith("0 scored, 5 already scored")


def test_each_call_is_scored_as_it_is_saved_so_ctrl_c_leaves_the_saved_ones_scored(tmp_path):
    s = settings_for(tmp_path / "qa.db")
    db = open_storage(s.db_path)
    make_calls(tmp_path / "in", 4)
    ingest.ingest(db, PIPELINE, tmp_path / "in", s)
    cards_when_reported = []

    def progress(done, total, call_id, error):
        cards_when_reported.append(len(db.scorecards.for_call(call_id)))
        ctrl_c_after(2)(done, total, call_id, error)

    with pytest.raises(KeyboardInterrupt):
        workflow.transcribe_then_score(db, PIPELINE, s, PausingTranscriber, progress=progress)
    assert cards_when_reported == [1, 1]  # each call had its scorecard by the time the bar moved
    assert db.calls.count(status="transcribed") == 2 and cards(db, 4) == 2
    report, scored = workflow.transcribe_then_score(db, PIPELINE, s, FakeTranscriber)
    assert len(report.done) == 2 and len(scored.scored) == 2
    assert scored.summary().startswith("2 scored, 2 already scored, 0 failed, 0 with no applicable")
