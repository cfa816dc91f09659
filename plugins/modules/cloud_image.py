#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloud_image
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Check a given cloud image by what QEMU will open, and keep the private copy the guests boot from
description:
  - QEMU opens its drives as root before C(-runas) drops privileges, and a qcow2 image can make it open other
    files - a backing file, or an external data file (C(qemu-img create -o data_file=/dev/sdX,data_file_raw=on))
    that hands the guests a host device. The image's qcow2 header is read in Python and both are refused, with
    the command that makes a self-contained image, before any QEMU tool opens it. An image that is not qcow2 is
    refused too (the guests boot from qcow2 overlays on top of it).
  - The image is read once, from one open descriptor, into O(dest) (mode 0600, in a directory of mode 0700 that
    only root can use), and the copy is checked again. The guests' overlays are made on the copy, so no one can
    swap the file QEMU opens after it was checked. The copy is kept, keyed by the source's device, inode, size
    and change time; an unchanged image is not copied again.
options:
  src:
    description: The given image (C(guest_image_path)) on the hypervisor.
    type: path
    required: true
  dest:
    description: The private copy the guests boot from.
    type: path
    required: true
attributes:
  check_mode:
    support: full
    description: Checks the image's header; copies nothing.
  diff_mode:
    support: none
    description: No diff.
"""

EXAMPLES = r"""
- name: Check the lab's cloud image and keep the copy the guests boot from
  volt.netbench.cloud_image:
    src: /srv/images/debian-12-genericcloud-amd64.qcow2
    dest: /var/cache/volt-netbench/images/cloud-1a2b3c4d5e6f7a8b/disk.qcow2
"""

RETURN = r"""
disk:
  description: The checked copy (O(dest)).
  returned: success
  type: str
copied:
  description: Whether the image was copied now (false when the kept copy matches the source).
  returned: success
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.volt.netbench.plugins.module_utils import qcow2, safefs


def main():
    module = AnsibleModule(argument_spec={"src": {"type": "path", "required": True},
                                          "dest": {"type": "path", "required": True}},
                           supports_check_mode=True)
    src, dest = module.params["src"], module.params["dest"]
    if module.check_mode:
        try:
            with open(src, "rb") as handle:
                why = qcow2.problem(src, handle.read(qcow2.HEADER_READ))
        except OSError as err:
            why = f"guest_image_path {src}: {err.strerror}"
        if why:
            module.fail_json(msg=why)
        module.exit_json(changed=not os.path.exists(dest), disk=dest, copied=False)
    try:
        result = qcow2.private_copy(src, dest)
    except (qcow2.ImageError, safefs.UnsafePath) as err:
        module.fail_json(msg=str(err))
    module.exit_json(changed=result["copied"], disk=result["disk"], copied=result["copied"])


if __name__ == "__main__":
    main()
