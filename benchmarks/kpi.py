"""KPI report and dashboard queries on a large generated database.

    .venv/bin/python benchmarks/kpi.py [--operators 500 --months 12 --calls 200] [--db PATH]

Generates (once; reused when --db exists) operators × months × calls scored
calls, every scorecard final, 5 items each, 1 % disputed, by plain SQL as a
bulk import would (the rollup triggers mark every month stale). Then times:
filling the rollups from the rows (the first read after a bulk load or the
upgrade to m010); the month's KPI report (database to coefficients, what
`qa-review kpi` and the KPI page do) and the dashboards' queries (last 3
months), each as it stands and again right after a scorecard changed; and the
same report computed from the rows, which must give the same figures.
Target: the report and the dashboards each under 1 s on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from qa_review.core.kpi import monthly_report  # noqa: E402
from qa_review.core.permissions import User  # noqa: E402
from qa_review.services import kpis as kpi_service  # noqa: E402
from qa_review.services.catalog import load_rules  # noqa: E402
from qa_review.services.settings import Settings  # noqa: E402
from qa_review.storage import open_storage  # noqa: E402

ITEMS = [
    ("greet", "Поздоровался", 2, 0),
    ("name", "Представился", 1, 0),
    ("slot", "Предложил время", 2, 0),
    ("no_shift", "Не перекладывает", 1, 1),
    ("farewell", "Попрощался", 1, 0),
]


def generate(path: Path, operators: int, months: int, calls: int) -> None:
    rng = random.Random(42)
    open_storage(path).close()  # the schema; rows go in by plain SQL, fast
    conn = sqlite3.connect(path)
    t0 = time.perf_counter()
    conn.execute("BEGIN")
    conn.executemany(
        "insert into users (username, role, team, operator_id, password_hash, active) "
        "values (?, 'operator', ?, ?, 'x', 1)",
        [(f"op{o}", f"team{o % 25}", f"op{o}") for o in range(operators)],
    )
    sid = 0
    for m in range(months):
        month = f"2026-{m + 1:02d}" if m < 12 else f"2027-{m - 11:02d}"
        call_rows, sc_rows, item_rows, dispute_rows = [], [], [], []
        for o in range(operators):
            skill = rng.random()
            for k in range(calls):
                sid += 1
                cid = f"c{sid}"
                day = 1 + k % 28
                started = f"{month}-{day:02d}T{9 + k % 9:02d}:{k % 60:02d}:00+03:00"
                verdicts = [("pass" if rng.random() < 0.6 + 0.4 * skill else "fail") for _ in ITEMS]
                critical = verdicts[3] == "fail"
                passed = sum(w for (_, _, w, _), v in zip(ITEMS, verdicts) if v == "pass")
                score = 0.0 if critical else round(100 * passed / sum(w for _, _, w, _ in ITEMS), 1)
                call_rows.append((cid, "audio", "phone", f"op{o}", started, "[]", cid, 180.0, "transcribed"))
                sc_rows.append((sid, cid, "clinic", 1, score, 0, int(critical), "final", 1, started, started, started))
                for n, ((item, title, w, crit), v) in enumerate(zip(ITEMS, verdicts)):
                    item_rows.append(
                        (sid, n, "s", item, title, "phrase", w, crit, v, v if rng.random() < 0.9 else "pass")
                    )
                if rng.random() < 0.01:
                    dispute_rows.append(
                        (sid, "greet", f"op{o}", "x", started, rng.choice(["upheld", "rejected", "open"]), verdicts[0])
                    )
        conn.executemany(
            """insert into calls (call_id, kind, channel, operator, started_at, tags, content_sha256,
                            duration_s, status) values (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            call_rows,
        )
        conn.executemany(
            """insert into scorecards (id, call_id, checklist_id, checklist_version, score, provisional,
                            critical_failed, status, revision, created_at, updated_at, finalized_at)
                            values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            sc_rows,
        )
        conn.executemany(
            """insert into scorecard_items (scorecard_id, position, section_id, item_id, title, kind,
                            weight, critical, verdict, auto_verdict) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            item_rows,
        )
        conn.executemany(
            """insert into disputes (scorecard_id, item_id, opened_by, reason, opened_at, status,
                            verdict_before) values (?, ?, ?, ?, ?, ?, ?)""",
            dispute_rows,
        )
        print(f"  generated {month}: {len(sc_rows)} scorecards", file=sys.stderr)
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    print(f"generated {sid} scorecards in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--operators", type=int, default=500)
    ap.add_argument("--months", type=int, default=12)
    ap.add_argument("--calls", type=int, default=200)
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = args.db or Path(tempfile.mkdtemp()) / "kpi-bench.db"
    if not path.exists():
        generate(path, args.operators, args.months, args.calls)
    db = open_storage(path)
    raw = sqlite3.connect(path)
    settings = Settings(db_path=path)
    admin = User("bench", "admin")
    month = "2026-06" if args.months >= 6 else "2026-01"
    n = raw.execute("select count(*) from scorecards").fetchone()[0]
    print(
        f"database: {n} scorecards, {raw.execute('select count(*) from scorecard_items').fetchone()[0]} items, "
        f"{path.stat().st_size / 2**20:.0f} MiB"
    )

    def timed(fn, before=lambda: None):
        best = float("inf")
        for _ in range(args.repeat):
            before()
            t0 = time.perf_counter()
            out = fn()
            best = min(best, time.perf_counter() - t0)
        return best, out

    t0 = time.perf_counter()
    stale = db.kpis.refresh()
    t_fill = time.perf_counter() - t0
    print(f"rollups filled from the rows: {t_fill:.1f} s for {stale} stale operator-month(s)")
    some_card = raw.execute("select id from scorecards where id = (select max(id) / 2 from scorecards)").fetchone()[0]

    def one_change():  # what a supervisor's finalize does to the rollups: one operator-month stale
        with raw:
            raw.execute("update scorecards set score = score where id = ?", [some_card])

    t_report, rep = timed(lambda: kpi_service.report(db, admin, month, settings))
    t_report_changed, _ = timed(lambda: kpi_service.report(db, admin, month, settings), one_change)
    t_xlsx, _ = timed(lambda: kpi_service.export(rep, "xlsx"))
    t_dash, dash = timed(lambda: kpi_service.dashboard(db, admin, settings, last_months=3))
    t_dash_changed, _ = timed(lambda: kpi_service.dashboard(db, admin, settings, last_months=3), one_change)
    t0 = time.perf_counter()
    frames = kpi_service.load_frames(db, admin, month, published_only=True, items="failed")
    from_rows = monthly_report(frames, load_rules(settings.bonus_rules), month, settings.timezone)
    t_rows = time.perf_counter() - t0
    del frames
    same = from_rows.operators.equals(rep.operators) and from_rows.teams.equals(rep.teams)
    if not same:
        pd.testing.assert_frame_equal(rep.operators, from_rows.operators, check_dtype=False)
        pd.testing.assert_frame_equal(rep.teams, from_rows.teams, check_dtype=False)
        same = True
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"month report {month}: {t_report:.2f} s, {t_report_changed:.2f} s right after a change; "
        f"{len(rep.operators)} operators, {int(rep.operators['calls_reviewed'].sum())} scorecards (target < 1 s)"
    )
    print(f"the same report from the rows: {t_rows:.2f} s, same figures: {'yes' if same else 'NO'}")
    print(f"excel export: {t_xlsx:.2f} s")
    print(
        f"dashboard queries (last 3 months): {t_dash:.2f} s, {t_dash_changed:.2f} s right after a change "
        f"({sum(len(v) for v in dash.values())} rows to draw; target < 1 s)"
    )
    print(f"peak memory: {peak:.0f} MiB")
    print(
        json.dumps(
            {
                "rollup_fill_s": round(t_fill, 3),
                "report_s": round(t_report, 3),
                "report_after_change_s": round(t_report_changed, 3),
                "report_from_rows_s": round(t_rows, 3),
                "same_figures": same,
                "xlsx_s": round(t_xlsx, 3),
                "dashboard_s": round(t_dash, 3),
                "dashboard_after_change_s": round(t_dash_changed, 3),
                "peak_mib": round(peak),
            }
        )
    )


if __name__ == "__main__":
    main()
