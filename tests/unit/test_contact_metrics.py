"""The call log's rules on small logs with answers worked out by hand."""

from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from qa_review.core.call_log import phone_keys, read_call_log
from qa_review.core.call_log_rules import CallLogRules, parse
from qa_review.core.contact_metrics import classify, month_report, unreturned
from qa_review.core.errors import ManifestError, RulesError

MSK = ZoneInfo("Europe/Moscow")
RULES = CallLogRules()
HEADER = "call_id,started_at,direction,phone,queue,operator,status,wait_s,talk_s,hold_s"


def frame(csv_rows: list[str]) -> pd.DataFrame:
    rows, errors = read_call_log("\n".join([HEADER, *csv_rows]), "log.csv", MSK)
    assert errors == []
    return pd.DataFrame(
        [{**r.__dict__, "started_at": r.started_at.isoformat()} for r in rows],
    )


def queue(rep, name="reg"):
    return rep.queues.set_index("queue").loc[name]


def test_numbers_written_differently_are_one_number():
    keys = phone_keys(pd.Series(["+7 (916) 123-45-67", "8 916 123 45 67", "9161234567", "", "112", None]))
    assert keys[0] == keys[1] == keys[2]
    assert pd.isna(keys[3]) and keys[4] == "112" and pd.isna(keys[5])


def test_a_lost_call_returned_within_the_hour_in_another_format_and_one_returned_too_late():
    rep = month_report(
        frame(
            [
                "a1,2026-11-03T10:00:00,inbound,+7 916 111-11-11,reg,,missed,30,0,0",
                # returned 25 min later, the number written the Russian way
                "a2,2026-11-03T10:25:00,outbound,8 (916) 111 11 11,,anna,answered,0,120,0",
                "b1,2026-11-03T11:00:00,inbound,+79162222222,reg,,abandoned,12,0,0",
                # 61 minutes later: after the window
                "b2,2026-11-03T12:01:00,outbound,+79162222222,,anna,answered,0,60,0",
                # a short abandon (3 s): not lost, not offered for the service level
                "c1,2026-11-03T13:00:00,inbound,+79163333333,reg,,abandoned,3,0,0",
                "d1,2026-11-03T14:00:00,inbound,+79164444444,reg,petr,answered,15,200,40",
                "e1,2026-11-03T15:00:00,inbound,+79165555555,reg,petr,answered,45,100,0",
            ]
        ),
        "2026-11",
        RULES,
    )
    q = queue(rep)
    assert (q.offered, q.answered, q.short_abandoned, q.lost, q.called_back) == (5, 2, 1, 2, 1)
    assert q.lost_rate == pytest.approx(2 / 5)
    assert q.callback_median_min == pytest.approx(25)
    assert q.service_level == pytest.approx(1 / 4)  # d1 within 20 s; offered 5 minus 1 short abandon
    assert q.aht_s == pytest.approx((240 + 100) / 2)
    petr = rep.operators.set_index("operator").loc["petr"]
    assert petr.answered == 2 and petr.aht_s == pytest.approx(170)
    assert petr.hold_share == pytest.approx(40 / 340)
    anna = rep.operators.set_index("operator").loc["anna"]
    assert anna.answered == 2 and pd.isna(anna.fcr_rate)  # outbound calls only: no FCR to judge


def test_a_repeat_call_within_seven_days_is_not_first_call_resolution_and_one_after_is():
    rep = month_report(
        frame(
            [
                "x1,2026-11-02T09:00:00,inbound,+79160000001,reg,anna,answered,5,60,0",
                "x2,2026-11-08T09:00:00,inbound,+79160000001,reg,,missed,8,0,0",  # 6 days: x1 not resolved
                "y1,2026-11-02T09:00:00,inbound,+79160000002,reg,anna,answered,5,60,0",
                "y2,2026-11-09T09:00:01,inbound,+79160000002,reg,petr,answered,5,60,0",  # 7 days and 1 s
            ]
        ),
        "2026-11",
        RULES,
    )
    ops = rep.operators.set_index("operator")
    assert ops.loc["anna"].fcr_rate == pytest.approx(0.5)
    assert ops.loc["petr"].fcr_rate == pytest.approx(1.0)


