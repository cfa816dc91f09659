#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.new_run runs on the controller (plugins/action/new_run.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: new_run
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Create new, never reused benchmark run directories
description:
  - Creates C(<results_dir>/<backend>/<run_id>/) where the run id is the current UTC time
    (C(20261126T173224Z)), for one backend or for each of several (one run id). A directory is created
    exclusively; when the id is taken a C(-N) suffix is added, so an existing run is never written into.
  - With O(progress), each run starts its progress file from its header (the one file a run is recorded
    from by M(volt.netbench.record_run), and by the watchdog after an interruption) and keeps room for its
    record, so a results disk that fills up during the matrix still takes the run's C(run.json).
  - Runs on the controller.
options:
  results_dir:
    description: Root of the results tree.
    type: path
    required: true
  backend:
    description: Network backend the run measures, or C(native) for the native reference.
    type: str
    choices: [virtio, vhost-net, macvtap, native]
  backends:
    description:
      - Several runs at once (one run id), instead of O(backend).
      - A sweep point's run is named by its backend and the point, C(virtio+mtu-9000) - its directory is
        C(RESULTS_DIR/virtio/RUN_ID+mtu-9000).
      - An empty list creates nothing and returns no C(run_dirs) (a hypervisor that records no run, such as a
        cross-host pair's server side).
    type: list
    elements: str
  progress:
    description:
      - Per backend, the header its progress file starts with - C(planned) (name, tool and repetition of
        each planned test), C(config), C(environment), C(started); the run plan of the benchmark role
        (M(volt.netbench.run_plan)) gives it as C(headers).
    type: dict
    default: {}
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
run_dirs:
  description: Every new run directory by backend.
  returned: success
  type: dict
run_ids:
  description: Every new run id by backend.
  returned: success
  type: dict
backend_of:
  description: Each run's backend, by the run's name (a sweep point's run, C(virtio+mtu-9000), is C(virtio)'s).
  returned: success
  type: dict
"""
