"""Small helpers every repository uses: optional filters, one-row lookups, times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlite_utils import Database

from qa_review.core.errors import QAReviewError


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def month_range(month: str) -> tuple[str, str]:
    """[first day, first day of the next month) of a YYYY-MM month, as strings.

    Stored times are on the clinic's clock (ingest converts them), so string
    comparison on them is calendar comparison and can use the index.
    """
    try:
        start = datetime.strptime(month, "%Y-%m")
    except (TypeError, ValueError) as e:
        raise QAReviewError(f"month {month!r}: expected YYYY-MM, e.g. 2026-11") from e
    end = (start + timedelta(days=32)).replace(day=1)
    return start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d")


IN_CHUNK = 500  # values per IN (...): well under SQLite's limit on bound variables (32766)


def chunks(values: list, size: int = IN_CHUNK):
    """``values`` in slices an IN (...) list can take."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def existing(db, table: str, column: str, values) -> set:
    """Which of ``values`` stand in ``table.column`` (an indexed key: one lookup each, 500 per query)."""
    found = set()
    for part in chunks(list(set(values))):
        found.update(r[0] for r in db.execute(f"select {column} from {table} where {column} in ({marks(part)})", part))
    return found


def marks(values) -> str:
    """``?, ?, ?`` for an IN list of these values."""
    return ", ".join("?" * len(values))


class Where:
    """AND-ed conditions with their arguments, each added only when its filter is given.

    >>> w = Where().eq("c.operator", "anna").eq("c.channel", None).month("c.started_at", "2026-11")
    >>> w.sql(), w.args
    ('where c.operator = ? and c.started_at >= ? and c.started_at < ?', ['anna', '2026-11-01', '2026-12-01'])
    """

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.args: list = []

    def add(self, sql: str, *args, when: bool = True) -> Where:
        if when:
            self.parts.append(sql)
            self.args.extend(args)
        return self

    def eq(self, column: str, value) -> Where:
        return self.add(f"{column} = ?", value, when=value not in (None, ""))

    def among(self, column: str, values) -> Where:
        """``column in (...)``; an empty list matches nothing, None means no filter."""
        if values is None:
            return self
        values = list(values)
        return self.add(f"{column} in ({marks(values)})", *values) if values else self.add("0")

    def month(self, column: str, month: str | None) -> Where:
        if month:
            self.add(f"{column} >= ? and {column} < ?", *month_range(month))
        return self

    def clause(self) -> str | None:
        """The conditions without the keyword, as sqlite-utils' ``rows_where`` takes them (None: all rows)."""
        return " and ".join(self.parts) or None

    def sql(self, keyword: str = "where") -> str:
        return f"{keyword} {self.clause()}" if self.parts else ""


def one(db: Database, table: str, where: str, args: list, missing: Exception | None = None) -> dict | None:
    """The first row of ``table`` matching; ``missing`` is raised when there is none (else None)."""
    rows = list(db[table].rows_where(where, args, limit=1))
    if rows:
        return rows[0]
    if missing is not None:
        raise missing
    return None
