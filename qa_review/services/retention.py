"""The audio retention policy: recordings older than the clinic keeps them are removed; the record stays.

A clinic may not keep patients' voices for ever, but a QA record must
survive its audio: the transcript, the scorecards, the disputes and the
audit stay. Audio a person may still need is never removed: a call under
dispute, one whose dispute window is still open, one in an example
collection, and a recording not yet transcribed.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from qa_review.core.errors import ConfigError
from qa_review.core.permissions import User, require_pipeline
from qa_review.services import archive, logs
from qa_review.services.settings import Settings
from qa_review.storage import Storage


@dataclass
class RetentionPlan:
    months: int
    before: str  # calls that started before this day (the clinic's) are old enough
    calls: list[dict]  # call_id, source_path, started_at
    bytes: int
    kept: dict[str, int]  # old enough, but kept: how many, by reason
    applied: bool = False
    removed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kept = ", ".join(f"{n} {why}" for why, n in self.kept.items() if n) or "none"
        verb = "removed" if self.applied else "would be removed (dry run; --delete to remove)"
        n = len(self.removed) if self.applied else len(self.calls)
        return (
            f"{n} recording(s) of calls before {self.before} {verb}, {self.bytes / 2**20:.1f} MiB; "
            f"kept though old enough: {kept}"
        )


def months_before(day: date, months: int) -> date:
    y, m = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(y, m + 1, min(day.day, calendar.monthrange(y, m + 1)[1]))


def retention(
    db: Storage,
    actor: User,
    settings: Settings,
    *,
    months: int | None = None,
    delete: bool = False,
    now: datetime | None = None,
) -> RetentionPlan:
    """What the policy removes (a dry run), or, with ``delete``, remove it: each call audited."""
    require_pipeline(actor, "retention apply")
    months = months or settings.audio_retention_months
    if months is None or months < 1:
        raise ConfigError(
            "no retention period: set audio_retention_months in qa-review.yaml (or pass --months N); "
            "without one, recordings are kept for good"
        )
    now = now or datetime.now(settings.tz)
    before = months_before(now.astimezone(settings.tz).date(), months).isoformat()
    window = (now - timedelta(days=settings.dispute_window_days)).astimezone(UTC).isoformat(timespec="seconds")
    calls, kept = db.calls.retention_candidates(before, str(archive.folder(settings)), window)
    size = sum(p.stat().st_size for c in calls if (p := Path(c["source_path"])).is_file())
    plan = RetentionPlan(months, before, calls, size, kept)
    if not delete:
        return plan
    at = now.astimezone(UTC).isoformat(timespec="seconds")
    for c in calls:
        # The file first: a crash between the two leaves a call whose audio is
        # gone but not yet marked, which the next run finds and marks.
        Path(c["source_path"]).unlink(missing_ok=True)
        with db.atomic():
            db.calls.mark_audio_removed(c["call_id"], at)
            db.audit.write(
                at=at,
                username=actor.username,
                action="audio_removed",
                call_id=c["call_id"],
                reason=f"retention: recordings kept {months} month(s)",
            )
        plan.removed.append(c["call_id"])
        logs.event("audio removed", call=c["call_id"], months=months)
    plan.applied = True
    logs.event("retention applied", removed=len(plan.removed), months=months, before=before)
    return plan
