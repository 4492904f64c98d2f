"""Tags on a call: supervisors (their team's calls) and trainers (any call) add and remove them, audited.

Tags are how a manager finds calls again: the calls list, search and
sampling filter by them (``complaint`` also makes a call a sampling target).
"""

from __future__ import annotations

import re

from qa_review.core.errors import PermissionDenied, QAReviewError
from qa_review.core.permissions import SUPERVISOR, TRAINER, User, can_read_call
from qa_review.storage import Storage
from qa_review.storage.queries import now_iso

MAX_TAG = 40
_BAD = re.compile(r"[;,|\n\r\t]")  # what separates tags in a manifest: a tag cannot hold it


def clean(tag: str) -> str:
    """A tag as stored: trimmed, inner spaces single; refused when empty, too long or holding a separator."""
    t = " ".join(str(tag).split())
    if not t:
        raise QAReviewError("a tag cannot be empty", code="tag_empty")
    if len(t) > MAX_TAG or _BAD.search(t):
        raise QAReviewError(
            f"tag {t[:50]!r}: use up to {MAX_TAG} characters without ; , or |", code="tag_bad", tag=t[:50]
        )
    return t


def set_tags(db: Storage, user: User, call_id: str, tags: list[str]) -> list[str]:
    """Make the call's tags exactly ``tags`` (order kept, duplicates dropped); each tag added or removed
    is one audit entry. Returns the tags as stored."""
    call = db.calls.get(call_id)
    team = db.users.operator_team(call["operator"])
    if user.role not in (SUPERVISOR, TRAINER) or not can_read_call(user, call["operator"], team):
        raise PermissionDenied(f"{user.username} ({user.role}) may not tag call {call_id}", code="denied")
    new = list(dict.fromkeys(clean(t) for t in tags))
    old = call["tags"]
    if new == old:
        return old
    at = now_iso()
    with db.atomic():
        db.calls.set_tags(call_id, new)
        for tag, action in [(t, "tag_added") for t in new if t not in old] + [
            (t, "tag_removed") for t in old if t not in new
        ]:
            db.audit.write(at=at, username=user.username, action=action, call_id=call_id, target=tag)
    return new


def known_tags(db: Storage, user: User) -> list[str]:
    """Every tag in use on calls this user may read, for pickers."""
    teams = db.users.teams_by_operator()
    seen: dict[str, None] = {}
    for operator, tags in db.calls.tags_by_operator():
        if can_read_call(user, operator, teams.get(operator)):
            seen.update(dict.fromkeys(tags))
    return sorted(seen)
