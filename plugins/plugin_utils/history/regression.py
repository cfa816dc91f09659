# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run against a baseline run: every backend, test and metric both measured, the change with its interval and
its verdict - the regression gate.

The method (stated in every comparison it writes):

* A metric's value per run is the report's cell: the mean of its repetitions (report.cells._cell). The change is
  this run's mean over the baseline's with Fieller's 95 % interval (stats.compare), oriented so that positive is
  better.
* The tolerance T (percent) is the smallest change that counts. Per metric two hypotheses are tested with Welch's
  one-sided tests of the shifted ratio (stats.margin_tests): "changed beyond T" (worse than 1 - T or better than
  1 + T on the side the estimate points to; its p doubled: one test per side, Bonferroni) and "unchanged within
  ±T" (two one-sided tests of equivalence, TOST). Every hypothesis of the comparison is one family, corrected
  once with Holm's method: a regression, an improvement or "unchanged within ±T" is claimed only where its
  adjusted p is below 0.05. Everything else is "no detectable change": the data does not say either way.
* A metric measured with one repetition, or with identical values on both sides, is not tested: it can never be a
  regression (and says so).
* What differs between the two runs' environments and set-up (host, kernel, QEMU, MTU, profile, accelerator,
  topology...) is listed first; a difference in what a test measures (duration, ping count and
  interval, parallel streams, packet sizes, iperf3 warm-up) makes the comparison meaningless: it is refused
  unless forced, and then marked.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils.lab import within
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import csv_row, write_atomic
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PATHS, row_name
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.cells import _cell, _rows
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import (
    LOCAL_HOST, RUN_ID_RE, ResultsError, _sort_key, has_data, load_run, load_runs)
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import (
    ALPHA, CONFIDENCE, CORRECTION, CORRECTION_NAME, compare, margin_tests, p_text)
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.sweep import split_run_key
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.verdicts import usable

DEFAULT_TOLERANCE = 5.0
# ansible-playbook's exit status when the gate found a regression (the volt.netbench.gate callback sets it;
# Ansible's own codes are 0, 1, 2, 4, 5, 8, 99, 250)
RC_REGRESSION = 3
# the baseline named as the run before this one
PREVIOUS = "previous"

REGRESSION, IMPROVEMENT, UNCHANGED, NO_CHANGE = "regression", "improvement", "unchanged", "no detectable change"
VERDICTS = (REGRESSION, IMPROVEMENT, UNCHANGED, NO_CHANGE)

# What a test measures: two runs that differ here measure different things (refused unless forced).
MEASURED_CONFIG = (("duration_s", "Test duration (s)"), ("ping_count", "Ping count"),
                   ("ping_interval_s", "Ping interval (s)"), ("parallel_streams", "Parallel streams"),
                   ("pps_sizes", "Packet sizes"), ("pps_mode", "Packet rate mode"),
                   ("pps_loss_max_percent", "Packet rate loss bound (%)"), ("iperf3_omit_s", "iperf3 warm-up (s)"),
                   ("guest_tuning", "Guest tuning"))
# The set-up and the environment: listed first, usually the point of the comparison.
SETUP_CONFIG = (("profile", "Profile"), ("repeat", "Repetitions"), ("tests", "Tests"), ("mtu", "MTU"),
                ("topology", "Topology"))
ENVIRONMENT = (("hypervisor", "Host"), ("host_cpu", "Host CPU"), ("host_ram", "Host RAM"), ("host_nic", "Host NIC"),
               ("host_kernel", "Host kernel"), ("qemu_version", "QEMU"), ("accelerator", "Accelerator"),
               ("vm_vcpus", "VM vCPUs"), ("vm_ram", "VM RAM"), ("guest_kernel", "Guest kernel"))


class CompareError(ResultsError):
    """The comparison cannot be made (a run not found, different test configurations)."""


def _run_ids(runs: list[dict[str, Any]]) -> list[str]:
    """Run ids with data, newest first."""
    return sorted({r["run_id"] for r in runs if has_data(r)}, key=_sort_key, reverse=True)


