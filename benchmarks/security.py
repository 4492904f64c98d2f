"""What the security work costs: logins, the session check every page run makes, the audit chain, redaction.

    .venv/bin/python benchmarks/security.py [--entries 1000000] [--logins 20]

Prints:
- a login with the right password, a wrong one and an unknown name (Argon2id
  at the library's default cost): the three must take about as long, or
  user names could be probed by timing;
- resuming a session, which every click in the app does;
- writing one audit entry under the write lock (the chain link) and
  verifying a chain of ``--entries`` entries (``qa-review audit verify``);
- masking personal data in the demo's reference transcripts, in MB/s.
Targets: a login under 1 s; a resume under 5 ms; an audit write under 10 ms;
verifying a million entries under a minute.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from qa_review.core import redaction  # noqa: E402
from qa_review.core.errors import AuthError  # noqa: E402
from qa_review.services import accounts  # noqa: E402
from qa_review.storage import open_storage, schema  # noqa: E402


def median_ms(fn, n: int) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def refused(fn):
    def run():
        try:
            fn()
        except AuthError:
            pass

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--logins", type=int, default=20)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = open_storage(Path(tmp) / "security.db")
        admin = accounts.add_user(db, None, "admin", "admin-password", "admin")
        accounts.add_user(db, admin, "anna", "anna-password", "operator", operator_id="anna")
        # logins from many clients, so the throttle (5 failures in 15 min) does not answer instead
        n = [0]

        def client() -> str:
            n[0] += 1
            return f"10.0.{n[0] // 250}.{n[0] % 250}"

        right = median_ms(lambda: accounts.login(db, "anna", "anna-password", client=client()), args.logins)

        def wrong_password():
            db.sessions.forget_failures_before(time.time() + 1)  # else the throttle answers, at once
            accounts.login(db, "anna", f"x{n[0]}", client=client())

        wrong = median_ms(refused(wrong_password), args.logins)
        unknown = median_ms(refused(lambda: accounts.login(db, f"nobody{n[0]}", "x", client=client())), args.logins)
        print(f"login: right password {right:.0f} ms, wrong {wrong:.0f} ms, unknown name {unknown:.0f} ms (median)")
        _, token = accounts.login(db, "admin", "admin-password")
        resume = median_ms(lambda: accounts.resume(db, token, idle_hours=8), 500)
        print(f"session resume (every page run): {resume:.2f} ms")

        write = median_ms(
            lambda: db.audit.write(
                at="2026-11-24T10:00:00+00:00",
                username="admin",
                action="verdict",
                call_id="c1",
                scorecard_id=1,
                target="greet",
                old="fail",
                new="pass",
                reason="heard it",
            ),
            2000,
        )
        print(f"audit write with its chain link: {write:.2f} ms")
        # the rest of the chain in bulk, linked by the same rule, as years of reviews would leave it
        conn = db._db.conn
        prev = conn.execute("select hash from audit_log order by id desc limit 1").fetchone()[0]
        rows, t0 = [], time.perf_counter()
        have = conn.execute("select count(*) from audit_log").fetchone()[0]
        for i in range(args.entries - have):
            entry = {
                "at": "2026-11-24T10:00:00+00:00",
                "username": f"sup{i % 20}",
                "action": "verdict",
                "call_id": f"call-{i // 12}",
                "scorecard_id": i // 12,
                "target": f"item{i % 12}",
                "old": "fail",
                "new": "pass",
                "reason": "прослушал: приветствие было" if i % 3 == 0 else None,
            }
            prev = entry["hash"] = schema.audit_hash_v1(prev, entry)
            rows.append(entry)
            if len(rows) == 50_000:
                db._db["audit_log"].insert_all(rows)
                rows.clear()
        db._db["audit_log"].insert_all(rows)
        print(f"  ({args.entries:,} entries generated in {time.perf_counter() - t0:.0f} s)")
        t0 = time.perf_counter()
        check = db.audit.verify()
        took = time.perf_counter() - t0
        assert check.broken_at is None, check
        print(f"audit verify: {check.entries:,} entries in {took:.1f} s ({check.entries / took:,.0f}/s)")

        texts = [
            seg["text"]
            for p in sorted((ROOT / "demo" / "reference").glob("*.json"))
            for seg in json.loads(p.read_text(encoding="utf-8"))["segments"]
        ]
        text = "\n".join(texts) * 50
        t0 = time.perf_counter()
        redaction.redact(text)
        took = time.perf_counter() - t0
        size = len(text.encode("utf-8")) / 1e6
        print(f"redaction: {size:.1f} MB of transcript text in {took:.2f} s ({size / took:.1f} MB/s)")
    print(f"peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
