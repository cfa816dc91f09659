# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A sweep's report: which backend *at which configuration*.

A sweep's run (run_model, sweep.py) records every backend at every point as a run of its own
(``results/<backend>/<run id>+mtu-9000/``). Its report is written under ``results/sweeps/<run id>/``:

* each point's full report (the template's shape) in ``<point>/`` - REPORT.md, REPORT.html, report.json,
  summary.csv, charts, its own history (the point's series);
* SWEEP.md, sweep.json and sweep.csv: every compared row at every point (each backend's cell and its comparison
  with the baseline there), and the **interactions** - whether a backend pair's ratio changes from a factor's
  first level to each other (sweep.interaction: the ratio of ratios on the log scale), at each combination of
  the other factors' levels; a chart per factor and row, one line per backend with its intervals.

Every comparison of every point and every interaction is one family, corrected once (Holm): the points' cells are
read first (report.model.measured_cells), their comparisons registered as verdicts.evaluate registers them, the
family corrected (:class:`Joint`), and each point's report is then built with its members' adjusted p-values.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import os
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.report import charts
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.claims import versus_note
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import csv_row, ensure_dir, write_atomic
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import (
    BACKENDS, CAPACITY, LOAD_PAYLOAD, NATIVE, PATHS, compared, is_compared)
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import LOCAL_HOST, RUN_ID_RE, ResultsError, load_runs
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import Family
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.sweep import (
    SweepError, interaction, interaction_text, parse, point_suffix, points, split_run_key)
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.verdicts import evaluate, usable
from ansible_collections.volt.netbench.plugins.plugin_utils.report.model import build_report, measured_cells
from ansible_collections.volt.netbench.plugins.plugin_utils.report.render import jinja_env, write_report

SWEEP_DIR = "sweeps"
TEMPLATE = "SWEEP.md.j2"


class Joint:
    """One family over MEMBERS ({key: a stats.compare-shaped result}), corrected once (stats.Family: Holm); each member
    gets its ``p_adjusted`` and ``significant``. ``view(prefix)`` is what a point's report passes to
    stats.Family.correct for its members (keys ``(prefix, key)``)."""

    def __init__(self, members: dict[Any, dict[str, Any]]) -> None:
        self.family = Family()
        for key, cmp in members.items():
            self.family.add(key, cmp)
        self.size = self.family.correct()

    def view(self, prefix: Any) -> "_View":
        return _View(self, prefix)


class _View:
    def __init__(self, joint: Joint, prefix: Any) -> None:
        self.joint, self.prefix, self.size = joint, prefix, joint.size

    def adjusted(self, key: Any) -> tuple[float, bool]:
        cmp = self.joint.family.members.get((self.prefix, key))
        if cmp is None or cmp["p_adjusted"] is None:
            raise ResultsError(f"sweep: comparison {key!r} at point {self.prefix} was not in the sweep's family "
                               "(its cells changed between the two reads)")
        return cmp["p_adjusted"], cmp["significant"]


def sweep_runs(runs: list[dict[str, Any]], run_id: str) -> tuple[dict[str, list[Any]], dict[str, dict[str, dict]]]:
    """The sweep RUN_ID's factors (as its runs recorded them) and its runs by point suffix and backend."""
    if not RUN_ID_RE.match(run_id) or "+" in run_id:
        raise ResultsError(f"sweep: {run_id!r} is not a run id (a UTC timestamp like 20261205T221100Z)")
    factors: dict[str, list[Any]] = {}
    by_point: dict[str, dict[str, dict]] = {}
    for run in runs:
        base, suffix = split_run_key(run["run_id"])
        config = run.get("config") or {}
        if base != run_id or not suffix:
            continue
        # the point and the sweep are read from run.json: checked here (they name the point's directory); the
        # factors' order is the run id's (run.json keeps its keys sorted)
        order = [part.split("-", 1)[0] for part in suffix[1:].split("+")]
        try:
            given = parse({k: [v] for k, v in (config.get("point") or {}).items()}
                          if isinstance(config.get("point"), dict) else None)
            recorded = parse(config.get("sweep"))
        except SweepError as err:
            raise ResultsError(f"{run['backend']}/{run['run_id']}/run.json: {err}") from err
        point = {name: given[name][0] for name in order if name in given}
        recorded = {name: recorded[name] for name in order if name in recorded}
        if not point or set(point) != set(given) or point_suffix(point) != suffix:
            raise ResultsError(f"{run['backend']}/{run['run_id']}/run.json: its point {config.get('point')!r} is not "
                               f"the one its run id names ({suffix}): the file was moved or edited")
        for name, levels in recorded.items():
            factors.setdefault(name, levels)
        by_point.setdefault(suffix, {})[run["backend"]] = run
    if not by_point:
        raise ResultsError(f"sweep: no run of sweep {run_id} is recorded (results/<backend>/{run_id}+<point>/)")
    return factors, by_point


def _row_key(row) -> tuple[str, str, str]:
    # a row across points: its test and metric (a label may differ: 'TCP Multi-2 Stream' at streams=2)
    return row.section, row.test, row.metric


def _interactions(factors: dict[str, list[Any]], planned: list[dict[str, Any]], picked: dict[str, dict[str, Any]]
                  ) -> list[dict[str, Any]]:
    """Every interaction the sweep can test: for each factor with two levels or more, at each combination of the
    other factors' levels, each other level against the first, for each pair of ranked backends measured at both
    points (A after B in the backends' order: 'macvtap's lead over virtio'), on each compared row."""
    out = []
    for factor, levels in factors.items():
        if len(levels) < 2:
            continue
        others = [n for n in factors if n != factor]
        for combo in itertools.product(*(factors[n] for n in others)):
            fixed = dict(zip(others, combo))
            first = _point_at(planned, dict(fixed, **{factor: levels[0]}), factors)
            for level in levels[1:]:
                other = _point_at(planned, dict(fixed, **{factor: level}), factors)
                if first is None or other is None or first["key"] not in picked or other["key"] not in picked:
                    continue
                one, two = picked[first["key"]], picked[other["key"]]
                rows_two = {_row_key(r): r for r in two["rows"]}
                ranked = [b for b in BACKENDS if b in one["measured"] and b in two["measured"]]
                for row in (r for r in one["rows"] if compared(r) and _row_key(r) in rows_two):
                    row2 = rows_two[_row_key(row)]
                    for i, b in enumerate(ranked):
                        for a in ranked[i + 1:]:
                            cells = [one["cells"][row].get(a), one["cells"][row].get(b), two["cells"][row2].get(a),
                                     two["cells"][row2].get(b)]
                            if not all(usable(c) for c in cells):
                                continue
                            cmp = interaction(*(c["values"] for c in cells), higher_is_better=row.higher_is_better)
                            out.append({"factor": factor, "levels": [levels[0], level],
                                        "fixed": ",".join(f"{k}={v}" for k, v in fixed.items()),
                                        "points": [first["key"], other["key"]], "row": row.label, "unit": row.unit,
                                        "section": row.section, "test": row.test, "metric": row.metric,
                                        "a": a, "b": b, "cmp": cmp})
    return out


def _point_at(planned: list[dict[str, Any]], factors: dict[str, Any], order: dict[str, list[Any]]
              ) -> dict[str, Any] | None:
    wanted = {n: factors[n] for n in order}
    return next((p for p in planned if p["factors"] == wanted), None)


def build_sweep(results_dir: str | os.PathLike, run_id: str, *, baseline: str = "virtio", display_dir: str | None = None,
                now: dt.datetime | None = None, persist_index: bool = True, store: str = "",
                store_host: str = LOCAL_HOST) -> dict[str, Any]:
    """The sweep RUN_ID's model: every point's report model (``point_models``, by point key) and the overview."""
    shown_dir = display_dir or str(results_dir)
    runs = load_runs(results_dir)
    factors, by_point = sweep_runs(runs, run_id)
    planned = [p for p in points(factors) if p["suffix"] in by_point] if factors else []
    if not planned:
        raise ResultsError(f"sweep: the runs of sweep {run_id} do not record its factors (config.sweep)")
    ids = {p["key"]: [f"{b}/{r['run_id']}" for b, r in by_point[p["suffix"]].items()] for p in planned}
    # the first read: every point's cells and comparisons, and the interactions - one family
    picked, members = {}, {}
    for point in planned:
        picked[point["key"]] = measured_cells(results_dir, ids[point["key"]], shown_dir, runs=runs)
        verdicts = evaluate(picked[point["key"]]["rows"], picked[point["key"]]["cells"],
                            picked[point["key"]]["measured"])
        for key in verdicts.family.tested():
            members[(point["key"], key)] = verdicts.family.members[key]
    found = _interactions(factors, planned, picked)
    for index, item in enumerate(found):
        members[("interaction", index)] = item["cmp"]
    joint = Joint(members)
    # the second: each point's report, its comparisons corrected in the sweep's family
    point_models = {}
    for point in planned:
        point_models[point["key"]] = build_report(
            results_dir, baseline=baseline, run_ids=ids[point["key"]], display_dir=shown_dir, now=now,
            persist_index=persist_index, store=store, store_host=store_host, runs=runs,
            joint=joint.view(point["key"]))
    model = _overview(run_id, factors, planned, point_models, found, joint, baseline, shown_dir, now)
    model.update(capacities=_capacities(planned, by_point), load_payload=LOAD_PAYLOAD)
    return model


def _capacities(planned: list[dict[str, Any]], by_point: dict[str, dict[str, dict]]) -> list[dict[str, Any]]:
    """A load sweep's loss-bounded rates (the load_capacity searches, matrix.CAPACITY): per path at each point that
    searched one, the rate found in datagrams and bits per second - what each load point's fraction is of."""
    out = []
    for point in planned:
        for path, run in by_point.get(point["suffix"], {}).items():
            # what the search's confirming run delivered within the bound (pps_search.loss_bounded_pps): a search
            # that found none failed, and has no samples
            found = [s["value"] for s in run.get("samples") or []
                     if s.get("test") == CAPACITY and s.get("metric") == "received_pps" and s["value"]]
            searched = any(t.get("name") == CAPACITY for t in run.get("tests") or [])
            if not searched:
                continue
            pps = float(found[0]) if found else None
            mbps = None if pps is None else pps * LOAD_PAYLOAD * 8 / 1e6
            out.append({"point": point["key"], "path": path, "pps": pps, "mbps": mbps,
                        "text": "none found (its load points did not run)" if pps is None else
                        f"{pps:,.0f} datagrams/s ({mbps:,.1f} Mbit/s)"})
    return out


def _overview(run_id, factors, planned, point_models, found, joint, baseline, shown_dir, now) -> dict[str, Any]:
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    anomalies: dict[str, list[str]] = {}  # each anomaly once, with the points it was found at
    for point in planned:
        model = point_models[point["key"]]
        for table in model["tables"]:
            for row in table["rows"]:
                key = (table["key"], row["test"], row["metric"])
                entry = rows.setdefault(key, {"section": table["title"], "section_key": table["key"],
                                              "label": row["label"], "unit": row["unit"],
                                              "test": row["test"], "metric": row["metric"], "points": {}})
                entry["points"][point["key"]] = {
                    "cells": {n: row["cells"][n] for n in PATHS},
                    "values": {n: row["values"][n] for n in PATHS},
                    "intervals": {n: [row["statistics"][n]["low"], row["statistics"][n]["high"]]
                                  for n in model["columns"] if n in row["statistics"]},
                    "versus": {n: versus_note(cmp, baseline) for n, cmp in row["versus_baseline"].items()},
                }
        for text in model["anomalies"]:
            anomalies.setdefault(text, []).append(point["key"])
    interactions = []
    for item in found:
        cmp = item["cmp"]
        text = interaction_text(item["a"], item["b"], item["factor"], tuple(item["levels"]), cmp)
        where = f" ({item['fixed']})" if item["fixed"] else ""
        interactions.append({k: v for k, v in item.items() if k != "cmp"} | {
            "text": f"{item['row']}{where}: {text}", "ratio": cmp["ratio"], "low": cmp["low"], "high": cmp["high"],
            "p": cmp["p"], "p_adjusted": cmp["p_adjusted"], "significant": cmp["significant"],
            "tested": cmp["tested"], "lead": cmp["lead"]})
    supported = [i for i in interactions if i["significant"]]
    return {
        "generated": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "run_id": run_id,
        "results_dir": shown_dir,
        "baseline": baseline,
        "factors": factors,
        "points": [{"key": p["key"], "factors": p["factors"], "dir": _point_dir(p),
                    "measured": point_models[p["key"]]["measured"],
                    "ranking_text": point_models[p["key"]]["ranking_text"]} for p in planned],
        # the paths measured at some point (a backend never measured is named under Anomalies, not as a column)
        "columns": [n for n in PATHS if any(n in m["measured"] or (n == NATIVE and m["reference"]["measured"])
                                            for m in point_models.values())],
        "rows": list(rows.values()),
        "interactions": interactions,
        "interactions_supported": supported,
        "tested_interactions": sum(1 for i in interactions if i["tested"]),
        "family": joint.size,
        "charts": _chart_plan(factors, rows),
        "anomalies": [f"{'Every point' if len(where) == len(planned) else ', '.join(where)}: {text}"
                      for text, where in anomalies.items()],
        "point_models": point_models,
    }


def _point_dir(point: dict[str, Any]) -> str:
    # a point's directory: its run ids' suffix without the leading '+' (mtu-9000+queues-2)
    return point["suffix"][1:]


def _chart_plan(factors: dict[str, list[Any]], rows: dict) -> list[dict[str, Any]]:
    out = []
    for factor, levels in factors.items():
        if len(levels) < 2:
            continue
        for (section, test, metric), row in rows.items():
            if not is_compared(section, metric):
                continue
            key = f"{factor}_{test}_{metric}"
            out.append({"key": key, "factor": factor, "row": (section, test, metric),
                        "title": f"{row['label']} ({row['unit']}) against {factor}",
                        "svg": f"{charts.CHART_DIR}/{key}.svg"})
    return out


def shown(model: dict[str, Any]) -> dict[str, Any]:
    """What sweep.json holds: the overview without the points' whole models (each in its own report.json)."""
    return {k: v for k, v in model.items() if k != "point_models"}


def render_sweep_md(model: dict[str, Any]) -> str:
    return jinja_env(autoescape=False).get_template(TEMPLATE).render(sweep=shown(model))


def sweep_csv(model: dict[str, Any]) -> str:
    """One line per row, point and path: the mean, its interval and the comparison with the baseline there."""
    buffer = io.StringIO()
    fields = ["section", "row", "unit", "point", "path", "mean", "low", "high", "versus_baseline"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for row in model["rows"]:
        for point, shown_point in row["points"].items():
            for name, value in shown_point["values"].items():
                if value is None:
                    continue
                low, high = shown_point["intervals"].get(name, [None, None])
                writer.writerow(csv_row(dict(zip(fields, [row["section"], row["label"], row["unit"], point, name, value,
                                                          low, high, shown_point["versus"].get(name, "")]))))
    return buffer.getvalue()


def draw_sweep(model: dict[str, Any], out_dir: str | os.PathLike) -> None:
    """A chart per factor and row: the factor's levels across, each backend's mean with its 95 % interval - one line
    per backend at each combination of the other factors' levels."""
    if charts.unavailable() or not model["charts"]:
        return
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel

    target = Path(out_dir) / charts.CHART_DIR
    ensure_dir(target)
    rows = {(r["section_key"], r["test"], r["metric"]): r for r in model["rows"]}
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(charts.STYLE)
        for chart in model["charts"]:
            row = rows.get(tuple(chart["row"]))
            if row is None:
                continue
            factor = chart["factor"]
            levels = model["factors"][factor]
            others = [n for n in model["factors"] if n != factor]
            fig, ax = plt.subplots(figsize=(7, 3.6))
            styles = ["-", "--", ":", "-."]
            for c_index, combo in enumerate(itertools.product(*(model["factors"][n] for n in others))):
                fixed = dict(zip(others, combo))
                for name in model["columns"]:
                    xs, ys, errs = [], [], [[], []]
                    for x, level in enumerate(levels):
                        point = next((p for p in model["points"]
                                      if p["factors"] == {n: (level if n == factor else fixed[n]) for n in model["factors"]}),
                                     None)
                        shown_point = row["points"].get(point["key"]) if point else None
                        value = (shown_point or {}).get("values", {}).get(name)
                        if value is None:
                            continue
                        low, high = (shown_point["intervals"].get(name) or [None, None])
                        xs.append(x)
                        ys.append(value)
                        errs[0].append(value - low if low is not None else 0.0)
                        errs[1].append(high - value if high is not None else 0.0)
                    if not xs:
                        continue
                    label = name + (f" ({', '.join(f'{k}={v}' for k, v in fixed.items())})" if fixed else "")
                    ax.errorbar(xs, ys, yerr=errs, fmt="o" + styles[c_index % len(styles)], capsize=3, linewidth=1,
                                markersize=4, color=charts.COLOURS.get(name, "#333333"), label=label)
            ax.set_xticks(range(len(levels)), labels=[str(level) for level in levels])
            ax.set_xlabel(factor)
            ax.set_ylabel(row["unit"])
            if ax.get_legend_handles_labels()[0]:
                ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)
            else:  # e.g. a sweep interrupted before this row was measured anywhere: an empty chart says so
                ax.text(0.5, 0.5, "not measured at any level", ha="center", va="center", transform=ax.transAxes,
                        fontsize=9, color="#555555")
            fig.suptitle(chart["title"], fontsize=11)
            fig.subplots_adjust(left=0.12, right=0.7, bottom=0.16, top=0.87)
            charts._save(plt, fig, target, chart["key"], formats=("svg",), tight=False)  # pylint: disable=protected-access


def write_sweep(model: dict[str, Any], results_dir: str | os.PathLike) -> Path:
    """Every point's report and the overview under RESULTS_DIR/sweeps/<run id>/; returns SWEEP.md's path."""
    out = Path(results_dir) / SWEEP_DIR / model["run_id"]
    ensure_dir(out)
    for point in model["points"]:
        write_report(model["point_models"][point["key"]], out / point["dir"])
    draw_sweep(model, out)
    path = out / "SWEEP.md"
    write_atomic(path, render_sweep_md(model))
    write_atomic(out / "sweep.json", json.dumps(shown(model), indent=2, sort_keys=True, default=str) + "\n")
    write_atomic(out / "sweep.csv", sweep_csv(model))
    return path
