"""The PBX call log: importing it, and the contact-center figures it gives (lost calls, callbacks,
service level, AHT, FCR)."""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd

from qa_review.core import spreadsheet
from qa_review.core.call_log import mask_phone, read_call_log
from qa_review.core.call_log_rules import LoadedCallLogRules
from qa_review.core.contact_metrics import ContactReport, classify, month_report, unreturned
from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.permissions import ADMIN, SUPERVISOR, TRAINER, User
from qa_review.core.spreadsheet import EXCEL
from qa_review.services.catalog import load_call_log_rules
from qa_review.services.settings import Settings
from qa_review.storage import Storage
from qa_review.storage.queries import month_range, now_iso

# The operators' figures as KPI inputs of the bonus rules (metric name: report column).
KPI_INPUTS = {"answered_calls": "answered", "aht_s": "aht_s", "fcr_rate": "fcr_rate", "hold_share": "hold_share"}


@dataclass
class CallLogImport:
    added: int = 0
    updated: int = 0
    linked: int = 0  # rows whose recording is in the database
    filled: dict[str, int] = field(default_factory=dict)  # field: recordings it was filled on
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{self.added} added, {self.updated} updated, {self.linked} linked to ingested calls"
        if self.filled:
            text += "; filled on recordings: " + ", ".join(f"{k} {n}" for k, n in sorted(self.filled.items()))
        return text + f"; {len(self.errors)} bad row(s)"


def import_call_log(db: Storage, user: User, text: str, settings: Settings, where: str = "<csv>") -> CallLogImport:
    """Read a PBX call log; each row is stored by its call id (again: updated) and linked to its recording.

    A row links by call_id to an ingested call, else by ``recording`` (the
    file name), and fills what that call lacks: the operator (where it is
    'unknown'), direction, phone, queue. Bad rows are reported, the rest go in.
    """
    if not (user.role == ADMIN or (user.role == SUPERVISOR and user.team is None)):
        # the log covers every team: a team's supervisor would rewrite other teams' rows
        raise PermissionDenied(
            f"{user.username} ({user.role}{', team ' + user.team if user.team else ''}) may not import the "
            "call log: it covers every team; an admin or a supervisor without a team imports it"
        )
    rows, errors = read_call_log(text, where, settings.tz)
    report = CallLogImport(errors=errors)
    if not rows:
        return report
    by_name = db.calls.ids_by_file_name(r.recording for r in rows if r.recording)
    known = db.calls.existing(r.call_id for r in rows)
    stored = []
    with db.atomic():
        for r in rows:
            linked = r.call_id if r.call_id in known else by_name.get(r.recording or "")
            stored.append(
                {
                    "call_id": r.call_id,
                    "started_at": r.started_at.isoformat(),
                    "direction": r.direction,
                    "phone": r.phone,
                    "queue": r.queue,
                    "operator": r.operator,
                    "status": r.status,
                    "wait_s": r.wait_s,
                    "talk_s": r.talk_s,
                    "hold_s": r.hold_s,
                    "recording": r.recording,
                    "linked_call_id": linked,
                }
            )
            if linked is None:
                continue
            report.linked += 1
            facts = {"operator": r.operator, "direction": r.direction, "phone": r.phone, "queue": r.queue}
            for name in db.calls.fill_missing(linked, facts):
                report.filled[name] = report.filled.get(name, 0) + 1
        report.added, report.updated = db.call_log.put(stored, source=where)
        db.audit.write(
            at=now_iso(), username=user.username, action="call_log_import", target=where, new=report.summary()
        )
    return report


def _rules(settings: Settings) -> LoadedCallLogRules:
    return load_call_log_rules(settings.call_log_rules)


def _rows_for(db: Storage, month: str, rules: LoadedCallLogRules) -> pd.DataFrame:
    """The month's rows and those after it that a callback or a repeat call may be."""
    start, end = month_range(month)
    ahead = max(rules.rules.fcr_window_days, rules.rules.callback_window_min / 1440)
    until = (datetime.strptime(end, "%Y-%m-%d") + timedelta(days=math.ceil(ahead) + 1)).strftime("%Y-%m-%d")
    return db.call_log.between(start, until)


