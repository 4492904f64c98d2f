"""Monthly KPIs and bonus coefficients: pure pandas over loaded frames.

The same functions feed the KPI page, the CSV / Excel / JSON export and the
benchmark. Months are the clinic's calendar months (``tz``), so a call at
00:30 Moscow time on the 1st belongs to the new month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from qa_review.core.bonus_rules import LoadedRules, band_of, coefficient
from qa_review.core.fairness import band_certain, interval_of_sums
from qa_review.core.permissions import PUBLISHED
from qa_review.core.scoring import ItemResult, total

OPERATOR_COLUMNS = (
    "operator",
    "team",
    "calls_reviewed",
    "mean_final_score",
    "score_ci_low",
    "score_ci_high",
    "band_certain",
    "critical_fails",
    "disputes_raised",
    "disputes_upheld",
    "open_disputes",
    "top_failed_items",
    "coefficient",
    "may_change",
    "note",
)
TEAM_COLUMNS = (
    "team",
    "operators",
    "calls_reviewed",
    "mean_final_score",
    "critical_fails",
    "disputes_raised",
    "disputes_upheld",
    "open_disputes",
)


@dataclass
class Frames:
    """What the KPI needs from the database, one row per thing.

    scorecards: scorecard_id, call_id, operator, started_at (tz-aware), checklist_id,
                status, score, critical_failed
    items:      scorecard_id, item_id, title, weight, critical, verdict, auto_verdict
    disputes:   scorecard_id, item_id, status, verdict_before, verdict_after
    inputs:     operator, period, metric, value
    teams:      operator id -> team
    """

    scorecards: pd.DataFrame
    items: pd.DataFrame
    disputes: pd.DataFrame
    inputs: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["operator", "period", "metric", "value"])
    )
    teams: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Report:
    month: str
    rules_id: str
    rules_version: int
    operators: pd.DataFrame
    teams: pd.DataFrame
    may_change: bool  # some scorecards are still under dispute
    note_codes: dict = field(default_factory=dict)  # operator -> [(code, values)], for any language

    def notes_in(self, lang: str) -> list[str]:
        """The note column in ``lang``, in the order of ``operators``."""
        return [render_notes(self.note_codes.get(op, []), lang) for op in self.operators["operator"]]

    def meta(self) -> dict:
        return {
            "month": self.month,
            "rules": self.rules_id,
            "rules_version": self.rules_version,
            "may_change": self.may_change,
        }


# The notes beside an operator's coefficient, in the payroll file and on the
# KPI page alike; kept with the rules that produce them.
NOTES: dict[str, dict[str, str]] = {
    "too_few": {
        "ru": "проверено звонков: {n}, меньше {min} — коэффициент не рассчитан",
        "en": "{n} reviewed call(s), fewer than {min}: no coefficient",
    },
    "no_score": {
        "ru": "нет итогового балла",
        "en": "no final score",
    },
    "no_band": {
        "ru": "балл {score} не попадает ни в один уровень",
        "en": "score {score} falls in no quality band",
    },
    "input_missing": {
        "ru": "нет данных {metric}: учтено как качество",
        "en": "{metric} missing: counted as quality",
    },
    "uncertain": {
        "ru": "балл {spread} по {n} звонкам: уровень премии не определён",
        "en": "score {spread} on {n} calls: band not certain",
    },
    "held": {
        "ru": "коэффициент отложен",
        "en": "coefficient held",
    },
    "more_calls": {
        "ru": "проверьте ещё звонки: qa-review sample --top-up",
        "en": "review more calls: qa-review sample --top-up",
    },
    "open_disputes": {
        "ru": "открытых споров: {n} — цифры могут измениться",
        "en": "{n} dispute(s) still open: figures may change",
    },
}


def render_notes(notes: list, lang: str) -> str:
    return "; ".join((NOTES[code].get(lang) or NOTES[code]["ru"]).format(**values) for code, values in notes)


def month_of(started_at: pd.Series, tz: str) -> pd.Series:
    return pd.to_datetime(started_at, utc=True, format="ISO8601").dt.tz_convert(tz).dt.strftime("%Y-%m")


@dataclass
class Totals:
    """A month's sums per operator: all a report needs, from the rows or from rollups.

    per_operator: operator, calls_reviewed, scored, score_tenths, score_tenths_sq, critical_fails,
                  disputes_raised, disputes_upheld, open_disputes (published scorecards only)

    Scores have one decimal, so their sums are kept in whole tenths: exact,
    whichever order rows or rollups add them in, and so rounded alike.
    failed:       operator, title, n (failed verdicts on those scorecards)
    """

    per_operator: pd.DataFrame
    failed: pd.DataFrame


def month_totals(frames: Frames, month: str, tz: str = "Europe/Moscow") -> Totals:
    """The month's totals computed from the rows (the reference the rollups must equal)."""
    sc = frames.scorecards
    sc = sc[sc["status"].isin(PUBLISHED)]
    sc = sc[month_of(sc["started_at"], tz) == month] if len(sc) else sc
    ids = set(sc["scorecard_id"])
    by_sc_op = sc.set_index("scorecard_id")["operator"]
    items = frames.items[frames.items["scorecard_id"].isin(ids) & (frames.items["verdict"] == "fail")]
    failed = (
        items.assign(operator=lambda d: d["scorecard_id"].map(by_sc_op))
        .groupby(["operator", "title"])
        .size()
        .rename("n")
        .reset_index()
    )
    d = frames.disputes[frames.disputes["scorecard_id"].isin(ids)]
    d = d.assign(operator=d["scorecard_id"].map(by_sc_op))
    tenths = (sc["score"] * 10).round().astype("Int64")
    g = sc.assign(tenths=tenths, sq=tenths * tenths).groupby("operator")
    ops = pd.DataFrame(
        {
            "calls_reviewed": g.size(),
            "scored": g["score"].count(),
            "score_tenths": g["tenths"].sum(),
            "score_tenths_sq": g["sq"].sum(),
            "critical_fails": g["critical_failed"].sum(),
        }
    )
    ops["disputes_raised"] = d.groupby("operator").size()
    ops["disputes_upheld"] = d[d["status"] == "upheld"].groupby("operator").size()
    ops["open_disputes"] = d[d["status"] == "open"].groupby("operator").size()
    return Totals(ops.fillna(0).reset_index(), failed)


