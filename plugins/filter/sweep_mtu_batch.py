# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sweep_mtu_batch filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: sweep_mtu_batch
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: The ip -batch lines that give every link of a namespace a sweep point's MTU
description:
  - Takes C(ip -j -d link show)'s JSON of one network namespace and returns C(ip -batch) lines that set the MTU of
    every link but the loopback - lower devices (veth) first, then taps, macvtaps and macvlans, the bridges last, so
    that no link is asked for more than the device under it carries.
  - The benchmark role runs it on the lab's own namespaces when a sweep moves to a point with another MTU.
positional: _input
options:
  _input:
    description: The output of C(ip -j -d link show) (text or parsed).
    type: raw
    required: true
  mtu:
    description: The MTU.
    type: int
    required: true
"""

EXAMPLES = r"""
- name: Read the lab's links
  ansible.builtin.command:
    argv: [ip, -j, -d, -n, vnb-lab, link, show]
  register: links
  changed_when: false

- name: Give them jumbo frames
  ansible.builtin.command:
    argv: [ip, -n, vnb-lab, -batch, "-"]
    stdin: "{{ links.stdout | volt.netbench.sweep_mtu_batch(9000) }}"
"""

RETURN = r"""
_value:
  description: One C(link set dev NAME mtu MTU) line per link.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.sweep import mtu_batch


def sweep_mtu_batch(links, mtu):
    """The ip -batch lines (volt.netbench.sweep_mtu_batch, documented above)."""
    try:
        return mtu_batch(links, int(mtu))
    except (TypeError, ValueError) as err:
        raise AnsibleFilterError(f"sweep_mtu_batch: {err}") from err


class FilterModule:
    """volt.netbench.sweep_mtu_batch"""

    def filters(self):
        return {"sweep_mtu_batch": sweep_mtu_batch}
