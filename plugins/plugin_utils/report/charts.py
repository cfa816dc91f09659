# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's charts, drawn with matplotlib (Agg, no display) from the report model.

Every chart is written as SVG and PNG beside REPORT.md (``charts/<key>.svg|png``). The style is fixed
here (matplotlib's defaults plus the rcParams below, never the user's matplotlibrc) and no timestamp
or tool version goes into the files, so the same model draws byte-identical files. SVG text stays
text (``svg.fonttype: none``): the backends' names can be read and searched in the files.
"""

from __future__ import annotations

import io
import math
import os
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import ensure_dir, write_atomic

CHART_DIR = "charts"
# one colour per data path, the same in every chart (matplotlib's tab10, native in grey)
COLOURS = {"virtio": "#1f77b4", "vhost-net": "#ff7f0e", "macvtap": "#2ca02c", "native": "#7f7f7f"}
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "volt.netbench",
    "svg.id": None,
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}
# no date, no software version in the files
METADATA = {"svg": {"Date": None, "Creator": None, "Format": None, "Type": None},
            "png": {"Software": None}}
TITLES = {
    "throughput": "Throughput (Gbps), mean and 95 % interval",
    "latency_icmp": "ICMP round-trip time by percentile (every reply pooled)",
    "latency_tcp": "TCP round-trip time by percentile (sockperf, every message pooled)",
    "latency_icmp_loaded": "ICMP round-trip time under load by percentile (every reply pooled)",
    "latency_tcp_loaded": "TCP round-trip time under load by percentile (sockperf, every message pooled)",
    "pps": "Packets per second by UDP payload size, mean and 95 % interval",
    "transactions": "Transaction rates (trans/sec), mean and 95 % interval",
    "cpu": "Host CPU-seconds per unit of work (lower is better), mean and 95 % interval",
}


def unavailable() -> str:
    """Why no chart can be drawn here, or '' when matplotlib is importable."""
    try:
        import matplotlib  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    except ImportError:
        return ("matplotlib is not installed where the report was written, so no chart was drawn: "
                "install the collection's requirements.txt (pip install -r requirements.txt) and run compare.yml again.")
    return ""


def plan(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The charts the model calls for: key, title, the section they illustrate, their files."""
    out = []
    sections = {t["key"]: t for t in model.get("tables", [])}
    curves = model.get("percentile_curves") or {}
    for key, section in (("throughput", "throughput"), ("latency_icmp", "latency"), ("latency_tcp", "latency"),
                         ("latency_icmp_loaded", "latency_load"), ("latency_tcp_loaded", "latency_load"),
                         ("pps", "pps"), ("transactions", "transactions"), ("cpu", "cpu")):
        if key.startswith("latency_"):
            if not curves.get(key.removeprefix("latency_")):
                continue
        elif not _bars(sections.get(section), model["columns"]):
            continue
        out.append({"key": key, "title": TITLES[key], "section": section,
                    "svg": f"{CHART_DIR}/{key}.svg", "png": f"{CHART_DIR}/{key}.png"})
    return out


def _bars(table: dict[str, Any] | None, columns: list[str]) -> list[dict[str, Any]]:
    """The rows of TABLE that have a value for at least one column."""
    if not table:
        return []
    return [r for r in table["rows"] if any(r["values"].get(c) is not None for c in columns)]


def draw(model: dict[str, Any], out_dir: str | os.PathLike) -> dict[str, str]:
    """Write every chart of the model (``model['charts']``, see ``plan``) under OUT_DIR/charts as SVG and
    PNG; returns each chart's SVG document by key (REPORT.html inlines them)."""
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel

    svgs: dict[str, str] = {}
    target = Path(out_dir) / CHART_DIR
    ensure_dir(target)
    sections = {t["key"]: t for t in model.get("tables", [])}
    columns = [c for c in model["columns"] if c in model["measured"] or c == "native"]
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        for chart in model["charts"]:
            key = chart["key"]
            if key.startswith("latency_"):
                fig = _curves(plt, model["percentile_curves"][key.removeprefix("latency_")], columns)
            elif key == "pps":
                fig = _pps(plt, _bars(sections["pps"], columns), columns)
            elif key == "cpu":
                fig = _cpu(plt, _bars(sections["cpu"], columns), columns)
            else:
                fig = _grouped(plt, _bars(sections[chart["section"]], columns), columns)
            fig.suptitle(chart["title"], fontsize=11)
            svgs[key] = _save(plt, fig, target, key)
    return svgs


def _save(plt, fig, target: Path, key: str, formats: tuple[str, ...] = ("svg", "png"), tight: bool = True) -> str:
    """Write FIG as TARGET/KEY.svg and .png - or FORMATS - (no date, no version in them); returns the SVG document.
    TIGHT: lay the figure out to its contents first (a figure laid out by hand says False: that costs a draw)."""
    if tight:
        fig.tight_layout()
    svg = ""
    for fmt in formats:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, metadata=METADATA[fmt])
        write_atomic(target / f"{key}.{fmt}", buffer.getvalue())
        if fmt == "svg":
            svg = buffer.getvalue().decode("utf-8")
    plt.close(fig)
    return svg


