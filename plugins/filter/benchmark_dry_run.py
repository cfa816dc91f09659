# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark_dry_run filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: benchmark_dry_run
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: What a benchmark run would do, as lines of text (check mode)
description:
  - The text the benchmark prints with C(--check) - which requested backends would run and which would be
    refused with the preflight's reason, whether the guest image would be built or reused (its recipe hash),
    the namespaces, devices and guests the lab would create, every step of the test plan with its command,
    and the estimated wall time per phase.
positional: _input
options:
  _input:
    description:
      - The lab as M(volt.netbench.run_plan) decided it (its C(plan), C(guests) and C(native_endpoints); an empty
        C(plan) when no backend can run), or a bare P(volt.netbench.lab_plan#filter) output with O(guests) and O(native_netns).
    type: dict
    required: true
  requested:
    description: The backends asked for, in order.
    type: list
    elements: str
    required: true
  decisions:
    description: The hypervisor's decision per backend (C(hypervisor_capabilities.backends)).
    type: dict
    required: true
  accelerator:
    description: C(kvm) or C(tcg).
    type: str
    required: true
  image:
    description: The guest image's plan (C(guest_image_plan) of the guest_image role).
    type: dict
    required: true
  netns:
    description: The lab namespace.
    type: str
    default: ""
  native_netns:
    description: The native reference's namespaces (with a bare plan; run_plan's lab names them itself).
    type: list
    elements: str
    default: []
  devices:
    description: The lab devices the host_network role would create (its check-mode C(host_network_devices) and
      C(host_network_native_devices)).
    type: list
    elements: dict
    default: []
  guests:
    description: The guests (name, data_addresses; with a bare plan, run_plan's lab names them itself).
    type: list
    elements: dict
    default: []
  results_dir:
    description: Where the results would go.
    type: str
    default: results
  pair:
    description: This hypervisor's part in the run (C(pair) of M(volt.netbench.run_plan)) - a cross-host pair's
      server side keeps its guest up while the client's runs the tests and writes the results.
    type: dict
    default: {}
  sweep:
    description: The sweep's factors and points (C(sweep) of M(volt.netbench.run_plan)) - the points are listed
      and the time counts the tests at every point.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: What a run would do
  ansible.builtin.debug:
    msg: >-
      {{ lab | volt.netbench.benchmark_dry_run(requested=['virtio'], decisions=hypervisor_capabilities.backends,
         accelerator='tcg', image=guest_image_plan) }}
"""

RETURN = r"""
_value:
  description: Lines of text, the first one saying that nothing was changed.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.dry_run import describe


def benchmark_dry_run(plan, requested, decisions, accelerator, image, netns="", native_netns=(), devices=(),
                      guests=(), results_dir="results", pair=None, sweep=None):
    """volt.netbench.benchmark_dry_run (documented above)."""
    plan = dict(plan or {})
    if "plan" in plan:  # run_plan's lab
        lab = plan
        plan = lab["plan"]
        guests = lab.get("guests") or []
        native_netns = [e["netns"] for e in lab.get("native_endpoints") or []]
    try:
        return describe(requested=list(requested), decisions=dict(decisions or {}), plan=dict(plan) if plan else None,
                        accelerator=str(accelerator), image=dict(image or {}), netns=str(netns or ""),
                        native_netns=list(native_netns or []), devices=list(devices or []), guests=list(guests or []),
                        results_dir=str(results_dir), pair=dict(pair or {}), sweep=dict(sweep or {}))
    except (KeyError, TypeError, ValueError) as err:
        raise AnsibleFilterError(f"benchmark_dry_run: {err}") from err


class FilterModule:
    """volt.netbench.benchmark_dry_run"""

    def filters(self):
        return {"benchmark_dry_run": benchmark_dry_run}
