# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parse_ping filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: parse_ping
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Parse iputils or busybox ping output into loss and RTT percentiles
description:
  - Takes the text printed by iputils C(ping) or C(busybox ping) and returns the packet counts,
    the loss and the round-trip statistics in B(microseconds).
  - RTT statistics are computed from the per-reply C(time=) lines, not from the summary line,
    so output of C(ping -q) (which has no per-reply lines) is refused. Duplicate replies are
    counted but not used for RTTs.
  - Percentiles use the collection's one definition, Python's
    C(statistics.quantiles(method="inclusive")) (linear interpolation, numpy's default).
  - Formats checked against real output (C(tests/fixtures/)) - iputils 20221126 and 20240905, with or without
    C(-D)'s time stamps and C(-O)'s "no answer yet" lines; BusyBox 1.35 and 1.37.
  - A ping that got no reply at all is a result, not an error - C(loss_percent) 100, C(no_reply) true, no round
    trip. Output with no summary line, or fewer reply lines than the summary claims, fails with a message naming
    the parser and the problem.
positional: _input
options:
  _input:
    description: ping's standard output.
    type: str
    required: true
  source:
    description: Name of the file the output came from, used in error messages.
    type: str
"""

EXAMPLES = r"""
- name: ICMP percentiles from a stored ping run
  ansible.builtin.debug:
    msg: "{{ lookup('ansible.builtin.file', 'ping.txt') | volt.netbench.parse_ping }}"
"""

RETURN = r"""
_value:
  description: Parsed ping result (times in microseconds).
  type: dict
  contains:
    flavour:
      description: C(iputils) or C(busybox).
      type: str
    transmitted:
      description: Echo requests sent.
      type: int
    received:
      description: Replies received, duplicates excluded.
      type: int
    duplicates:
      description: Duplicate replies.
      type: int
    loss_percent:
      description: 100 * (transmitted - received) / transmitted.
      type: float
    rtt_count:
      description: Number of per-reply times used.
      type: int
    no_reply:
      description: True when no reply came back at all (then there are no RTT fields).
      type: bool
    rtt_min_us:
      description: Minimum RTT.
      type: float
    rtt_mean_us:
      description: Mean RTT.
      type: float
    rtt_p50_us:
      description: Median RTT.
      type: float
    rtt_p90_us:
      description: 90th percentile RTT.
      type: float
    rtt_p95_us:
      description: 95th percentile RTT.
      type: float
    rtt_p99_us:
      description: 99th percentile RTT.
      type: float
    rtt_max_us:
      description: Maximum RTT.
      type: float
    rtt_stddev_us:
      description: Population standard deviation of the RTTs.
      type: float
"""

from ansible_collections.volt.netbench.plugins.plugin_utils.core.filter_call import call_parser
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.ping import parse_ping as _parse_ping


def parse_ping(data, source=None):
    """Filter entry point: argument check, then the tested parser."""
    return call_parser("parse_ping", _parse_ping, data, source)


class FilterModule:
    """volt.netbench.parse_ping"""

    def filters(self):
        return {"parse_ping": parse_ping}