def _point_of(run_id: str) -> str:
    """A sweep point's part of a run id ('+mtu-9000'; '' for a run without a sweep)."""
    return split_run_key(str(run_id))[1]


def resolve(results_dir: str | os.PathLike, spec: str | None, *, before: str | None = None,
            runs: list[dict[str, Any]] | None = None, bases: list[str] | tuple = ()) -> dict[str, dict]:
    """The runs one side of a comparison stands for, by backend. SPEC: a run id (every backend's run of it under
    RESULTS_DIR), BACKEND/RUN_ID, a run directory (one backend), a results tree (its newest run with data),
    'previous' (the newest run id with data before BEFORE) or None/'' (the newest run id with data). A sweep's point
    is compared only with the same point: BEFORE's point (``+mtu-9000``) chooses 'previous' among that point's runs,
    and a sweep's run id named without a point stands for its run at BEFORE's point. A directory
    must lie inside RESULTS_DIR or one of BASES (a job template's results_base; symbolic links resolved): SPEC may
    be a survey answer, and the process reading it is root. RUNS: the tree's runs when the caller has loaded them
    already (results.load_runs)."""
    spec = str(spec or "").strip()
    backend, _sep, run_id = spec.partition("/")
    named = backend in PATHS and bool(RUN_ID_RE.match(run_id))
    path = Path(spec) if spec else None
    if path is not None and spec != PREVIOUS and not RUN_ID_RE.match(spec) and not named:
        roots = list(dict.fromkeys([str(results_dir), *[str(b) for b in bases if str(b or "").strip()]]))
        real = os.path.realpath(path)
        if not any(real == os.path.realpath(r) or within(real, [r]) for r in roots):
            raise CompareError(f"{spec} is outside {' and '.join(roots)}: a baseline directory must be inside the "
                               "results tree (or the job template's results_base); name a run id, BACKEND/RUN_ID, "
                               "'previous', or a directory inside it")
        if not path.is_dir():
            raise CompareError(f"{spec} is neither a run id under {results_dir} nor a directory")
        if (path / "run.json").is_file():
            run = load_run(path)
            return {run["backend"]: run}
        return resolve(path, "", bases=[path])
    runs = load_runs(results_dir) if runs is None else runs
    if named:
        found = {r["backend"]: r for r in runs if r["backend"] == backend and r["run_id"] == run_id}
        if not found:
            raise CompareError(f"run {spec} not found under {results_dir}")
        return found
    ids = _run_ids(runs)
    point = _point_of(before) if before else ""
    if spec == PREVIOUS:
        older = [i for i in ids if before is None or (_sort_key(i) < _sort_key(before) and _point_of(i) == point)]
        if not older:
            since = f" before run {before}" if before else ""
            raise CompareError(f"no run with data under {results_dir}{since}: nothing to compare with")
        spec = older[0]
    elif not spec:
        if not ids:
            raise CompareError(f"no run with data under {results_dir}: run the benchmark first")
        spec = ids[0]
    elif point and not _point_of(spec) and any(r["run_id"] == spec + point for r in runs):
        spec += point  # an earlier sweep named by its run id: its run at this point
    found = {r["backend"]: r for r in runs if r["run_id"] == spec}
    if not found:
        known = ", ".join(ids[:5]) or "none"
        raise CompareError(f"run {spec} not found under {results_dir} (newest runs with data: {known})")
    return found


def _agreed(runs: dict[str, dict], getter) -> Any:
    """The value every run of a side agrees on; {backend: value} where they differ; None where none has one."""
    values = {b: getter(r) for b, r in runs.items() if getter(r) not in (None, "")}
    distinct = {json.dumps(v, sort_keys=True) for v in values.values()}
    if not values:
        return None
    return next(iter(values.values())) if len(distinct) == 1 else values


