# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet report: every hypervisor's report side by side, and the backends compared across the fleet.

Each host's own report (results/<host>/REPORT.md, plugin_utils/report) is built as usual; the fleet model
reads those models and adds:

- per row of the report, a host x backend table of the hosts' cells (each cell exactly as the host's report
  shows it: the mean of its repetitions with its interval);
- per row and pair of backends, a blocked comparison across the hosts that measured both
  (stats.blocked_compare: the geometric mean over hosts of the per-host ratio of means, its t interval and
  p), every such comparison one family corrected with Holm's method, as in a host's report - a claim only
  where it survives;
- hosts whose figure is an outlier for its backend and row: the robust z-score 0.6745 (x - median) / MAD
  over the hosts (Iglewicz and Hoaglin), |z| > 3.5, with three or more hosts;
- the environment of every host (CPU, kernel, QEMU, NIC, accelerator), the rows that differ marked;
- the hosts without a report, with their reason.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import statistics
from pathlib import Path
from typing import Any

from markupsafe import Markup

from ansible_collections.volt.netbench.plugins.plugin_utils.report import charts
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import csv_row, write_atomic
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import BACKENDS, NATIVE, PATHS, is_compared, row_name
from ansible_collections.volt.netbench.plugins.plugin_utils.report import NA, build_report, fmt
from ansible_collections.volt.netbench.plugins.plugin_utils.report.render import jinja_env
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import ResultsError
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import (
    ALPHA, CORRECTION_NAME, Family, blocked_compare, p_text, reverse)

TEMPLATE = "FLEET.md.j2"
HTML_TEMPLATE = "FLEET.html.j2"
OUTLIER_Z = 3.5
MAD_SCALE = 0.6745
MIN_OUTLIER_HOSTS = 3
# The environment rows compared between hosts (labels as the host reports name them).
FLEET_ENV = ("Host CPU", "Host RAM", "Host NIC", "Host Kernel", "QEMU Version", "VM vCPUs", "VM RAM", "Guest Kernel")
CSV_FIELDS = ("host", "backend", "section", "metric", "unit", "n", "mean", "interval_half_width", "cell")


def _robust_z(values: dict[str, float]) -> dict[str, float]:
    """Each host's robust z-score (0.6745 (x - median) / MAD); empty with fewer than three hosts or no spread."""
    if len(values) < MIN_OUTLIER_HOSTS:
        return {}
    med = statistics.median(values.values())
    mad = statistics.median(abs(v - med) for v in values.values())
    if mad == 0:
        return {}
    return {h: MAD_SCALE * (v - med) / mad for h, v in values.items()}


def _ratio_text(cmp: dict[str, Any]) -> str:
    if cmp["ratio"] is None:
        return NA
    if not cmp["tested"]:
        return f"{cmp['ratio']:.3f}x"
    return f"{cmp['ratio']:.3f}x [{cmp['ratio_low']:.3f}, {cmp['ratio_high']:.3f}]"


def _verdict(cmp: dict[str, Any], a: str, b: str) -> str:
    if not cmp["tested"]:
        return f"not tested ({cmp['why']})"
    if not cmp["significant"]:
        return f"not separable ({p_text(cmp['p_adjusted'], 'adjusted p')})"
    better = a if cmp["change"] > 0 else b
    return f"{better} better on the same host ({p_text(cmp['p_adjusted'], 'adjusted p')})"


