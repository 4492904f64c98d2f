"""Full-text search over transcripts, Russian morphology aware.

SQLite's FTS5 has no Russian stemmer, so the index holds Snowball stems
(the same ones checklist matching uses) and queries are stemmed the same
way: "записала" finds "записать". The index is kept in step with the
transcripts: written when a call is transcribed or ingested, rewritten when
a supervisor corrects a line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlite_utils import Database

from qa_review.core.matching import norm, phrase_words, stem
from qa_review.core.permissions import OPERATOR, User, can_read_call
from qa_review.core.redaction import redact
from qa_review.services import accounts, library

_WORD = re.compile(r"\w+", re.UNICODE)
_QUOTED = re.compile(r'"([^"]+)"')


def stems(text: str) -> list[str]:
    """The same words and stems that checklist matching compares."""
    return [stem(w) for w in phrase_words(text)]


def index_call(db: Database, call_id: str) -> None:
    """(Re)write the index rows of one call from its current segments."""
    db.execute("delete from segments_fts where call_id = ?", [call_id])
    db.conn.executemany(
        "insert into segments_fts (stems, call_id, idx) values (?, ?, ?)",
        [
            (" ".join(stems(r["text"])), call_id, r["idx"])
            for r in db["segments"].rows_where("call_id = ?", [call_id], select="idx, text")
        ],
    )


def fts_query(query: str) -> str:
    """FTS5 syntax from what a trainer types: words (all must occur) and "quoted phrases"."""
    parts = []
    for phrase in _QUOTED.findall(query):
        s = stems(phrase)
        if s:
            parts.append('"' + " ".join(s) + '"')
    rest = _QUOTED.sub(" ", query)
    parts += [f'"{s}"' for s in stems(rest)]
    return " ".join(parts)


@dataclass(frozen=True)
class Hit:
    call_id: str
    idx: int
    speaker: str
    start: float
    text: str
    operator: str
    started_at: str
    channel: str
    highlighted: str


def _highlight(text: str, wanted: set[str]) -> str:
    return _WORD.sub(lambda m: f"**{m.group()}**" if stem(norm(m.group())) in wanted else m.group(), text)


def search(
    db: Database,
    user: User,
    query: str,
    *,
    operator: str | None = None,
    team: str | None = None,
    channel: str | None = None,
    tag: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    item_id: str | None = None,
    verdict: str | None = None,
    speaker: str | None = None,
    limit: int = 200,
) -> list[Hit]:
    """Transcript lines matching ``query`` in calls this user may read, newest first."""
    fts = fts_query(query)
    if not fts:
        return []
    sql = [
        """select g.call_id, g.idx, g.speaker, g.start, g.text, c.operator, c.started_at, c.channel, c.tags
              from segments_fts f join segments g on g.call_id = f.call_id and g.idx = f.idx
              join calls c on c.call_id = g.call_id where segments_fts match ?"""
    ]
    args: list = [fts]
    for col, value in (("c.operator", operator), ("c.channel", channel), ("g.speaker", speaker)):
        if value:
            sql.append(f"and {col} = ?")
            args.append(value)
    if date_from:
        sql.append("and c.started_at >= ?")
        args.append(date_from)
    if date_to:
        sql.append("and substr(c.started_at, 1, 10) <= ?")
        args.append(date_to)
    if tag:
        sql.append("and exists (select 1 from json_each(c.tags) where value = ?)")
        args.append(tag)
    if item_id:
        sql.append(
            """and exists (select 1 from scorecards s join scorecard_items i on i.scorecard_id = s.id
                      where s.call_id = c.call_id and s.status in ('final', 'disputed', 'resolved')
                      and i.item_id = ?"""
            + (" and i.verdict = ?)" if verdict else ")")
        )
        args += [item_id] + ([verdict] if verdict else [])
    sql.append("order by c.started_at desc, g.idx")
    teams = accounts.teams_by_operator(db)
    wanted = set(stems(query.replace('"', " ")))
    # an operator also finds the stretches of other calls shared with them as clips (masked)
    shared = library.shared_call_spans(db, user) if user.role == OPERATOR else {}
    hits = []
    for r in db.query(" ".join(sql), args):
        t = teams.get(r["operator"])
        if team and t != team:
            continue
        text = r["text"]
        if not can_read_call(user, r["operator"], t):
            spans = shared.get(r["call_id"], ())
            if not any(s <= r["start"] <= e for s, e in spans):
                continue
            text = redact(text)
        hits.append(
            Hit(
                r["call_id"],
                r["idx"],
                r["speaker"],
                r["start"],
                text,
                r["operator"],
                r["started_at"],
                r["channel"],
                _highlight(text, wanted),
            )
        )
        if len(hits) >= limit:
            break
    return hits
