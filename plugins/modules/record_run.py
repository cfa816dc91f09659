#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.record_run runs on the controller (plugins/action/record_run.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: record_run
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Parse a benchmark run's raw outputs and seal it with samples.jsonl and run.json
description:
  - For each test in O(tests) whose status is C(ok), parses its raw output file (inside O(run_dir))
    with the collection's parser for its tool and writes one C(samples.jsonl) record per metric
    (metric, value, unit, test, backend, run_id, timestamp, metadata).
  - A raw output that does not parse turns the test into C(failed) with the parser's message.
  - Writes C(run.json) with the configuration, environment, per-test status and wall times.
  - A run that already has C(run.json) is refused, because recorded runs are never modified.
  - Runs on the controller.
options:
  run_dir:
    description: Run directory created by M(volt.netbench.new_run).
    type: path
    required: true
  backend:
    description: Network backend the run measured, or C(native) for the native reference (not with O(from_progress)).
    type: str
    choices: [virtio, vhost-net, macvtap, native]
  tests:
    description:
      - The tests in the order they ran. Keys C(name), C(tool) (C(iperf3), C(ping), C(sockperf),
        C(netperf)), C(status) (C(ok), C(failed), C(skipped)), C(message), C(raw) (file name in
        O(run_dir)), C(stderr), C(command), C(params), C(wall_s).
    type: list
    elements: dict
    default: []
  planned:
    description:
      - The tests the run planned (entries of P(volt.netbench.test_plan#filter)). Those without an entry in
        O(tests) (or in the progress file, with O(from_progress)) are recorded as C(skipped) with C(not run)
        and O(unreached_reason).
    type: list
    elements: dict
    default: []
  from_progress:
    description:
      - Record the run from its progress file (C(.progress.json) - started by M(volt.netbench.new_run), one
        entry per test by M(volt.netbench.guest_test), phases, environment, a lost guest and the error that
        stopped the run by M(volt.netbench.run_note)) - the one way a run is recorded, the same function the
        watchdog uses for an interrupted run. Everything comes from that file; only O(run_dir),
        O(unreached_reason) and O(reason) may be given. The status follows the tests.
    type: bool
    default: false
  unreached_reason:
    description:
      - Why the planned tests without an entry were never run. Empty - with O(from_progress), the error that
        stopped the run, else the lost guest, else C(the run stopped early).
    type: str
    default: ""
  config:
    description: Benchmark configuration (durations, counts, sizes, profile, extra vars, server commands).
    type: dict
    default: {}
  environment:
    description: Host and guest facts for the report's environment table (host_cpu, host_ram, host_nic,
      host_kernel, vm_vcpus, vm_ram, guest_kernel, qemu_version, accelerator, date).
    type: dict
    default: {}
  status:
    description: Run status; derived from the tests when omitted. C(not_run) records a backend that
      could not run, with O(reason).
    type: str
    choices: [complete, partial, failed, not_run]
  reason:
    description: Why the run is C(failed) or C(not_run) (with O(from_progress), default the noted error).
    type: str
    default: ""
  wall_times:
    description: Seconds spent per step (lab, boot, each test, teardown).
    type: dict
    default: {}
  started:
    description: ISO 8601 start time of the run.
    type: str
  store:
    description:
      - A results store to write the recorded run to as well - a PostgreSQL DSN (C(host=db.example dbname=vnb
        user=vnb)) or an SQLite file; the run's document, samples and round trips, its cells and every value
        (the raw files stay in O(run_dir), which the store names). Writing the same run again keeps one.
      - When the store cannot be written the task fails, the run recorded in O(run_dir) all the same, and the
        message says how to import it later. Empty - the results tree alone.
    type: str
    default: ""
  store_host:
    description: The host the run is kept under in O(store) (default the inventory host).
    type: str
    default: ""
attributes:
  check_mode:
    support: none
    description: Records nothing in check mode.
seealso:
  - module: volt.netbench.new_run
  - module: volt.netbench.report
"""

EXAMPLES = r"""
- name: Seal a run
  volt.netbench.record_run:
    run_dir: "{{ run.run_dir }}"
    backend: virtio
    environment:
      accelerator: tcg
    tests:
      - name: iperf3_tcp_single
        tool: iperf3
        raw: iperf3_tcp_single.json
        command: iperf3 -c 198.18.0.2 -t 30 -J
"""

RETURN = r"""
run_id:
  description: The run's id.
  returned: success
  type: str
status:
  description: Run status as recorded.
  returned: success
  type: str
counts:
  description: Number of tests per status.
  returned: success
  type: dict
failed_tests:
  description: Message of each failed test.
  returned: success
  type: dict
parsed:
  description: Parsed result of each test.
  returned: success
  type: dict
stored:
  description: The run's key in O(store) (host, backend, run id); empty without a store.
  returned: success
  type: list
  elements: str
"""