def monthly_report(frames: Frames, rules: LoadedRules, month: str, tz: str = "Europe/Moscow") -> Report:
    """The month's report computed from the rows."""
    inputs = frames.inputs[frames.inputs["period"] == month]
    return report_of(month_totals(frames, month, tz), rules, month, frames.teams, inputs)


def _top_failed(failed: pd.DataFrame) -> pd.Series:
    """operator -> "title (n); ..." of the three items failed most (ties by title)."""
    if not len(failed):
        return pd.Series(dtype=str)
    return (
        failed.sort_values(["operator", "n", "title"], ascending=[True, False, True])
        .groupby("operator")
        .head(3)
        .assign(label=lambda d: d["title"] + " (" + d["n"].astype(int).astype(str) + ")")
        .groupby("operator")["label"]
        .agg("; ".join)
    )


def report_of(
    totals: Totals, rules: LoadedRules, month: str, teams: dict[str, str | None], inputs: pd.DataFrame
) -> Report:
    """Coefficients, intervals and notes from the month's totals; ``inputs`` are the month's imported ones."""
    src = totals.per_operator
    if not len(src):
        src = pd.DataFrame(
            columns=[
                "operator",
                "calls_reviewed",
                "scored",
                "score_tenths",
                "score_tenths_sq",
                "critical_fails",
                "disputes_raised",
                "disputes_upheld",
                "open_disputes",
            ]
        )
    counts = ("calls_reviewed", "scored", "critical_fails", "disputes_raised", "disputes_upheld", "open_disputes")
    src = src.astype({c: int for c in (*counts, "score_tenths", "score_tenths_sq")})
    mean = (src["score_tenths"] / (10 * src["scored"]).where(src["scored"] > 0)).round(1)
    ops = src[["operator", *counts]].assign(mean_final_score=mean)
    top = _top_failed(totals.failed)
    ops["top_failed_items"] = [top.get(op, "") for op in ops["operator"]]
    ops["team"] = [teams.get(op) or "" for op in ops["operator"]]
    per_input = (
        {op: dict(zip(grp["metric"], grp["value"])) for op, grp in inputs.groupby("operator")} if len(inputs) else {}
    )
    coefs, notes, lows, highs, certain = [], [], [], [], []
    r = rules.rules
    for row in ops.assign(tenths=src["score_tenths"], tenths_sq=src["score_tenths_sq"]).itertuples():
        score = None if pd.isna(row.mean_final_score) else float(row.mean_final_score)
        value, parts = coefficient(
            r, score, int(row.critical_fails), int(row.calls_reviewed), per_input.get(row.operator)
        )
        iv = interval_of_sums(int(row.scored), row.tenths / 10, row.tenths_sq / 100)
        sure = band_certain(r.quality.bands, iv)
        lows.append(iv.low if iv else None)
        highs.append(iv.high if iv else None)
        certain.append(sure)
        if value is not None and not sure:
            spread = f"{iv.mean:g} ± {iv.half_width:.1f}" if iv else f"{score:g}"
            doubt = [("uncertain", {"spread": spread, "n": int(row.calls_reviewed)})]
            if r.uncertain_band == "hold":
                value = None
                doubt.append(("held", {}))
            elif r.uncertain_band == "more_calls":
                value = None
                doubt.append(("more_calls", {}))
            parts = doubt + parts
        if row.open_disputes:
            parts = parts + [("open_disputes", {"n": int(row.open_disputes)})]
        coefs.append(value)
        notes.append(parts)
    ops["score_ci_low"] = lows
    ops["score_ci_high"] = highs
    ops["band_certain"] = certain
    ops["coefficient"] = coefs
    ops["may_change"] = ops["open_disputes"] > 0
    note_codes = dict(zip(ops["operator"], notes))
    ops["note"] = [render_notes(n, "en") for n in notes]
    ops = ops.reindex(columns=OPERATOR_COLUMNS).sort_values(["team", "operator"]).reset_index(drop=True)

    by_team = src.assign(team=[teams.get(op) or "" for op in src["operator"]]).groupby("team")
    team_frame = pd.DataFrame(
        {
            "operators": by_team.size(),
            "calls_reviewed": by_team["calls_reviewed"].sum(),
            "mean_final_score": (
                by_team["score_tenths"].sum() / (10 * by_team["scored"].sum()).where(lambda n: n > 0)
            ).round(1),
            "critical_fails": by_team["critical_fails"].sum(),
            "disputes_raised": by_team["disputes_raised"].sum(),
            "disputes_upheld": by_team["disputes_upheld"].sum(),
            "open_disputes": by_team["open_disputes"].sum(),
        }
    ).reset_index()
    team_frame = team_frame.reindex(columns=TEAM_COLUMNS)
    may_change = bool(ops["may_change"].any()) if len(ops) else False
    return Report(month, r.id, r.version, ops, team_frame, may_change, note_codes)