def build_fleet(results_dir: str | os.PathLike, hosts: list[str], *, failures: dict[str, str] | None = None,
                baseline: str = "virtio", display_dir: str | None = None, now: dt.datetime | None = None,
                models: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """The fleet model of HOSTS, whose runs are under RESULTS_DIR/<host>/ (FAILURES: why a host stopped). MODELS:
    hosts' report models the caller has built already (report.build_report of RESULTS_DIR/<host>); the others are
    built here."""
    failures = {h: r for h, r in (failures or {}).items() if r}
    shown_dir = display_dir or str(results_dir)
    given = models or {}
    models = {}
    missing: dict[str, str] = {}
    for host in hosts:
        if host in given:
            models[host] = given[host]
            continue
        try:
            models[host] = build_report(Path(results_dir, host), baseline=baseline,
                                        display_dir=f"{shown_dir}/{host}")
        except ResultsError as err:
            missing[host] = failures.get(host) or str(err)
    reported = list(models)
    columns = [p for p in PATHS if any(p in m["measured"] or (p == NATIVE and m["reference"]["measured"])
                                       for m in models.values())]
    ranked = [b for b in BACKENDS if b in columns]
    # the rows in the order the first host's report shows them, then any others
    # (a label can name rows of two sections: ICMP P50 idle and under load, a size's searched and flood rate)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for host, model in models.items():
        for table in model["tables"]:
            for row in table["rows"]:
                entry = rows.setdefault((table["key"], row["label"]), {
                    "label": row["label"], "section": table["key"], "unit": row["unit"],
                    "higher_is_better": row["higher_is_better"], "hosts": {},
                    "compared": is_compared(table["key"], row.get("metric", ""))})
                entry["hosts"][host] = row
    family = Family()
    tables, comparisons, outliers = [], [], []
    for (section, label), entry in rows.items():
        label = row_name(section, label)
        tables.append({
            "label": label, "unit": entry["unit"],
            "higher_is_better": entry["higher_is_better"],
            "section": entry["section"],
            "rows": [{"host": h, "cells": [entry["hosts"][h]["cells"].get(c, NA) if h in entry["hosts"] else NA
                                           for c in columns],
                      "statistics": [(entry["hosts"][h]["statistics"].get(c) if h in entry["hosts"] else None)
                                     for c in columns]} for h in reported],
        })
        for column in columns:
            values = {h: row["values"][column] for h, row in entry["hosts"].items() if row["values"].get(column) is not None}
            for host, z in _robust_z(values).items():
                if abs(z) > OUTLIER_Z:
                    outliers.append(f"{host}: {column} {label} {fmt(values[host], 2)} {entry['unit']} against the "
                                    f"fleet's median {fmt(statistics.median(values.values()), 2)} (robust z = {z:+.1f})")
        for i, a in enumerate(ranked if entry["compared"] else []):
            for b in ranked[i + 1:]:
                pairs = [(row["values"].get(a), row["values"].get(b)) for row in entry["hosts"].values()]
                pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
                if not pairs:
                    continue
                cmp = blocked_compare(pairs, entry["higher_is_better"])
                mirror = reverse(cmp) if cmp["ratio"] else None
                family.add((entry["section"], label, a, b), cmp, *([mirror] if mirror else []))
                comparisons.append({"label": label, "a": a, "b": b, "cmp": cmp})
    size = family.correct()
    for item in comparisons:
        cmp = item["cmp"]
        item.update(hosts=cmp["n"][0], ratio=_ratio_text(cmp), verdict=_verdict(cmp, item["a"], item["b"]),
                    significant=cmp["significant"])
    charts_note = charts.unavailable()
    environment = []
    for label in FLEET_ENV:
        values = {h: next((r["value"] for r in m["environment"] if r["label"] == label), NA) for h, m in models.items()}
        environment.append({"label": label, "values": [values[h] for h in reported],
                            "differs": len(set(values.values())) > 1})
    # the accelerator from the test configuration (the same for every backend of a host, or each named)
    accel = {h: m["test_config"].get("accelerator", NA) for h, m in models.items()}
    environment.append({"label": "Accelerator", "values": [accel[h] for h in reported],
                        "differs": len(set(accel.values())) > 1})
    return {
        "generated": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "results_dir": shown_dir,
        "hosts": hosts,
        "reported": reported,
        "missing": missing,
        "columns": columns,
        "environment": environment,
        "tables": tables,
        "comparisons": comparisons,
        "claims": [c for c in comparisons if c["significant"]],
        "family_size": size,
        "alpha": ALPHA,
        "correction": CORRECTION_NAME,
        "outlier_rule": (f"robust z-score 0.6745 (x - median) / MAD over the hosts, |z| > {OUTLIER_Z} (Iglewicz and "
                         f"Hoaglin); needs {MIN_OUTLIER_HOSTS} or more hosts with the figure"),
        "outliers": outliers,
        "host_reports": {h: f"{shown_dir}/{h}/REPORT.md" for h in reported},
        "charts_note": charts_note,
        "charts": [] if charts_note else charts.fleet_plan({"comparisons": comparisons}),
    }


def render_fleet(model: dict[str, Any]) -> str:
    # the report's Markdown environment: every value escaped (render.md_escape), code kept verbatim
    return jinja_env(autoescape=False).get_template(TEMPLATE).render(**model)


def fleet_csv(model: dict[str, Any]) -> str:
    """Every host's cells, one line each: host, backend, row, n, mean, interval half-width and the cell's text."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for table in model["tables"]:
        for row in table["rows"]:
            for column, cell, stat in zip(model["columns"], row["cells"], row["statistics"]):
                if not stat:
                    continue
                writer.writerow(csv_row({"host": row["host"], "backend": column, "section": table["section"],
                                         "metric": table["label"], "unit": table["unit"], "n": stat["n"],
                                         "mean": repr(float(stat["mean"])),
                                         "interval_half_width": "" if stat["half"] is None else repr(float(stat["half"])),
                                         "cell": cell}))
    return out.getvalue()


def render_fleet_html(model: dict[str, Any], svgs: dict[str, str] | None = None) -> str:
    """The fleet's REPORT.html from the same model as its REPORT.md: one self-contained file, the chart inline."""
    inline = {key: Markup(text[text.find("<svg"):]) for key, text in (svgs or {}).items() if "<svg" in text}
    return jinja_env(autoescape=True).get_template(HTML_TEMPLATE).render(svgs=inline, **model)


def write_fleet(model: dict[str, Any], out_dir: str | os.PathLike) -> list[Path]:
    """The fleet's REPORT.md, REPORT.html, fleet.csv and chart (charts/fleet_ratios.svg|png) in OUT_DIR, beside
    the hosts' own directories."""
    out = Path(out_dir)
    svgs = charts.draw_fleet(model, out)
    paths = [out / "REPORT.md", out / "REPORT.html", out / "fleet.csv"]
    write_atomic(paths[0], render_fleet(model))
    write_atomic(paths[1], render_fleet_html(model, svgs))
    write_atomic(paths[2], fleet_csv(model))
    return paths + [out / chart[fmt] for chart in model["charts"] for fmt in ("svg", "png")]
