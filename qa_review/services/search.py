"""Full-text search over transcripts, Russian morphology aware.

The index holds Snowball stems (the ones checklist matching uses) and queries
are stemmed the same way. It is kept in step with the transcripts by the
storage layer: written with a transcript, rewritten when a line is corrected.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa_review.core.permissions import OPERATOR, PUBLISHED, User, can_read_call
from qa_review.core.redaction import redact
from qa_review.core.text_search import fts_query, highlight, wanted_stems
from qa_review.services import library
from qa_review.storage import Storage


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


def search(
    db: Storage,
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
    rows = db.search.find(
        fts,
        operator=operator,
        channel=channel,
        speaker=speaker,
        date_from=date_from,
        date_to=date_to,
        tag=tag,
        item_id=item_id,
        verdict=verdict,
        published=PUBLISHED,
    )
    teams = db.users.teams_by_operator()
    wanted = wanted_stems(query)
    # an operator also finds the stretches of other calls shared with them as clips (masked)
    shared = library.shared_call_spans(db, user) if user.role == OPERATOR else {}
    hits = []
    for r in rows:
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
                highlight(text, wanted),
            )
        )
        if len(hits) >= limit:
            break
    return hits