def _show(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, dict):
        return "; ".join(f"{b}: {_show(v)}" for b, v in value.items())
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def differences(current: dict[str, dict], baseline: dict[str, dict]) -> tuple[list[dict], list[dict]]:
    """What differs between the two sides: (set-up and environment, what a test measures)."""
    setup, measured = [], []
    for kind, keys, where in (("environment", ENVIRONMENT, "environment"), ("set-up", SETUP_CONFIG, "config"),
                              ("test configuration", MEASURED_CONFIG, "config")):
        for key, label in keys:
            a = _agreed(baseline, lambda r, k=key, w=where: (r.get(w) or {}).get(k))
            b = _agreed(current, lambda r, k=key, w=where: (r.get(w) or {}).get(k))
            if a is None and b is None or json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True):
                continue
            entry = {"kind": kind, "key": key, "label": label, "baseline": _show(a), "current": _show(b)}
            (measured if kind == "test configuration" else setup).append(entry)
    return setup, measured


def _side(runs: dict[str, dict], results_dir: str) -> dict[str, Any]:
    ids = sorted({r["run_id"] for r in runs.values()}, key=_sort_key)
    return {"run_id": ids[-1] if ids else None, "run_ids": ids,
            "backends": [b for b in PATHS if b in runs],
            "measured": [b for b in PATHS if b in runs and has_data(runs[b])],
            "paths": {b: runs[b]["path"] for b in PATHS if b in runs},
            "results_dir": results_dir}


def _tested(cur: dict, base: dict, higher_is_better: bool, tolerance: float) -> dict[str, Any]:
    cmp = compare(cur["values"], base["values"], higher_is_better)
    tests = margin_tests(cur["values"], base["values"], higher_is_better, tolerance)
    entry = {"cmp": cmp, "p_worse": tests["worse"], "p_better": tests["better"], "p_within": tests["within"],
             "p_changed": None, "side": None}
    if tests["worse"] is not None:
        side = "worse" if tests["worse"] <= tests["better"] else "better"
        entry.update(side=side, p_changed=min(1.0, 2 * min(tests["worse"], tests["better"])))
    return entry


def _holm(entries: list[dict[str, Any]]) -> int:
    """Correct every hypothesis of the comparison once (Holm); returns the family's size."""
    from statsmodels.stats.multitest import multipletests  # pylint: disable=import-outside-toplevel

    keys = [(i, k) for i, e in enumerate(entries) for k in ("p_changed", "p_within") if e.get(k) is not None]
    if keys:
        _reject, adjusted, _s, _b = multipletests([entries[i][k] for i, k in keys], alpha=ALPHA, method=CORRECTION)
        for (i, k), adj in zip(keys, adjusted):
            entries[i][k + "_adjusted"] = float(adj)
    return len(keys)


def _verdict(entry: dict[str, Any], tolerance: float) -> tuple[str, str]:
    """The verdict and why, after the family's correction."""
    cmp = entry["cmp"]
    if entry.get("p_changed") is None:
        why = cmp.get("why") or "not tested"
        return NO_CHANGE, f"not tested: {why}"
    changed, within = entry.get("p_changed_adjusted", 1.0), entry.get("p_within_adjusted", 1.0)
    if changed < ALPHA:
        kind = REGRESSION if entry["side"] == "worse" else IMPROVEMENT
        return kind, f"{'worse' if kind == REGRESSION else 'better'} by more than {tolerance:g} % ({p_text(changed, 'adjusted p')})"
    if within < ALPHA:
        return UNCHANGED, f"within ±{tolerance:g} % ({p_text(within, 'adjusted p')})"
    return NO_CHANGE, (f"neither beyond nor within ±{tolerance:g} % with confidence "
                       f"({p_text(changed, 'adjusted p')} for a change beyond it)")


