#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.controller_file runs on the controller (plugins/action/controller_file.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: controller_file
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Keep a file on the controller without following links or trusting other users' directories
description:
  - Writes O(content), or the file O(src) read from the managed host, to O(dest) on the controller - the lab's SSH
    key, the lab's known_hosts, the hypervisor's CPU samples and the guests' console logs kept with a run.
  - The collection runs as root; O(dest) may lie in a directory another user can write (a results tree in a
    user's checkout, a HOME that C(sudo -E) kept). Every directory on the way must be owned by root, by the
    running user or (not for O(private)) by the user whose sudo started the run, and writable by no one else
    (unless sticky); a symbolic link on the way is followed only when such a user owns it. The file is written
    through a temporary file of an unpredictable name (C(O_EXCL), C(O_NOFOLLOW)) renamed into place.
  - With O(private) the file is a secret - mode 0600 in directories of mode 0700 owned by the running user - and
    an existing O(dest) or directory owned by another user is refused, never reused.
  - Runs on the controller; O(src) is read from the managed host (M(ansible.builtin.slurp)).
options:
  dest:
    description: The file on the controller.
    type: path
    required: true
  content:
    description: What to write. One of O(content) and O(src).
    type: str
  src:
    description: A file on the managed host to copy. One of O(content) and O(src).
    type: path
  private:
    description: Keep O(dest) as a secret of the running user (0600, in 0700 directories of its own).
    type: bool
    default: false
  fail_on_missing:
    description: Fail when O(src) does not exist (otherwise nothing is written and RV(missing) is true).
    type: bool
    default: true
attributes:
  check_mode:
    support: none
    description: Writes nothing in check mode and says so.
  diff_mode:
    support: none
    description: No diff.
seealso:
  - module: ansible.builtin.fetch
"""

EXAMPLES = r"""
- name: Keep the lab SSH key on the controller
  volt.netbench.controller_file:
    src: /var/cache/volt-netbench/images/1a2b/ssh/id_ed25519
    dest: /var/lib/volt-netbench/keys/1a2b/id_ed25519
    private: true

- name: Keep the hypervisor's CPU samples with the run
  volt.netbench.controller_file:
    src: /run/volt-netbench/vnb-lab.cpu.jsonl
    dest: results/virtio/20261126T173224Z/host_cpu.jsonl
    fail_on_missing: false
"""

RETURN = r"""
dest:
  description: The file written.
  returned: always
  type: str
missing:
  description: O(src) did not exist (with O(fail_on_missing=false)); nothing was written.
  returned: always
  type: bool
"""
