# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's sentences: findings, the performance hierarchy and the recommendations.

Every claim here reads a comparison of the report's one corrected family (plugin_utils/analysis/verdicts.py):
a difference is called an improvement, a regression or a lead, and a backend outranks another, only
where the Holm-adjusted p-value is below 0.05. Nothing here runs a test.
"""

from __future__ import annotations

import statistics
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils.backends import BRIDGE_BACKENDS
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import Row, compared
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import estimate, p_text
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.verdicts import (
    CATEGORIES, COMPOSITE, CPU_SCORE, Verdicts, usable)

NA = "n/a"
CATEGORY_TITLES = {
    "throughput": "Highest throughput",
    "latency": "Lowest latency",
    "pps": "Highest packet rate (lowest per-packet overhead)",
    "transactions": "Highest transaction rate",
}
# Properties of the backends themselves (not measurements): what each one costs to deploy.
TRADE_OFFS = {
    "virtio": "runs wherever QEMU and a tap device do: no vhost-net module, no dedicated NIC",
    "vhost-net": "keeps the bridge (multi-tenant, guests reach their host) but needs /dev/vhost-net",
    "macvtap": "bypasses the bridge: needs a lower NIC, and guests cannot reach their own host through it",
}


def pct_text(value: float | None) -> str:
    return NA if value is None else f"{value:+.1f} %"


def change_text(cmp: dict[str, Any]) -> str:
    """``+12.3 % [+5.1, +19.4]``: the change and its 95 % interval (∞ where the interval is unbounded);
    the point alone when it was not tested."""
    if cmp["change"] is None:
        return NA
    if not cmp["tested"]:
        return pct_text(cmp["change"])
    low = "−∞" if cmp["low"] is None else f"{cmp['low']:+.1f}"
    high = "+∞" if cmp["high"] is None else f"{cmp['high']:+.1f}"
    return f"{pct_text(cmp['change'])} [{low}, {high}]"


def adjusted(cmp: dict[str, Any]) -> str:
    """The comparison's Holm-adjusted p-value as text."""
    return p_text(cmp["p_adjusted"], "adjusted p")


def untested_why(cmp: dict[str, Any]) -> str:
    if cmp["degenerate"]:
        return "identical values on each side, not tested"
    return f"not tested: {cmp['why'] or 'one repetition'}"


def versus_note(cmp: dict[str, Any] | None, other: str) -> str:
    """The note beside a value compared with OTHER (the baseline)."""
    if cmp is None or cmp["change"] is None:
        return f"no {other} value to compare"
    if not cmp["tested"]:
        return f"{pct_text(cmp['change'])} vs {other}, {untested_why(cmp)}"
    if cmp["significant"]:
        word = "improvement" if cmp["change"] > 0 else "regression"
        return f"{change_text(cmp)} {word}, {adjusted(cmp)}"
    return f"not separable from {other}: {change_text(cmp)}, {adjusted(cmp)}"


def lead_sentence(row: Row, cells: dict, measured: list[str], verdicts: Verdicts) -> str:
    """Who is best on a row, and against whom that is a finding."""
    present = {n: cells[n] for n in measured if usable(cells.get(n))}
    unit, label = row.unit, row.label
    best = "highest" if row.higher_is_better else "lowest"
    if not present:
        return f"{label}: no backend produced a value."
    if len(present) == 1:
        (name, cell), = present.items()
        return f"{label}: only {name} was measured ({cell['text']} {unit})."
    order = sorted(present, key=lambda n: present[n]["value"], reverse=row.higher_is_better)
    top, others = order[0], order[1:]
    top_text = f"{present[top]['text']} {unit}"
    pairs = {o: verdicts.pair(row, top, o) for o in others}
    if not any(c["tested"] for c in pairs.values()):
        runner = others[0]
        return (f"{label}: {best} on {top} ({top_text}) vs {runner} ({present[runner]['text']} {unit}), "
                f"{pct_text(pairs[runner]['change'])}; {untested_why(pairs[runner])}.")
    parts = []
    for other, cmp in pairs.items():
        if verdicts.beats(row, top, other):
            parts.append(f"ahead of {other} ({change_text(cmp)}, {adjusted(cmp)})")
        elif cmp["tested"]:
            parts.append(f"not separable from {other} ({change_text(cmp)}, {adjusted(cmp)})")
        else:
            parts.append(f"{other} {pct_text(cmp['change'])}, {untested_why(cmp)}")
    if all(verdicts.beats(row, top, o) for o in others):
        return f"{label}: {top} leads with {top_text}, " + " and ".join(parts) + "."
    return f"{label}: {best} mean on {top} ({top_text}), " + "; ".join(parts) + "."


