# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every comparison one report makes between the ranked backends, as one corrected family.

``evaluate`` takes the report's cells (per row and backend: the repetitions' values) and returns the
pairwise comparisons of every row, of the category and composite scores, of the host CPU score and of
the latency tails (P99/P50), all registered in one :class:`stats.Family` and corrected together (Holm),
and the ranks that follow from them. The report's sentences, rankings and recommendations read these
results; none of them tests anything again. The native reference is not part of the family: its
percentages are estimates with intervals, never claims.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import SECTIONS, Row, compared
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import Family, compare, estimate, ranks, reverse

# The categories of the ranking (host CPU cost is compared beside the ranking, not in it).
CATEGORIES = ("throughput", "latency", "pps", "transactions")
COMPOSITE = "composite"
CPU_SCORE = "cpu"


def usable(cell: dict[str, Any] | None) -> bool:
    """A cell with at least one measured repetition."""
    return bool(cell) and cell["n"] > 0


def make_cell(reps: dict[int, float]) -> dict[str, Any] | None:
    """A cell from its repetitions' values (repetition -> value): every measured value counts, a zero
    included; the shown value is the mean, with its interval (stats.estimate). None without values."""
    if not reps:
        return None
    order = sorted(reps)
    values = [float(reps[k]) for k in order]
    est = estimate(values)
    return {"n": est["n"], "value": est["mean"], "mean": est["mean"], "half": est["half"], "low": est["low"],
            "high": est["high"], "degenerate": est["degenerate"], "values": values, "repetitions": order,
            "zeros": [k for k in order if reps[k] == 0]}


class Verdicts:
    """The family's comparisons by key, and the ranks and scores derived from them."""

    def __init__(self, ranked: Sequence[str]) -> None:
        self.ranked = list(ranked)
        # the ranked backends with at least one value: the ones the hierarchy lists
        self.scored: list[str] = []
        self.family = Family()
        self.pairs: dict[tuple[Any, str, str], dict[str, Any]] = {}
        self.scores: dict[str, dict[str, list[float]]] = {}
        self.score_rows: dict[str, list[Row]] = {}
        self.left_out: list[str] = []
        self.ranks: dict[str, dict[str, int]] = {}
        self.jitter: dict[str, dict[str, list[float]]] = {}

    def add_pairs(self, key: Any, values: dict[str, list[float]], higher_is_better: bool = True) -> None:
        names = [n for n in self.ranked if values.get(n)]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                ab = compare(values[a], values[b], higher_is_better)
                positive = min(values[a] + values[b]) >= 0 and ab["means"][0] > 0 and ab["means"][1] > 0
                ba = reverse(ab) if positive else compare(values[b], values[a], higher_is_better)
                self.pairs[(key, a, b)], self.pairs[(key, b, a)] = ab, ba
                self.family.add((key, a, b), ab, ba)

    def pair(self, key: Any, a: str, b: str) -> dict[str, Any] | None:
        """A's comparison with B under KEY (a Row, a score name or ('jitter', label)); None when not compared."""
        return self.pairs.get((key, a, b))

    def beats(self, key: Any, a: str, b: str) -> bool:
        """A is better than B under KEY, after the family's correction."""
        cmp = self.pairs.get((key, a, b))
        return bool(cmp) and cmp["significant"] and cmp["change"] is not None and cmp["change"] > 0

    def rank_of(self, key: Any, names: Iterable[str]) -> dict[str, int]:
        names = list(names)
        return ranks(names, lambda a, b: self.beats(key, a, b))

    @property
    def size(self) -> int:
        return self.family.size


def per_rep_scores(rows: Sequence[Row], cells: dict, names: Sequence[str]
                   ) -> tuple[dict[str, list[float]], list[Row], list[str]]:
    """Each backend's score per repetition over ROWS: the geometric mean of value ÷ best mean (rates) or best
    mean ÷ value (latencies, costs); 1.0 = the best mean in every row, 0 when a rate measured 0. Rows are
    paired by repetition number: a repetition counts only where every row has it. Returns the scores, the
    rows scored and why other rows were left out."""
    counted, left_out = [], []
    best: dict[Row, float] = {}
    for row in rows:
        means = [cells[row][n]["mean"] for n in names]
        best[row] = max(means) if row.higher_is_better else min(means)
        if row.higher_is_better and best[row] <= 0:
            left_out.append(f"{row.label} (0 on every ranked backend)")
        elif not row.higher_is_better and best[row] <= 0:
            left_out.append(f"{row.label} (a value of 0, no ratio to score)")
        elif not row.higher_is_better and min(v for n in names for v in cells[row][n]["values"]) <= 0:
            # best ÷ 0: a latency or cost of 0 in one repetition has no finite ratio (it is shown, not scored)
            left_out.append(f"{row.label} (a repetition measured 0, no ratio to score)")
        else:
            counted.append(row)
    out: dict[str, list[float]] = {}
    for name in names:
        if not counted:
            out[name] = []
            continue
        per_row = [dict(zip(cells[row][name]["repetitions"], cells[row][name]["values"])) for row in counted]
        common = sorted(set.intersection(*(set(r) for r in per_row)))
        scores = []
        for k in common:
            factors = [(vals[k] / best[row]) if row.higher_is_better else (best[row] / vals[k])
                       for row, vals in zip(counted, per_row)]
            scores.append(0.0 if min(factors) <= 0 else math.exp(sum(math.log(f) for f in factors) / len(factors)))
        out[name] = scores
    return out, counted, left_out


