#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lab_guard
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: The hypervisor's guard of a lab whose controller may disappear
description:
  - A remote hypervisor's lab outlives an interrupted ansible-playbook - the controller's watchdog
    (M(volt.netbench.watchdog)) can record the run but cannot reach the lab when the controller itself is
    gone. C(started) writes a heartbeat file naming this run and leaves a detached guard process on the
    hypervisor. The run's watchdog touches the file over SSH every 5 s; when nothing has touched it for
    O(stale_after) seconds, the guard tears the lab down - the guests recorded in C(state_dir), the native
    reference's and the lab's namespaces with every process in them, the run-time directories and the CPU
    sampler's files - releases the lab lock if it is still the run's, and writes what it did to
    O(recovered).
  - C(started) also returns that record of an earlier run (and removes it), so the next run reports what
    was recovered.
  - C(stopped) removes the heartbeat; the guard exits within a second. A newer C(started) for the same
    heartbeat file replaces the run's token and the older guard exits too.
options:
  state:
    description: Start the guard, or stop it (the run ended normally).
    type: str
    default: started
    choices: [started, stopped]
  heartbeat:
    description: The heartbeat file (C(heartbeat) of the volt.netbench.lab_paths filter).
    type: path
    required: true
  recovered:
    description: Where the guard writes what it recovered (C(recovered) of the volt.netbench.lab_paths filter).
    type: path
  stale_after:
    description: Seconds without a heartbeat after which the controller counts as gone.
    type: int
    default: 120
  teardown:
    description:
      - What the lab is - C(lock), C(netns), C(manage_netns), C(extra_netns), C(state_dir), C(chardev_dir),
        C(job_dir), C(cpu_samples) (as M(volt.netbench.watchdog) takes them).
    type: dict
    default: {}
  description:
    description: The run, in words (the next run's report quotes it).
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: Starts and stops nothing in check mode.
seealso:
  - module: volt.netbench.watchdog
"""

EXAMPLES = r"""
- name: Guard the lab on the hypervisor
  volt.netbench.lab_guard:
    heartbeat: /run/volt-netbench/vnb-lab.heartbeat
    recovered: /run/volt-netbench/vnb-lab.recovered.json
    stale_after: 120
    teardown:
      lock: /run/volt-netbench/benchmark.lock
      netns: vnb-lab
      state_dir: /run/volt-netbench/guests/vnb-lab
  register: guard

- name: Stop guarding it (the run tore its lab down)
  volt.netbench.lab_guard:
    heartbeat: /run/volt-netbench/vnb-lab.heartbeat
    state: stopped
"""

RETURN = r"""
recovered:
  description: What the guard of an earlier run recovered (empty when nothing) - C(recovered_at), C(silent_s),
    C(stale_after_s), C(run), C(started), C(removed).
  returned: when started
  type: dict
recovered_text:
  description: The same in one sentence ('' when nothing).
  returned: when started
  type: str
pid:
  description: The guard's PID.
  returned: when started
  type: int
"""

import datetime as dt
import json
import os
import sys
import uuid

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.volt.netbench.plugins.module_utils import qemu  # noqa: F401  pylint: disable=unused-import
from ansible_collections.volt.netbench.plugins.module_utils import safefs
from ansible_collections.volt.netbench.plugins.module_utils.lab import guard, read_lock


def recovered_text(record: dict) -> str:
    """An earlier run's recovery, in one sentence of the next run's report."""
    if not record:
        return ""
    removed = ", ".join(record.get("removed") or []) or "nothing was left"
    return (f"the hypervisor's guard tore down an earlier run's lab at {record.get('recovered_at')} after "
            f"{record.get('silent_s')} s without a heartbeat from its controller (limit {record.get('stale_after_s')} s; "
            f"run: {record.get('run') or 'not described'}): {removed}")


def _take_recovered(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return {}
    os.unlink(path)
    return record if isinstance(record, dict) else {}


def _detach(heartbeat: str, token: str) -> int:
    """Leave the guard running on its own (double fork, new session, no inherited descriptors); the
    module's process returns the guard's PID. qemu is imported above: the guard needs nothing from the
    module's payload once it runs."""
    read_end, write_end = os.pipe()
    if os.fork():
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            return int(pipe.read() or 0)
    os.close(read_end)
    os.setsid()
    if os.fork():
        os._exit(0)  # pylint: disable=protected-access
    os.write(write_end, str(os.getpid()).encode())
    os.close(write_end)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    try:
        guard(heartbeat, token)
    finally:
        os._exit(0)  # pylint: disable=protected-access


def main():
    module = AnsibleModule(
        argument_spec={
            "state": {"type": "str", "default": "started", "choices": ["started", "stopped"]},
            "heartbeat": {"type": "path", "required": True},
            "recovered": {"type": "path"},
            "stale_after": {"type": "int", "default": 120},
            "teardown": {"type": "dict", "default": {}},
            "description": {"type": "str", "default": ""},
        },
        required_if=[("state", "started", ("recovered",))],
        supports_check_mode=True,
    )
    p = module.params
    if p["state"] == "stopped":
        existed = os.path.exists(p["heartbeat"])
        if existed and not module.check_mode:
            os.unlink(p["heartbeat"])
        module.exit_json(changed=existed)
    if p["stale_after"] < 10:
        module.fail_json(msg=f"stale_after must be at least 10 seconds (got {p['stale_after']}): the run's watchdog "
                             "refreshes the heartbeat every 5 s")
    if module.check_mode:
        module.exit_json(changed=True, recovered={}, recovered_text="", pid=0)
    recovered = _take_recovered(p["recovered"])
    token = uuid.uuid4().hex
    lock = (p["teardown"] or {}).get("lock")
    data = {"token": token, "stale_after": p["stale_after"], "teardown": p["teardown"], "recovered": p["recovered"],
            "description": p["description"], "lock_holder": read_lock(lock) if lock else None,
            "started": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
    safefs.write_file(p["heartbeat"], json.dumps(data))
    sys.stdout.flush()
    pid = _detach(p["heartbeat"], token)
    module.exit_json(changed=True, recovered=recovered, recovered_text=recovered_text(recovered), pid=pid)


if __name__ == "__main__":
    main()
