"""The trainers' library: clips of calls in named collections, shared with operators.

A clip is a stretch of a call that shows one or more checklist items done
well or badly. Whatever leaves the review screens (an exported collection,
what operators open) has personal data masked: the excerpt is redacted and
the audio of a redacted word is bleeped.
"""

from __future__ import annotations

import io
import re
import tempfile
import zipfile
from pathlib import Path

from qa_review.asr.audio import cut, write_clip
from qa_review.core.domain import AUDIO
from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.permissions import ADMIN, OPERATOR, SUPERVISOR, TRAINER, User, can_read_call
from qa_review.core.redaction import redact, word_hits
from qa_review.storage import Storage

CURATORS = (TRAINER, SUPERVISOR, ADMIN)


def _curator(user: User) -> None:
    if user.role not in CURATORS:
        raise PermissionDenied(f"{user.username} ({user.role}) may not edit the training library")


def _sees_every_collection(user: User) -> bool:
    # Trainers and admins keep the library for the whole centre; a team's
    # supervisor sees their own collections and those shared with them.
    return user.role in (TRAINER, ADMIN) or (user.role == SUPERVISOR and user.team is None)


def _owner(db: Storage, user: User, collection_id: int) -> dict:
    """The collection, if ``user`` may change it: whoever made it, or an admin."""
    _curator(user)
    coll = db.library.collection(collection_id)
    if coll["created_by"] != user.username and user.role != ADMIN:
        raise PermissionDenied(
            f"{user.username} may not change collection {collection_id}: {coll['created_by']} keeps it"
        )
    return coll


def _may_open(db: Storage, user: User, collection_id: int) -> dict:
    coll = db.library.collection(collection_id)
    if not (
        _sees_every_collection(user)
        or coll["created_by"] == user.username
        or _reaches(user, db.library.audiences(collection_id))
    ):
        raise PermissionDenied(f"collection {collection_id} is not shared with {user.username}")
    return coll


def create_collection(db: Storage, user: User, name: str, description: str = "") -> int:
    _curator(user)
    name = name.strip()
    if not name:
        raise QAReviewError("a collection needs a name")
    if db.library.collection_named(name):
        raise QAReviewError(f"a collection named {name!r} exists already")
    return db.library.add_collection(name, description, user.username)


def add_clip(
    db: Storage,
    user: User,
    collection_id: int,
    call_id: str,
    start: float,
    end: float,
    items: list[str],
    example: str,
    note: str = "",
) -> int:
    _owner(db, user, collection_id)
    call = db.calls.get(call_id)
    if not can_read_call(user, call["operator"], db.users.operator_team(call["operator"])):
        raise PermissionDenied(f"{user.username} ({user.role}) may not use call {call_id}")
    if example not in ("good", "bad"):
        raise QAReviewError(f"example {example!r}: good or bad")
    t = db.transcripts.get(call_id)
    length = call["duration_s"] or (t.duration_s if t else 0)
    if not 0 <= start < end or (length and end > length + 0.5):
        raise QAReviewError(f"clip {start:.1f}-{end:.1f} s does not fit call {call_id} ({length:.1f} s)")
    return db.library.add_clip(collection_id, call_id, start, end, items, example, note, user.username)


def share(db: Storage, user: User, collection_id: int, audience: str) -> None:
    _owner(db, user, collection_id)
    if not re.match(r"^(all|team:.+|user:.+)$", audience):
        raise QAReviewError(f"audience {audience!r}: all, team:NAME or user:NAME")
    db.library.share(collection_id, audience)


def _reaches(user: User, audiences) -> bool:
    return bool(set(audiences) & {"all", f"team:{user.team}", f"user:{user.username}"})


def collections(db: Storage, user: User) -> list[dict]:
    return [
        c
        for c in db.library.collections()
        if _sees_every_collection(user) or c["created_by"] == user.username or _reaches(user, c["audiences"])
    ]


def clips(db: Storage, user: User, collection_id: int) -> list[dict]:
    """The clips with their excerpts: masked unless the user may read the call itself, and only if shared."""
    _may_open(db, user, collection_id)
    teams = db.users.teams_by_operator()
    calls = db.calls.many(c["call_id"] for c in db.library.clips(collection_id))

    def clear(call_id: str) -> bool:
        op = calls[call_id]["operator"]
        return user.role != OPERATOR and can_read_call(user, op, teams.get(op))

    return [
        {**c, "lines": _excerpt(db, c["call_id"], c["start"], c["end"], masked=not clear(c["call_id"]))}
        for c in db.library.clips(collection_id)
    ]


