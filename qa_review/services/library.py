"""The trainers' library: clips of calls in named collections, shared with operators.

A clip is a stretch of a call that shows one or more checklist items done
well or badly. Whatever leaves the review screens (an exported collection,
what operators open) has personal data masked: the excerpt is redacted and
the audio of a redacted word is bleeped.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sqlite_utils import Database

from qa_review.asr.audio import cut, write_clip
from qa_review.core.errors import NotFound, PermissionDenied, QAReviewError
from qa_review.core.permissions import ADMIN, OPERATOR, SUPERVISOR, TRAINER, User, can_read_call
from qa_review.core.redaction import redact, word_hits
from qa_review.services import accounts
from qa_review.storage import store

CURATORS = (TRAINER, SUPERVISOR, ADMIN)


def _curator(user: User) -> None:
    if user.role not in CURATORS:
        raise PermissionDenied(f"{user.username} ({user.role}) may not edit the training library")


def create_collection(db: Database, user: User, name: str, description: str = "") -> int:
    _curator(user)
    name = name.strip()
    if not name:
        raise QAReviewError("a collection needs a name")
    if list(db["collections"].rows_where("name = ?", [name], limit=1)):
        raise QAReviewError(f"a collection named {name!r} exists already")
    return (
        db["collections"]
        .insert({"name": name, "description": description, "created_by": user.username, "created_at": store.now_iso()})
        .last_pk
    )


def add_clip(
    db: Database,
    user: User,
    collection_id: int,
    call_id: str,
    start: float,
    end: float,
    items: list[str],
    example: str,
    note: str = "",
) -> int:
    _curator(user)
    _collection(db, collection_id)
    call = store.get_call(db, call_id)
    if not can_read_call(user, call["operator"], accounts.operator_team(db, call["operator"])):
        raise PermissionDenied(f"{user.username} ({user.role}) may not use call {call_id}")
    if example not in ("good", "bad"):
        raise QAReviewError(f"example {example!r}: good or bad")
    t = store.get_transcript(db, call_id)
    length = call["duration_s"] or (t.duration_s if t else 0)
    if not 0 <= start < end or (length and end > length + 0.5):
        raise QAReviewError(f"clip {start:.1f}-{end:.1f} s does not fit call {call_id} ({length:.1f} s)")
    return (
        db["clips"]
        .insert(
            {
                "collection_id": collection_id,
                "call_id": call_id,
                "start": start,
                "end": end,
                "items": json.dumps(items),
                "example": example,
                "note": note,
                "created_by": user.username,
                "created_at": store.now_iso(),
            }
        )
        .last_pk
    )


def share(db: Database, user: User, collection_id: int, audience: str) -> None:
    _curator(user)
    _collection(db, collection_id)
    if not re.match(r"^(all|team:.+|user:.+)$", audience):
        raise QAReviewError(f"audience {audience!r}: all, team:NAME or user:NAME")
    db["collection_shares"].upsert(
        {"collection_id": collection_id, "audience": audience}, pk=("collection_id", "audience")
    )


def _collection(db: Database, collection_id: int) -> dict:
    rows = list(db["collections"].rows_where("id = ?", [collection_id], limit=1))
    if not rows:
        raise NotFound(f"no collection {collection_id}")
    return rows[0]


def _shared_with(db: Database, user: User, collection_id: int) -> bool:
    audiences = {r["audience"] for r in db["collection_shares"].rows_where("collection_id = ?", [collection_id])}
    return bool(audiences & {"all", f"team:{user.team}", f"user:{user.username}"})


def collections(db: Database, user: User) -> list[dict]:
    out = []
    for c in db["collections"].rows_where(order_by="name"):
        if user.role in CURATORS or _shared_with(db, user, c["id"]):
            out.append({**c, "clips": db["clips"].count_where("collection_id = ?", [c["id"]])})
    return out


def clips(db: Database, user: User, collection_id: int) -> list[dict]:
    """The clips with their excerpts; operators get them masked, and only if shared."""
    _collection(db, collection_id)
    if user.role not in CURATORS and not _shared_with(db, user, collection_id):
        raise PermissionDenied(f"collection {collection_id} is not shared with {user.username}")
    out = []
    for c in db["clips"].rows_where("collection_id = ?", [collection_id], order_by="id"):
        lines = excerpt(db, c["call_id"], c["start"], c["end"], masked=user.role == OPERATOR)
        out.append({**c, "items": json.loads(c["items"]), "lines": lines})
    return out


def excerpt(db: Database, call_id: str, start: float, end: float, masked: bool = True) -> list[dict]:
    t = store.get_transcript(db, call_id)
    if t is None:
        return []
    return [
        {"speaker": s.speaker, "start": s.start, "text": redact(s.text) if masked else s.text}
        for s in t.segments
        if s.end >= start and s.start <= end
    ]


def pii_spans(db: Database, call_id: str, start: float, end: float) -> list[tuple[float, float]]:
    """Times of the words that carry personal data, for bleeping."""
    t = store.get_transcript(db, call_id)
    spans = []
    for s in t.segments if t else ():
        if s.end < start or s.start > end or not s.words:
            continue
        for _, i, j in word_hits([w.text for w in s.words]):
            spans.append((s.words[i].start, s.words[j].end))
    return spans


def shared_call_spans(db: Database, user: User) -> dict[str, list[tuple[float, float]]]:
    """For an operator: calls (and the stretches of them) shared through collections."""
    out: dict[str, list[tuple[float, float]]] = {}
    for c in db["collections"].rows:
        if _shared_with(db, user, c["id"]):
            for clip in db["clips"].rows_where("collection_id = ?", [c["id"]]):
                out.setdefault(clip["call_id"], []).append((clip["start"], clip["end"]))
    return out


def export_collection(db: Database, user: User, collection_id: int, folder: Path) -> list[Path]:
    """A folder with one Ogg/Opus file per clip (personal data bleeped) and a masked excerpt document."""
    coll = _collection(db, collection_id)
    items = clips(db, user, collection_id)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    doc = [f"# {coll['name']}", "", coll["description"] or "", ""]
    for n, c in enumerate(items, 1):
        call = store.get_call(db, c["call_id"])
        safe_id = re.sub(r"[^\w.-]", "_", c["call_id"])
        name = f"{n:02d}-{c['example']}-{safe_id}"
        doc += [
            f"## {n}. {'Хороший' if c['example'] == 'good' else 'Плохой'} пример · {', '.join(c['items'])}",
            "",
            c["note"] or "",
            "",
        ]
        if call["kind"] == "audio":
            audio = folder / f"{name}.ogg"
            channels = cut(
                Path(call["source_path"]), c["start"], c["end"], pii_spans(db, c["call_id"], c["start"], c["end"])
            )
            write_clip(channels, 16000, audio)
            written.append(audio)
            doc.append(f"Аудио: `{audio.name}`")
            doc.append("")
        for line in excerpt(db, c["call_id"], c["start"], c["end"], masked=True):
            doc.append(f"- `{line['start']:.1f} с` **{line['speaker']}**: {line['text']}")
        doc.append("")
    text_path = folder / "excerpts.md"
    text_path.write_text("\n".join(doc), encoding="utf-8")
    return written + [text_path]
