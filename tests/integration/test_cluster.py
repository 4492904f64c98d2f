"""Transcription on a Dask cluster of worker processes: the audio travels, a killed worker's calls
are done elsewhere, a worker without the model says so once, TLS works."""

import os
import signal
import sqlite3
import time

import pytest

from qa_review.asr.jobs import SiteModel
from qa_review.asr.transcribe import AsrOptions
from qa_review.core.errors import ModelError
from qa_review.services import transcription
from qa_review.storage import open_storage
from tests.conftest import PIPELINE, FakeTranscriber
from tests.integration.test_transcribe_batch import ingest_n


class Sleepy(FakeTranscriber):
    """A fake model slow enough for a worker to be killed while it works (importable: workers unpickle it)."""

    def transcribe(self, audio, **kw):
        time.sleep(0.3)
        return super().transcribe(audio, **kw)


@pytest.fixture
def db(settings):
    return open_storage(settings.db_path)


@pytest.fixture
def workers():
    from distributed import Client, LocalCluster

    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40) as c,
        Client(c, set_as_default=False) as client,
    ):
        yield c, client


def test_two_worker_processes_transcribe_a_batch_with_the_audio_sent(db, settings, tmp_path, workers):
    cluster, client = workers
    ingest_n(db, settings, tmp_path, 6)
    seen = []
    report = transcription.transcribe_pending(
        db,
        PIPELINE,
        settings,
        FakeTranscriber,
        scheduler=cluster.scheduler_address,
        progress=lambda d, t, cid, err: seen.append(d),
    )
    assert sorted(report.done) == [f"call{i}" for i in range(6)] and report.failed == []
    assert seen == [1, 2, 3, 4, 5, 6]
    assert all(db.transcripts.get(f"call{i}").segments for i in range(6))
    assert {c["status"] for c in db.calls.list()} == {"transcribed"}


def test_a_worker_killed_mid_batch_loses_no_call_and_saves_none_twice(db, settings, tmp_path, workers):
    cluster, client = workers
    ingest_n(db, settings, tmp_path, 8)
    pids = list(client.run(os.getpid).values())
    killed = []

    def progress(done, total, call_id, error):
        if not killed:  # the first result is in: the other calls are in flight on both workers
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    report = transcription.transcribe_pending(
        db, PIPELINE, settings, Sleepy, scheduler=cluster.scheduler_address, progress=progress
    )
    assert killed
    assert sorted(report.done) == [f"call{i}" for i in range(8)] and report.failed == []
    for i in range(8):
        segs = db.transcripts.get(f"call{i}").segments
        assert segs and len({(s.speaker, s.start, s.end) for s in segs}) == len(segs)
    with sqlite3.connect(settings.db_path) as raw:
        rows = raw.execute("select call_id, count(*) from transcripts group by call_id").fetchall()
    assert len(rows) == 8 and all(n == 1 for _, n in rows)


def test_a_worker_without_the_model_says_so_once_and_nothing_is_marked_failed(db, settings, tmp_path, workers):
    cluster, _ = workers
    ingest_n(db, settings, tmp_path, 4)
    empty = tmp_path / "no-models"
    empty.mkdir()
    (empty / "registry.yaml").write_text((settings.models_dir / "registry.yaml").read_text())
    with pytest.raises(ModelError, match=r"on worker .*qa-review models install base"):
        transcription.transcribe_pending(
            db,
            PIPELINE,
            settings,
            SiteModel("base", AsrOptions(), models_dir=str(empty)),
            scheduler=cluster.scheduler_address,
        )
    assert {c["status"] for c in db.calls.list()} == {"ingested"}
    assert db.calls.waiting(now=time.time()) == 4  # the leases were given back


def test_a_tls_cluster_with_certificates_made_here(db, settings, tmp_path):
    from distributed import LocalCluster
    from distributed.security import Security

    sec = Security.temporary()  # a self-signed CA and certificates, made for this test
    ingest_n(db, settings, tmp_path, 2)
    with LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tls://",
        security=sec,
        dashboard_address=None,
        silence_logs=40,
    ) as cluster:
        assert cluster.scheduler_address.startswith("tls://")
        report = transcription.transcribe_pending(
            db, PIPELINE, settings, FakeTranscriber, scheduler=cluster.scheduler_address, security=sec
        )
    assert sorted(report.done) == ["call0", "call1"]


