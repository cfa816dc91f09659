# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's statistics: its single definition of a percentile, and the estimates and
comparisons a report makes across repetitions (on scipy).

Percentiles are computed with :func:`statistics.quantiles` using ``method="inclusive"``:
linear interpolation between the closest ranks of the sorted sample, where the 0th
percentile is the minimum and the 100th the maximum (Hyndman & Fan type 7, the same as
``numpy.percentile``'s default and Excel's ``PERCENTILE.INC``). Every parser that derives
percentiles from raw observations (ping replies, a sockperf ``--full-log``) uses this.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

CONFIDENCE = 0.95
ALPHA = 1 - CONFIDENCE


def percentile(values: Sequence[float], pct: float) -> float:
    """Return the ``pct`` percentile (0..100) of ``values`` (see module docstring)."""
    if not values:
        raise ValueError("percentile of an empty sample")
    if not 0 <= pct <= 100 or math.isnan(pct):
        raise ValueError(f"percentile must be within 0..100, got {pct}")
    if len(values) == 1 or pct == 0:
        return float(min(values))
    if pct == 100:
        return float(max(values))
    frac = Fraction(str(pct)) / 100
    # quantiles(n=d) returns the d-1 cut points k/d, k = 1..d-1
    cuts = statistics.quantiles(values, n=frac.denominator, method="inclusive")
    return float(cuts[frac.numerator - 1])


def summarize(values: Sequence[float], pcts: Sequence[float] = (50, 90, 95, 99)) -> dict[str, float]:
    """min/mean/max/stddev plus the requested percentiles as ``p50``, ``p99_9`` ..."""
    out = {
        "min": float(min(values)),
        "mean": float(statistics.fmean(values)),
        "max": float(max(values)),
        "stddev": float(statistics.pstdev(values)) if len(values) > 1 else 0.0,
    }
    for pct in pcts:
        out[pct_key(pct)] = percentile(values, pct)
    return out


def pct_key(pct: float) -> str:
    """50 -> ``p50``, 99.9 -> ``p99_9``."""
    text = f"{pct:g}"
    return "p" + text.replace(".", "_")


def _t():
    # scipy is imported when a report is built, not when a parser is loaded
    from scipy import stats as scipy_stats  # pylint: disable=import-outside-toplevel

    return scipy_stats


def scipy_version() -> str:
    import scipy  # pylint: disable=import-outside-toplevel

    return scipy.__version__


def estimate(values: Sequence[float]) -> dict[str, Any]:
    """Mean of the repetitions with its 95 % confidence interval (Student's t, n - 1 degrees of freedom).

    ``half`` is the interval's half-width; None with one value (nothing to estimate a spread from).
    """
    if not values:
        raise ValueError("estimate of an empty sample")
    n = len(values)
    mean = float(statistics.fmean(values))
    if n < 2:
        return {"n": 1, "mean": mean, "stdev": None, "half": None, "low": None, "high": None}
    stdev = float(statistics.stdev(values))
    half = float(_t().t.ppf(1 - ALPHA / 2, n - 1)) * stdev / math.sqrt(n)
    return {"n": n, "mean": mean, "stdev": stdev, "half": half, "low": mean - half, "high": mean + half}


def compare(values: Sequence[float], base: Sequence[float], higher_is_better: bool = True) -> dict[str, Any]:
    """Is VALUES different from BASE? Welch's t-test over the repetitions (unequal variances).

    Returns ``change`` (difference of the means in percent of BASE's mean, positive = better whichever
    way better points), its 95 % interval ``low``/``high`` (Welch's interval of the difference of the
    means, relative to BASE's mean: it excludes 0 exactly when ``p`` < 0.05), ``p``, ``tested`` (both
    sides have at least two repetitions) and ``significant``.
    """
    if not values or not base:
        raise ValueError("compare needs values on both sides")
    mean_a, mean_b = float(statistics.fmean(values)), float(statistics.fmean(base))
    sign = 1.0 if higher_is_better else -1.0
    change = sign * (mean_a - mean_b) / mean_b * 100.0 if mean_b else None
    out: dict[str, Any] = {"n": [len(values), len(base)], "change": change, "low": None, "high": None,
                           "p": None, "tested": False, "significant": False}
    if len(values) < 2 or len(base) < 2 or not mean_b:
        return out
    out["tested"] = True
    if statistics.variance(values) == 0 and statistics.variance(base) == 0:
        # no spread on either side: the difference is what it is
        p = 1.0 if mean_a == mean_b else 0.0
        out.update(p=p, low=change, high=change, significant=p < ALPHA)
        return out
    result = _t().ttest_ind(values, base, equal_var=False)
    ci = result.confidence_interval(CONFIDENCE)
    low, high = (sign * float(x) / mean_b * 100.0 for x in (ci.low, ci.high))
    p = float(result.pvalue)
    out.update(p=p, low=min(low, high), high=max(low, high), significant=p < ALPHA)
    return out
