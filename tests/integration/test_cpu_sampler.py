"""volt.netbench.cpu_sampler on this host: started as a module, it samples a process whose thread is named
like a QEMU vCPU while that thread burns a known amount of CPU; the samples give that amount back within
10 % of the thread's own CPU clock. Stopping it ends the sampler."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from helpers import ROOT, run

sys.path.insert(0, str(ROOT / ".collections"))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins" / "module_utils"))
from test_hostcpu import BUSY  # noqa: E402  (the same busy 'vCPU' process as the unit test)

from ansible_collections.volt.netbench.plugins.module_utils import hostcpu  # noqa: E402


def module(ansible_bin, args: dict) -> dict:
    proc = run([ansible_bin / "ansible", "localhost", "-m", "volt.netbench.cpu_sampler", "-a", json.dumps(args),
                "-o"])
    return json.loads(proc.stdout.split("=>", 1)[1])


def test_the_sampler_measures_a_busy_vcpu_thread(tmp_path, ansible_bin):
    child = subprocess.Popen([sys.executable, "-c", BUSY, "1.5"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        (tmp_path / "guest.json").write_text(json.dumps({"pid": child.pid}))
        samples_path = tmp_path / "cpu.jsonl"
        started = module(ansible_bin, {"path": str(samples_path), "state_dir": str(tmp_path), "guests": ["guest"],
                                       "interval": 0.1})
        sampler = started["pid"]
        assert started["changed"] and os.path.exists(f"/proc/{sampler}")
        time.sleep(0.5)
        begin = time.time()
        child.stdin.write("go\n")
        child.stdin.flush()
        own = float(child.stdout.readline())
        end = time.time()
        time.sleep(0.5)
        stopped = module(ansible_bin, {"path": str(samples_path), "state": "stopped"})
        child.stdin.write("end\n")
        child.stdin.flush()
    finally:
        child.wait(timeout=30)
    assert stopped["changed"] and stopped["samples"] >= 10
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{sampler}") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not os.path.exists(f"/proc/{sampler}"), "the sampler is gone after stopped"
    samples = [json.loads(line) for line in samples_path.read_text().splitlines()]
    got = hostcpu.window(samples, begin, end)
    assert got["guests"]["guest"]["vcpu"] == pytest.approx(own, rel=0.10)
    assert got["host"]["busy"] >= 0.9 * own


def test_a_guest_without_a_recorded_pid_is_refused(tmp_path, ansible_bin):
    proc = run([ansible_bin / "ansible", "localhost", "-m", "volt.netbench.cpu_sampler", "-a",
                json.dumps({"path": str(tmp_path / "cpu.jsonl"), "state_dir": str(tmp_path), "guests": ["server"]})],
               check=False)
    assert proc.returncode != 0
    assert f"guest server has no recorded PID under {tmp_path}: start the sampler after" in proc.stdout
