"""The call log through the services: who may import and read it, linking to recordings,
re-import, and its operator figures as bonus-rule inputs."""

import pytest

from qa_review.core.errors import PermissionDenied
from qa_review.services import call_log, kpis, review
from tests.review.conftest import T0

HEADER = "call_id,started_at,direction,phone,queue,operator,status,wait_s,talk_s,hold_s,recording"
LOG = "\n".join(
    [
        HEADER,
        "chat-anna,2026-11-04T19:00:00+03:00,inbound,+79161112233,reg,anna.smirnova,answered,5,200,20,",
        "pbx-2,2026-11-05T10:00:00,inbound,+79161112233,reg,anna.smirnova,answered,5,100,0,",
        "pbx-3,2026-11-05T11:00:00,inbound,+79164445566,reg,,missed,40,0,0,",
        "pbx-4,2026-11-06T11:00:00,inbound,+79167778899,reg,petr.volkov,answered,50,300,0,",
    ]
)


def test_who_may_import_and_read(world):
    for user in (world.anna, world.trainer, world.sup_a):  # sup.a: the log is every team's, not team A's
        with pytest.raises(PermissionDenied):
            call_log.import_call_log(world.db, user, LOG, world.settings)
    call_log.import_call_log(world.db, world.admin, LOG, world.settings)
    with pytest.raises(PermissionDenied):
        call_log.report(world.db, world.anna, "2026-11", world.settings)
    whole = call_log.report(world.db, world.trainer, "2026-11", world.settings)
    assert sorted(whole.operators["operator"]) == ["anna.smirnova", "petr.volkov"]
    team_a = call_log.report(world.db, world.sup_a, "2026-11", world.settings)
    assert list(team_a.operators["operator"]) == ["anna.smirnova"]  # the queues stay whole
    assert int(team_a.queues.iloc[0]["offered"]) == 4


def test_reimport_updates_and_an_import_is_audited(world):
    first = call_log.import_call_log(world.db, world.admin, LOG, world.settings, "nov.csv")
    assert (first.added, first.updated, first.linked) == (4, 0, 1)  # chat-anna is in the database
    again = call_log.import_call_log(
        world.db, world.admin, LOG.replace("missed,40", "abandoned,41"), world.settings, "nov.csv"
    )
    assert (again.added, again.updated) == (0, 4) and world.db.call_log.count() == 4
    rep = call_log.report(world.db, world.admin, "2026-11", world.settings)
    assert int(rep.queues.iloc[0]["lost"]) == 1
    entries = [e for e in world.db.audit.with_operators() if e["action"] == "call_log_import"]
    assert [e["username"] for e in entries] == ["admin", "admin"] and entries[0]["target"] == "nov.csv"


def test_the_operators_figures_feed_the_bonus_rules(world, tmp_path):
    rules = tmp_path / "bonus.yaml"
    rules.write_text(
        "id: b\nversion: 1\nmin_reviewed_calls: 1\n"
        "quality: {bands: [{min: 0, coefficient: 1.0}]}\n"
        "inputs:\n  - {metric: fcr_rate, weight: 0.5,\n"
        "     bands: [{min: 0.9, coefficient: 1.2}, {min: 0, coefficient: 0.6}]}\n",
        encoding="utf-8",
    )
    rev = review.set_verdict(world.db, world.sup_a, world.card, "tone", "pass", "ok", None, now=T0)
    review.finalize(world.db, world.sup_a, world.card, rev, now=T0)

    def anna_coefficient():
        rep = kpis.report(world.db, world.admin, "2026-11", world.settings, rules)
        return float(rep.operators.set_index("operator").loc["anna.smirnova", "coefficient"])

    # no call log: the input is missing, and the rules fall back as they do for a missing import
    without = anna_coefficient()
    call_log.import_call_log(world.db, world.admin, LOG, world.settings)
    # anna's first call was followed by another from the same number the next day: FCR 1/2
    assert anna_coefficient() == pytest.approx(0.5 * 1.0 + 0.5 * 0.6)
    assert without != anna_coefficient()
    # a figure the clinic imported itself wins over the log's
    kpis.import_inputs(world.db, world.admin, "operator,period,fcr_rate\nanna.smirnova,2026-11,0.95\n")
    assert anna_coefficient() == pytest.approx(0.5 * 1.0 + 0.5 * 1.2)


