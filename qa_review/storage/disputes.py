"""Disputes on scorecard items, the audit log of every change, and users' notifications."""

from __future__ import annotations

from sqlite_utils import Database

from qa_review.core.errors import NotFound
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


class Audit:
    def __init__(self, db: Database) -> None:
        self._db = db

    def write(
        self,
        *,
        at: str,
        username: str,
        action: str,
        call_id: str | None,
        scorecard_id: int | None,
        target: str | None,
        old,
        new,
        reason: str | None,
    ) -> None:
        self._db["audit_log"].insert(
            {
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
        )

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
