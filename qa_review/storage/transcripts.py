"""Transcripts: their lines (segments), voice activity, ASR facts, and reviewers' corrections."""

from __future__ import annotations

import json

from sqlite_utils import Database

from qa_review.core.domain import Coverage, Diarization, Interval, Segment, Transcript
from qa_review.core.errors import NotFound
from qa_review.storage.queries import now_iso, one
from qa_review.storage.search_index import SearchIndex


class Transcripts:
    def __init__(self, db: Database, index: SearchIndex) -> None:
        self._db = db
        self._index = index

    def save(self, transcript: Transcript, *, model: str, settings: dict, processing_s: float) -> None:
        """Write a whole transcript (replacing any older one) and its search index rows.

        The caller's transaction makes it atomic with the call's new state: a
        process killed midway leaves the call as it was, never half a transcript.
        """
        cid = transcript.call_id
        for table in ("segments", "activity", "transcripts"):
            self._db.execute(f"delete from [{table}] where call_id = ?", [cid])
        coverage = {
            c.speaker: {"speech_s": c.speech_s, "covered_s": c.covered_s, "restored_s": c.restored_s}
            for c in transcript.coverage
        }
        self._db["transcripts"].insert(
            {
                "call_id": cid,
                "source": transcript.source,
                "model": model,
                "language": transcript.language,
                "settings": json.dumps(settings, ensure_ascii=False, sort_keys=True),
                "duration_s": transcript.duration_s,
                "processing_s": processing_s,
                "created_at": now_iso(),
                "coverage": json.dumps(coverage) if coverage else None,
                "unheard": json.dumps([[u.speaker, u.start, u.end] for u in transcript.unheard]),
                "diarization": (
                    json.dumps(transcript.diarization.to_dict(), ensure_ascii=False) if transcript.diarization else None
                ),
            }
        )
        self._db["segments"].insert_all(
            {
                "call_id": cid,
                "idx": i,
                "speaker": s.speaker,
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "words": json.dumps([w.__dict__ for w in s.words], ensure_ascii=False),
            }
            for i, s in enumerate(transcript.segments)
        )
        self._db["activity"].insert_all(
            {"call_id": cid, "speaker": a.speaker, "start": a.start, "end": a.end} for a in transcript.activity
        )
        self._index.index_call(cid)

    def get(self, call_id: str) -> Transcript | None:
        meta = one(self._db, "transcripts", "call_id = ?", [call_id])
        if meta is None:
            return None
        segs = tuple(
            Segment.from_dict({**r, "words": json.loads(r["words"] or "[]")})
            for r in self._db["segments"].rows_where("call_id = ?", [call_id], order_by="idx")
        )
        act = tuple(
            Interval(r["speaker"], r["start"], r["end"])
            for r in self._db["activity"].rows_where("call_id = ?", [call_id], order_by="start")
        )
        cov = json.loads(meta.get("coverage") or "{}")
        return Transcript(
            call_id=call_id,
            segments=segs,
            activity=act,
            duration_s=meta["duration_s"] or 0.0,
            language=meta["language"] or "",
            source=meta["source"],
            coverage=tuple(
                Coverage(sp, v["speech_s"], v["covered_s"], v.get("restored_s", 0.0)) for sp, v in cov.items()
            ),
            unheard=tuple(Interval(sp, s, e) for sp, s, e in json.loads(meta.get("unheard") or "[]")),
            diarization=Diarization.from_dict(json.loads(meta["diarization"])) if meta.get("diarization") else None,
        )

    def info(self, call_id: str) -> dict | None:
        """The ASR facts of a call's transcript: model, settings, coverage, unheard stretches."""
        row = one(self._db, "transcripts", "call_id = ?", [call_id])
        if row is None:
            return None
        row = dict(row)
        row["settings"] = json.loads(row["settings"] or "{}")
        row["coverage"] = json.loads(row.get("coverage") or "{}")
        row["unheard"] = json.loads(row.get("unheard") or "[]")
        row["diarization"] = json.loads(row["diarization"]) if row.get("diarization") else None
        return row

    def line(self, call_id: str, index: int) -> dict:
        missing = NotFound(f"call {call_id} has no transcript line {index}")
        return one(self._db, "segments", "call_id = ? and idx = ?", [call_id, index], missing)

    def correct_line(self, call_id: str, index: int, text: str) -> None:
        """A reviewer's text for a line; the recognizer's first text is kept for WER."""
        seg = self.line(call_id, index)
        self._db["segments"].update(seg["id"], {"text": text, "original_text": seg["original_text"] or seg["text"]})
        self._index.index_call(call_id)

    def set_speakers(self, call_id: str, speakers: dict[int, str], activity, diarization: Diarization | None) -> None:
        """A reviewer's speakers for lines (by index); the machine's first label is kept in auto_speaker,
        and the speech activity and role facts are replaced with the ones the change implies."""
        for idx, speaker in speakers.items():
            self._db.execute(
                "update segments set auto_speaker = coalesce(auto_speaker, speaker), speaker = ?"
                " where call_id = ? and idx = ?",
                [speaker, call_id, idx],
            )
        self._db.execute("delete from activity where call_id = ?", [call_id])
        self._db["activity"].insert_all(
            {"call_id": call_id, "speaker": a.speaker, "start": a.start, "end": a.end} for a in activity
        )
        if diarization is not None:
            self._db["transcripts"].update(
                call_id, {"diarization": json.dumps(diarization.to_dict(), ensure_ascii=False)}
            )
        self._index.index_call(call_id)

    def moved_lines(self, call_id: str) -> dict[int, str]:
        """{index: the machine's speaker} of the lines a reviewer gave to the other side."""
        return {
            r["idx"]: r["auto_speaker"]
            for r in self._db.query(
                "select idx, auto_speaker from segments where call_id = ? and auto_speaker is not null"
                " and auto_speaker != speaker",
                [call_id],
            )
        }

    def insert_line(self, call_id: str, speaker: str, start: float, end: float, text: str, *, added_by: str) -> int:
        """Put a reviewer's line among the others by time; the call's unheard
        stretches it covers are no longer unheard. Returns its index."""
        rows = list(self._db["segments"].rows_where("call_id = ?", [call_id], order_by="idx"))
        index = sum(1 for r in rows if r["start"] <= start)  # after the lines that start no later
        for r in reversed(rows[index:]):
            self._db["segments"].update(r["id"], {"idx": r["idx"] + 1})
        self._db["segments"].insert(
            {
                "call_id": call_id,
                "idx": index,
                "speaker": speaker,
                "start": round(start, 3),
                "end": round(end, 3),
                "text": text,
                "words": "[]",
                "original_text": "",
                "added_by": added_by,
            }
        )
        info = one(self._db, "transcripts", "call_id = ?", [call_id], NotFound(f"call {call_id} has no transcript"))
        unheard = [
            u
            for u in json.loads(info.get("unheard") or "[]")
            if not (u[0] in (speaker, "mixed") and u[1] < end and u[2] > start)
        ]
        self._db["transcripts"].update(call_id, {"unheard": json.dumps(unheard)})
        self._index.index_call(call_id)
        return index

    def reviewed_lines(self, since: str | None = None) -> list[dict]:
        """Every line of the calls a reviewer corrected or added a line to.

        A reviewer who fixed some lines read the call, so its untouched lines are
        references too: ``text`` is what was said, ``asr_text`` what the
        recognizer wrote ('' for a line it never heard). ``since``: ISO date of
        the call.
        """
        sql = """
            select s.call_id, s.idx, s.speaker, s.start, s.end, s.text,
                   case when s.added_by is not null then '' else coalesce(s.original_text, s.text) end as asr_text,
                   s.added_by, c.operator, c.queue, c.started_at, c.source_path, t.model, t.settings
            from segments s
            join calls c on c.call_id = s.call_id
            join transcripts t on t.call_id = s.call_id
            where s.call_id in (select call_id from segments
                                where original_text is not null or added_by is not null)
              and c.kind = 'audio' and (? is null or c.started_at >= ?)
            order by c.started_at, s.call_id, s.idx
        """
        return list(self._db.query(sql, [since, since]))

    def corrected_lines(self) -> list[dict]:
        """(model, text, original_text) of every line a reviewer corrected in a recording: the ASR's measured errors.

        Corrections of written conversations and imported transcripts say
        nothing about the recognizer, so they are left out.
        """
        return list(
            self._db.query(
                """select t.model, s.text, s.original_text from segments s
               join transcripts t on t.call_id = s.call_id join calls c on c.call_id = s.call_id
               where s.original_text is not null and c.kind = 'audio'"""
            )
        )
