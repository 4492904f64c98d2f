"""The KPI rollups always equal the aggregate of the rows they summarize.

Whatever writes the rows (the review services, a rescore, a bulk load by
plain SQL), the month report and the dashboards read from the rollups must
give the figures computed from the rows themselves.
"""

import random
import sqlite3

import pandas as pd
import pytest
from click.testing import CliRunner

from qa_review.cli import cli
from qa_review.core.errors import PermissionDenied
from qa_review.core.kpi import monthly_report
from qa_review.core.permissions import ADMIN as ADMIN_ROLE
from qa_review.core.permissions import PUBLISHED, User
from qa_review.services import kpis as kpi_service
from qa_review.services import review, scoring
from qa_review.services.catalog import load_rules
from qa_review.storage import open_storage
from tests.conftest import PIPELINE
from tests.review.conftest import T0, World

MONTHS = ("2026-10", "2026-11")
ADMIN = User("test", ADMIN_ROLE)


def rows_report(db, settings, month):
    frames = kpi_service.load_frames(db, ADMIN, month, published_only=True, items="failed")
    return monthly_report(frames, load_rules(settings.bonus_rules), month, settings.timezone)


def rows_dashboard(db, since):
    """The dashboards' three aggregates, computed in pandas from every row."""
    frames = kpi_service.load_frames(db, ADMIN)
    sc = frames.scorecards.assign(month=frames.scorecards["started_at"].str[:7])
    sc = sc[sc["month"] >= since]
    pub = sc[sc["status"].isin(PUBLISHED)]
    scored = pub.dropna(subset=["score"])
    bins = (
        scored.assign(bin=(scored["score"] // 10 * 10).clip(upper=90).astype(int))
        .groupby(["month", "operator", "bin"])["score"]
        .agg(total="sum", n="size")
        .reset_index()
    )
    it = frames.items[frames.items["scorecard_id"].isin(pub["scorecard_id"])]
    auto = it["auto_verdict"].isin(["pass", "fail", "na"])
    per_item = (
        it.assign(
            failed=it["verdict"] == "fail",
            decided=it["verdict"].isin(["pass", "fail"]),
            scorecards=auto,
            same=auto & (it["verdict"] == it["auto_verdict"]),
        )
        .groupby(["item_id", "title"])[["failed", "decided", "scorecards", "same"]]
        .sum()
        .reset_index()
    )
    return bins, per_item


def ordered(df, by):
    return df.sort_values(by).reset_index(drop=True).astype({c: float for c in df.columns if c not in by})


def assert_rollups_match_rows(db, settings):
    for month in MONTHS:
        from_rollups = kpi_service.report(db, ADMIN, month, settings)
        from_rows = rows_report(db, settings, month)
        pd.testing.assert_frame_equal(from_rollups.operators, from_rows.operators, check_dtype=False)
        pd.testing.assert_frame_equal(from_rollups.teams, from_rows.teams, check_dtype=False)
        assert from_rollups.note_codes == from_rows.note_codes
    cards, per_item, _ = db.kpis.dashboard(MONTHS[0])
    bins, items = rows_dashboard(db, MONTHS[0])
    pd.testing.assert_frame_equal(
        ordered(cards, ["month", "operator", "bin"]), ordered(bins, ["month", "operator", "bin"]), check_dtype=False
    )
    pd.testing.assert_frame_equal(
        ordered(per_item, ["item_id", "title"]), ordered(items, ["item_id", "title"]), check_dtype=False
    )


def test_the_review_loop_keeps_the_rollups_current(tmp_path):
    w = World(tmp_path)
    assert_rollups_match_rows(w.db, w.settings)
    card = w.card
    rev = review.set_verdict(w.db, w.sup_a, card, "tone", "fail", "rude", w.row(card)["revision"], now=T0)
    review.finalize(w.db, w.sup_a, card, rev, now=T0)
    report = kpi_service.report(w.db, w.admin, "2026-11", w.settings)
    anna = report.operators.set_index("operator").loc["anna.smirnova"]
    assert anna.calls_reviewed == 1 and "(1)" in anna.top_failed_items
    assert_rollups_match_rows(w.db, w.settings)

    review.open_disputes(w.db, w.anna, card, {"tone": "I was polite"}, now=T0, settings=w.settings)
    anna = kpi_service.report(w.db, w.admin, "2026-11", w.settings).operators.set_index("operator").loc["anna.smirnova"]
    assert (anna.disputes_raised, anna.open_disputes, anna.may_change) == (1, 1, True)
    assert_rollups_match_rows(w.db, w.settings)

    dispute = w.db.disputes.of(card)[0]
    review.resolve_dispute(w.db, w.sup_a, dispute["id"], True, "listened again", now=T0)
    anna = kpi_service.report(w.db, w.admin, "2026-11", w.settings).operators.set_index("operator").loc["anna.smirnova"]
    assert (anna.disputes_upheld, anna.open_disputes, anna.top_failed_items) == (1, 0, "")
    assert_rollups_match_rows(w.db, w.settings)

    scoring.score_calls(w.db, PIPELINE, w.settings, rescore=True)
    assert_rollups_match_rows(w.db, w.settings)
    coverage = kpi_service.coverage(w.db, w.admin, "2026-11", w.settings).set_index("operator")
    assert coverage.loc["anna.smirnova", ["calls", "auto_scored", "reviewed"]].tolist() == [1, 1, 1]
    assert coverage.loc["petr.volkov", ["calls", "auto_scored", "reviewed"]].tolist() == [1, 1, 0]


def bulk_load(path, rng, calls=160):
    """Calls, scorecards, items and disputes written by plain SQL, as a bulk import would."""
    conn = sqlite3.connect(path)
    with conn:
        for n in range(calls):
            month = rng.choice(MONTHS)
            cid = f"c{n}"
            conn.execute(
                "insert into calls (call_id, kind, channel, operator, started_at, status, content_sha256) "
                "values (?, 'audio', 'phone', ?, ?, 'transcribed', ?)",
                (cid, f"op{rng.randrange(5)}", f"{month}-{1 + n % 28:02d}T10:00:00+03:00", cid),
            )
            for version in range(rng.choice([0, 1, 1, 2])):
                verdicts = [rng.choice(["pass", "fail", "na", None]) for _ in range(4)]
                score = None if rng.random() < 0.1 else round(rng.uniform(0, 100), 1)
                cur = conn.execute(
                    "insert into scorecards (call_id, checklist_id, checklist_version, score, critical_failed, "
                    "status, revision) values (?, 'c', ?, ?, ?, ?, 1)",
                    (cid, version, score, int(rng.random() < 0.1), rng.choice(["auto", "in_review", *PUBLISHED])),
                )
                for k, v in enumerate(verdicts):
                    conn.execute(
                        "insert into scorecard_items (scorecard_id, position, item_id, title, weight, critical, "
                        "verdict, auto_verdict) values (?, ?, ?, ?, 1, 0, ?, ?)",
                        (cur.lastrowid, k, f"i{k}", f"Item {k}", v, rng.choice([v, "pass", "fail", None])),
                    )
                if rng.random() < 0.3:
                    conn.execute(
                        "insert into disputes (scorecard_id, item_id, opened_by, status) values (?, 'i0', 'x', ?)",
                        (cur.lastrowid, rng.choice(["open", "upheld", "rejected"])),
                    )
    return conn


def mutate(conn, rng):
    """One change of the kinds people and imports make, anywhere in the data."""
    card = rng.choice(conn.execute("select id, call_id from scorecards order by id").fetchall())
    kind = rng.randrange(8)
    with conn:
        if kind == 0:
            conn.execute(
                "update scorecards set status = ? where id = ?", (rng.choice(["in_review", *PUBLISHED]), card[0])
            )
        elif kind == 1:
            conn.execute("update scorecards set score = ? where id = ?", (round(rng.uniform(0, 100), 1), card[0]))
        elif kind == 2:
            conn.execute(
                "update scorecard_items set verdict = ? where scorecard_id = ? and position = ?",
                (rng.choice(["pass", "fail", "na"]), card[0], rng.randrange(4)),
            )
        elif kind == 3:
            conn.execute(
                "insert or replace into disputes (scorecard_id, item_id, opened_by, status) values (?, 'i1', 'x', ?)",
                (card[0], rng.choice(["open", "upheld", "rejected"])),
            )
        elif kind == 4:
            conn.execute("delete from disputes where scorecard_id = ?", (card[0],))
            conn.execute("delete from scorecard_items where scorecard_id = ?", (card[0],))
            conn.execute("delete from scorecards where id = ?", (card[0],))
        elif kind == 5:  # the call was filed under the wrong operator, or the wrong month
            column, value = rng.choice(
                [("operator", f"op{rng.randrange(5)}"), ("started_at", f"{rng.choice(MONTHS)}-15T10:00:00+03:00")]
            )
            conn.execute(f"update calls set {column} = ? where call_id = ?", (value, card[1]))
        elif kind == 6:
            conn.execute("update scorecards set critical_failed = 1 - critical_failed where id = ?", (card[0],))
        else:
            conn.execute(
                "update disputes set status = ? where scorecard_id = ?", (rng.choice(["upheld", "rejected"]), card[0])
            )


@pytest.mark.parametrize("seed", [1, 2])
def test_rollups_follow_any_write_and_equal_a_rebuild(tmp_path, seed):
    from qa_review.services.settings import Settings

    rng = random.Random(seed)
    settings = Settings(db_path=tmp_path / "qa.db")
    db = open_storage(settings.db_path)
    conn = bulk_load(settings.db_path, rng)
    assert_rollups_match_rows(db, settings)
    for _ in range(25):
        for _ in range(rng.randrange(1, 4)):
            mutate(conn, rng)
        assert_rollups_match_rows(db, settings)
    before = kpi_service.dashboard(db, ADMIN, settings)
    (pairs,) = conn.execute("select count(distinct substr(started_at, 1, 7) || operator) from calls").fetchone()
    out = CliRunner().invoke(cli, ["--db", str(settings.db_path), "kpi-rebuild"])
    assert out.exit_code == 0, out.output
    assert f"{pairs} operator-month(s) recomputed" in out.output
    with pytest.raises(PermissionDenied):
        kpi_service.rebuild_rollups(db, User("sup", "supervisor"))
    after = kpi_service.dashboard(db, ADMIN, settings)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(frame, after[name], obj=name)
    conn.close()


def test_an_upgraded_database_fills_its_rollups_on_first_read(tmp_path):
    """A database from before the rollups (m010) gets them from its rows, not empty ones."""
    from sqlite_utils import Database

    from qa_review.services.settings import Settings
    from qa_review.storage.schema import migrations

    settings = Settings(db_path=tmp_path / "qa.db")
    old = Database(settings.db_path)
    migrations.apply(old, stop_before="m010_kpi_rollups")
    old.conn.close()
    bulk_load(settings.db_path, random.Random(3), calls=40).close()
    db = open_storage(settings.db_path)
    assert_rollups_match_rows(db, settings)
    assert not kpi_service.report(db, ADMIN, "2026-11", settings).operators.empty
