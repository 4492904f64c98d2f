"""Transcription throughput: the local path and a Dask cluster of worker processes, and sizing on paper.

    .venv/bin/python benchmarks/scale.py [--copies 3] [--operators 300]

Runs the production service (`transcribe_pending`, no scoring) on the demo
calls (each ingested `--copies` times under other ids) with the real base
model:

- local: the in-process cluster with 1 and 2 task threads sharing one model;
- cluster: a LocalCluster of 1 and 2 worker processes (each its own model,
  its cores shared), reached by address exactly as `--scheduler` reaches
  remote workers, the audio sent with each task;

and, with a fake model that answers at once, the per-call overhead of the
cluster path (task, audio transfer, result) against the local one.
Then: how many worker cores a centre of N operators needs.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.asr.audio import decode_channels  # noqa: E402
from qa_review.asr.jobs import SiteModel  # noqa: E402
from qa_review.asr.models import resolve  # noqa: E402
from qa_review.asr.transcribe import AsrOptions, FasterWhisperTranscriber  # noqa: E402
from qa_review.core.permissions import system_actor  # noqa: E402
from qa_review.services import ingest, transcription  # noqa: E402
from qa_review.services.settings import Settings  # noqa: E402
from qa_review.storage import open_storage  # noqa: E402
from tests.conftest import FakeTranscriber  # noqa: E402

ACTOR = system_actor("benchmark")
DEMO = ROOT / "demo"


def _corpus(tmp: Path, copies: int) -> Path:
    """The demo calls as 8 kHz stereo WAV, each copy a hair quieter, so the ingest sees new recordings."""
    out = tmp / "calls"
    out.mkdir()
    with open(DEMO / "manifest.csv", encoding="utf-8") as f:
        meta = {r["file"]: r for r in csv.DictReader(f)}
    rows = []
    for f in sorted((DEMO / "calls").iterdir()):
        if f.name not in meta:
            continue
        chans = decode_channels(f, 8000)
        for k in range(copies):
            rows.append({**meta[f.name], "file": f"{f.stem}-{k}.wav", "call_id": f"{f.stem}-{k}"})
            x = np.stack(chans, axis=1) * (1 - 1e-3 * k)
            with wave.open(str(out / f"{f.stem}-{k}.wav"), "wb") as w:
                w.setnchannels(len(chans))
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes((np.clip(x, -1, 1) * 32767).astype(np.int16).tobytes())
    with open(tmp / "manifest.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return out


def _run(tmp: Path, corpus: Path, name: str, make, **kw) -> tuple[int, float, float]:
    settings = Settings(db_path=tmp / f"{name}.db", models_dir=ROOT / "models")
    db = open_storage(settings.db_path)
    ingest.ingest(db, ACTOR, corpus, settings, manifest=corpus.parent / "manifest.csv")
    t0 = time.perf_counter()
    report = transcription.transcribe_pending(db, ACTOR, settings, make, **kw)
    wall = time.perf_counter() - t0
    if report.failed:
        sys.exit(f"{name}: {report.failed[:2]}")
    return len(report.done), report.audio_s, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=3)
    ap.add_argument("--operators", type=int, default=300)
    ap.add_argument("--calls-per-operator", type=int, default=60, help="recorded calls per operator per day")
    ap.add_argument("--minutes-per-call", type=float, default=3.0)
    args = ap.parse_args()
    import dask
    from distributed import LocalCluster

    # as the README's worker unit runs them: no stack sampling for a dashboard nobody watches
    dask.config.set({"distributed.worker.profile.enabled": False})

    model = resolve("base", ROOT / "models")
    tmp = Path(tempfile.mkdtemp())
    try:
        corpus = _corpus(tmp, args.copies)
        rows = []
        for threads in (1, 2):
            n, audio, wall = _run(
                tmp,
                corpus,
                f"local{threads}",
                lambda t=threads: FasterWhisperTranscriber(model, workers=t),
                workers=threads,
            )
            rows.append((f"local, {threads} task thread(s), one model", n, audio, wall))
        for procs in (1, 2):
            with LocalCluster(
                n_workers=procs, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
            ) as c:
                site = SiteModel("base", AsrOptions(), models_dir=str(ROOT / "models"))
                n, audio, wall = _run(tmp, corpus, f"cluster{procs}", site, scheduler=c.scheduler_address)
            rows.append((f"cluster, {procs} worker process(es), audio sent", n, audio, wall))
        print(f"{'path':<46} {'calls':>5} {'audio min':>9} {'wall s':>7} {'RTF':>6} {'calls/h':>8}")
        for label, n, audio, wall in rows:
            print(f"{label:<46} {n:>5} {audio / 60:>9.1f} {wall:>7.1f} {wall / audio:>6.3f} {3600 * n / wall:>8.0f}")

        # per-call overhead: a model that answers at once
        fake = []
        _, _, local_wall = _run(tmp, corpus, "fake-local", FakeTranscriber)
        with LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
        ) as c:
            n, _, cluster_wall = _run(tmp, corpus, "fake-cluster", FakeTranscriber, scheduler=c.scheduler_address)
        fake = (local_wall / n, cluster_wall / n)
        print(
            f"per call with a model that answers at once: local {1000 * fake[0]:.0f} ms, "
            f"cluster {1000 * fake[1]:.0f} ms (decoding the audio included in both)"
        )

        best = min(rows, key=lambda r: r[3] / r[2])
        rtf_per_core = best[3] / best[2] * 2  # measured on 2 cores
        audio_h = args.operators * args.calls_per_operator * args.minutes_per_call / 60
        for model_name, factor in (("base", 1.0), ("small (about 3x base)", 3.0), ("large-v3-turbo (about 8x)", 8.0)):
            core_h = audio_h * rtf_per_core * factor
            print(
                f"{args.operators} operators x {args.calls_per_operator} calls x {args.minutes_per_call:g} min = "
                f"{audio_h:.0f} h of audio a day; {model_name}: {core_h:.0f} core-hours, "
                f"{core_h / 8:.0f} cores to finish within an 8-hour night"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
