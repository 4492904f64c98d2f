"""Monthly KPIs on a hand-built month with known answers."""

import io

import pandas as pd
import pytest

from qa_review.core.bonus_rules import parse
from qa_review.core.kpi import Frames, dispute_effects, monthly_report, standing
from qa_review.services import kpis as kpi_service
from qa_review.services.settings import REPO_ROOT

RULES = parse((REPO_ROOT / "rules" / "monthly-bonus.yaml").read_text(encoding="utf-8"))


def month():
    rows, items, disputes = [], [], []

    def card(i, op, at, score, critical=False, status="final"):
        rows.append(
            dict(
                scorecard_id=i,
                call_id=f"c{i}",
                operator=op,
                started_at=at,
                checklist_id="x",
                status=status,
                score=score,
                critical_failed=int(critical),
            )
        )
        items.append(
            dict(
                scorecard_id=i,
                item_id="greet",
                title="Поздоровался",
                weight=1.0,
                critical=0,
                verdict="pass" if score else "fail",
                auto_verdict="pass",
            )
        )
        items.append(
            dict(
                scorecard_id=i,
                item_id="no_shift",
                title="Не перекладывает",
                weight=1.0,
                critical=1,
                verdict="fail" if critical else "pass",
                auto_verdict="fail" if critical else "pass",
            )
        )

    for i, s in enumerate([100, 90, 80, 100], 1):
        card(i, "anna", f"2026-11-0{i}T10:00:00+03:00", s)
    card(5, "anna", "2026-11-05T10:00:00+03:00", 0, critical=True)
    card(6, "anna", "2026-11-06T10:00:00+03:00", 10, status="auto")  # not reviewed: not counted
    disputes.append(dict(scorecard_id=3, item_id="greet", status="upheld", verdict_before="fail", verdict_after="pass"))
    for i, s in enumerate([60, 70, 80], 10):
        card(i, "petr", f"2026-11-1{i - 10}T10:00:00+03:00", s)
    for i in range(20, 24):
        card(i, "olga", f"2026-11-2{i - 20}T10:00:00+03:00", 96)
    card(24, "olga", "2026-10-31T21:30:00+00:00", 96)  # 00:30 on 1 November in Moscow
    card(25, "olga", "2026-11-30T21:30:00+00:00", 0)  # 00:30 on 1 December in Moscow
    disputes.append(dict(scorecard_id=20, item_id="greet", status="open", verdict_before="pass", verdict_after=None))
    inputs = pd.DataFrame([dict(operator="anna", period="2026-11", metric="booked_share", value=0.7)])
    return Frames(
        pd.DataFrame(rows), pd.DataFrame(items), pd.DataFrame(disputes), inputs, {"anna": "A", "olga": "A", "petr": "B"}
    )


def test_operator_figures_and_coefficients():
    rep = monthly_report(month(), RULES, "2026-11")
    ops = rep.operators.set_index("operator")
    anna, olga, petr = ops.loc["anna"], ops.loc["olga"], ops.loc["petr"]
    assert (anna.calls_reviewed, anna.mean_final_score, anna.critical_fails) == (5, 74.0, 1)
    assert (anna.disputes_raised, anna.disputes_upheld, anna.open_disputes) == (1, 1, 0)
    # band 70+ -> 0.8 for 80 % of it, booked_share 0.7 -> 1.2 for 20 %, minus 0.1 for the critical call
    assert anna.coefficient == pytest.approx(0.78)
    assert (olga.calls_reviewed, olga.mean_final_score) == (5, 96.0)  # month boundary in Moscow time
    assert olga.coefficient == pytest.approx(1.2) and olga.may_change and "still open" in olga.note
    assert petr.calls_reviewed == 3 and pd.isna(petr.coefficient) and "fewer than 5" in petr.note
    assert anna.top_failed_items.startswith("Не перекладывает (1)")
    assert rep.may_change and (rep.rules_id, rep.rules_version) == ("monthly-bonus", 1)


def test_team_figures():
    teams = monthly_report(month(), RULES, "2026-11").teams.set_index("team")
    assert (teams.loc["A", "operators"], teams.loc["A", "calls_reviewed"], teams.loc["A", "mean_final_score"]) == (
        2,
        10,
        85.0,
    )
    assert (teams.loc["B", "calls_reviewed"], teams.loc["B", "mean_final_score"]) == (3, 70.0)
    assert teams.loc["A", "open_disputes"] == 1


