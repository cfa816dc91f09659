#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.run_plan runs on the controller (plugins/action/run_plan.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: run_plan
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: The benchmark run as one model, decided in Python
description:
  - With O(settings) (the benchmark role's variables without the C(benchmark_) prefix), checks every
    setting - one message per problem, before anything is touched, the controller's results directory
    included (a probe directory made and removed in it, or in its nearest existing parent) - and returns
    the run as asked for - C(settings) (the profile's duration, ping_count and repeat filled in),
    C(requested) (the backends), C(run_id), C(results_dir) and C(display_dir) (a fleet's host's own), C(paths) (the lab's files and directories, as
    the volt.netbench.lab_paths filter names them), C(guest_tools), C(config) and C(configs) (per backend,
    with its traffic servers' commands) with C(extra_vars) (what reproduces the run), C(pair) (how this
    hypervisor takes part - C(topology), C(guests) it boots, whether it C(records) the run) and C(wiring)
    (the bridge's C(uplink) and macvtap's C(macvtap_lower)).
  - With O(request) and O(peers) (every hypervisor's request by inventory name, in the play's order), decides
    a C(cross_host) pair before anything is touched and returns the request with its C(pair) - the first
    hypervisor boots the server VM, the second the client VM, runs the matrix and records the run - and
    C(wiring) - in lab namespaces of one machine a simulated cable (C(pair.cables), veth pairs between the two
    namespaces, laid by the server's side), on real hosts the NICs named by C(uplink) and C(macvtap_lower).
    Both hypervisors must agree on the run's settings. A C(same_host) request comes back unchanged.
  - With O(request) (the answer above) and O(capabilities) (the hypervisor role's C(hypervisor_capabilities)),
    returns the lab - C(run_backends), C(unsupported) (backend and why not), C(plan) (the matrix of
    volt.netbench.lab_plan with the native reference), C(runs) (the backends that run, then C(native)),
    C(guests) (name, inventory C(host), SSH port, data address per backend), C(guest_hosts), C(native_endpoints), C(macvtap_vhost),
    C(environment), C(headers) (each run's progress header for M(volt.netbench.new_run)) and C(started); also
    C(tests) (the matrix, where the client is booted), C(guest_checks), C(native_servers) (where the server
    is) and C(not_run) (the backends this hypervisor records as not run). For a pair, O(pair_capabilities)
    (both hypervisors' C(hypervisor_capabilities), in the pair's order) decide together - a backend runs when
    both can run it.
  - Changes nothing; runs on the controller.
options:
  settings:
    description:
      - backend, profile, results_dir, display_dir, duration, ping_count, repeat, ping_interval, streams,
        pps_sizes, pps_mode, pps_loss_max, tests, baseline, native, netns, mtu, server, client, prefix, vcpus, memory_mb, image,
        test_margin, fleet, topology, uplink, macvtap_lower, and hypervisor, connection, address (the inventory
        name, ansible_connection and ansible_host). Missing keys take the benchmark role's defaults.
      - With C(fleet), the hypervisor's runs go under C(results_dir)/C(hypervisor) and its guests are named
        C(hypervisor)-server and -client in the inventory (C(guest_hosts)).
    type: dict
  request:
    description: This module's answer to O(settings).
    type: dict
  capabilities:
    description: The hypervisor's decisions (C(hypervisor_capabilities) of the volt.netbench.hypervisor role).
    type: dict
  peers:
    description: Every hypervisor's answer to O(settings), by inventory name in the play's order (empty for a
      host that failed its checks); with O(request), decides a cross-host pair.
    type: dict
  pair_capabilities:
    description: A cross-host pair's C(hypervisor_capabilities), both hypervisors', in the pair's order.
    type: list
    elements: dict
    default: []
  store:
    description:
      - With O(settings) - a results store (M(volt.netbench.record_run)'s O(volt.netbench.record_run#module:store))
        whose runs of the hypervisor count, with the results tree's, when the gate's baseline is checked.
    type: str
    default: ""
  image:
    description: The guest image (C(guest_image_info) of the volt.netbench.guest_image role), for its kernel.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
    description: Changes nothing in any mode.
seealso:
  - module: volt.netbench.new_run
"""

EXAMPLES = r"""
- name: Check the settings and plan the run
  volt.netbench.run_plan:
    settings:
      backend: virtio
      profile: quick
      results_dir: /srv/results
  register: run

- name: Decide the lab from what the hypervisor can run
  volt.netbench.run_plan:
    request: "{{ run }}"
    capabilities: "{{ hypervisor_capabilities }}"
  register: lab

- name: Decide a cross-host pair (topology cross_host, two hypervisors in the play)
  volt.netbench.run_plan:
    request: "{{ run }}"
    peers: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars) | map(attribute='run', default={}))) }}"
  register: pair
"""

RETURN = r"""
requested:
  description: The backends asked for.
  returned: with settings
  type: list
paths:
  description: The lab's files and directories.
  returned: with settings
  type: dict
runs:
  description: The backends that run, then C(native) when the reference runs.
  returned: with request
  type: list
run_backends:
  description: The backends this hypervisor runs.
  returned: with request
  type: list
pair:
  description: How this hypervisor takes part in the run (topology, side, guests, records, cables, wire).
  returned: with settings, or request and peers
  type: dict
tests:
  description: The matrix this hypervisor runs (none on a cross-host pair's server side).
  returned: with request and capabilities
  type: list
headers:
  description: Each run's progress header.
  returned: with request
  type: dict
before_lab:
  description:
    - What the run will not measure although it was asked for (the native reference's tests whose tools the
      hypervisor lacks), one sentence each; also given as warnings, before the lab is built.
  returned: with request and capabilities
  type: list
  elements: str
"""
