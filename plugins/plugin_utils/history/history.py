# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every run of a results tree over time: per backend and metric a series of the runs' cells, its change points,
``history.csv`` and the trend charts - read from a small embedded index, not from every raw file again.

**The index** (``<results>/.index.sqlite``, SQLite from the standard library): per run directory the signature of
its recorded files (``run.json``, ``samples.jsonl``, ``host_cpu.jsonl``: size and modification time) and the cells
the report computes from them (report.cells: the mean of the repetitions with its interval). ``run.json`` stays the
source of truth: a run whose files changed is read again, a run that is gone leaves the index, a missing, corrupt or
older-schema index is rebuilt. Concurrent writers (a fleet's hosts) are serialised by SQLite's own lock.

**Change points** (the method, stated in the report): per backend and metric, the series of the runs' means in run
order, standardised by a robust noise estimate (the median absolute deviation of successive differences, / 0.6745 /
sqrt 2, which a step does not inflate), is segmented with PELT (ruptures' KernelCPD with the linear kernel, whose cost
is the l2 cost - a change in the mean - and whose PELT is ruptures' C implementation: the same segmentation as
``ruptures.Pelt(model="l2")``, a thousand times faster on 1,000 runs; segments of at least MIN_SEGMENT runs) with the
penalty PENALTY x ln(n). A change point is reported when the medians of the
segments before and after it differ by at least the tolerance (percent); it is a regression when the later segment is worse. The penalty
is the one whose false-alarm rate on series without a change the unit tests simulate (fixed seed). A change at the
newest run cannot be a change point yet (a segment needs MIN_SEGMENT runs): the newest run is named when it differs
from the median of its segment's earlier runs by the tolerance and by NEWEST_Z robust standard deviations.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import io
import json
import math
import os
import re
import sqlite3
import statistics
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils import safefs
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import csv_safe
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PATHS, row_name
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import (
    ResultsError, _sort_key, compared_config, load_run, run_dirs)

INDEX_NAME = ".index.sqlite"
INDEX_SCHEMA = "2"  # 2: rows of the under-load and flood tables named apart (matrix.row_name)
# the files a run's cells are computed from: a change to any of them makes the run's index entry stale
SIGNED_FILES = ("run.json", "samples.jsonl", "host_cpu.jsonl")
# change points: PELT on the standardised series, segments of at least MIN_SEGMENT runs, penalty PENALTY x ln(n)
MIN_SEGMENT = 3
PENALTY = 4.0
# a series needs this many runs before a change point is looked for, and before its trend is drawn
MIN_RUNS = 2 * MIN_SEGMENT
MIN_CHART_RUNS = 3
# the newest run stands out from its segment at this many robust standard deviations (and by the tolerance)
NEWEST_Z = 4.0
DEFAULT_TOLERANCE = 5.0
# what a report carries of a long history (shown): the trend charts' WINDOW newest runs and the SHOWN_CHANGES newest
# change points besides those that are a regression now - the whole series stay in history.csv and in the store
WINDOW = 30
SHOWN_CHANGES = 10
METHOD = (f"PELT (ruptures, cost l2: a shift in the mean; segments of at least {MIN_SEGMENT} runs; penalty "
          f"{PENALTY:g} x ln(n)) on each backend's series of run means, standardised by the median absolute "
          "deviation of successive differences; a change point counts when the medians of the segments before and "
          "after it differ by at least the tolerance")


def _signature(run_dir: Path) -> str:
    parts = []
    for name in SIGNED_FILES:
        try:
            st = (run_dir / name).lstat()
            # the change time too: a file rewritten with its old size and modification time still changes it
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}")
        except FileNotFoundError:
            parts.append(f"{name}:-")
    return "|".join(parts)


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=60)
    conn.execute("PRAGMA journal_mode=DELETE")
    return conn


def _create(conn: sqlite3.Connection, root: Path) -> None:
    conn.executescript("""
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS runs (
            rel TEXT PRIMARY KEY, backend TEXT NOT NULL, run_id TEXT NOT NULL, status TEXT, started TEXT,
            signature TEXT NOT NULL, compared TEXT NOT NULL, config TEXT, environment TEXT);
        CREATE TABLE IF NOT EXISTS cells (
            rel TEXT NOT NULL REFERENCES runs(rel) ON DELETE CASCADE, section TEXT NOT NULL, label TEXT NOT NULL,
            unit TEXT, higher_is_better INTEGER NOT NULL, digits INTEGER NOT NULL, n INTEGER NOT NULL,
            mean REAL NOT NULL, low REAL, high REAL, vals TEXT NOT NULL, PRIMARY KEY (rel, section, label));
    """)
    conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(_binding(root).items()))


