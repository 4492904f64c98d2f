"""The full-text index of transcript lines, held as Snowball stems (FTS5 has no Russian stemmer)."""

from __future__ import annotations

from sqlite_utils import Database

from qa_review.core.text_search import stems
from qa_review.storage.queries import Where, marks


class SearchIndex:
    def __init__(self, db: Database) -> None:
        self._db = db

    def index_call(self, call_id: str) -> None:
        """(Re)write the index rows of one call from its current lines."""
        self._db.execute("delete from segments_fts where call_id = ?", [call_id])
        self._db.conn.executemany(
            "insert into segments_fts (stems, call_id, idx) values (?, ?, ?)",
            [
                (" ".join(stems(r["text"])), call_id, r["idx"])
                for r in self._db["segments"].rows_where("call_id = ?", [call_id], select="idx, text")
            ],
        )

    def rebuild(self) -> int:
        """Index every call's lines again; returns how many calls."""
        self._db.execute("delete from segments_fts")
        ids = [r[0] for r in self._db.execute("select distinct call_id from segments").fetchall()]
        for call_id in ids:
            self.index_call(call_id)
        return len(ids)

    def find(
        self,
        fts: str,
        *,
        operator: str | None = None,
        channel: str | None = None,
        speaker: str | None = None,
        date_from: str | None = None,
        date_to: str | None = None,
        tag: str | None = None,
        item_id: str | None = None,
        verdict: str | None = None,
        published: tuple[str, ...] = (),
    ) -> list[dict]:
        """Lines whose stems match the FTS5 query, with their call's facts, newest call first."""
        w = (
            Where()
            .add("segments_fts match ?", fts)
            .eq("c.operator", operator)
            .eq("c.channel", channel)
            .eq("g.speaker", speaker)
            .add("c.started_at >= ?", date_from, when=bool(date_from))
            .add("substr(c.started_at, 1, 10) <= ?", date_to, when=bool(date_to))
            .add("exists (select 1 from json_each(c.tags) where value = ?)", tag, when=bool(tag))
        )
        if item_id:
            w.add(
                f"""exists (select 1 from scorecards s join scorecard_items i on i.scorecard_id = s.id
                    where s.call_id = c.call_id and s.status in ({marks(published)})
                    and i.item_id = ? {"and i.verdict = ?" if verdict else ""})""",
                *published,
                item_id,
                *([verdict] if verdict else []),
            )
        sql = f"""select g.call_id, g.idx, g.speaker, g.start, g.text, c.operator, c.started_at, c.channel, c.tags
                  from segments_fts f join segments g on g.call_id = f.call_id and g.idx = f.idx
                  join calls c on c.call_id = g.call_id {w.sql()} order by c.started_at desc, g.idx"""
        return list(self._db.query(sql, w.args))
