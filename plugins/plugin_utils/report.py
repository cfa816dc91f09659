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

from ansible_collections.volt.netbench.plugins.plugin_utils import charts, claims
from ansible_collections.volt.netbench.plugins.plugin_utils.files import write_atomic
from ansible_collections.volt.netbench.plugins.plugin_utils.matrix import (
    BACKENDS, CPU_PARTS, NATIVE, PATHS, PPS_SIZES, SECTIONS, Row, report_rows)
from ansible_collections.volt.netbench.plugins.plugin_utils.results import (
    COMPARED_CONFIG, ResultsError, has_data, load_runs, pooled_rtts, select_runs)
from ansible_collections.volt.netbench.plugins.plugin_utils.stats import (
    ALPHA, CONFIDENCE, CORRECTION_NAME, compare, estimate, percentile, scipy_version)
from ansible_collections.volt.netbench.plugins.plugin_utils.verdicts import evaluate, make_cell, usable

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
# what only a guest has: not compared for the native reference (no VM)
GUEST_ENV = ("vm_vcpus", "vm_ram", "guest_kernel", "qemu_version", "accelerator")


def fmt(value: float | None, digits: int) -> str:
    """Table cell text: thousands separators, fixed digits, n/a for a missing value."""
    if value is None:
        return NA
    return f"{value:,.{digits}f}"


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
    cells = {row: {name: _cell(chosen[name], row, shown_dir) if name in shown else None
                   for name in PATHS} for row in rows}
    if not any(usable(cells[r][n]) for r in rows if r.section == "cpu" for n in measured):
        rows = tuple(r for r in rows if r.section != "cpu")  # no CPU samples in these runs
    repeat = _repeat(chosen, measured)
    for name in shown:
        anomalies.extend(_cell_anomalies(chosen[name], rows, cells, name, repeat))
        anomalies.extend(_test_anomalies(chosen[name]))
        anomalies.extend(_quality_anomalies(chosen[name]))
    anomalies.extend(_environment_anomalies(chosen, measured, shown))
    anomalies.extend(_native_anomalies(chosen, reference, measured))

    curves = _percentile_curves(chosen, shown, rows, cells)
    # each backend as a percentage of native, per row: shown in the tables and in the analysis
    of_native = {row: _of_native(cells[row], measured) for row in rows} if reference["measured"] else {}
    # every comparison the report can claim, as one family corrected once (plugin_utils/verdicts.py)
    verdicts = evaluate(rows, cells, measured)

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
            "rows": [_table_row(row, cells[row], measured, baseline, of_native.get(row, {}), repeat, verdicts)
                     for row in section_rows],
        })
    ranking, scoring = claims.ranking(verdicts)
    tested = any(c["n"] > 1 for row in rows for n, c in cells[row].items() if c and n in measured)
    tcg = _tcg(chosen, measured)
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
        "statistics": _method(chosen, shown, repeat, tested, verdicts.size),
        "tables": tables,
        "analysis": _analysis(rows, cells, measured, baseline, of_native, verdicts),
        "cpu_split": _cpu_split(chosen, rows, shown),
        "hierarchy": ranking,
        "ranking_text": claims.ranking_text(ranking),
        "scoring": scoring,
        "recommendations": claims.recommendations(ranking, verdicts, (
            f"Measured under TCG ({', '.join(tcg)}): these recommendations describe this emulated lab only; "
            "repeat the benchmark on a KVM host before choosing a backend for production.") if tcg else ""),
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


def _percentile_curves(chosen: dict[str, dict], shown: list[str], rows: tuple[Row, ...], cells: dict
                       ) -> dict[str, dict[str, dict[str, list[float]]]]:
    """Per latency tool (icmp, tcp) and path: the round trips of the cells' repetitions (the P50 row's) pooled,
    at CURVE_PERCENTILES: the distribution's shape, drawn beside the cells (which are per-repetition means)."""
    out: dict[str, dict[str, dict[str, list[float]]]] = {}
    for key, test in (("icmp", "ping"), ("tcp", "sockperf_tcp")):
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
        return None
    text = fmt(cell["mean"], row.digits)
    if cell["half"] is not None:
        text += f" ± {fmt(cell['half'], row.digits)}"
    cell.update(text=text, raw=[f"{shown_dir}/{run['backend']}/{run['run_id']}/{raws[k]}"
                                for k in cell["repetitions"] if k in raws])
    return cell


def _table_row(row: Row, cells: dict[str, Any], measured: list[str], baseline: str,
               of_native: dict[str, dict[str, Any]], repeat: int, verdicts) -> dict[str, Any]:
    """A table row: each cell's text, marked with its n where that is not the run's repetition count."""
    shown = {}
    for name in PATHS:
        cell = cells.get(name)
        text = cell["text"] if cell else NA
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
        "statistics": {n: cells[n] for n in PATHS if cells.get(n)},
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


