#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.guest_test runs on the controller (plugins/action/guest_test.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: guest_test
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Run one benchmark test on the delegated guest and keep its output on the controller
description:
  - Delegate it to the client guest. Over the guest's SSH connection, without starting Python there, it
    starts the test's command in its own session under C(timeout) (so it outlives a dropped SSH session
    and is killed after its deadline), then waits for it in a second command that returns the exit status,
    timestamps and the base64 of stdout and stderr. A dropped connection while waiting is retried; the job
    runs on.
  - On the controller it decides the test's status and message (volt.netbench's run control, the same
    code the watchdog uses), writes the raw output as C(<test>.<ext>) and stderr as C(<test>.stderr)
    into O(run_dir), and adds the entry to the run's progress file (C(.progress.json), started by
    M(volt.netbench.new_run); the file the run is recorded from, and the watchdog after an interruption).
  - When the progress file notes a lost guest (M(volt.netbench.run_note)), a test on the guests is not
    started and is recorded as not run with that reason; the native reference's tests (C(host)) still run.
  - A packet-rate test with a C(search) (O(test)) runs the loss-bounded search of volt.netbench's pps_search
    (a flood and short probes, one SSH round trip each, then confirming runs as jobs) and keeps every probe in
    the test's C(search.json) beside the last confirming run's output. A test with a C(load) starts that
    command first (its own job), runs the test while it loads the path and keeps its output beside
    (C(load.json)); a load that fails fails the test.
  - A client that cannot be reached does not fail the task. The entry says so and RV(lost) is set.
options:
  test:
    description: One entry of the P(volt.netbench.test_plan#filter) filter (name, tool, argv, timeout, ext, command, params).
    type: dict
    required: true
  run_dir:
    description: The run directory (controller) the raw output goes to.
    type: path
    required: true
  not_run:
    description: When set, the test is not started and is recorded as failed with C(not run) and this reason.
    type: str
    default: ""
  job_dir:
    description:
      - The client's job directory (M(volt.netbench.guest_check) with O(volt.netbench.guest_check#module:job_dir=true)
        made it with C(mktemp -d)); the plan's C(/var/tmp/volt-netbench-jobs) in the test's command stands for it.
        Empty keeps the plan's. Not used for the hypervisor's own tests (C(host)).
    type: str
    default: ""
  rate_dir:
    description:
      - A sweep's load point (the test's C(load_rate)) - the run directory of the point whose C(load_capacity) search
        found the loss-bounded rate; the test's paced load offers C(load_rate.fraction) of it. Without a rate found
        there, the test is not started and says why.
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: Nothing is run or written.
  diff_mode:
    support: none
    description: Not supported.
"""

EXAMPLES = r"""
- name: Run a test from the plan on the client guest
  volt.netbench.guest_test:
    test: "{{ item }}"
    run_dir: "{{ run.run_dir }}"
  delegate_to: client
  loop: "{{ '198.18.0.1' | volt.netbench.test_plan(duration=5, ping_count=200) }}"
"""

RETURN = r"""
entry:
  description: The test's run.json entry (name, tool, status, message, raw, stderr, command, params, wall_s).
  returned: always
  type: dict
lost:
  description: Why the client guest is lost (empty while it answers).
  returned: always
  type: str
exit_status:
  description: Exit status of the test's command (null when it did not finish); not C(rc), which would fail the task.
  returned: always
  type: int
seconds:
  description: Controller-side seconds for start and collection.
  returned: always
  type: float
"""
