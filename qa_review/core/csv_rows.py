"""Reading a CSV the way clinics save them: comma, semicolon or tab, with or without Excel's BOM."""

from __future__ import annotations

import csv
import io

from qa_review.core.errors import ManifestError


def dict_reader(text: str, where: str, required: tuple[str, ...], optional: tuple[str, ...], what: str):
    """A DictReader over ``text`` with lower-cased, stripped column names; a missing required
    column fails the whole file, since no row could be read."""
    text = text.removeprefix("\ufeff")
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [h.strip().lower() for h in reader.fieldnames or []]
    missing = [c for c in required if c not in header]
    if missing:
        raise ManifestError(
            f"{where}: line 1: missing column(s) {', '.join(missing)}; {what} needs "
            f"{', '.join(required)} (optional: {', '.join(optional)})"
        )
    reader.fieldnames = header
    return reader
