"""What the integrity work costs at a clinic's scale.

    .venv/bin/python benchmarks/integrity.py [--calls 1000000] [--backlog 20000] [--db PATH]

Generates (once; reused when --db exists) ``--calls`` transcribed calls, each
with the scorecard of the shipped checklist that applies, by plain SQL as a
bulk import would. Then times:
- `score` with nothing to score: finding the calls that lack a scorecard of
  a checklist that applies, which `transcribe` now does after every run;
- `backup` of that database while it is open (the online backup), in MiB/s;
- taking a backlog of ``--backlog`` recordings one at a time under a lease
  and marking each transcribed: the per-call overhead of the leases, which
  must stay far below a call's transcription time (seconds).
Prints the figures and peak memory. Targets: the scan under 10 s at a
million calls; the lease overhead under 10 ms a call.
"""

from __future__ import annotations

import argparse
import json
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.core.permissions import system_actor  # noqa: E402
from qa_review.services import scoring  # noqa: E402
from qa_review.services.catalog import load_checklists  # noqa: E402
from qa_review.services.settings import Settings  # noqa: E402
from qa_review.storage import open_storage  # noqa: E402

ACTOR = system_actor("benchmark")  # the pipeline runs as the command line's admin


def generate(path: Path, calls: int) -> None:
    settings = Settings(db_path=path, checklist_dirs=(ROOT / "checklists",))
    db = open_storage(path)
    loaded, _ = load_checklists(settings.checklist_dirs)
    for lc in loaded:
        scoring.record_checklist(db, lc)
    version = {lc.checklist.id: lc.checklist.version for lc in loaded}
    db.close()
    conn = sqlite3.connect(path)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    kinds = [  # channel, direction, checklist: a clinic's mix
        ("phone", "inbound", "clinic-inbound"),
        ("phone", None, "clinic-inbound"),
        ("phone", "outbound", "outbound-confirmation"),
        ("chat", None, "written-chat"),
    ]
    batch = 100_000
    for start in range(0, calls, batch):
        rows, cards = [], []
        for i in range(start, min(calls, start + batch)):
            channel, direction, checklist = kinds[i % 4 if i % 10 else 0]
            day = 1 + i % 28
            cid = f"c{i:07d}"
            rows.append(
                (
                    cid,
                    "written" if channel == "chat" else "audio",
                    channel,
                    f"op{i % 500}",
                    f"2026-11-{day:02d}T10:00:00+03:00",
                    direction,
                    f"sha{i}",
                )
            )
            cards.append((cid, checklist, version[checklist]))
        conn.executemany(
            "insert into calls (call_id, kind, channel, operator, started_at, direction, content_sha256, status, "
            "tags) values (?, ?, ?, ?, ?, ?, ?, 'transcribed', '[]')",
            rows,
        )
        conn.executemany(
            "insert into scorecards (call_id, checklist_id, checklist_version, score, provisional, critical_failed, "
            "status, revision) values (?, ?, ?, 90.0, 0, 0, 'auto', 1)",
            cards,
        )
    conn.execute("delete from kpi_stale")  # the rollups are not what this measures
    conn.execute("COMMIT")
    conn.close()
    print(f"generated {calls} transcribed and scored calls in {time.perf_counter() - t0:.0f} s")


def lease_overhead(backlog: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        db = open_storage(Path(tmp) / "leases.db")
        conn = sqlite3.connect(Path(tmp) / "leases.db")
        conn.executemany(
            "insert into calls (call_id, kind, channel, operator, started_at, content_sha256, status, tags) "
            "values (?, 'audio', 'phone', 'op', ?, ?, 'ingested', '[]')",
            [(f"r{i:06d}", f"2026-11-{1 + i % 28:02d}T10:{i % 60:02d}:00+03:00", f"s{i}") for i in range(backlog)],
        )
        conn.commit()
        conn.close()
        t0 = time.perf_counter()
        n = 0
        while True:
            with db.atomic():
                call = db.calls.claim("bench", now=time.time(), lease_s=60)
            if call is None:
                break
            with db.atomic():
                db.calls.mark_transcribed(call["call_id"])
            n += 1
        took = time.perf_counter() - t0
        db.close()
        assert n == backlog, n
        return took / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--backlog", type=int, default=20_000)
    ap.add_argument("--db", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "integrity.db"
        if not path.exists():
            generate(path, args.calls)
        settings = Settings(db_path=path, checklist_dirs=(ROOT / "checklists",))
        db = open_storage(path)
        n = db.calls.count()
        t0 = time.perf_counter()
        report = scoring.score_calls(db, ACTOR, settings)
        scan_s = time.perf_counter() - t0
        assert not report.scored and not report.failed, report.summary()
        print(f"score with nothing to do over {n} calls: {scan_s:.2f} s ({report.summary()}) (target < 10 s)")

        t0 = time.perf_counter()
        facts = db.backup_to(Path(tmp) / "backup.db")
        backup_s = time.perf_counter() - t0
        mib = facts.bytes / 2**20
        print(f"backup: {mib:.0f} MiB in {backup_s:.1f} s ({mib / backup_s:.0f} MiB/s), checked")
        db.close()

    per_call = lease_overhead(args.backlog)
    print(f"leases: {per_call * 1000:.2f} ms a call to take and mark {args.backlog} calls (target < 10 ms)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {peak:.0f} MiB")
    print(
        json.dumps(
            {
                "calls": n,
                "scan_s": round(scan_s, 2),
                "backup_mib": round(mib),
                "backup_s": round(backup_s, 1),
                "lease_ms_per_call": round(per_call * 1000, 2),
                "peak_mib": round(peak),
            }
        )
    )


if __name__ == "__main__":
    main()