def _excerpt(db: Storage, call_id: str, start: float, end: float, masked: bool = True) -> list[dict]:
    t = db.transcripts.get(call_id)
    if t is None:
        return []
    return [
        {"speaker": s.speaker, "start": s.start, "text": redact(s.text) if masked else s.text}
        for s in t.segments
        if s.end >= start and s.start <= end
    ]


def _pii_spans(db: Storage, call_id: str, start: float, end: float) -> list[tuple[float, float]]:
    """Times of the words that carry personal data, for bleeping."""
    t = db.transcripts.get(call_id)
    spans = []
    for s in t.segments if t else ():
        if s.end < start or s.start > end or not s.words:
            continue
        for _, i, j in word_hits([w.text for w in s.words]):
            spans.append((s.words[i].start, s.words[j].end))
    return spans


def shared_call_spans(db: Storage, user: User) -> dict[str, list[tuple[float, float]]]:
    """For an operator: calls (and the stretches of them) shared through collections."""
    reached = {c["id"] for c in db.library.collections() if _reaches(user, c["audiences"])}
    out: dict[str, list[tuple[float, float]]] = {}
    for clip in db.library.clips():
        if clip["collection_id"] in reached:
            out.setdefault(clip["call_id"], []).append((clip["start"], clip["end"]))
    return out


def clip_audio(db: Storage, user: User, clip: dict) -> bytes | None:
    """A clip's audio as Ogg/Opus with personal data bleeped; None for a written call or a missing file.

    ``clip`` is one of :func:`clips`' results; what it names is checked again.
    """
    (stored,) = [c for c in db.library.clips(clip["collection_id"]) if c["id"] == clip["id"]] or [None]
    if stored is None:
        raise PermissionDenied(f"no clip {clip.get('id')} in collection {clip.get('collection_id')}")
    _may_open(db, user, stored["collection_id"])
    clip = stored
    call = db.calls.get(clip["call_id"])
    if call["kind"] != AUDIO or not Path(call["source_path"]).exists():
        return None
    spans = _pii_spans(db, clip["call_id"], clip["start"], clip["end"])
    with tempfile.TemporaryDirectory() as tmp:
        out = write_clip(
            cut(Path(call["source_path"]), clip["start"], clip["end"], spans), 16000, Path(tmp) / "clip.ogg"
        )
        return out.read_bytes()


def export_zip(db: Storage, user: User, collection_id: int) -> bytes:
    """The exported collection (see :func:`export_collection`) as one zip archive."""
    with tempfile.TemporaryDirectory() as tmp:
        files = export_collection(db, user, collection_id, Path(tmp))
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for f in files:
                z.write(f, f.name)
    return buf.getvalue()


def export_collection(db: Storage, user: User, collection_id: int, folder: Path) -> list[Path]:
    """A folder with one Ogg/Opus file per clip (personal data bleeped) and a masked excerpt document."""
    coll = db.library.collection(collection_id)
    items = clips(db, user, collection_id)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    doc = [f"# {coll['name']}", "", coll["description"] or "", ""]
    for n, c in enumerate(items, 1):
        call = db.calls.get(c["call_id"])
        safe_id = re.sub(r"[^\w.-]", "_", c["call_id"])
        name = f"{n:02d}-{c['example']}-{safe_id}"
        doc += [
            f"## {n}. {'Хороший' if c['example'] == 'good' else 'Плохой'} пример · {', '.join(c['items'])}",
            "",
            c["note"] or "",
            "",
        ]
        if call["kind"] == AUDIO:
            audio = folder / f"{name}.ogg"
            channels = cut(
                Path(call["source_path"]), c["start"], c["end"], _pii_spans(db, c["call_id"], c["start"], c["end"])
            )
            write_clip(channels, 16000, audio)
            written.append(audio)
            doc.append(f"Аудио: `{audio.name}`")
            doc.append("")
        for line in _excerpt(db, c["call_id"], c["start"], c["end"], masked=True):
            doc.append(f"- `{line['start']:.1f} с` **{line['speaker']}**: {line['text']}")
        doc.append("")
    text_path = folder / "excerpts.md"
    text_path.write_text("\n".join(doc), encoding="utf-8")
    return written + [text_path]
