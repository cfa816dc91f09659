"""The watchdog's reaper records every backend's interrupted run of a shared lab from its progress file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

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


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a network namespace")
def test_teardown_stops_the_native_servers_and_removes_their_namespaces_and_job_files(tmp_path):
    ns = f"vnbreap-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    server = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "300"])
    job_dir = tmp_path / "vnb-lab.jobs"
    job_dir.mkdir()
    (job_dir / "native.ping.1.out").write_text("64 bytes from 198.18.3.1")
    try:
        deadline = time.monotonic() + 10
        while not subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False).stdout.strip():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        reaper.teardown({"extra_netns": [ns], "job_dir": str(job_dir)})
        assert server.wait(timeout=10) != 0
        assert ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
        assert not job_dir.exists()
    finally:
        server.kill()
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)


def test_a_run_that_released_its_lock_leaves_no_watchdog_state(tmp_path):
    owner = subprocess.Popen(["sleep", "30"])
    try:
        config = tmp_path / "vnb-lab.watchdog.json"
        config.write_text(json.dumps({"owner_pid": owner.pid, "lock": str(tmp_path / "benchmark.lock")}))
        config.with_suffix(".log").write_text("")
        assert reaper.main(str(config)) == 0  # the lock is not held: the run ended normally
        assert not config.exists() and not config.with_suffix(".log").exists()
        # the next run of the same lab wrote its own configuration: it stays
        config.write_text(json.dumps({"owner_pid": owner.pid + 1, "lock": str(tmp_path / "benchmark.lock")}))
        assert reaper.finished(str(config), owner.pid) == 0 and config.exists()
    finally:
        owner.kill()
        owner.wait()
