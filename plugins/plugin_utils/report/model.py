# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report model: which recorded runs count, and everything the report shows, computed from them."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.report import charts
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis import claims
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import (
    BACKENDS, LOAD_LEAD_S, LOADED, NATIVE, PATHS, SECTIONS, Row, row_name)
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.pps_search import PROBE_S
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import Family, compare
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import (
    LOCAL_HOST, ResultsError, _sort_key, compared_config, has_data, load_runs, select_runs)
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.verdicts import evaluate, usable
from ansible_collections.volt.netbench.plugins.plugin_utils.report.anomalies import (
    _cell_anomalies, _console_anomalies, _environment_anomalies, _native_anomalies, _quality_anomalies, _tcg,
    _test_anomalies, buffer_mismatch)
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.cells import (
    CPU_NOTE, FLOOD_BESIDE_NOTE, LOAD_NOTE, NA, _cell, _cpu_split, _of_native, _percentile_curves, _repeat, _rows,
    _table_row, add_losses, pps_note)
from ansible_collections.volt.netbench.plugins.plugin_utils.report.context import (
    _environment, _method, _reproducibility, _sentence, _test_config)


def build_report(
    results_dir: str | os.PathLike,
    *,
    baseline: str = "virtio",
    run_ids: list[str] | None = None,
    display_dir: str | None = None,
    now: dt.datetime | None = None,
    persist_index: bool = True,
    store: str = "",
    store_host: str = LOCAL_HOST,
    runs: list[dict[str, Any]] | None = None,
    joint: Any = None,
) -> dict[str, Any]:
    """The report model for the run that counts per backend (see results.select_runs) or the given run ids.
    RUNS: the tree's runs, when already loaded. JOINT (a sweep's point: report.sweep's): the comparisons are members
    of a larger family - ``joint.adjusted(key)`` gives each its Holm-adjusted p and verdict, ``joint.size`` the
    family's size.
    PERSIST_INDEX=False (check mode): the history's index is built in memory, nothing is written. STORE (a results
    store: a PostgreSQL DSN or an SQLite file): the history is STORE_HOST's runs kept there, not the tree's."""
    if baseline not in BACKENDS:
        raise ResultsError(f"baseline {baseline!r} is not one of {', '.join(BACKENDS)}")
    shown_dir = display_dir or str(results_dir)
    picked = measured_cells(results_dir, run_ids, shown_dir, runs=runs)
    chosen, backends, reference, anomalies = picked["chosen"], picked["backends"], picked["reference"], picked["anomalies"]
    measured, shown, rows, cells = picked["measured"], picked["shown"], picked["rows"], picked["cells"]
    repeat = _repeat(chosen, measured)
    add_losses(chosen, rows, cells, shown, shown_dir)
    anomalies.extend(_pps_anomalies(chosen, rows, cells, shown))
    for name in shown:
        anomalies.extend(_cell_anomalies(chosen[name], rows, cells, name, repeat))
        anomalies.extend(_console_anomalies(chosen[name], shown_dir))
        anomalies.extend(_test_anomalies(chosen[name]))
        anomalies.extend(_quality_anomalies(chosen[name]))
    anomalies.extend(_environment_anomalies(chosen, measured, shown))
    anomalies.extend(_native_anomalies(chosen, reference, measured))

    curves = _percentile_curves(chosen, shown, rows, cells)
    # each backend as a percentage of native, per row: shown in the tables and in the analysis
    of_native = {row: _of_native(cells[row], measured) for row in rows} if reference["measured"] else {}
    # every comparison the report can claim, as one family corrected once (plugin_utils/analysis/verdicts.py)
    verdicts = evaluate(rows, cells, measured, joint=joint)

    tables = []
    for key, title, first in SECTIONS:
        section_rows = [r for r in rows if r.section == key]
        if not section_rows:
            continue
        tables.append({
            "key": key,
            "title": title,
            "first_column": first,
            "note": {"pps": pps_note(chosen, measured), "cpu": CPU_NOTE, "pps_flood": FLOOD_BESIDE_NOTE.format(probe_s=PROBE_S),
                     "latency_load": LOAD_NOTE.format(streams=_streams(chosen, measured), lead=LOAD_LEAD_S)
                     }.get(key, ""),
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
        "analysis": dict(_analysis(rows, cells, measured, baseline, of_native, verdicts),
                         under_load=under_load(rows, cells, shown)),
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
    model["history"] = _history(results_dir, chosen, measured, persist_index, store, store_host)
    runs = model["history"]["runs"]
    for change in model["history"].get("current") or []:
        anomalies.append(f"History ({runs} runs of this configuration): {change['text']}, and it has stayed there - "
                         "a change point (see History).")
    for odd in model["history"].get("newest") or []:
        anomalies.append(f"History ({runs} runs of this configuration): {odd['text']} - too soon for a change point, "
                         "it looks like a regression (see History).")
    if model["charts_note"]:
        model["history"]["charts"] = []
    return model


def measured_cells(results_dir: str | os.PathLike, run_ids: list[str] | None, shown_dir: str,
                   runs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The runs that count (results.select_runs; RUNS: the tree's, when already loaded), what each path is (the
    report's ``backends`` and ``reference``), the ranked backends measured and the paths shown, the report's rows
    and their cells - and the anomalies of runs that are absent, not run or without data. A sweep's report reads
    every point's cells from here first (their comparisons form one family), then builds each point's report."""
    runs = load_runs(results_dir) if runs is None else runs
    if not runs:
        raise ResultsError(
            f"no recorded runs under {results_dir}: run 'ansible-playbook playbooks/benchmark.yml -e backend=virtio' first"
        )
    chosen, notes = select_runs(runs, run_ids)
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
    return {"chosen": chosen, "backends": backends, "reference": reference, "anomalies": anomalies,
            "measured": measured, "shown": shown, "rows": rows, "cells": cells}


def _streams(chosen: dict[str, dict], measured: list[str]) -> int:
    return next((int(chosen[n]["config"]["parallel_streams"]) for n in measured
                 if (chosen[n].get("config") or {}).get("parallel_streams")), 8)


def _pps_anomalies(chosen: dict[str, dict], rows: tuple[Row, ...], cells: dict, shown: list[str]) -> list[str]:
    """A searched packet rate whose confirming run lost more than the bound (the search's own message is the
    test's anomaly when it found no rate at all)."""
    out = []
    for row in (r for r in rows if r.section == "pps"):
        for name in shown:
            cell = cells[row].get(name)
            bound = (chosen[name].get("config") or {}).get("pps_loss_max_percent")
            if (usable(cell) and (chosen[name].get("config") or {}).get("pps_mode") == "search" and bound is not None
                    and cell.get("loss_percent") is not None and cell["loss_percent"] > float(bound)):
                out.append(f"{name}: PPS {row.label}: the last confirming run lost {cell['loss_percent']:.3g} % (mean of "
                           f"the repetitions), more than pps_loss_max ({float(bound):g} %), although the search "
                           f"stepped the rate down: a loss that does not fall with the rate is the lab's own "
                           f"({_loss_floor_cause(chosen[name], chosen, shown)}) - the probes are in its "
                           "pps_SIZE.N.search.json; a "
                           "bound below that floor cannot be met here.")
    return out


def _loss_floor_cause(run: dict[str, Any], chosen: dict[str, dict], shown: list[str]) -> str:
    """What can make a path lose packets at any rate - a cause that exists on that path."""
    if run.get("backend") == NATIVE:
        # no guest, no vCPU: its sockets ask for the guests' buffers (matrix.native_tuning); when the host's
        # net.core.rmem_max capped them, that is the cause (and an anomaly of its own says so)
        mismatch = buffer_mismatch(chosen, shown)
        if mismatch:
            return f"the native reference's {mismatch}"
        return ("the receiving iperf3 not scheduled in time: the sender, the kernel's forwarding and the receiver "
                "share the hypervisor's CPUs, and a burst outlasts the socket's buffer while it waits")
    if (run.get("environment") or {}).get("accelerator") == "tcg":
        return "under TCG a guest's vCPU stalls for tens of milliseconds, longer than its queues cover"
    return "the guests' vCPUs or QEMU's I/O threads falling behind in bursts, longer than their queues cover"


# The latency rows measured idle and under load: (label, idle test, metric, loaded test).
LOAD_PAIRS = tuple((label, idle, metric, loaded) for loaded, idle in LOADED.items()
                   for label, metric in ((("ICMP P50", "rtt_p50_us"), ("ICMP P99", "rtt_p99_us")) if idle == "ping"
                                         else (("TCP P50", "latency_p50_us"), ("TCP P99", "latency_p99_us"))))


def under_load(rows: tuple[Row, ...], cells: dict, shown: list[str]) -> dict[str, Any]:
    """Each path's latency under load against its own idle latency: the ratio of the means over the repetitions
    with its 95 % Fieller interval and Welch's test (stats.compare), the comparisons of all paths and rows one
    family of their own (Holm) - the question is how much a busy path adds, not which backend is better."""
    by_key = {(r.test, r.metric): r for r in rows}
    family = Family()
    found = []
    for name in shown:
        for label, idle_test, metric, loaded_test in LOAD_PAIRS:
            idle_row, loaded_row = by_key.get((idle_test, metric)), by_key.get((loaded_test, metric))
            if idle_row is None or loaded_row is None:
                continue
            idle, loaded = cells[idle_row].get(name), cells[loaded_row].get(name)
            if not (usable(idle) and usable(loaded)) or not idle["mean"]:
                continue
            cmp = family.add((name, label), compare(loaded["values"], idle["values"], higher_is_better=False))
            found.append((name, label, idle, loaded, cmp))
    family.correct()
    lines, claimed = [], []
    for name, label, idle, loaded, cmp in found:
        ratio = cmp["ratio"]
        shown_ratio = f"×{ratio:,.2f}"
        if cmp["tested"]:
            low = "0" if cmp["ratio_low"] is None else f"{cmp['ratio_low']:,.2f}"
            high = "∞" if cmp["ratio_high"] is None else f"{cmp['ratio_high']:,.2f}"
            shown_ratio += f" [{low}, {high}]"
            if cmp["significant"]:
                verdict = f"{'higher' if ratio > 1 else 'lower'} under load, {claims.adjusted(cmp)}"
                claimed.append(f"{name} {label} {shown_ratio}")
            else:
                verdict = f"no difference shown, {claims.adjusted(cmp)}"
        else:
            verdict = claims.untested_why(cmp)
        lines.append({"backend": name, "metric": label, "idle": f"{idle['text']} µs", "loaded": f"{loaded['text']} µs",
                      "ratio": ratio, "ratio_low": cmp["ratio_low"], "ratio_high": cmp["ratio_high"],
                      "p_adjusted": cmp["p_adjusted"], "significant": cmp["significant"], "tested": cmp["tested"],
                      "text": f"{label} {idle['text']} µs idle, {loaded['text']} µs under load: {shown_ratio} "
                              f"({verdict})"})
    if not found:
        finding = "No path measured its latency both idle and under load."
    elif claimed:
        finding = (f"Under load the latency changed beyond its interval on: {'; '.join(claimed)} (ratio loaded/idle "
                   f"with its 95 % interval; {family.size} comparisons corrected together, Holm).")
    elif any(c["tested"] for *_rest, c in found):
        finding = ("No path's latency under load differs from its idle latency beyond what the repetitions' spread "
                   "allows (Holm-corrected).")
    else:
        finding = ("One repetition per test: the loaded/idle ratios are estimates, not tested (repeat the run with "
                   "-e repeat=3 or more to test them).")
    return {"lines": lines, "finding": finding, "family": family.size}


def _history(results_dir: str | os.PathLike, chosen: dict[str, dict], measured: list[str], persist: bool,
             store: str = "", store_host: str = LOCAL_HOST) -> dict[str, Any]:
    """Every run of the tree - or of STORE_HOST in STORE - with the compared runs' configuration, over time
    (plugin_utils/history/history.py)."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.history.history import MIN_RUNS, build_history  # pylint: disable=import-outside-toplevel

    if not measured:
        return {"runs": 0, "series": [], "charts": [], "change_points": [], "current": [], "newest": []}
    newest = max((chosen[n] for n in measured), key=lambda r: _sort_key(r["run_id"]))
    series = None
    if store:
        from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import open_store  # pylint: disable=import-outside-toplevel

        with open_store(store, read_only=True) as opened:
            series = opened.series(store_host, compared_config(newest))
    out = build_history(results_dir, latest_run=newest["run_id"], compared=compared_config(newest), persist=persist,
                        series=series)
    out["compared"] = compared_config(newest)
    out["min_runs"] = MIN_RUNS
    return out


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
        # one table of every section's rows: the loaded and flood rows say so ('ICMP P50 under load')
        out.append({"label": row_name(r.section, r.label), "unit": r.unit, "native": f"{native['text']} {r.unit}",
                    "cells": {n: of[n]["text"] if n in of else NA for n in BACKENDS}})
    return out
