#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cpu_sampler
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Sample the hypervisor's CPU time per guest thread role while a benchmark runs
description:
  - C(started) starts a detached sampler on the hypervisor that writes one JSON line every O(interval)
    seconds to O(path) - wall time, each guest QEMU process's cumulative CPU ticks split into vCPU threads,
    QEMU's other threads (main loop, I/O) and its C(vhost-<pid>) workers, and the host's C(/proc/stat) ticks
    (including softirq) - until it is stopped, its guests are all gone or O(max_seconds) pass.
  - C(stopped) stops it and returns how many samples it wrote.
  - The samples turn into CPU seconds per test window with the collection's C(module_utils/hostcpu.py).
options:
  state:
    description: Start or stop the sampler.
    type: str
    choices: [started, stopped]
    default: started
  path:
    description: JSON-lines file the samples go to (its C(.pid) beside it names the sampler).
    type: path
    required: true
  state_dir:
    description: The guests' state directory (as M(volt.netbench.qemu_vm) uses it), where their PIDs are recorded.
    type: path
  guests:
    description: Names of the guests to sample.
    type: list
    elements: str
    default: []
  interval:
    description: Seconds between samples.
    type: float
    default: 0.2
  max_seconds:
    description: The sampler ends by itself after this many seconds.
    type: int
    default: 86400
"""

EXAMPLES = r"""
- name: Sample the guests' CPU while the matrix runs
  volt.netbench.cpu_sampler:
    path: /run/volt-netbench/vnb-lab/cpu.jsonl
    state_dir: /run/volt-netbench/guests/vnb-lab
    guests: [server, client]
"""

RETURN = r"""
pid:
  description: PID of the sampler (C(started)).
  returned: state is started
  type: int
samples:
  description: Samples written (C(stopped)).
  returned: state is stopped
  type: int
path:
  description: The samples file.
  returned: always
  type: str
pidfile:
  description:
    - The sampler's pidfile beside it (the watchdog removes both), JSON with its PID and start time.
    - A stop signals that PID only while it still has that start time (a PID the kernel gave to another
      process since is left alone).
  returned: always
  type: str
signalled:
  description: Whether a running sampler was signalled (C(stopped)); false for a pidfile whose PID was reused.
  returned: state is stopped
  type: bool
"""

import json
import os
import signal
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.volt.netbench.plugins.module_utils.hostcpu import sample
from ansible_collections.volt.netbench.plugins.module_utils.lab import sampler_pidfile
from ansible_collections.volt.netbench.plugins.module_utils.procs import identity, is_same, signal_if
from ansible_collections.volt.netbench.plugins.module_utils.qemu import guest_paths, recorded_pid


def _sampler(path, pids, interval, max_seconds):
    """The detached sampler's loop (runs in the grandchild)."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    deadline = time.monotonic() + max_seconds
    with open(path, "a", encoding="utf-8") as handle:
        while True:
            record = sample(pids)
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            if stop or time.monotonic() > deadline or all(g is None for g in record["guests"].values()):
                return
            time.sleep(interval)


def _start(module, path, pids):
    pidfile = sampler_pidfile(path)
    if os.path.exists(pidfile):
        _stop(pidfile)
    open(path, "w", encoding="utf-8").close()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # child: detach, fork the sampler, report its pid, leave
        os.close(read)
        os.setsid()
        grandchild = os.fork()
        if grandchild:
            os.write(write, str(grandchild).encode())
            os._exit(0)
        os.close(write)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        try:
            _sampler(path, pids, module.params["interval"], module.params["max_seconds"])
        finally:
            os._exit(0)
    os.close(write)
    pid = int(os.read(read, 32).decode() or 0)
    os.close(read)
    os.waitpid(child, 0)  # the intermediate child only (the module may have other children)
    # the sampler's start time beside its PID: a later stop signals it only while that PID is still this sampler
    ident = identity(pid) or {"pid": pid, "start": None}
    with open(pidfile, "w", encoding="utf-8") as handle:
        json.dump(ident, handle)
    return pid


def _alive(pid, ident):
    """Still this sampler (not a reused PID), running, not a zombie waiting for an init that reaps late."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            state = handle.read().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state != "Z" and is_same(ident)(pid)


def read_pidfile(pidfile):
    """The sampler's {pid, start} from its pidfile; None when there is none. A pidfile without a start time
    (an older version's, or unreadable) gives start None: its PID is never signalled."""
    try:
        with open(pidfile, encoding="utf-8") as handle:
            text = handle.read().strip()
    except OSError:
        return None
    try:
        ident = json.loads(text)
        return {"pid": int(ident["pid"]), "start": ident.get("start")}
    except (ValueError, TypeError, KeyError):
        return {"pid": int(text) if text.isdigit() else None, "start": None}


def _stop(pidfile):
    """Stop the sampler named by PIDFILE (only when its PID still has the start time recorded) and remove the
    pidfile. Returns whether there was a pidfile, and whether a process was signalled."""
    ident = read_pidfile(pidfile)
    if ident is None:
        return False, False
    signalled = bool(ident["pid"]) and signal_if(ident["pid"], signal.SIGTERM, is_same(ident))
    for _attempt in range(50):
        if not signalled or not _alive(ident["pid"], ident):
            break
        time.sleep(0.1)
    os.unlink(pidfile)
    return True, signalled


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "choices": ["started", "stopped"], "default": "started"},
            "path": {"type": "path", "required": True},
            "state_dir": {"type": "path"},
            "guests": {"type": "list", "elements": "str", "default": []},
            "interval": {"type": "float", "default": 0.2},
            "max_seconds": {"type": "int", "default": 86400},
        },
        required_if=[("state", "started", ("state_dir", "guests"))],
        supports_check_mode=True,
    )
    path = module.params["path"]
    if module.params["state"] == "stopped":
        if module.check_mode:
            module.exit_json(changed=os.path.exists(sampler_pidfile(path)), path=path, pidfile=sampler_pidfile(path))
        changed, signalled = _stop(sampler_pidfile(path))
        try:
            with open(path, encoding="utf-8") as handle:
                count = sum(1 for line in handle if line.strip())
        except OSError:
            count = 0
        module.exit_json(changed=changed, samples=count, path=path, pidfile=sampler_pidfile(path), signalled=signalled)
    if module.params["interval"] <= 0:
        module.fail_json(msg=f"interval must be above 0 seconds, got {module.params['interval']}")
    pids = {}
    for name in module.params["guests"]:
        pid = recorded_pid(guest_paths(module.params["state_dir"], name))
        if pid is None:
            module.fail_json(msg=f"guest {name} has no recorded PID under {module.params['state_dir']}: "
                                 "start the sampler after volt.netbench.qemu_guest booted the guests")
        pids[name] = pid
    if module.check_mode:
        module.exit_json(changed=True, path=path, pidfile=sampler_pidfile(path))
    module.exit_json(changed=True, pid=_start(module, path, pids), path=path, pidfile=sampler_pidfile(path))


if __name__ == "__main__":
    main()
