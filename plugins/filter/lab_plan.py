# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab_plan filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: lab_plan
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: One benchmark run for several backends in one lab
description:
  - Gives every backend its own subnet (the server and client addresses moved by the backend's
    position in virtio, vhost-net, macvtap times the subnet size), its tests (as P(volt.netbench.test_plan#filter)
    against its server address) and the matrix in the order it runs, each test for every backend back
    to back, so the host's drift hits every backend alike; with O(repeat), every repetition of a test
    on every backend before the next test.
  - Returns C(addresses) (per backend server, client, their CIDR forms and the subnet), C(by_backend)
    (each backend's tests, one entry per repetition with C(repetition), C(job) and C(raw)),
    C(planned_by_backend) (name, tool and repetition of each), C(test_names), C(tests) (the matrix; each
    entry also has C(backend), C(position), C(total)), C(repeat), C(paths) (the backends and C(native) when
    planned), C(server_commands) (the server VM's traffic servers), C(servers_by_backend),
    C(native_unavailable) and C(seconds) (the tools' planned time).
positional: _input, server, client
options:
  _input:
    description: Backends, in the order they alternate.
    type: list
    elements: str
    required: true
  server:
    description: The server's data address for the first subnet (virtio's).
    type: str
    required: true
  client:
    description: The client's data address in that subnet.
    type: str
    required: true
  prefix:
    description: Prefix length of each backend's subnet.
    type: int
    default: 24
  duration:
    description: Seconds per timed test.
    type: int
    default: 30
  ping_count:
    description: Echo requests of the ping test.
    type: int
    default: 1000
  ping_interval:
    description: Seconds between echo requests.
    type: float
    default: 0.01
  streams:
    description: Parallel TCP streams of the multi-stream test.
    type: int
    default: 8
  pps_sizes:
    description: UDP payload sizes of the packets-per-second tests.
    type: list
    elements: int
    default: [64, 128, 256, 512]
  selected:
    description: Run only these tests (all when empty).
    type: list
    elements: str
    default: []
  margin:
    description: Seconds a test may run beyond its duration and fixed overhead.
    type: int
    default: 60
  repeat:
    description: Repetitions of every test on every backend (1-50).
    type: int
    default: 1
  native:
    description:
      - The native reference, planned after the backends when set - C(server_netns) and C(client_netns)
        (the two namespaces on the lab's wiring), C(job_dir) (its job files on the hypervisor) and
        C(missing) (tools the hypervisor lacks; their tests are left out and named in C(native_unavailable)).
      - Its entries run inside the client namespace on the hypervisor (C(host)), its servers inside the
        server namespace. Empty plans no reference.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: What the client will run, in order
  ansible.builtin.debug:
    msg: "{{ (['virtio', 'macvtap'] | volt.netbench.lab_plan('198.18.0.1', '198.18.0.2', duration=5)).tests
             | map(attribute='job') }}"
"""

RETURN = r"""
_value:
  description: addresses, paths, by_backend, planned_by_backend, test_names, tests, repeat, server_commands,
    servers_by_backend, native_unavailable, seconds.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import plan_matrix


def lab_plan(backends, server, client, prefix=24, duration=30, ping_count=1000, ping_interval=0.01, streams=8,
             pps_sizes=(64, 128, 256, 512), selected=(), margin=60, repeat=1, native=None):
    """The whole run for several backends (volt.netbench.lab_plan, documented in lab_plan.py)."""
    if isinstance(backends, str) or not isinstance(backends, (list, tuple)):
        raise AnsibleFilterError(f"lab_plan: backends must be a list, got {backends!r}")
    try:
        return plan_matrix(list(backends), str(server), str(client), int(prefix), duration=int(duration),
                           ping_count=int(ping_count), ping_interval=float(ping_interval), streams=int(streams),
                           pps_sizes=[int(s) for s in pps_sizes], selected=list(selected or []), margin=int(margin),
                           repeat=int(repeat), native=dict(native) if native else None)
    except (TypeError, ValueError) as err:
        raise AnsibleFilterError(f"lab_plan: {err}") from err


class FilterModule:
    """volt.netbench.lab_plan"""

    def filters(self):
        return {"lab_plan": lab_plan}
