"""KPIs and sampling through the database and the CLI."""

import pytest
from click.testing import CliRunner

from qa_review.cli import cli
from qa_review.core.bonus_rules import parse
from qa_review.core.errors import PermissionDenied, RulesError
from qa_review.services import kpis as kpi_service
from qa_review.services import review
from tests.conftest import PIPELINE
from tests.review.conftest import T0, World


@pytest.fixture
def world(tmp_path):
    from argon2 import PasswordHasher

    from qa_review.services import accounts

    accounts._hasher, old = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1), accounts._hasher
    yield World(tmp_path)
    accounts._hasher = old


def finalize(w, call_id):
    card = w.card_id(call_id)
    sup = w.sup_a if call_id == "chat-anna" else w.sup_b
    rev = review.set_verdict(w.db, sup, card, "tone", "pass", "ok", w.row(card)["revision"], now=T0)
    review.finalize(w.db, sup, card, rev, now=T0)


def test_report_from_the_database_and_who_may_see_it(world):
    finalize(world, "chat-anna")
    rep = kpi_service.report(world.db, world.admin, "2026-11", world.settings)
    anna = rep.operators.set_index("operator").loc["anna.smirnova"]
    assert anna.calls_reviewed == 1 and anna.team == "A"
    assert "fewer than 5" in anna.note
    assert list(kpi_service.report(world.db, world.sup_b, "2026-11", world.settings).operators["team"]) == []
    with pytest.raises(PermissionDenied):
        kpi_service.report(world.db, world.anna, "2026-11", world.settings)


def test_operator_sees_own_month(world):
    finalize(world, "chat-anna")
    mine = kpi_service.operator_month(world.db, world.anna, world.settings)
    assert mine["month"] == "2026-11" and mine["reviewed"] == 1 and mine["mean"] == 100.0
    assert mine["standing"]["band"] == 1.2
    with pytest.raises(PermissionDenied):
        kpi_service.operator_month(world.db, world.sup_a, world.settings)


def test_sample_assigns_to_team_supervisors_and_fills_their_queue(world):
    chosen = kpi_service.sample(world.db, world.admin, "2026-11", world.settings, per_operator=1, seed=3)
    assert dict(zip(chosen.call_id, chosen.assignee)) == {"chat-anna": "sup.a", "chat-petr": "sup.b"}
    again = kpi_service.sample(world.db, world.admin, "2026-11", world.settings, per_operator=1, seed=3)
    assert again.equals(chosen)
    assert [r["call_id"] for r in review.review_queue(world.db, world.sup_a)] == ["chat-anna"]
    with pytest.raises(PermissionDenied):
        kpi_service.sample(world.db, world.trainer, "2026-11", world.settings)


def test_coverage(world):
    finalize(world, "chat-anna")
    cov = kpi_service.coverage(world.db, world.admin, "2026-11", world.settings).set_index("operator")
    assert cov.loc["anna.smirnova"].tolist()[:3] == [1, 1, 1] and cov.loc["petr.volkov", "reviewed_share"] == 0


def test_import_inputs_reports_bad_rows_and_keeps_good(world):
    text = (
        "operator;period;booked_share;aht_s\n"
        "anna.smirnova;2026-11;0,7;185\npetr.volkov;11-2026;0.5;200\nolga;2026-11;lots;1\n"
    )
    rep = kpi_service.import_inputs(world.db, world.admin, text, "mis.csv")
    assert rep.rows == 1
    assert rep.errors == [
        "mis.csv: line 3: period '11-2026': expected YYYY-MM",
        "mis.csv: line 4: booked_share: 'lots' is not a number",
    ]
    assert {r["metric"]: r["value"] for r in world.db.kpis.inputs()} == {"booked_share": 0.7, "aht_s": 185.0}


