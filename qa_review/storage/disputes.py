"""Disputes on scorecard items, the audit log of every change, and users' notifications."""

from __future__ import annotations

from dataclasses import dataclass

from sqlite_utils import Database

from qa_review.core.errors import NotFound
from qa_review.storage import schema
from qa_review.storage.queries import Where, one


class Disputes:
    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, dispute_id: int) -> dict:
        return one(self._db, "disputes", "id = ?", [dispute_id], NotFound(f"no dispute {dispute_id}"))

    def of(self, scorecard_id: int) -> list[dict]:
        return list(self._db["disputes"].rows_where("scorecard_id = ?", [scorecard_id], order_by="id"))

    def open(
        self, scorecard_id: int, item_id: str, *, opened_by: str, reason: str, at: str, verdict_before: str
    ) -> int:
        return (
            self._db["disputes"]
            .insert(
                {
                    "scorecard_id": scorecard_id,
                    "item_id": item_id,
                    "opened_by": opened_by,
                    "reason": reason,
                    "opened_at": at,
                    "status": "open",
                    "verdict_before": verdict_before,
                }
            )
            .last_pk
        )

    def close(
        self, dispute_id: int, *, upheld: bool, verdict_after: str, resolved_by: str, at: str, reply: str
    ) -> None:
        self._db["disputes"].update(
            dispute_id,
            {
                "status": "upheld" if upheld else "rejected",
                "verdict_after": verdict_after,
                "resolved_by": resolved_by,
                "resolved_at": at,
                "reply": reply,
            },
        )

    def open_with_calls(self) -> list[dict]:
        """Open disputes with their call and operator, oldest first, in one query."""
        return list(
            self._db.query(
                """select d.*, c.call_id, c.operator from disputes d
               join scorecards s on s.id = d.scorecard_id join calls c on c.call_id = s.call_id
               where d.status = 'open' order by d.opened_at"""
            )
        )


@dataclass(frozen=True)
class ChainCheck:
    entries: int
    broken_at: int | None  # the id of the first entry whose link does not hold
    head: str  # the last link: note it down, and a later check proves nothing before it changed


class Audit:
    """The audit log, each entry chained by hash to the one before it (schema.audit_hash_v1)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def write(
        self,
        *,
        at: str,
        username: str,
        action: str,
        call_id: str | None = None,
        scorecard_id: int | None = None,
        target: str | None = None,
        old=None,
        new=None,
        reason: str | None = None,
    ) -> None:
        entry = {
            "at": at,
            "username": username,
            "action": action,
            "call_id": call_id,
            "scorecard_id": scorecard_id,
            "target": target,
            "old": None if old is None else str(old),
            "new": None if new is None else str(new),
            "reason": reason,
        }
        conn = self._db.conn
        own = not conn.in_transaction
        if own:  # the link must follow the last one: no other writer in between
            conn.execute("BEGIN IMMEDIATE")
        try:
            last = conn.execute("select hash from audit_log order by id desc limit 1").fetchone()
            entry["hash"] = schema.audit_hash_v1(last[0] if last else schema.AUDIT_GENESIS, entry)
            self._db["audit_log"].insert(entry)
            if own:
                conn.execute("COMMIT")
        except BaseException:
            if own and conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def verify(self) -> ChainCheck:
        """Recompute the chain from the first entry; the first that does not match is where it was changed."""
        prev, n = schema.AUDIT_GENESIS, 0
        cur = self._db.execute(f"select id, hash, {', '.join(schema.AUDIT_FIELDS)} from audit_log order by id")
        for row in cur:
            n += 1
            expected = schema.audit_hash_v1(prev, dict(zip(schema.AUDIT_FIELDS, row[2:], strict=True)))
            if row[1] != expected:
                return ChainCheck(n, row[0], prev)
            prev = expected
        return ChainCheck(n, None, prev)

    def for_call(self, call_id: str) -> list[dict]:
        return list(self._db["audit_log"].rows_where("call_id = ?", [call_id], order_by="id"))

    def with_operators(self) -> list[dict]:
        """Every entry with the operator of its call (None for entries about no call), in one query."""
        return list(
            self._db.query(
                """select a.*, c.operator as call_operator from audit_log a
               left join calls c on c.call_id = a.call_id order by a.id"""
            )
        )


class Notifications:
    def __init__(self, db: Database) -> None:
        self._db = db

    def send(self, usernames: list[str], *, kind: str, call_id: str, scorecard_id: int, text: str, at: str) -> None:
        self._db["notifications"].insert_all(
            {
                "username": u,
                "kind": kind,
                "call_id": call_id,
                "scorecard_id": scorecard_id,
                "text": text,
                "created_at": at,
                "read_at": None,
            }
            for u in usernames
        )

    def of(self, username: str, unread_only: bool = True) -> list[dict]:
        w = Where().eq("username", username).add("read_at is null", when=unread_only)
        return list(self._db["notifications"].rows_where(w.clause(), w.args, order_by="id desc"))

    def mark_read(self, username: str, at: str, ids: list[int] | None = None) -> None:
        w = Where().eq("username", username).add("read_at is null").among("id", ids)
        self._db.execute(f"update notifications set read_at = ? {w.sql()}", [at, *w.args])
