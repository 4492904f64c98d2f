"""Scorecards with their items, and the checklist versions that made them."""

from __future__ import annotations

import json

from sqlite_utils import Database

from qa_review.core.errors import NotFound
from qa_review.core.permissions import AUTO
from qa_review.core.scoring import Evidence, ItemResult, Scorecard
from qa_review.storage.queries import Where, marks, now_iso, one


def from_rows(row: dict, items: list[dict]) -> Scorecard:
    return Scorecard(
        call_id=row["call_id"],
        checklist_id=row["checklist_id"],
        checklist_version=row["checklist_version"],
        items=tuple(
            ItemResult(
                section_id=r["section_id"],
                item_id=r["item_id"],
                title=r["title"],
                kind=r["kind"],
                weight=r["weight"],
                critical=bool(r["critical"]),
                verdict=r["verdict"],
                evidence=tuple(Evidence.from_dict(e) for e in json.loads(r["evidence"] or "[]")),
            )
            for r in items
        ),
        score=row["score"],
        provisional=bool(row["provisional"]),
        critical_failed=bool(row["critical_failed"]),
        passed=None if row["passed"] is None else bool(row["passed"]),
        pass_mark=row["pass_mark"],
    )


class Scorecards:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- checklist versions --------------------------------------------------------

    def checklist_version(self, checklist_id: str, version: int) -> dict | None:
        return one(self._db, "checklist_versions", "checklist_id = ? and version = ?", [checklist_id, version])

    def add_checklist_version(self, checklist_id: str, version: int, title: str, sha256: str, text: str) -> None:
        self._db["checklist_versions"].insert(
            {
                "checklist_id": checklist_id,
                "version": version,
                "title": title,
                "sha256": sha256,
                "yaml": text,
                "first_used_at": now_iso(),
            }
        )

    # --- scorecards ------------------------------------------------------------------

    def find(self, call_id: str, checklist_id: str, version: int) -> dict | None:
        return one(
            self._db,
            "scorecards",
            "call_id = ? and checklist_id = ? and checklist_version = ?",
            [call_id, checklist_id, version],
        )

    def rows_for_call(self, call_id: str) -> list[dict]:
        """The call's scorecard rows (no items)."""
        return list(self._db["scorecards"].rows_where("call_id = ?", [call_id], order_by="id"))

    def get(self, scorecard_id: int) -> dict:
        return one(self._db, "scorecards", "id = ?", [scorecard_id], NotFound(f"no scorecard {scorecard_id}"))

    def self_assessment(self, call_id: str, checklist_id: str) -> dict | None:
        rows = list(
            self._db["self_assessments"].rows_where("call_id = ? and checklist_id = ?", [call_id, checklist_id])
        )
        return {**rows[0], "verdicts": json.loads(rows[0]["verdicts"])} if rows else None

    def put_self_assessment(
        self, call_id: str, checklist_id: str, operator: str, verdicts: dict, comment: str | None, at: str
    ) -> None:
        self._db["self_assessments"].upsert(
            {
                "call_id": call_id,
                "checklist_id": checklist_id,
                "operator": operator,
                "verdicts": json.dumps(verdicts, ensure_ascii=False),
                "comment": comment,
                "submitted_at": at,
            },
            pk=("call_id", "checklist_id"),
        )

    def self_assessed(self, operator: str) -> list[dict]:
        """The operator's self-assessments with the scorecard each belongs to, as it stands now."""
        sql = """select a.*, s.id as scorecard_id, s.status, c.started_at from self_assessments a
            join calls c on c.call_id = a.call_id
            join scorecards s on s.call_id = a.call_id and s.checklist_id = a.checklist_id
            where a.operator = ? order by c.started_at"""
        return [{**r, "verdicts": json.loads(r["verdicts"])} for r in self._db.query(sql, [operator])]

    def items(self, scorecard_id: int) -> list[dict]:
        return list(self._db["scorecard_items"].rows_where("scorecard_id = ?", [scorecard_id], order_by="position"))

    def save_auto(self, sc: Scorecard) -> int:
        """Insert (or replace an automatic) scorecard with its items."""
        now = now_iso()
        old = self.find(sc.call_id, sc.checklist_id, sc.checklist_version)
        if old:
            self._db.execute("delete from scorecard_items where scorecard_id = ?", [old["id"]])
            self._db.execute("delete from scorecards where id = ?", [old["id"]])
        sid = (
            self._db["scorecards"]
            .insert(
                {
                    "call_id": sc.call_id,
                    "checklist_id": sc.checklist_id,
                    "checklist_version": sc.checklist_version,
                    "score": sc.score,
                    "provisional": int(sc.provisional),
                    "critical_failed": int(sc.critical_failed),
                    "passed": None if sc.passed is None else int(sc.passed),
                    "pass_mark": sc.pass_mark,
                    "status": AUTO,
                    "revision": (old["revision"] + 1) if old else 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            .last_pk
        )
        self._db["scorecard_items"].insert_all(
            {
                "scorecard_id": sid,
                "position": n,
                "section_id": it.section_id,
                "item_id": it.item_id,
                "title": it.title,
                "kind": it.kind,
                "weight": it.weight,
                "critical": int(it.critical),
                "verdict": it.verdict,
                "auto_verdict": it.verdict,
                "evidence": json.dumps([e.to_dict() for e in it.evidence], ensure_ascii=False),
                "comment": None,
            }
            for n, it in enumerate(sc.items)
        )
        return sid

    def set_item(self, scorecard_id: int, item_id: str, *, verdict: str, comment: str | None, changed_by: str) -> None:
        self._db.execute(
            "update scorecard_items set verdict = ?, comment = ?, changed_by = ?"
            " where scorecard_id = ? and item_id = ?",
            [verdict, comment, changed_by, scorecard_id, item_id],
        )

    def rescore_items(self, scorecard_id: int, items) -> None:
        """The machine's new verdicts and evidence (``core.scoring.ItemResult``s); a verdict a person
        set stays, with the machine's new one beside it in auto_verdict."""
        for it in items:
            self._db.execute(
                "update scorecard_items set auto_verdict = ?, evidence = ?,"
                " verdict = case when changed_by is null then ? else verdict end"
                " where scorecard_id = ? and item_id = ?",
                [
                    it.verdict,
                    json.dumps([e.to_dict() for e in it.evidence], ensure_ascii=False),
                    it.verdict,
                    scorecard_id,
                    it.item_id,
                ],
            )

    def update(self, scorecard_id: int, fields: dict, expect_revision: int | None = None) -> bool:
        """Write the card's fields (state, totals, revision...); with ``expect_revision``, only
        if the card still has it. True when the row was written."""
        sets = ", ".join(f"[{k}] = ?" for k in fields)
        w = Where().add("id = ?", scorecard_id).eq("revision", expect_revision)
        cur = self._db.execute(f"update scorecards set {sets} {w.sql()}", [*fields.values(), *w.args])
        return cur.rowcount == 1

    def for_call(self, call_id: str) -> list[tuple[dict, Scorecard]]:
        """(row, scorecard) for each checklist version that scored the call, newest first."""
        rows = list(
            self._db["scorecards"].rows_where("call_id = ?", [call_id], order_by="checklist_id, checklist_version desc")
        )
        items: dict[int, list[dict]] = {r["id"]: [] for r in rows}
        if rows:
            ids = list(items)
            for it in self._db["scorecard_items"].rows_where(
                f"scorecard_id in ({marks(ids)})", ids, order_by="position"
            ):
                items[it["scorecard_id"]].append(it)
        return [(r, from_rows(r, items[r["id"]])) for r in rows]

    def latest_by_call(self, month: str | None = None) -> list[dict]:
        """(call_id, score, status, operator) of every scorecard, oldest checklist version first."""
        w = Where().month("c.started_at", month)
        return list(
            self._db.query(
                f"""select s.call_id, s.score, s.status, c.operator
                from scorecards s join calls c on c.call_id = s.call_id
                {w.sql()} order by s.checklist_version""",
                w.args,
            )
        )

    def queue(
        self,
        *,
        states,
        operator: str | None = None,
        checklist: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        max_score: float | None = None,
        critical_only: bool = False,
        assignee: str | None = None,
        operators=None,
    ) -> list[dict]:
        """Scorecards to review, oldest call first; the filters run in SQL.

        ``assignee``: cards assigned to this user or to nobody. ``operators``:
        only these operators' calls (None: everyone's).
        """
        w = (
            Where()
            .among("s.status", states)
            .eq("c.operator", operator)
            .eq("s.checklist_id", checklist)
            .add("substr(c.started_at, 1, 10) >= ?", date_from, when=bool(date_from))
            .add("substr(c.started_at, 1, 10) <= ?", date_to, when=bool(date_to))
            .add("s.score is not null and s.score <= ?", max_score, when=max_score is not None)
            .add("s.critical_failed = 1", when=critical_only)
            .add("(s.assignee is null or s.assignee = '' or s.assignee = ?)", assignee, when=assignee is not None)
            .among("c.operator", operators)
        )
        return list(
            self._db.query(
                f"""select s.*, c.operator, c.started_at, c.channel, c.duration_s from scorecards s
                join calls c on c.call_id = s.call_id {w.sql()} order by c.started_at""",
                w.args,
            )
        )

    def assign_call(self, call_id: str, assignee: str, states) -> None:
        states = list(states)
        self._db.execute(
            f"update scorecards set assignee = ? where call_id = ? and status in ({marks(states)})",
            [assignee, call_id, *states],
        )

    def export_rows(self) -> list[dict]:
        """One row per call × item of every scorecard, for export."""
        return list(
            self._db.query("""
            select c.call_id, c.operator, c.started_at, c.channel, c.direction,
                   s.checklist_id, s.checklist_version, s.score, s.provisional,
                   s.critical_failed, s.passed, s.status,
                   i.section_id, i.item_id, i.title as item_title, i.kind, i.weight,
                   i.critical, i.verdict, i.evidence
            from scorecard_items i
            join scorecards s on s.id = i.scorecard_id
            join calls c on c.call_id = s.call_id
            order by c.call_id, s.checklist_id, s.checklist_version, i.position
        """)
        )

    def verdicts_since(self, operator: str, since: str, item_ids: list[str], states) -> list[str]:
        """Verdicts of these items on the operator's cards finalized since ``since``."""
        states = list(states)
        return [
            r[0]
            for r in self._db.execute(
                f"""select i.verdict from scorecard_items i join scorecards s on s.id = i.scorecard_id
                join calls c on c.call_id = s.call_id
                where c.operator = ? and s.status in ({marks(states)})
                and s.finalized_at >= ? and i.item_id in ({marks(item_ids)})""",
                [operator, *states, since, *item_ids],
            ).fetchall()
        ]

    def auto_verdicts(self, checklist_id: str, pairs) -> dict[tuple[str, str], str]:
        """{(call, item): the machine's verdict} on the newest version of the checklist that has the item."""
        pairs = set(pairs)
        if not pairs:
            return {}
        calls = sorted({c for c, _ in pairs})
        items = sorted({i for _, i in pairs})
        out = {}
        for row in self._db.query(  # one query; oldest version first, so the newest one is kept
            f"""select s.call_id, i.item_id, i.auto_verdict from scorecard_items i
                join scorecards s on s.id = i.scorecard_id
                where s.checklist_id = ? and s.call_id in ({marks(calls)}) and i.item_id in ({marks(items)})
                order by s.checklist_version""",
            [checklist_id, *calls, *items],
        ):
            if (row["call_id"], row["item_id"]) in pairs:
                out[(row["call_id"], row["item_id"])] = row["auto_verdict"]
        return out