@pytest.mark.parametrize(
    "change, expected",
    [
        ("    - {min: 95, coefficient: 1.2}\n    - {min: 85, coefficient: 1.0}", "bands are tried in order"),
        ("critical_fail_penalty: 0.1", "critical_fail_penalty: -1"),
        ("floor: 0", "floor: 0\ncolour: red"),
    ],
)
def test_rule_validation_errors_have_lines(change, expected):
    from qa_review.services.settings import REPO_ROOT

    text = (REPO_ROOT / "rules" / "monthly-bonus.yaml").read_text(encoding="utf-8")
    if change.startswith("    - {min: 95"):
        text = text.replace(change, "    - {min: 85, coefficient: 1.0}\n    - {min: 95, coefficient: 1.2}")
    else:
        text = text.replace(change, expected)
    with pytest.raises(RulesError) as e:
        parse(text, "r.yaml")
    msg = str(e.value)
    assert msg.startswith("r.yaml:")
    assert {
        "bands are tried in order": "quality",
        "critical_fail_penalty: -1": "critical_fail_penalty",
        "floor: 0\ncolour: red": "unknown field 'colour'",
    }[expected] in msg


def test_input_weights_must_leave_quality_a_share():
    with pytest.raises(RulesError, match="weights add up to 1"):
        parse(
            "id: r\nversion: 1\nquality: {bands: [{min: 0, coefficient: 1}]}\n"
            "inputs: [{metric: a, weight: 0.5, bands: [{min: 0, coefficient: 1}]},"
            " {metric: b, weight: 0.5, bands: [{min: 0, coefficient: 1}]}]\n"
        )


def test_cli_sample_kpi_and_rules(world, tmp_path):
    finalize(world, "chat-anna")
    run = lambda *a: CliRunner().invoke(cli, ["--db", str(world.settings.db_path), *map(str, a)])  # noqa: E731
    out = run("sample", "--month", "2026-11", "--per-operator", "2")
    assert out.exit_code == 0 and "sample: 1 call(s) for 1 operator(s)" in out.output  # chat-anna is final already
    csv_out = run("kpi", "--month", "2026-11")
    assert csv_out.exit_code == 0 and "anna.smirnova" in csv_out.output
    xlsx = tmp_path / "k.xlsx"
    assert run("kpi", "--month", "2026-11", "--format", "xlsx", "-o", xlsx).exit_code == 0 and xlsx.stat().st_size > 0
    assert "xlsx needs -o" in run("kpi", "--month", "2026-11", "--format", "xlsx").output
    assert "expected YYYY-MM" in run("kpi", "--month", "November").output
    assert len(world.db.kpis.reports()) == 2
    from qa_review.services.settings import REPO_ROOT

    assert "ok (monthly-bonus v1" in run("rules", "validate", REPO_ROOT / "rules" / "monthly-bonus.yaml").output
    mis = tmp_path / "mis.csv"
    mis.write_text("operator,period,booked_share\nanna.smirnova,2026-11,0.7\n")
    assert "1 row(s) imported, 0 rejected" in run("kpi-import", mis).output


def test_top_up_adds_calls_for_operators_with_an_uncertain_band(world, tmp_path):
    import json as _json

    from qa_review.services import ingest, scoring
    from tests.review.conftest import chat

    # anna: one final scorecard (no interval: band not certain), and three more calls waiting
    finalize(world, "chat-anna")
    for n in range(3):
        c = chat(f"more-{n}", "anna.smirnova")
        c["messages"][0]["text"] += f" ({n})"
        (tmp_path / "in" / f"m{n}.json").write_text(_json.dumps(c, ensure_ascii=False))
    ingest.ingest(world.db, PIPELINE, tmp_path / "in", world.settings)
    scoring.score_calls(world.db, PIPELINE, world.settings)
    added = kpi_service.top_up(world.db, world.admin, "2026-11", world.settings, extra=2, seed=5)
    # two of anna's waiting calls; petr has nothing reviewed yet, so no band to be unsure of:
    # the regular sample covers him
    assert list(added.operator) == ["anna.smirnova"] * 2
    assert set(added[added.operator == "anna.smirnova"]["assignee"]) == {"sup.a"}
    again = kpi_service.top_up(world.db, world.admin, "2026-11", world.settings, extra=2, seed=5)
    assert set(again.call_id).isdisjoint(added.call_id)  # already sampled calls are not chosen twice
