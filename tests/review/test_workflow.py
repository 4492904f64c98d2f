"""Review -> finalize -> dispute -> resolve, through the service layer."""

from dataclasses import replace
from datetime import timedelta

import pytest

from qa_review.core.errors import ConcurrentChange, InvalidTransition, QAReviewError
from qa_review.services import review
from tests.review.conftest import T0


def finalize(w, card=None):
    card = card or w.card
    rev = w.row(card)["revision"]
    rev = review.set_verdict(w.db, w.sup_a, card, "tone", "pass", "вежливо", rev, now=T0)
    return review.finalize(w.db, w.sup_a, card, rev, now=T0)


def test_auto_scorecard_is_provisional_until_manual_items_are_decided(world):
    row = world.row()
    assert row["status"] == "auto" and row["provisional"] == 1
    with pytest.raises(InvalidTransition, match="decide these items before finalizing: tone"):
        review.finalize(world.db, world.sup_a, world.card, row["revision"], now=T0)


def test_changing_a_verdict_needs_a_comment_and_recalculates(world):
    rev = world.row()["revision"]
    with pytest.raises(QAReviewError, match="comment is required"):
        review.set_verdict(world.db, world.sup_a, world.card, "greet", "fail", "", rev)
    rev = review.set_verdict(world.db, world.sup_a, world.card, "greet", "fail", "не назвала себя", rev, now=T0)
    row = world.row()
    assert row["status"] == "in_review" and row["revision"] == rev
    assert row["score"] < 100
    item = next(i for i in world.db.scorecards.items(world.card) if i["item_id"] == "greet")
    assert (item["verdict"], item["auto_verdict"], item["comment"]) == ("fail", "pass", "не назвала себя")


def test_full_cycle_final_dispute_rejected_resolved(world):
    finalize(world)
    assert world.row()["status"] == "final"
    assert [n["kind"] for n in review.notifications(world.db, world.anna)] == ["final"]

    # the operator disputes an item the machine passed; the supervisor rejects: nothing changes
    rev = world.row()["revision"]
    score = world.row()["score"]
    verdict = world.verdict("farewell")
    ids = review.open_disputes(
        world.db, world.anna, world.card, {"farewell": "я попрощалась"}, now=T0 + timedelta(days=1)
    )
    assert world.row()["status"] == "disputed"
    assert any(n["kind"] == "dispute" for n in review.notifications(world.db, world.sup_a))
    assert review.notifications(world.db, world.sup_b) == []  # other team
    assert world.row()["revision"] == rev + 1

    review.resolve_dispute(world.db, world.sup_a, ids[0], False, "пункт уже засчитан, оценка не меняется")
    assert world.row()["status"] == "resolved"
    assert world.verdict("farewell") == verdict and world.row()["score"] == score
    (d,) = review.disputes_of(world.db, world.sup_a, world.card)
    assert (d["status"], d["verdict_before"], d["verdict_after"]) == ("rejected", verdict, verdict)
    assert any(n["kind"] == "resolution" for n in review.notifications(world.db, world.anna))


def test_upheld_dispute_changes_the_verdict_and_the_score(world):
    rev = world.row()["revision"]
    rev = review.set_verdict(world.db, world.sup_a, world.card, "farewell", "fail", "нет прощания", rev, now=T0)
    review.set_verdict(world.db, world.sup_a, world.card, "tone", "pass", "ok", rev, now=T0)
    review.finalize(world.db, world.sup_a, world.card, world.row()["revision"], now=T0)
    before = world.row()["score"]
    (d,) = review.open_disputes(world.db, world.anna, world.card, {"farewell": "написала «Всего доброго!»"}, now=T0)
    review.resolve_dispute(world.db, world.sup_a, d, True, "верно, прощание есть")
    assert world.verdict("farewell") == "pass"
    assert world.row()["score"] > before and world.row()["score"] == 100.0


def test_item_can_be_disputed_once(world):
    finalize(world)
    (d,) = review.open_disputes(world.db, world.anna, world.card, {"greet": "x"}, now=T0)
    review.resolve_dispute(world.db, world.sup_a, d, False, "нет")
    with pytest.raises(InvalidTransition, match="already disputed"):
        review.open_disputes(world.db, world.anna, world.card, {"greet": "ещё раз"}, now=T0)
    # another item is still open to dispute, the history stays
    review.open_disputes(world.db, world.anna, world.card, {"farewell": "y"}, now=T0)
    assert [d["status"] for d in review.disputes_of(world.db, world.sup_a, world.card)] == ["rejected", "open"]


