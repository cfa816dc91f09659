#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the volt.netbench.guest_check action plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
module: guest_check
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Check a benchmark guest and start its traffic servers in one round trip
description:
  - Over the delegated guest's connection, one shell command (no Python started on the guest) reports which of
    O(tools) are missing, the output of C(iperf3 --version) and C(uname -r), then starts each of O(servers) in order.
  - Fails, with what to do, when a tool is missing, when the guest's iperf3 is older than 3.11 (it reports no
    receiver-side UDP rate), when a server does not start (the rest are not started), or when the guest cannot be
    reached (a failure, not an unreachable host, so the lab's teardown still runs).
  - Runs the command on the guest; the decisions are made on the controller (C(plugins/plugin_utils/measure/run_control.py)).
options:
  tools:
    description: Commands the guest must have on its PATH.
    type: list
    elements: str
    required: true
  servers:
    description: Traffic servers to start after the checks passed, each an argument list (they daemonize).
    type: list
    elements: list
    default: []
  name:
    description: The guest's name in messages (default the delegated host's name).
    type: str
    default: ""
  host:
    description: The command runs on the hypervisor itself (the native reference's servers), where become applies.
    type: bool
    default: false
  job_dir:
    description:
      - Also make the guest's job directory, C(mktemp -d /var/tmp/volt-netbench-jobs.XXXXXXXXXX) (mode 0700, a name
        no other user of the guest can create first), and return it as RV(job_dir) for M(volt.netbench.guest_test).
    type: bool
    default: false
notes:
  - Check mode does not contact the guest.
"""

EXAMPLES = r"""
- name: Check the server VM and start its traffic servers
  volt.netbench.guest_check:
    tools: [iperf3, sockperf, netperf, netserver, ping]
    servers: [[iperf3, -s, -B, 198.18.0.1, -D], [netserver, -L, 198.18.0.1]]
  delegate_to: server
"""

RETURN = r"""
kernel:
  description: The guest's kernel release (C(uname -r)).
  returned: success
  type: str
  sample: 6.1.0-41-amd64
iperf3:
  description: The guest's C(iperf3 --version) output.
  returned: success
  type: str
missing:
  description: The tools the guest lacks (empty on success).
  returned: always
  type: list
  elements: str
servers:
  description: The servers started, as command lines.
  returned: success
  type: list
  elements: str
job_dir:
  description: The job directory made (O(job_dir=true)); empty otherwise.
  returned: success
  type: str
  sample: /var/tmp/volt-netbench-jobs.k3J9aQ2xZt
"""
