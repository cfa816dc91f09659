"""Signals reach only the process meant (module_utils/procs.py), and the CPU sampler's stop does not signal a
PID the kernel has given to another process: real processes (sleep), their real /proc entries."""

from __future__ import annotations

import json
import signal
import subprocess
import time

from ansible_collections.volt.netbench.plugins.module_utils import procs
from ansible_collections.volt.netbench.plugins.modules import cpu_sampler


def sleeper():
    proc = subprocess.Popen(["sleep", "60"])
    # Popen returns when execve closed its pipe, which the kernel does before it lays out the new command line:
    # wait until /proc shows it
    deadline = time.monotonic() + 5
    while procs.cmdline(proc.pid) != "sleep 60" and time.monotonic() < deadline:
        time.sleep(0.01)
    return proc


def test_start_time_tells_a_process_from_a_later_one_with_the_same_number():
    proc = sleeper()
    try:
        ident = procs.identity(proc.pid)
        assert ident["pid"] == proc.pid and ident["start"] > 0
        assert procs.is_same(ident)(proc.pid)
        # what a pidfile written for an earlier process with this number holds
        assert not procs.is_same({"pid": proc.pid, "start": ident["start"] - 1})(proc.pid)
        assert not procs.is_same({"pid": proc.pid, "start": None})(proc.pid)
    finally:
        proc.kill()
        proc.wait()
    assert procs.start_time(proc.pid) is None and procs.identity(proc.pid) is None


def test_signal_if_sends_only_when_the_check_holds():
    proc = sleeper()
    try:
        stale = {"pid": proc.pid, "start": procs.start_time(proc.pid) - 5}
        assert not procs.signal_if(proc.pid, signal.SIGTERM, procs.is_same(stale))
        assert proc.poll() is None, "a process whose start time differs is not signalled"
        assert procs.signal_if(proc.pid, signal.SIGTERM, procs.is_same(procs.identity(proc.pid)))
        assert proc.wait(timeout=5) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # gone (or its number given to another process since): nothing is signalled
    assert not procs.signal_if(proc.pid, signal.SIGTERM, procs.is_same(stale))


def test_a_namespace_check_follows_the_process():
    proc = sleeper()
    try:
        mine = procs.netns_inode("/proc/self/ns/net")
        theirs = procs.netns_inode(f"/proc/{proc.pid}/ns/net")
        assert procs.in_netns(mine)(proc.pid), (mine, theirs, procs.cmdline(proc.pid))
        assert not procs.in_netns(mine + 1)(proc.pid) and not procs.in_netns(None)(proc.pid)
        assert procs.cmdline(proc.pid) == "sleep 60", procs.cmdline(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_the_samplers_stop_leaves_a_reused_pid_alone(tmp_path):
    proc = sleeper()
    pidfile = tmp_path / "cpu.jsonl.pid"
    try:
        # the sampler that wrote this ended long ago; its PID now belongs to the sleeper
        pidfile.write_text(json.dumps({"pid": proc.pid, "start": procs.start_time(proc.pid) - 100}))
        assert cpu_sampler._stop(str(pidfile)) == (True, False)
        assert not pidfile.exists() and proc.poll() is None
        # an older version's pidfile (a bare PID): no start time to check, never signalled
        pidfile.write_text(str(proc.pid))
        assert cpu_sampler.read_pidfile(str(pidfile)) == {"pid": proc.pid, "start": None}
        assert cpu_sampler._stop(str(pidfile)) == (True, False)
        assert proc.poll() is None
        # the sampler's own record: signalled
        pidfile.write_text(json.dumps(procs.identity(proc.pid)))
        assert cpu_sampler._stop(str(pidfile)) == (True, True)
        assert proc.wait(timeout=5) == -signal.SIGTERM
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert cpu_sampler._stop(str(pidfile)) == (False, False)
