"""Contact-center figures from the call log: lost calls and callbacks, service level, AHT, FCR.

Pure: a frame of call-log rows and the rules go in, frames come out. The
rows must reach past the month's end by the longest look-ahead (the FCR
window): a callback or a repeat call is looked for among all the rows,
whatever their month, and a call counts in the month it started (on the
clinic's clock, as stored).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from qa_review.core.call_log import ANSWERED, phone_keys
from qa_review.core.call_log_rules import CallLogRules

COLUMNS = [
    "call_id",
    "started_at",
    "direction",
    "phone",
    "queue",
    "operator",
    "status",
    "wait_s",
    "talk_s",
    "hold_s",
]
NO_QUEUE = "(no queue)"
QUEUE_COLUMNS = [
    "queue",
    "offered",
    "answered",
    "short_abandoned",
    "lost",
    "lost_rate",
    "called_back",
    "callback_median_min",
    "service_level",
    "aht_s",
]
OPERATOR_COLUMNS = ["operator", "answered", "aht_s", "fcr_rate", "hold_share"]


def classify(rows: pd.DataFrame, rules: CallLogRules) -> pd.DataFrame:
    """The rows with what each is: its instant, month, number key, and whether it was lost,
    a short abandon, answered within the service level, called back (and after how long)."""
    df = rows.reindex(columns=COLUMNS).copy()
    df["t"] = pd.to_datetime(df["started_at"], utc=True, format="ISO8601")
    df["month"] = df["started_at"].str[:7]
    df["key"] = phone_keys(df["phone"], rules.phone_digits)
    for c in ("wait_s", "talk_s", "hold_s"):
        df[c] = df[c].astype(float).fillna(0.0)
    inbound = df["direction"] == "inbound"
    answered = df["status"] == ANSWERED
    df["inbound"] = inbound
    df["answered"] = answered
    df["short_abandon"] = inbound & ~answered & (df["wait_s"] < rules.lost_min_wait_s)
    df["lost"] = inbound & ~answered & ~df["short_abandon"]
    df["within_sl"] = inbound & answered & (df["wait_s"] <= rules.service_level_s)
    df["handle_s"] = np.where(answered, df["talk_s"] + df["hold_s"], np.nan)
    df["callback_min"] = _next_after(df, df["lost"], df["answered"], rules.callback_window_min * 60)
    df["called_back"] = df["callback_min"].notna()
    repeat = _next_after(df, inbound & answered, inbound, rules.fcr_window_days * 86400)
    df["resolved"] = np.where(inbound & answered & df["key"].notna(), repeat.isna(), np.nan)
    return df


def _next_after(df: pd.DataFrame, which: pd.Series, among: pd.Series, within_s: float) -> pd.Series:
    """For each row in ``which``: minutes until the first row of ``among`` with the same number
    that starts after it, within ``within_s`` (NaN: none, or no number)."""
    out = pd.Series(np.nan, index=df.index)
    left = df[which & df["key"].notna()][["t", "key"]].reset_index().sort_values("t")
    right = df[among & df["key"].notna()][["t", "key"]].rename(columns={"t": "t_next"}).sort_values("t_next")
    if left.empty or right.empty:
        return out
    right["t"] = right["t_next"]
    found = pd.merge_asof(
        left,
        right,
        on="t",
        by="key",
        direction="forward",
        allow_exact_matches=False,  # the call itself, or one at the very same second, is no "after"
        tolerance=pd.Timedelta(seconds=within_s),
    )
    minutes = (found["t_next"] - found["t"]).dt.total_seconds() / 60
    out.loc[found["index"].to_numpy()] = minutes.to_numpy()
    return out


def _rate(num, den) -> float | None:
    return float(num) / float(den) if den else None


def _mean(values: pd.Series) -> float | None:
    values = values.dropna()
    return float(values.mean()) if len(values) else None


@dataclass
class ContactReport:
    month: str
    queues: pd.DataFrame  # QUEUE_COLUMNS
    operators: pd.DataFrame  # OPERATOR_COLUMNS


def month_report(rows: pd.DataFrame, month: str, rules: CallLogRules) -> ContactReport:
    """Per queue and per operator, for the calls that started in ``month``."""
    df = classify(rows, rules)
    m = df[df["month"] == month]
    queues = []
    inbound = m[m["inbound"]].assign(queue=lambda d: d["queue"].fillna(NO_QUEUE))
    for queue, q in inbound.groupby("queue", sort=True):
        offered, short = len(q), int(q["short_abandon"].sum())
        lost = q[q["lost"]]
        back = lost[lost["called_back"]]
        queues.append(
            {
                "queue": queue,
                "offered": offered,
                "answered": int(q["answered"].sum()),
                "short_abandoned": short,
                "lost": len(lost),
                "lost_rate": _rate(len(lost), offered),
                "called_back": len(back),
                "callback_median_min": float(back["callback_min"].median()) if len(back) else None,
                "service_level": _rate(q["within_sl"].sum(), offered - short),
                "aht_s": _mean(q["handle_s"]),
            }
        )
    operators = []
    for op, o in m[m["answered"] & m["operator"].notna()].groupby("operator", sort=True):
        handled = o["talk_s"].sum() + o["hold_s"].sum()
        operators.append(
            {
                "operator": op,
                "answered": len(o),
                "aht_s": _mean(o["handle_s"]),
                "fcr_rate": _mean(o["resolved"].astype(float)),
                "hold_share": _rate(o["hold_s"].sum(), handled),
            }
        )
    return ContactReport(
        month,
        pd.DataFrame(queues, columns=QUEUE_COLUMNS),
        pd.DataFrame(operators, columns=OPERATOR_COLUMNS),
    )


def unreturned(df: pd.DataFrame) -> pd.DataFrame:
    """Lost calls with no answered call to or from the number since, oldest first (``df``: as
    :func:`classify` gives it).

    A lost call without a number cannot be returned: it is listed too.
    """
    last_answer = df[df["answered"] & df["key"].notna()].groupby("key")["t"].max()
    lost = df[df["lost"]].copy()
    if len(last_answer):
        since = lost["key"].map(last_answer)
        lost = lost[since.isna() | (since <= lost["t"])]
    return lost.sort_values(["t", "call_id"])[["call_id", "started_at", "queue", "phone", "wait_s", "key"]]