def _cells_of(run: dict[str, Any]) -> list[tuple]:
    """The report's cells of one run (every row its configuration calls for, that has a value)."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.cells import _cell, _rows  # pylint: disable=import-outside-toplevel

    out = []
    for row in _rows({"run": run}, ["run"]):
        cell = _cell(run, row, "")
        if cell and cell["n"]:
            out.append((row.section, row_name(row.section, row.label), row.unit, int(row.higher_is_better), row.digits, cell["n"],
                        cell["mean"], cell["low"], cell["high"], json.dumps(cell["values"])))
    return out


def _binding(root: Path) -> dict[str, str]:
    """What an index belongs to: its schema, the tree's real path and the user who keeps it."""
    return {"schema": INDEX_SCHEMA, "tree": os.path.realpath(root), "owner": str(os.geteuid())}


def _open_index(root: Path, counts: dict[str, int]) -> sqlite3.Connection:
    """The tree's index, rebuilt when it is unreadable, of another schema, or not bound to this tree and this user
    (a file another user made or copied from another tree is not trusted, whatever its signatures say). The tree
    must be a trusted directory (safefs: UnsafePath otherwise, and the caller keeps the index in memory)."""
    os.close(safefs.open_dir(root))
    path = root / INDEX_NAME
    conn = None
    try:
        if safefs.private_file_problem(path):
            raise sqlite3.DatabaseError("not this user's file")
        conn = _connect(path)
        bound = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        if all(bound.get(k) == v for k, v in _binding(root).items()):
            return conn
        raise sqlite3.DatabaseError("another schema, tree or owner")
    except sqlite3.DatabaseError:
        if conn is not None:
            conn.close()
        path.unlink(missing_ok=True)
        counts["rebuilt"] = 1
        return _connect(path)


