"""`qa-review cdr import` and `cdr report` on a database with recordings."""

import csv
import io
import json

import openpyxl
import pytest

from qa_review.storage import open_storage
from tests.cli_runner import invoke
from tests.integration.test_transcribe_batch import ingest_n

HEADER = "call_id;started_at;direction;phone;queue;operator;status;wait_s;talk_s;hold_s;recording"
ROWS = [
    # the recording ingested as call0 has the PBX's id
    "call0;2026-11-03T10:00:00;inbound;+7 916 111-22-33;reg;anna.smirnova;answered;8;120;10;",
    # the PBX's own id, linked by the file name
    "pbx-2;2026-11-03T11:00:00;inbound;8 (916) 111 22 33;reg;anna.smirnova;answered;25;60;0;call1.wav",
    "pbx-3;2026-11-03T12:00:00;inbound;+79164445566;reg;;missed;40;0;0;",
    "pbx-4;2026-11-03T12:30:00;outbound;89164445566;;petr.volkov;answered;0;30;0;",
    "pbx-5;2026-11-03T12:40:00;inbound;+79167770000;reg;;abandoned;2;0;0;",
    "pbx-bad;2026-11-03T13:00:00;inbound;+79167770000;reg;;lost;2;0;0;",
]


def test_import_links_fills_and_reports_bad_rows_then_reimport_updates(settings, tmp_path):
    db = open_storage(settings.db_path)
    ingest_n(db, settings, tmp_path, 2)  # call0, call1: no manifest, so no operator, direction or phone
    log = tmp_path / "cdr.csv"
    log.write_text("\ufeff" + "\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    out = invoke("--db", settings.db_path, "cdr", "import", log)
    assert out.exit_code == 1
    assert f"FAILED {log}: line 7, call pbx-bad: status: 'lost'" in out.output
    assert "cdr import: 5 added, 0 updated, 2 linked to ingested calls" in out.output
    for cid in ("call0", "call1"):
        call = db.calls.get(cid)
        assert (call["operator"], call["direction"], call["queue"]) == ("anna.smirnova", "inbound", "reg")
    again = invoke("--db", settings.db_path, "cdr", "import", log)
    assert "0 added, 5 updated" in again.output and db.call_log.count() == 5

    rep = json.loads(invoke("--db", settings.db_path, "cdr", "report", "--month", "2026-11").output)
    (reg,) = rep["queues"]
    assert reg["queue"] == "reg" and (reg["offered"], reg["answered"], reg["lost"]) == (4, 2, 1)
    assert (reg["short_abandoned"], reg["called_back"], reg["callback_median_min"]) == (1, 1, 30.0)
    assert reg["service_level"] == pytest.approx(1 / 3) and reg["lost_rate"] == 0.25
    ops = {o["operator"]: o for o in rep["operators"]}
    assert ops["anna.smirnova"]["answered"] == 2 and ops["anna.smirnova"]["fcr_rate"] == 0.5
    assert ops["anna.smirnova"]["hold_share"] == pytest.approx(10 / 190) and ops["petr.volkov"]["fcr_rate"] is None
    assert set(rep) == {"month", "rules", "queues", "operators"} and rep["rules"]["id"] == "call-log"

    xlsx = tmp_path / "cdr.xlsx"
    assert (
        invoke(
            "--db", settings.db_path, "cdr", "report", "--month", "2026-11", "--format", "xlsx", "-o", xlsx
        ).exit_code
        == 0
    )
    wb = openpyxl.load_workbook(xlsx)
    assert wb.sheetnames == ["Очереди", "Операторы", "Отчёт"] and wb["Очереди"]["A2"].value == "reg"
    assert wb["Очереди"]["A1"].value == "Очередь" and wb["Отчёт"]["B1"].value == "2026-11"
    # One table, header first; a "table" column tells queues from operators.
    plain = invoke("--db", settings.db_path, "cdr", "report", "--month", "2026-11", "--format", "csv").output
    rows = list(csv.DictReader(io.StringIO(plain)))
    assert {(r["table"], r["queue"] or r["operator"]) for r in rows} == {
        ("queue", "reg"),
        ("operator", "anna.smirnova"),
        ("operator", "petr.volkov"),
    }
    (reg_row,) = [r for r in rows if r["table"] == "queue"]
    assert (reg_row["month"], reg_row["lost_rate"], reg_row["fcr_rate"]) == ("2026-11", "0.25", "")
    out = tmp_path / "cdr-report.csv"
    made = invoke("--db", settings.db_path, "cdr", "report", "--month", "2026-11", "--format", "csv", "-o", out)
    assert made.exit_code == 0
    excel = out.read_text(encoding="utf-8")
    assert excel.startswith("\ufeffmonth;rules;rules_version;table;queue;") and ";reg;" in excel and ";0,25;" in excel


def test_a_log_not_in_utf8_is_refused_with_what_to_do(settings, tmp_path):
    open_storage(settings.db_path)
    log = tmp_path / "cdr.csv"
    log.write_bytes(
        ("\n".join([HEADER, "x;2026-11-03T10:00:00;inbound;;Регистратура;;missed;9;0;0;"])).encode("cp1251")
    )
    out = invoke("--db", settings.db_path, "cdr", "import", log)
    assert out.exit_code == 1 and "not UTF-8" in out.output and "iconv -f cp1251" in out.output


def test_rules_validate_tells_call_log_rules_from_bonus_rules(tmp_path):
    from qa_review.services.settings import REPO_ROOT

    both = invoke(
        "rules", "validate", REPO_ROOT / "rules" / "call-log.yaml", REPO_ROOT / "rules" / "monthly-bonus.yaml"
    )
    assert both.exit_code == 0 and "call-log.yaml: ok (call-log v1, call log: lost from 5 s" in both.output
    bad = tmp_path / "cl.yaml"
    bad.write_text("id: call-log\nversion: 1\ncallback_window_min: 0\n", encoding="utf-8")
    out = invoke("rules", "validate", bad)
    assert out.exit_code == 1 and f"{bad}:3: callback_window_min: Input should be greater than 0" in out.output


def test_a_log_longer_than_sqlites_variable_limit_goes_in(settings):
    """A month of a large centre is hundreds of thousands of rows; SQLite binds at most 32766 values at once."""
    from qa_review.core.permissions import system_actor
    from qa_review.services import call_log

    db = open_storage(settings.db_path)
    rows = [f"c{i};2026-11-03T10:00:00;inbound;+7916{i:07d};reg;;missed;30;0;0;" for i in range(33_000)]
    rep = call_log.import_call_log(db, system_actor("t"), "\n".join([HEADER, *rows]), settings)
    assert (rep.added, rep.errors) == (33_000, []) and db.call_log.count() == 33_000


def test_the_demo_call_log_has_three_months_of_lost_calls_and_callbacks(settings):
    from qa_review.services.settings import REPO_ROOT

    open_storage(settings.db_path)
    out = invoke("--db", settings.db_path, "cdr", "import", REPO_ROOT / "demo" / "call-log.csv")
    assert out.exit_code == 0 and "0 bad row(s)" in out.output
    months = {}
    for month in ("2026-09", "2026-10", "2026-11"):
        rep = json.loads(invoke("--db", settings.db_path, "cdr", "report", "--month", month).output)
        reg = next(q for q in rep["queues"] if q["queue"] == "registry")
        assert reg["lost"] > 0 and 0 < reg["called_back"] < reg["lost"] and reg["short_abandoned"] > 0
        assert {o["operator"] for o in rep["operators"]} >= {"anna.smirnova", "petr.volkov"}
        months[month] = reg["service_level"]
    assert months["2026-11"] < months["2026-10"]  # the last week of November dips, for the trend charts