def test_lost_calls_not_returned_with_numbers_for_supervisors_and_masked_for_trainers(world):
    from datetime import datetime

    from tests.review.conftest import T0

    log = "\n".join(
        [
            HEADER,
            "l1,2026-11-09T09:15:00,inbound,+79160000001,reg,,missed,30,0,0,",
            "l2,2026-11-09T17:40:00,inbound,+79160000002,reg,,abandoned,50,0,0,",
            "r2,2026-11-09T18:00:00,outbound,89160000002,,anna.smirnova,answered,0,60,0,",
            "old,2026-10-01T09:00:00,inbound,+79160000003,reg,,missed,30,0,0,",
        ]
    )
    call_log.import_call_log(world.db, world.admin, log, world.settings)
    now = datetime.fromisoformat("2026-11-10T15:00:00+03:00")
    sup = call_log.lost_calls(world.db, world.sup_a, world.settings, days=14, now=now)
    assert list(sup.calls["call_id"]) == ["l1"] and sup.calls.loc[0, "phone"] == "+79160000001"
    assert sup.calls.loc[0, "waiting_h"] == pytest.approx(29.8)
    assert dict(zip(sup.by_hour["hour"], sup.by_hour["lost"]))[17] == 1 and int(sup.by_hour["lost"].sum()) == 2
    assert list(sup.by_day["day"]) == ["2026-11-09"] and not sup.masked
    trainer = call_log.lost_calls(world.db, world.trainer, world.settings, days=14, now=now)
    assert trainer.masked and trainer.calls.loc[0, "phone"] == "+•••••••••01"
    with pytest.raises(PermissionDenied):
        call_log.lost_calls(world.db, world.anna, world.settings, now=T0)


def test_the_trend_weights_the_queues_by_their_calls(world):
    log = "\n".join(
        [
            HEADER,
            "a1,2026-10-05T10:00:00,inbound,+79160000001,reg,anna.smirnova,answered,10,100,0,",
            "a2,2026-10-05T11:00:00,inbound,+79160000002,reg,,missed,30,0,0,",
            "b1,2026-11-05T10:00:00,inbound,+79160000003,reg,anna.smirnova,answered,10,100,0,",
            "b2,2026-11-05T11:00:00,inbound,+79160000004,lab,petr.volkov,answered,40,300,0,",
            "b3,2026-11-05T12:00:00,inbound,+79160000005,lab,petr.volkov,answered,10,200,0,",
            "b4,2026-11-05T13:00:00,inbound,+79160000006,lab,,abandoned,2,0,0,",
        ]
    )
    call_log.import_call_log(world.db, world.admin, log, world.settings)
    t = call_log.trend(world.db, world.admin, world.settings, ["2026-11", "2026-10", "2026-09"]).set_index("month")
    assert list(t.index) == ["2026-10", "2026-11"]  # no log for September
    assert t.loc["2026-10", "lost_rate"] == pytest.approx(0.5)
    assert t.loc["2026-11", "lost_rate"] == 0 and t.loc["2026-11", "service_level"] == pytest.approx(2 / 3)
    assert t.loc["2026-11", "aht_s"] == pytest.approx(200) and t.loc["2026-11", "fcr_rate"] == 1
    only_a = call_log.trend(world.db, world.sup_a, world.settings, ["2026-11"])
    assert only_a.loc[0, "fcr_rate"] == 1 and only_a.loc[0, "lost_rate"] == 0  # the queues stay whole