def judge(entries: list[dict[str, Any]], tolerance: float) -> int:
    """Test, correct (one family) and give a verdict to every entry - a metric's ``current`` and ``baseline``
    cells (their ``values``: the repetitions) and ``higher_is_better``. Returns the family's size."""
    for entry in entries:
        entry.update(_tested(entry["current"], entry["baseline"], entry["higher_is_better"], tolerance))
    size = _holm(entries)
    for entry in entries:
        entry["verdict"], entry["why"] = _verdict(entry, tolerance)
    return size


def stored_runs(runs: list[dict[str, Any]], store: Any, host: str) -> list[dict[str, Any]]:
    """RUNS (a tree's) and, by reference, HOST's runs in STORE (store.Store) that the tree does not hold: enough of
    each for :func:`resolve` to choose (backend, run id, status, whether it has samples); :func:`_loaded` reads
    the chosen ones whole."""
    have = {(r["backend"], r["run_id"]) for r in runs}
    return runs + [{"backend": m["backend"], "run_id": m["run_id"], "status": m["status"],
                    "samples": [True] if m["measured"] else [], "_stored": (m["host"], m["backend"], m["run_id"])}
                   for m in store.runs(host) if (m["backend"], m["run_id"]) not in have]


def _loaded(side: dict[str, dict], store: Any) -> dict[str, dict]:
    return {b: store.load_run(*r["_stored"]) if "_stored" in r else r for b, r in side.items()}


def compare_runs(results_dir: str | os.PathLike, against: str, *, run: str | None = None,
                 tolerance: float = DEFAULT_TOLERANCE, force: bool = False,
                 display_dir: str | None = None, bases: list[str] | tuple = (), store: str = "",
                 store_host: str = LOCAL_HOST) -> dict[str, Any]:
    """The comparison model of RUN (default: the newest run with data) against AGAINST (see :func:`resolve`).
    STORE (a results store: a PostgreSQL DSN or an SQLite file) adds STORE_HOST's runs kept there to the tree's:
    a fresh job's empty results directory still finds its baseline."""
    if tolerance is None or not math.isfinite(float(tolerance)) or not 0 <= float(tolerance) < 100:
        raise CompareError(f"tolerance must be a percentage from 0 to below 100, got {tolerance!r}")
    tolerance = float(tolerance)
    if not str(against or "").strip():
        raise CompareError("against: name the baseline - a run id, BACKEND/RUN_ID, a run directory, a results "
                           "tree or 'previous'")
    results_dir = str(results_dir)
    shown = display_dir or results_dir
    runs = load_runs(results_dir) if Path(results_dir).is_dir() or not store else []  # read once for both sides
    opened = None
    try:
        if store:
            from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import open_store  # pylint: disable=import-outside-toplevel

            opened = open_store(store, read_only=True)
            runs = stored_runs(runs, opened, store_host)
        current = resolve(results_dir, run, runs=runs)
        cur_id = _side(current, shown)["run_id"]
        baseline = resolve(results_dir, against, before=cur_id, runs=runs, bases=bases)
        if opened is not None:
            current, baseline = _loaded(current, opened), _loaded(baseline, opened)
    finally:
        if opened is not None:
            opened.close()
    setup, measured = differences(current, baseline)
    if measured and not force:
        listed = "; ".join(f"{d['label']}: {d['baseline']} (baseline) vs {d['current']} (this run)" for d in measured)
        raise CompareError(f"the two runs measured different things ({listed}): their figures are not comparable. "
                           "Re-run with the baseline's settings, or pass force=true to compare anyway (the "
                           "comparison is then marked)")
    entries: list[dict[str, Any]] = []
    one_sided: list[str] = []
    for backend in PATHS:
        if backend not in current or backend not in baseline:
            if backend in current or backend in baseline:
                one_sided.append(f"{backend}: only {'this run' if backend in current else 'the baseline'} has it")
            continue
        cur_run, base_run = current[backend], baseline[backend]
        if not (has_data(cur_run) and has_data(base_run)):
            missing = [name for name, r in (("this run", cur_run), ("the baseline", base_run)) if not has_data(r)]
            one_sided.append(f"{backend}: no data in {' and '.join(missing)}")
            continue
        for row in _rows({"a": cur_run, "b": base_run}, ["a", "b"]):
            cur = _cell(cur_run, row, shown)
            base = _cell(base_run, row, shown)
            if not (usable(cur) and usable(base)):
                continue
            entry = {"backend": backend, "row": row, "section": row.section, "label": row_name(row.section, row.label),
                     "unit": row.unit, "digits": row.digits, "higher_is_better": row.higher_is_better,
                     "baseline": base, "current": cur}
            entries.append(entry)
    size = judge(entries, tolerance)
    counts = {v: sum(1 for e in entries if e["verdict"] == v) for v in VERDICTS}
    regressions = [e for e in entries if e["verdict"] == REGRESSION]
    verdict = (REGRESSION if regressions else IMPROVEMENT if counts[IMPROVEMENT] else
               UNCHANGED if entries and counts[UNCHANGED] == len(entries) else NO_CHANGE)
    if not entries:
        one_sided.append("no metric was measured by both runs: nothing was compared")
    return {
        "current": _side(current, shown),
        "baseline": _side(baseline, shown),
        "tolerance": tolerance,
        "differences": setup,
        "measured_differences": measured,
        "forced": bool(measured),
        "not_compared": one_sided,
        "comparisons": entries,
        "family": size,
        "counts": counts,
        "verdict": verdict,
        "rc": RC_REGRESSION if regressions else 0,
        "regressions": [_name(e) for e in regressions],
        "method": method_text(tolerance, size),
    }


