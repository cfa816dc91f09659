# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parse_netperf filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: parse_netperf
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Parse netperf 2.7 omni output with -o CSV selectors
description:
  - Takes the text printed by C(netperf -t TEST -j -- -o SELECTORS) (TCP_RR, TCP_CRR, UDP_RR or a
    stream test) and returns the transaction rate, throughput and units, and latency statistics.
  - Format checked against real output of netperf 2.7 (C(tests/fixtures/)).
  - Request/response latencies are full round trips in microseconds. Percentile columns are only
    filled when netperf ran with C(-j); a negative value (not collected) is refused.
  - netperf's own errors (for example no netserver listening) fail with netperf's message.
positional: _input
options:
  _input:
    description: netperf's standard output.
    type: str
    required: true
  source:
    description: Name of the file the output came from, used in error messages.
    type: str
"""

EXAMPLES = r"""
- name: TCP_RR transactions per second
  ansible.builtin.debug:
    msg: "{{ (lookup('ansible.builtin.file', 'tcp_rr.txt') | volt.netbench.parse_netperf).transaction_rate }}"
"""

RETURN = r"""
_value:
  description: Parsed netperf result.
  type: dict
  contains:
    test:
      description: Test named in the banner (C(TCP_RR), C(TCP_CRR), C(UDP_RR), C(TCP_STREAM) ...), null without banner.
      type: str
    transaction_rate:
      description: Transactions per second (request/response tests).
      type: float
    throughput:
      description: Throughput in RV(_value.throughput_units).
      type: float
    throughput_units:
      description: Units as netperf printed them, e.g. C(Trans/s) or C(10^6bits/s).
      type: str
    throughput_bps:
      description: Throughput in bits/s when the units are bits.
      type: float
    latency_mean_us:
      description: Mean round-trip latency.
      type: float
    latency_p50_us:
      description: Median round-trip latency.
      type: float
    latency_p90_us:
      description: 90th percentile.
      type: float
    latency_p99_us:
      description: 99th percentile.
      type: float
    latency_stddev_us:
      description: Standard deviation.
      type: float
    fields:
      description: Every selected column as printed, keyed by its header.
      type: dict
"""

from ansible_collections.volt.netbench.plugins.plugin_utils.core.filter_call import call_parser
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.netperf import parse_netperf as _parse_netperf


def parse_netperf(data, source=None):
    """Filter entry point: argument check, then the tested parser."""
    return call_parser("parse_netperf", _parse_netperf, data, source)


class FilterModule:
    """volt.netbench.parse_netperf"""

    def filters(self):
        return {"parse_netperf": parse_netperf}
