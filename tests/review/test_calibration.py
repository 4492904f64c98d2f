import pytest

from qa_review.core import agreement
from qa_review.core.errors import InvalidTransition, PermissionDenied
from qa_review.services import accounts
from qa_review.services import calibration as cal


def test_fleiss_kappa_on_the_textbook_example():
    # Fleiss (1971) as reproduced on Wikipedia: 10 subjects, 14 raters, 5 categories, kappa 0.210
    table = [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
    votes = [[str(c) for c, n in enumerate(row) for _ in range(n)] for row in table]
    assert agreement.fleiss_kappa(votes) == pytest.approx(0.210, abs=0.001)


def test_cohen_kappa_hand_computed():
    # 10 items: po = 0.7; rater A pass 5, B pass 6 -> pe = 0.5*0.6 + 0.5*0.4 = 0.5 -> kappa 0.4
    a = ["pass"] * 5 + ["fail"] * 5
    b = ["pass"] * 4 + ["fail"] + ["pass"] * 2 + ["fail"] * 3
    assert agreement.cohen_kappa(a, b) == pytest.approx(0.4)
    assert agreement.cohen_kappa(["pass"] * 3, ["pass"] * 3) == 1.0


def test_report_per_item_and_reviewer():
    ratings = {
        ("c1", "greet"): {"ann": "pass", "bob": "pass", "cat": "fail"},
        ("c2", "greet"): {"ann": "fail", "bob": "fail", "cat": "fail"},
        ("c1", "slot"): {"ann": "pass", "bob": "fail", "cat": "na"},  # no consensus
    }
    rep = agreement.report(ratings)
    greet = next(i for i in rep.items if i["item"] == "greet")
    assert greet["calls"] == 2 and greet["spread"] == 1
    assert greet["percent_agreement"] == pytest.approx(4 / 6)
    devs = {r["reviewer"]: r["deviation"] for r in rep.reviewers}
    assert devs == {"ann": 0.0, "bob": 0.0, "cat": 0.5}


def test_blind_session_lifecycle(world):
    # Across teams: an admin leads it (a team supervisor keeps to their team, below).
    sid = cal.create(world.db, world.admin, "Ноябрь", "written-chat", ["chat-anna", "chat-petr"], ["sup.a", "sup.b"])
    cal.rate(world.db, world.sup_a, sid, "chat-anna", "greet", "pass")
    cal.rate(world.db, world.sup_b, sid, "chat-anna", "greet", "fail")
    assert cal.my_verdicts(world.db, world.sup_b, sid) == {("chat-anna", "greet"): "fail"}  # blind
    with pytest.raises(PermissionDenied, match="blind"):
        cal.ratings(world.db, world.sup_b, sid)
    with pytest.raises(PermissionDenied):
        cal.rate(world.db, world.anna, sid, "chat-anna", "greet", "pass")
    assert cal.ratings(world.db, world.admin, sid) == {("chat-anna", "greet"): {"sup.a": "pass", "sup.b": "fail"}}
    cal.agree(world.db, world.admin, sid, {("chat-anna", "greet"): "pass", ("chat-petr", "greet"): "fail"})
    with pytest.raises(InvalidTransition, match="closed"):
        cal.rate(world.db, world.sup_b, sid, "chat-anna", "greet", "pass")
    with pytest.raises(PermissionDenied):
        cal.automatic_vs_agreed(world.db, world.sup_b, sid)  # a reviewer, not the lead
    a = cal.automatic_vs_agreed(world.db, world.admin, sid)
    assert a.pairs == 2 and a.agree == 2  # the machine said pass for anna, fail for petr ("Да?")
    assert [s["id"] for s in cal.sessions_for(world.db, world.sup_b)] == [sid]
    with pytest.raises(PermissionDenied):
        cal.create(world.db, world.trainer, "x", "written-chat", ["chat-anna"], ["sup.a", "sup.b"])


def test_a_team_supervisor_calibrates_on_their_own_team(world):
    with pytest.raises(PermissionDenied, match="another team"):
        cal.create(world.db, world.sup_a, "x", "written-chat", ["chat-anna", "chat-petr"], ["sup.a", "sup.b"])
    with pytest.raises(PermissionDenied, match="sup.b"):
        cal.create(world.db, world.sup_a, "x", "written-chat", ["chat-anna"], ["sup.a", "sup.b"])
    accounts.add_user(world.db, world.admin, "sup.a2", "password-a2", "supervisor", team="A")
    assert cal.create(world.db, world.sup_a, "x", "written-chat", ["chat-anna"], ["sup.a", "sup.a2"])