def finding(rows: list[Row], cells: dict, measured: list[str], verdicts: Verdicts) -> str:
    if not measured:
        return "No backend was measured."
    if not rows:
        return "No test of this section was part of the compared runs."
    return " ".join(lead_sentence(r, cells[r], measured, verdicts) for r in rows if compared(r))


def jitter_estimate(ratios: list[float] | None) -> dict[str, Any] | None:
    """P99/P50 as shown: the mean of the per-repetition ratios (what the tails' comparison tests)."""
    if not ratios:
        return None
    est = estimate(ratios)
    return {"ratio": est["mean"], "half": est["half"], "values": ratios}


def ratio_text(jit: dict[str, Any] | None) -> str:
    if not jit:
        return NA
    return f"{jit['ratio']:.2f}x" + (f" ± {jit['half']:.2f}" if jit.get("half") is not None else "")


def jitter_sentence(label: str, verdicts: Verdicts) -> str:
    present = {n: jitter_estimate(r) for n, r in verdicts.jitter.get(label, {}).items()}
    if not present:
        return ""
    if len(present) == 1:
        (name, j), = present.items()
        return f"{label} P99/P50 on {name}: {ratio_text(j)}."
    order = sorted(present, key=lambda n: present[n]["ratio"])
    low, high = order[0], order[-1]
    key = ("jitter", label)
    cmp = verdicts.pair(key, low, high)
    if verdicts.beats(key, low, high):
        return (f"Steadiest {label} tail (P99/P50): {low} at {ratio_text(present[low])}; widest: {high} at "
                f"{ratio_text(present[high])} ({adjusted(cmp)}).")
    why = adjusted(cmp) if cmp["tested"] else untested_why(cmp)
    return (f"{label} tails (P99/P50) from {ratio_text(present[low])} on {low} to {ratio_text(present[high])} on "
            f"{high}: not separable ({why}).")


def score_text(scores: list[float] | None) -> str:
    if not scores:
        return NA
    est = estimate(scores)
    return f"{est['mean']:.2f}" + (f" ± {est['half']:.2f}" if est["half"] is not None else "")


def _mean(scores: list[float]) -> float:
    return statistics.fmean(scores) if scores else float("-inf")


def _order(verdicts: Verdicts, key: str) -> list[str]:
    """Names scored under KEY, by rank, then by mean score (best first)."""
    scores, rank = verdicts.scores[key], verdicts.ranks[key]
    return sorted(rank, key=lambda n: (rank[n], -_mean(scores[n])))


def _relation(verdicts: Verdicts, key: str, a: str, b: str) -> str:
    """'>' when A beats B, '<' when B beats A, '=' when the family does not separate them."""
    if verdicts.beats(key, a, b):
        return ">"
    return "<" if verdicts.beats(key, b, a) else "="


def cheapest(verdicts: Verdicts) -> str:
    """Which backend costs the host least over every CPU-cost row: the CPU score per repetition (geometric
    mean of the cheapest mean ÷ value over the rows), claimed only where the family separates it."""
    if CPU_SCORE not in verdicts.scores:
        return ""
    scores, rows = verdicts.scores[CPU_SCORE], verdicts.score_rows[CPU_SCORE]
    order = _order(verdicts, CPU_SCORE)
    if len(order) < 2:
        # the others' cost rows have no repetition in common (one lost to zero work, say): nothing to compare
        return (f"No CPU score compares the backends: {', '.join(order) or 'no backend'} alone has a CPU cost in "
                "the same repetition of every CPU-cost row." if order else "")
    top, runner = order[0], order[1]
    cmp = verdicts.pair(CPU_SCORE, top, runner)
    what = (f"CPU score {score_text(scores[top])} vs {score_text(scores[runner])} for {runner}; the score is the "
            "geometric mean over the rows of the cheapest mean ÷ the value, 1.00 = cheapest in every row")
    if not cmp["tested"]:
        return (f"Over all {len(rows)} CPU-cost rows, {top} used the least host CPU per unit of work ({what}); "
                f"{untested_why(cmp)}.")
    if all(verdicts.beats(CPU_SCORE, top, o) for o in order[1:]):
        return (f"Cheapest overall: {top} uses the least host CPU per unit of work over all {len(rows)} CPU-cost "
                f"rows ({what}; {adjusted(cmp)}).")
    tied = [o for o in order[1:] if not verdicts.beats(CPU_SCORE, top, o)]
    return (f"Over all {len(rows)} CPU-cost rows, no backend is cheapest: {top} and {', '.join(tied)} are not "
            f"separable ({what}; {adjusted(cmp)}).")


