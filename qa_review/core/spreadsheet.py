"""Cells a spreadsheet shows as they are and never runs.

Excel and LibreOffice read a CSV cell that begins with ``=``, ``+``, ``-``
or ``@`` (or a tab or carriage return before one) as a formula: an operator
id or a chat message like ``=HYPERLINK(...)`` would run on the payroll
clerk's machine. OWASP's rule: put a single quote before such a text; it
also keeps a phone number such as ``+79161234567`` text rather than a
number. Numbers stay numbers.
"""

from __future__ import annotations

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(value):
    """The value as a spreadsheet may read it: a text that could start a formula gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row(values) -> list:
    return [cell(v) for v in values]


def record(mapping: dict) -> dict:
    return {k: cell(v) for k, v in mapping.items()}


def frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text columns are made safe; numeric columns are left as they are."""
    out = df.copy()
    for name in out.columns:
        if out[name].dtype == object or pd.api.types.is_string_dtype(out[name]):
            out[name] = out[name].map(cell)
    return out
