# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the comparison report (REPORT.md + report.json) from recorded runs.

Every number, percentage, ranking and recommendation is computed here from the runs'
samples; the Jinja2 template only lays the model out in the seed's shape.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import os
import shlex
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ansible_collections.volt.netbench.plugins.plugin_utils import charts
from ansible_collections.volt.netbench.plugins.plugin_utils.errors import ParseError
from ansible_collections.volt.netbench.plugins.plugin_utils.matrix import (
    BACKENDS, CPU_PARTS, NATIVE, PATHS, PPS_SIZES, SECTIONS, Row, report_rows)
from ansible_collections.volt.netbench.plugins.plugin_utils.ping import reply_rtts_us
from ansible_collections.volt.netbench.plugins.plugin_utils.results import (
    COMPARED_CONFIG, ResultsError, has_data, load_runs, read_log, select_runs)
from ansible_collections.volt.netbench.plugins.plugin_utils.sockperf import full_log_rtts_us
from ansible_collections.volt.netbench.plugins.plugin_utils.stats import (
    ALPHA, CONFIDENCE, compare, estimate, percentile, scipy_version)

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE = "REPORT.md.j2"
HTML_TEMPLATE = "REPORT.html.j2"
NA = "n/a"
ENV_ROWS = (
    ("Date", "date"),
    ("Host CPU", "host_cpu"),
    ("Host RAM", "host_ram"),
    ("Host NIC", "host_nic"),
    ("Host Kernel", "host_kernel"),
    ("VM vCPUs", "vm_vcpus"),
    ("VM RAM", "vm_ram"),
    ("Guest Kernel", "guest_kernel"),
    ("QEMU Version", "qemu_version"),
)
COMPARED_ENV = ("host_cpu", "host_kernel", "vm_vcpus", "vm_ram", "guest_kernel", "qemu_version", "accelerator")
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
BRIDGE_BACKENDS = ("virtio", "vhost-net")


def fmt(value: float | None, digits: int) -> str:
    """Table cell text: thousands separators, fixed digits, n/a for a missing value."""
    if value is None:
        return NA
    return f"{value:,.{digits}f}"


def pct_text(value: float | None) -> str:
    return NA if value is None else f"{value:+.1f} %"


def p_text(p: float | None) -> str:
    if p is None:
        return "not tested"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def change_text(cmp: dict[str, Any]) -> str:
    """``+12.3 % [+5.1, +19.4]``: the difference and its 95 % interval (the point alone when untested)."""
    if cmp["change"] is None:
        return NA
    if cmp["low"] is None:
        return pct_text(cmp["change"])
    return f"{pct_text(cmp['change'])} [{cmp['low']:+.1f}, {cmp['high']:+.1f}]"


