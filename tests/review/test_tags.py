"""Tags on a call: who may set them, what is audited, and that search finds the call by its new tag."""

import pytest

from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.services import search, tags


def test_a_supervisor_tags_their_teams_call_and_every_change_is_audited(world):
    assert tags.set_tags(world.db, world.sup_a, "chat-anna", ["complaint", " хороший  пример ", "complaint"]) == [
        "complaint",
        "хороший пример",
    ]
    assert world.db.calls.get("chat-anna")["tags"] == ["complaint", "хороший пример"]
    tags.set_tags(world.db, world.trainer, "chat-anna", ["хороший пример", "обучение"])
    entries = [(e["username"], e["action"], e["target"]) for e in world.db.audit.for_call("chat-anna")]
    assert entries[-4:] == [
        ("sup.a", "tag_added", "complaint"),
        ("sup.a", "tag_added", "хороший пример"),
        ("trainer", "tag_added", "обучение"),
        ("trainer", "tag_removed", "complaint"),
    ]
    hits = search.search(world.db, world.sup_a, "окулисту", tag="обучение")
    assert {h.call_id for h in hits} == {"chat-anna"}


@pytest.mark.parametrize("who", ["sup_b", "anna", "petr", "admin"])
def test_others_may_not_tag(world, who):
    with pytest.raises(PermissionDenied):
        tags.set_tags(world.db, getattr(world, who), "chat-anna", ["x"])
    assert world.db.calls.get("chat-anna")["tags"] == []


def test_a_tag_with_a_separator_or_too_long_is_refused_and_nothing_changes(world):
    for bad in ("a,b", "x" * 41, "   "):
        with pytest.raises(QAReviewError):
            tags.set_tags(world.db, world.sup_a, "chat-anna", ["ok", bad])
    assert world.db.calls.get("chat-anna")["tags"] == []


def test_the_tag_picker_offers_only_tags_of_calls_one_may_read(world):
    tags.set_tags(world.db, world.sup_a, "chat-anna", ["a-only"])
    tags.set_tags(world.db, world.sup_b, "chat-petr", ["b-only"])
    assert tags.known_tags(world.db, world.sup_b) == ["b-only"]
    assert tags.known_tags(world.db, world.trainer) == ["a-only", "b-only"]
