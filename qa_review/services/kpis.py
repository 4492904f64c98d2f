"""KPIs, bonuses and sampling: use cases for the CLI and the pages."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from qa_review.core import spreadsheet
from qa_review.core.bonus_rules import LoadedRules
from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.kpi import Frames, Report, Totals, month_of, report_of
from qa_review.core.permissions import (
    ADMIN,
    EDITABLE,
    OPERATOR,
    PUBLISHED,
    SUPERVISOR,
    TRAINER,
    User,
    overseen_operators,
)
from qa_review.core.spreadsheet import EXCEL
from qa_review.core.wer import corpus_wer
from qa_review.services import call_log
from qa_review.services.catalog import load_rules
from qa_review.services.settings import Settings
from qa_review.storage import Storage


def _rules(settings: Settings, rules_path: Path | None) -> LoadedRules:
    return load_rules(rules_path or settings.bonus_rules)


MONTH_FMT = "%Y-%m"


def load_frames(db: Storage, user: User, month: str | None = None, **kwargs) -> Frames:
    """Every row the KPIs are computed from (admins: a check of the rollups, a benchmark)."""
    if user.role != ADMIN:
        raise PermissionDenied(f"{user.username} ({user.role}) may not read every operator's rows; an admin may")
    return _frames(db, month, **kwargs)


def _frames(
    db: Storage,
    month: str | None = None,
    *,
    published_only: bool = False,
    items: str = "all",
    operator: str | None = None,
) -> Frames:
    """The KPI frames; ``items`` is "all", "failed" (all a report needs) or "none"."""
    cards, item_frame, disputes, inputs = db.kpis.frames(
        month, states=PUBLISHED if published_only else None, items=items, operator=operator
    )
    return Frames(cards, item_frame, disputes, inputs, db.users.teams_by_operator())


def _inputs(db: Storage, month: str) -> pd.DataFrame:
    return pd.DataFrame(db.kpis.inputs(month), columns=["operator", "period", "metric", "value"])


def _may_see_kpis(user: User) -> None:
    if user.role not in (ADMIN, SUPERVISOR, TRAINER):
        raise PermissionDenied(f"{user.username} ({user.role}) may not see other operators' KPIs")


def report(
    db: Storage, user: User, month: str, settings: Settings, rules_path: Path | None = None, record: bool = False
) -> Report:
    _may_see_kpis(user)
    rules = _rules(settings, rules_path)
    totals = Totals(*db.kpis.month_totals(month))
    inputs = _inputs(db, month)
    from_log = call_log.kpi_inputs(db, user, month, settings)
    if len(from_log):
        # an imported figure of the same name is the clinic's own word on it, and wins
        inputs = pd.concat([inputs, from_log]).drop_duplicates(["operator", "metric"], keep="first")
    rep = report_of(totals, rules, month, db.users.teams_by_operator(), inputs)
    if user.role == SUPERVISOR and user.team is not None:
        rep.operators = rep.operators[rep.operators["team"] == user.team].reset_index(drop=True)
        rep.teams = rep.teams[rep.teams["team"] == user.team].reset_index(drop=True)
        kept = set(rep.operators["operator"])
        rep.note_codes = {op: notes for op, notes in rep.note_codes.items() if op in kept}
    if record:
        db.kpis.record_report(
            month=month,
            rules_id=rules.rules.id,
            rules_version=rules.rules.version,
            rules_sha256=rules.sha256,
            created_by=user.username,
            report_json=rep.operators.to_json(orient="records", force_ascii=False),
        )
    return rep


def rebuild_rollups(db: Storage, user: User) -> int:
    """Recompute every monthly rollup from the rows; how many (month, operator) pairs.

    Never needed for correctness (every write marks its rollup stale, and the
    next read recomputes it); for after a restore or a hand edit with
    triggers off.
    """
    if user.role != ADMIN:
        raise PermissionDenied(f"{user.username} ({user.role}) may not rebuild the KPI rollups; an admin may")
    return db.kpis.rebuild()


def operator_month(
    db: Storage, user: User, settings: Settings, rules_path: Path | None = None, months: int = 6
) -> dict:
    """An operator's own view: score trend, items failed most, standing, disputes' effect."""
    from qa_review.core.kpi import dispute_effects, standing

    if user.role != OPERATOR or not user.operator_id:
        raise PermissionDenied(f"{user.username} ({user.role}) has no operator scores of their own")
    rules = _rules(settings, rules_path)
    frames = _frames(db, published_only=True, operator=user.operator_id)
    sc = frames.scorecards[
        (frames.scorecards["operator"] == user.operator_id) & frames.scorecards["status"].isin(PUBLISHED)
    ].copy()
    sc["month"] = month_of(sc["started_at"], settings.timezone) if len(sc) else []
    trend = sc.groupby("month")["score"].agg(["mean", "size"]).round(1).reset_index().tail(months)
    current = trend["month"].max() if len(trend) else None
    mine = sc[sc["month"] == current] if current else sc
    items = frames.items[frames.items["scorecard_id"].isin(mine["scorecard_id"]) & (frames.items["verdict"] == "fail")]
    failed = items.groupby("title").size().sort_values(ascending=False).head(5)
    mean = float(mine["score"].mean()) if len(mine) else None
    return {
        "month": current,
        "trend": trend,
        "failed_items": failed,
        "mean": mean,
        "standing": standing(rules, mean),
        "disputes": dispute_effects(frames, user.operator_id),
        "reviewed": int(len(mine)),
        "min_reviewed": rules.rules.min_reviewed_calls,
    }


def export(rep: Report, fmt: str, dialect: str = EXCEL, lang: str = "ru") -> bytes:
    """CSV (``dialect``: Excel's, with BOM, ';' and decimal comma; or plain RFC 4180), XLSX, or JSON.

    The CSV's header is its first row; each row names its month and rules,
    so a payroll import needs nothing outside the row.
    """
    if fmt == "json":
        return json.dumps(
            {
                **rep.meta(),
                "operators": json.loads(rep.operators.to_json(orient="records", force_ascii=False)),
                "teams": json.loads(rep.teams.to_json(orient="records", force_ascii=False)),
            },
            ensure_ascii=False,
            indent=1,
        ).encode("utf-8")
    if fmt == "csv":
        ops = rep.operators.copy()
        for name, value in (("rules_version", rep.rules_version), ("rules", rep.rules_id), ("month", rep.month)):
            ops.insert(0, name, value)
        return spreadsheet.frame_csv(ops, dialect, lang=lang).encode("utf-8")
    if fmt == "xlsx":
        return _xlsx(rep)
    raise QAReviewError(f"unknown format {fmt!r}; use csv, xlsx or json")


RU_HEADERS = {
    "operator": "Оператор",
    "team": "Команда",
    "calls_reviewed": "Проверено звонков",
    "mean_final_score": "Средний итоговый балл",
    "score_ci_low": "Балл: нижняя граница 95 %",
    "score_ci_high": "Балл: верхняя граница 95 %",
    "band_certain": "Уровень премии определён",
    "critical_fails": "Критичные ошибки",
    "disputes_raised": "Споров подано",
    "disputes_upheld": "Споров принято",
    "open_disputes": "Открытых споров",
    "top_failed_items": "Чаще всего не выполнено",
    "coefficient": "Коэффициент премии",
    "may_change": "Может измениться",
    "note": "Примечание",
    "operators": "Операторов",
    "calls": "Звонков",
    "auto_scored": "С автооценкой",
    "reviewed": "Проверено человеком",
    "reviewed_share": "Доля проверенных",
}


def _xlsx(rep: Report) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    operators = rep.operators.assign(note=rep.notes_in("ru"))
    for title, df in (("Операторы", operators), ("Команды", rep.teams)):
        ws = wb.active if title == "Операторы" else wb.create_sheet()
        ws.title = title
        rows = (["да" if v is True else "нет" if v is False else v for v in row] for row in df.itertuples(index=False))
        spreadsheet.fill_sheet(ws, [RU_HEADERS.get(c, c) for c in df.columns], rows)
        for col in ws.iter_cols(min_row=2):
            for cell in col:
                if isinstance(cell.value, float):
                    cell.number_format = "0.00" if df.columns[cell.column - 1] == "coefficient" else "0.0"
        for col in ws.columns:
            ws.column_dimensions[col[0].column_letter].width = max(
                10, min(45, max(len(str(c.value or "")) for c in col) + 2)
            )
    spreadsheet.about_sheet(
        wb,
        [
            ("Месяц", rep.month),
            ("Правила", f"{rep.rules_id} v{rep.rules_version}"),
            ("Состояние", "Цифры могут измениться: есть открытые споры" if rep.may_change else "Итог"),
        ],
    )
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# --- imported KPI inputs --------------------------------------------------------


@dataclass
class ImportReport:
    rows: int = 0
    errors: list[str] = field(default_factory=list)


def import_inputs(db: Storage, user: User, text: str, where: str = "<csv>") -> ImportReport:
    """CSV: operator, period (YYYY-MM), then one column per metric (e.g. booked_share, aht_s)."""
    if user.role not in (ADMIN, SUPERVISOR):
        raise PermissionDenied(f"{user.username} ({user.role}) may not import KPI inputs")
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delim = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delim)
    cols = [c.strip() for c in reader.fieldnames or []]
    if not {"operator", "period"} <= set(cols) or len(cols) < 3:
        raise QAReviewError(f"{where}: line 1: need columns operator, period and at least one metric")
    reader.fieldnames = cols
    rep = ImportReport()
    mine = overseen_operators(user, db.users.teams_by_operator())  # a team supervisor: their team's rows only
    for raw in reader:
        line = reader.line_num
        op, period = (raw.get("operator") or "").strip(), (raw.get("period") or "").strip()
        try:
            datetime.strptime(period, MONTH_FMT)
        except ValueError:
            rep.errors.append(f"{where}: line {line}: period {period!r}: expected YYYY-MM")
            continue
        if not op:
            rep.errors.append(f"{where}: line {line}: operator is empty")
            continue
        if mine is not None and op not in mine:
            rep.errors.append(f"{where}: line {line}: operator {op} is not in team {user.team}: skipped")
            continue
        values = {}
        for metric in cols[2:]:
            v = (raw.get(metric) or "").strip().replace(",", ".")
            if v == "":
                continue
            try:
                values[metric] = float(v)
            except ValueError:
                rep.errors.append(f"{where}: line {line}: {metric}: {v!r} is not a number")
                values = None
                break
        if values is None:
            continue
        db.kpis.put_inputs(op, period, values)
        rep.rows += 1
    return rep


# --- sampling ----------------------------------------------------------------------


def _may_fill_queues(user: User) -> None:
    if user.role not in (ADMIN, SUPERVISOR):
        raise PermissionDenied(f"{user.username} ({user.role}) may not fill review queues")


def _record_sample(db: Storage, month: str, call_id: str, reason: str, seed: int, assignee: str | None) -> None:
    """Remember the call in the month's sample and put it in the assignee's queue."""
    with db.atomic():
        db.kpis.add_sample(month, call_id, reason, seed, assignee)
        if assignee:
            db.scorecards.assign_call(call_id, assignee, EDITABLE)


def _stable(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big")


def choose(calls: pd.DataFrame, per_operator: int, seed: int) -> pd.DataFrame:
    """Targeted calls first, then a random top-up to ``per_operator`` each.

    Reproducible: the same calls, seed and size give the same sample, whatever
    the order the database returns rows in.
    """
    out = []
    for operator, grp in sorted(calls.groupby("operator"), key=lambda x: x[0]):
        grp = grp.sort_values("call_id")
        picked: dict[str, str] = {}
        for row in grp.itertuples():
            tags = json.loads(row.tags or "[]") if isinstance(row.tags, str) else (row.tags or [])
            if row.critical_failed:
                picked.setdefault(row.call_id, "critical")
            elif row.score is not None and not pd.isna(row.score) and row.score < 60:
                picked.setdefault(row.call_id, "low_score")
            elif row.duration_s is not None and not pd.isna(row.duration_s) and row.duration_s > 600:
                picked.setdefault(row.call_id, "long_call")
            elif "complaint" in tags:
                picked.setdefault(row.call_id, "complaint")
        rest = [c for c in grp["call_id"] if c not in picked]
        need = max(0, per_operator - len(picked))
        rng = np.random.default_rng([seed, _stable(operator)])
        for c in rng.permutation(rest)[:need]:
            picked[str(c)] = "random"
        out += [{"call_id": c, "operator": operator, "reason": r} for c, r in picked.items()]
    return pd.DataFrame(out, columns=["call_id", "operator", "reason"])


def sample(
    db: Storage, user: User, month: str, settings: Settings, per_operator: int = 5, seed: int = 1
) -> pd.DataFrame:
    """Fill the month's review queues: choose calls, assign them round robin to supervisors."""
    _may_fill_queues(user)
    frames = _frames(db, month, items="none")
    sc = frames.scorecards
    auto = sc[sc["status"].isin(EDITABLE)]
    mine = overseen_operators(user, frames.teams)
    if mine is not None:  # a team supervisor fills their own team's queues, not the others'
        auto = auto[auto["operator"].isin(mine)]
    per_call = auto.sort_values("score").groupby("call_id").first().reset_index()
    chosen = choose(per_call, per_operator, seed)
    turn: dict[str | None, int] = {}
    assigned = []
    for row in chosen.itertuples():
        team = frames.teams.get(row.operator)
        sups = sorted(db.users.supervisors_of(team))
        existing = db.kpis.sample_of(month, row.call_id)
        if existing:
            assignee = existing["assignee"]
        else:
            assignee = sups[turn.get(team, 0) % len(sups)] if sups else None
            turn[team] = turn.get(team, 0) + 1
            _record_sample(db, month, row.call_id, row.reason, seed, assignee)
        assigned.append(assignee)
    return chosen.assign(assignee=assigned)


def coverage(db: Storage, user: User, month: str, settings: Settings) -> pd.DataFrame:
    """Per operator: calls, auto-scored, reviewed by a human, and the reviewed share."""
    _may_see_kpis(user)
    out = db.kpis.coverage(month)
    mine = overseen_operators(user, db.users.teams_by_operator())
    if mine is not None:  # a team supervisor: their team's operators only
        out = out[out["operator"].isin(mine)].reset_index(drop=True)
    out["reviewed_share"] = (out["reviewed"] / out["calls"]).round(3)
    return out


# --- dashboards ---------------------------------------------------------------------


def dashboard(db: Storage, user: User, settings: Settings, last_months: int = 3) -> dict[str, pd.DataFrame]:
    """The frames the dashboards draw, aggregated in SQL over the last months.

    Stored times are on the clinic's clock, so ``substr(started_at, 1, 7)`` is
    the clinic's month; aggregating in SQLite keeps a year of a large centre
    (over a million scorecards) out of memory.
    """
    _may_see_kpis(user)
    teams = db.users.teams_by_operator()
    months = db.kpis.months()[:last_months]
    if not months:
        empty = pd.DataFrame()
        return {
            k: empty
            for k in (
                "trend_operator",
                "trend_team",
                "fail_rate",
                "distribution",
                "agreement",
                "wer",
                "coverage",
                "contact",
            )
        }
    mine = overseen_operators(user, teams)
    cards, per_item, coverage = db.kpis.dashboard(min(months), mine)
    per_op = cards.groupby(["month", "operator"])[["total", "n"]].sum().reset_index()
    per_op["team"] = [teams.get(op) or "" for op in per_op["operator"]]
    trend_op = per_op.assign(score=(per_op["total"] / per_op["n"]).round(1))[["month", "operator", "score"]]
    t = per_op.groupby(["month", "team"])[["total", "n"]].sum().reset_index()
    trend_team = t.assign(score=(t["total"] / t["n"]).round(1))[["month", "team", "score"]]
    distribution = (
        cards.dropna(subset=["bin"]).groupby("bin")["n"].sum().rename("calls").reset_index().astype({"bin": int})
    )
    fail_rate = (
        per_item.assign(fail_rate=(per_item["failed"] / per_item["decided"]).round(3))
        .groupby("title", as_index=False)["fail_rate"]
        .max()
        .sort_values("fail_rate", ascending=False)
    )
    agreement = (
        per_item.groupby("item_id", as_index=False)[["scorecards", "same"]]
        .sum()
        .assign(agreement=lambda d: (d["same"] / d["scorecards"]).round(3))[["item_id", "scorecards", "agreement"]]
        .sort_values("agreement")
    )
    coverage["reviewed_share"] = (coverage["reviewed"] / coverage["calls"]).round(3)
    corrected = pd.DataFrame(db.transcripts.corrected_lines(), columns=["model", "text", "original_text"])
    wer_rows = []
    for model, grp in corrected.groupby("model"):
        total = corpus_wer(zip(grp["text"], grp["original_text"]))
        if total.words:
            wer_rows.append({"model": model, "corrected_lines": len(grp), "wer": round(total.wer, 3)})
    return {
        "trend_operator": trend_op,
        "trend_team": trend_team,
        "fail_rate": fail_rate,
        "distribution": distribution,
        "agreement": agreement,
        "wer": pd.DataFrame(wer_rows, columns=["model", "corrected_lines", "wer"]),
        "coverage": coverage,
        "contact": call_log.trend(db, user, settings, months),
    }


def top_up(
    db: Storage,
    user: User,
    month: str,
    settings: Settings,
    extra: int = 3,
    seed: int = 1,
    rules_path: Path | None = None,
) -> pd.DataFrame:
    """More calls for operators whose band is not certain, before the month closes."""
    _may_fill_queues(user)
    rep = report(db, user, month, settings, rules_path)  # a team supervisor's report holds their team only
    unsure = set(rep.operators.loc[~rep.operators["band_certain"], "operator"])
    frames = _frames(db, month, items="none")
    sampled = db.kpis.sampled(month)
    pool = frames.scorecards[
        frames.scorecards["status"].isin(EDITABLE)
        & frames.scorecards["operator"].isin(unsure)
        & ~frames.scorecards["call_id"].isin(sampled)
    ]
    out = []
    for operator, grp in sorted(pool.groupby("operator"), key=lambda x: x[0]):
        calls = sorted(set(grp["call_id"]))
        rng = np.random.default_rng([seed, _stable(operator), 1])
        sups = sorted(db.users.supervisors_of(frames.teams.get(operator)))
        for n, call_id in enumerate(rng.permutation(calls)[:extra]):
            assignee = sups[n % len(sups)] if sups else None
            _record_sample(db, month, str(call_id), "uncertain_band", seed, assignee)
            out.append(
                {"call_id": str(call_id), "operator": operator, "reason": "uncertain_band", "assignee": assignee}
            )
    return pd.DataFrame(out, columns=["call_id", "operator", "reason", "assignee"])
