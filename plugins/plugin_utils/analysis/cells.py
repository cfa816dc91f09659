# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's cells: each row's value per backend (the mean of its per-repetition values with its interval),
the tables' rows with their comparisons, each backend as % of native, the latency curves and the host CPU split."""

from __future__ import annotations

import math
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import (
    CPU_PARTS, NATIVE, PATHS, PPS_SIZES, Row, report_rows, shown_digits)
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import pps_search
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import pooled_rtts
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import compare, estimate, percentile
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.verdicts import make_cell, usable


NA = "n/a"
# a latency cell of a path on which no probe came back: a result (100 % loss), not a missing value
NO_REPLY = "no reply"


def fmt(value: float | None, digits: int) -> str:
    """Table cell text: thousands separators, fixed digits, n/a for a missing value. A value that DIGITS would
    show with fewer than two significant digits gets the digits it needs (0.0043 Gbps, not 0.00: a path that
    moved little moved something - a measured 0 still reads 0.00)."""
    if value is None:
        return NA
    return f"{value:,.{shown_digits(value, digits)}f}"


# The percentiles a latency chart draws (the pooled observations of every repetition).
CURVE_PERCENTILES = (1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9)


def _percentile_curves(chosen: dict[str, dict], shown: list[str], rows: tuple[Row, ...], cells: dict
                       ) -> dict[str, dict[str, dict[str, list[float]]]]:
    """Per latency tool (icmp, tcp) and path: the round trips of the cells' repetitions (the P50 row's) pooled,
    at CURVE_PERCENTILES: the distribution's shape, drawn beside the cells (which are per-repetition means)."""
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for key, test in (("icmp", "ping"), ("tcp", "sockperf_tcp"), ("icmp_loaded", "ping_loaded"),
                      ("tcp_loaded", "sockperf_loaded")):
        row = next((r for r in rows if r.test == test and r.percentile is not None), None)
        if row is None:
            continue
        for name in shown:
            cell = cells[row].get(name)
            if not usable(cell):
                continue
            pooled = pooled_rtts(chosen[name], test, cell["repetitions"])
            if pooled:
                out.setdefault(key, {})[name] = {
                    "percentiles": list(CURVE_PERCENTILES),
                    "us": [round(percentile(pooled, p), 3) for p in CURVE_PERCENTILES]}
    return out


CPU_NOTE = ("Host CPU-seconds per unit of work: the hypervisor's busy CPU time while the test ran (both guests' "
            "QEMU processes, vhost workers and the host kernel, softirq included; sampled from /proc every "
            "0.25 s) divided by the work the test moved. Lower is better.")


def _cpu_split(chosen: dict[str, dict], rows: tuple[Row, ...], shown: list[str]) -> list[dict[str, Any]]:
    """Where each path's host CPU went over its CPU-cost tests: per repetition, each part's share of the
    CPU-seconds of those tests' windows; a cell is the mean share ± its confidence interval."""
    tests = {r.test for r in rows if r.section == "cpu"}
    if not tests:
        return []
    shares: dict[str, dict[str, list[float]]] = {}
    for name in shown:
        per_rep: dict[int, dict[str, float]] = {}
        for test in chosen[name].get("tests", []):
            parsed = test.get("parsed") or {}
            if test.get("name") not in tests or not parsed.get("host_cpu_total_s"):
                continue
            sums = per_rep.setdefault(int(test.get("repetition") or 1), {})
            for key in ["total"] + [p for p, _label in CPU_PARTS]:
                sums[key] = sums.get(key, 0.0) + float(parsed.get(f"host_cpu_{key}_s") or 0.0)
        shares[name] = {part: [100 * sums[part] / sums["total"] for _k, sums in sorted(per_rep.items())
                               if sums.get("total")] for part, _label in CPU_PARTS}
    out = []
    for part, label in CPU_PARTS:
        cells, stats = {}, {}
        for name in PATHS:
            values = shares.get(name, {}).get(part)
            if not values:
                cells[name] = NA
                continue
            est = estimate(values)
            stats[name] = dict(est, values=values)
            # a share the whole-percent digits would show as 0 % keeps two significant digits (0.11 %): the vhost
            # workers of a slow path moved little, not nothing
            digits = 0 if not est["mean"] or abs(est["mean"]) >= 0.5 else shown_digits(est["mean"], 2)
            cells[name] = (f"{est['mean']:.{digits}f}" + (f" ± {est['half']:.{digits}f}" if est["half"] is not None
                                                          else "") + " %")
        out.append({"part": part, "label": label, "cells": cells, "statistics": stats})
    return out


