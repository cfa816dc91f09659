# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's statistics: its single definition of a percentile, and the estimates, ratio
intervals and family-wise corrected comparisons a report makes across repetitions (scipy, statsmodels).

The contract every cell, sentence, chart and CSV of a report reads through:

* **Cells** (:func:`estimate`): the mean of the repetitions that measured something - a measured zero
  counts, a failed tool run does not - with Student's t 95 % interval (n - 1 degrees of freedom). The
  shown value is the mean, so it always lies inside its own interval. One repetition: the value, no
  interval. Identical values: the value, an interval of zero width, flagged ``degenerate``.
* **Ratios** (:func:`ratio`): A's mean over B's mean with the Fieller interval for a ratio of two
  independent means with unequal variances (Welch-Satterthwaite degrees of freedom evaluated along the
  ratio, so the interval is exactly the set of ratios Welch's test does not reject). It accounts for the
  denominator's noise; it can be unbounded when the denominator's mean is itself not clearly above zero,
  and it is then reported as unbounded, never as a number. The lower bound of a ratio of two
  non-negative quantities is clipped at 0. ``p`` is Welch's two-sided p-value for equal means.
  Degenerate inputs (no spread on either side) are not tested: "identical values, not tested".
* **One family** (:class:`Family`): every comparison a report may turn into a claim is registered, and
  the family is corrected once with Holm's step-down method (family-wise error rate 5 %, valid under
  any dependence between the comparisons). A claim (improvement, regression, leads, a rank, a
  recommendation) is made only from a comparison whose Holm-adjusted p-value is below 0.05.
* **Ranks** (:func:`ranks`): a backend's rank is 1 + the number of backends that beat it in the family;
  nothing is tested again after the correction.
* **p-values** (:func:`p_text`) are printed with enough digits that their side of 0.05 is visible.

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

ALPHA = 0.05
CONFIDENCE = 0.95


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


CORRECTION = "holm"
CORRECTION_NAME = "Holm's step-down method (family-wise error rate)"


def estimate(values: Sequence[float]) -> dict[str, Any]:
    """Mean of the repetitions with its 95 % confidence interval (Student's t, n - 1 degrees of freedom).

    ``half`` is the interval's half-width; None with one value (nothing to estimate a spread from).
    ``degenerate``: more than one value and all identical (a zero-width interval is no evidence of precision).
    """
    if not values:
        raise ValueError("estimate of an empty sample")
    n = len(values)
    mean = float(statistics.fmean(values))
    if n < 2:
        return {"n": 1, "mean": mean, "stdev": None, "half": None, "low": None, "high": None, "degenerate": False}
    stdev = math.sqrt(_variance(values, mean))
    half = float(_t().t.ppf(1 - ALPHA / 2, n - 1)) * stdev / math.sqrt(n)
    return {"n": n, "mean": mean, "stdev": stdev, "half": half, "low": mean - half, "high": mean + half,
            "degenerate": stdev == 0}


def _variance(values: Sequence[float], mean: float) -> float:
    """Sample variance (n - 1) in floating point (statistics.variance is exact but slow)."""
    return math.fsum((float(v) - mean) ** 2 for v in values) / (len(values) - 1)


def _p_at(stdtr, ma: float, va: float, na: int, mb: float, vb: float, nb: int, rho: float) -> float:
    """Welch's two-sided p-value for H0: mean_a = RHO x mean_b (VA, VB: squared standard errors of the means;
    Satterthwaite's degrees of freedom at RHO). STDTR: scipy.special.stdtr, Student's t CDF as a ufunc (the
    same as scipy.stats.t.sf without its per-call overhead), imported once per ratio by the caller."""
    var = va + rho * rho * vb
    if var <= 0:
        return 1.0 if ma == rho * mb else 0.0
    denom = (va * va / (na - 1) if va else 0.0) + (rho ** 4 * vb * vb / (nb - 1) if vb else 0.0)
    df = var * var / denom
    return float(2 * stdtr(df, -abs(ma - rho * mb) / math.sqrt(var)))