# The fleet's chart: every tested comparison of backends across the fleet (plugin_utils/report/fleet.py).
FLEET_CHART = {"key": "fleet_ratios", "svg": f"{CHART_DIR}/fleet_ratios.svg", "png": f"{CHART_DIR}/fleet_ratios.png",
               "title": "Backends across the fleet: ratio A/B (geometric mean of the hosts' ratios) and 95 % interval"}


def fleet_plan(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The fleet's charts: the forest plot of its tested comparisons (none when nothing was tested)."""
    tested = [c for c in model["comparisons"] if c["cmp"]["tested"] and c["cmp"]["ratio_low"] is not None
              and c["cmp"]["ratio_high"] is not None]
    return [dict(FLEET_CHART, rows=len(tested))] if tested else []


def draw_fleet(model: dict[str, Any], out_dir: str | os.PathLike) -> dict[str, str]:
    """The fleet's forest plot under OUT_DIR/charts (SVG and PNG): one line per tested comparison, its ratio and
    interval on a log scale around 1; filled where the fleet supports a difference after the family's correction,
    hollow where it does not. Returns the SVG document by key."""
    if not model.get("charts"):
        return {}
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel

    rows = [c for c in model["comparisons"] if c["cmp"]["tested"] and c["cmp"]["ratio_low"] is not None
            and c["cmp"]["ratio_high"] is not None][::-1]
    target = Path(out_dir) / CHART_DIR
    ensure_dir(target)
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        fig, ax = plt.subplots(figsize=(9, 1.4 + 0.32 * len(rows)))
        for y, row in enumerate(rows):
            cmp = row["cmp"]
            colour = COLOURS.get(row["a"], "#333333")
            ax.errorbar([cmp["ratio"]], [y], xerr=[[cmp["ratio"] - cmp["ratio_low"]], [cmp["ratio_high"] - cmp["ratio"]]],
                        fmt="o", color=colour, mfc=colour if row["significant"] else "white", capsize=3)
        ax.axvline(1.0, color="#333333", linewidth=0.8)
        ax.set_xscale("log")
        from matplotlib.ticker import FuncFormatter  # pylint: disable=import-outside-toplevel

        plain = FuncFormatter(lambda value, _pos: f"{value:.2f}")
        ax.xaxis.set_major_formatter(plain)
        ax.xaxis.set_minor_formatter(plain)
        ax.set_yticks(range(len(rows)), labels=[f"{r['label']}: {r['a']} / {r['b']} ({r['hosts']} hosts)" for r in rows])
        ax.set_xlabel("ratio A/B (log scale); filled: a difference the fleet supports after correction")
        fig.suptitle(FLEET_CHART["title"], fontsize=11)
        return {FLEET_CHART["key"]: _save(plt, fig, target, FLEET_CHART["key"])}


def _series(rows: list[dict[str, Any]], column: str) -> tuple[list[float], list[float]]:
    values, errors = [], []
    for row in rows:
        cell = (row.get("statistics") or {}).get(column) or {}
        value = row["values"].get(column)
        # the cells' values are in the table's units already (Gbps, µs, pps, ...)
        values.append(float("nan") if value is None else value)
        half = cell.get("half")
        errors.append(0.0 if half is None or value is None else half)
    return values, errors


def _bar_groups(ax, rows: list[dict[str, Any]], columns: list[str]) -> None:
    """One group of bars per row, one bar per column, each with its interval."""
    width = 0.8 / max(1, len(columns))
    for i, column in enumerate(columns):
        values, errors = _series(rows, column)
        xs = [x + (i - (len(columns) - 1) / 2) * width for x in range(len(rows))]
        ax.bar(xs, values, width, yerr=errors, capsize=3, label=column, color=COLOURS[column])


def _grouped(plt, rows: list[dict[str, Any]], columns: list[str]):
    fig, ax = plt.subplots(figsize=(8, 4))
    _bar_groups(ax, rows, columns)
    ax.set_xticks(range(len(rows)), [r["label"] for r in rows])
    ax.set_ylabel(rows[0]["unit"] if rows else "")
    ax.legend(title="backend")
    return fig


def _pps(plt, rows: list[dict[str, Any]], columns: list[str]):
    fig, ax = plt.subplots(figsize=(8, 4))
    sizes = [int(r["label"].split()[0]) for r in rows]
    for column in columns:
        values, errors = _series(rows, column)
        ax.errorbar(sizes, values, yerr=errors, marker="o", capsize=3, label=column, color=COLOURS[column])
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes, [str(s) for s in sizes])
    ax.set_xlabel("UDP payload (bytes)")
    ax.set_ylabel("packets per second (received)")
    ax.legend(title="backend")
    return fig