def dispute_effects(frames: Frames, operator: str) -> pd.DataFrame:
    """For each resolved dispute of the operator: the score with and without it."""
    sc = frames.scorecards[frames.scorecards["operator"] == operator]
    rows = []
    for d in frames.disputes[frames.disputes["scorecard_id"].isin(sc["scorecard_id"])].itertuples():
        its = frames.items[frames.items["scorecard_id"] == d.scorecard_id]
        now = [ItemResult("", r.item_id, r.title, "", r.weight, bool(r.critical), r.verdict) for r in its.itertuples()]
        before = [
            ItemResult(
                "",
                i.item_id,
                i.title,
                "",
                i.weight,
                i.critical,
                d.verdict_before if i.item_id == d.item_id else i.verdict,
            )
            for i in now
        ]
        s_now, s_before = total(now)[0], total(before)[0]
        call = sc.loc[sc["scorecard_id"] == d.scorecard_id, "call_id"].iloc[0]
        rows.append(
            {
                "call_id": call,
                "item_id": d.item_id,
                "status": d.status,
                "score_before": s_before,
                "score_after": s_now,
                "change": None if s_now is None or s_before is None else round(s_now - s_before, 1),
            }
        )
    return pd.DataFrame(rows, columns=["call_id", "item_id", "status", "score_before", "score_after", "change"])


def standing(rules: LoadedRules, score_mean: float | None) -> dict:
    """Where a mean score stands against the quality bands: current band, next one up."""
    bands = rules.rules.quality.bands
    if score_mean is None:
        return {"band": None, "next": None, "points_to_next": None}
    current = band_of(bands, score_mean)
    better = [b for b in bands if b.min is not None and b.min > score_mean]
    nxt = min(better, key=lambda b: b.min) if better else None
    return {
        "band": current.coefficient if current else None,
        "next": nxt.coefficient if nxt else None,
        "points_to_next": round(nxt.min - score_mean, 1) if nxt else None,
    }