def _bound(pfun, start: float, direction: float, step: float) -> float | None:
    """The first ratio from START in DIRECTION where Welch's test rejects (p < ALPHA), or None (unbounded):
    steps growing from STEP by 1.6 bracket it, brentq finds it; past about 10^40 steps it is unbounded."""
    from scipy.optimize import brentq  # pylint: disable=import-outside-toplevel

    inside = start
    for _step in range(200):
        probe = start + direction * step
        if pfun(probe) < ALPHA:
            return float(brentq(lambda r: pfun(r) - ALPHA, min(inside, probe), max(inside, probe),
                                xtol=max(abs(start), step) * 1e-9))
        inside, step = probe, step * 1.6
    return None


def ratio(values: Sequence[float], base: Sequence[float]) -> dict[str, Any]:
    """mean(VALUES) / mean(BASE) with its 95 % Fieller interval (unequal variances) and Welch's p.

    Returns ``ratio``, ``low``/``high`` (None where the interval is unbounded), ``bounded``, ``p`` (Welch's
    two-sided test of equal means, None when not tested), ``tested`` (two or more values on both sides and
    some spread), ``degenerate`` (no spread on either side) and ``why`` (why it was not tested, or '').
    """
    if not values or not base:
        raise ValueError("ratio needs values on both sides")
    na, nb = len(values), len(base)
    ma, mb = float(statistics.fmean(values)), float(statistics.fmean(base))
    out: dict[str, Any] = {"n": [na, nb], "means": [ma, mb], "ratio": ma / mb if mb else None, "low": None,
                           "high": None, "bounded": False, "p": None, "tested": False, "degenerate": False,
                           "why": ""}
    if not mb:
        out["why"] = "the reference measured 0"
        return out
    if na < 2 or nb < 2:
        out["why"] = "one repetition"
        return out
    va, vb = _variance(values, ma) / na, _variance(base, mb) / nb
    if va == 0 and vb == 0:
        out.update(degenerate=True, why="identical values")
        return out
    rho = ma / mb

    from scipy.special import stdtr  # pylint: disable=import-outside-toplevel

    def pfun(r: float) -> float:
        return _p_at(stdtr, ma, va, na, mb, vb, nb, r)

    # half the delta-method standard error of the ratio: the first step of the bracket search
    step = max(0.5 * math.sqrt(va + rho * rho * vb) / abs(mb), max(abs(rho), 1.0) * 1e-9)
    high = _bound(pfun, rho, +1.0, step)
    low = _bound(pfun, rho, -1.0, step)
    if low is not None and min(values) >= 0 and min(base) >= 0:
        low = max(low, 0.0)  # a ratio of non-negative quantities
    elif low is None and min(values) >= 0 and min(base) >= 0:
        low = 0.0
    out.update(tested=True, p=pfun(1.0), low=low, high=high, bounded=low is not None and high is not None)
    return out


def blocked_ratio(pairs: Sequence[tuple[float, float]]) -> dict[str, Any]:
    """A over B measured in blocks (a fleet's hosts: each host measured both): the geometric mean over the blocks
    of mean(A)/mean(B), with the Student t 95 % interval of the mean log ratio (k - 1 degrees of freedom) and the
    one-sample t-test's two-sided p for a ratio of 1. Blocking removes what differs between hosts (their CPUs,
    NICs, kernels) from the comparison: it asks whether A beats B on the same host, host after host.

    PAIRS are the blocks' (A, B) means; blocks where either is not above 0 are left out. Returns the fields of
    :func:`ratio` (``n`` is [blocks, blocks], ``means`` the geometric means)."""
    kept = [(float(a), float(b)) for a, b in pairs if a is not None and b is not None and a > 0 and b > 0]
    k = len(kept)
    out: dict[str, Any] = {"n": [k, k], "means": [None, None], "ratio": None, "low": None, "high": None,
                           "bounded": False, "p": None, "tested": False, "degenerate": False, "why": ""}
    if not kept:
        out["why"] = "no host measured both above 0"
        return out
    logs = [math.log(a / b) for a, b in kept]
    mean = statistics.fmean(logs)
    out.update(ratio=math.exp(mean), means=[math.exp(statistics.fmean(math.log(a) for a, _b in kept)),
                                            math.exp(statistics.fmean(math.log(b) for _a, b in kept))])
    if k < 2:
        out["why"] = "one host"
        return out
    spread = statistics.stdev(logs)
    if spread == 0:
        out.update(degenerate=True, why="the same ratio on every host")
        return out
    t = _t().t
    half = t.ppf(0.5 + CONFIDENCE / 2, k - 1) * spread / math.sqrt(k)
    p = 2 * t.sf(abs(mean) / (spread / math.sqrt(k)), k - 1)
    out.update(tested=True, p=float(p), low=math.exp(mean - half), high=math.exp(mean + half), bounded=True)
    return out


