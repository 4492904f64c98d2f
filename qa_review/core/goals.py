"""A coaching goal's progress: the goal items' verdicts since it was set, against its target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from qa_review.core.scoring import FAIL, PASS


@dataclass(frozen=True)
class Progress:
    decided: int
    passed: int
    state: str  # achieved | overdue | in_progress | not_started

    @property
    def rate(self) -> float | None:
        return self.passed / self.decided if self.decided else None


def progress(verdicts: list[str], target: float, due: date, today: date) -> Progress:
    """The goal items' verdicts (pass / fail) since the goal was set."""
    decided = [v for v in verdicts if v in (PASS, FAIL)]
    passed = sum(v == PASS for v in decided)
    rate = passed / len(decided) if decided else None
    if rate is not None and rate >= target:
        state = "achieved"
    elif today > due:
        state = "overdue"
    else:
        state = "in_progress" if decided else "not_started"
    return Progress(len(decided), passed, state)