def _sync(conn: sqlite3.Connection, root: Path, counts: dict[str, int]) -> None:
    with conn:
        conn.execute("PRAGMA foreign_keys=ON")
        _create(conn, root)
        known = dict(conn.execute("SELECT rel, signature FROM runs").fetchall())
        present = run_dirs(root)
        for rel in set(known) - set(present):
            conn.execute("DELETE FROM runs WHERE rel = ?", (rel,))
            counts["removed"] += 1
        for rel, run_dir in sorted(present.items()):
            signature = _signature(run_dir)
            if known.get(rel) == signature:
                counts["kept"] += 1
                continue
            try:
                run = load_run(run_dir)
            except ResultsError:
                continue  # not a volt.netbench run (or half written): not indexed
            conn.execute("DELETE FROM runs WHERE rel = ?", (rel,))
            conn.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (rel, run["backend"], run["run_id"], run.get("status"), run.get("started"), signature,
                          compared_config(run), json.dumps(run.get("config") or {}),
                          json.dumps(run.get("environment") or {})))
            conn.executemany("INSERT INTO cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             [(rel, *cell) for cell in _cells_of(run)])
            counts["updated" if rel in known else "added"] += 1


def sync_index(results_dir: str | os.PathLike, *, persist: bool = True) -> tuple[sqlite3.Connection, dict[str, int]]:
    """Bring RESULTS_DIR/.index.sqlite up to date with the run directories - read new and changed runs, drop the
    ones that are gone, rebuild it when it is unreadable or of another schema - and return it open, with the
    counts. PERSIST=False (check mode), or a tree the index cannot be written in: the same index in memory."""
    root = Path(results_dir)
    counts = {"added": 0, "updated": 0, "removed": 0, "kept": 0, "rebuilt": 0, "in_memory": 0}
    if persist:
        try:
            conn = _open_index(root, counts)
            _sync(conn, root, counts)
            return conn, counts
        except (OSError, sqlite3.OperationalError):
            pass  # a read-only tree: read it without keeping an index
    counts.update(added=0, updated=0, removed=0, kept=0, in_memory=1)
    conn = sqlite3.connect(":memory:")
    _sync(conn, root, counts)
    return conn, counts


def load_series(results_dir: str | os.PathLike, compared: str | None = None, *, persist: bool = True
                ) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Per (backend, section, label): the unit, direction, digits and the runs' points in run order (run id,
    date, n, mean, low, high), from the index (synced first); only the runs whose compared configuration
    (results.compared_config) is COMPARED when given."""
    conn, _counts = sync_index(results_dir, persist=persist)
    try:
        rows = conn.execute("""
            SELECT r.backend, c.section, c.label, c.unit, c.higher_is_better, c.digits, r.run_id, r.status,
                   c.n, c.mean, c.low, c.high
            FROM cells c JOIN runs r ON r.rel = c.rel
            WHERE ? IS NULL OR r.compared = ?""", (compared, compared)).fetchall()
    finally:
        conn.close()
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for backend, section, label, unit, hib, digits, run_id, status, n, mean, low, high in rows:
        series = out.setdefault((backend, section, label), {
            "backend": backend, "section": section, "label": label, "unit": unit, "higher_is_better": bool(hib),
            "digits": digits, "points": []})
        series["points"].append({"run_id": run_id, "date": _date(run_id), "status": status, "n": n, "mean": mean,
                                 "low": low, "high": high})
    for series in out.values():
        series["points"].sort(key=lambda p: _sort_key(p["run_id"]))
    return out


@functools.lru_cache(maxsize=65536)
def _date(run_id: str) -> str:
    """A run id's date and time, as shown (every series' point asks for it: parsed once per run)."""
    try:
        return dt.datetime.strptime(run_id.split("-")[0], "%Y%m%dT%H%M%SZ").strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return run_id


def _noise(values: list[float]) -> float:
    """A robust estimate of the series' noise (standard deviation) that a step does not inflate: the median
    absolute deviation of successive differences, / 0.6745 (normal consistency) / sqrt 2 (a difference's spread)."""
    diffs = [b - a for a, b in zip(values, values[1:])]
    if not diffs:
        return 0.0
    med = statistics.median(diffs)
    mad = statistics.median(abs(d - med) for d in diffs)
    return mad / 0.6745 / math.sqrt(2)


def change_points(values: list[float], higher_is_better: bool, tolerance: float = DEFAULT_TOLERANCE
                  ) -> list[dict[str, Any]]:
    """The change points of one series (see the module's method): each with its index (the first run of the new
    segment), the levels before and after (the neighbouring segments' medians, so that one outlying run in a
    segment is no change of level), the change in percent (positive = better) and whether it is a regression."""
    n = len(values)
    if n < MIN_RUNS:
        return []
    scale = _noise(values)
    if scale <= 0:
        spread = statistics.pstdev(values)
        if spread <= 0:
            return []
        scale = spread
    import numpy as np  # pylint: disable=import-outside-toplevel
    import ruptures  # pylint: disable=import-outside-toplevel

    signal = (np.asarray(values, dtype=float) - float(np.median(values))) / scale
    # the linear kernel's cost is the l2 cost: ruptures.Pelt(model="l2")'s segmentation, in C (pure Python's PELT
    # took 2.2 s on a series of 1,000 runs and 24 s on 3,000 here; this 0.8 ms and 7 ms)
    ends = ruptures.KernelCPD(kernel="linear", min_size=MIN_SEGMENT, jump=1).fit(signal.reshape(-1, 1)).predict(
        pen=PENALTY * math.log(n))
    bounds = [0] + [int(e) for e in ends]
    out = []
    for k in range(1, len(bounds) - 1):
        # the segments' medians: one outlying run inside a segment does not make a change of level
        before = statistics.median(values[bounds[k - 1]:bounds[k]])
        after = statistics.median(values[bounds[k]:bounds[k + 1]])
        if not before:
            continue
        change = (after / before - 1) * 100 * (1 if higher_is_better else -1)
        if abs(change) < tolerance:
            continue
        out.append({"index": bounds[k], "before": before, "after": after, "change_pct": change,
                    "regression": change < 0})
    return out


def newest_outlier(values: list[float], higher_is_better: bool, since: int, tolerance: float = DEFAULT_TOLERANCE
                   ) -> dict[str, Any] | None:
    """The newest run against the runs of its segment before it (from index SINCE, the last change point): worse
    or better by at least the tolerance and NEWEST_Z robust standard deviations of the series (its noise, see
    :func:`_noise`) - too soon for a change point (a segment needs MIN_SEGMENT runs), worth naming. None otherwise."""
    prior = values[since:-1]
    if len(prior) < MIN_SEGMENT:
        return None
    scale = _noise(values[since:]) or statistics.pstdev(prior)
    center = statistics.median(prior)
    if scale <= 0 or not center:
        return None
    z = (values[-1] - center) / scale
    change = (values[-1] / center - 1) * 100 * (1 if higher_is_better else -1)
    if abs(z) < NEWEST_Z or abs(change) < tolerance:
        return None
    return {"index": len(values) - 1, "before": center, "after": values[-1], "change_pct": change,
            "regression": change < 0, "z": z, "runs_before": len(prior)}


def build_history(results_dir: str | os.PathLike, *, tolerance: float = DEFAULT_TOLERANCE,
                  latest_run: str | None = None, compared: str | None = None, persist: bool = True,
                  series: dict[tuple[str, str, str], dict[str, Any]] | None = None) -> dict[str, Any]:
    """The history model of a results tree (JSON-safe): every series with its change points, the change points
    named by run (regressions first), the levels that are regressions now (a series whose last change point is a
    regression), the newest run where it stands out from its segment, and the trend charts to draw; only the runs
    whose compared configuration is COMPARED when given (a series mixes no profiles or durations). LATEST_RUN: the
    run the report shows (the newest-run check looks at it only when it is the series' newest). SERIES: the series
    read elsewhere (a results store's, store.Store.series) instead of the tree's."""
    series = load_series(results_dir, compared, persist=persist) if series is None else series
    runs = sorted({p["run_id"] for s in series.values() for p in s["points"]}, key=_sort_key)
    changes, current, newest = [], [], []
    for key in sorted(series, key=lambda k: (PATHS.index(k[0]) if k[0] in PATHS else 99, k[1], k[2])):
        item = series[key]
        points = item["points"]
        values = [p["mean"] for p in points]
        item["change_points"] = []
        info = {"backend": item["backend"], "section": item["section"], "label": item["label"], "unit": item["unit"],
                "digits": item["digits"]}
        for cp in change_points(values, item["higher_is_better"], tolerance):
            entry = dict(cp, run_id=points[cp["index"]]["run_id"], **info)
            entry["text"] = change_text(entry)
            item["change_points"].append(entry)
            changes.append(entry)
        if item["change_points"] and item["change_points"][-1]["regression"]:
            current.append(item["change_points"][-1])
        since = item["change_points"][-1]["index"] if item["change_points"] else 0
        odd = newest_outlier(values, item["higher_is_better"], since, tolerance) if len(values) > MIN_SEGMENT else None
        if odd and (latest_run is None or points[-1]["run_id"] == latest_run):
            entry = dict(odd, run_id=points[-1]["run_id"], **info)
            entry["text"] = (f"{info['backend']} {info['label']}: run {entry['run_id']} measured "
                             f"{odd['after']:,.{info['digits']}f} {info['unit']} against a median of "
                             f"{odd['before']:,.{info['digits']}f} over the {odd['runs_before']} runs before it "
                             f"({odd['change_pct']:+.1f} %, {abs(odd['z']):.1f} robust standard deviations)")
            newest.append(entry)
    # one trend chart per metric, every backend's series in it
    charts: dict[str, dict[str, Any]] = {}
    for item in series.values():
        if len(item["points"]) >= MIN_CHART_RUNS:
            chart = charts.setdefault(item["label"], {
                "key": f"history_{_slug(item['section'], item['label'])}", "label": item["label"],
                "section": item["section"], "unit": item["unit"]})
    for chart in charts.values():
        chart.update(svg=f"charts/history/{chart['key']}.svg", title=f"{chart['label']} ({chart['unit']}) over the runs")
    changes.sort(key=lambda c: (not c["regression"], _sort_key(c["run_id"])))
    return {
        "runs": len(runs),
        "first": runs[0] if runs else None,
        "last": runs[-1] if runs else None,
        "tolerance": tolerance,
        "method": METHOD,
        "series": [series[k] for k in sorted(series, key=_series_order)],
        "change_points": changes,
        # levels that are a regression now: since that run the metric has stayed lower (a rate) or higher
        "current": current,
        # the newest run where it stands out from the runs before it (too soon for a change point)
        "newest": [e for e in newest if e["regression"]],
        "charts": sorted(charts.values(), key=lambda c: (c["section"], c["label"])),
    }


def shown(model: dict[str, Any]) -> dict[str, Any]:
    """The part of a history (build_history's MODEL) a report shows - REPORT.md, REPORT.html, report.json and the
    trend charts - whose size does not grow with the history: the WINDOW newest runs (their ids and dates once, and
    per series a column of means, interval bounds and repetition counts, None where the series has no cell in that
    run; its change points in the window as indices), each series' summary over all its runs (how many, the first
    and last, its level: the median since its last change point, and how many change points it has), the change
    points that are a regression now and the SHOWN_CHANGES newest others (the count of the rest), the newest run's
    outliers. A history already shown is returned as it is."""
    if "window" in model or not model.get("runs"):
        return model
    runs = sorted({p["run_id"] for s in model["series"] for p in s["points"]}, key=_sort_key)
    recent = runs[-WINDOW:]
    where = {run_id: i for i, run_id in enumerate(recent)}
    series = []
    for item in model["series"]:
        points = item["points"]
        cps = item.get("change_points") or []
        since = cps[-1]["index"] if cps else 0
        columns: dict[str, list] = {"mean": [None] * len(recent), "low": [None] * len(recent),
                                    "high": [None] * len(recent), "n": [None] * len(recent)}
        for p in points:
            i = where.get(p["run_id"])
            if i is not None:
                for name, column in columns.items():
                    column[i] = p[name]
        series.append({
            **{k: item[k] for k in ("backend", "section", "label", "unit", "digits", "higher_is_better")},
            "runs": len(points), "first": points[0]["run_id"] if points else None,
            "last": points[-1]["run_id"] if points else None,
            "level": statistics.median(p["mean"] for p in points[since:]) if points else None,
            "change_points": len(cps),
            "starts": [where[c["run_id"]] for c in cps if c["run_id"] in where],
            **columns,
        })

    def key(cp: dict[str, Any]) -> tuple:
        return cp["backend"], cp["section"], cp["label"], cp["run_id"]

    now = {key(c) for c in model.get("current") or []}
    others = sorted((c for c in model["change_points"] if key(c) not in now), key=lambda c: _sort_key(c["run_id"]))
    kept = now | {key(c) for c in others[-SHOWN_CHANGES:]}
    listed = [c for c in model["change_points"] if key(c) in kept]  # in build_history's order
    return {
        **{k: v for k, v in model.items() if k not in ("series", "change_points")},
        "window": {"runs": len(recent), "run_ids": recent, "dates": [_date(r) for r in recent]},
        "series": series,
        "change_points": listed,
        "change_points_total": len(model["change_points"]),
        # a metric no run of the window measured has no chart
        "charts": [dict(c, title=c["title"] if len(recent) == len(runs) else
                        f"{c['label']} ({c['unit']}) over the {len(recent)} newest of {len(runs):,} runs")
                   for c in model.get("charts") or []
                   if any(s["label"] == c["label"] and s["section"] == c["section"] and any(m is not None for m in s["mean"])
                          for s in series)],
    }


def _series_order(key: tuple[str, str, str]) -> tuple[str, str, int]:
    backend, section, label = key
    return section, label, PATHS.index(backend) if backend in PATHS else 99


def _slug(*words: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", " ".join(words).lower()).strip("_")


def change_text(cp: dict[str, Any]) -> str:
    digits = cp["digits"]
    word = "regression" if cp["regression"] else "improvement"
    return (f"{cp['backend']} {cp['label']}: {word} at run {cp['run_id']}, {cp['before']:,.{digits}f} → "
            f"{cp['after']:,.{digits}f} {cp['unit']} ({cp['change_pct']:+.1f} %)")


HISTORY_FIELDS = ("run_id", "date", "backend", "section", "metric", "unit", "higher_is_better", "n", "mean", "low",
                  "high", "change_point")


def history_csv(model: dict[str, Any]) -> str:
    """Every run's cells, a row per series and run (the whole history: a report's other files show its window).
    Each series' names go through files.csv_safe once; a run id and a date are checked names, numbers numbers."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(HISTORY_FIELDS)
    for item in model["series"]:
        starts = {c["run_id"]: "regression" if c["regression"] else "improvement" for c in item["change_points"]}
        names = [csv_safe(item[k]) for k in ("backend", "section", "label", "unit")] + [item["higher_is_better"]]
        writer.writerows(
            (csv_safe(p["run_id"]), csv_safe(p["date"]), *names, p["n"], p["mean"],
             "" if p["low"] is None else p["low"], "" if p["high"] is None else p["high"], starts.get(p["run_id"], ""))
            for p in item["points"])
    return buf.getvalue()
