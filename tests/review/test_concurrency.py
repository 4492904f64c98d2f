"""Two people saving one scorecard at the same moment: one wins, the other is told, nothing is lost."""

import multiprocessing as mp

import pytest

from qa_review.core.errors import Busy, ConcurrentChange
from qa_review.core.permissions import User
from qa_review.services import accounts, review
from qa_review.storage import open_storage
from tests.review.conftest import World

ROUNDS = 25


def racer(path, who, verdict, card, barrier, results):
    """Each round: load the card, wait for the other, save a verdict on the loaded revision."""
    db = open_storage(path)
    user = User(*who)
    for n in range(ROUNDS):
        revision = db.scorecards.get(card)["revision"]
        barrier.wait(timeout=60)
        try:
            review.set_verdict(db, user, card, "tone", verdict, f"round {n}", revision)
            results.put((n, who[0], "saved"))
        except ConcurrentChange:
            results.put((n, who[0], "refused"))
        except Busy:
            results.put((n, who[0], "busy"))
        except Exception as e:  # reported, so the test says what broke instead of hanging
            results.put((n, who[0], repr(e)))
        barrier.wait(timeout=60)  # both done before the next load
    db.close()


def test_racing_saves_one_wins_each_round_and_the_audit_is_exact(tmp_path):
    w = World(tmp_path)
    accounts.add_user(w.db, w.admin, "sup.a2", "password-a2", "supervisor", team="A")
    card = w.card
    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    people = [
        (("sup.a", "supervisor", "", "A"), "fail"),
        (("sup.a2", "supervisor", "", "A"), "pass"),
    ]
    procs = [
        ctx.Process(target=racer, args=(w.settings.db_path, who, verdict, card, barrier, results))
        for who, verdict in people
    ]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=120) for _ in range(2 * ROUNDS)]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    by_round = {}
    for n, who, outcome in outcomes:
        by_round.setdefault(n, {})[who] = outcome
    assert all(sorted(r.values()) == ["refused", "saved"] for r in by_round.values()), by_round

    # The audit has one entry per round, by the winner, and each records the
    # verdict the previous round's winner left as its old value.
    verdicts = [a for a in w.db.audit.for_call("chat-anna") if a["action"] == "verdict"]
    assert len(verdicts) == ROUNDS
    winners = [next(who for who, o in by_round[n].items() if o == "saved") for n in range(ROUNDS)]
    assert [a["username"] for a in verdicts] == winners
    for before, after in zip(verdicts, verdicts[1:]):
        assert after["old"] == before["new"]
    assert w.row(card)["revision"] == 1 + ROUNDS
    assert w.verdict("tone") == verdicts[-1]["new"]


def test_a_save_on_a_stale_revision_is_refused_and_changes_nothing(world):
    card = world.card
    loaded = world.row(card)["revision"]
    review.set_verdict(world.db, world.sup_a, card, "tone", "fail", "rude", loaded)
    before = (world.row(card), world.verdict("tone"), len(world.db.audit.for_call("chat-anna")))
    with pytest.raises(ConcurrentChange) as e:
        review.set_verdict(world.db, world.sup_a, card, "tone", "pass", "fine", loaded)
    assert e.value.code == "concurrent" and "reload" in str(e.value)
    assert (world.row(card), world.verdict("tone"), len(world.db.audit.for_call("chat-anna"))) == before


def test_a_writer_held_up_past_the_wait_gets_busy_and_nothing_changes(world, tmp_path):
    import sqlite3

    blocker = sqlite3.connect(world.settings.db_path)
    blocker.execute("BEGIN IMMEDIATE")  # a batch job holding the write lock
    db = open_storage(world.settings.db_path)
    db._db.execute("PRAGMA busy_timeout = 100")
    revision = world.row()["revision"]
    try:
        with pytest.raises(Busy) as e:
            review.set_verdict(db, world.sup_a, world.card, "tone", "fail", "rude", revision)
        assert e.value.code == "busy"
    finally:
        blocker.rollback()
        blocker.close()
    assert world.row()["revision"] == revision and world.verdict("tone") != "fail"
    review.set_verdict(db, world.sup_a, world.card, "tone", "fail", "rude", revision)  # and then it goes through
    assert world.verdict("tone") == "fail"
