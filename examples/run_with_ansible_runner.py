"""Run the benchmark from Python the way AWX / Automation Controller does - through ansible-runner on a
private data directory - and read the summary from the run's own events and artifacts.

    sudo .venv/bin/python examples/run_with_ansible_runner.py /tmp/netbench-job -e backend=all -e profile=quick

The private data directory is laid out like AWX's: project/ (a checkout of this repository), inventory/,
env/extravars, env/envvars; ansible-runner writes artifacts/<ident>/ (rc, status, stdout, job_events/).
The summary is the playbook's set_stats entry ``volt_netbench``: status, error, report, runs, ranking,
recommendations, and per backend its outcome (status, counts, run directory, failed tests).
The tests drive the benchmark through these same functions (tests/integration/test_benchmark.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
from pathlib import Path
from typing import Any

import ansible_runner
import yaml

ROOT = Path(__file__).resolve().parents[1]
STEP_RE = re.compile(r"Test \[(\d+)/(\d+)\] (\S+) (\S+)")


def prepare(private_data_dir: str | os.PathLike, extravars: dict[str, Any], *, project: Path = ROOT,
            inventory: Path | None = None, envvars: dict[str, str] | None = None) -> Path:
    """Lay out a private data directory as AWX does for a job: project/, inventory/, env/."""
    pdd = Path(private_data_dir)
    (pdd / "env").mkdir(parents=True, exist_ok=True)
    (pdd / "inventory").mkdir(exist_ok=True)
    if not (pdd / "project").exists():
        (pdd / "project").symlink_to(project)
    shutil.copy(inventory or project / "inventories" / "local" / "hosts.yml", pdd / "inventory" / "hosts.yml")
    (pdd / "env" / "extravars").write_text(yaml.safe_dump(extravars), encoding="utf-8")
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}", **(envvars or {})}
    (pdd / "env" / "envvars").write_text(yaml.safe_dump(env), encoding="utf-8")
    return pdd


def run_benchmark(private_data_dir: str | os.PathLike, ident: str, **kwargs: Any) -> dict[str, Any]:
    """Run playbooks/benchmark.yml with ansible-runner; return what AWX would show of it:
    ``status``, ``rc``, ``summary`` (set_stats volt_netbench), ``steps`` (every ``[n/N]`` test task that
    ended ok, with its backend and test), ``stdout`` and ``artifacts`` (the run's artifact directory)."""
    runner = ansible_runner.run(private_data_dir=str(private_data_dir), playbook="playbooks/benchmark.yml",
                                ident=ident, quiet=True, **kwargs)
    summary: dict[str, Any] = {}
    steps = []
    for event in runner.events:
        data = event.get("event_data", {})
        if event.get("event") == "runner_on_ok":
            match = STEP_RE.search(data.get("task", ""))
            if match:
                steps.append({"position": int(match.group(1)), "total": int(match.group(2)),
                              "backend": match.group(3), "test": match.group(4)})
        elif event.get("event") == "playbook_on_stats":
            summary = (data.get("artifact_data") or {}).get("volt_netbench") or {}
    artifacts = Path(private_data_dir) / "artifacts" / ident
    return {"status": runner.status, "rc": runner.rc, "summary": summary, "steps": steps,
            "stdout": (artifacts / "stdout").read_text(encoding="utf-8", errors="replace"),
            "artifacts": artifacts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("private_data_dir")
    parser.add_argument("-e", "--extra-var", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--ident", default="netbench")
    args = parser.parse_args()
    extravars = dict(item.split("=", 1) for item in args.extra_var)
    pdd = prepare(args.private_data_dir, extravars)
    result = run_benchmark(pdd, args.ident)
    print(json.dumps({k: result[k] for k in ("status", "rc", "summary")}, indent=2, default=str))
    return 0 if result["status"] == "successful" else 1


if __name__ == "__main__":
    sys.exit(main())
