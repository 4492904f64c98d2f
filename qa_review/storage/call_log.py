"""The PBX call log: rows kept by the PBX's call id, so importing a log again updates, never duplicates."""

from __future__ import annotations

import pandas as pd
from sqlite_utils import Database

from qa_review.core.contact_metrics import COLUMNS as FIGURE_COLUMNS  # the rest (source, links) stays here
from qa_review.storage.queries import existing, now_iso


class CallLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put(self, rows: list[dict], *, source: str) -> tuple[int, int]:
        """Insert or update each row by call_id; (added, updated)."""
        ids = [r["call_id"] for r in rows]
        known = existing(self._db, "call_log", "call_id", ids)
        at = now_iso()
        self._db["call_log"].upsert_all(
            [{**r, "source": source, "imported_at": at} for r in rows], pk="call_id", alter=False
        )
        self._db.execute("update call_log_version set n = n + 1 where id = 1")
        return len(set(ids) - known), len(known)

    def version(self) -> tuple:
        """Changes whenever the log does (and differs between databases): a key for figures computed from it."""
        where = self._db.execute("pragma database_list").fetchone()[2] or f"memory:{id(self._db.conn)}"
        return where, self._db.execute("select n from call_log_version where id = 1").fetchone()[0]

    def between(self, start: str, end: str) -> pd.DataFrame:
        """Rows that started in [start, end) (clinic-clock ISO strings or dates), oldest first."""
        cur = self._db.execute(
            f"select {', '.join(FIGURE_COLUMNS)} from call_log where started_at >= ? and started_at < ? "
            "order by started_at, call_id",
            [start, end],
        )
        return pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])

    def months(self) -> list[str]:
        return [
            r[0] for r in self._db.execute("select distinct substr(started_at, 1, 7) from call_log order by 1 desc")
        ]

    def count(self) -> int:
        return self._db["call_log"].count
