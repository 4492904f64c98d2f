"""Monthly KPIs and bonus coefficients: pure pandas over loaded frames.

The same functions feed the KPI page, the CSV / Excel / JSON export and the
benchmark. Months are the clinic's calendar months (``tz``), so a call at
00:30 Moscow time on the 1st belongs to the new month.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from qa_review.core.bonus_rules import LoadedRules, band_of, coefficient
from qa_review.core.fairness import band_certain, interval
from qa_review.core.scoring import ItemResult, total

PUBLISHED = ("final", "disputed", "resolved")
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


def monthly_report(frames: Frames, rules: LoadedRules, month: str, tz: str = "Europe/Moscow") -> Report:
    sc = frames.scorecards
    sc = sc[sc["status"].isin(PUBLISHED)]
    sc = sc[month_of(sc["started_at"], tz) == month] if len(sc) else sc
    ids = set(sc["scorecard_id"])
    items = frames.items[frames.items["scorecard_id"].isin(ids)]
    disputes = frames.disputes[frames.disputes["scorecard_id"].isin(ids)]
    inputs = frames.inputs[frames.inputs["period"] == month]

    by_sc_op = sc.set_index("scorecard_id")["operator"]
    fails = items[items["verdict"] == "fail"].assign(operator=lambda d: d["scorecard_id"].map(by_sc_op))
    top = (
        fails.groupby(["operator", "title"])
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["operator", "n", "title"], ascending=[True, False, True])
        .groupby("operator")
        .head(3)
        .assign(label=lambda d: d["title"] + " (" + d["n"].astype(str) + ")")
        .groupby("operator")["label"]
        .agg("; ".join)
    )
    d = disputes.assign(operator=lambda x: x["scorecard_id"].map(by_sc_op))
    raised = d.groupby("operator").size()
    upheld = d[d["status"] == "upheld"].groupby("operator").size()
    open_ = d[d["status"] == "open"].groupby("operator").size()
    g = sc.groupby("operator")
    ops = pd.DataFrame(
        {
            "calls_reviewed": g.size(),
            "mean_final_score": g["score"].mean().round(1),
            "critical_fails": g["critical_failed"].sum().astype(int),
        }
    )
    ops["disputes_raised"] = raised.reindex(ops.index).fillna(0).astype(int)
    ops["disputes_upheld"] = upheld.reindex(ops.index).fillna(0).astype(int)
    ops["open_disputes"] = open_.reindex(ops.index).fillna(0).astype(int)
    ops["top_failed_items"] = top.reindex(ops.index).fillna("")
    ops = ops.reset_index()
    ops["team"] = ops["operator"].map(frames.teams).fillna("")
    per_input = (
        {op: dict(zip(grp["metric"], grp["value"])) for op, grp in inputs.groupby("operator")} if len(inputs) else {}
    )
    scores_of = sc.dropna(subset=["score"]).groupby("operator")["score"].apply(list)
    coefs, notes, lows, highs, certain = [], [], [], [], []
    r = rules.rules
    for row in ops.itertuples():
        score = None if pd.isna(row.mean_final_score) else float(row.mean_final_score)
        value, parts = coefficient(
            r, score, int(row.critical_fails), int(row.calls_reviewed), per_input.get(row.operator)
        )
        iv = interval(scores_of.get(row.operator, []))
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

    tg = sc.assign(team=sc["operator"].map(frames.teams).fillna("")).groupby("team")
    teams = pd.DataFrame(
        {
            "operators": tg["operator"].nunique(),
            "calls_reviewed": tg.size(),
            "mean_final_score": tg["score"].mean().round(1),
            "critical_fails": tg["critical_failed"].sum().astype(int),
        }
    ).reset_index()
    for col in ("disputes_raised", "disputes_upheld", "open_disputes"):
        teams[col] = teams["team"].map(ops.groupby("team")[col].sum()).fillna(0).astype(int)
    teams = teams.reindex(columns=TEAM_COLUMNS)
    r = rules.rules
    return Report(month, r.id, r.version, ops, teams, bool(ops["may_change"].any()) if len(ops) else False, note_codes)


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
