"""Accounts a clinic can run: sessions that end, logins that slow down a guesser, users disabled and moved."""

import statistics
import time

import pytest
from argon2 import PasswordHasher

from qa_review.core.errors import AuthError, PermissionDenied, QAReviewError
from qa_review.services import accounts, review

T = 1_800_000_000.0  # a fixed clock


def test_a_session_is_resumed_until_it_idles_out_or_its_user_logs_out(world):
    user, token = accounts.login(world.db, "anna", "password-anna", now=T)
    assert user.operator_id == "anna.smirnova" and len(token) >= 40
    assert accounts.resume(world.db, token, idle_hours=8, now=T + 3600).username == "anna"
    assert accounts.resume(world.db, token, idle_hours=8, now=T + 3600 + 7 * 3600).username == "anna"  # renewed
    with pytest.raises(AuthError) as e:
        accounts.resume(world.db, token, idle_hours=8, now=T + 3600 + 7 * 3600 + 8 * 3600 + 1)
    assert e.value.code == "session_ended"
    _, token2 = accounts.login(world.db, "anna", "password-anna", now=T)
    accounts.logout(world.db, token2)
    with pytest.raises(AuthError):
        accounts.resume(world.db, token2, idle_hours=8, now=T + 1)
    with pytest.raises(AuthError):
        accounts.resume(world.db, "made-up-token", idle_hours=8, now=T)


def test_only_the_token_hash_is_stored(world):
    _, token = accounts.login(world.db, "anna", "password-anna", now=T)
    stored = [r[0] for r in world.db._db.execute("select token_sha256 from sessions")]
    assert token not in stored and len(stored[0]) == 64


def test_five_failures_make_the_name_and_the_client_wait(world):
    for n in range(accounts.MAX_FAILURES):
        with pytest.raises(AuthError) as e:
            accounts.login(world.db, "anna", f"guess-{n}", client="10.0.0.9", now=T + n)
        assert e.value.code == "auth"
    with pytest.raises(AuthError) as e:  # even the right password waits now
        accounts.login(world.db, "anna", "password-anna", client="10.0.0.7", now=T + 10)
    assert e.value.code == "throttled" and e.value.params["n"] == 15
    with pytest.raises(AuthError) as e:  # and that client, whatever name it tries
        accounts.login(world.db, "petr", "password-petr", client="10.0.0.9", now=T + 10)
    assert e.value.code == "throttled"
    assert accounts.login(world.db, "petr", "password-petr", client="10.0.0.8", now=T + 10)[0].username == "petr"
    # fifteen minutes after the first failure, one more try is allowed
    assert accounts.login(world.db, "anna", "password-anna", client="10.0.0.7", now=T + 15 * 60 + 1)[0]


def test_an_unknown_name_takes_as_long_as_a_wrong_password(world, monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher())  # the production cost
    accounts.set_password(world.db, world.admin, "anna", "password-anna")

    def took(name):
        t0 = time.perf_counter()
        with pytest.raises(AuthError):
            accounts.authenticate(world.db, name, "wrong-password")
        return time.perf_counter() - t0

    took("nobody")  # the first makes the stand-in hash
    known = statistics.median(took("anna") for _ in range(5))
    unknown = statistics.median(took("nobody") for _ in range(5))
    assert 0.5 < unknown / known < 2, (known, unknown)  # it was 0.05 ms against 342 ms


def test_a_disabled_user_is_logged_out_at_once_and_cannot_log_in(world):
    _, token = accounts.login(world.db, "anna", "password-anna", now=T)
    with pytest.raises(PermissionDenied):
        accounts.set_active(world.db, world.sup_a, "anna", False)
    accounts.set_active(world.db, world.admin, "anna", False)
    with pytest.raises(AuthError):
        accounts.resume(world.db, token, idle_hours=8, now=T + 1)
    with pytest.raises(AuthError):
        accounts.login(world.db, "anna", "password-anna", now=T + 2)
    assert accounts.disabled_users(world.db, world.admin) == ["anna"]
    accounts.set_active(world.db, world.admin, "anna", True)
    assert accounts.login(world.db, "anna", "password-anna", now=T + 3)[0].username == "anna"
    with pytest.raises(QAReviewError):
        accounts.set_active(world.db, world.admin, "admin", False)  # not yourself
    actions = [a["action"] for a in world.db.audit.with_operators() if a["target"] == "anna"]
    assert actions == ["user_disabled", "user_enabled"]


