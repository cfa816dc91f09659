"""The watchdog's reaper records every backend's interrupted run of a shared lab from its progress file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ansible_collections.volt.netbench.plugins.plugin_utils import reaper, run_control
from ansible_collections.volt.netbench.plugins.plugin_utils.results import create_run_dir

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"


def test_every_backend_of_the_lab_is_recorded_as_interrupted(tmp_path):
    results = tmp_path / "results"
    dirs = {b: create_run_dir(results, b, "20261127T080000Z")[0] for b in ("virtio", "macvtap")}
    planned = {"ping": "ping", "netperf_tcp_rr": "netperf"}
    for backend, run_dir in dirs.items():
        shutil.copy(FIXTURES / "ping" / "iputils_20.txt", run_dir / "ping.txt")
        entry = {"name": "ping", "tool": "ping", "status": "ok", "message": "", "raw": "ping.txt"}
        header = {"backend": backend, "planned": [{"name": n, "tool": t, "repetition": 1} for n, t in planned.items()],
                  "config": {}, "environment": {}, "started": "t0"}
        run_control.append_progress(run_dir, header, entry)
    reaper.record_interrupted({"run_dirs": [str(d) for d in dirs.values()], "results_dir": str(results)})
    for backend, run_dir in dirs.items():
        run = json.loads((run_dir / "run.json").read_text())
        assert run["backend"] == backend and run["status"] == "partial"
        assert run["reason"] == "interrupted: ansible-playbook ended before the run finished"
        status = {t["name"]: (t["status"], t["message"]) for t in run["tests"]}
        assert status == {"ping": ("ok", ""), "netperf_tcp_rr": ("skipped", "not run: the benchmark was interrupted")}
    assert (results / "REPORT.md").is_file()
