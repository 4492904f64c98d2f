"""What leaves through an export: only calls the asker may read, masked unless an admin asks otherwise (audited)."""

import json

import pytest

from qa_review.core.errors import PermissionDenied
from qa_review.services import exports, review


def call_ids(text):
    return {r["call_id"] for r in json.loads(text)}


def test_each_export_holds_only_the_calls_the_asker_may_read(world):
    assert call_ids(exports.export_transcripts(world.db, world.admin)) == {"chat-anna", "chat-petr"}
    assert call_ids(exports.export_transcripts(world.db, world.sup_a)) == {"chat-anna"}
    assert call_ids(exports.export_scores(world.db, world.sup_b, "json")) == {"chat-petr"}
    with pytest.raises(PermissionDenied):
        exports.export_transcripts(world.db, world.sup_a, "json", "chat-petr")
    for who in (world.anna, world.petr):
        with pytest.raises(PermissionDenied):
            exports.export_transcripts(world.db, who)
        with pytest.raises(PermissionDenied):
            exports.export_scores(world.db, who)


def test_comments_in_the_audit_export_are_masked_by_default(world):
    review.set_verdict(world.db, world.sup_a, world.card, "tone", "fail", "клиентка оставила 8 916 123-45-67", None)
    masked = exports.export_audit(world.db, world.sup_a, "json")
    assert "123-45-67" not in masked and "[телефон]" in masked


def test_only_an_admin_exports_in_clear_and_the_audit_records_it(world):
    review.set_verdict(world.db, world.sup_a, world.card, "tone", "fail", "перезвонить 8 916 123-45-67", None)
    for who in (world.sup_a, world.trainer):
        with pytest.raises(PermissionDenied) as e:
            exports.export_transcripts(world.db, who, "json", redact=False)
        assert "--no-redact" in str(e.value)
    with pytest.raises(PermissionDenied):
        exports.export_audit(world.db, world.sup_a, "json", redact=False)
    clear = exports.export_audit(world.db, world.admin, "json", redact=False)
    assert "8 916 123-45-67" in clear
    (entry,) = [
        a for a in json.loads(exports.export_audit(world.db, world.admin, "json")) if a["action"] == "export_unredacted"
    ]
    assert entry["username"] == "admin" and entry["target"] == "the audit"
