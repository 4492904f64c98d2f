"""Every role × action, allowed and refused, in the service layer."""

import pytest

from qa_review.core.errors import PermissionDenied
from qa_review.services import accounts, review
from tests.review.conftest import T0

ROLES = ["admin", "sup_a", "sup_b", "trainer", "anna", "petr"]


def final_card(w):
    rev = review.set_verdict(w.db, w.sup_a, w.card, "tone", "pass", "ok", w.row()["revision"], now=T0)
    review.finalize(w.db, w.sup_a, w.card, rev, now=T0)


def open_dispute(w):
    final_card(w)
    return review.open_disputes(w.db, w.anna, w.card, {"greet": "x"}, now=T0)[0]


ACTIONS = {
    "read call": (lambda w, u: review.call_for(w.db, u, "chat-anna"), {"admin", "sup_a", "trainer", "anna"}),
    "change verdict": (lambda w, u: review.set_verdict(w.db, u, w.card, "greet", "fail", "c", None), {"sup_a"}),
    "write feedback": (lambda w, u: review.set_feedback(w.db, u, w.card, "молодец", None), {"sup_a"}),
    "correct transcript": (lambda w, u: review.correct_segment(w.db, u, "chat-anna", 0, "новый текст"), {"sup_a"}),
    "finalize": (
        lambda w, u: (
            review.set_verdict(w.db, w.sup_a, w.card, "tone", "pass", "ok", None),
            review.finalize(w.db, u, w.card, None),
        ),
        {"sup_a"},
    ),
    "dispute": (lambda w, u: (final_card(w), review.open_disputes(w.db, u, w.card, {"greet": "x"}, now=T0)), {"anna"}),
    "resolve dispute": (lambda w, u: review.resolve_dispute(w.db, u, open_dispute(w), True, "ok"), {"sup_a"}),
    "list users": (lambda w, u: accounts.list_users(w.db, u), {"admin"}),
    "add user": (lambda w, u: accounts.add_user(w.db, u, "new.one", "password-x", "trainer"), {"admin"}),
    "review queue": (lambda w, u: review.review_queue(w.db, u), {"sup_a", "sup_b"}),
    "read audit": (lambda w, u: review.audit_for_call(w.db, u, "chat-anna"), {"admin", "sup_a", "trainer", "anna"}),
    "export audit": (lambda w, u: review.export_audit(w.db, u), {"admin", "sup_a", "sup_b"}),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_action(world, role, action):
    run, allowed = ACTIONS[action]
    user = getattr(world, role)
    if role in allowed:
        run(world, user)
    else:
        with pytest.raises(PermissionDenied):
            run(world, user)


def test_operator_asking_for_another_operators_call_gets_a_refusal_not_data(world):
    with pytest.raises(PermissionDenied, match="petr .* may not open call chat-anna"):
        review.call_for(world.db, world.petr, "chat-anna")


def test_operator_sees_only_published_scorecards(world):
    assert review.call_for(world.db, world.anna, "chat-anna")["scorecards"] == []
    final_card(world)
    ((row, sc, disputes),) = review.call_for(world.db, world.anna, "chat-anna")["scorecards"]
    assert row["status"] == "final" and disputes == []


def test_visible_calls_per_role(world):
    ids = lambda u: sorted(c["call_id"] for c in review.visible_calls(world.db, u))  # noqa: E731
    assert ids(world.anna) == ["chat-anna"]
    assert ids(world.petr) == ["chat-petr"]
    assert ids(world.sup_a) == ["chat-anna"]
    assert ids(world.trainer) == ids(world.admin) == ["chat-anna", "chat-petr"]


def test_passwords_are_hashed_and_checked(world):
    stored = world.db.users.credentials("anna")[1]
    assert stored.startswith("$argon2id$") and "password-anna" not in stored
    assert accounts.authenticate(world.db, "anna", "password-anna").operator_id == "anna.smirnova"
    from qa_review.core.errors import AuthError

    with pytest.raises(AuthError, match="wrong user name or password"):
        accounts.authenticate(world.db, "anna", "wrong")
    with pytest.raises(AuthError, match="wrong user name or password"):
        accounts.authenticate(world.db, "nobody", "password-anna")


def test_first_user_must_be_an_admin(tmp_path):
    from qa_review.storage import open_storage

    db = open_storage(tmp_path / "x.db")
    with pytest.raises(PermissionDenied, match="first user must be an admin"):
        accounts.add_user(db, None, "sup", "password-1", "supervisor")
    accounts.add_user(db, None, "root", "password-1", "admin")
    with pytest.raises(PermissionDenied, match="only an admin"):
        accounts.add_user(db, None, "sup", "password-1", "supervisor")
