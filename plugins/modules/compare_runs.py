#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.compare_runs runs on the controller (plugins/action/compare_runs.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: compare_runs
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Compare a benchmark run with a baseline run - the regression gate
description:
  - For every backend, test and metric both runs measured - the native reference and the host CPU cost included -
    the change of the mean of this run's repetitions over the baseline's (positive = better) with its 95 %
    Fieller interval, and a verdict - C(regression), C(improvement), C(unchanged) (within the tolerance) or
    C(no detectable change).
  - The tolerance is the smallest change that counts. Per metric, Welch's one-sided tests of the ratio shifted
    to the tolerance decide "changed beyond it" (its p doubled, one test per side) and "unchanged within it"
    (two one-sided tests, TOST); every hypothesis of the comparison is one family corrected with Holm's method,
    and a verdict other than C(no detectable change) needs an adjusted p below 0.05. A metric with one
    repetition, or the same value in every repetition of both runs, is not tested and is never a regression.
  - What differs between the two runs' environment and set-up (host, kernel, QEMU, NIC, MTU, profile,
    repetitions, accelerator, topology) is listed first. Runs whose tests measured different
    things (duration, ping count or interval, parallel streams, packet sizes, iperf3 warm-up) are refused
    unless O(force) is set; the comparison is then marked.
  - Writes C(COMPARE.md), C(compare.json) and C(compare.csv) under
    C(<results_dir>/comparisons/<run>-vs-<baseline>/) and returns the verdict with the data for set_stats.
  - Never fails on a regression itself - it reports it (RV(regression)); the playbooks fail the host afterwards,
    and the P(volt.netbench.gate#callback) callback turns that into ansible-playbook's exit status 3.
  - Runs on the controller.
options:
  results_dir:
    description: The results tree holding C(<backend>/<run_id>/) run directories (a fleet host's own directory).
    type: path
    required: true
  against:
    description:
      - The baseline - a run id (every backend's run of it under O(results_dir)), C(BACKEND/RUN_ID), a run
        directory, another results tree (its newest run with data), or C(previous) (the newest run with data
        before O(run)).
      - A directory must lie inside O(results_dir) or O(results_base) once symbolic links are resolved (it may be
        a survey answer, and the comparison runs as root); anything else is refused.
    type: str
    required: true
  results_base:
    description:
      - Where else a baseline directory may lie (an AWX job template's C(results_base)); empty for none.
    type: str
    default: ""
  run:
    description: The run compared - a run id or C(BACKEND/RUN_ID); the newest run with data when empty.
    type: str
    default: ""
  tolerance:
    description: The smallest change, in percent, that counts as a regression or an improvement (0 to below 100).
    type: float
    default: 5.0
  force:
    description: Compare runs whose tests measured different things (durations, sizes ...); the comparison says so.
    type: bool
    default: false
  display_dir:
    description: How the results directory is written in the comparison. Defaults to O(results_dir).
    type: str
  host:
    description: The key of RV(stats_data), and the host whose runs O(store) is asked for (defaults to the
      inventory host).
    type: str
    default: ""
  store:
    description:
      - A results store (a PostgreSQL DSN such as C(host=db.example dbname=vnb user=vnb), or an SQLite file) -
        O(host)'s runs kept there are compared too (an AWX job's fresh, empty O(results_dir) still finds its
        C(previous) baseline), and the verdict is kept there (C(vnb_verdicts)). Empty - the tree alone.
      - Give a DSN with a password through the environment (C(VOLT_NETBENCH_STORE), the AWX credential type
        C(meta/awx/store-credential-type.yml)), not as an extra var (AWX shows extra vars).
    type: str
    default: ""
attributes:
  check_mode:
    support: full
    description: Compares and returns the verdict, writes no file.
  diff_mode:
    support: none
    description: Nothing to show as a diff; the comparison is written to its own files.
seealso:
  - module: volt.netbench.report
"""

EXAMPLES = r"""
- name: Compare the newest run with the one before it, fail on a regression beyond 5 %
  volt.netbench.compare_runs:
    results_dir: /srv/netbench/results
    against: previous
  register: gate

- name: Compare with a stored last-good run, 3 % tolerance
  volt.netbench.compare_runs:
    results_dir: /srv/netbench/results
    run: 20261203T020000Z
    against: /srv/netbench/last-good
    tolerance: 3
"""

RETURN = r"""
verdict:
  description: C(regression), C(improvement), C(unchanged) (every metric within the tolerance) or C(no detectable change).
  returned: success
  type: str
regression:
  description: A regression beyond the tolerance is significant.
  returned: success
  type: bool
gate_rc:
  description: The gate's exit status - 3 on a regression, else 0.
  returned: success
  type: int
regressions:
  description: The regressed metrics as C(BACKEND METRIC).
  returned: success
  type: list
  elements: str
counts:
  description: How many metrics got each verdict.
  returned: success
  type: dict
differences:
  description: What differs between the two runs (label, baseline, current, kind).
  returned: success
  type: list
  elements: dict
metrics:
  description: Every compared metric - means, repetitions, change, interval, p-values (raw and adjusted), verdict, why.
  returned: success
  type: list
  elements: dict
run:
  description: The compared run's id.
  returned: success
  type: str
against:
  description: The baseline's run id.
  returned: success
  type: str
files:
  description: The written C(markdown), C(json) and C(csv) (empty in check mode).
  returned: success
  type: dict
summary:
  description: The verdict, the differences, each regression and improvement, a line each.
  returned: success
  type: list
  elements: str
message:
  description: RV(summary) on one line.
  returned: success
  type: str
stats_data:
  description: The set_stats data - C(volt_netbench_gate) keyed by host (verdict, rc, regressions, per-metric verdicts).
  returned: success
  type: dict
"""
