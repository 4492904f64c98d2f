"""How sure is a monthly score? Pure statistics for fair bonuses.

A mean over a handful of reviewed calls cannot tell 84 from 86. The KPI
report shows each operator's mean with a 95 % confidence interval (Student's
t: the calls are a sample of the operator's month) and flags operators whose
interval crosses a bonus band boundary; the rules say whether such a band
is paid, held, or needs more calls first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Two-sided 95 % quantiles of Student's t by degrees of freedom.
_T95 = {
    1: 12.706,
    2: 4.303,
    3: 3.182,
    4: 2.776,
    5: 2.571,
    6: 2.447,
    7: 2.365,
    8: 2.306,
    9: 2.262,
    10: 2.228,
    11: 2.201,
    12: 2.179,
    13: 2.160,
    14: 2.145,
    15: 2.131,
    16: 2.120,
    17: 2.110,
    18: 2.101,
    19: 2.093,
    20: 2.086,
    21: 2.080,
    22: 2.074,
    23: 2.069,
    24: 2.064,
    25: 2.060,
    26: 2.056,
    27: 2.052,
    28: 2.048,
    29: 2.045,
    30: 2.042,
    40: 2.021,
    60: 2.000,
    120: 1.980,
}


def t95(df: int) -> float:
    if df < 1:
        raise ValueError("a confidence interval needs at least two observations")
    if df in _T95:
        return _T95[df]
    if df > 120:
        return 1.960
    above = min(k for k in _T95 if k > df)
    below = max(k for k in _T95 if k < df)
    # interpolate in 1/df, where t is nearly linear
    w = (1 / df - 1 / above) / (1 / below - 1 / above)
    return _T95[above] + w * (_T95[below] - _T95[above])


@dataclass(frozen=True)
class Interval:
    n: int
    mean: float
    low: float
    high: float

    @property
    def half_width(self) -> float:
        return (self.high - self.low) / 2


def interval(scores: list[float], lo: float = 0.0, hi: float = 100.0) -> Interval | None:
    """95 % interval for the mean score, clipped to the scale; None under two scores."""
    return interval_of_sums(len(scores), math.fsum(scores), math.fsum(s * s for s in scores), lo, hi)


def interval_of_sums(n: int, total: float, total_sq: float, lo: float = 0.0, hi: float = 100.0) -> Interval | None:
    """The same interval from the count, sum and sum of squares of the scores.

    A month's figures kept as running sums (rollups) give the same interval as
    the scores themselves, without reading them.
    """
    if n < 2:
        return None
    mean = total / n
    # max(): rounding can leave a tiny negative variance when every score is equal
    sd = math.sqrt(max(0.0, (total_sq - total * total / n) / (n - 1)))
    h = t95(n - 1) * sd / math.sqrt(n)
    return Interval(n, round(mean, 1), round(max(lo, mean - h), 1), round(min(hi, mean + h), 1))


def band_certain(bands, iv: Interval | None) -> bool:
    """True when the whole interval lies in one band (the same coefficient)."""
    from qa_review.core.bonus_rules import band_of

    if iv is None:
        return False
    a, b = band_of(bands, iv.low), band_of(bands, iv.high)
    return a is not None and b is not None and a.coefficient == b.coefficient
