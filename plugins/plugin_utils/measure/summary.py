# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a finished run tells its operator and AWX: the outcome of each of its runs (read from their run.json),
the summary text printed at the end of a playbook, the set_stats data, and the failures that fail the play."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PATHS
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import RUN_ID_RE
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.sweep import split_run_key


def outcomes(results_dir: str | Path, run_id: str) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The runs of RUN_ID: (outcome of each run that ran - run_dir, status (``unrecorded`` without a
    run.json), counts, error, failed_tests - and the reason of each backend that did not run)."""
    ran: dict[str, dict[str, Any]] = {}
    not_run: dict[str, str] = {}
    for backend, run_dir in _run_dirs(results_dir, run_id):
        try:
            run = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            run = {"status": "unrecorded"}
        if run.get("status") == "not_run":
            not_run[backend] = run.get("reason", "")
            continue
        ran[backend] = {
            "run_dir": str(run_dir),
            "status": run.get("status", "unrecorded"),
            "counts": run.get("counts") or {},
            "error": run.get("reason", ""),
            "failed_tests": {t["name"]: t.get("message", "") for t in run.get("tests") or []
                             if t.get("status") == "failed"},
        }
    return ran, not_run


def _run_dirs(results_dir: str | Path, run_id: str) -> list[tuple[str, Path]]:
    """RUN_ID's run directories by run name: each backend's, and a sweep's at each point (virtio+mtu-9000, from the
    directory's name RUN_ID+mtu-9000) - directories only, never a link."""
    out = []
    for backend in PATHS:
        base = Path(results_dir, backend)
        try:
            names = sorted(p.name for p in base.iterdir()
                           if (p.name == run_id or p.name.startswith(run_id + "+")) and RUN_ID_RE.match(p.name)
                           and p.is_dir() and not p.is_symlink())
        except OSError:
            continue
        out += [(backend + name[len(run_id):], base / name) for name in names]
    return out


def failures(ran: dict[str, dict[str, Any]]) -> list[str]:
    """The runs that did not complete (the benchmark fails after its report and summary)."""
    return [f"{name} did not complete" for name, outcome in ran.items() if outcome["status"] != "complete"]


def summary_text(result: dict[str, Any], ran: dict[str, dict[str, Any]], not_run: dict[str, str]) -> str:
    """The playbook's closing summary from the report action's RESULT and the run's outcomes."""
    lines = [f"Report: {result['report']}"]
    for name, outcome in ran.items():
        counts = outcome["counts"]
        lines.append(f"{name}: {outcome['status']} ({counts.get('ok', 0)} ok, {counts.get('failed', 0)} failed)")
        lines += [f"  {label}: {value}" for label, value in (result["figures"].get(name) or {}).items()]
    for name, rows in result["of_native"].items():
        lines.append(f"{name} as % of native:")
        lines += [f"  {label}: {text}" for label, text in rows.items()]
    # a backend not run at every point of a sweep: said once, with the points
    grouped: dict[tuple[str, str], list[str]] = {}
    for name, reason in not_run.items():
        backend, point = split_run_key(name)
        grouped.setdefault((backend, reason), []).append(point)
    lines += [f"{backend}{' (' + str(len(points)) + ' points)' if points != [''] else ''}: not run - {reason}"
              for (backend, reason), points in grouped.items()]
    lines += [f"Ranking: {result['ranking_text']}", f"Default: {result['recommendations']['default']}",
              f"Anomalies: {len(result['anomalies'])} (listed in the report)"]
    return "\n".join(lines)


def stats(result: dict[str, Any], ran: dict[str, dict[str, Any]], not_run: dict[str, str]) -> dict[str, Any]:
    """The set_stats data an AWX workflow reads (volt_netbench)."""
    failed = failures(ran)
    return {
        "status": "failed" if failed else "successful",
        "error": "; ".join(failed),
        **{k: result[k] for k in ("report", "runs", "measured", "ranking", "ranking_text", "recommendations")},
        # every cell as the report shows it, per backend and row (host CPU cost included)
        "figures": result["figures"],
        # each backend as a percentage of the native reference, per row
        "of_native": result["of_native"],
        "outcomes": ran,
        "not_run": not_run,
    }


def stats_data(stats_: dict[str, Any], fleet_host: str = "") -> dict[str, Any]:
    """What set_stats hands AWX: ``volt_netbench`` for a single hypervisor; in a fleet, where set_stats merges
    every host's data, ``volt_netbench_hosts`` keyed by host (the fleet's verdict is ``volt_netbench_fleet``)."""
    if fleet_host:
        return {"volt_netbench_hosts": {fleet_host: stats_}}
    return {"volt_netbench": stats_}
