"""Running it at a clinic: the recordings archive, the watched folder, the log.

    .venv/bin/python benchmarks/intake.py [--files 5000 --new 200 --seconds 2]

Writes --files short telephone recordings (8 kHz mono, each different) into
a PBX-like folder of day subfolders, then prints:

- ingest into the archive: files a second with hard links (the archive on
  the PBX folder's filesystem) and with copies (the archive on /dev/shm, a
  different filesystem), and the archive's size;
- an idle intake round over the folder once all of it is in (a stat per
  folder, and of the files not in yet): what every --interval costs; and
  the first round after a restart, which lists every folder and asks the
  database about every file;
- a busy round: --new fresh recordings ingested, transcribed and scored,
  with a recognizer that hears nothing (the ASR's own speed is benchmarks/
  asr.py's figure), so this is the pipeline's overhead per call; with the
  log off and at info to a file, to show what the log costs;
- peak memory.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.asr.transcribe import AsrOptions  # noqa: E402
from qa_review.core.permissions import system_actor  # noqa: E402
from qa_review.services import ingest, intake, logs  # noqa: E402
from qa_review.services.settings import Settings  # noqa: E402
from qa_review.storage import open_storage  # noqa: E402

ACTOR = system_actor("benchmark")


class Deaf:
    """A recognizer that hears nothing: the pipeline without the ASR's time."""

    model_name = "deaf"
    options = AsrOptions()

    def transcribe(self, audio, *, vad: bool = True, hotwords: str | None = None):
        return [], "ru"


def write_recordings(folder: Path, n: int, seconds: float, start: int = 0) -> None:
    rnd = random.Random(start)
    frames = int(8000 * seconds)
    for i in range(start, start + n):
        day = folder / f"2026-11-{1 + i % 28:02d}"
        day.mkdir(parents=True, exist_ok=True)
        noise = bytes(rnd.getrandbits(8) for _ in range(64))  # makes each file's content its own
        body = (noise * (2 * frames // len(noise) + 1))[: 2 * frames]
        with wave.open(str(day / f"in_{i:06d}.wav"), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(body)


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=5000)
    ap.add_argument("--new", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        pbx = tmp / "pbx"
        _, took = timed(lambda: write_recordings(pbx, a.files, a.seconds))
        size = sum(p.stat().st_size for p in pbx.rglob("*.wav"))
        print(f"{a.files} recordings of {a.seconds:g} s written ({size / 2**20:.0f} MiB) in {took:.1f} s")

        for label, data_dir in (("hard links", tmp / "data"), ("copies (/dev/shm)", None)):
            shm = None
            if data_dir is None:
                shm = Path(tempfile.mkdtemp(dir="/dev/shm"))
                data_dir = shm / "data"
            settings = Settings(db_path=tmp / f"qa-{len(label)}.db", data_dir=data_dir)
            db = open_storage(settings.db_path)
            rep, took = timed(lambda: ingest.ingest(db, ACTOR, pbx, settings))  # noqa: B023
            assert len(rep.added) == a.files, rep.summary()
            kept = data_dir / "recordings"
            linked = sum(1 for p in kept.rglob("*") if p.is_file() and p.stat().st_nlink > 1)
            print(
                f"ingest into the archive, {label}: {a.files / took:.0f} files/s ({took:.1f} s); "
                f"{linked} of {a.files} hard-linked"
            )
            if shm is not None:
                db.close()
                shutil.rmtree(shm)
        # The last database (with copies) is gone; go on with the hard-linked one.
        settings = Settings(db_path=tmp / f"qa-{len('hard links')}.db", data_dir=tmp / "data")
        db = open_storage(settings.db_path)

        job = intake.Intake(db, ACTOR, settings, pbx, Deaf, settle_s=0)
        _, took = timed(job.round)  # the first round transcribes what waits: every file
        print(f"first round: {a.files} waiting calls transcribed (deaf) and scored in {took:.1f} s")
        rounds = [timed(job.round)[1] for _ in range(5)]
        print(f"idle round over {a.files} known files: {min(rounds) * 1000:.1f} ms (best of 5)")
        restarted = intake.Intake(db, ACTOR, settings, pbx, Deaf, settle_s=0)
        _, took = timed(restarted.round)
        print(f"first round after a restart, nothing new (every folder listed, every file asked): {took * 1000:.0f} ms")

        for label, log_file in (("log off", None), ("log at info to a file", tmp / "qa.log")):
            start = a.files + (0 if log_file is None else a.new)
            write_recordings(pbx, a.new, a.seconds, start=start)
            old = time.time() - 60
            for p in pbx.rglob("*.wav"):
                if int(p.stem.split("_")[1]) >= start:
                    os.utime(p, (old, old))
            if log_file is not None:
                logs.configure("info", log_file, "text")
            r, took = timed(job.round)
            logs.configure()
            assert len(r.ingested) == a.new and r.transcribed == a.new, r.summary()
            per = took / a.new
            extra = f"; {sum(1 for _ in open(log_file))} log lines" if log_file else ""
            print(
                f"busy round, {label}: {a.new} new calls in {took:.1f} s, {per * 1000:.0f} ms a call "
                f"(ingest + transcribe without ASR + score) = {3600 / per:,.0f} calls/hour of overhead{extra}"
            )
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
