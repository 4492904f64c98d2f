"""The demo's three months of history: generated as text, linked to the call log, reviewed as it would have been."""

import importlib.util
import sqlite3
import subprocess
import sys
from statistics import mean

import pytest

from qa_review.services import accounts, review, self_assessment, workflow
from qa_review.services.settings import REPO_ROOT, Settings
from qa_review.storage import open_storage
from tests.cli_runner import invoke
from tests.conftest import PIPELINE

MONTHS = ("2026-09", "2026-10", "2026-11")
OPERATORS = {"anna": "anna.smirnova", "ivan": "ivan.petrov", "petr": "petr.volkov", "olga": "olga.sokolova"}
SPOKEN = {"anna": "Анна", "ivan": "Иван", "petr": "Пётр", "olga": "Ольга"}


def _script(name):
    spec = importlib.util.spec_from_file_location(name, REPO_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def clinic(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("history")
    settings = Settings(db_path=tmp / "qa.db", checklist_dirs=(REPO_ROOT / "checklists",))
    db = open_storage(settings.db_path)
    admin = accounts.add_user(db, None, "admin", "admin-pass-1", "admin")
    accounts.add_user(db, admin, "svetlana", "password-s", "supervisor", team="registry")
    for name, op in OPERATORS.items():
        accounts.add_user(
            db, admin, name, f"password-{name}", "operator", team="registry", operator_id=op, spoken_name=SPOKEN[name]
        )
    subprocess.run([sys.executable, REPO_ROOT / "scripts" / "make_demo_history.py", tmp / "history"], check=True)
    report, scored = workflow.ingest_then_score(db, PIPELINE, tmp / "history", settings)
    assert report.errors == [] and len(scored.scored) == len(report.added) and scored.failed == []
    assert invoke("--db", settings.db_path, "cdr", "import", REPO_ROOT / "demo" / "call-log.csv").exit_code == 0
    return db, settings


def _rows(settings, sql):
    with sqlite3.connect(settings.db_path) as con:
        return con.execute(sql).fetchall()


def test_the_history_is_phone_calls_of_the_call_log_and_chats_for_every_operator_and_month(clinic):
    db, settings = clinic
    counts = dict(
        ((op, m, kind), n)
        for op, m, kind, n in _rows(
            settings, "select operator, substr(started_at, 1, 7), kind, count(*) from calls group by 1, 2, 3"
        )
    )
    for op in OPERATORS.values():
        for m in MONTHS:
            assert counts[(op, m, "transcript")] >= 10 and counts[(op, m, "written")] >= 3
    unlinked = _rows(
        settings,
        "select call_id from calls where kind = 'transcript' and call_id not in "
        "(select call_id from call_log where status = 'answered')",
    )
    assert unlinked == []  # every generated call is an answered call of the log, with its operator
    assert db.calls.waiting(now=0) == 0  # nothing for the recognizer


def _mean_scores(settings):
    rows = _rows(
        settings,
        "select c.operator, substr(c.started_at, 1, 7), s.score from scorecards s join calls c using (call_id) "
        "where c.kind = 'transcript'",
    )
    out = {}
    for op, m, score in rows:
        out.setdefault((op, m), []).append(score)
    return {k: mean(v) for k, v in out.items()}


def test_the_operators_habits_make_trends(clinic):
    scores = _mean_scores(clinic[1])
    assert scores[("petr.volkov", "2026-11")] > scores[("petr.volkov", "2026-09")] + 10  # coached
    assert scores[("olga.sokolova", "2026-11")] < scores[("olga.sokolova", "2026-09")] - 10  # slipping
    assert min(scores[("anna.smirnova", m)] for m in MONTHS) > 85


def test_the_reviews_are_dated_as_they_would_have_happened(clinic):
    db, settings = clinic
    sup = accounts.get(db, "svetlana")
    queue = review.review_queue(db, sup, status=("auto",))
    _script("demo_reviews").history(db, sup, queue)
    states = dict(
        ((m, status), n)
        for m, status, n in _rows(
            settings,
            "select substr(c.started_at, 1, 7), s.status, count(*) from scorecards s join calls c using (call_id) "
            "group by 1, 2",
        )
    )
    for m in ("2026-09", "2026-10"):
        assert states.get((m, "auto"), 0) == 0 and states.get((m, "in_review"), 0) == 0
        assert states.get((m, "resolved"), 0) > 0  # disputes raised and answered
    assert states[("2026-11", "auto")] > 0  # the last week waits in the queue
    late = _rows(
        settings,
        "select c.call_id from scorecards s join calls c using (call_id) where s.finalized_at is not null "
        "and julianday(s.finalized_at) - julianday(c.started_at) not between 0 and 2",
    )
    assert late == []  # finalized a day after the call, not on the day the demo was built
    petr = self_assessment.closeness(db, accounts.get(db, "petr"), settings)
    by_month = dict(zip(petr["month"], petr["agreement"], strict=True))
    assert by_month["2026-09"] < by_month["2026-11"]  # he learns to judge his own calls
    assert set(by_month) == set(MONTHS)
