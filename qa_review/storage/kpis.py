"""What KPIs and sampling read and write: scorecard frames, imported inputs, reports, samples.

The reads aggregate in SQLite, so a year of a large centre (over a million
scorecards) never has to fit in memory as rows.
"""

from __future__ import annotations

import pandas as pd
from sqlite_utils import Database

from qa_review.storage.queries import Where, marks, month_range, now_iso, one


class Kpis:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _frame(self, sql: str, args=()) -> pd.DataFrame:
        return pd.read_sql_query(sql, self._db.conn, params=list(args))

    def frames(
        self, month: str | None = None, *, states=None, items: str = "all", operator: str | None = None
    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(scorecards, items, disputes, imported inputs); ``items`` is "all", "failed" or "none"."""
        w = Where().month("c.started_at", month).eq("c.operator", operator).among("s.status", states)
        where = w.sql() or "where 1"
        cards = self._frame(
            f"""select s.id as scorecard_id, s.call_id, c.operator, c.started_at, c.duration_s, c.tags,
                       s.checklist_id, s.status, s.score, s.critical_failed
                from scorecards s join calls c on c.call_id = s.call_id {where}""",
            w.args,
        )
        ids = "select s.id from scorecards s join calls c on c.call_id = s.call_id " + where
        item_cols = "scorecard_id, item_id, title, weight, critical, verdict, auto_verdict"
        if items == "none":
            item_frame = pd.DataFrame(columns=item_cols.split(", "))
        else:
            only = " and verdict = 'fail'" if items == "failed" else ""
            item_frame = self._frame(
                f"select {item_cols} from scorecard_items where scorecard_id in ({ids}){only}", w.args
            )
        disputes = self._frame(
            f"""select scorecard_id, item_id, status, verdict_before, verdict_after
                from disputes where scorecard_id in ({ids})""",
            w.args,
        )
        inputs = self._frame("select operator, period, metric, value from kpi_inputs")
        return cards, item_frame, disputes, inputs

    def month_calls(self, month: str) -> pd.DataFrame:
        return self._frame(
            "select call_id, operator from calls where started_at >= ? and started_at < ?", month_range(month)
        )

    # --- inputs imported from other systems, and recorded reports -----------------

    def put_inputs(self, operator: str, period: str, values: dict[str, float]) -> None:
        self._db["kpi_inputs"].upsert_all(
            [
                {"operator": operator, "period": period, "metric": m, "value": v, "imported_at": now_iso()}
                for m, v in values.items()
            ],
            pk=("operator", "period", "metric"),
        )

    def inputs(self) -> list[dict]:
        return list(self._db["kpi_inputs"].rows_where(order_by="operator, period, metric"))

    def reports(self) -> list[dict]:
        """Recorded month reports, oldest first: what was paid on which rules."""
        return list(self._db["kpi_reports"].rows_where(order_by="id"))

    def record_report(
        self, *, month: str, rules_id: str, rules_version: int, rules_sha256: str, created_by: str, report_json: str
    ) -> None:
        self._db["kpi_reports"].insert(
            {
                "month": month,
                "rules_id": rules_id,
                "rules_version": rules_version,
                "rules_sha256": rules_sha256,
                "created_by": created_by,
                "created_at": now_iso(),
                "report": report_json,
            }
        )

    # --- samples: the calls chosen for review each month --------------------------

    def sample_of(self, month: str, call_id: str) -> dict | None:
        return one(self._db, "samples", "month = ? and call_id = ?", [month, call_id])

    def sampled(self, month: str) -> set[str]:
        return {r["call_id"] for r in self._db["samples"].rows_where("month = ?", [month])}

    def add_sample(self, month: str, call_id: str, reason: str, seed: int, assignee: str | None) -> None:
        self._db["samples"].insert(
            {
                "month": month,
                "call_id": call_id,
                "reason": reason,
                "seed": seed,
                "assignee": assignee,
                "created_at": now_iso(),
            }
        )

    # --- dashboards -------------------------------------------------------------------

    def dashboard(self, since: str, states, operators=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Three aggregates from ``since`` (a month's first day) on, for ``operators`` (None: all):

        per (month, operator, score bin of 10): total and count of scores of cards in ``states``;
        per item: failed, decided, automatically decided and unchanged by people;
        per operator: calls and calls with a card in ``states``.
        """
        states = list(states)
        w = Where().add("c.started_at >= ?", since).among("c.operator", operators)
        args = w.args
        pub = f"s.status in ({marks(states)})"
        cards = self._frame(
            f"""select substr(c.started_at, 1, 7) as month, c.operator,
                min(cast(s.score / 10 as int) * 10, 90) as bin, sum(s.score) as total, count(s.score) as n
                from scorecards s join calls c on c.call_id = s.call_id
                {w.sql()} and {pub} group by 1, 2, 3""",
            [*args, *states],
        )
        per_item = self._frame(
            f"""select i.item_id, i.title,
                sum(i.verdict = 'fail') as failed, sum(i.verdict in ('pass', 'fail')) as decided,
                sum(i.auto_verdict in ('pass', 'fail', 'na')) as scorecards,
                sum(i.auto_verdict in ('pass', 'fail', 'na') and i.verdict = i.auto_verdict) as same
                from scorecard_items i join scorecards s on s.id = i.scorecard_id
                join calls c on c.call_id = s.call_id {w.sql()} and {pub} group by 1, 2""",
            [*args, *states],
        )
        coverage = self._frame(
            f"""select c.operator, count(distinct c.call_id) as calls,
                count(distinct case when {pub} then c.call_id end) as reviewed
                from calls c left join scorecards s on s.call_id = c.call_id {w.sql()} group by 1""",
            [*states, *args],
        )
        return cards, per_item, coverage
