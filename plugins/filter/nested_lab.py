# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The nested_lab filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: nested_lab
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: The hypervisor VMs of a nested lab and the inventory that reaches them
description:
  - The volt.netbench.nested_lab role boots hypervisor VMs on one machine; this filter decides which - C(hv1) ...
    C(hvN), each with an SSH port on the loopback of the nested lab's namespace and an address on the wire between
    them (a subnet of 198.18.0.0/15 apart from the labs' own) - and writes the inventory a user passes to
    C(benchmark.yml) with C(-i) - one host per VM in group O(group), reached as root through a ProxyCommand into
    O(netns), its own host key checked strictly under a per-VM alias, its lab in a namespace named after it.
  - With O(host_keys) it also returns the nested lab's known_hosts.
positional: _input
options:
  _input:
    description: How many hypervisor VMs (1-4), or C(all) - every VM a nested lab can have (its teardown).
    type: raw
    required: true
  port_base:
    description: The VMs' SSH ports are O(port_base)+1, O(port_base)+2, ...
    type: int
    required: true
  netns:
    description: The nested lab's namespace (QEMU, the wire and the forwarded SSH ports are in it).
    type: str
    required: true
  lab:
    description: The nested lab's name (host key aliases).
    type: str
    required: true
  ssh_key:
    description: The private key the hypervisor VMs accept for root (the hypervisor image's).
    type: path
    required: true
  known_hosts_file:
    description: Where the nested lab's known_hosts is kept on the controller.
    type: path
    required: true
  controller_dir:
    description: The nested lab's directory on the controller (the VMs' SSH control sockets).
    type: path
    required: true
  group:
    description: The inventory group of the hypervisor VMs.
    type: str
    default: hypervisors
  wire:
    description: The subnet of the bridge wire between the VMs (their C(data0); in 198.18.0.0/15).
    type: str
    default: 198.19.255.0/24
  macvtap_wire:
    description: The subnet of the second wire between the VMs (their C(data1), the lower device a pair's macvtaps
      sit on - a bridge on this machine, as the first; in 198.18.0.0/15).
    type: str
    default: 198.19.254.0/24
  host_keys:
    description: Each VM's host public key (name -> C(ssh-ed25519 AAAA...)); empty - no known_hosts is returned.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Two hypervisor VMs and their inventory
  ansible.builtin.set_fact:
    nested: "{{ 2 | volt.netbench.nested_lab(port_base=22200, netns='vnb-nested', lab='vnb-nested',
                                             ssh_key='/var/lib/volt-netbench/keys/0123456789abcdef/id_ed25519',
                                             known_hosts_file='/run/volt-netbench/controller/vnb-nested/hypervisors.known_hosts',
                                             controller_dir='/run/volt-netbench/controller/vnb-nested') }}"
"""

RETURN = r"""
_value:
  description: C(vms) (qemu_guest_guests - name, ssh_port, data_address, lower_nic (the MAC and address of its
    second wire's NIC), wire_addresses, control_path), C(wire_checks) (the pings from the first VM across both
    wires), C(wire_nics) (the VMs' data NICs, C(data0) and C(data1)), C(inventory) (the inventory as a dict) and,
    with O(host_keys), C(known_hosts) (its text).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.measure import nested_lab as model


def nested_lab(count, port_base, netns, lab, ssh_key, known_hosts_file, controller_dir, group="hypervisors",
               wire=model.WIRE, macvtap_wire=model.MACVTAP_WIRE, host_keys=None):
    """volt.netbench.nested_lab (documented above)."""
    try:
        machines = model.vms(model.MAX_VMS if count == "all" else int(count), int(port_base), str(controller_dir), str(wire), str(macvtap_wire))
        out = {"vms": machines, "wire_checks": model.wire_checks(machines),
               "wire_nics": [model.UPLINK, model.MACVTAP_LOWER],
               "inventory": model.inventory(machines, netns=str(netns), lab=str(lab), ssh_key=str(ssh_key),
                                            known_hosts_file=str(known_hosts_file), group=str(group))}
        if host_keys:
            out["known_hosts"] = model.known_hosts(str(lab), dict(host_keys))
        return out
    except (KeyError, TypeError, ValueError) as err:
        raise AnsibleFilterError(f"nested_lab: {err}") from err


class FilterModule:
    def filters(self):
        return {"nested_lab": nested_lab}