def test_dispute_window(world):
    finalize(world)
    review.open_disputes(world.db, world.anna, world.card, {"greet": "в срок"}, now=T0 + timedelta(days=5))
    with pytest.raises(InvalidTransition, match="dispute window .* closed on 2026-11-15"):
        review.open_disputes(
            world.db, world.anna, world.card, {"farewell": "поздно"}, now=T0 + timedelta(days=5, seconds=1)
        )
    ten_days = replace(world.settings, dispute_window_days=10)
    review.open_disputes(
        world.db, world.anna, world.card, {"farewell": "окно 10 дней"}, settings=ten_days, now=T0 + timedelta(days=6)
    )


def test_the_dispute_window_comes_from_the_environment_for_every_caller(world, monkeypatch):
    finalize(world)
    monkeypatch.setenv("QA_REVIEW_DISPUTE_DAYS", "2")
    with pytest.raises(InvalidTransition, match="2 days after finalization"):
        review.open_disputes(world.db, world.anna, world.card, {"greet": "поздно"}, now=T0 + timedelta(days=3))


def test_refused_transitions(world):
    with pytest.raises(InvalidTransition, match="not final yet"):
        review.open_disputes(world.db, world.anna, world.card, {"greet": "x"}, now=T0)
    finalize(world)
    with pytest.raises(InvalidTransition, match="only before finalization"):
        review.set_verdict(world.db, world.sup_a, world.card, "greet", "fail", "x", world.row()["revision"])
    with pytest.raises(InvalidTransition, match="already final"):
        review.finalize(world.db, world.sup_a, world.card, world.row()["revision"])
    (d,) = review.open_disputes(world.db, world.anna, world.card, {"greet": "x"}, now=T0)
    review.resolve_dispute(world.db, world.sup_a, d, False, "нет")
    with pytest.raises(InvalidTransition, match="already rejected"):
        review.resolve_dispute(world.db, world.sup_a, d, True, "передумал")


def test_second_concurrent_save_is_refused_and_the_first_kept(world):
    loaded = world.row()["revision"]  # both reviewers open the same scorecard
    review.set_verdict(world.db, world.sup_a, world.card, "greet", "fail", "первый", loaded, now=T0)
    with pytest.raises(ConcurrentChange, match="saved by someone else .* reload"):
        review.set_verdict(world.db, world.sup_a, world.card, "farewell", "fail", "второй", loaded, now=T0)
    assert world.verdict("greet") == "fail" and world.verdict("farewell") == "pass"


def test_transcript_correction_keeps_the_asr_text(world):
    review.correct_segment(world.db, world.sup_a, "chat-anna", 1, "Здравствуйте! Клиника «Здоровье», Анна Смирнова.")
    seg = world.db.transcripts.line("chat-anna", 1)
    assert seg["text"].endswith("Анна Смирнова.") and seg["original_text"].startswith("Здравствуйте! Клиника")
    review.correct_segment(world.db, world.sup_a, "chat-anna", 1, "Второе исправление")
    seg = world.db.transcripts.line("chat-anna", 1)
    assert "Анна." in seg["original_text"]  # still the ASR text, not the first correction


def test_audit_trail_records_who_when_old_new_why(world):
    rev = review.set_verdict(
        world.db, world.sup_a, world.card, "greet", "fail", "не представилась", world.row()["revision"], now=T0
    )
    review.set_verdict(world.db, world.sup_a, world.card, "tone", "pass", "ok", rev, now=T0)
    review.finalize(world.db, world.sup_a, world.card, world.row()["revision"], now=T0)
    (d,) = review.open_disputes(world.db, world.anna, world.card, {"greet": "представилась"}, now=T0)
    review.resolve_dispute(world.db, world.sup_a, d, True, "да, представилась", now=T0)
    log = review.audit_for_call(world.db, world.sup_a, "chat-anna")
    assert [(e["username"], e["action"], e["target"], e["old"], e["new"]) for e in log] == [
        ("sup.a", "verdict", "greet", "pass", "fail"),
        ("sup.a", "verdict", "tone", "review", "pass"),
        ("sup.a", "finalize", None, "in_review", "final"),
        ("anna", "dispute", "greet", "fail", None),
        ("sup.a", "uphold", "greet", "fail", "pass"),
    ]
    assert log[0]["reason"] == "не представилась" and log[0]["at"] == T0.isoformat()


def test_review_queue_filters(world):
    queue = review.review_queue(world.db, world.sup_a)
    assert [r["call_id"] for r in queue] == ["chat-anna"]  # team A only
    assert review.review_queue(world.db, world.sup_a, operator="petr.volkov") == []
    assert review.review_queue(world.db, world.sup_a, max_score=50) == []
    assert [r["call_id"] for r in review.review_queue(world.db, world.sup_b, critical_only=False)] == ["chat-petr"]
    finalize(world)
    assert review.review_queue(world.db, world.sup_a) == []