def test_months_are_the_clinics_and_callbacks_cross_them():
    rows = frame(
        [
            # 23:30 in Moscow on 30 November is 20:30 UTC: November's
            "n1,2026-11-30T20:30:00+00:00,inbound,+79160000009,reg,,missed,40,0,0",
            # 21:30 UTC is 00:30 on 1 December in Moscow: December's, and it returns n1
            "n2,2026-11-30T21:30:00+00:00,outbound,+79160000009,,anna,answered,0,30,0",
        ]
    )
    nov, dec = month_report(rows, "2026-11", RULES), month_report(rows, "2026-12", RULES)
    assert queue(nov).lost == 1 and queue(nov).called_back == 1
    assert nov.operators.empty and dec.operators.set_index("operator").loc["anna"].answered == 1
    assert dec.queues.empty


def test_the_rules_can_be_changed():
    rows = frame(["s1,2026-11-03T10:00:00,inbound,+79161111111,reg,,missed,4,0,0"])
    assert queue(month_report(rows, "2026-11", RULES)).lost == 0
    assert queue(month_report(rows, "2026-11", CallLogRules(lost_min_wait_s=3))).lost == 1
    with pytest.raises(RulesError, match=r"r.yaml:2: service_level_s: Input should be greater than or equal to 0"):
        parse("id: call-log\nservice_level_s: -1\n", "r.yaml")
    with pytest.raises(RulesError, match=r"r.yaml:2: .*unknown field 'lost_wait'"):
        parse("id: call-log\nlost_wait: 5\n", "r.yaml")


def test_lost_calls_not_returned_since_oldest_first():
    rows = frame(
        [
            "l2,2026-11-03T11:00:00,inbound,+79160000002,reg,,missed,30,0,0",
            "l1,2026-11-03T10:00:00,inbound,+79160000001,reg,,missed,30,0,0",
            # returned two days later: outside the callback window, but returned all the same
            "r1,2026-11-05T10:00:00,outbound,89160000001,,anna,answered,0,30,0",
            "l3,2026-11-03T12:00:00,inbound,,reg,,missed,30,0,0",
        ]
    )
    assert list(unreturned(classify(rows, RULES))["call_id"]) == ["l2", "l3"]


def test_bad_rows_are_named_with_line_and_call_and_the_rest_are_kept():
    text = "\ufeff" + "\n".join(
        [
            HEADER.replace(",", ";"),
            "ok1;2026-11-03T10:00:00;inbound;+7916;reg;anna;answered;5;60;0",
            "bad1;2026-11-03T10:00:00;inbound;+7916;reg;;lost;5;0;0",
            "bad2;;inbound;+7916;reg;;missed;5;0;0",
            "bad3;2026-11-03T10:00:00;inbound;+7916;reg;anna;answered;5;-60;0",
            "bad4;2026-11-03T10:00:00;inbound;+7916;reg;;answered;5;60;0",
            "ok2;2026-11-03 10:05:00;outbound;+7916;;anna;answered;0;60,5;0",
        ]
    )
    rows, errors = read_call_log(text, "log.csv", MSK)
    assert [r.call_id for r in rows] == ["ok1", "ok2"]
    assert rows[1].talk_s == 60.5 and rows[1].started_at.utcoffset().total_seconds() == 3 * 3600
    assert errors == [
        "log.csv: line 3, call bad1: status: 'lost': expected answered, missed, abandoned",
        "log.csv: line 4, call bad2: started_at: required, but missing or empty",
        "log.csv: line 5, call bad3: talk_s: -60 is negative; durations are 0 or more seconds",
        "log.csv: line 6, call bad4: operator: an answered call needs the operator who answered it",
    ]
    with pytest.raises(ManifestError, match="line 1: missing column.s. hold_s"):
        read_call_log(HEADER.replace(",hold_s", "") + "\n", "log.csv", MSK)


def test_with_no_answered_call_at_all_every_lost_call_is_open():
    rows = frame(["l1,2026-11-03T10:00:00,inbound,+79160000001,reg,,missed,30,0,0"])
    assert list(unreturned(classify(rows, RULES))["call_id"]) == ["l1"]
