"""Operators score their own calls first, so the review is a conversation, not a verdict.

Blind: an operator sees a scorecard only once it is published, so the
self-assessment is given without the machine's or the supervisor's verdicts.
It can be given (and changed) while the scorecard is still open, from
automatic scoring until the supervisor finalizes, and not after. Then the
call page shows self and final side by side, and "my month" how close they
were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from qa_review.core.errors import InvalidTransition, PermissionDenied, QAReviewError
from qa_review.core.kpi import month_of
from qa_review.core.permissions import EDITABLE, OPERATOR, PUBLISHED, User, can_dispute, can_read_scorecard
from qa_review.core.scoring import FAIL, NA, PASS
from qa_review.services.settings import Settings
from qa_review.storage import Storage
from qa_review.storage.queries import now_iso

SELF_VERDICTS = (PASS, FAIL, NA)


@dataclass
class Form:
    scorecard_id: int
    checklist_id: str
    items: list[tuple[str, str]]  # (item id, title): no verdicts, the operator judges blind
    mine: dict[str, str]  # what the operator gave so far (empty: nothing yet)
    comment: str | None


def forms(db: Storage, user: User, call_id: str) -> list[Form]:
    """The scorecards of the operator's own call that they may still assess."""
    call = db.calls.get(call_id)
    if not can_dispute(user, call["operator"]):
        raise PermissionDenied(f"{user.username} ({user.role}) may assess only their own calls", code="denied")
    out = []
    seen = set()
    for row, sc in db.scorecards.for_call(call_id):  # newest checklist version first
        if row["checklist_id"] in seen:
            continue
        seen.add(row["checklist_id"])
        if row["status"] not in EDITABLE:
            continue
        given = db.scorecards.self_assessment(call_id, row["checklist_id"])
        out.append(
            Form(
                row["id"],
                row["checklist_id"],
                [(i.item_id, i.title) for i in sc.items],
                given["verdicts"] if given else {},
                given["comment"] if given else None,
            )
        )
    return out


def submit(
    db: Storage,
    user: User,
    scorecard_id: int,
    verdicts: dict[str, str],
    comment: str | None = None,
    now: datetime | None = None,
) -> None:
    """Store the operator's verdicts on every item of the scorecard (again: replaced); audited."""
    row = db.scorecards.get(scorecard_id)
    call = db.calls.get(row["call_id"])
    if not can_dispute(user, call["operator"]):
        raise PermissionDenied(f"{user.username} ({user.role}) may assess only their own calls", code="denied")
    if row["status"] not in EDITABLE:
        raise InvalidTransition(
            f"the scorecard of call {row['call_id']} is already {row['status']}: a self-assessment is given "
            "before the supervisor finalizes",
            code="self_closed",
            call=row["call_id"],
        )
    items = [i["item_id"] for i in db.scorecards.items(scorecard_id)]
    missing = [i for i in items if i not in verdicts]
    unknown = [i for i in verdicts if i not in items]
    wrong = {i: v for i, v in verdicts.items() if v not in SELF_VERDICTS}
    if missing or unknown or wrong:
        parts = []
        if missing:
            parts.append(f"no verdict for {', '.join(missing)}")
        if unknown:
            parts.append(f"no such item: {', '.join(unknown)}")
        if wrong:
            parts.append("; ".join(f"{i}: {v!r} is not one of {', '.join(SELF_VERDICTS)}" for i, v in wrong.items()))
        raise QAReviewError(
            f"self-assessment of call {row['call_id']}: {'; '.join(parts)}", code="self_incomplete", call=row["call_id"]
        )
    at = now.isoformat(timespec="seconds") if now else now_iso()
    with db.atomic():
        db.scorecards.put_self_assessment(
            row["call_id"], row["checklist_id"], call["operator"], {i: verdicts[i] for i in items}, comment, at
        )
        db.audit.write(
            at=at,
            username=user.username,
            action="self_assessed",
            call_id=row["call_id"],
            scorecard_id=scorecard_id,
            target=row["checklist_id"],
            new=", ".join(f"{i}={verdicts[i]}" for i in items),
            reason=comment,
        )


def side_by_side(db: Storage, user: User, scorecard_id: int) -> pd.DataFrame | None:
    """Per item: the operator's own verdict and the scorecard's (None: no self-assessment).

    The operator sees it once the scorecard is published; the call's
    supervisor at any time, to talk it over while reviewing.
    """
    row = db.scorecards.get(scorecard_id)
    call = db.calls.get(row["call_id"])
    team = db.users.operator_team(call["operator"])
    if not can_read_scorecard(user, row["status"], call["operator"], team):
        raise PermissionDenied(f"{user.username} ({user.role}) may not see this scorecard", code="denied")
    given = db.scorecards.self_assessment(row["call_id"], row["checklist_id"])
    if given is None:
        return None
    items = db.scorecards.items(scorecard_id)
    return pd.DataFrame(
        [
            {
                "item_id": i["item_id"],
                "title": i["title"],
                "own": given["verdicts"].get(i["item_id"]),
                "final": i["verdict"],
            }
            for i in items
        ],
        columns=["item_id", "title", "own", "final"],
    )


def closeness(db: Storage, user: User, settings: Settings) -> pd.DataFrame:
    """Per month: the operator's published, self-assessed scorecards and the share of items where
    their verdict was the final one."""
    if user.role != OPERATOR or not user.operator_id:
        raise PermissionDenied(f"{user.username} ({user.role}) has no self-assessments of their own")
    rows = []
    for a in db.scorecards.self_assessed(user.operator_id):
        if a["status"] not in PUBLISHED:
            continue
        final = {i["item_id"]: i["verdict"] for i in db.scorecards.items(a["scorecard_id"])}
        judged = [i for i in a["verdicts"] if i in final]
        rows.append(
            {
                "started_at": a["started_at"],
                "items": len(judged),
                "same": sum(a["verdicts"][i] == final[i] for i in judged),
            }
        )
    df = pd.DataFrame(rows, columns=["started_at", "items", "same"])
    if df.empty:
        return pd.DataFrame(columns=["month", "scorecards", "items", "agreement"])
    df["month"] = month_of(df["started_at"], settings.timezone)
    g = df.groupby("month").agg(scorecards=("items", "size"), items=("items", "sum"), same=("same", "sum"))
    g["agreement"] = (g["same"] / g["items"]).round(3)
    return g.reset_index()[["month", "scorecards", "items", "agreement"]]