@dataclass
class CallLogReport:
    month: str
    rules_id: str
    rules_version: int
    rules_source: str
    figures: ContactReport

    @property
    def queues(self) -> pd.DataFrame:
        return self.figures.queues

    @property
    def operators(self) -> pd.DataFrame:
        return self.figures.operators


def _may_see(user: User) -> None:
    if user.role not in (ADMIN, SUPERVISOR, TRAINER):
        raise PermissionDenied(f"{user.username} ({user.role}) may not see the call-log figures")


# A large centre's month is ~750 000 rows and takes seconds to compute; the KPI
# page asks for it on every view. Kept per (database, log version, month, rules).
_FIGURES: dict[tuple, ContactReport] = {}
_FIGURES_KEPT = 24


def _figures(db: Storage, month: str, rules: LoadedCallLogRules) -> ContactReport:
    key = (db.call_log.version(), month, rules.sha256)
    if key not in _FIGURES:
        if len(_FIGURES) >= _FIGURES_KEPT:
            _FIGURES.pop(next(iter(_FIGURES)))
        _FIGURES[key] = month_report(_rows_for(db, month, rules), month, rules.rules)
    return _FIGURES[key]


def report(db: Storage, user: User, month: str, settings: Settings) -> CallLogReport:
    """The month's figures per queue and per operator (a team's supervisor: their team's operators)."""
    _may_see(user)
    rules = _rules(settings)
    whole = _figures(db, month, rules)
    figures = ContactReport(whole.month, whole.queues.copy(), whole.operators.copy())
    if user.role == SUPERVISOR and user.team is not None:
        teams = db.users.teams_by_operator()
        ops = figures.operators
        figures.operators = ops[ops["operator"].map(teams.get) == user.team].reset_index(drop=True)
    return CallLogReport(month, rules.rules.id, rules.rules.version, rules.source, figures)


@dataclass
class LostCalls:
    calls: pd.DataFrame  # call_id, started_at, queue, phone, wait_s, waiting_h: oldest first
    by_day: pd.DataFrame  # day, lost
    by_hour: pd.DataFrame  # hour (0-23), lost
    masked: bool  # the numbers are masked for this user


