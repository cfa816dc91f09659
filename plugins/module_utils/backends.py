# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The network backends the collection measures: the one definition every module and plugin reads."""

from __future__ import annotations

BACKENDS = ("virtio", "vhost-net", "macvtap")
# The backends whose guest NIC is a tap on the lab bridge (virtio: QEMU's userspace, vhost-net: vhost=on);
# macvtap sits on a lower NIC instead.
BRIDGE_BACKENDS = ("virtio", "vhost-net")


def on_bridge(backend: str) -> bool:
    """Whether BACKEND's guest NIC is a tap on the lab bridge."""
    return backend in BRIDGE_BACKENDS
