"""Calls: their metadata and state, the batch errors of ingest, and the flags on them."""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlite_utils import Database

from qa_review.core.domain import CallMeta, CallStatus
from qa_review.core.errors import CallNotFound
from qa_review.core.metadata import UNKNOWN_OPERATOR
from qa_review.storage.queries import Where, chunks, existing, marks, now_iso, one

INGESTED, TRANSCRIBED, FAILED = CallStatus
_WAITING = f"kind = 'audio' and status in ('{INGESTED.value}', '{FAILED.value}')"


@dataclass(frozen=True)
class AudioFacts:
    channels: int
    sample_rate: int
    duration_s: float


def _decode(row: dict) -> dict:
    row = dict(row)
    row["tags"] = json.loads(row["tags"] or "[]")
    return row


class Calls:
    def __init__(self, db: Database) -> None:
        self._db = db

    def by_sha(self, sha256: str) -> dict | None:
        return one(self._db, "calls", "content_sha256 = ?", [sha256])

    def add(
        self,
        meta: CallMeta,
        *,
        kind: str,
        source_path: str,
        sha256: str,
        audio: AudioFacts | None = None,
        status: str = INGESTED,
        origin_path: str | None = None,
    ) -> bool:
        """Store a new call; False (and nothing written) when its id or its content is already stored.

        Insert-or-ignore, so two ingests of one file never fail on the unique
        content hash: the second finds the first's row and calls it a duplicate.
        """
        row = {
            "call_id": meta.call_id,
            "kind": kind,
            "channel": meta.channel,
            "operator": meta.operator,
            "started_at": meta.started_at.isoformat(),
            "direction": meta.direction,
            "phone": meta.phone,
            "queue": meta.queue,
            "tags": json.dumps(list(meta.tags), ensure_ascii=False),
            "source_path": source_path,
            "origin_path": origin_path or source_path,
            "content_sha256": sha256,
            "audio_channels": audio.channels if audio else None,
            "sample_rate": audio.sample_rate if audio else None,
            "duration_s": audio.duration_s if audio else None,
            "status": status,
            "error": None,
            "ingested_at": now_iso(),
        }
        cur = self._db.execute(
            f"insert or ignore into calls ({', '.join(row)}) values ({marks(row)})", list(row.values())
        )
        return cur.rowcount == 1

    def ids_by_file_name(self, names) -> dict[str, str]:
        """{file name: call_id} of the calls whose recording has one of these names (any folder)."""
        wanted = set(names)
        if not wanted:
            return {}
        found = {}
        for call_id, path in self._db.execute(
            "select call_id, coalesce(origin_path, source_path) from calls where kind = 'audio'"
        ):
            name = (path or "").replace("\\", "/").rsplit("/", 1)[-1]
            if name in wanted:
                found[name] = call_id
        return found

    def unarchived(self, archive: str) -> list[dict]:
        """Recordings whose file is not in the archive folder yet (call_id, source_path, content_sha256)."""
        prefix = archive.rstrip("/") + "/"
        return list(
            self._db.query(
                "select call_id, source_path, content_sha256 from calls where kind = 'audio' "
                "and substr(source_path, 1, ?) != ? order by call_id",
                [len(prefix), prefix],
            )
        )

    def set_archived(self, call_id: str, archived: str) -> None:
        """The recording now lives at ``archived``; where it came from is kept as its origin."""
        self._db.execute(
            "update calls set origin_path = coalesce(origin_path, source_path), source_path = ? where call_id = ?",
            [archived, call_id],
        )

    def known_origins(self, paths) -> set[str]:
        """Which of these source files have already been ingested (by the path they were ingested from)."""
        found: set[str] = set()
        for part in chunks(sorted(set(paths))):
            found.update(
                r[0]
                for r in self._db.execute(
                    f"select origin_path from calls where origin_path in ({', '.join('?' * len(part))})", part
                )
            )
        return found

    def open_error_times(self, sources) -> dict[str, str]:
        """{source: when its open ingest error was recorded} for these inputs."""
        out: dict[str, str] = {}
        for part in chunks(sorted(set(sources))):
            out.update(
                self._db.execute(
                    "select source, max(at) from ingest_errors where resolved_at is null "
                    f"and source in ({', '.join('?' * len(part))}) group by source",
                    part,
                ).fetchall()
            )
        return out

    def retention_candidates(
        self, before: str, archive: str, finalized_after: str
    ) -> tuple[list[dict], dict[str, int]]:
        """Archived, transcribed recordings of calls started before ``before`` that the policy may remove,
        and how many otherwise old enough are kept, by reason.

        Kept: a call with an open dispute, one in an example collection, one
        whose scorecard was finalized after ``finalized_after`` (its dispute
        window is still open): a dispute weeks later needs the audio.
        """
        prefix = archive.rstrip("/") + "/"
        rows = list(
            self._db.query(
                """select c.call_id, c.source_path, c.started_at,
                       exists(select 1 from disputes d join scorecards s on s.id = d.scorecard_id
                              where s.call_id = c.call_id and d.status = 'open')
                       or exists(select 1 from scorecards s where s.call_id = c.call_id and s.status = 'disputed')
                           as disputed,
                       exists(select 1 from clips k where k.call_id = c.call_id) as in_collection,
                       exists(select 1 from scorecards s where s.call_id = c.call_id and s.finalized_at > ?)
                           as window_open
                from calls c
                where c.kind = 'audio' and c.status = 'transcribed' and c.audio_removed_at is null
                  and c.started_at < ? and substr(c.source_path, 1, ?) = ?
                order by c.started_at""",
                [finalized_after, before, len(prefix), prefix],
            )
        )
        kept = {"open dispute": 0, "in an example collection": 0, "dispute window open": 0}
        out = []
        for r in rows:
            if r["disputed"]:
                kept["open dispute"] += 1
            elif r["in_collection"]:
                kept["in an example collection"] += 1
            elif r["window_open"]:
                kept["dispute window open"] += 1
            else:
                out.append({"call_id": r["call_id"], "source_path": r["source_path"], "started_at": r["started_at"]})
        return out, kept

    def mark_audio_removed(self, call_id: str, at: str) -> None:
        self._db["calls"].update(call_id, {"audio_removed_at": at})

    def fill_missing(self, call_id: str, facts: dict) -> list[str]:
        """Set the given fields where the call has none (operator: where it is 'unknown'); what was set."""
        call = self.get(call_id)
        empty = {
            k: v
            for k, v in facts.items()
            if v is not None and (call.get(k) in (None, "") or (k == "operator" and call[k] == UNKNOWN_OPERATOR))
        }
        if empty:
            self._db["calls"].update(call_id, empty)
        return sorted(empty)

    def set_tags(self, call_id: str, tags: list[str]) -> None:
        self._db["calls"].update(call_id, {"tags": json.dumps(list(tags), ensure_ascii=False)})

    def tags_by_operator(self) -> list[tuple[str, list[str]]]:
        """(operator, the distinct tags on their calls), one row per operator with any."""
        sql = (
            "select c.operator, json_group_array(distinct t.value) from calls c, json_each(c.tags) t "
            "group by c.operator"
        )
        return [(op, json.loads(tags)) for op, tags in self._db.execute(sql)]

    def get(self, call_id: str) -> dict:
        missing = CallNotFound(f"no call with id {call_id!r}; `qa-review calls` lists the calls in the database")
        return _decode(one(self._db, "calls", "call_id = ?", [call_id], missing))

    def existing(self, call_ids) -> set[str]:
        """Which of these call ids are in the database."""
        return existing(self._db, "calls", "call_id", call_ids)

    def many(self, call_ids) -> dict[str, dict]:
        """{call_id: call} for the given ids, one query per 500."""
        found = {}
        for part in chunks(list(set(call_ids))):
            rows = self._db["calls"].rows_where(f"call_id in ({marks(part)})", part)
            found.update((r["call_id"], _decode(r)) for r in rows)
        return found

    def list(
        self, *, status: str | None = None, kind: str | None = None, month: str | None = None, operators=None
    ) -> list[dict]:
        """Calls, newest first; ``month`` (YYYY-MM on the clinic's clock) narrows them."""
        w = Where().month("started_at", month).eq("status", status).eq("kind", kind).among("operator", operators)
        rows = self._db["calls"].rows_where(w.clause(), w.args, order_by="started_at desc, call_id")
        return [_decode(r) for r in rows]

    def count(self, *, status: str | None = None) -> int:
        w = Where().eq("status", status)
        return self._db.execute(f"select count(*) from calls {w.sql()}", w.args).fetchone()[0]

    def months(self) -> list[str]:
        """Months with calls, newest first (stored times are on the clinic's clock)."""
        return [r[0] for r in self._db.execute("select distinct substr(started_at, 1, 7) from calls order by 1 desc")]

    def lacking_scorecard(
        self, checklist_id: str | None, version: int | None, *, channels=None, directions=None, no_direction=False
    ) -> list[str]:
        """Transcribed calls of these channels and directions with no scorecard of this checklist version.

        ``None`` means any channel or direction; ``no_direction`` adds the calls
        whose direction is not set. A ``checklist_id`` of None: no scorecard at all.
        """
        w = Where().add("c.status = ?", TRANSCRIBED).among("c.channel", channels)
        if directions is not None:
            dirs = list(directions)
            cond = f"c.direction in ({marks(dirs)})" if dirs else "0"
            w.add(f"({cond} or coalesce(c.direction, '') = '')" if no_direction else cond, *dirs)
        if checklist_id is None:
            w.add("not exists (select 1 from scorecards s where s.call_id = c.call_id)")
        else:
            w.add(
                "not exists (select 1 from scorecards s where s.call_id = c.call_id "
                "and s.checklist_id = ? and s.checklist_version = ?)",
                checklist_id,
                version,
            )
        return [r[0] for r in self._db.execute(f"select c.call_id from calls c {w.sql()}", w.args)]

    # --- transcription leases -------------------------------------------------
    # Audio calls without a transcript (failed ones are tried again) are taken
    # one at a time under a lease: the owner renews it while it works, and a
    # lease nobody renews expires, so a killed run's calls are taken again.

    def _waiting(self, now: float, among, skip) -> Where:
        # Literal, not bound: only then can SQLite use the partial index of waiting calls (m011).
        w = Where().add(_WAITING).among("call_id", among)
        return w.add(f"call_id not in ({marks(skip)})", *skip, when=bool(skip)).add(
            "(lease_until is null or lease_until < ?)", now
        )

    def waiting(self, *, now: float, among=None, skip=()) -> int:
        """How many calls wait for transcription and are free to take."""
        w = self._waiting(now, among, skip)
        return self._db.execute(f"select count(*) from calls {w.sql()}", w.args).fetchone()[0]

    def held_elsewhere(self, owner: str, *, now: float, among=None) -> int:
        """How many waiting calls another run holds a live lease on."""
        w = Where().add(_WAITING).among("call_id", among)
        w.add("lease_until >= ? and lease_owner != ?", now, owner)
        return self._db.execute(f"select count(*) from calls {w.sql()}", w.args).fetchone()[0]

    def claim(self, owner: str, *, now: float, lease_s: float, among=None, skip=()) -> dict | None:
        """Lease the oldest waiting call that is free; None when there is none.

        Run it inside ``Storage.atomic()``: the write lock is then taken
        before the choice is made, so two runs never choose the same call.
        """
        w = self._waiting(now, among, skip)
        # Without statistics SQLite would pick the status index and sort the whole backlog per call.
        hint = "indexed by calls_waiting" if among is None else ""
        cur = self._db.execute(
            "update calls set lease_owner = ?, lease_until = ? where call_id = "
            f"(select call_id from calls {hint} {w.sql()} order by started_at, call_id limit 1) returning *",
            [owner, now + lease_s, *w.args],
        )
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
        return _decode(dict(zip(names, rows[0], strict=True))) if rows else None

    def renew(self, owner: str, call_ids, *, until: float) -> None:
        ids = list(call_ids)
        if ids:
            self._db.execute(
                f"update calls set lease_until = ? where lease_owner = ? and call_id in ({marks(ids)})",
                [until, owner, *ids],
            )

    def release(self, owner: str) -> None:
        """Give back what ``owner`` still holds (an interrupted run), for the next run to take at once."""
        self._db.execute("update calls set lease_owner = null, lease_until = null where lease_owner = ?", [owner])

    def mark_failed(self, call_id: str, reason: str) -> None:
        self._db["calls"].update(call_id, {"status": FAILED, "error": reason, "lease_owner": None, "lease_until": None})

    def mark_transcribed(self, call_id: str) -> None:
        self._db["calls"].update(
            call_id, {"status": TRANSCRIBED, "error": None, "lease_owner": None, "lease_until": None}
        )

    # --- what went wrong in a batch ---------------------------------------------

    def record_ingest_error(
        self,
        batch: str,
        path: str,
        row: int | None,
        reason: str,
        *,
        source: str | None = None,
        root: str | None = None,
    ) -> None:
        """Record a failed input; an earlier open error of the same input (source and row) is superseded by it."""
        at = now_iso()
        if source is not None:
            self.resolve_ingest_errors(source, row, at=at)
        self._db["ingest_errors"].insert(
            {
                "batch": batch,
                "path": path,
                "row": row,
                "reason": reason,
                "at": at,
                "source": source,
                "root": root,
                "resolved_at": None,
            }
        )

    def resolve_ingest_errors(self, source: str, row: int | None = None, *, at: str | None = None) -> None:
        """Settle the open errors of an input: a file (any row), or one row of a manifest."""
        w = Where().add("source = ? and resolved_at is null", source).add("row = ?", row, when=row is not None)
        self._db.execute(f"update ingest_errors set resolved_at = ? {w.sql()}", [at or now_iso(), *w.args])

    def dismiss_ingest_errors(self, ids: list[int]) -> int:
        w = Where().among("id", ids).add("resolved_at is null")
        return self._db.execute(f"update ingest_errors set resolved_at = ? {w.sql()}", [now_iso(), *w.args]).rowcount

    def ingest_errors(self, batch: str | None = None, *, open_only: bool = False) -> list[dict]:
        w = Where().eq("batch", batch).add("resolved_at is null", when=open_only)
        return list(self._db["ingest_errors"].rows_where(w.clause(), w.args, order_by="id"))

    # --- flags: calls a person should look at ------------------------------------

    def set_flag(self, call_id: str, code: str, detail: str) -> None:
        self._db["call_flags"].upsert(
            {"call_id": call_id, "code": code, "detail": detail, "created_at": now_iso()}, pk=("call_id", "code")
        )

    def clear_flag(self, call_id: str, code: str) -> None:
        self._db.execute("delete from call_flags where call_id = ? and code = ?", [call_id, code])

    def flags(self, call_ids: list[str] | None = None) -> dict[str, list[dict]]:
        """{call_id: [{code, detail}, ...]} for the given calls (all when None)."""
        w = Where().among("call_id", call_ids)
        out: dict[str, list[dict]] = {}
        for r in self._db.query(
            f"select call_id, code, detail from call_flags {w.sql()} order by call_id, code", w.args
        ):
            out.setdefault(r["call_id"], []).append({"code": r["code"], "detail": r["detail"]})
        return out