def _tname(test: dict[str, Any], repeat: int) -> str:
    return f"{test['name']} #{test.get('repetition') or 1}" if repeat > 1 else test["name"]


def _cell_anomalies(run: dict[str, Any], rows: tuple[Row, ...], cells: dict, name: str, repeat: int) -> list[str]:
    out = []
    for row in rows:
        cell = cells[row][name]
        for rep in (cell or {}).get("zeros", []):
            which = f" in repetition {rep}" if repeat > 1 else ""
            out.append(f"{name}: {row.label} measured 0 {row.unit}{which}; counted in that cell (a measurement, "
                       "not a failure).")
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


def _environment_anomalies(chosen: dict[str, dict], measured: list[str], shown: list[str]) -> list[str]:
    """TCG, and every configuration or environment key on which the compared runs differ - the native
    reference's run checked like every backend's."""
    out = []
    tcg = _tcg(chosen, measured)
    if tcg:
        out.append(f"{', '.join(tcg)} {TCG_NOTE}")
    unknown = [n for n in measured if not chosen[n].get("environment", {}).get("accelerator")]
    if unknown:
        out.append(f"{', '.join(unknown)}: accelerator not recorded.")
    for scope, keys in (("config", COMPARED_CONFIG), ("environment", COMPARED_ENV)):
        for key in keys:
            # the native reference runs no guests: its guest-side environment is not compared
            names = [n for n in shown if not (n == NATIVE and scope == "environment" and key in GUEST_ENV)]
            seen = {n: (chosen[n].get(scope) or {}).get(key) for n in names}
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


def _method(chosen: dict[str, dict], shown: list[str], repeat: int, tested: bool, family: int) -> dict[str, Any]:
    """How to read the cells and claims (one paragraph in the report), and whether anything was tested."""
    conf = f"{CONFIDENCE * 100:.0f} %"
    run_ids = sorted({chosen[n]["run_id"] for n in shown})
    if len(run_ids) == 1:
        how = f"the backends alternating test by test in one lab (run {run_ids[0]})"
    else:
        how = ("in separate runs (" + "; ".join(f"{n}: {chosen[n]['run_id']}" for n in shown) + "), so the "
               "differences include whatever changed on the host between them")
    return {
        "repeat": repeat,
        "tested": tested,
        "confidence": CONFIDENCE,
        "alpha": ALPHA,
        "family": family,
        "one_lab": len(run_ids) == 1,
        "method": (
            f"Each backend ran every test {repeat} time{'s' if repeat != 1 else ''}, {how}. A cell is the mean "
            f"of the repetitions that measured something (a measured 0 counts; a failed run does not) ± the "
            f"half-width of its {conf} confidence interval (Student's t, n − 1 degrees of freedom); a cell whose "
            f"n differs from {repeat} says its n, and a cell from one repetition is the plain value. A percentile "
            "cell (ICMP, TCP) is the mean of the per-repetition percentiles, each from that repetition's replies "
            "(ping's per-reply times, sockperf's `--full-log`); the latency charts pool every reply. A percentage "
            f"is the ratio of two cells' means, with the {conf} Fieller interval of that ratio for unequal "
            "variances (it allows for the noise of both means; ∞ where the reference's mean is not clearly above "
            "zero), and positive always means better. Every comparison the report can claim — each pair of "
            "backends on each row, on the category, composite and host CPU scores and on the P99/P50 tails — "
            f"is one family of {family} tested comparison{'s' if family != 1 else ''} (Welch's t-test), "
            f"corrected with {CORRECTION_NAME}: a difference is called an improvement, a regression or a lead, "
            f"and a backend outranks another, only where the adjusted p is below {ALPHA:g}, so the chance that "
            f"the report states any false difference is at most {ALPHA * 100:g} %. Identical values on both sides "
            "are not tested. Categories and the hierarchy score each repetition (geometric mean over the "
            "category's rows of value ÷ best mean, higher is better, rows paired by repetition, using only rows "
            "every ranked backend measured); a backend's rank is 1 + the number of backends that beat it. The "
            "percentages of native are estimates with their intervals, not claims, and are not in the family. "
            f"Computed with scipy {scipy_version()} and statsmodels {_statsmodels_version()}."
        ),
        "untested": "" if tested else (
            "Every backend was measured once per test (repeat = 1), so no difference below was tested: "
            "percentages and orderings are single observations, not findings. Run with `-e repeat=3` or more "
            "to test them."
        ),
    }


def _statsmodels_version() -> str:
    import statsmodels  # pylint: disable=import-outside-toplevel

    return statsmodels.__version__


