from datetime import date, timedelta

import pytest

from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.goals import progress
from qa_review.services import coaching, review
from tests.review.conftest import T0


@pytest.mark.parametrize(
    "verdicts, today, state, rate",
    [
        ([], date(2026, 11, 20), "not_started", None),
        (["pass", "fail", "na"], date(2026, 11, 20), "in_progress", 0.5),
        (["pass", "pass", "pass", "fail"], date(2026, 11, 20), "in_progress", 0.75),
        (
            ["pass", "pass", "pass", "pass", "pass", "pass", "pass", "pass", "pass", "fail"],
            date(2026, 11, 20),
            "achieved",
            0.9,
        ),
        (["fail"], date(2026, 12, 2), "overdue", 0.0),
    ],
)
def test_progress_on_hand_built_verdicts(verdicts, today, state, rate):
    p = progress(verdicts, 0.9, date(2026, 12, 1), today)
    assert p.state == state and p.rate == rate


def test_goal_progress_from_scorecards_after_it_was_set(world):
    due = date.today() + timedelta(days=30)
    gid = coaching.set_goal(world.db, world.sup_a, "anna.smirnova", ["farewell"], 1.0, due, "прощаться всегда")
    (g,) = coaching.goals(world.db, world.anna)
    assert g["id"] == gid and g["state"] == "not_started"
    rev = review.set_verdict(world.db, world.sup_a, world.card, "tone", "pass", "ok", world.row()["revision"])
    review.finalize(world.db, world.sup_a, world.card, rev)  # finalized now: after the goal
    (g,) = coaching.goals(world.db, world.sup_a)
    assert (g["decided"], g["passed"], g["state"]) == (1, 1, "achieved")
    assert coaching.goals(world.db, world.petr) == [] and coaching.goals(world.db, world.sup_b) == []


def test_who_may_set_goals_and_bad_goals(world):
    due = date.today() + timedelta(days=7)
    for u in (world.sup_b, world.anna, world.trainer, world.admin):
        with pytest.raises(PermissionDenied):
            coaching.set_goal(world.db, u, "anna.smirnova", ["greet"], 0.9, due)
    with pytest.raises(QAReviewError, match="between 0 and 1"):
        coaching.set_goal(world.db, world.sup_a, "anna.smirnova", ["greet"], 90, due)
    with pytest.raises(QAReviewError, match="not in the future"):
        coaching.set_goal(world.db, world.sup_a, "anna.smirnova", ["greet"], 0.9, T0.date())
