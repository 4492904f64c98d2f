"""The call log at a large centre's scale: import, the month's report, the KPI inputs.

    .venv/bin/python benchmarks/call_log.py [--operators 300 --per-day 60 --days 30]

Generates a month (plus the first week of the next, for callbacks and repeat
calls) of a centre's PBX log: each operator answers --per-day calls a day,
one inbound call in ten is not answered (a third of those short abandons),
a third of the lost ones are returned within two hours, numbers repeat
(a pool of a fifth as many numbers as calls), written half as +7 and half
as 8 (...). Then times `import_call_log` (parse, link, store), a re-import of
the same file (all updates), the month's report (`cdr report`), the same again with the log
unchanged (kept figures), and prints the peak memory. Target: the report under 10 s, the import under a minute
for a month of a 300-operator centre.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.core.permissions import system_actor  # noqa: E402
from qa_review.services import call_log  # noqa: E402
from qa_review.services.settings import Settings  # noqa: E402
from qa_review.storage import open_storage  # noqa: E402

ACTOR = system_actor("benchmark")


def generate(operators: int, per_day: int, days: int, seed: int = 1) -> str:
    rnd = random.Random(seed)
    answered_total = operators * per_day * days
    pool = [f"916{n:07d}" for n in rnd.sample(range(10**7), max(10, answered_total // 5))]
    lines = ["call_id;started_at;direction;phone;queue;operator;status;wait_s;talk_s;hold_s"]
    start = datetime(2026, 11, 1, 8, 0)
    n = 0
    for day in range(days + 7):
        for _ in range(operators * per_day * 11 // 10):
            n += 1
            t = start + timedelta(days=day, seconds=rnd.randrange(12 * 3600))
            number = rnd.choice(pool)
            phone = f"+7 {number[:3]} {number[3:]}" if n % 2 else f"8 ({number[:3]}) {number[3:]}"
            queue = rnd.choice(("registry", "diagnostics", "dentistry"))
            if rnd.random() < 0.1:  # nobody answered
                wait = rnd.choice((2, 3, 30, 45, 90))
                lines.append(f"c{n};{t:%Y-%m-%dT%H:%M:%S};inbound;{phone};{queue};;missed;{wait};0;0")
                if rnd.random() < 0.33:
                    back = t + timedelta(minutes=rnd.randrange(1, 120))
                    op = f"op{rnd.randrange(operators):03d}"
                    lines.append(f"b{n};{back:%Y-%m-%dT%H:%M:%S};outbound;{phone};;{op};answered;0;90;0")
                continue
            op = f"op{rnd.randrange(operators):03d}"
            direction = "inbound" if rnd.random() < 0.85 else "outbound"
            wait = rnd.randrange(0, 60) if direction == "inbound" else 0
            talk, hold = rnd.randrange(30, 400), rnd.choice((0, 0, 0, rnd.randrange(5, 90)))
            lines.append(
                f"c{n};{t:%Y-%m-%dT%H:%M:%S};{direction};{phone};{queue if direction == 'inbound' else ''};"
                f"{op};answered;{wait};{talk};{hold}"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--operators", type=int, default=300)
    ap.add_argument("--per-day", type=int, default=60)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(db_path=Path(tmp) / "cdr.db")
        db = open_storage(settings.db_path)
        t0 = time.perf_counter()
        text = generate(args.operators, args.per_day, args.days)
        rows = text.count("\n") - 1
        print(f"generated {rows} rows ({len(text) / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f} s")
        for label in ("import", "re-import (all updates)"):
            t0 = time.perf_counter()
            rep = call_log.import_call_log(db, ACTOR, text, settings, "bench.csv")
            took = time.perf_counter() - t0
            print(f"{label}: {rep.summary()}; {took:.1f} s ({rows / took:,.0f} rows/s)")
        t0 = time.perf_counter()
        report = call_log.report(db, ACTOR, "2026-11", settings)
        took = time.perf_counter() - t0
        q = report.queues
        print(
            f"month report: {took:.2f} s; {int(q['offered'].sum())} inbound offered, {int(q['lost'].sum())} lost, "
            f"{int(q['called_back'].sum())} called back, {len(report.operators)} operators"
        )
        t0 = time.perf_counter()
        call_log.report(db, ACTOR, "2026-11", settings)
        print(f"again, unchanged log (the KPI page's every view): {time.perf_counter() - t0:.3f} s")
        print(q.round(3).to_string(index=False))
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory (RSS): {peak:.0f} MiB")


if __name__ == "__main__":
    main()
