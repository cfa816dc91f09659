# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test_plan filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: test_plan
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: The benchmark's test matrix for a server address
description:
  - Returns the tests the client VM runs against O(_input) (the server's data address), in order,
    each with its C(argv), tool, raw output extension, duration and a timeout (duration, the tool's
    fixed overhead and O(margin)).
  - iperf3 TCP single, 8 streams (O(streams)), UDP maximum (C(-b 0)), TCP reverse; ping; sockperf
    ping-pong TCP with C(--full-rtt); UDP packets per second at each of O(pps_sizes); netperf TCP_RR,
    TCP_CRR and UDP_RR with latency percentiles (C(-j)).
  - Also returns, under C(server_commands) when O(servers=true), the traffic servers to start on the
    server VM, bound to that address only.
positional: _input
options:
  _input:
    description: Server data address.
    type: str
    required: true
  duration:
    description: Seconds per timed test.
    type: int
    required: true
  ping_count:
    description: Echo requests.
    type: int
    required: true
  ping_interval:
    description: Seconds between echo requests.
    type: float
    default: 0.01
  streams:
    description: Parallel streams of the multi-stream test.
    type: int
    default: 8
  pps_sizes:
    description: UDP payload sizes for the packets-per-second tests.
    type: list
    elements: int
    default: [64, 128, 256, 512]
  selected:
    description: Only these test names (all when empty).
    type: list
    elements: str
    default: []
  margin:
    description: Seconds a test may run beyond its duration and overhead before it is stopped.
    type: int
    default: 60
  servers:
    description: Return C({tests, server_commands}) instead of the list of tests.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: What the client will run
  ansible.builtin.debug:
    msg: "{{ '198.18.0.1' | volt.netbench.test_plan(duration=5, ping_count=200) | map(attribute='command') }}"
"""

RETURN = r"""
_value:
  description: List of tests (name, tool, argv, command, ext, duration_s, timeout, params).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import plan_tests, server_commands


def test_plan(server, duration, ping_count, ping_interval=0.01, streams=8, pps_sizes=(64, 128, 256, 512),
              selected=(), margin=60, servers=False):
    """Filter entry point: argument check, then the tested planner."""
    if not isinstance(server, str) or not server:
        raise AnsibleFilterError("test_plan: the server address must be a non-empty string")
    try:
        tests = plan_tests(server, duration=int(duration), ping_count=int(ping_count),
                           ping_interval=float(ping_interval), streams=int(streams),
                           pps_sizes=[int(s) for s in pps_sizes], selected=list(selected or []), margin=int(margin))
    except (TypeError, ValueError) as err:
        raise AnsibleFilterError(f"test_plan: {err}") from err
    if servers:
        return {"tests": tests, "server_commands": server_commands(server)}
    return tests


class FilterModule:
    """volt.netbench.test_plan"""

    def filters(self):
        return {"test_plan": test_plan}
