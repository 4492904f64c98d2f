"""What KPIs and sampling read and write: rollups, scorecard frames, imported inputs, reports, samples.

Month reports and dashboards read per-operator monthly rollups: thousands of
rows where the scorecards of a year of a large centre are over a million.
Triggers (migration m010) mark a (month, operator) stale whenever a call,
scorecard, verdict or dispute of it changes; the next read recomputes the
stale keys from the rows, with the same SQL as a rebuild from scratch, so a
rollup is never anything but the aggregate of its rows.
"""

from __future__ import annotations

import pandas as pd
from sqlite_utils import Database

from qa_review.core.permissions import PUBLISHED
from qa_review.storage.queries import Where, month_range, now_iso, one

_PUB = ", ".join(f"'{state}'" for state in PUBLISHED)  # fixed words, not user input
# One stale key's calls, through the (operator, started_at) index. One key at
# a time, with its values bound: joined to the stale table instead, SQLite
# cannot tell one stale key from thousands and scans the scorecards.
_KEY = "c.operator = :operator and c.started_at >= :month and c.started_at < :end"
_TENTHS = "cast(round(s.score * 10) as integer)"
_ROLLUP_SQL = (
    f"""insert into kpi_month_operator
    select :month, :operator, count(distinct c.call_id), count(distinct s.call_id),
        count(distinct case when s.status in ({_PUB}) then s.call_id end),
        count(case when s.status in ({_PUB}) then s.id end),
        count(case when s.status in ({_PUB}) then s.score end),
        sum(case when s.status in ({_PUB}) then {_TENTHS} else 0 end),
        sum(case when s.status in ({_PUB}) then {_TENTHS} * {_TENTHS} else 0 end),
        total(case when s.status in ({_PUB}) then s.critical_failed end), 0, 0, 0
    from calls c left join scorecards s on s.call_id = c.call_id
    where {_KEY} having count(c.call_id) > 0""",
    f"""update kpi_month_operator set (disputes_raised, disputes_upheld, disputes_open) = (
        select count(*), count(case when d.status = 'upheld' then 1 end), count(case when d.status = 'open' then 1 end)
        from calls c join scorecards s on s.call_id = c.call_id join disputes d on d.scorecard_id = s.id
        where {_KEY} and s.status in ({_PUB}))
    where month = :month and operator = :operator""",
    f"""insert into kpi_month_bins
    select :month, :operator, min(cast(s.score / 10 as int) * 10, 90), count(*), total(s.score)
    from calls c join scorecards s on s.call_id = c.call_id
    where {_KEY} and s.status in ({_PUB}) and s.score is not null group by 3""",
    f"""insert into kpi_month_items
    select :month, :operator, i.item_id, i.title, sum(i.verdict = 'fail'),
        sum(i.verdict in ('pass', 'fail')), sum(i.auto_verdict in ('pass', 'fail', 'na')),
        sum(i.auto_verdict in ('pass', 'fail', 'na') and i.verdict = i.auto_verdict)
    from calls c join scorecards s on s.call_id = c.call_id join scorecard_items i on i.scorecard_id = s.id
    where {_KEY} and s.status in ({_PUB}) group by 3, 4""",
)
_ROLLUP_TABLES = ("kpi_month_operator", "kpi_month_bins", "kpi_month_items")


class Kpis:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _frame(self, sql: str, args=()) -> pd.DataFrame:
        return pd.read_sql_query(sql, self._db.conn, params=list(args))

    # --- rollups ------------------------------------------------------------------------

    def refresh(self) -> int:
        """Recompute the stale (month, operator) rollups from the rows; how many were stale."""
        if not self._db.execute("select 1 from kpi_stale limit 1").fetchone():
            return 0
        conn = self._db.conn
        outer = conn.in_transaction
        # IMMEDIATE: take the write lock before reading, so a concurrent
        # refresh waits (busy timeout) instead of failing on a stale snapshot.
        conn.execute("savepoint kpi_refresh" if outer else "begin immediate")
        try:
            keys = conn.execute("select month, operator from kpi_stale").fetchall()
            for month, operator in keys:
                # '~' sorts after every character of an ISO time: the month's calls
                key = {"month": month, "operator": operator, "end": month + "~"}
                for table in _ROLLUP_TABLES:
                    conn.execute(f"delete from {table} where month = :month and operator = :operator", key)
                for sql in _ROLLUP_SQL:
                    conn.execute(sql, key)
            conn.execute("delete from kpi_stale")
        except BaseException:
            conn.execute("rollback to kpi_refresh" if outer else "rollback")
            raise
        conn.execute("release kpi_refresh" if outer else "commit")
        return len(keys)

    def rebuild(self) -> int:
        """Drop every rollup and recompute it from the rows; how many (month, operator) keys."""
        with self._db.atomic():
            for table in _ROLLUP_TABLES:
                self._db.execute(f"delete from {table}")
            self._db.execute(
                "insert or ignore into kpi_stale select distinct substr(started_at, 1, 7), operator from calls"
            )
        return self.refresh()

    def month_totals(self, month: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The month's per-operator sums and failed-item counts (see ``core.kpi.Totals``)."""
        month_range(month)  # refuses anything but YYYY-MM
        self.refresh()
        per_operator = self._frame(
            """select operator, cards as calls_reviewed, scored, score_tenths, score_tenths_sq, critical_fails,
                disputes_raised, disputes_upheld, disputes_open as open_disputes
            from kpi_month_operator where month = ? and cards > 0""",
            [month],
        )
        failed = self._frame(
            """select operator, title, sum(failed) as n from kpi_month_items
            where month = ? and failed > 0 group by 1, 2""",
            [month],
        )
        return per_operator, failed

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

    def inputs(self, period: str | None = None) -> list[dict]:
        w = Where().eq("period", period)
        return list(self._db["kpi_inputs"].rows_where(w.clause(), w.args, order_by="operator, period, metric"))

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

    def dashboard(self, since: str, operators=None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """Three aggregates of published scorecards from month ``since`` on, for ``operators`` (None: all):

        per (month, operator, score bin of 10): total and count of scores;
        per item: failed, decided, automatically decided and unchanged by people;
        per operator: calls, and calls with a published scorecard.
        """
        self.refresh()
        w = Where().add("month >= ?", since).among("operator", operators)
        cards = self._frame(f"select month, operator, bin, score_sum as total, n from kpi_month_bins {w.sql()}", w.args)
        per_item = self._frame(
            f"""select item_id, title, sum(failed) as failed, sum(decided) as decided,
                sum(auto_decided) as scorecards, sum(same) as same
            from kpi_month_items {w.sql()} group by 1, 2""",
            w.args,
        )
        coverage = self._frame(
            f"""select operator, sum(calls) as calls, sum(reviewed_calls) as reviewed
            from kpi_month_operator {w.sql()} group by 1""",
            w.args,
        )
        return cards, per_item, coverage

    def months(self) -> list[str]:
        """Months with calls, newest first."""
        self.refresh()
        return [r[0] for r in self._db.execute("select distinct month from kpi_month_operator order by 1 desc")]

    def coverage(self, month: str) -> pd.DataFrame:
        """Per operator with calls in the month: calls, calls scored automatically, calls reviewed."""
        month_range(month)
        self.refresh()
        return self._frame(
            """select operator, calls, scored_calls as auto_scored, reviewed_calls as reviewed
            from kpi_month_operator where month = ? and calls > 0 order by operator""",
            [month],
        )
