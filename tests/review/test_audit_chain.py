"""The audit log is tamper-evident: a changed, removed or moved entry is found, by number."""

import sqlite3

import pytest
from sqlite_utils import Database

from qa_review.core.errors import PermissionDenied
from qa_review.services import audit, review
from qa_review.storage import open_storage
from qa_review.storage.schema import migrations
from tests.cli_runner import invoke


def some_history(world):
    card = world.card
    review.set_verdict(world.db, world.sup_a, card, "tone", "fail", "грубо", None)
    review.set_verdict(world.db, world.sup_a, card, "tone", "pass", "передумал", None)
    review.set_feedback(world.db, world.sup_a, card, "молодец", None)
    review.finalize(world.db, world.sup_a, card, None)
    return [a["id"] for a in world.db.audit.for_call("chat-anna")]


def test_an_untouched_log_verifies_and_names_its_head(world):
    ids = some_history(world)
    check = audit.verify(world.db, world.admin)
    assert check.broken_at is None and check.entries >= len(ids) >= 4 and len(check.head) == 64
    with pytest.raises(PermissionDenied):
        audit.verify(world.db, world.sup_a)


@pytest.mark.parametrize(
    "tamper, broken",
    [
        ("update audit_log set new = 'fail' where id = {2}", 2),  # a verdict rewritten
        ("update audit_log set username = 'sup.b' where id = {1}", 1),  # blamed on someone else
        ("delete from audit_log where id = {2}", 3),  # an entry removed: the next one no longer links
        ("update audit_log set at = '2020-01-01T00:00:00+00:00' where id = {3}", 3),
    ],
)
def test_a_tampered_entry_is_found(world, tamper, broken):
    ids = some_history(world)
    conn = sqlite3.connect(world.settings.db_path)
    conn.execute(tamper.format(*[None, *ids]))  # {1} is the first entry of the call, {2} the second...
    conn.commit()
    check = audit.verify(world.db, world.admin)
    assert check.broken_at == ids[broken - 1]


def test_the_cli_says_where_the_chain_breaks(world):
    ids = some_history(world)
    db = world.settings.db_path
    ok = invoke("--db", db, "audit", "verify")
    assert ok.exit_code == 0 and "chain intact" in ok.output
    with sqlite3.connect(db) as conn:
        conn.execute("update audit_log set reason = 'подправлено' where id = ?", [ids[1]])
    bad = invoke("--db", db, "audit", "verify")
    assert bad.exit_code == 1 and f"BROKEN at entry {ids[1]}" in bad.output


def test_a_database_from_before_the_chain_gets_it_back_filled(tmp_path):
    path = tmp_path / "old.db"
    old = Database(path)
    migrations.apply(old, stop_before="m013_audit_chain")
    old["audit_log"].insert_all(
        {"at": f"2026-11-0{i}T10:00:00+03:00", "username": "sup", "action": "verdict", "old": "pass", "new": "fail"}
        for i in range(1, 6)
    )
    old.conn.close()
    db = open_storage(path)  # the upgrade
    assert db.audit.verify().entries == 5 and db.audit.verify().broken_at is None
    db.audit.write(
        at="2026-11-24T10:00:00+03:00",
        username="sup",
        action="verdict",
        call_id=None,
        scorecard_id=None,
        target=None,
        old="fail",
        new="pass",
        reason=None,
    )  # new entries link onto the back-filled chain
    assert db.audit.verify().entries == 6 and db.audit.verify().broken_at is None