def _name(entry: dict[str, Any]) -> str:
    return f"{entry['backend']} {entry['label']}"


def method_text(tolerance: float, size: int) -> str:
    conf = f"{CONFIDENCE * 100:.0f} %"
    return (f"Each value is the mean of a run's repetitions; the change is this run's mean over the baseline's "
            f"(positive = better) with its {conf} Fieller interval (unequal variances). The tolerance is "
            f"±{tolerance:g} %: per metric, Welch's one-sided tests of the ratio shifted to the tolerance decide "
            f"\"changed beyond it\" (the side the estimate points to, its p doubled) and \"unchanged within it\" "
            f"(two one-sided tests, TOST). All {size} hypotheses form one family corrected with {CORRECTION_NAME}: "
            f"a regression, an improvement or \"unchanged\" is claimed only where its adjusted p is below {ALPHA:g}; "
            "everything else is \"no detectable change\". A metric with one repetition or identical values is not "
            "tested and is never a regression.")


def _value(cell: dict[str, Any] | None) -> str:
    return cell["text"] if cell else "n/a"


def _change(cmp: dict[str, Any]) -> tuple[str, str]:
    def pct(v):
        return "unbounded" if v is None else f"{v:+.1f} %"

    if cmp["change"] is None:
        return "n/a", ""
    interval = f"[{pct(cmp['low'])}, {pct(cmp['high'])}]" if cmp["tested"] else ""
    return f"{cmp['change']:+.1f} %", interval


def summary_lines(model: dict[str, Any]) -> list[str]:
    """The verdict in a few lines: the differences first, then each regression and improvement."""
    cur, base = model["current"], model["baseline"]
    lines = [f"Run {cur['run_id']} against {base['run_id']} (tolerance ±{model['tolerance']:g} %): "
             + verdict_text(model)]
    for diff in model["differences"] + model["measured_differences"]:
        lines.append(f"differs: {diff['label']}: {diff['baseline']} -> {diff['current']}")
    for entry in model["comparisons"]:
        if entry["verdict"] in (REGRESSION, IMPROVEMENT):
            change, interval = _change(entry["cmp"])
            lines.append(f"{entry['verdict']}: {_name(entry)}: {_value(entry['baseline'])} -> "
                         f"{_value(entry['current'])} {entry['unit']}, {change} {interval} "
                         f"({p_text(entry.get('p_changed_adjusted'), 'adjusted p')})")
    return lines