def _cpu(plt, rows: list[dict[str, Any]], columns: list[str]):
    units = []
    for row in rows:
        if row["unit"] not in units:
            units.append(row["unit"])
    fig, axes = plt.subplots(1, len(units), figsize=(4 * len(units) + 1, 4), squeeze=False)
    for ax, unit in zip(axes[0], units):
        group = [r for r in rows if r["unit"] == unit]
        _bar_groups(ax, group, columns)
        ax.set_xticks(range(len(group)), [r["label"].split(",")[0] for r in group], rotation=20, ha="right")
        ax.set_ylabel(unit)
    axes[0][0].legend(title="backend")
    return fig


def _nines(pct: float) -> float:
    """A percentile on the chart's x axis: -log10(1 - p), so 90, 99 and 99.9 are evenly spaced."""
    return -math.log10(1 - pct / 100)


def _curves(plt, curves: dict[str, dict[str, list[float]]], columns: list[str]):
    from matplotlib.ticker import ScalarFormatter  # pylint: disable=import-outside-toplevel

    fig, ax = plt.subplots(figsize=(8, 4))
    for column in columns:
        curve = curves.get(column)
        if not curve:
            continue
        ax.plot([_nines(p) for p in curve["percentiles"]], curve["us"], marker=".", label=column,
                color=COLOURS[column])
    ticks = (10, 50, 90, 99, 99.9)
    ax.set_xticks([_nines(p) for p in ticks], [f"P{p:g}" for p in ticks])
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel("percentile")
    ax.set_ylabel("round trip (µs)")
    ax.legend(title="backend")
    return fig


def draw_history(history: dict[str, Any], out_dir: str | os.PathLike) -> dict[str, str]:
    """The trend chart of every metric of a history (history.build_history's ``charts``, drawn from what a report
    shows of it: history.shown's window of recent runs) under OUT_DIR/charts/history as SVG: each backend's
    run means in run order in the band of their 95 % intervals, its change points as dashed lines. Returns each chart's SVG
    document by key."""
    if not history.get("charts"):
        return {}
    from ansible_collections.volt.netbench.plugins.plugin_utils.history.history import shown  # pylint: disable=import-outside-toplevel
    import matplotlib  # pylint: disable=import-outside-toplevel

    matplotlib.use("Agg", force=True)
    from matplotlib import pyplot as plt  # pylint: disable=import-outside-toplevel

    history = shown(history)
    runs = history["window"]["run_ids"]
    target = Path(out_dir) / CHART_DIR / "history"
    ensure_dir(target)
    svgs: dict[str, str] = {}
    with matplotlib.rc_context():
        matplotlib.rcdefaults()
        matplotlib.rcParams.update(STYLE)
        for chart in history["charts"]:
            fig, ax = plt.subplots(figsize=(9, 3.6))
            for item in history["series"]:
                if item["label"] != chart["label"] or item["section"] != chart["section"]:
                    continue
                colour = COLOURS.get(item["backend"], "#333333")
                xs = [i for i, mean in enumerate(item["mean"]) if mean is not None]
                ys = [item["mean"][i] for i in xs]
                # the 95 % interval as a band (one path, not a bar and two caps per run: a chart of 30 runs and
                # three backends is a third the size)
                lows = [item["low"][i] if item["low"][i] is not None else item["mean"][i] for i in xs]
                highs = [item["high"][i] if item["high"][i] is not None else item["mean"][i] for i in xs]
                ax.fill_between(xs, lows, highs, color=colour, alpha=0.18, linewidth=0)
                ax.plot(xs, ys, "o-", markersize=3, linewidth=1, color=colour, label=item["backend"])
                for start in item["starts"]:
                    ax.axvline(start - 0.5, color=colour, linestyle="--", linewidth=1)
            step = max(1, math.ceil(len(runs) / 8))
            ticks = list(range(0, len(runs), step))
            ax.set_xticks(ticks, labels=[runs[i][:8] + "\n" + runs[i][9:13] for i in ticks], fontsize=7)
            ax.set_xlabel("run (UTC date, time); dashed: a change point")
            ax.set_ylabel(chart["unit"])
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, borderaxespad=0)  # beside the plot: never over a point, and no search for room
            fig.suptitle(chart["title"], fontsize=11)
            # laid out by hand (every trend chart has the same frame: tight_layout's extra draw was a third of
            # the time), SVG only (inline in REPORT.html, linked from REPORT.md; the PNG copy, which nothing
            # showed, was another third)
            fig.subplots_adjust(left=0.1, right=0.86, bottom=0.2, top=0.87)
            svgs[chart["key"]] = _save(plt, fig, target, chart["key"], formats=("svg",), tight=False)
    return svgs