def test_the_command_line_names_an_unreachable_scheduler_and_half_tls(db, settings, tmp_path, monkeypatch):
    from tests.cli_runner import invoke

    monkeypatch.setattr("qa_review.services.cluster.CONNECT_TIMEOUT_S", 2)
    ingest_n(db, settings, tmp_path, 1)
    out = invoke("--db", settings.db_path, "transcribe", "--scheduler", "tcp://127.0.0.1:9")
    assert out.exit_code == 2 and "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in out.output
    assert db.calls.waiting(now=time.time()) == 1  # nothing taken
    cert = tmp_path / "c.pem"
    cert.write_text("x")
    half = invoke("--db", settings.db_path, "transcribe", "--scheduler", "tls://127.0.0.1:9", "--tls-ca", cert)
    assert half.exit_code == 2 and "needs --tls-ca, --tls-cert and --tls-key" in half.output


class Crasher(FakeTranscriber):
    """Takes its worker process down on a long recording, as a decoder crash on a bad file would."""

    def transcribe(self, audio, **kw):
        if len(audio) > 4.5 * 16000:
            os._exit(1)
        return super().transcribe(audio, **kw)


def test_a_call_that_kills_its_workers_is_marked_failed_and_the_rest_are_done(db, settings, tmp_path):
    import dask
    from distributed import LocalCluster

    from tests.audio_factory import write_wav

    ingest_n(db, settings, tmp_path, 3)
    write_wav(tmp_path / "bad" / "bad.wav", channels=2, seconds=6.0)
    from qa_review.services import ingest

    ingest.ingest(db, PIPELINE, tmp_path / "bad", settings)
    with (
        dask.config.set({"distributed.scheduler.allowed-failures": 1}),
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=50) as c,
    ):
        report = transcription.transcribe_pending(db, PIPELINE, settings, Crasher, scheduler=c.scheduler_address)
    assert sorted(report.done) == ["call0", "call1", "call2"]
    ((cid, reason),) = report.failed
    assert cid == "bad" and "died each time it was tried" in reason
    assert db.calls.get("bad")["status"] == "failed"


@pytest.mark.model
def test_worker_processes_transcribe_with_the_real_model_from_their_own_folder(settings, tmp_path):
    import csv
    import shutil

    from distributed import LocalCluster

    from qa_review.services import ingest
    from tests.conftest import DEMO, MODELS

    db = open_storage(settings.db_path)
    (tmp_path / "two").mkdir()
    for name in ("demo-01-booking.ogg", "demo-10-mono.wav"):
        shutil.copy(DEMO / "calls" / name, tmp_path / "two")
    rows = list(csv.reader(open(DEMO / "manifest.csv", encoding="utf-8")))
    with open(tmp_path / "m.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(
            [rows[0]] + [r for r in rows[1:] if r[0] in ("demo-01-booking.ogg", "demo-10-mono.wav")]
        )
    ingest.ingest(db, PIPELINE, tmp_path / "two", settings, manifest=tmp_path / "m.csv")
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40) as c:
        report = transcription.transcribe_pending(
            db,
            PIPELINE,
            settings,
            SiteModel("base", AsrOptions(), models_dir=str(MODELS)),
            scheduler=c.scheduler_address,
        )
    assert sorted(report.done) == ["demo-01-booking", "demo-10-mono"]
    t = db.transcripts.get("demo-01-booking")
    assert "меня зовут анна" in t.text_of("operator").lower()
    assert db.transcripts.get("demo-10-mono").diarization is not None  # the worker's speaker encoder ran
    assert transcription.transcript_info(db, PIPELINE, "demo-01-booking")["model"] == "base"


class Broken(FakeTranscriber):
    """A model that fails on every call, as one would on audio it cannot take."""

    def transcribe(self, audio, **kw):
        raise RuntimeError("no beam")


def test_a_failure_on_a_worker_names_the_recording_not_the_workers_copy(db, settings, tmp_path, workers):
    cluster, _ = workers
    ingest_n(db, settings, tmp_path, 1)
    report = transcription.transcribe_pending(db, PIPELINE, settings, Broken, scheduler=cluster.scheduler_address)
    ((cid, reason),) = report.failed
    source = db.calls.get(cid)["source_path"]
    assert f"{source} (as sent to worker " in reason and "no beam" in reason
    assert "/tmp" not in reason.replace(source, "")
    assert db.calls.get(cid)["status"] == "failed"


def test_a_local_run_listens_on_nothing_beyond_loopback(db, settings, tmp_path):
    import psutil

    ingest_n(db, settings, tmp_path, 2)
    seen = []

    def progress(done, total, call_id, error):
        seen.extend(c.laddr.ip for c in psutil.Process().net_connections(kind="inet") if c.status == psutil.CONN_LISTEN)

    report = transcription.transcribe_pending(db, PIPELINE, settings, FakeTranscriber, progress=progress)
    assert len(report.done) == 2
    assert seen and set(seen) <= {"127.0.0.1", "::1"}, seen
