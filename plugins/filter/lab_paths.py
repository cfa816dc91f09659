# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab_paths filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: lab_paths
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Every file and directory of a lab, named in one place
description:
  - A lab is named after its namespace (C(root) without one). Returns its name (C(lab)) and its paths -
    on the hypervisor C(chardev_dir) (macvtap character devices, under O(dev_root)), C(cpu_samples), C(native_job_dir),
    C(guest_dir) (the guests' overlays, sockets, pidfiles and console logs); on the controller
    C(controller_dir), C(known_hosts), C(control_path) (the guests' SSH ControlPath), C(control_match)
    and C(watchdog_config); and C(native_netns) (the native reference's server and client namespaces).
  - The host_network, qemu_guest and benchmark roles, the run model and the watchdog all read a lab's
    paths from here, so a name is spelled once.
positional: _input
options:
  _input:
    description: The lab's namespace (empty for a lab in the root namespace).
    type: str
    required: true
  run_root:
    description: The hypervisor's run-time directory of the labs.
    type: path
    default: /run/volt-netbench
  guest_root:
    description: The guests' state directory of the labs (default I(run_root)/guests).
    type: path
  controller_root:
    description: The controller's directory of the labs (default ~/.cache/volt-netbench/labs).
    type: path
  dev_root:
    description: Where the labs' macvtap character devices are made - a file system that allows device nodes
      (C(/run) is mounted C(nodev) by systemd).
    type: path
    default: /dev/volt-netbench
"""

EXAMPLES = r"""
- name: Where the lab vnb-lab keeps its guests
  ansible.builtin.debug:
    msg: "{{ ('vnb-lab' | volt.netbench.lab_paths).guest_dir }}"
"""

RETURN = r"""
_value:
  description: lab, run_root, guest_root, controller_root, dev_root, chardev_dir, cpu_samples, native_job_dir, guest_dir,
    controller_dir, known_hosts, control_path, control_match, watchdog_config, key_root, native_netns (server, client).
  type: dict
"""

from ansible_collections.volt.netbench.plugins.module_utils.lab import DEV_ROOT, RUN_ROOT
from ansible_collections.volt.netbench.plugins.module_utils.lab import lab_paths as _lab_paths


def lab_paths(netns, run_root=RUN_ROOT, guest_root=None, controller_root=None, dev_root=DEV_ROOT):
    """The lab's paths (volt.netbench.lab_paths, documented above)."""
    return _lab_paths(str(netns or ""), str(run_root), guest_root and str(guest_root),
                      controller_root and str(controller_root), str(dev_root))


class FilterModule:
    """volt.netbench.lab_paths"""

    def filters(self):
        return {"lab_paths": lab_paths}
