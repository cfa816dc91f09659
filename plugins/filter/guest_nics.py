# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guest_nics filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: guest_nics
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: A guest's data NICs from the lab devices host_network built
description:
  - Returns the O(volt.netbench.qemu_vm#module:data_nics) list of M(volt.netbench.qemu_vm) for one guest - one NIC per lab device of
    that guest (a tap for virtio or vhost-net, a macvtap), in the devices' order, named C(data0),
    C(data1), ... in the guest, with the fixed tap MACs or the macvtap's own MAC.
positional: _input, guest, guest_index, addresses
options:
  _input:
    description: The host_network_devices fact.
    type: list
    elements: dict
    required: true
  guest:
    description: Guest name.
    type: str
    required: true
  guest_index:
    description: The guest's position in the lab (0 for the first), which picks its MACs.
    type: int
    required: true
  addresses:
    description: Backend -> the guest's CIDR address on it; a string gives every backend the same one.
    type: raw
    required: true
  mtu:
    description: MTU of the guest's data NICs.
    type: int
    default: 1500
  queues:
    description: Queues of tap NICs.
    type: int
    default: 1
  macvtap_vhost:
    description: Let QEMU use vhost-net for macvtap NICs (when C(/dev/vhost-net) exists).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: The server's NICs
  ansible.builtin.debug:
    msg: "{{ host_network_devices | volt.netbench.guest_nics('server', 0, {'virtio': '198.18.0.1/24'}) }}"
"""

RETURN = r"""
_value:
  description: Data NICs (backend, device, mac, address, mtu, queues, name, vhost).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.module_utils.qemu import GuestError, guest_nics as _guest_nics


def guest_nics(devices, guest, guest_index, addresses, mtu=1500, queues=1, macvtap_vhost=False):
    if not isinstance(devices, list):
        raise AnsibleFilterError("guest_nics: the input must be the host_network_devices list")
    try:
        return _guest_nics(devices, str(guest), int(guest_index), addresses, mtu=int(mtu), queues=int(queues),
                           macvtap_vhost=bool(macvtap_vhost))
    except (GuestError, TypeError, ValueError) as err:
        raise AnsibleFilterError(f"guest_nics: {err}") from err


class FilterModule:
    """volt.netbench.guest_nics"""

    def filters(self):
        return {"guest_nics": guest_nics}
