# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The on_bridge test plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: on_bridge
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Whether a backend's guest NIC is a tap on the lab bridge
description:
  - True for C(virtio) (QEMU's userspace tap) and C(vhost-net) (tap with C(vhost=on)); false for C(macvtap),
    which sits on a lower NIC. The one definition the modules and plugins use too (module_utils/backends.py).
positional: _input
options:
  _input:
    description: A backend name.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: The backends that need the bridge
  ansible.builtin.debug:
    msg: "{{ ['virtio', 'macvtap'] | select('volt.netbench.on_bridge') | list }}"
"""

RETURN = r"""
_value:
  description: Whether the backend is on the bridge.
  type: bool
"""

from ansible_collections.volt.netbench.plugins.module_utils.backends import on_bridge as _on_bridge


def on_bridge(backend):
    """volt.netbench.on_bridge (documented above)."""
    return _on_bridge(str(backend))


class TestModule:
    """volt.netbench.on_bridge"""

    def tests(self):
        return {"on_bridge": on_bridge}
