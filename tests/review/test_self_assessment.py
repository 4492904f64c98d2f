"""An operator assesses their own call blind, before the supervisor finalizes, and not after."""

import pytest

from qa_review.core.errors import InvalidTransition, PermissionDenied, QAReviewError
from qa_review.services import review, scoring, self_assessment
from tests.review.conftest import T0


def all_items(world, verdict="pass"):
    return {i["item_id"]: verdict for i in world.db.scorecards.items(world.card)}


def test_blind_before_final_side_by_side_after_and_closed_once_final(world):
    (form,) = self_assessment.forms(world.db, world.anna, "chat-anna")
    assert form.scorecard_id == world.card and form.mine == {}
    assert all(len(item) == 2 for item in form.items)  # ids and titles: nothing of the machine's verdicts
    mine = all_items(world) | {"tone": "fail"}
    self_assessment.submit(world.db, world.anna, world.card, mine, "грубовато вышло")
    # while it is open, anna sees neither the scorecard nor the comparison
    assert scoring.scorecards(world.db, world.anna, "chat-anna") == []
    with pytest.raises(PermissionDenied):
        self_assessment.side_by_side(world.db, world.anna, world.card)
    # her supervisor sees it while reviewing: the review is a conversation
    during = self_assessment.side_by_side(world.db, world.sup_a, world.card)
    assert during.set_index("item_id").loc["tone", "own"] == "fail"

    rev = review.set_verdict(world.db, world.sup_a, world.card, "tone", "pass", "ok", None, now=T0)
    review.finalize(world.db, world.sup_a, world.card, rev, now=T0)
    with pytest.raises(InvalidTransition, match="before the supervisor finalizes"):
        self_assessment.submit(world.db, world.anna, world.card, all_items(world))
    assert self_assessment.forms(world.db, world.anna, "chat-anna") == []
    after = self_assessment.side_by_side(world.db, world.anna, world.card).set_index("item_id")
    assert after.loc["tone", "own"] == "fail" and after.loc["tone", "final"] == "pass"
    month = self_assessment.closeness(world.db, world.anna, world.settings)
    n = len(mine)
    assert list(month["month"]) == ["2026-11"] and month.loc[0, "items"] == n
    same = sum(mine[i] == after.loc[i, "final"] for i in mine)
    assert month.loc[0, "agreement"] == pytest.approx(round(same / n, 3)) and same < n
    actions = [e["action"] for e in world.db.audit.for_call("chat-anna")]
    assert actions.count("self_assessed") == 1


def test_only_the_operator_of_the_call_assesses_it_and_every_item_is_needed(world):
    for who in ("petr", "sup_a", "trainer"):
        with pytest.raises(PermissionDenied):
            self_assessment.submit(world.db, getattr(world, who), world.card, all_items(world))
    with pytest.raises(PermissionDenied):
        self_assessment.forms(world.db, world.petr, "chat-anna")
    partial = all_items(world)
    partial.pop(next(iter(partial)))
    with pytest.raises(QAReviewError, match="no verdict for"):
        self_assessment.submit(world.db, world.anna, world.card, partial)
    with pytest.raises(QAReviewError, match="'maybe' is not one of pass, fail, na"):
        self_assessment.submit(world.db, world.anna, world.card, all_items(world, "maybe"))
    assert self_assessment.side_by_side(world.db, world.sup_a, world.card) is None  # nothing was stored
