#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: lab_lock
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Take or release the per-hypervisor benchmark lock
description:
  - Only one benchmark may use a hypervisor at a time. C(present) creates the lock file exclusively and
    records who holds it (controller host, ansible-playbook PID, run description); when another run
    holds it, fails with a message naming that run. A stale lock, whose holder process is gone (same
    host) or whose expiry passed, is taken over and reported - under an exclusive flock of the lock's
    directory, so that of two runs recovering the same stale lock only one goes on.
  - C(absent) releases the lock, only when this run holds it.
  - The action plugin of the same name fills in the controller's ansible-playbook PID and host name.
options:
  path:
    description: Lock file on the hypervisor.
    type: path
    default: /run/volt-netbench/benchmark.lock
  state:
    description: Take (C(present)) or release (C(absent)) the lock.
    type: str
    default: present
    choices: [present, absent]
  description:
    description: What holds the lock (shown to a second run that is refused).
    type: str
    default: ""
  max_age:
    description: Seconds after which a lock held from another host counts as stale.
    type: int
    default: 21600
  owner_pid:
    description: PID of the controller's ansible-playbook (set by the action plugin).
    type: int
  owner_start:
    description:
      - Start time of that process (clock ticks after boot, set by the action plugin). On the same host the lock
        is stale when the PID is gone or now names another process (another start time).
    type: int
  owner_host:
    description: Host name of the controller (set by the action plugin).
    type: str
  heartbeat:
    description:
      - For a run from a remote controller, the heartbeat file its watchdog touches every few seconds (the guard's,
        M(volt.netbench.lab_guard)). The lock then counts as stale once that file is missing or untouched for
        O(stale_after) seconds - a run interrupted even before its guard started holds it minutes, not O(max_age).
    type: path
  stale_after:
    description: Seconds of silence on O(heartbeat) after which the lock counts as stale.
    type: int
    default: 600
attributes:
  check_mode:
    support: full
    description: Reports whether the lock would be taken or released.
  diff_mode:
    support: none
    description: Not supported.
"""

EXAMPLES = r"""
- name: Take the hypervisor lock
  volt.netbench.lab_lock:
    description: "benchmark virtio, results/virtio/20261126T181500Z"

- name: Release it
  volt.netbench.lab_lock:
    state: absent
"""

RETURN = r"""
holder:
  description: The lock's content after the task.
  returned: always
  type: dict
recovered:
  description: The stale lock that was taken over, if any.
  returned: when a stale lock was recovered
  type: dict
"""

import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.volt.netbench.plugins.module_utils.lab import lock_stale as stale, read_lock as read, take_lock


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "default": "/run/volt-netbench/benchmark.lock"},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "description": {"type": "str", "default": ""},
            "max_age": {"type": "int", "default": 21600},
            "owner_pid": {"type": "int"},
            "owner_start": {"type": "int"},
            "owner_host": {"type": "str"},
            "heartbeat": {"type": "path"},
            "stale_after": {"type": "int", "default": 600},
        },
        supports_check_mode=True,
    )
    p = module.params
    if p["owner_pid"] is None or not p["owner_host"]:
        module.fail_json(msg="owner_pid and owner_host are required (the lab_lock action plugin sets them)")
    me = {"owner_pid": p["owner_pid"], "owner_host": p["owner_host"]}
    holder = read(p["path"])
    mine = holder is not None and all(holder.get(k) == v for k, v in me.items())
    if p["state"] == "absent":
        if mine and not module.check_mode:
            os.unlink(p["path"])
        module.exit_json(changed=mine, holder={} if mine else (holder or {}))
    if mine:
        module.exit_json(changed=False, holder=holder)

    def busy(holder):
        module.fail_json(
            msg=f"another benchmark holds this hypervisor: {holder.get('description') or 'no description'} "
            f"(ansible-playbook PID {holder.get('owner_pid')} on {holder.get('owner_host')}, since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(holder.get('taken', 0)))}; lock {p['path']}). "
            "Wait for it to finish, or remove the lock if that run is gone.",
            holder=holder,
        )

    new = {**me, "description": p["description"], "taken": time.time(), "pid_of_module_host": os.getpid()}
    if p["owner_start"] is not None:
        # the controller's start time: a PID reused by another process does not keep the lock held (lock_stale)
        new["owner_start"] = p["owner_start"]
    if p["heartbeat"]:
        # a remote run: stale once its controller stops refreshing this file (lab.lock_stale), not after max_age
        new.update(heartbeat=p["heartbeat"], stale_after=p["stale_after"])
    if module.check_mode:
        if holder is not None and not stale(holder, p["max_age"]):
            busy(holder)
        module.exit_json(changed=True, holder=new, **({"recovered": holder} if holder is not None else {}))
    # read, judged, replaced and created under one flock: two runs taking over the same stale lock cannot both win
    outcome, holder = take_lock(p["path"], new, p["max_age"], lambda h: all(h.get(k) == v for k, v in me.items()))
    if outcome == "busy":
        busy(holder)
    if outcome == "mine":
        module.exit_json(changed=False, holder=holder)
    module.exit_json(changed=True, holder=new, **({"recovered": holder} if outcome == "recovered" else {}))


if __name__ == "__main__":
    main()
