# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parse_sockperf filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: parse_sockperf
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Parse sockperf ping-pong output (or its --full-log CSV) into latency percentiles
description:
  - Takes the text printed by C(sockperf ping-pong) (ANSI colour codes are stripped) and returns
    the number of observations and the latency statistics in microseconds, as sockperf printed them.
  - Formats checked - the summary line of sockperf 3.5/3.6 (C(avg-lat)), 3.7 (C(avg-rtt), C(avg-latency); real
    output in C(tests/fixtures/)) and 3.8-3.10 (with its extra statistics, as their C(src/client.cpp) prints it).
  - Without C(--full-rtt) sockperf reports one-way latency (round trip / 2); with it, the full round
    trip. C(round_trip) in the result says which one the numbers are.
  - Given the CSV written by C(--full-log FILE) instead, every observation is read and any
    percentile can be computed (see O(percentiles)) with the collection's percentile definition,
    Python's C(statistics.quantiles(method="inclusive")). The CSV's C(rtt) column is a round trip.
  - "Output with C(sockperf: ERROR) and no statistics fails with sockperf's message."
positional: _input
options:
  _input:
    description: sockperf's standard output, or the content of a C(--full-log) CSV file.
    type: str
    required: true
  source:
    description: Name of the file the output came from, used in error messages.
    type: str
  percentiles:
    description: Percentiles to compute from a C(--full-log) CSV (ignored for summary output).
    type: list
    elements: float
    default: [50, 90, 99, 99.9]
"""

EXAMPLES = r"""
- name: TCP latency from sockperf ping-pong
  ansible.builtin.debug:
    msg: "P99 {{ (lookup('ansible.builtin.file', 'sockperf.txt') | volt.netbench.parse_sockperf).latency_p99_us }} us"

- name: Any percentile from a full log
  ansible.builtin.debug:
    msg: "{{ (lookup('ansible.builtin.file', 'full.csv') | volt.netbench.parse_sockperf(percentiles=[50, 99.99])).percentiles_us }}"
"""

RETURN = r"""
_value:
  description: Parsed sockperf result (times in microseconds).
  type: dict
  contains:
    source_format:
      description: C(summary) or C(full-log).
      type: str
    round_trip:
      description: True when the values are round trips, false when one-way (RTT/2).
      type: bool
    observations:
      description: Number of latency observations.
      type: int
    latency_avg_us:
      description: Average latency.
      type: float
    latency_stddev_us:
      description: Standard deviation.
      type: float
    latency_min_us:
      description: Minimum observation.
      type: float
    latency_max_us:
      description: Maximum observation.
      type: float
    latency_p50_us:
      description: Median.
      type: float
    latency_p90_us:
      description: 90th percentile.
      type: float
    latency_p99_us:
      description: 99th percentile.
      type: float
    latency_p99_9_us:
      description: 99.9th percentile.
      type: float
    percentiles_us:
      description: Every percentile available, keyed C(p50), C(p99_9), ...
      type: dict
    dropped:
      description: Dropped messages (summary only).
      type: int
    duration_s:
      description: Measured duration in seconds.
      type: float
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.core.filter_call import call_parser
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.sockperf import parse_sockperf as _parse_sockperf


def parse_sockperf(data, source=None, percentiles=(50, 90, 99, 99.9)):
    """Filter entry point: argument check, then the tested parser."""
    if isinstance(percentiles, (str, bytes)) or not hasattr(percentiles, "__iter__"):
        raise AnsibleFilterError(f"parse_sockperf: percentiles must be a list of numbers, got {percentiles!r}")
    return call_parser("parse_sockperf", _parse_sockperf, data, source, percentiles=list(percentiles))


class FilterModule:
    """volt.netbench.parse_sockperf"""

    def filters(self):
        return {"parse_sockperf": parse_sockperf}
