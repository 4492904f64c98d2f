"""Calibration sessions: reviewers score the same calls blind, then agree.

The statistics are pure: percent agreement, Cohen's kappa (two reviewers),
Fleiss' kappa (any number), and each reviewer's deviation from the
consensus. The session's agreed verdicts become reference verdicts for
measuring the automatic scoring.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from itertools import combinations

from sqlite_utils import Database

from qa_review.core.agreement import compare
from qa_review.core.errors import InvalidTransition, NotFound, PermissionDenied, QAReviewError
from qa_review.core.permissions import ADMIN, SUPERVISOR, User
from qa_review.core.scoring import VERDICTS
from qa_review.storage import store

# --- statistics (pure) ------------------------------------------------------------

Ratings = dict[tuple[str, str], dict[str, str]]  # (call, item) -> reviewer -> verdict


def percent_agreement(votes: list[list[str]]) -> float | None:
    """Share of agreeing reviewer pairs, over every subject with two or more votes."""
    agree = pairs = 0
    for v in votes:
        for a, b in combinations(v, 2):
            pairs += 1
            agree += a == b
    return agree / pairs if pairs else None


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    if len(a) != len(b) or not a:
        return None
    n = len(a)
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[c] * cb[c] for c in set(ca) | set(cb)) / (n * n)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def fleiss_kappa(votes: list[list[str]]) -> float | None:
    """Subjects rated by the same number (≥ 2) of raters; others are left out."""
    if not votes:
        return None
    n = max(len(v) for v in votes)
    votes = [v for v in votes if len(v) == n]
    if n < 2 or not votes:
        return None
    big_n = len(votes)
    cats = sorted({c for v in votes for c in v})
    counts = [Counter(v) for v in votes]
    p_j = [sum(c[cat] for c in counts) / (big_n * n) for cat in cats]
    p_i = [(sum(x * x for x in c.values()) - n) / (n * (n - 1)) for c in counts]
    p_bar = sum(p_i) / big_n
    pe = sum(p * p for p in p_j)
    return 1.0 if pe == 1 else (p_bar - pe) / (1 - pe)


def consensus(votes: dict[str, str]) -> str | None:
    """The majority verdict, or None on a tie."""
    top = Counter(votes.values()).most_common(2)
    if not top or (len(top) > 1 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


@dataclass
class Report:
    items: list[dict]  # item, calls, percent_agreement, kappa, spread
    reviewers: list[dict]  # reviewer, rated, deviation (share differing from consensus)


def report(ratings: Ratings) -> Report:
    by_item: dict[str, list[dict[str, str]]] = {}
    for (_call, item), votes in ratings.items():
        by_item.setdefault(item, []).append(votes)
    items = []
    for item, subjects in sorted(by_item.items()):
        lists = [list(v.values()) for v in subjects]
        reviewers = sorted({r for v in subjects for r in v})
        kappa = None
        if len(reviewers) == 2:
            both = [v for v in subjects if len(v) == 2]
            kappa = cohen_kappa([v[reviewers[0]] for v in both], [v[reviewers[1]] for v in both])
        else:
            kappa = fleiss_kappa(lists)
        items.append(
            {
                "item": item,
                "calls": len(subjects),
                "percent_agreement": percent_agreement(lists),
                "kappa": kappa,
                "spread": sum(len(set(v)) > 1 for v in lists),  # calls where reviewers disagreed
            }
        )
    dev: dict[str, list[int]] = {}
    for votes in ratings.values():
        c = consensus(votes)
        if c is None:
            continue
        for r, v in votes.items():
            d = dev.setdefault(r, [0, 0])
            d[0] += v != c
            d[1] += 1
    reviewers = [{"reviewer": r, "rated": n, "deviation": k / n} for r, (k, n) in sorted(dev.items())]
    return Report(items, reviewers)


# --- sessions (service) ------------------------------------------------------------


def _session(db: Database, session_id: int) -> dict:
    rows = list(db["calibrations"].rows_where("id = ?", [session_id], limit=1))
    if not rows:
        raise NotFound(f"no calibration session {session_id}")
    return rows[0]


def _reviewers(db: Database, session_id: int) -> list[str]:
    return [r["username"] for r in db["calibration_reviewers"].rows_where("calibration_id = ?", [session_id])]


def create(db: Database, user: User, title: str, checklist_id: str, call_ids: list[str], reviewers: list[str]) -> int:
    if user.role not in (SUPERVISOR, ADMIN):
        raise PermissionDenied(f"{user.username} ({user.role}) may not lead a calibration session")
    if not call_ids or len(reviewers) < 2:
        raise QAReviewError("a calibration needs at least one call and two reviewers")
    for cid in call_ids:
        store.get_call(db, cid)
    sid = (
        db["calibrations"]
        .insert(
            {
                "title": title,
                "checklist_id": checklist_id,
                "lead": user.username,
                "created_at": store.now_iso(),
                "closed_at": None,
            }
        )
        .last_pk
    )
    db["calibration_calls"].insert_all({"calibration_id": sid, "call_id": c} for c in call_ids)
    db["calibration_reviewers"].insert_all({"calibration_id": sid, "username": r} for r in reviewers)
    return sid


def sessions_for(db: Database, user: User) -> list[dict]:
    out = []
    for s in db["calibrations"].rows_where(order_by="id desc"):
        if s["lead"] == user.username or user.username in _reviewers(db, s["id"]):
            out.append(
                {
                    **s,
                    "calls": [
                        r["call_id"] for r in db["calibration_calls"].rows_where("calibration_id = ?", [s["id"]])
                    ],
                }
            )
    return out


def rate(db: Database, user: User, session_id: int, call_id: str, item_id: str, verdict: str) -> None:
    s = _session(db, session_id)
    if user.username not in _reviewers(db, session_id):
        raise PermissionDenied(f"{user.username} is not a reviewer of calibration {session_id}")
    if s["closed_at"]:
        raise InvalidTransition(f"calibration {session_id} is closed")
    if verdict not in VERDICTS or verdict == "review":
        raise QAReviewError(f"verdict {verdict!r}: use pass, fail or na")
    db["calibration_verdicts"].upsert(
        {
            "calibration_id": session_id,
            "call_id": call_id,
            "item_id": item_id,
            "reviewer": user.username,
            "verdict": verdict,
            "at": store.now_iso(),
        },
        pk=("calibration_id", "call_id", "item_id", "reviewer"),
    )


def my_verdicts(db: Database, user: User, session_id: int) -> dict[tuple[str, str], str]:
    """Blind scoring: a reviewer sees only their own verdicts."""
    return {
        (r["call_id"], r["item_id"]): r["verdict"]
        for r in db["calibration_verdicts"].rows_where(
            "calibration_id = ? and reviewer = ?", [session_id, user.username]
        )
    }


def ratings(db: Database, user: User, session_id: int) -> Ratings:
    s = _session(db, session_id)
    if user.username != s["lead"]:
        raise PermissionDenied("only the session's lead sees everyone's verdicts (scoring is blind)")
    out: Ratings = {}
    for r in db["calibration_verdicts"].rows_where("calibration_id = ?", [session_id]):
        out.setdefault((r["call_id"], r["item_id"]), {})[r["reviewer"]] = r["verdict"]
    return out


def agree(db: Database, user: User, session_id: int, verdicts: dict[tuple[str, str], str]) -> None:
    """The lead records the agreed verdicts and closes the session."""
    s = _session(db, session_id)
    if user.username != s["lead"]:
        raise PermissionDenied("only the session's lead records the agreed verdicts")
    db["calibration_agreed"].upsert_all(
        [
            {"calibration_id": session_id, "call_id": c, "item_id": i, "verdict": v, "at": store.now_iso()}
            for (c, i), v in verdicts.items()
        ],
        pk=("calibration_id", "call_id", "item_id"),
    )
    db["calibrations"].update(session_id, {"closed_at": store.now_iso()})


def automatic_vs_agreed(db: Database, session_id: int):
    """How the automatic verdicts compare with the agreed reference verdicts."""
    s = _session(db, session_id)
    ref = {
        (r["call_id"], r["item_id"]): r["verdict"]
        for r in db["calibration_agreed"].rows_where("calibration_id = ?", [session_id])
    }
    auto = {}
    for call_id, item_id in ref:
        for row in db.query(
            """select i.auto_verdict from scorecard_items i join scorecards s on s.id = i.scorecard_id
               where s.call_id = ? and s.checklist_id = ? and i.item_id = ?
               order by s.checklist_version desc limit 1""",
            [call_id, s["checklist_id"], item_id],
        ):
            auto[(call_id, item_id)] = row["auto_verdict"]
    return compare(auto, ref)
