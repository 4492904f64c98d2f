"""Write demo/call-log.csv: three months of the demo clinic's PBX log, lost calls and callbacks included.

    .venv/bin/python scripts/make_demo_call_log.py

Deterministic (seeded), so the committed file is what this script writes.
The demo's recorded calls appear under their own ids with the manifest's
times, numbers, queues and operators; around them, September to November
2026, working days 8:00-20:00: about 30 inbound calls a day over three
queues, one in eight not answered (a third of those short abandons), half
of the lost ones returned by an operator within two hours (some after the
hour the rules allow), some numbers calling again within the week, and
outbound calls. November's service level dips in its last week, so the
trend charts have something to show.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "demo" / "call-log.csv"
OPERATORS = ["anna.smirnova", "ivan.petrov", "petr.volkov", "olga.sokolova"]
QUEUES = ["registry", "registry", "registry", "quality", "reminders"]
COLUMNS = ["call_id", "started_at", "direction", "phone", "queue", "operator", "status", "wait_s", "talk_s", "hold_s"]


def number(rnd: random.Random, pool: list[str]) -> str:
    n = rnd.choice(pool)
    return f"+7{n}" if rnd.random() < 0.6 else f"8 ({n[:3]}) {n[3:6]}-{n[6:8]}-{n[8:]}"


def main() -> None:
    rnd = random.Random(15)
    pool = [f"9{rnd.randrange(10**8, 10**9)}" for _ in range(900)]
    rows = []
    with open(ROOT / "demo" / "manifest.csv", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["phone"]:  # a recorded phone call: answered, as the recording shows
                rows.append(
                    [
                        r["call_id"],
                        r["started_at"],
                        r["direction"] or "inbound",
                        r["phone"],
                        r["queue"],
                        r["operator"],
                        "answered",
                        rnd.randrange(3, 25),
                        rnd.randrange(60, 240),
                        0,
                    ]
                )
    n = 0
    day = date(2026, 9, 1)
    while day <= date(2026, 11, 30):
        if day.weekday() < 5:
            late_november = day >= date(2026, 11, 23)
            for _ in range(rnd.randrange(24, 36)):
                n += 1
                t = datetime(day.year, day.month, day.day, 8) + timedelta(seconds=rnd.randrange(12 * 3600))
                phone, queue = number(rnd, pool), rnd.choice(QUEUES)
                wait_hi = 70 if late_november else 35
                if rnd.random() < (0.2 if late_november else 0.12):
                    wait = rnd.choice([2, 3, 4]) if rnd.random() < 0.33 else rnd.randrange(6, 120)
                    status = "abandoned" if rnd.random() < 0.5 else "missed"
                    rows.append([f"pbx-{n}", f"{t:%Y-%m-%dT%H:%M:%S}", "inbound", phone, queue, "", status, wait, 0, 0])
                    if wait >= 5 and rnd.random() < 0.5:
                        back = t + timedelta(minutes=rnd.randrange(5, 120))
                        rows.append(
                            [
                                f"pbx-{n}-cb",
                                f"{back:%Y-%m-%dT%H:%M:%S}",
                                "outbound",
                                phone,
                                "",
                                rnd.choice(OPERATORS),
                                "answered",
                                0,
                                rnd.randrange(40, 150),
                                0,
                            ]
                        )
                    continue
                hold = rnd.choice([0, 0, 0, rnd.randrange(10, 90)])
                rows.append(
                    [
                        f"pbx-{n}",
                        f"{t:%Y-%m-%dT%H:%M:%S}",
                        "inbound",
                        phone,
                        queue,
                        rnd.choice(OPERATORS),
                        "answered",
                        rnd.randrange(2, wait_hi),
                        rnd.randrange(45, 420),
                        hold,
                    ]
                )
                if rnd.random() < 0.08:  # the same caller again within the week: not resolved at first contact
                    again = t + timedelta(days=rnd.randrange(1, 6), minutes=rnd.randrange(0, 300))
                    if again.weekday() < 5 and again.date() <= date(2026, 11, 30):
                        rows.append(
                            [
                                f"pbx-{n}-r",
                                f"{again:%Y-%m-%dT%H:%M:%S}",
                                "inbound",
                                phone,
                                queue,
                                rnd.choice(OPERATORS),
                                "answered",
                                rnd.randrange(2, 30),
                                rnd.randrange(45, 300),
                                0,
                            ]
                        )
        day += timedelta(days=1)
    rows.sort(key=lambda r: (r[1][:19], r[0]))
    with open(OUT, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(COLUMNS)
        w.writerows(rows)
    print(f"wrote {OUT} ({len(rows)} rows)")


if __name__ == "__main__":
    main()
