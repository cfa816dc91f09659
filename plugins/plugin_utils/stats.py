# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's single definition of a percentile.

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
