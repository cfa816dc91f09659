#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.run_note runs on the controller (plugins/action/run_note.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: run_note
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Note what a running benchmark learnt in its runs' progress files
description:
  - A run's state lives in its progress file (C(.progress.json), started by M(volt.netbench.new_run)), not
    in facts - the file M(volt.netbench.record_run) records the run from, and the watchdog after an
    interruption. This module adds to it, in every run directory of the lab at once.
  - O(mark) starts a phase of the lab (C(lab), C(boot), C(matrix), C(teardown)); the recorded wall times
    C(lab_s), C(boot_s), C(matrix_s) and C(teardown_s) are the time between the marks.
  - A lost guest (O(lost), or an unreachable server in O(server_check)) is kept once; the tests on the
    guests after it are not run (M(volt.netbench.guest_test) reads it) and are recorded as not run with
    that reason.
  - Runs on the controller.
options:
  run_dirs:
    description: The lab's run directories (one per backend and the native reference).
    type: list
    elements: path
    required: true
  mark:
    description: The phase that starts now.
    type: str
    choices: [lab, boot, matrix, teardown]
  environment:
    description: Fields of the report's environment table learnt now (vm_vcpus, vm_ram, guest_kernel, ...).
    type: dict
    default: {}
  nic_facts:
    description:
      - Results of M(volt.netbench.hypervisor_facts) registered in a loop over the backends; each backend's
        C(host_nic) becomes the NIC's summary and name.
    type: list
    elements: dict
    default: []
  wall_times:
    description: Wall times to keep (seconds), e.g. C(boot_to_ssh_s).
    type: dict
    default: {}
  lost:
    description: Why the client guest was lost (from M(volt.netbench.guest_test)'s C(lost)).
    type: str
    default: ""
  server_check:
    description: A registered result of a command on the server guest; when it was unreachable, the server is lost.
    type: dict
    default: {}
  error:
    description: The error that stopped the run (its run.json's reason; the tests not reached say it).
    type: str
    default: ""
attributes:
  check_mode:
    support: none
    description: Notes nothing in check mode.
seealso:
  - module: volt.netbench.new_run
  - module: volt.netbench.record_run
"""

EXAMPLES = r"""
- name: Note that the guests boot now
  volt.netbench.run_note:
    run_dirs: "{{ runs.run_dirs.values() | list }}"
    mark: boot
"""

RETURN = r"""
lost:
  description: Why the guests are lost ('' while they are not).
  returned: success
  type: str
error:
  description: O(error) as given, also when the note could not be written (a full results disk), so the run's record can still say it.
  returned: always
  type: str
"""