def _category_note(verdicts: Verdicts, key: str, name: str) -> str:
    """'Best for' text when NAME holds rank 1 of a category (alone or shared), else ''."""
    title, scores = CATEGORY_TITLES[key], verdicts.scores[key]
    names = [n for n in scores if scores[n]]
    if verdicts.ranks[key].get(name) != 1:
        return ""
    if len(names) == 1:
        return f"{title} ({key} category: only backend measured)"
    order = _order(verdicts, key)
    others = [o for o in order if o != name]
    tested = [verdicts.pair(key, name, o) for o in others]
    if not any(c["tested"] for c in tested):
        if name != order[0]:
            return ""
        runner = others[0]
        return (f"{title} (observed, not tested: {key} score {score_text(scores[name])} vs "
                f"{score_text(scores[runner])} for {runner}; {untested_why(verdicts.pair(key, name, runner))})")
    if all(verdicts.beats(key, name, o) for o in others):
        runner = others[0]
        return (f"{title} ({key} score {score_text(scores[name])} vs {score_text(scores[runner])} for {runner}, "
                f"{adjusted(verdicts.pair(key, name, runner))})")
    tied = [o for o in others if not verdicts.beats(key, name, o) and not verdicts.beats(key, o, name)]
    parts = [f"{o} ({adjusted(verdicts.pair(key, name, o))})" for o in tied]
    return f"{title}, shared: not separable from {', '.join(parts)}"


def ranking(verdicts: Verdicts) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The hierarchy: composite-score ranks (1 + the number of backends that beat it after correction), each
    backend's category leads, and which rows the scores left out."""
    scoring: dict[str, Any] = {"left_out": list(verdicts.left_out), "categories": {}}
    for key in CATEGORIES:
        if key in verdicts.scores:
            scoring["categories"][key] = {"rows": [r.label for r in verdicts.score_rows[key]],
                                          "scores": verdicts.scores[key], "ranks": verdicts.ranks[key]}
    if COMPOSITE not in verdicts.scores:
        return [{"backend": n, "rank": 1, "score": None, "score_text": NA, "scores": [], "beats": [],
                 "beaten_by": [], "not_separable": [], "untested": [], "categories": {},
                 "best_for": ["Not comparable: no test that every measured backend completed",
                              f"Trade-off: {TRADE_OFFS[n]}"]} for n in verdicts.scored], scoring
    composite = verdicts.scores[COMPOSITE]
    order = _order(verdicts, COMPOSITE)
    out = []
    for name in order:
        others = [o for o in order if o != name]
        rel = {o: _relation(verdicts, COMPOSITE, name, o) for o in others}
        untested = [o for o in others if not verdicts.pair(COMPOSITE, name, o)["tested"]]
        best_for = [note for key in CATEGORIES if key in verdicts.scores
                    for note in [_category_note(verdicts, key, name)] if note]
        if not best_for and others:
            top = order[0] if order[0] != name else others[0]
            cmp = verdicts.pair(COMPOSITE, name, top)
            if verdicts.beats(COMPOSITE, top, name):
                best_for.append(f"No category lead; composite score {score_text(composite[name])} vs "
                                f"{score_text(composite[top])} for {top} ({adjusted(cmp)})")
            elif cmp["tested"]:
                best_for.append(f"No category lead, but not separable from {top} overall ({adjusted(cmp)})")
            else:
                best_for.append(f"No category lead (observed {pct_text(cmp['change'])} vs {top}; "
                                f"{untested_why(cmp)})")
        best_for.append(f"Trade-off: {TRADE_OFFS[name]}")
        out.append({
            "backend": name,
            "rank": verdicts.ranks[COMPOSITE][name],
            "score": statistics.fmean(composite[name]) if composite[name] else None,
            "score_text": score_text(composite[name]),
            "scores": composite[name],
            "categories": {c: score_text(verdicts.scores[c].get(name)) for c in CATEGORIES if c in verdicts.scores},
            "beats": [o for o, r in rel.items() if r == ">"],
            "beaten_by": [o for o, r in rel.items() if r == "<"],
            "not_separable": [o for o, r in rel.items() if r == "=" and o not in untested],
            "untested": untested,
            "comparisons": {o: {k: verdicts.pair(COMPOSITE, name, o)[k]
                                for k in ("p", "p_adjusted", "tested", "significant", "change")} for o in others},
            "best_for": best_for,
        })
    return out, scoring


def ranking_text(items: list[dict[str, Any]]) -> str:
    """``macvtap > virtio = vhost-net``: between neighbours '>' where the family separates them and '='
    where it does not; a pair further apart whose relation the chain does not show follows after ';'
    (``macvtap = vhost-net = virtio; macvtap > virtio``)."""
    if not items:
        return NA
    names = [i["backend"] for i in items]
    beats = {i["backend"]: set(i.get("beats") or []) for i in items}
    text = names[0]
    for before, after in zip(names, names[1:]):
        text += f" {'>' if after in beats[before] else '='} {after}"
    extra = []
    for i, a in enumerate(names):
        for j in range(i + 2, len(names)):
            b = names[j]
            chained = any(names[k + 1] in beats[names[k]] for k in range(i, j))
            if (b in beats[a]) != chained:
                extra.append(f"{a} {'>' if b in beats[a] else '='} {b}")
    return text + "".join(f"; {e}" for e in extra)


