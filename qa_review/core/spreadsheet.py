"""Cells a spreadsheet shows as they are and never runs.

Excel and LibreOffice read a CSV cell that begins with ``=``, ``+``, ``-``
or ``@`` (or a tab or carriage return before one) as a formula: an operator
id or a chat message like ``=HYPERLINK(...)`` would run on the payroll
clerk's machine. OWASP's rule: put a single quote before such a text; it
also keeps a phone number such as ``+79161234567`` text rather than a
number. Numbers stay numbers.
"""

from __future__ import annotations

import csv
import io

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


# Two CSV dialects for people. Russian Excel opens a file by double-click
# only if it has a BOM, ';' between cells and a decimal comma; other tools
# (pandas, a database import) want RFC 4180. Both say a yes/no plainly.
EXCEL, PLAIN = "excel", "plain"
YES_NO = {"ru": ("да", "нет"), "en": ("yes", "no")}


def _csv_cell(value, dialect: str, lang: str):
    if hasattr(value, "item") and not isinstance(value, str):  # a numpy scalar from a data frame
        value = value.item()
    if value is None or (isinstance(value, float) and value != value):  # None, NaN
        return ""
    if isinstance(value, bool):
        if dialect == EXCEL:
            yes, no = YES_NO.get(lang, YES_NO["en"])
            return yes if value else no
        return "1" if value else "0"
    if isinstance(value, float) and dialect == EXCEL:
        return repr(value).replace(".", ",")
    return cell(value)


def csv_text(columns, rows, dialect: str = PLAIN, *, lang: str = "ru") -> str:
    """A CSV of ``rows`` (sequences, in ``columns`` order), header first, in the dialect."""
    if dialect not in (EXCEL, PLAIN):
        raise ValueError(f"unknown CSV dialect {dialect!r}; use {EXCEL} or {PLAIN}")
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";" if dialect == EXCEL else ",", lineterminator="\r\n")
    w.writerow(list(columns))
    for r in rows:
        w.writerow([_csv_cell(v, dialect, lang) for v in r])
    return ("\ufeff" if dialect == EXCEL else "") + buf.getvalue()


def frame_csv(df: pd.DataFrame, dialect: str = PLAIN, *, lang: str = "ru") -> str:
    """``csv_text`` of a data frame: its columns, then its rows (NaN as an empty cell)."""
    return csv_text(list(df.columns), df.itertuples(index=False), dialect, lang=lang)


def fill_sheet(ws, header, rows) -> None:
    """``header`` on the sheet's first row (bold, frozen: Excel's sort and filter just work), ``rows`` below.

    NaN is an empty cell, and every text is a text cell, never a formula:
    openpyxl would store "=..." (an operator id, say) as one that Excel runs.
    """
    from openpyxl.styles import Font

    ws.append(list(header))
    for c in ws[1]:
        c.font = Font(bold=True)
    ws.freeze_panes = "A2"
    for r in rows:
        ws.append([None if isinstance(v, float) and v != v else v for v in r])
    for r in ws.iter_rows(min_row=2):
        for c in r:
            if isinstance(c.value, str):
                c.data_type = "s"


def about_sheet(wb, pairs) -> None:
    """A last sheet, «Отчёт», of (what, value) rows: the month, the rules... kept off the data sheets' first row."""
    ws = wb.create_sheet("Отчёт")
    for pair in pairs:
        ws.append(list(pair))
