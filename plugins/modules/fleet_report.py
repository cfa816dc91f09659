#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: volt.netbench.fleet_report runs on the controller (plugins/action/fleet_report.py).

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_report
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Compare the backends across a fleet of hypervisors
description:
  - Reads each host's runs under O(results_dir)/<host>/ (as the benchmark role writes them in a fleet run), builds
    each host's report model and writes the fleet's C(REPORT.md), C(REPORT.html) (self-contained, the chart
    inline), C(fleet.csv) and its chart C(charts/fleet_ratios.svg|png) (a forest plot of the tested comparisons)
    in O(results_dir).
  - Per row of the report, a host x backend table of the hosts' cells (as each host's report shows them); per row
    and pair of backends, a comparison with the hosts as blocks - the geometric mean over the hosts that measured
    both of the per-host ratio of means, its t interval and p - all of them one family corrected with Holm's
    method, a difference claimed only where it survives; outlier hosts by the robust z-score (median/MAD,
    |z| > 3.5, three or more hosts); the hosts' environments with their differences; the hosts without a report
    and why.
  - Runs on the controller.
options:
  results_dir:
    description: The fleet's results tree (one directory per host).
    type: path
    required: true
  hosts:
    description: The fleet's hypervisors (inventory names), in the order the report lists them.
    type: list
    elements: str
    required: true
  failures:
    description: Why a host stopped (host -> message), shown for the hosts without a report.
    type: dict
    default: {}
  baseline:
    description: The backend each host's report compares with.
    type: str
    default: virtio
    choices: [virtio, vhost-net, macvtap]
  display_dir:
    description: How the results directory is written in the report. Defaults to O(results_dir).
    type: str
attributes:
  check_mode:
    support: full
    description: Builds the model, writes nothing.
seealso:
  - module: volt.netbench.report
"""

EXAMPLES = r"""
- name: Compare the fleet
  volt.netbench.fleet_report:
    results_dir: results
    hosts: "{{ ansible_play_hosts_all }}"
  run_once: true
  delegate_to: localhost
"""

RETURN = r"""
report:
  description: The fleet's REPORT.md.
  returned: success
  type: str
html:
  description: The fleet's REPORT.html.
  returned: success
  type: str
csv:
  description: The fleet's fleet.csv.
  returned: success
  type: str
reported:
  description: The hosts with a report.
  returned: success
  type: list
missing:
  description: The hosts without one, and why.
  returned: success
  type: dict
claims:
  description: The differences between backends the fleet supports.
  returned: success
  type: list
outliers:
  description: The outlier hosts' figures.
  returned: success
  type: list
"""
