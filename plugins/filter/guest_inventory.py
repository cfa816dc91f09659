# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The guest_inventory filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: guest_inventory
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: The inventory entries of a lab's guests (what add_host adds)
description:
  - One entry per guest - its inventory name (the guest's C(host), default its C(name)), group, the SSH
    connection to its loopback port on the hypervisor through a ProxyCommand into the lab's namespace (every
    word quoted for the shell; over SSH through I(proxy_host) for a remote hypervisor), the lab's known_hosts
    under a per-guest alias, its control socket, and its data addresses.
  - The qemu_guest role publishes them as C(qemu_guest_inventory) and adds every hypervisor's guests in one
    add_host loop (add_host runs once for all the hosts of a play).
positional: _input
options:
  _input:
    description: The guests (name, ssh_port, data_addresses or data_address, optional host).
    type: list
    elements: dict
    required: true
  netns:
    description: The lab's namespace (empty for a lab in the root namespace).
    type: str
    default: ""
  controller_root:
    description: The controller's directory of the labs (known_hosts and control sockets per lab).
    type: path
    required: true
  ssh_key:
    description: The private key the guests accept for root.
    type: path
    required: true
  group:
    description: The inventory group of the guests.
    type: str
    default: volt_guests
  proxy_host:
    description: The remote hypervisor to reach the guests through (empty for a local one).
    type: str
    default: ""
  ssh:
    description:
      - A remote hypervisor as Ansible reaches it - C(host), C(port), C(user), C(key) and C(args)
        (ansible_ssh_common_args); the ProxyCommand runs the same ssh. Takes precedence over O(proxy_host).
    type: dict
    default: {}
  accelerator:
    description: The guests' accelerator, which sets how long Ansible waits for their SSH (C(kvm) 30 s, C(tcg) 180 s).
    type: str
    default: kvm
    choices: [kvm, tcg]
"""

EXAMPLES = r"""
- name: The guests' inventory entries
  ansible.builtin.debug:
    msg: "{{ [{'name': 'server', 'ssh_port': 10022, 'data_address': '198.18.0.1/24'}]
             | volt.netbench.guest_inventory(netns='vnb-lab', controller_root='/root/.cache/volt-netbench/labs',
                                             ssh_key='/var/cache/volt-netbench/images/key') }}"
"""

RETURN = r"""
_value:
  description: add_host's arguments per guest (name, groups, the ansible_* connection variables, volt_guest_*).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.guest_inventory import guest_entries


def guest_inventory(guests, controller_root, ssh_key, netns="", group="volt_guests", proxy_host="", ssh=None,
                    accelerator="kvm"):
    """volt.netbench.guest_inventory (documented above)."""
    try:
        return guest_entries(list(guests), netns=str(netns or ""), controller_root=str(controller_root),
                             ssh_key=str(ssh_key), group=str(group), proxy_host=str(proxy_host or ""),
                             ssh=dict(ssh or {}), accelerator=str(accelerator))
    except (KeyError, TypeError, ValueError) as err:
        raise AnsibleFilterError(f"guest_inventory: {err}") from err


class FilterModule:
    """volt.netbench.guest_inventory"""

    def filters(self):
        return {"guest_inventory": guest_inventory}
