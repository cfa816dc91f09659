"""The hypervisor lock's format and staleness, shared by lab_lock and the watchdog's reaper."""

from __future__ import annotations

import json
import os
import socket
import time

from ansible_collections.volt.netbench.plugins.module_utils.lab import lock_held_by, lock_stale, read_lock


def test_lock_file_states(tmp_path):
    path = tmp_path / "benchmark.lock"
    assert read_lock(str(path)) is None
    path.write_text("{not json")
    assert read_lock(str(path)) == {"corrupt": True}
    assert lock_stale(read_lock(str(path)), 3600)
    holder = {"owner_pid": os.getpid(), "owner_host": socket.gethostname(), "taken": time.time()}
    path.write_text(json.dumps(holder))
    assert lock_held_by(str(path), os.getpid())
    assert not lock_held_by(str(path), os.getpid() + 1)


def test_staleness():
    here = socket.gethostname()
    # this process is pytest, not ansible-playbook: a lock it "holds" on this host is stale
    assert lock_stale({"owner_pid": os.getpid(), "owner_host": here}, 3600)
    assert lock_stale({"owner_pid": 2**22 + 7, "owner_host": here}, 3600)  # no such process
    # another host's lock is stale only after max_age
    assert not lock_stale({"owner_pid": 1, "owner_host": "elsewhere", "taken": time.time()}, 3600)
    assert lock_stale({"owner_pid": 1, "owner_host": "elsewhere", "taken": time.time() - 7200}, 3600)


def test_a_remote_runs_lock_goes_stale_with_its_controllers_heartbeat(tmp_path):
    """A run from another host records its heartbeat: the lock is stale once the file has been silent for
    stale_after seconds, or is missing (a run interrupted before its guard started) - not after max_age (6 h)."""
    beat = tmp_path / "vnb-lab.heartbeat"
    now = time.time()
    holder = {"owner_pid": 1, "owner_host": "controller", "taken": now - 300, "heartbeat": str(beat),
              "stale_after": 120}
    assert lock_stale(holder, 21600, now=now), "no heartbeat file: the guard never started"
    beat.write_text("{}")
    assert not lock_stale(holder, 21600, now=now), "refreshed just now"
    os.utime(beat, (now - 121, now - 121))
    assert lock_stale(holder, 21600, now=now)
    # a lock just taken is not stale before its guard had the time to start
    assert not lock_stale(dict(holder, taken=now - 60), 21600, now=now)