def lost_calls(
    db: Storage, user: User, settings: Settings, *, days: int = 14, now: datetime | None = None
) -> LostCalls:
    """Lost calls of the last ``days`` with no answered call to or from the number since, oldest first.

    Supervisors and admins see the numbers, to ring them back; trainers see
    them masked. Counts by day and by hour are of every lost call in the
    period, returned or not: when the centre loses them.
    """
    _may_see(user)
    rules = _rules(settings)
    now = (now or datetime.now(settings.tz)).astimezone(settings.tz)
    start = (now - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S")
    classified = classify(db.call_log.between(start, (now + timedelta(days=1)).strftime("%Y-%m-%d")), rules.rules)
    open_ = unreturned(classified)
    masked = user.role not in (ADMIN, SUPERVISOR)
    if masked:
        open_["phone"] = open_["phone"].map(mask_phone)
    started = pd.to_datetime(open_["started_at"], utc=True, format="ISO8601")
    open_["waiting_h"] = ((pd.Timestamp(now) - started).dt.total_seconds() / 3600).round(1)
    lost = classified[classified["lost"]]
    by_day = lost.groupby(lost["started_at"].str[:10]).size().rename_axis("day").reset_index(name="lost")
    hours = lost["started_at"].str[11:13].astype(int) if len(lost) else pd.Series(dtype=int)
    by_hour = hours.value_counts().reindex(range(24), fill_value=0).rename_axis("hour").reset_index(name="lost")
    calls = open_.drop(columns=["key"]).reset_index(drop=True)
    return LostCalls(calls, by_day, by_hour, masked)


TREND_COLUMNS = ["month", "lost_rate", "service_level", "aht_s", "fcr_rate"]


def trend(db: Storage, user: User, settings: Settings, months: list[str]) -> pd.DataFrame:
    """Per month: the centre's lost rate, service level and AHT, and the FCR of the operators this user
    oversees (weighted by their answered calls); months without a call log are left out."""
    rows = []
    for month in sorted(months):
        rep = report(db, user, month, settings)
        q, ops = rep.queues, rep.operators
        if q.empty and ops.empty:
            continue
        offered, short = q["offered"].sum(), q["short_abandoned"].sum()
        within = (q["service_level"].fillna(0) * (q["offered"] - q["short_abandoned"])).sum()
        answered = q["answered"].sum()
        judged = ops.dropna(subset=["fcr_rate"])
        rows.append(
            {
                "month": month,
                "lost_rate": q["lost"].sum() / offered if offered else None,
                "service_level": within / (offered - short) if offered - short else None,
                "aht_s": (q["aht_s"].fillna(0) * q["answered"]).sum() / answered if answered else None,
                "fcr_rate": (judged["fcr_rate"] * judged["answered"]).sum() / judged["answered"].sum()
                if len(judged)
                else None,
            }
        )
    return pd.DataFrame(rows, columns=TREND_COLUMNS)


def kpi_inputs(db: Storage, user: User, month: str, settings: Settings) -> pd.DataFrame:
    """The operators' call-log figures as KPI inputs (operator, period, metric, value) for the bonus rules."""
    ops = report(db, user, month, settings).operators
    rows = [
        (op.operator, month, metric, float(getattr(op, column)))
        for op in ops.itertuples(index=False)
        for metric, column in KPI_INPUTS.items()
        if getattr(op, column) is not None and not pd.isna(getattr(op, column))
    ]
    return pd.DataFrame(rows, columns=["operator", "period", "metric", "value"])


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", force_ascii=False))


RU_HEADERS = {
    "queue": "Очередь",
    "offered": "Поступило",
    "answered": "Принято",
    "short_abandoned": "Короткие сбросы",
    "lost": "Потеряно",
    "lost_rate": "Доля потерянных",
    "called_back": "Перезвонили",
    "callback_median_min": "Медиана перезвона, мин",
    "service_level": "Уровень сервиса",
    "aht_s": "AHT, с",
    "operator": "Оператор",
    "fcr_rate": "FCR",
    "hold_share": "Доля удержания",
}


PERCENT_COLUMNS = ("lost_rate", "service_level", "fcr_rate", "hold_share")


def export(rep: CallLogReport, fmt: str, dialect: str = EXCEL, lang: str = "ru") -> bytes:
    """JSON (rates 0-1, times in seconds, the callback median in minutes), CSV (``dialect``) or XLSX."""
    if fmt == "json":
        return json.dumps(
            {
                "month": rep.month,
                "rules": {"id": rep.rules_id, "version": rep.rules_version, "source": rep.rules_source},
                "queues": _records(rep.queues),
                "operators": _records(rep.operators),
            },
            ensure_ascii=False,
            indent=1,
        ).encode("utf-8")
    if fmt == "csv":
        # One table, header first: a "table" column tells a queue's row from
        # an operator's, so Excel's filter, pandas or a payroll import need
        # nothing but the file.
        columns = list(dict.fromkeys([*rep.queues.columns, *rep.operators.columns]))
        rows = [
            [rep.month, rep.rules_id, rep.rules_version, table, *(rec.get(c) for c in columns)]
            for table, df in (("queue", rep.queues), ("operator", rep.operators))
            for rec in df.to_dict("records")
        ]
        head = ["month", "rules", "rules_version", "table", *columns]
        return spreadsheet.csv_text(head, rows, dialect, lang=lang).encode("utf-8")
    if fmt == "xlsx":
        return _xlsx(rep)
    raise QAReviewError(f"unknown format {fmt!r}; use json, csv or xlsx")


def _xlsx(rep: CallLogReport) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for n, (title, df) in enumerate((("Очереди", rep.queues), ("Операторы", rep.operators))):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = title
        spreadsheet.fill_sheet(ws, [RU_HEADERS.get(c, c) for c in df.columns], df.itertuples(index=False))
        for col in ws.iter_cols(min_row=2):
            for cell in col:
                name = df.columns[cell.column - 1]
                if name in PERCENT_COLUMNS:
                    cell.number_format = "0.0%"
                elif isinstance(cell.value, float):
                    cell.number_format = "0.0"
    spreadsheet.about_sheet(wb, [("Месяц", rep.month), ("Правила", f"{rep.rules_id} v{rep.rules_version}")])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