PPS_NOTE = ("Packet sizes are the UDP payload (iperf3 `-l`); on the wire each packet is 42 bytes larger "
            "(8 UDP + 20 IPv4 + 14 Ethernet). Rates are counted at the receiver.")
PPS_SEARCH_NOTE = ("Mode **search**: each rate is the highest offered rate whose loss stayed at or under {loss} "
                   "(RFC 2544 throughput): a binary search of {probe_s:g} s iperf3 probes (`-b RATE`) from a flood's "
                   "rate, then a confirming run at the test's duration (stepping down while it loses more); the cell "
                   "is what arrived in the last confirming run and its loss. Every probe is kept in "
                   "`pps_SIZE.N.search.json`.")
PPS_FLOOD_NOTE = ("Mode **flood**: iperf3 `-b 0` sends as fast as it can and the cell is what arrived, losses and "
                  "all (in brackets): the sender's speed minus the drops, not a loss-free rate (`-e pps_mode=search`).")
FLOOD_BESIDE_NOTE = ("What arrived of the search's first probe, a {probe_s:g} s flood (iperf3 `-b 0`), and its loss: the "
                     "rate a path is pushed to, for comparison with the loss-bounded rate above; not compared or "
                     "ranked.")
LOAD_NOTE = ("The same probes as the idle latency while {streams} TCP flows (iperf3 `-P {streams}`, started "
             "{lead:g} s before) load the same path from client to server; the load rows give what those flows "
             "carried meanwhile. Compared with the idle rows per backend under Analysis; not ranked.")
LOSS_METRIC = {"pps": "lost_percent", "pps_flood": "flood_lost_percent"}


def pps_note(chosen: dict[str, dict], measured: list[str]) -> str:
    """The packet-rate table's note: the payload, and how the runs measured a rate (their pps_mode)."""
    configs = [chosen[n].get("config") or {} for n in measured]
    modes = {c.get("pps_mode") or "flood" for c in configs}
    loss = next((c.get("pps_loss_max_percent") for c in configs if c.get("pps_loss_max_percent") is not None),
                pps_search.LOSS_MAX_PCT)
    parts = [PPS_NOTE]
    if "search" in modes:
        parts.append(PPS_SEARCH_NOTE.format(loss=f"{float(loss):g} %", probe_s=pps_search.PROBE_S))
    if "flood" in modes:
        parts.append(PPS_FLOOD_NOTE)
    return " ".join(parts)


def add_losses(chosen: dict[str, dict], rows: tuple[Row, ...], cells: dict, shown: list[str], shown_dir: str) -> None:
    """Each packet-rate cell's mean loss over its repetitions (``loss_percent``), shown beside its rate."""
    for row in rows:
        metric = LOSS_METRIC.get(row.section)
        if metric is None:
            continue
        for name in shown:
            cell = cells[row].get(name)
            if not usable(cell):
                continue
            loss = _cell(chosen[name], Row(row.section, row.label, row.test, metric, 1.0, "%", False, 3), shown_dir)
            if loss is not None:
                cell["loss_percent"] = loss["mean"]


def _rows(chosen: dict[str, dict], measured: list[str]) -> tuple[Row, ...]:
    """The rows the compared runs' configuration calls for (the seed's rows with the defaults)."""
    configs = [chosen[n].get("config") or {} for n in measured]
    streams = next((c.get("parallel_streams") for c in configs if c.get("parallel_streams")), 8)
    sizes: list[int] = []
    for config in configs:
        for size in config.get("pps_sizes") or []:
            if int(size) not in sizes:
                sizes.append(int(size))
    tests: set[str] | None = None
    if configs and all(c.get("tests") for c in configs):
        tests = {t for c in configs for t in c["tests"]}
    mode = "search" if any(c.get("pps_mode") == "search" for c in configs) else "flood"
    return report_rows(int(streams), sizes or list(PPS_SIZES), sorted(tests) if tests is not None else None, mode)


def _repeat(chosen: dict[str, dict], measured: list[str]) -> int:
    values = [int((chosen[n].get("config") or {}).get("repeat") or 1) for n in measured]
    return max(values) if values else 1