def blocked_compare(pairs: Sequence[tuple[float, float]], higher_is_better: bool = True) -> dict[str, Any]:
    """:func:`blocked_ratio` as a comparison (the fields of :func:`compare`)."""
    rat = blocked_ratio(pairs)
    return dict(rat, **oriented(rat, higher_is_better), higher_is_better=higher_is_better, ratio_low=rat["low"],
                ratio_high=rat["high"], p_adjusted=None, significant=False)


def oriented(rat: dict[str, Any], higher_is_better: bool) -> dict[str, Any]:
    """A ratio as a change in percent where positive is better: (ratio - 1) for a rate, (1 - ratio) for a
    latency or a cost; ``low``/``high`` its interval (None = unbounded on that side)."""
    def pct(r: float | None, sign: float) -> float | None:
        return None if r is None else sign * (r - 1.0) * 100.0

    if rat["ratio"] is None:
        return {"change": None, "low": None, "high": None}
    if higher_is_better:
        return {"change": pct(rat["ratio"], 1.0), "low": pct(rat["low"], 1.0), "high": pct(rat["high"], 1.0)}
    return {"change": pct(rat["ratio"], -1.0), "low": pct(rat["high"], -1.0), "high": pct(rat["low"], -1.0)}


def compare(values: Sequence[float], base: Sequence[float], higher_is_better: bool = True) -> dict[str, Any]:
    """VALUES against BASE: :func:`ratio` with the change in percent (positive = better, see
    :func:`oriented`). ``significant`` is False until a :class:`Family` corrects it: no comparison is a
    claim on its own."""
    rat = ratio(values, base)
    out = dict(rat, **oriented(rat, higher_is_better), higher_is_better=higher_is_better,
               ratio_low=rat["low"], ratio_high=rat["high"], p_adjusted=None, significant=False)
    return out


def reverse(cmp: dict[str, Any]) -> dict[str, Any]:
    """B against A from A against B (a :func:`compare` result on non-negative values whose means are both
    above 0): Fieller's set for mean(B)/mean(A) is the reciprocal of the set for mean(A)/mean(B), and
    Welch's p is the same."""
    def inv(r: float | None, unbounded: float | None) -> float | None:
        if r is None:
            return unbounded
        return None if r == 0 else 1.0 / r

    rat = dict(cmp, n=cmp["n"][::-1], means=cmp["means"][::-1], ratio=inv(cmp["ratio"], None),
               low=inv(cmp["ratio_high"], 0.0) if cmp["tested"] else None,
               high=inv(cmp["ratio_low"], None) if cmp["tested"] else None)
    rat["bounded"] = rat["low"] is not None and rat["high"] is not None
    return dict(rat, **oriented(rat, cmp["higher_is_better"]), ratio_low=rat["low"], ratio_high=rat["high"],
                p_adjusted=None, significant=False)