def test_changed_rules_recompute_and_carry_their_version():
    text = (REPO_ROOT / "rules" / "monthly-bonus.yaml").read_text(encoding="utf-8")
    stricter = parse(text.replace("min_reviewed_calls: 5", "min_reviewed_calls: 3").replace("version: 1", "version: 2"))
    rep = monthly_report(month(), stricter, "2026-11")
    assert rep.rules_version == 2
    petr = rep.operators.set_index("operator").loc["petr"]
    assert petr.coefficient == pytest.approx(0.8)  # 3 calls now enough; mean 70.0 is in the 70+ band


def test_dispute_effects_show_what_each_dispute_did():
    eff = dispute_effects(month(), "anna")
    row = eff.iloc[0]
    assert (row.call_id, row.item_id, row.status) == ("c3", "greet", "upheld")
    # its two equal-weight items: greet was fail before the dispute, pass after
    assert (row.score_before, row.score_after, row.change) == (50.0, 100.0, 50.0)


def test_standing_against_the_bands():
    assert standing(RULES, 88.0) == {"band": 1.0, "next": 1.2, "points_to_next": 7.0}
    assert standing(RULES, 97.0)["next"] is None


def test_excel_holds_the_same_numbers_as_csv():
    from openpyxl import load_workbook

    rep = monthly_report(month(), RULES, "2026-11")
    csv_text = kpi_service.export(rep, "csv").decode("utf-8-sig")
    assert csv_text.startswith("month;rules;rules_version;operator;")  # the header is the first row
    from_csv = pd.read_csv(io.StringIO(csv_text), sep=";", decimal=",")
    assert set(from_csv["month"]) == {"2026-11"} and set(from_csv["may_change"]) <= {"да", "нет"}
    assert kpi_service.export(rep, "csv", "plain").decode().startswith("month,rules,rules_version,operator,")
    wb = load_workbook(io.BytesIO(kpi_service.export(rep, "xlsx")))
    ws = wb["Операторы"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Оператор", "Команда", "Проверено звонков", "Средний итоговый балл"]
    xl = {r[0]: dict(zip(header, r)) for r in ws.iter_rows(min_row=2, values_only=True)}
    for row in from_csv.itertuples():
        x = xl[row.operator]
        assert x["Проверено звонков"] == row.calls_reviewed
        assert x["Средний итоговый балл"] == pytest.approx(row.mean_final_score)
        coef = x["Коэффициент премии"]
        assert (coef is None and pd.isna(row.coefficient)) or coef == pytest.approx(row.coefficient)
    assert ws["A1"].value == "Оператор" and wb["Отчёт"]["B3"].value.startswith("Цифры могут измениться")
    import json

    data = json.loads(kpi_service.export(rep, "json"))
    assert data["rules_version"] == 1 and len(data["operators"]) == 3


def test_sampling_is_reproducible_and_targeted():
    calls = pd.DataFrame(
        [
            dict(call_id=f"a{i}", operator="anna", score=90.0, critical_failed=0, duration_s=60.0, tags="[]")
            for i in range(20)
        ]
        + [
            dict(call_id="a-crit", operator="anna", score=0.0, critical_failed=1, duration_s=60.0, tags="[]"),
            dict(call_id="a-low", operator="anna", score=40.0, critical_failed=0, duration_s=60.0, tags="[]"),
            dict(call_id="a-long", operator="anna", score=90.0, critical_failed=0, duration_s=900.0, tags="[]"),
            dict(
                call_id="a-compl", operator="anna", score=90.0, critical_failed=0, duration_s=60.0, tags='["complaint"]'
            ),
        ]
        + [
            dict(call_id=f"p{i}", operator="petr", score=90.0, critical_failed=0, duration_s=60.0, tags="[]")
            for i in range(3)
        ]
    )
    one = kpi_service.choose(calls, per_operator=6, seed=7)
    again = kpi_service.choose(calls.sample(frac=1, random_state=3), per_operator=6, seed=7)
    assert one.sort_values("call_id").equals(again.sort_values("call_id"))
    anna = one[one.operator == "anna"].set_index("call_id")["reason"]
    assert anna[["a-crit", "a-low", "a-long", "a-compl"]].tolist() == [
        "critical",
        "low_score",
        "long_call",
        "complaint",
    ]
    assert len(anna) == 6 and (anna == "random").sum() == 2
    assert len(one[one.operator == "petr"]) == 3  # fewer calls than asked: all of them
    other = kpi_service.choose(calls, per_operator=6, seed=8)
    assert set(other.call_id) != set(one.call_id)


def test_confidence_interval_and_uncertain_band():
    from qa_review.core.fairness import band_certain, interval, t95

    assert t95(5) == 2.571 and t95(200) == 1.96 and 2.021 < t95(35) < 2.042
    iv = interval([80, 90, 86, 92, 82, 86])  # mean 86, sd 4.56, n 6: ± 2.571 * 4.56 / √6 = 4.8
    assert (iv.mean, iv.low, iv.high) == (86.0, 81.2, 90.8)
    bands = RULES.rules.quality.bands
    assert not band_certain(bands, iv)  # 81.3 is under the 85 boundary
    assert band_certain(bands, interval([96, 97, 98, 99, 97]))
    assert interval([90]) is None and not band_certain(bands, None)


@pytest.mark.parametrize(
    "policy, coefficient, words",
    [
        ("pay", 1.0, "band not certain"),
        ("hold", None, "coefficient held"),
        ("more_calls", None, "--top-up"),
    ],
)
def test_rules_decide_what_an_uncertain_band_does(policy, coefficient, words):
    text = (REPO_ROOT / "rules" / "monthly-bonus.yaml").read_text(encoding="utf-8") + f"uncertain_band: {policy}\n"
    frames = month()
    # olga: 96 on five calls; make her scores straddle the 85 boundary instead
    sc = frames.scorecards
    sc["score"] = sc["score"].astype(float)
    sc.loc[sc.operator == "olga", "score"] = [80.0, 90.0, 86.0, 92.0, 82.0, 0.0]  # the last is December's
    frames.disputes = frames.disputes[frames.disputes.scorecard_id != 20]
    rep = monthly_report(frames, parse(text), "2026-11")
    olga = rep.operators.set_index("operator").loc["olga"]
    assert not olga.band_certain and olga.mean_final_score == 86.0
    assert (pd.isna(olga.coefficient) and coefficient is None) or olga.coefficient == pytest.approx(coefficient)
    # sd 5.10 on 5 calls: ± 2.776 * 5.10 / √5 = 6.3
    assert words in olga.note and "86 ± 6.3 on 5 calls" in olga.note


def test_notes_in_russian_for_the_payroll_excel():
    from openpyxl import load_workbook

    rep = monthly_report(month(), RULES, "2026-11")
    ws = load_workbook(io.BytesIO(kpi_service.export(rep, "xlsx")))["Операторы"]
    header = [c.value for c in ws[1]]
    notes = {r[0]: dict(zip(header, r))["Примечание"] for r in ws.iter_rows(min_row=2, values_only=True)}
    assert notes["petr"] == "проверено звонков: 3, меньше 5 — коэффициент не рассчитан"
    assert "открытых споров: 1" in notes["olga"]
    assert (
        rep.notes_in("en")[list(rep.operators["operator"]).index("petr")]
        == "3 reviewed call(s), fewer than 5: no coefficient"
    )


@pytest.mark.parametrize(
    "scores",
    [[80, 90, 86, 92, 82, 86], [96, 97, 98, 99, 97], [100.0] * 7, [0.0, 100.0], [55.5, 61.25, 70.0, 48.75, 90.0, 33.3]],
)
def test_the_interval_from_running_sums_equals_the_one_from_the_scores(scores):
    import math

    from qa_review.core.fairness import interval, interval_of_sums

    direct = interval(scores)
    n = len(scores)
    mean = sum(scores) / n
    sd = math.sqrt(sum((s - mean) ** 2 for s in scores) / (n - 1))  # the two-pass textbook formula
    from qa_review.core.fairness import t95

    h = t95(n - 1) * sd / math.sqrt(n)
    assert (direct.low, direct.high) == (round(max(0, mean - h), 1), round(min(100, mean + h), 1))
    assert interval_of_sums(n, sum(scores), sum(s * s for s in scores)) == direct