def verdict_text(model: dict[str, Any]) -> str:
    counts = model["counts"]
    total = sum(counts.values())
    if model["verdict"] == REGRESSION:
        head = f"REGRESSION in {counts[REGRESSION]} of {total} metrics"
    elif not total:
        head = "nothing compared"
    else:
        head = "no regression"
    parts = [f"{counts[v]} {v if v != UNCHANGED else 'unchanged within tolerance'}" for v in VERDICTS if counts[v]]
    return head + (f" ({', '.join(parts)})" if parts else "")


def render_markdown(model: dict[str, Any]) -> str:
    cur, base = model["current"], model["baseline"]
    out = [f"# Comparison: run {cur['run_id']} against baseline {base['run_id']}", "",
           f"**Verdict: {verdict_text(model)}.** Tolerance ±{model['tolerance']:g} %; "
           f"exit status {model['rc']}.", ""]
    out += ["## What differs between the two runs", ""]
    diffs = model["differences"] + model["measured_differences"]
    if diffs:
        out += ["| | Baseline | This run |", "|---|---|---|"]
        out += [f"| {d['label']}{' (what the tests measure: compared because forced)' if d['kind'] == 'test configuration' else ''} "
                f"| {d['baseline']} | {d['current']} |" for d in diffs]
    else:
        out.append("Nothing recorded differs: same host, environment, set-up and test configuration.")
    out.append("")
    for verdict, title in ((REGRESSION, "Regressions"), (IMPROVEMENT, "Improvements")):
        chosen = [e for e in model["comparisons"] if e["verdict"] == verdict]
        out += [f"## {title}", ""]
        if not chosen:
            out += ["None.", ""]
            continue
        for e in chosen:
            change, interval = _change(e["cmp"])
            out.append(f"- **{_name(e)}**: {_value(e['baseline'])} → {_value(e['current'])} "
                       f"{e['unit']}, {change} {interval}; {e['why']}.")
        out.append("")
    out += ["## Every metric", "",
            "| Backend | Metric | Baseline | This run | Change | 95 % interval | Verdict |",
            "|---|---|---|---|---|---|---|"]
    for e in model["comparisons"]:
        change, interval = _change(e["cmp"])
        out.append(f"| {e['backend']} | {e['label']} ({e['unit']}) | {_value(e['baseline'])} | "
                   f"{_value(e['current'])} | {change} | {interval or 'n/a'} | {e['verdict']}: {e['why']} |")
    out.append("")
    if model["not_compared"]:
        out += ["## Not compared", ""] + [f"- {line}." for line in model["not_compared"]] + [""]
    out += ["## Method", "", model["method"], "",
            "## Runs", "", f"- Baseline: {', '.join(base['paths'].values())}",
            f"- This run: {', '.join(cur['paths'].values())}", ""]
    return "\n".join(out)


CSV_FIELDS = ("backend", "section", "metric", "unit", "higher_is_better", "baseline_mean", "baseline_n",
              "current_mean", "current_n", "change_pct", "change_low_pct", "change_high_pct", "p_changed",
              "p_changed_adjusted", "p_within", "p_within_adjusted", "verdict")