def _cell(run: dict[str, Any], row: Row, shown_dir: str) -> dict[str, Any] | None:
    """One backend's cell of a row: the repetitions behind it, their mean ± interval and the shown text.

    Every repetition whose tool succeeded counts, a measured zero included (e.g. every UDP datagram lost;
    the anomalies name it); a failed repetition has no sample and is left out. A percentile row's value is
    the mean of the per-repetition percentiles (each computed from that repetition's replies), the same
    values its interval and its comparisons use. None when no repetition has a value.
    """
    reps: dict[int, float] = {}
    raws: dict[int, str] = {}
    for sample in run.get("samples", []):
        if sample.get("test") != row.test or sample.get("metric") != row.metric:
            continue
        value = sample.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        rep = int(sample.get("repetition") or 1)
        reps[rep] = float(value) * row.scale
        if (sample.get("metadata") or {}).get("raw"):
            raws[rep] = sample["metadata"]["raw"]
    cell = make_cell(reps)
    if cell is None:
        lost = no_reply_repetitions(run, row)
        # no round trip at all: the cell says so (left out of every mean, comparison and ranking: nothing to compare)
        return {"n": 0, "text": NO_REPLY, "no_reply": lost, "values": [], "repetitions": [], "zeros": []} if lost else None
    text = fmt(cell["mean"], row.digits)
    if cell["half"] is not None:
        # the half-width with the mean's digits: 2.01 ± 0.03, 0.0053 ± 0.0004
        text += f" ± {cell['half']:,.{shown_digits(cell['mean'], row.digits)}f}"
    cell.update(text=text, raw=[f"{shown_dir}/{run['backend']}/{run['run_id']}/{raws[k]}"
                                for k in cell["repetitions"] if k in raws])
    return cell


def no_reply_repetitions(run: dict[str, Any], row: Row) -> list[int]:
    """The repetitions of ROW's test in RUN whose probes all went unanswered (ping's 100 % loss), when ROW is one of
    its round-trip rows; [] otherwise."""
    if not row.metric.startswith("rtt_"):
        return []
    return sorted(int(t.get("repetition") or 1) for t in run.get("tests", [])
                  if t.get("name") == row.test and t.get("status") == "ok" and (t.get("parsed") or {}).get("no_reply"))


def _table_row(row: Row, cells: dict[str, Any], measured: list[str], baseline: str,
               of_native: dict[str, dict[str, Any]], repeat: int, verdicts) -> dict[str, Any]:
    """A table row: each cell's text, marked with its n where that is not the run's repetition count."""
    shown = {}
    for name in PATHS:
        cell = cells.get(name)
        text = cell["text"] if cell else NA
        if usable(cell) and cell.get("loss_percent") is not None:
            text += f" (loss {cell['loss_percent']:.3g} %)"
        if usable(cell) and cell["n"] != repeat:
            text += f" (n={cell['n']})"
        shown[name] = text
    comparisons = {name: verdicts.pair(row, name, baseline) for name in measured
                   if name != baseline and verdicts.pair(row, name, baseline)}
    return {
        "label": row.label,
        "test": row.test,
        "metric": row.metric,
        "unit": row.unit,
        "higher_is_better": row.higher_is_better,
        "values": {n: (cells[n]["value"] if usable(cells.get(n)) else None) for n in PATHS},
        "statistics": {n: cells[n] for n in PATHS if usable(cells.get(n))},
        "versus_baseline": comparisons,
        "of_native": of_native,
        "cells": shown,
    }


def _of_native(cells: dict[str, Any], measured: list[str]) -> dict[str, dict[str, Any]]:
    """Each backend's mean as a percentage of the native reference's (100 % = native; above 100 % means
    more than native: faster for a rate, slower or costlier for a latency or a CPU cost), with the 95 %
    Fieller interval of the ratio of the means (stats.ratio; unbounded sides shown as ∞). An estimate,
    not a claim: these comparisons are not part of the report's family."""
    native = cells.get(NATIVE)
    out = {}
    for name in measured:
        cell = cells.get(name)
        if not (usable(cell) and usable(native)) or not native["mean"]:
            continue
        rat = compare(cell["values"], native["values"], higher_is_better=True)
        pct = 100 * rat["ratio"]
        low = None if rat["ratio_low"] is None else 100 * rat["ratio_low"]
        high = None if rat["ratio_high"] is None else 100 * rat["ratio_high"]
        text = f"{pct:,.0f} %"
        if rat["tested"]:
            text += f" [{'−∞' if low is None else f'{low:,.0f}'}, {'∞' if high is None else f'{high:,.0f}'}]"
        elif rat["degenerate"]:
            text += " (identical values, no interval)"
        out[name] = {"percent": pct, "low": low, "high": high, "bounded": rat["bounded"], "tested": rat["tested"],
                     "text": text}
    return out
