"""Calibration sessions: their calls, reviewers, blind verdicts and the agreed ones."""

from __future__ import annotations

import json

from sqlite_utils import Database

from qa_review.core.errors import NotFound
from qa_review.storage.queries import Where, now_iso, one


class Calibration:
    def __init__(self, db: Database) -> None:
        self._db = db

    def session(self, session_id: int) -> dict:
        missing = NotFound(f"no calibration session {session_id}")
        return one(self._db, "calibrations", "id = ?", [session_id], missing)

    def create(self, title: str, checklist_id: str, lead: str, call_ids: list[str], reviewers: list[str]) -> int:
        sid = (
            self._db["calibrations"]
            .insert(
                {"title": title, "checklist_id": checklist_id, "lead": lead, "created_at": now_iso(), "closed_at": None}
            )
            .last_pk
        )
        self._db["calibration_calls"].insert_all({"calibration_id": sid, "call_id": c} for c in call_ids)
        self._db["calibration_reviewers"].insert_all({"calibration_id": sid, "username": r} for r in reviewers)
        return sid

    def reviewers(self, session_id: int) -> list[str]:
        rows = self._db["calibration_reviewers"].rows_where("calibration_id = ?", [session_id])
        return [r["username"] for r in rows]

    def sessions_of(self, username: str) -> list[dict]:
        """Sessions the user leads or reviews in, newest first, with their calls and reviewers, in one query."""
        rows = self._db.query(
            """select c.*, (select json_group_array(call_id) from calibration_calls k
                            where k.calibration_id = c.id) as call_ids,
                      (select json_group_array(username) from calibration_reviewers r
                       where r.calibration_id = c.id) as reviewer_names
               from calibrations c
               where c.lead = ? or exists (select 1 from calibration_reviewers r
                                           where r.calibration_id = c.id and r.username = ?)
               order by c.id desc""",
            [username, username],
        )
        return [
            {
                **{k: v for k, v in r.items() if k not in ("call_ids", "reviewer_names")},
                "calls": json.loads(r["call_ids"] or "[]"),
                "reviewers": sorted(json.loads(r["reviewer_names"] or "[]")),
            }
            for r in rows
        ]

    def rate(self, session_id: int, call_id: str, item_id: str, reviewer: str, verdict: str) -> None:
        self._db["calibration_verdicts"].upsert(
            {
                "calibration_id": session_id,
                "call_id": call_id,
                "item_id": item_id,
                "reviewer": reviewer,
                "verdict": verdict,
                "at": now_iso(),
            },
            pk=("calibration_id", "call_id", "item_id", "reviewer"),
        )

    def verdicts(self, session_id: int, reviewer: str | None = None) -> list[dict]:
        w = Where().add("calibration_id = ?", session_id).add("reviewer = ?", reviewer, when=reviewer is not None)
        return list(self._db["calibration_verdicts"].rows_where(w.clause(), w.args))

    def agree(self, session_id: int, verdicts: dict[tuple[str, str], str]) -> None:
        """Record the agreed verdicts and close the session."""
        self._db["calibration_agreed"].upsert_all(
            [
                {"calibration_id": session_id, "call_id": c, "item_id": i, "verdict": v, "at": now_iso()}
                for (c, i), v in verdicts.items()
            ],
            pk=("calibration_id", "call_id", "item_id"),
        )
        self._db["calibrations"].update(session_id, {"closed_at": now_iso()})

    def agreed(self, session_id: int) -> dict[tuple[str, str], str]:
        rows = self._db["calibration_agreed"].rows_where("calibration_id = ?", [session_id])
        return {(r["call_id"], r["item_id"]): r["verdict"] for r in rows}