def _ladder(verdicts: Verdicts, a: str, b: str, **say) -> str:
    """The text for A's composite result against B: SAY's ``above`` (A beats B), ``below`` (B beats A),
    ``tied`` (tested, not separable) or ``untested``, each a function of the comparison."""
    cmp = verdicts.pair(COMPOSITE, a, b)
    if verdicts.beats(COMPOSITE, a, b):
        return say["above"](cmp)
    if verdicts.beats(COMPOSITE, b, a):
        return say["below"](cmp)
    return say["tied"](cmp) if cmp["tested"] else say["untested"](cmp)


def recommendations(items: list[dict[str, Any]], verdicts: Verdicts, caveat: str) -> dict[str, str]:
    """Default, high-performance and fallback choices from the hierarchy's pairwise results (nothing is
    tested again here)."""
    by_name = {r["backend"]: r for r in items if r["score"] is not None}
    bridge = [r for r in items if r["backend"] in BRIDGE_BACKENDS and r["score"] is not None]  # in rank order
    out = {}
    default = bridge[0] if bridge else None
    if default is None:
        out["default"] = f"{NA} (no bridge backend — virtio or vhost-net — was measured)"
    elif len(bridge) == 1:
        out["default"] = f"`{default['backend']}` (the only bridge backend measured; composite score {default['score_text']})"
    else:
        first, other = default["backend"], bridge[1]["backend"]
        scores = f"composite score {default['score_text']} vs {bridge[1]['score_text']} for {other}"

        def tied(c: dict[str, Any]) -> str:
            return (f"`{first}` or `{other}`: not separable on this data ({scores}, {adjusted(c)}); "
                    "choose on the trade-offs above")

        out["default"] = _ladder(
            verdicts, first, other, above=lambda c: f"`{first}` ({scores}, {adjusted(c)})", below=tied, tied=tied,
            untested=lambda c: (f"undecided: `{first}` observed {pct_text(c['change'])} over `{other}`, "
                                f"{untested_why(c)}; rerun with `-e repeat=3` or more"))
    mac = by_name.get("macvtap")
    if mac is None:
        out["high_performance"] = f"`macvtap`: {NA} (not measured)"
    elif default is None:
        out["high_performance"] = (f"`macvtap` (when a dedicated lower NIC is available; composite score "
                                   f"{mac['score_text']}; no bridge backend measured to compare)")
    else:
        ref, ref_score = default["backend"], default["score_text"]
        out["high_performance"] = _ladder(
            verdicts, "macvtap", ref,
            above=lambda c: (f"`macvtap` (when a dedicated lower NIC is available; composite score "
                             f"{mac['score_text']} vs {ref_score} for {ref}, {adjusted(c)})"),
            below=lambda c: (f"none measured above the default: macvtap's composite score {mac['score_text']} is "
                             f"below {ref}'s {ref_score} ({adjusted(c)})"),
            tied=lambda c: (f"none separable from the default: macvtap {mac['score_text']} vs {ref} {ref_score} "
                            f"({adjusted(c)})"),
            untested=lambda c: f"undecided: macvtap observed {pct_text(c['change'])} vs {ref}, {untested_why(c)}")
    virtio = by_name.get("virtio")
    if virtio is None:
        out["fallback"] = f"`virtio`: {NA} (not measured)"
    elif default is not None and default["backend"] == "virtio" and len(bridge) == 1:
        out["fallback"] = "`virtio` (also the only bridge backend measured)"
    else:
        ref_item = default if default is not None and default["backend"] != "virtio" else (
            bridge[1] if len(bridge) > 1 else None)
        text = f"`virtio` (needs nothing beyond QEMU and tap; composite score {virtio['score_text']}"
        if ref_item is None:
            out["fallback"] = text + ")"
        else:
            ref, ref_score = ref_item["backend"], ref_item["score_text"]
            out["fallback"] = text + ", " + _ladder(
                verdicts, "virtio", ref, above=lambda c: f"above {ref}'s {ref_score}, {adjusted(c)})",
                below=lambda c: f"below {ref}'s {ref_score}, {adjusted(c)})",
                tied=lambda c: f"not separable from {ref}, {adjusted(c)})",
                untested=lambda c: f"observed {pct_text(c['change'])} vs {ref}, {untested_why(c)})")
    out["caveat"] = caveat
    return out
