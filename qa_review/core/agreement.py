"""Agreement of automatic verdicts with reference verdicts: pure.

Used by the scoring benchmark (reference = hand-written ground truth) and,
later, by the dashboards (reference = final human verdicts).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations


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


# --- calibration: several reviewers score the same calls blind --------------------------

Ratings = dict[tuple[str, str], dict[str, str]]  # (call, item) -> reviewer -> verdict


def percent_agreement(votes: list[list[str]]) -> float | None:
    """Share of agreeing reviewer pairs, over every subject with two or more votes."""
    agree = pairs = 0
    for v in votes:
        for a, b in combinations(v, 2):
            pairs += 1
            agree += a == b
    return agree / pairs if pairs else None


def cohen_kappa(a: list[str], b: list[str]) -> float | None:
    if len(a) != len(b) or not a:
        return None
    n = len(a)
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[c] * cb[c] for c in set(ca) | set(cb)) / (n * n)
    return 1.0 if pe == 1 else (po - pe) / (1 - pe)


def fleiss_kappa(votes: list[list[str]]) -> float | None:
    """Subjects rated by the same number (≥ 2) of raters; others are left out."""
    if not votes:
        return None
    n = max(len(v) for v in votes)
    votes = [v for v in votes if len(v) == n]
    if n < 2 or not votes:
        return None
    big_n = len(votes)
    cats = sorted({c for v in votes for c in v})
    counts = [Counter(v) for v in votes]
    p_j = [sum(c[cat] for c in counts) / (big_n * n) for cat in cats]
    p_i = [(sum(x * x for x in c.values()) - n) / (n * (n - 1)) for c in counts]
    p_bar = sum(p_i) / big_n
    pe = sum(p * p for p in p_j)
    return 1.0 if pe == 1 else (p_bar - pe) / (1 - pe)


def consensus(votes: dict[str, str]) -> str | None:
    """The majority verdict, or None on a tie."""
    top = Counter(votes.values()).most_common(2)
    if not top or (len(top) > 1 and top[0][1] == top[1][1]):
        return None
    return top[0][0]


@dataclass
class Report:
    items: list[dict]  # item, calls, percent_agreement, kappa, spread
    reviewers: list[dict]  # reviewer, rated, deviation (share differing from consensus)


def report(ratings: Ratings) -> Report:
    by_item: dict[str, list[dict[str, str]]] = {}
    for (_call, item), votes in ratings.items():
        by_item.setdefault(item, []).append(votes)
    items = []
    for item, subjects in sorted(by_item.items()):
        lists = [list(v.values()) for v in subjects]
        reviewers = sorted({r for v in subjects for r in v})
        kappa = None
        if len(reviewers) == 2:
            both = [v for v in subjects if len(v) == 2]
            kappa = cohen_kappa([v[reviewers[0]] for v in both], [v[reviewers[1]] for v in both])
        else:
            kappa = fleiss_kappa(lists)
        items.append(
            {
                "item": item,
                "calls": len(subjects),
                "percent_agreement": percent_agreement(lists),
                "kappa": kappa,
                "spread": sum(len(set(v)) > 1 for v in lists),  # calls where reviewers disagreed
            }
        )
    dev: dict[str, list[int]] = {}
    for votes in ratings.values():
        c = consensus(votes)
        if c is None:
            continue
        for r, v in votes.items():
            d = dev.setdefault(r, [0, 0])
            d[0] += v != c
            d[1] += 1
    reviewers = [{"reviewer": r, "rated": n, "deviation": k / n} for r, (k, n) in sorted(dev.items())]
    return Report(items, reviewers)