def margin_tests(values: Sequence[float], base: Sequence[float], higher_is_better: bool,
                 margin_pct: float) -> dict[str, float | None]:
    """The tests behind a gate with a tolerance: is mean(VALUES)/mean(BASE) worse, or better, than the ratio of
    MARGIN_PCT percent (a rate: below 1 - m worse, above 1 + m better; a latency or a cost the other way round),
    or within it? Each is Welch's one-sided test of the shifted ratio (the test Fieller's interval inverts):
    ``worse``/``better`` - the p of "the change is not beyond the margin on that side"; ``within`` - the two
    one-sided tests of equivalence (TOST: the larger of the two p-values, "the change is beyond the margin"
    rejected on both sides). All None when :func:`ratio` would not test (one repetition, no spread, a zero
    reference)."""
    na, nb = len(values), len(base)
    ma = float(statistics.fmean(values)) if na else 0.0
    mb = float(statistics.fmean(base)) if nb else 0.0
    va = _variance(values, ma) / na if na > 1 else 0.0
    vb = _variance(base, mb) / nb if nb > 1 else 0.0
    if na < 2 or nb < 2 or not mb or (va == 0 and vb == 0):
        return {"worse": None, "better": None, "within": None}  # what ratio() does not test either
    from scipy.special import stdtr  # pylint: disable=import-outside-toplevel

    def above(rho: float) -> float:
        """p of H0: ratio <= RHO against ratio > RHO."""
        two = _p_at(stdtr, ma, va, na, mb, vb, nb, rho)
        return two / 2 if ma - rho * mb > 0 else 1 - two / 2

    m = margin_pct / 100.0
    low, high = 1.0 - m, 1.0 + m
    up, down = above(high), (1.0 - above(low)) if low > 0 else 1.0
    # below(rho) = 1 - above(rho) for a continuous test statistic
    out = {"worse": down, "better": up} if higher_is_better else {"worse": up, "better": down}
    within = max(above(low) if low > 0 else 0.0, 1.0 - above(high)) if m > 0 else 1.0
    out["within"] = within
    return out


class Family:
    """Every comparison one report may turn into a claim, corrected once (Holm).

    ``add`` registers a comparison (a dict from :func:`compare`) under a key; mirrored views of the same
    comparison (B vs A) share its adjusted p and verdict without counting twice. ``correct`` sets
    ``p_adjusted`` and ``significant`` on every member and returns the number of tested comparisons.
    """

    def __init__(self) -> None:
        self.members: dict[Any, dict[str, Any]] = {}
        self.mirrors: dict[Any, list[dict[str, Any]]] = {}
        self.size = 0
        self.corrected = False

    def add(self, key: Any, cmp: dict[str, Any], *mirrors: dict[str, Any]) -> dict[str, Any]:
        if self.corrected:
            raise RuntimeError("comparison added after the family was corrected")
        self.members[key] = cmp
        self.mirrors[key] = list(mirrors)
        return cmp

    def tested(self) -> list[Any]:
        """The keys of the members with a p-value (the ones a correction counts)."""
        return [k for k, c in self.members.items() if c["tested"] and c["p"] is not None]

    def correct(self, joint: Any = None) -> int:
        """Holm over the tested members; JOINT (a larger family this one belongs to, e.g. a sweep's: report/sweep.py)
        gives each member's adjusted p and verdict instead (``joint.adjusted(key)``) and the family's size."""
        from statsmodels.stats.multitest import multipletests  # pylint: disable=import-outside-toplevel

        keys = self.tested()
        if joint is not None:
            for key in keys:
                adj, rej = joint.adjusted(key)
                for cmp in [self.members[key], *self.mirrors[key]]:
                    cmp["p_adjusted"], cmp["significant"] = float(adj), bool(rej)
            self.size, self.corrected = int(joint.size), True
            return self.size
        if keys:
            reject, adjusted, _s, _b = multipletests([self.members[k]["p"] for k in keys], alpha=ALPHA,
                                                     method=CORRECTION)
            for key, rej, adj in zip(keys, reject, adjusted):
                for cmp in [self.members[key], *self.mirrors[key]]:
                    cmp["p_adjusted"], cmp["significant"] = float(adj), bool(rej)
        self.size, self.corrected = len(keys), True
        return self.size


def ranks(names: Sequence[str], beats) -> dict[str, int]:
    """Rank per name: 1 + the number of others that beat it (BEATS(a, b): a is significantly better than b)."""
    return {n: 1 + sum(1 for o in names if o != n and beats(o, n)) for n in names}


def p_text(p: float | None, label: str = "p") -> str:
    """``p = 0.012``; ``p < 0.001``; enough digits that the side of 0.05 shows (0.0496, not 0.050)."""
    if p is None:
        return "not tested"
    if p < 0.001:
        return f"{label} < 0.001"
    for digits in range(3, 8):
        text = f"{p:.{digits}f}"
        if (float(text) < ALPHA) == (p < ALPHA):
            return f"{label} = {text}"
    return f"{label} = {p:.8f}"
