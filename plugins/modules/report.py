#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.report runs on the controller (plugins/action/report.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: report
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Write the backend comparison report from recorded benchmark runs
description:
  - Reads the runs under O(results_dir) (C(<backend>/<run_id>/run.json) and C(samples.jsonl)), takes
    for each backend its latest run with data whose configuration matches the newest run's (or exactly
    the runs in O(run_ids)) and writes C(REPORT.md) and C(report.json) in the shape of the Volt results
    template. A newer run without data (every test failed, or not run) never replaces an older one with
    data; it is named under I(Anomalies or Issues).
  - Every cell, percentage change, jitter ratio (P99/P50), ranking and recommendation is computed from
    the recorded samples. A value that was not measured is C(n/a) and explained under
    I(Anomalies or Issues), together with failed and skipped tests, UDP loss, TCP retransmits,
    incomplete pings, TCG acceleration and configuration mismatches between the compared runs.
  - Each cell is the mean of the run's repetitions with its 95 % confidence interval (Student's t); a
    latency percentile cell is the mean of the per-repetition percentiles. A percentage is a ratio of two
    cells' means with its 95 % Fieller interval. Every comparison the report can claim is one family
    (Welch's t-test each) corrected with Holm's method; a difference, a lead or a rank is claimed only
    where the adjusted p is below 0.05, otherwise the report says the backends are not separable, and
    with one repetition that nothing was tested. A backend's rank is 1 + the number of backends that
    beat it.
  - Percentage changes are against O(baseline); positive means better, whichever way better points
    (higher throughput, lower latency).
  - Rows follow the runs' configuration (selected tests, stream count, packet sizes).
  - Beside them it writes C(REPORT.html) (the same model rendered for a browser, one self-contained file
    with the charts inline as SVG), C(summary.csv) (one row per backend and metric) and, with matplotlib,
    C(charts/*.svg) and C(charts/*.png) (throughput, ICMP and TCP percentile curves, packets per second by
    size, transaction rates, host CPU cost), linked from C(REPORT.md). The same runs draw byte-identical charts.
  - Runs on the controller. Reports C(changed) only when the report's content changes.
options:
  results_dir:
    description: Directory holding C(<backend>/<run_id>/) run directories.
    type: path
    required: true
  output_dir:
    description: Where to write C(REPORT.md), C(report.json), C(REPORT.html), C(summary.csv) and C(charts/). Defaults to O(results_dir).
    type: path
  baseline:
    description: Backend the others are compared against.
    type: str
    default: virtio
    choices: [virtio, vhost-net, macvtap]
  run_ids:
    description:
      - Compare exactly these runs (one per backend) instead of the latest of each.
      - Give C(BACKEND/RUN_ID) when the same id exists for several backends.
    type: list
    elements: str
    default: []
  display_dir:
    description: How the results directory is written in the report (Raw Data, Reproducibility). Defaults to O(results_dir).
    type: str
  run_id:
    description:
      - The run that just ended. Adds RV(summary), RV(stats), RV(stats_data) and RV(failures) from the run.json of
        each of its runs (a run without one is C(unrecorded)).
    type: str
  fleet_host:
    description:
      - The hypervisor's name when it is part of a fleet - RV(stats_data) then keys its summary by host
        (C(volt_netbench_hosts)), since set_stats merges every host's data.
    type: str
    default: ""
  store:
    description:
      - A results store (M(volt.netbench.record_run)'s O(volt.netbench.record_run#module:store)) - the report's
        history (trend charts, change points, C(history.csv)) is then O(store_host)'s runs kept there, not only
        the ones this results directory holds (an AWX job's directory holds the job's run alone).
    type: str
    default: ""
  store_host:
    description: Whose runs the history reads from O(store) (default the inventory host).
    type: str
    default: ""
  sweep:
    description:
      - O(run_id) is a sweep's (C(-e sweep=...)) - every backend measured at each point, each point a run of its own
        (C(<backend>/<run_id>+mtu-9000/)). Writes each point's full report and C(SWEEP.md), C(sweep.json),
        C(sweep.csv) and a chart per factor under C(RESULTS_DIR/sweeps/RUN_ID/); every point's comparisons and
        every interaction (does a backend pair's ratio change with a factor?) are one family, corrected together
        (Holm).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Computes the report and whether it would change, writes nothing.
  diff_mode:
    support: partial
    description: Shows the new C(REPORT.md) when it changes.
notes:
  - Percentiles in the underlying samples follow the collection's one definition, Python's
    C(statistics.quantiles(method="inclusive")).
seealso:
  - module: volt.netbench.record_run
"""

EXAMPLES = r"""
- name: Compare the latest run of every backend
  volt.netbench.report:
    results_dir: "{{ playbook_dir }}/../results"

- name: Compare two specific runs against vhost-net
  volt.netbench.report:
    results_dir: /srv/netbench/results
    baseline: vhost-net
    run_ids:
      - vhost-net/20261126T101500Z
      - macvtap/20261126T110200Z
"""

RETURN = r"""
summary:
  description: The closing summary of the run O(run_id) (report, each run's status and cells, % of native, ranking).
  returned: with run_id
  type: str
stats:
  description: The data for set_stats (volt_netbench) - status, error, report, runs, figures, of_native, outcomes, not_run ...
  returned: with run_id
  type: dict
stats_data:
  description: The set_stats data - C(volt_netbench), or C(volt_netbench_hosts) keyed by O(fleet_host).
  returned: with run_id
  type: dict
failures:
  description: The runs of O(run_id) that did not complete.
  returned: with run_id
  type: list
report:
  description: Path of the Markdown report (a sweep's C(SWEEP.md)).
  returned: success
  type: str
  sample: results/REPORT.md
reports:
  description: Each point's C(REPORT.md), by point (C(mtu=9000)).
  returned: with sweep
  type: dict
interactions:
  description: The interactions these repetitions support, as the sweep's report states them.
  returned: with sweep
  type: list
report_json:
  description: Path of the machine-readable report model.
  returned: success
  type: str
measured:
  description: Backends with measured results.
  returned: success
  type: list
  elements: str
  sample: [virtio, macvtap]
runs:
  description: Run id used for each backend.
  returned: success
  type: dict
ranking:
  description: Backends in order of rank and composite score; a rank is 1 + the number of backends that beat it
    after the family's correction (Holm).
  returned: success
  type: list
  elements: dict
ranking_text:
  description: The ranking in one line, C(>) between neighbours the family separates and C(=) where it does not;
    a pair further apart whose relation the chain does not show follows after C(;).
  returned: success
  type: str
  sample: macvtap > virtio = vhost-net
recommendations:
  description: Default, high-performance and fallback recommendations as written in the report.
  returned: success
  type: dict
report_html:
  description: Path of REPORT.html (the same report for a browser, charts inline).
  returned: success
  type: str
summary_csv:
  description: Path of summary.csv (one row per backend and metric - n, mean, interval, unit, run id).
  returned: success
  type: str
charts:
  description: Paths of the SVG charts (each has a PNG beside it); empty when matplotlib is missing.
  returned: success
  type: list
  elements: str
figures:
  description: Every table cell as written in the report with its unit, per backend (and C(native) when the
    reference was measured) and row label.
  returned: success
  type: dict
of_native:
  description: Each measured backend's mean as a percentage of the native reference's, with its 95 % interval,
    per row label (empty when no native reference was measured).
  returned: success
  type: dict
  sample: {"virtio": {"TCP Single Stream": "45 % [40, 50]"}}
anomalies:
  description: Every line of the report's Anomalies or Issues section.
  returned: success
  type: list
  elements: str
"""