def jitter_ratios(p50: dict[str, Any] | None, p99: dict[str, Any] | None) -> list[float]:
    """P99/P50 per repetition, paired by repetition number."""
    if not (usable(p50) and usable(p99)):
        return []
    lows = dict(zip(p50["repetitions"], p50["values"]))
    return [v / lows[k] for k, v in zip(p99["repetitions"], p99["values"]) if lows.get(k)]


def evaluate(rows: Sequence[Row], cells: dict, ranked: Sequence[str], joint: Any = None) -> Verdicts:
    """Register and correct every comparison the report can claim: per row each pair of RANKED backends
    with values, the category and composite scores, the host CPU score and the ICMP/TCP tails. JOINT: the larger
    family these belong to (a sweep's point, stats.Family.correct)."""
    out = Verdicts(ranked)
    for row in (r for r in rows if compared(r)):
        out.add_pairs(row, {n: cells[row][n]["values"] for n in ranked if usable(cells[row].get(n))},
                      row.higher_is_better)
    # the ranking: category scores on the rows every ranked backend measured, then their geometric mean
    scored = out.scored = [n for n in ranked if any(usable(cells[r].get(n)) for r in rows)]
    for key, _title, _first in SECTIONS:
        if key not in CATEGORIES:
            continue
        complete = []
        for row in (r for r in rows if r.section == key):
            missing = [n for n in scored if not usable(cells[row].get(n))]
            if missing:
                out.left_out.append(f"{row.label} (no value on {', '.join(missing)})")
            else:
                complete.append(row)
        if not complete or not scored:
            continue
        scores, counted, left = per_rep_scores(complete, cells, scored)
        out.left_out.extend(left)
        if counted:
            out.scores[key], out.score_rows[key] = scores, counted
    if out.scores:
        composite = {}
        for name in scored:
            per_cat = [out.scores[c][name] for c in out.scores]
            reps = min(len(s) for s in per_cat)
            composite[name] = [0.0 if min(s[k] for s in per_cat) <= 0 else
                               math.exp(sum(math.log(s[k]) for s in per_cat) / len(per_cat)) for k in range(reps)]
        out.scores[COMPOSITE] = composite
    cpu_rows = [r for r in rows if r.section == "cpu"]
    cheap = [n for n in ranked if cpu_rows and all(usable(cells[r].get(n)) for r in cpu_rows)]
    if len(cheap) >= 2:
        scores, counted, _left = per_rep_scores(cpu_rows, cells, cheap)
        if counted:
            out.scores[CPU_SCORE], out.score_rows[CPU_SCORE] = scores, counted
    for key, scores in out.scores.items():
        out.add_pairs(key, {n: s for n, s in scores.items() if s}, True)
    for label, test, p50_metric, p99_metric in (("ICMP", "ping", "rtt_p50_us", "rtt_p99_us"),
                                                ("TCP", "sockperf_tcp", "latency_p50_us", "latency_p99_us")):
        p50 = next((r for r in rows if r.test == test and r.metric == p50_metric), None)
        p99 = next((r for r in rows if r.test == test and r.metric == p99_metric), None)
        if p50 is None or p99 is None:
            continue
        ratios = {n: jitter_ratios(cells[p50].get(n), cells[p99].get(n)) for n in ranked}
        out.jitter[label] = {n: r for n, r in ratios.items() if r}
        out.add_pairs(("jitter", label), out.jitter[label], higher_is_better=False)
    out.family.correct(joint)
    for key, scores in out.scores.items():
        out.ranks[key] = out.rank_of(key, [n for n in scores if scores[n]])
    return out