def render_csv(model: dict[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for e in model["comparisons"]:
        cmp = e["cmp"]
        writer.writerow(csv_row({"backend": e["backend"], "section": e["section"], "metric": e["label"], "unit": e["unit"],
                                 "higher_is_better": e["higher_is_better"], "baseline_mean": e["baseline"]["mean"],
                                 "baseline_n": e["baseline"]["n"], "current_mean": e["current"]["mean"],
                                 "current_n": e["current"]["n"], "change_pct": cmp["change"], "change_low_pct": cmp["low"],
                                 "change_high_pct": cmp["high"], "p_changed": e.get("p_changed"),
                                 "p_changed_adjusted": e.get("p_changed_adjusted"), "p_within": e.get("p_within"),
                                 "p_within_adjusted": e.get("p_within_adjusted"), "verdict": e["verdict"]}))
    return buf.getvalue()


def to_json(model: dict[str, Any]) -> dict[str, Any]:
    """The model without its Row objects and raw cells: what compare.json and set_stats carry."""
    out = {k: v for k, v in model.items() if k != "comparisons"}
    out["metrics"] = []
    for e in model["comparisons"]:
        cmp = e["cmp"]
        out["metrics"].append({
            "backend": e["backend"], "section": e["section"], "metric": e["label"], "unit": e["unit"],
            "baseline": {"mean": e["baseline"]["mean"], "n": e["baseline"]["n"], "values": e["baseline"]["values"]},
            "current": {"mean": e["current"]["mean"], "n": e["current"]["n"], "values": e["current"]["values"]},
            "change_pct": cmp["change"], "interval_pct": [cmp["low"], cmp["high"]], "tested": cmp["tested"],
            "p_changed": e.get("p_changed"), "p_changed_adjusted": e.get("p_changed_adjusted"),
            "p_within": e.get("p_within"), "p_within_adjusted": e.get("p_within_adjusted"),
            "verdict": e["verdict"], "why": e["why"]})
    return out


def write_comparison(model: dict[str, Any], results_dir: str | os.PathLike) -> dict[str, str]:
    """COMPARE.md, compare.json and compare.csv under RESULTS_DIR/comparisons/<run>-vs-<baseline>/."""
    ids = [model["current"]["run_id"], model["baseline"]["run_id"]]
    # the directory's name is made of run ids only (checked again here, whatever loaded them)
    bad = [i for i in ids if not isinstance(i, str) or not RUN_ID_RE.match(i)]
    if bad:
        raise CompareError(f"cannot name the comparison's directory: {bad[0]!r} is not a run id")
    out_dir = Path(results_dir, "comparisons", "-vs-".join(ids))
    files = {"markdown": out_dir / "COMPARE.md", "json": out_dir / "compare.json", "csv": out_dir / "compare.csv"}
    write_atomic(files["markdown"], render_markdown(model))
    write_atomic(files["json"], json.dumps(to_json(model), indent=2, sort_keys=True) + "\n")
    write_atomic(files["csv"], render_csv(model))
    return {k: str(v) for k, v in files.items()}


def gate_stats(model: dict[str, Any], host: str, files: dict[str, str] | None = None) -> dict[str, Any]:
    """What set_stats hands AWX: ``volt_netbench_gate`` keyed by HOST (set_stats merges every host's data; the
    volt.netbench.gate callback reads it), each with the verdict, the exit status and every metric's verdict."""
    return {"volt_netbench_gate": {host: {
        "verdict": model["verdict"], "rc": model["rc"], "run": model["current"]["run_id"],
        "against": model["baseline"]["run_id"], "tolerance": model["tolerance"],
        "regressions": model["regressions"], "counts": model["counts"],
        "differences": [f"{d['label']}: {d['baseline']} -> {d['current']}"
                        for d in model["differences"] + model["measured_differences"]],
        "metrics": {f"{e['backend']} {e['label']}": e["verdict"] for e in model["comparisons"]},
        "report": (files or {}).get("markdown", ""),
    }}}


def gate_exit(gates: dict[str, dict[str, Any]], failures: dict[str, int], unreachable: dict[str, int]) -> int:
    """The playbook's gate status from the custom stats' ``volt_netbench_gate`` (host -> verdict) and Ansible's
    per-host failure and unreachable counts: RC_REGRESSION when some host failed and every failed host failed
    once, on its gate's regression, with no host unreachable; else 0 (Ansible's own status stands)."""
    failed = {h: n for h, n in (failures or {}).items() if n}
    if not failed or any((unreachable or {}).values()):
        return 0
    regressed = {h for h, g in (gates or {}).items() if isinstance(g, dict) and g.get("rc") == RC_REGRESSION}
    return RC_REGRESSION if all(h in regressed and n == 1 for h, n in failed.items()) else 0
