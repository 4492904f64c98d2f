"""Agreement of automatic verdicts with reference verdicts: pure.

Used by the scoring benchmark (reference = hand-written ground truth) and,
later, by the dashboards (reference = final human verdicts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field


@dataclass
class Agreement:
    pairs: int = 0
    agree: int = 0
    to_review: int = 0  # automatic said "review": a person decides, not a wrong verdict
    fail_tp: int = 0
    fail_fp: int = 0
    fail_fn: int = 0
    critical_wrong_fail: list[tuple[str, str]] = field(default_factory=list)
    per_item: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    disagreements: list[tuple[str, str, str, str]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Share of pairs where the machine gave the reference verdict."""
        return self.agree / self.pairs if self.pairs else 0.0

    @property
    def decided_rate(self) -> float:
        """The same, over the pairs the machine decided (not sent to review)."""
        decided = self.pairs - self.to_review
        return self.agree / decided if decided else 0.0

    @property
    def fail_precision(self) -> float:
        found = self.fail_tp + self.fail_fp
        return self.fail_tp / found if found else 1.0

    @property
    def fail_recall(self) -> float:
        real = self.fail_tp + self.fail_fn
        return self.fail_tp / real if real else 1.0


def compare(
    auto: dict[tuple[str, str], str],
    reference: dict[tuple[str, str], str],
    critical: set[str] = frozenset(),
) -> Agreement:
    """``auto`` and ``reference`` map (call, item) to a verdict."""
    a = Agreement()
    for key, truth in sorted(reference.items()):
        if key not in auto:
            continue
        got = auto[key]
        call, item = key
        a.pairs += 1
        a.per_item[item][1] += 1
        if got == "review":
            a.to_review += 1
        if got == truth:
            a.agree += 1
            a.per_item[item][0] += 1
        else:
            a.disagreements.append((call, item, got, truth))
        if got == "fail" and truth == "fail":
            a.fail_tp += 1
        elif got == "fail":
            a.fail_fp += 1
            if item in critical:
                a.critical_wrong_fail.append(key)
        elif truth == "fail":
            a.fail_fn += 1
    return a