def test_a_role_or_team_change_holds_at_once(world):
    _, token = accounts.login(world.db, "sup.b", "password-b", now=T)
    assert review.review_queue(world.db, accounts.resume(world.db, token, idle_hours=8, now=T)) is not None
    moved = accounts.change_role(world.db, world.admin, "sup.b", role="supervisor", team="A", operator_id=None)
    assert moved.team == "A"
    with pytest.raises(AuthError):  # the old session carried team B
        accounts.resume(world.db, token, idle_hours=8, now=T + 1)
    user, _ = accounts.login(world.db, "sup.b", "password-b", now=T + 2)
    assert [r["call_id"] for r in review.review_queue(world.db, user)] == ["chat-anna"]
    with pytest.raises(QAReviewError, match="last admin"):
        accounts.change_role(world.db, world.admin, "admin", role="trainer", team=None, operator_id=None)
    with pytest.raises(PermissionDenied):
        accounts.change_role(world.db, world.sup_a, "anna", role="supervisor", team="A", operator_id=None)
    (entry,) = [a for a in world.db.audit.with_operators() if a["action"] == "user_role"]
    assert (entry["old"], entry["new"]) == ("supervisor/B/-", "supervisor/A/-")


def test_demo_accounts_and_the_first_admin_are_told_apart_from_real_ones(tmp_path):
    from qa_review.storage import open_storage

    db = open_storage(tmp_path / "x.db")
    first = accounts.add_user(db, None, "root", "password-1", "admin")
    demo = accounts.add_user(db, first, "anna", "demo-anna", "operator", operator_id="anna", demo=True)
    real = accounts.add_user(db, first, "olga", "password-olga", "supervisor")
    assert (first.kind, demo.kind, real.kind) == ("first", "demo", None)


def signin(email="Anna.Smirnova@Clinic.ru", at=T, nonce="n1", **more):
    """The identity token's claims, as st.user gives them after the provider's redirect."""
    return {
        "iss": "https://idp.clinic.ru/realms/clinic",
        "sub": "4f1c",
        "iat": at,
        "nonce": nonce,
        "email": email,
        **more,
    }


def test_single_sign_on_logs_in_the_user_an_admin_linked(world):
    with pytest.raises(AuthError) as e:
        accounts.login_sso(world.db, signin(), now=T + 5)
    assert e.value.code == "sso_unknown" and "link-sso USER anna.smirnova@clinic.ru" in str(e.value)
    with pytest.raises(PermissionDenied):
        accounts.link_sso(world.db, world.sup_a, "anna", "anna.smirnova@clinic.ru")
    linked = accounts.link_sso(world.db, world.admin, "anna", " Anna.Smirnova@clinic.ru ")
    assert linked.sso_identity == "anna.smirnova@clinic.ru"

    user, token = accounts.login_sso(world.db, signin(), now=T + 5)
    assert user.username == "anna"
    assert accounts.resume(world.db, token, idle_hours=8, now=T + 60).operator_id == "anna.smirnova"
    with pytest.raises(QAReviewError, match="already linked to anna"):
        accounts.link_sso(world.db, world.admin, "petr", "anna.smirnova@clinic.ru")
    (entry,) = [a for a in world.db.audit.with_operators() if a["action"] == "user_sso"]
    assert (entry["username"], entry["target"], entry["new"]) == ("admin", "anna", "anna.smirnova@clinic.ru")


def test_one_sign_in_opens_one_session_and_only_while_it_is_fresh(world):
    accounts.link_sso(world.db, world.admin, "anna", "anna.smirnova@clinic.ru")
    _, token = accounts.login_sso(world.db, signin(), now=T + 1)
    accounts.logout(world.db, token)
    with pytest.raises(AuthError) as e:  # the same sign-in after logging out
        accounts.login_sso(world.db, signin(), now=T + 2)
    assert e.value.code == "sso_stale"
    with pytest.raises(AuthError) as e:  # the provider's cookie, a day later
        accounts.login_sso(world.db, signin(nonce="n2"), now=T + 86400)
    assert e.value.code == "sso_stale"
    assert accounts.login_sso(world.db, signin(nonce="n3", at=T + 86400), now=T + 86410)[0].username == "anna"


def test_single_sign_on_refuses_a_disabled_user_an_unverified_address_and_a_missing_claim(world):
    accounts.link_sso(world.db, world.admin, "anna", "anna.smirnova@clinic.ru")
    accounts.set_active(world.db, world.admin, "anna", False)
    with pytest.raises(AuthError) as e:
        accounts.login_sso(world.db, signin(), now=T)
    assert e.value.code == "disabled"
    accounts.set_active(world.db, world.admin, "anna", True)
    with pytest.raises(AuthError) as e:
        accounts.login_sso(world.db, signin(email_verified=False), now=T)
    assert e.value.code == "sso_unverified"
    with pytest.raises(AuthError) as e:
        accounts.login_sso(world.db, signin(upn="ASmirnova@clinic.local"), claim="preferred_username", now=T)
    assert e.value.code == "sso_no_claim" and "upn" in str(e.value)
    accounts.link_sso(world.db, world.admin, "anna", "asmirnova@clinic.local")
    assert accounts.login_sso(world.db, signin(upn="ASmirnova@clinic.local"), claim="upn", now=T)[0].username == "anna"
    accounts.link_sso(world.db, world.admin, "anna", None)
    with pytest.raises(AuthError):
        accounts.login_sso(world.db, signin(upn="ASmirnova@clinic.local", nonce="x"), claim="upn", now=T)