def _analysis(rows: tuple[Row, ...], cells: dict, measured: list[str], baseline: str,
              of_native: dict[Row, dict[str, dict[str, Any]]], verdicts) -> dict[str, Any]:
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
            text = f"{cell['text']} {r.unit}" if usable(cell) else NA
            cmp = None
            if name == baseline:
                note = "baseline" if usable(cell) else "baseline, not measured"
            elif not usable(cell):
                note = "not measured"
            elif not usable(base):
                note = f"{baseline} not measured, no baseline to compare"
            else:
                cmp = verdicts.pair(r, name, baseline)
                note = claims.versus_note(cmp, baseline)
            lines.append({"backend": name, "value": cell["value"] if usable(cell) else None, "text": text,
                          "comparison": cmp, "note": note})
        return lines

    single = row("iperf3_tcp_single", "receiver_bps")
    throughput_rows = [r for r in rows if r.section == "throughput"]
    pps_rows = [r for r in rows if r.section == "pps"]
    cpu_rows = [r for r in rows if r.section == "cpu"]
    first_pps = pps_rows[0] if pps_rows else None
    icmp_p99, tcp_p99 = row("ping", "rtt_p99_us"), row("sockperf_tcp", "latency_p99_us")
    jitter = {label: {n: claims.jitter_estimate(r) for n, r in verdicts.jitter.get(label, {}).items()}
              for label in ("ICMP", "TCP")}
    latency_lines = []
    for name in BACKENDS:
        parts = []
        for label, p99 in (("ICMP", icmp_p99), ("TCP", tcp_p99)):
            cell = cells[p99][name] if p99 else None
            parts.append(f"{cell['text']} µs {label}" if usable(cell) else f"{NA} {label}")
        latency_lines.append({
            "backend": name,
            "p99": ", ".join(parts),
            "jitter": f"{claims.ratio_text(jitter['ICMP'].get(name))} ICMP, "
                      f"{claims.ratio_text(jitter['TCP'].get(name))} TCP",
            "icmp_jitter": jitter["ICMP"].get(name),
            "tcp_jitter": jitter["TCP"].get(name),
        })
    latency_sentences = [claims.lead_sentence(r, cells[r], measured, verdicts) for r in (icmp_p99, tcp_p99) if r]
    latency_sentences += [claims.jitter_sentence(label, verdicts) for label in ("ICMP", "TCP")]
    return {
        "throughput_row": single.label if single else (throughput_rows[0].label if throughput_rows else ""),
        "throughput": versus(single or (throughput_rows[0] if throughput_rows else None)),
        "throughput_finding": claims.finding(throughput_rows, cells, measured, verdicts),
        "latency": latency_lines,
        "latency_finding": " ".join(s for s in latency_sentences if s) or "No backend was measured.",
        "pps_size": first_pps.label.split()[0] if first_pps else "",
        "pps": versus(first_pps),
        "pps_finding": claims.finding(pps_rows, cells, measured, verdicts),
        "cpu_finding": " ".join([claims.finding(cpu_rows, cells, measured, verdicts),
                                 claims.cheapest(verdicts)]).strip() if cpu_rows else "",
        "native": _native_lines(rows, cells, of_native),
    }


def _native_lines(rows: tuple[Row, ...], cells: dict, of_native: dict[Row, dict[str, dict[str, Any]]]
                  ) -> list[dict[str, Any]]:
    """Per row with a native value: native's cell and each backend's percentage of it (empty without native)."""
    out = []
    for r in rows:
        native = cells[r][NATIVE]
        if r not in of_native or not usable(native):
            continue
        of = of_native[r]
        out.append({"label": r.label, "unit": r.unit, "native": f"{native['text']} {r.unit}",
                    "cells": {n: of[n]["text"] if n in of else NA for n in BACKENDS}})
    return out


def _reproducibility(chosen: dict[str, dict], measured: list[str], shown_dir: str) -> dict[str, Any]:
    """The command of each run the report compares - once per run id (one lab measures every backend of a
    run; the recorded extra vars name its ``backend``, older runs get their own backend) - then a command
    for each backend with no run, and the tools' commands on the guests."""
    commands: list[str] = []
    server: list[str] = []
    for name in BACKENDS:
        run = chosen.get(name)
        if run is None:
            commands.append(f"ansible-playbook playbooks/benchmark.yml -e backend={name}")
            continue
        extra = dict(run.get("config", {}).get("extra_vars") or {})
        extra.setdefault("backend", name)
        args = " ".join(f"-e {shlex.quote(f'{k}={_evar(v)}')}" for k, v in sorted(extra.items()))
        command = f"ansible-playbook playbooks/benchmark.yml {args}"
        if command not in commands:
            commands.append(command)
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
        write_atomic(path, text)
    return md_path, json_path
