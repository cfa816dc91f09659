#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.new_run runs on the controller (plugins/action/new_run.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: new_run
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Create a new, never reused benchmark run directory
description:
  - Creates C(<results_dir>/<backend>/<run_id>/) where the run id is the current UTC time
    (C(20261126T173224Z)). The directory is created exclusively; when the id is taken a C(-N)
    suffix is added, so an existing run is never written into.
  - Runs on the controller.
options:
  results_dir:
    description: Root of the results tree.
    type: path
    required: true
  backend:
    description: Network backend the run measures, or C(native) for the native reference.
    type: str
    required: true
    choices: [virtio, vhost-net, macvtap, native]
  run_id:
    description: Use this UTC timestamp instead of the current time.
    type: str
attributes:
  check_mode:
    support: none
    description: Creates nothing in check mode.
seealso:
  - module: volt.netbench.record_run
"""

EXAMPLES = r"""
- name: Start a run
  volt.netbench.new_run:
    results_dir: results
    backend: virtio
  register: run
"""

RETURN = r"""
run_dir:
  description: The new run directory.
  returned: success
  type: str
  sample: results/virtio/20261126T173224Z
run_id:
  description: Its run id.
  returned: success
  type: str
"""
