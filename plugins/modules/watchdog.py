#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.watchdog runs on the controller (plugins/action/watchdog.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: watchdog
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Finish a benchmark whose ansible-playbook was interrupted
description:
  - ansible-playbook does not run C(always) sections when it is interrupted (Ctrl-C, SIGTERM). This
    starts a small detached process on the controller that watches the ansible-playbook process.
  - When that process ends while it still holds the lab lock, the watchdog stops the lab's QEMU guests,
    closes the SSH control masters, deletes the lab namespace and its state (for a local hypervisor),
    records the interrupted run from its progress file (tests done so far kept, the rest marked
    skipped), rewrites the report and releases the lock. A run that releases the lock itself ends the
    watchdog without any action.
  - C(updated) changes only the options the task names in the running watchdog's configuration (for
    example the current run directory). C(finished) removes the configuration - the run ended normally.
  - For a remote hypervisor (O(local=false)) the lock is on the hypervisor, so the run's end is C(finished);
    until then the watchdog refreshes the heartbeat of the hypervisor's guard (M(volt.netbench.lab_guard))
    over SSH every 5 s (O(heartbeat)). When ansible-playbook dies first, it records the run and stops
    refreshing - the guard tears the remote lab down once the heartbeat is stale.
options:
  state:
    description: Start the watchdog, update its configuration, or end it (the run ended normally).
    type: str
    default: started
    choices: [started, updated, finished]
  config_path:
    description: The watchdog's configuration file (its log is written beside it).
    type: path
    required: true
  lock:
    description: The lab lock file (volt.netbench.lab_lock) the run holds (required to start).
    type: path
  local:
    description: Whether the hypervisor is this controller (teardown is only possible then).
    type: bool
    default: true
  netns:
    description: Lab namespace to delete.
    type: str
    default: ""
  manage_netns:
    description: Whether the run owns the namespace.
    type: bool
    default: true
  extra_netns:
    description: More namespaces of the run to delete with every process in them (the native reference's).
    type: list
    elements: str
    default: []
  job_dir:
    description: A directory of the run's job files on the hypervisor to remove (the native reference's).
    type: path
  state_dir:
    description: Guests' state directory (QEMU records).
    type: path
  chardev_dir:
    description: macvtap character device directory.
    type: path
  controller_dir:
    description: Controller SSH state of the lab (control sockets).
    type: path
  cpu_samples:
    description: The CPU sampler's samples file (its C(path) as M(volt.netbench.cpu_sampler) returns it), removed with its pidfile.
    type: path
  results_dir:
    description: Results directory whose report is rewritten.
    type: path
  display_dir:
    description: How the results directory is named in the report.
    type: str
  baseline:
    description: The backend the rewritten report compares with (the run's own O(baseline) of M(volt.netbench.report)).
    type: str
    choices: [virtio, vhost-net, macvtap]
    default: virtio
  run_dir:
    description: Current run directory (holds C(.progress.json)).
    type: path
  run_dirs:
    description: The run directories of an interrupted run (one per backend of a shared lab), each recorded from its progress file.
    type: list
    elements: path
  heartbeat:
    description:
      - A remote hypervisor's heartbeat - C(ssh) (the argv that reaches the hypervisor, as the guests'
        ProxyCommand does) and C(path) (the guard's heartbeat file), touched every 5 s while the run lives.
    type: dict
  store:
    description:
      - A results store (M(volt.netbench.record_run)'s O(volt.netbench.record_run#module:store)) an interrupted run
        is recorded into as well. Kept in the watchdog's private configuration (0600, a directory of the running
        user's own) and never returned.
    type: str
    default: ""
  store_host:
    description: The host the interrupted run is kept under in O(store) (default C(localhost)).
    type: str
    default: ""
attributes:
  check_mode:
    support: none
    description: Does nothing in check mode.
"""

EXAMPLES = r"""
- name: Finish this run even if ansible-playbook is interrupted
  volt.netbench.watchdog:
    config_path: /run/volt-netbench/watchdog.json
    lock: /run/volt-netbench/benchmark.lock
    netns: vnb-lab
    results_dir: results
"""

RETURN = r"""
pid:
  description: PID of the watchdog process.
  returned: when started
  type: int
config:
  description: The configuration written.
  returned: when started or updated
  type: dict
"""