def build_report(
    results_dir: str | os.PathLike,
    *,
    baseline: str = "virtio",
    run_ids: list[str] | None = None,
    display_dir: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The report model for the run that counts per backend (see results.select_runs) or the given run ids."""
    if baseline not in BACKENDS:
        raise ResultsError(f"baseline {baseline!r} is not one of {', '.join(BACKENDS)}")
    runs = load_runs(results_dir)
    if not runs:
        raise ResultsError(
            f"no recorded runs under {results_dir}: run 'ansible-playbook playbooks/benchmark.yml -e backend=virtio' first"
        )
    chosen, notes = select_runs(runs, run_ids)
    shown_dir = display_dir or str(results_dir)
    anomalies: list[str] = []

    backends = []
    for name in PATHS:
        run = chosen.get(name)
        measured = run is not None and has_data(run)
        backends.append(
            {
                "name": name,
                "run_id": run["run_id"] if run else None,
                "status": run.get("status") if run else "absent",
                "reason": (run.get("reason") or "") if run else "",
                "measured": measured,
                "path": f"{shown_dir}/{name}/{run['run_id']}/" if run else None,
            }
        )
        if name == NATIVE:
            continue  # the reference: its absence is no anomaly (-e native=false)
        if run is None:
            anomalies.append(f"{name}: not run — no recorded run under {shown_dir}/{name}/.")
        elif run.get("status") == "not_run":
            anomalies.append(f"{name}: not run — {_sentence(run.get('reason'), 'no reason recorded')}")
        elif not measured:
            anomalies.append(f"{name}: no data — run {run['run_id']} {run.get('status')}: "
                             f"{_sentence(run.get('reason'), 'every test failed')}")
    anomalies.extend(notes)
    reference = backends.pop()
    # the backends compared and ranked; the native reference is shown beside them, never ranked
    measured = [b["name"] for b in backends if b["measured"]]
    if reference["measured"] and not measured:
        reference["measured"] = False
    shown = measured + ([NATIVE] if reference["measured"] else [])

    rows = _rows(chosen, measured)
    observations: dict = {}
    cells = {row: {name: _cell(chosen[name], row, shown_dir, observations) if name in shown else None
                   for name in PATHS} for row in rows}
    if not any(_usable(cells[r][n]) for r in rows if r.section == "cpu" for n in measured):
        rows = tuple(r for r in rows if r.section != "cpu")  # no CPU samples in these runs
    repeat = _repeat(chosen, measured)
    for name in shown:
        anomalies.extend(_cell_anomalies(chosen[name], rows, cells, name, repeat))
        anomalies.extend(_test_anomalies(chosen[name]))
        anomalies.extend(_quality_anomalies(chosen[name]))
    anomalies.extend(_environment_anomalies(chosen, measured))
    anomalies.extend(_native_anomalies(chosen, reference, measured))

    curves = _percentile_curves(chosen, shown, rows, cells, observations)
    # each backend as a percentage of native, per row: shown in the tables and in the analysis
    of_native = {row: _of_native(cells[row], measured) for row in rows} if reference["measured"] else {}

    tables = []
    for key, title, first in SECTIONS:
        section_rows = [r for r in rows if r.section == key]
        if not section_rows:
            continue
        tables.append({
            "key": key,
            "title": title,
            "first_column": first,
            "note": PPS_NOTE if key == "pps" else (CPU_NOTE if key == "cpu" else ""),
            "rows": [_table_row(row, cells[row], measured, baseline, of_native.get(row, {})) for row in section_rows],
        })
    ranking, scoring = _ranking(rows, cells, measured)
    tested = any(c["n"] > 1 for row in rows for c in cells[row].values() if c)
    model = {
        "generated": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "results_dir": shown_dir,
        "baseline": baseline,
        "backends": backends,
        "reference": reference,
        # the table columns: the seed's three backends, then the native reference when it was measured
        "columns": [b["name"] for b in backends] + ([NATIVE] if reference["measured"] else []),
        "measured": measured,
        "environment": _environment(chosen, measured),
        "test_config": _test_config(chosen, measured, shown),
        "statistics": _method(repeat, tested),
        "tables": tables,
        "analysis": _analysis(rows, cells, measured, baseline, of_native),
        "cpu_split": _cpu_split(chosen, rows, shown),
        "hierarchy": ranking,
        "scoring": scoring,
        "recommendations": _recommendations(ranking, chosen, measured),
        "anomalies": anomalies,
        "raw_data": ([b["path"] or f"{shown_dir}/{b['name']}/ (no run)" for b in backends]
                     + ([reference["path"]] if reference["path"] else [])),
        "reproducibility": _reproducibility(chosen, measured, shown_dir),
        "percentile_curves": curves,
    }
    model["charts_note"] = charts.unavailable()
    model["charts"] = [] if model["charts_note"] else charts.plan(model)
    return model


# The percentiles a latency chart draws (the pooled observations of every repetition).
CURVE_PERCENTILES = (1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 97.5, 99, 99.5, 99.9)


def _percentile_curves(chosen: dict[str, dict], shown: list[str], rows: tuple[Row, ...], cells: dict,
                       observations: dict) -> dict[str, dict[str, dict[str, list[float]]]]:
    """Per latency tool (icmp, tcp) and path: the pooled round trips at CURVE_PERCENTILES, from the same
    repetitions as the cells (the P50 row's)."""
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for key, test in (("icmp", "ping"), ("tcp", "sockperf_tcp")):
        row = next((r for r in rows if r.test == test and r.percentile is not None), None)
        if row is None:
            continue
        for name in shown:
            cell = cells[row].get(name)
            if not _usable(cell) or not cell.get("pooled"):
                continue
            pooled = _pooled(chosen[name], test, cell["repetitions"], observations)
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
            cells[name] = f"{est['mean']:.0f}" + (f" ± {est['half']:.0f}" if est["half"] is not None else "") + " %"
        out.append({"part": part, "label": label, "cells": cells, "statistics": stats})
    return out


PPS_NOTE = ("Packet sizes are the UDP payload (iperf3 `-l`); on the wire each packet is 42 bytes larger "
            "(8 UDP + 20 IPv4 + 14 Ethernet). Rates are counted at the receiver.")


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
    return report_rows(int(streams), sizes or list(PPS_SIZES), sorted(tests) if tests is not None else None)


def _repeat(chosen: dict[str, dict], measured: list[str]) -> int:
    values = [int((chosen[n].get("config") or {}).get("repeat") or 1) for n in measured]
    return max(values) if values else 1


def _observations(run: dict[str, Any], test: dict[str, Any], cache: dict) -> list[float] | None:
    """The per-reply (ping) or per-message (sockperf --full-log) latencies in a test's raw output, read
    once per report (several rows - P50, P95, P99 - pool the same observations)."""
    key = (run["path"], test["name"], test.get("repetition"))
    if key not in cache:
        cache[key] = _read_observations(run, test)
    return cache[key]


def _pooled(run: dict[str, Any], test_name: str, repetitions: list[int], observations: dict) -> list[float]:
    """Every observation of TEST_NAME's REPETITIONS in RUN, pooled; [] when one of them has none."""
    tests = {(t["name"], int(t.get("repetition") or 1)): t for t in run.get("tests", [])}
    pooled: list[float] = []
    for rep in repetitions:
        test = tests.get((test_name, rep))
        obs = _observations(run, test, observations) if test and test.get("raw") else None
        if not obs:
            return []
        pooled.extend(obs)
    return pooled


def _read_observations(run: dict[str, Any], test: dict[str, Any]) -> list[float] | None:
    try:
        if test.get("tool") == "ping":
            return reply_rtts_us((Path(run["path"]) / test["raw"]).read_text(encoding="utf-8", errors="replace"),
                                 test["raw"]) or None
        if test.get("tool") == "sockperf" and test.get("log"):
            return full_log_rtts_us(read_log(Path(run["path"]) / test["log"]), test["log"])
    except (OSError, EOFError, ValueError, ParseError):
        return None
    return None


def _cell(run: dict[str, Any], row: Row, shown_dir: str, observations: dict) -> dict[str, Any] | None:
    """One backend's cell of a row: the repetitions behind it, their estimate and the shown text.

    A failed repetition (no sample) or a zero (e.g. every UDP datagram lost) is left out of the cell;
    the anomalies say so. None when no repetition has a value.
    """
    reps: dict[int, dict[str, Any]] = {}
    for sample in run.get("samples", []):
        if sample.get("test") != row.test or sample.get("metric") != row.metric:
            continue
        value = sample.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        rep = int(sample.get("repetition") or 1)
        reps[rep] = {"repetition": rep, "value": float(value) * row.scale, "raw": (sample.get("metadata") or {}).get("raw")}
    valid = [reps[k] for k in sorted(reps) if reps[k]["value"] > 0]
    zeros = [k for k in sorted(reps) if reps[k]["value"] <= 0]
    if not valid:
        return {"n": 0, "zeros": zeros, "text": NA, "value": None} if zeros else None
    values = [r["value"] for r in valid]
    est = estimate(values)
    value, pooled = est["mean"], False
    if row.percentile is not None:
        observed = _pooled(run, row.test, [r["repetition"] for r in valid], observations)
        if observed:
            value, pooled = percentile(observed, row.percentile), True
    text = fmt(value, row.digits)
    if est["half"] is not None:
        text += f" ± {fmt(est['half'], row.digits)}"
    return {
        "n": est["n"],
        "value": value,
        "mean": est["mean"],
        "half": est["half"],
        "low": est["low"],
        "high": est["high"],
        "pooled": pooled,
        "values": values,
        "repetitions": [r["repetition"] for r in valid],
        "raw": [f"{shown_dir}/{run['backend']}/{run['run_id']}/{r['raw']}" for r in valid if r["raw"]],
        "zeros": zeros,
        "text": text,
    }


def _usable(cell: dict[str, Any] | None) -> bool:
    return bool(cell) and cell["n"] > 0


def _table_row(row: Row, cells: dict[str, Any], measured: list[str], baseline: str,
               of_native: dict[str, dict[str, Any]]) -> dict[str, Any]:
    repeat_n = max((c["n"] for c in cells.values() if _usable(c)), default=0)
    shown = {}
    for name in PATHS:
        cell = cells.get(name)
        text = cell["text"] if cell else NA
        if _usable(cell) and cell["n"] < repeat_n:
            text += f" (n={cell['n']})"
        shown[name] = text
    comparisons = {}
    base = cells.get(baseline)
    for name in measured:
        cell = cells.get(name)
        if name != baseline and _usable(cell) and _usable(base):
            comparisons[name] = compare(cell["values"], base["values"], row.higher_is_better)
    return {
        "label": row.label,
        "test": row.test,
        "metric": row.metric,
        "unit": row.unit,
        "higher_is_better": row.higher_is_better,
        "values": {n: (cells[n]["value"] if _usable(cells.get(n)) else None) for n in PATHS},
        "statistics": {n: cells[n] for n in PATHS if cells.get(n)},
        "versus_baseline": comparisons,
        "of_native": of_native,
        "cells": shown,
    }


def _of_native(cells: dict[str, Any], measured: list[str]) -> dict[str, dict[str, Any]]:
    """Each backend's mean as a percentage of the native reference's (100 % = native; above 100 % means
    more than native: faster for a rate, slower or costlier for a latency or a CPU cost), with the
    95 % interval of the difference of the means relative to native's (Welch) and its p."""
    native = cells.get(NATIVE)
    out = {}
    for name in measured:
        cell = cells.get(name)
        if not (_usable(cell) and _usable(native)) or not native["mean"]:
            continue
        cmp = compare(cell["values"], native["values"], higher_is_better=True)
        pct = 100 + cmp["change"]
        text = f"{pct:,.0f} %"
        if cmp["low"] is not None:
            text += f" [{100 + cmp['low']:,.0f}, {100 + cmp['high']:,.0f}]"
        out[name] = {"percent": pct, "low": None if cmp["low"] is None else 100 + cmp["low"],
                     "high": None if cmp["high"] is None else 100 + cmp["high"], "p": cmp["p"],
                     "tested": cmp["tested"], "significant": cmp["significant"], "text": text}
    return out


def _tname(test: dict[str, Any], repeat: int) -> str:
    return f"{test['name']} #{test.get('repetition') or 1}" if repeat > 1 else test["name"]


def _cell_anomalies(run: dict[str, Any], rows: tuple[Row, ...], cells: dict, name: str, repeat: int) -> list[str]:
    out = []
    for row in rows:
        cell = cells[row][name]
        for rep in (cell or {}).get("zeros", []):
            which = f" in repetition {rep}" if repeat > 1 else ""
            out.append(f"{name}: {row.label} measured 0 {row.unit}{which}; left out of that cell.")
        if cell is None:
            if row.test in _native_unavailable(run):
                continue  # said once, with its reason, by _native_anomalies
            planned = [t for t in run.get("tests", []) if t.get("name") == row.test]
            if not planned:
                out.append(f"{name}: {row.label} is n/a — test {row.test} was not part of the run.")
            elif all(t.get("status") == "ok" for t in planned):
                out.append(f"{name}: {row.label} is n/a — {row.test} recorded no {row.metric} sample.")
            # failed/skipped tests are listed once each, with their message, by _test_anomalies
    return out


def _test_anomalies(run: dict[str, Any]) -> list[str]:
    out = []
    repeat = int((run.get("config") or {}).get("repeat") or 1)
    for test in run.get("tests", []):
        if test.get("status") == "failed":
            out.append(f"{run['backend']}: {_tname(test, repeat)} failed — "
                       f"{_sentence(test.get('message'), 'no message recorded')}")
        elif test.get("status") == "skipped":
            out.append(f"{run['backend']}: {_tname(test, repeat)} skipped — "
                       f"{_sentence(test.get('message'), 'no reason recorded')}")
    return out


def _quality_anomalies(run: dict[str, Any]) -> list[str]:
    out = []
    backend = run["backend"]
    repeat = int((run.get("config") or {}).get("repeat") or 1)
    for test in run.get("tests", []):
        parsed = test.get("parsed") or {}
        name = _tname(test, repeat)
        if parsed.get("lost_packets"):
            out.append(
                f"{backend}: {name} lost {parsed['lost_percent']:.2f}% of UDP datagrams "
                f"({parsed['lost_packets']:,} of {parsed['packets']:,}); rates are receiver-side."
            )
        if parsed.get("retransmits"):
            out.append(f"{backend}: {name} had {parsed['retransmits']:,} TCP retransmits.")
        if "transmitted" in parsed and parsed["received"] < parsed["transmitted"]:
            out.append(
                f"{backend}: {name} incomplete — {parsed['received']:,} of {parsed['transmitted']:,} "
                f"echo replies ({parsed['loss_percent']:.1f}% loss)."
            )
        if parsed.get("round_trip") is False:
            out.append(
                f"{backend}: {name} latency is one-way (sockperf without --full-rtt), not a round trip like ICMP."
            )
        if parsed.get("dropped"):
            out.append(f"{backend}: {name} dropped {parsed['dropped']:,} messages.")
    return out


TCG_NOTE = ("ran under TCG (software emulation, no KVM): neither the absolute figures nor the differences between "
            "the backends represent KVM hosts, where the guests' CPU cost and each backend's overhead are different.")


def _tcg(chosen: dict[str, dict], measured: list[str]) -> list[str]:
    return [n for n in measured if str((chosen[n].get("environment") or {}).get("accelerator", "")).lower() == "tcg"]


def _environment_anomalies(chosen: dict[str, dict], measured: list[str]) -> list[str]:
    out = []
    tcg = _tcg(chosen, measured)
    if tcg:
        out.append(f"{', '.join(tcg)} {TCG_NOTE}")
    unknown = [n for n in measured if not chosen[n].get("environment", {}).get("accelerator")]
    if unknown:
        out.append(f"{', '.join(unknown)}: accelerator not recorded.")
    for scope, keys in (("config", COMPARED_CONFIG), ("environment", COMPARED_ENV)):
        for key in keys:
            seen = {n: (chosen[n].get(scope) or {}).get(key) for n in measured}
            distinct = {json.dumps(v, sort_keys=True) for v in seen.values()}
            if len(distinct) > 1:
                parts = "; ".join(f"{n}: {_show(v)}" for n, v in seen.items())
                out.append(f"Mismatched {scope} between compared runs — {key} differs ({parts}).")
    return out


def _native_unavailable(run: dict[str, Any]) -> dict[str, str]:
    """The tests the native reference could not run, with why (recorded in its environment)."""
    return (run.get("environment") or {}).get("native_unavailable") or {}


def _native_anomalies(chosen: dict[str, dict], reference: dict[str, Any], measured: list[str]) -> list[str]:
    """Why the native reference column is missing or has holes."""
    run = chosen.get(NATIVE)
    if run is None or not measured:
        return []
    out = []
    if not reference["measured"]:
        out.append(f"native: no data — run {run['run_id']} {run.get('status')}: "
                   f"{_sentence(run.get('reason'), 'every test failed')}")
    for test, why in sorted(_native_unavailable(run).items()):
        out.append(f"native: {test} not measured — {_sentence(why, 'no reason recorded')}")
    return out


def _sentence(text: str | None, default: str) -> str:
    """One line of text that ends with exactly one full stop (or its own ? / !)."""
    text = " ".join(str(text or "").split()) or default
    return text if text[-1] in ".?!" else text + "."


def _show(value: Any) -> str:
    if value is None or value == "":
        return NA
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _environment(chosen: dict[str, dict], measured: list[str]) -> list[dict[str, str]]:
    rows = []
    names = measured or [n for n in BACKENDS if n in chosen]
    for label, key in ENV_ROWS:
        seen = {}
        for name in names:
            env = chosen[name].get("environment", {})
            value = env.get(key)
            if key == "date" and not value:
                value = str(chosen[name].get("started", ""))[:10]
            seen[name] = _show(value)
        distinct = sorted(set(seen.values()))
        if not seen:
            text = NA
        elif len(distinct) == 1:
            text = distinct[0]
        elif key == "date":
            text = " – ".join((distinct[0], distinct[-1]))
        else:
            text = "; ".join(f"{n}: {v}" for n, v in seen.items())
        rows.append({"label": label, "value": text})
    return rows


def _test_config(chosen: dict[str, dict], measured: list[str], shown: list[str]) -> dict[str, Any]:
    def agreed(key: str, unit: str = "") -> str:
        seen = {n: chosen[n].get("config", {}).get(key) for n in measured}
        known = {json.dumps(v) for v in seen.values() if v is not None}
        if not known:
            return NA
        if len(known) == 1:
            return f"{_show(next(v for v in seen.values() if v is not None))}{unit}"
        return "; ".join(f"{n}: {_show(v)}{unit}" for n, v in seen.items())

    accel = sorted({str(chosen[n].get("environment", {}).get("accelerator") or NA) for n in measured})
    omit = agreed("iperf3_omit_s")
    duration = agreed("duration_s", " seconds per test")
    if omit not in (NA, "0"):
        duration += f" (iperf3 after {omit} s of warm-up it leaves out, `-O`)"
    return {
        "duration": duration,
        "ping_count": agreed("ping_count", " packets"),
        "ping_interval": agreed("ping_interval_s", " s"),
        "streams": agreed("parallel_streams"),
        "pps_sizes": agreed("pps_sizes"),
        "profile": agreed("profile"),
        "repeat": agreed("repeat"),
        "accelerator": ", ".join(accel) if accel else NA,
        "data_paths": [
            {"backend": n if n != NATIVE else "native (reference)",
             "path": _show((chosen[n].get("environment") or {}).get("data_path"))} for n in shown
        ],
    }


def _method(repeat: int, tested: bool) -> dict[str, Any]:
    """How to read the cells and claims (one paragraph in the report), and whether anything was tested."""
    conf = f"{CONFIDENCE * 100:.0f} %"
    return {
        "repeat": repeat,
        "tested": tested,
        "confidence": CONFIDENCE,
        "alpha": ALPHA,
        "method": (
            f"Each backend ran every test {repeat} time{'s' if repeat != 1 else ''}, the backends alternating test "
            f"by test in one lab. A cell is the mean of the repetitions ± the half-width of its {conf} confidence "
            "interval (Student's t, n − 1 degrees of freedom); a cell with fewer repetitions than the others says "
            "its n, and a cell from one repetition is the plain value. ICMP and TCP percentiles are computed from "
            "the replies of all repetitions pooled (ping's per-reply times, sockperf's `--full-log`; the mean of "
            "sockperf's own percentiles where no log was kept), with the interval of the per-repetition "
            "percentiles; comparisons of percentiles use the per-repetition percentiles. Two backends differ "
            f"only where Welch's t-test over their repetitions gives p < {ALPHA:g}; "
            f"a percentage comes with the {conf} interval of the difference of the means (Welch), relative to the "
            "mean it is compared with, and positive always means better. Categories and the hierarchy score each "
            "repetition (geometric mean over the category's rows of value ÷ best mean, higher is better, using "
            "only rows every ranked backend measured) and are compared the same way; backends that cannot be "
            f"separated share a rank. Computed with scipy {scipy_version()}."
        ),
        "untested": "" if tested else (
            "Every backend was measured once per test (repeat = 1), so no difference below was tested: "
            "percentages and orderings are single observations, not findings. Run with `-e repeat=3` or more "
            "to test them."
        ),
    }


def _analysis(rows: tuple[Row, ...], cells: dict, measured: list[str], baseline: str,
              of_native: dict[Row, dict[str, dict[str, Any]]]) -> dict[str, Any]:
    by_key = {(r.test, r.metric): r for r in rows}

    def row(test: str, metric: str) -> Row | None:
        return by_key.get((test, metric))

    def versus(r: Row | None) -> list[dict[str, Any]]:
        if r is None:
            return []
        base = cells[r][baseline]
        lines = []
        for name in BACKENDS:
            cell = cells[r][name]
            text = f"{cell['text']} {r.unit}" if _usable(cell) else NA
            cmp = None
            if name == baseline:
                note = "baseline" if _usable(cell) else "baseline, not measured"
            elif not _usable(cell):
                note = "not measured"
            elif not _usable(base):
                note = f"{baseline} not measured, no baseline to compare"
            else:
                cmp = compare(cell["values"], base["values"], r.higher_is_better)
                note = _versus_note(cmp, baseline)
            lines.append({"backend": name, "value": cell["value"] if _usable(cell) else None, "text": text,
                          "comparison": cmp, "note": note})
        return lines

    single = row("iperf3_tcp_single", "receiver_bps")
    throughput_rows = [r for r in rows if r.section == "throughput"]
    pps_rows = [r for r in rows if r.section == "pps"]
    cpu_rows = [r for r in rows if r.section == "cpu"]
    first_pps = pps_rows[0] if pps_rows else None
    icmp = (row("ping", "rtt_p50_us"), row("ping", "rtt_p99_us"))
    tcp = (row("sockperf_tcp", "latency_p50_us"), row("sockperf_tcp", "latency_p99_us"))
    icmp_jitter, tcp_jitter = _jitter(cells, *icmp), _jitter(cells, *tcp)
    latency_lines = []
    for name in BACKENDS:
        parts = []
        for label, p99 in (("ICMP", icmp[1]), ("TCP", tcp[1])):
            cell = cells[p99][name] if p99 else None
            parts.append(f"{cell['text']} µs {label}" if _usable(cell) else f"{NA} {label}")
        latency_lines.append({
            "backend": name,
            "p99": ", ".join(parts),
            "jitter": f"{_ratio(icmp_jitter.get(name))} ICMP, {_ratio(tcp_jitter.get(name))} TCP",
            "icmp_jitter": icmp_jitter.get(name),
            "tcp_jitter": tcp_jitter.get(name),
        })
    latency_sentences = [_lead_sentence(r.label, cells[r], r, measured) for r in (icmp[1], tcp[1]) if r]
    for label, jit in (("ICMP", icmp_jitter), ("TCP", tcp_jitter)):
        latency_sentences.append(_jitter_sentence(label, jit, measured))
    return {
        "throughput_row": single.label if single else (throughput_rows[0].label if throughput_rows else ""),
        "throughput": versus(single or (throughput_rows[0] if throughput_rows else None)),
        "throughput_finding": _finding(throughput_rows, cells, measured),
        "latency": latency_lines,
        "latency_finding": " ".join(s for s in latency_sentences if s) or "No backend was measured.",
        "pps_size": first_pps.label.split()[0] if first_pps else "",
        "pps": versus(first_pps),
        "pps_finding": _finding(pps_rows, cells, measured),
        "cpu_finding": " ".join([_finding(cpu_rows, cells, measured), _cheapest(cpu_rows, cells, measured)]).strip()
                       if cpu_rows else "",
        "native": _native_lines(rows, cells, of_native),
    }


def _native_lines(rows: tuple[Row, ...], cells: dict, of_native: dict[Row, dict[str, dict[str, Any]]]
                  ) -> list[dict[str, Any]]:
    """Per row with a native value: native's cell and each backend's percentage of it (empty without native)."""
    out = []
    for r in rows:
        native = cells[r][NATIVE]
        if r not in of_native or not _usable(native):
            continue
        of = of_native[r]
        out.append({"label": r.label, "unit": r.unit, "native": f"{native['text']} {r.unit}",
                    "cells": {n: of[n]["text"] if n in of else NA for n in BACKENDS}})
    return out


def _cheapest(rows: list[Row], cells: dict, measured: list[str]) -> str:
    """Which backend costs the host least over every CPU-cost row, scored per repetition like the
    hierarchy (geometric mean of best ÷ value) and claimed only where Welch's test separates it."""
    ranked = [n for n in measured if all(_usable(cells[r][n]) for r in rows)]
    if len(ranked) < 2 or not rows:
        return ""
    scores = _per_rep_scores(rows, cells, ranked)
    groups = _groups(scores)
    top = groups[0]["backend"]
    shared = [g["backend"] for g in groups[1:] if g["rank"] == 1]
    cmp = compare(scores[top], scores[groups[1]["backend"]])
    if not cmp["tested"]:
        return (f"Over all {len(rows)} CPU-cost rows, {top} used the least host CPU per unit of work in a single "
                "repetition; not tested.")
    if shared:
        return (f"Over all {len(rows)} CPU-cost rows, no backend is cheapest: {top} and {', '.join(shared)} are not "
                f"separable ({p_text(cmp['p'])}).")
    return (f"Cheapest overall: {top} uses the least host CPU per unit of work over all {len(rows)} CPU-cost rows "
            f"({change_text(cmp)} over {groups[1]['backend']}, {p_text(cmp['p'])}).")


def _versus_note(cmp: dict[str, Any], other: str) -> str:
    if cmp["change"] is None:
        return f"no {other} value to compare"
    if not cmp["tested"]:
        return f"{change_text(cmp)} vs {other}, not tested: one repetition"
    if cmp["significant"]:
        word = "improvement" if cmp["change"] > 0 else "regression"
        return f"{change_text(cmp)} {word}, {p_text(cmp['p'])}"
    return f"not separable from {other}: {change_text(cmp)}, {p_text(cmp['p'])}"


def _jitter(cells: dict, p50: Row | None, p99: Row | None) -> dict[str, dict[str, Any]]:
    """P99/P50 per backend: the shown cells' ratio, and the per-repetition ratios behind it."""
    out: dict[str, dict[str, Any]] = {}
    if p50 is None or p99 is None:
        return out
    for name in BACKENDS:
        a, b = cells[p50][name], cells[p99][name]
        if not (_usable(a) and _usable(b)) or not a["value"]:
            continue
        per_rep = dict(zip(a["repetitions"], a["values"]))
        ratios = [v / per_rep[k] for k, v in zip(b["repetitions"], b["values"]) if per_rep.get(k)]
        est = estimate(ratios) if ratios else None
        out[name] = {"ratio": b["value"] / a["value"], "half": est["half"] if est else None, "values": ratios}
    return out


def _ratio(jit: dict[str, Any] | None) -> str:
    if not jit:
        return NA
    return f"{jit['ratio']:.2f}x" + (f" ± {jit['half']:.2f}" if jit.get("half") is not None else "")


def _lead_sentence(label: str, row_cells: dict, row: Row, measured: list[str]) -> str:
    """Who leads a row, and whether the lead over the runner-up is a finding (Welch, p < 0.05)."""
    present = {n: c for n, c in row_cells.items() if n in measured and _usable(c)}
    unit = row.unit
    best = "highest" if row.higher_is_better else "lowest"
    if not present:
        return f"{label}: no backend produced a value."
    if len(present) == 1:
        (name, cell), = present.items()
        return f"{label}: only {name} was measured ({cell['text']} {unit})."
    order = sorted(present, key=lambda n: present[n]["value"], reverse=row.higher_is_better)
    top, runner = order[0], order[1]
    cmp = compare(present[top]["values"], present[runner]["values"], row.higher_is_better)
    top_text, runner_text = f"{present[top]['text']} {unit}", f"{present[runner]['text']} {unit}"
    if not cmp["tested"]:
        return (f"{label}: {best} on {top} ({top_text}) vs {runner} ({runner_text}), {pct_text(cmp['change'])}; "
                "not tested (one repetition).")
    if cmp["significant"]:
        return f"{label}: {top} leads with {top_text}, {change_text(cmp)} over {runner} ({p_text(cmp['p'])})."
    return (f"{label}: {top} ({top_text}) and {runner} ({runner_text}) are not separable "
            f"({change_text(cmp)}, {p_text(cmp['p'])}).")


def _jitter_sentence(label: str, jit: dict[str, dict], measured: list[str]) -> str:
    present = {n: j for n, j in jit.items() if n in measured}
    if not present:
        return ""
    if len(present) == 1:
        (name, j), = present.items()
        return f"{label} P99/P50 on {name}: {_ratio(j)}."
    order = sorted(present, key=lambda n: present[n]["ratio"])
    low, high = order[0], order[-1]
    cmp = compare(present[low]["values"], present[high]["values"], higher_is_better=False)
    if cmp["significant"]:
        return (f"Steadiest {label} tail (P99/P50): {low} at {_ratio(present[low])}; widest: {high} at "
                f"{_ratio(present[high])} ({p_text(cmp['p'])}).")
    why = p_text(cmp["p"]) if cmp["tested"] else "not tested, one repetition"
    return (f"{label} tails (P99/P50) from {_ratio(present[low])} on {low} to {_ratio(present[high])} on {high}: "
            f"not separable ({why}).")


def _finding(rows: list[Row], cells: dict, measured: list[str]) -> str:
    if not measured:
        return "No backend was measured."
    if not rows:
        return "No test of this section was part of the compared runs."
    return " ".join(_lead_sentence(r.label, cells[r], r, measured) for r in rows)


def _per_rep_scores(rows: list[Row], cells: dict, ranked: list[str]) -> dict[str, list[float]]:
    """Each backend's score per repetition over ROWS: geometric mean of value / best mean (higher is
    better, 1.0 = the best mean). Repetitions are taken in order; a backend has as many scores as its
    row with the fewest valid repetitions."""
    best = {}
    for row in rows:
        means = [cells[row][n]["mean"] for n in ranked]
        best[row] = max(means) if row.higher_is_better else min(means)
    out = {}
    for name in ranked:
        n = min(cells[row][name]["n"] for row in rows)
        scores = []
        for k in range(n):
            logs = []
            for row in rows:
                value = cells[row][name]["values"][k]
                logs.append(math.log(value / best[row] if row.higher_is_better else best[row] / value))
            scores.append(math.exp(sum(logs) / len(logs)))
        out[name] = scores
    return out


def _groups(scores: dict[str, list[float]]) -> list[dict[str, Any]]:
    """Backends ordered by mean score; a backend starts a new rank only when Welch's test separates it
    from the first backend of the rank above (p < 0.05). Dense ranks: 1, 1, 2."""
    order = sorted(scores, key=lambda n: -estimate(scores[n])["mean"])
    out: list[dict[str, Any]] = []
    rank, leader = 1, None
    for name in order:
        cmp = None
        if leader is not None:
            cmp = compare(scores[name], scores[leader])
            if cmp["significant"]:
                rank, leader = rank + 1, name
        else:
            leader = name
        out.append({"backend": name, "rank": rank, "versus": leader if cmp and not cmp["significant"] else None,
                    "comparison": cmp})
    return out


def _score_text(scores: list[float] | None) -> str:
    if not scores:
        return NA
    est = estimate(scores)
    return f"{est['mean']:.2f}" + (f" ± {est['half']:.2f}" if est["half"] is not None else "")


def _ranking(rows: tuple[Row, ...], cells: dict, measured: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rank the measured backends on composite scores per repetition (see _per_rep_scores), categories
    scored on the rows every ranked backend measured; the rows left out are named."""
    ranked = [n for n in measured if any(_usable(cells[r][n]) for r in rows)]
    scoring: dict[str, Any] = {"left_out": [], "categories": {}}
    if not ranked:
        return [], scoring
    cat_scores: dict[str, dict[str, list[float]]] = {}
    cat_groups: dict[str, list[dict[str, Any]]] = {}
    for key, title, _first in SECTIONS:
        if key not in CATEGORY_TITLES:
            continue  # host CPU cost is reported beside the ranking, not in it
        counted = []
        for row in (r for r in rows if r.section == key):
            missing = [n for n in ranked if not _usable(cells[row][n])]
            if missing:
                scoring["left_out"].append(f"{row.label} (no value on {', '.join(missing)})")
            else:
                counted.append(row)
        if not counted:
            continue
        cat_scores[key] = _per_rep_scores(counted, cells, ranked)
        cat_groups[key] = _groups(cat_scores[key])
        scoring["categories"][key] = {"rows": [r.label for r in counted],
                                      "scores": cat_scores[key], "groups": cat_groups[key]}
    composite: dict[str, list[float]] = {}
    for name in ranked:
        n = min((len(cat_scores[c][name]) for c in cat_scores), default=0)
        composite[name] = [math.exp(sum(math.log(cat_scores[c][name][k]) for c in cat_scores) / len(cat_scores))
                           for k in range(n)]
    if not cat_scores:
        return [{"backend": n, "rank": 1, "score": None, "score_text": NA, "scores": [], "comparison": None,
                 "best_for": ["Not comparable: no test that every measured backend completed",
                              f"Trade-off: {TRADE_OFFS[n]}"]} for n in ranked], scoring
    groups = _groups(composite)
    ranking = []
    top = groups[0]["backend"]
    for group in groups:
        name = group["backend"]
        best_for = []
        for key, _title, _first in SECTIONS:
            if key not in cat_groups:
                continue
            note = _category_note(key, name, cat_scores[key], cat_groups[key])
            if note:
                best_for.append(note)
        if not best_for:
            cmp = compare(composite[name], composite[top])
            if cmp["significant"]:
                best_for.append(f"No category lead; composite score {change_text(cmp)} vs {top} ({p_text(cmp['p'])})")
            elif cmp["tested"]:
                best_for.append(f"No category lead, but not separable from {top} overall ({p_text(cmp['p'])})")
            else:
                best_for.append(f"No category lead (observed {pct_text(cmp['change'])} vs {top}; not tested)")
        best_for.append(f"Trade-off: {TRADE_OFFS[name]}")
        ranking.append({
            "backend": name,
            "rank": group["rank"],
            "score": estimate(composite[name])["mean"] if composite[name] else None,
            "score_text": _score_text(composite[name]),
            "scores": composite[name],
            "categories": {c: _score_text(cat_scores[c][name]) for c in cat_scores},
            "tied_with": group["versus"],
            "comparison": group["comparison"],
            "best_for": best_for,
        })
    return ranking, scoring


def _category_note(key: str, name: str, scores: dict[str, list[float]], groups: list[dict[str, Any]]) -> str:
    """'Best for' text when NAME holds the top rank of a category (alone or shared), else ''."""
    title = CATEGORY_TITLES[key]
    mine = next(g for g in groups if g["backend"] == name)
    if mine["rank"] != 1:
        return ""
    if len(groups) == 1:
        return f"{title} ({key} category: only backend measured)"
    top = groups[0]["backend"]
    if any(g["comparison"] and not g["comparison"]["tested"] for g in groups):
        if name != top:
            return ""
        runner = groups[1]["backend"]
        return (f"{title} (observed, not tested: {key} score {_score_text(scores[name])} vs "
                f"{_score_text(scores[runner])} for {runner} in one repetition)")
    shared = [g for g in groups if g["rank"] == 1 and g["backend"] != name]
    if not shared:
        runner = next(g for g in groups if g["rank"] > 1)["backend"]
        cmp = compare(scores[name], scores[runner])
        return (f"{title} ({key} score {_score_text(scores[name])} vs {_score_text(scores[runner])} for {runner}, "
                f"{change_text(cmp)}, {p_text(cmp['p'])})")
    parts = [f"{g['backend']} ({p_text(compare(scores[name], scores[g['backend']])['p'])})" for g in shared]
    return f"{title}, shared: not separable from {', '.join(parts)}"


def ranking_text(ranking: list[dict[str, Any]]) -> str:
    """``macvtap > virtio = vhost-net``: '>' where Welch's test separates the ranks, '=' where it does not."""
    if not ranking:
        return NA
    text = ranking[0]["backend"]
    for before, item in zip(ranking, ranking[1:]):
        text += f" {'=' if item['rank'] == before['rank'] else '>'} {item['backend']}"
    return text


def _recommendations(ranking: list[dict[str, Any]], chosen: dict[str, dict], measured: list[str]) -> dict[str, str]:
    by_name = {r["backend"]: r for r in ranking if r["score"] is not None}
    bridge = sorted((r for r in by_name.values() if r["backend"] in BRIDGE_BACKENDS), key=lambda r: -r["score"])
    out = {}
    default = bridge[0] if bridge else None
    if default is None:
        out["default"] = f"{NA} (no bridge backend — virtio or vhost-net — was measured)"
    elif len(bridge) == 1:
        out["default"] = f"`{default['backend']}` (the only bridge backend measured; composite score {default['score_text']})"
    else:
        other = bridge[1]
        cmp = compare(default["scores"], other["scores"])
        if cmp["significant"]:
            out["default"] = (f"`{default['backend']}` (composite score {default['score_text']}, {change_text(cmp)} over "
                              f"{other['backend']}, {p_text(cmp['p'])})")
        elif cmp["tested"]:
            out["default"] = (f"`{default['backend']}` or `{other['backend']}`: not separable on this data "
                              f"(composite {default['score_text']} vs {other['score_text']}, {p_text(cmp['p'])}); "
                              "choose on the trade-offs above")
        else:
            out["default"] = (f"undecided: `{default['backend']}` observed {pct_text(cmp['change'])} over "
                              f"`{other['backend']}` in a single repetition, not tested; rerun with `-e repeat=3`")
    mac = by_name.get("macvtap")
    if mac is None:
        out["high_performance"] = f"`macvtap`: {NA} (not measured)"
    elif default is None:
        out["high_performance"] = (f"`macvtap` (when a dedicated lower NIC is available; composite score "
                                   f"{mac['score_text']}; no bridge backend measured to compare)")
    else:
        cmp = compare(mac["scores"], default["scores"])
        if cmp["significant"] and cmp["change"] > 0:
            out["high_performance"] = (f"`macvtap` (when a dedicated lower NIC is available; composite score "
                                       f"{mac['score_text']}, {change_text(cmp)} over {default['backend']}, "
                                       f"{p_text(cmp['p'])})")
        elif cmp["significant"]:
            out["high_performance"] = (f"none measured above the default: macvtap's composite score is "
                                       f"{change_text(cmp)} vs {default['backend']} ({p_text(cmp['p'])})")
        elif cmp["tested"]:
            out["high_performance"] = (f"none separable from the default: macvtap {mac['score_text']} vs "
                                       f"{default['backend']} {default['score_text']} ({p_text(cmp['p'])})")
        else:
            out["high_performance"] = (f"undecided: macvtap observed {pct_text(cmp['change'])} vs "
                                       f"{default['backend']} in a single repetition, not tested")
    virtio = by_name.get("virtio")
    if virtio is None:
        out["fallback"] = f"`virtio`: {NA} (not measured)"
    elif default is not None and default["backend"] == "virtio" and len(bridge) == 1:
        out["fallback"] = "`virtio` (also the only bridge backend measured)"
    else:
        ref = default if default is not None and default["backend"] != "virtio" else (bridge[1] if len(bridge) > 1 else None)
        if ref is None:
            out["fallback"] = f"`virtio` (needs nothing beyond QEMU and tap; composite score {virtio['score_text']})"
        else:
            cmp = compare(virtio["scores"], ref["scores"])
            if cmp["tested"]:
                verdict = (f"{change_text(cmp)} vs {ref['backend']}, {p_text(cmp['p'])}" if cmp["significant"]
                           else f"not separable from {ref['backend']}, {p_text(cmp['p'])}")
            else:
                verdict = f"observed {pct_text(cmp['change'])} vs {ref['backend']}, not tested"
            out["fallback"] = (f"`virtio` (needs nothing beyond QEMU and tap; composite score "
                               f"{virtio['score_text']}, {verdict})")
    tcg = _tcg(chosen, measured)
    out["caveat"] = (f"Measured under TCG ({', '.join(tcg)}): these recommendations describe this emulated lab only; "
                     "repeat the benchmark on a KVM host before choosing a backend for production.") if tcg else ""
    return out


def _reproducibility(chosen: dict[str, dict], measured: list[str], shown_dir: str) -> dict[str, Any]:
    commands = []
    server: list[str] = []
    for name in BACKENDS:
        run = chosen.get(name)
        if run is None:
            commands.append(f"ansible-playbook playbooks/benchmark.yml -e backend={name}")
            continue
        extra = dict(run.get("config", {}).get("extra_vars") or {})
        extra["backend"] = name
        args = " ".join(f"-e {shlex.quote(f'{k}={_evar(v)}')}" for k, v in sorted(extra.items()))
        commands.append(f"ansible-playbook playbooks/benchmark.yml {args}")
        for cmd in run.get("config", {}).get("server_commands") or []:
            text = cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)
            if text not in server:
                server.append(text)
    client = []
    for name in measured:
        for test in chosen[name].get("tests", []):
            cmd = test.get("command")
            if cmd and int(test.get("repetition") or 1) == 1:
                client.append(f"{test['name']}: {cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)}")
        break
    return {
        "benchmark": commands,
        "compare": f"ansible-playbook playbooks/compare.yml -e results_dir={shlex.quote(shown_dir)}",
        "server": server,
        "client": client,
    }


def _evar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _jinja(autoescape: bool) -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=autoescape,
    )


def render_markdown(model: dict[str, Any]) -> str:
    return _jinja(autoescape=False).get_template(TEMPLATE).render(report=model)


def render_html(model: dict[str, Any], svgs: dict[str, str] | None = None) -> str:
    """REPORT.html from the same model as REPORT.md (not from the Markdown): one self-contained file,
    the charts inline as SVG (SVGS: chart key -> the SVG document), no external requests."""
    inline = {key: Markup(_svg_element(text)) for key, text in (svgs or {}).items()}
    return _jinja(autoescape=True).get_template(HTML_TEMPLATE).render(report=model, svgs=inline)


def _svg_element(text: str) -> str:
    """The <svg> element of an SVG document (without its XML declaration and doctype)."""
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""


SUMMARY_FIELDS = ("backend", "section", "metric", "unit", "n", "mean", "interval_half_width", "low", "high",
                  "shown", "run_id")


def summary_rows(model: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per backend (and native) x metric of the report's tables: n, mean, interval, unit, run id."""
    run_ids = {b["name"]: b["run_id"] for b in model["backends"] + [model["reference"]]}
    out = []
    for table in model["tables"]:
        for row in table["rows"]:
            for name in model["columns"]:
                cell = row["statistics"].get(name)
                if not cell or not cell.get("n"):
                    continue
                out.append({
                    "backend": name, "section": table["key"], "metric": row["label"], "unit": row["unit"],
                    "n": cell["n"], "mean": cell["mean"], "interval_half_width": cell["half"],
                    "low": cell["low"], "high": cell["high"], "shown": cell["value"], "run_id": run_ids.get(name),
                })
    return out


def render_csv(model: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in summary_rows(model):
        writer.writerow({k: ("" if v is None else v) for k, v in row.items()})
    return buffer.getvalue()


def report_files(model: dict[str, Any]) -> list[str]:
    """Every file write_report writes, relative to its directory."""
    names = ["REPORT.md", "report.json", "REPORT.html", "summary.csv"]
    for chart in model.get("charts") or []:
        names += [chart["svg"], chart["png"]]
    return names


def write_report(model: dict[str, Any], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write the charts, REPORT.md, report.json, REPORT.html and summary.csv atomically into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    svgs = charts.draw(model, out) if model.get("charts") else {}
    md_path, json_path = out / "REPORT.md", out / "report.json"
    texts = ((md_path, render_markdown(model)), (json_path, json.dumps(model, indent=2, sort_keys=True) + "\n"),
             (out / "REPORT.html", render_html(model, svgs)), (out / "summary.csv", render_csv(model)))
    for path, text in texts:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return md_path, json_path
