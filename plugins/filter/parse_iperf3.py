# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The parse_iperf3 filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: parse_iperf3
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Parse iperf3 -J output into receiver-side results
description:
  - Takes the JSON text printed by C(iperf3 -J) (or the already decoded dict) and returns the
    test configuration and its results as a flat dict.
  - Throughput is read from C(end.sum_received), i.e. what the receiver got. For UDP the
    sender-side C(end.sum) is never used; packets per second is the number of datagrams that
    arrived divided by the receiver's measured seconds.
  - Formats checked against real output (C(tests/fixtures/)) - iperf3 3.11 to 3.18 (Debian bookworm's and
    trixie's). An older UDP output, without the receiver's rate, is refused naming the version it needs.
  - A document with a top-level C(error) (for example C(unable to connect to server)) fails
    with iperf3's message. Missing or malformed fields fail with a message naming the parser,
    the source and the field.
positional: _input
options:
  _input:
    description: iperf3 C(-J) output as text, or the decoded JSON dict.
    type: raw
    required: true
  source:
    description: Name of the file the output came from, used in error messages.
    type: str
"""

EXAMPLES = r"""
- name: Parse a stored iperf3 result
  ansible.builtin.set_fact:
    tcp: "{{ lookup('ansible.builtin.file', 'tcp_single.json') | volt.netbench.parse_iperf3(source='tcp_single.json') }}"

- name: Show receiver throughput in Gbit/s
  ansible.builtin.debug:
    msg: "{{ (tcp.receiver_bps / 1e9) | round(2) }} Gbit/s, {{ tcp.retransmits }} retransmits"
"""

RETURN = r"""
_value:
  description: Parsed iperf3 result.
  type: dict
  contains:
    protocol:
      description: C(TCP) or C(UDP).
      type: str
    streams:
      description: Parallel streams (C(-P)).
      type: int
    reverse:
      description: Whether the server sent (C(-R)).
      type: bool
    duration_s:
      description: Configured test duration in seconds (C(-t)).
      type: float
    seconds:
      description: Seconds the receiver measured.
      type: float
    block_size:
      description: Write size in bytes (C(-l)); the datagram payload for UDP.
      type: int
    sender_bps:
      description: Sender rate, bits/s (C(end.sum_sent)).
      type: float
    receiver_bps:
      description: Receiver rate, bits/s (C(end.sum_received)).
      type: float
    bytes_received:
      description: Bytes the receiver got.
      type: int
    retransmits:
      description: TCP retransmits reported by the sender (TCP only).
      type: int
    packets:
      description: Datagrams sent as seen by the receiver (UDP only).
      type: int
    lost_packets:
      description: Datagrams lost (UDP only).
      type: int
    received_packets:
      description: packets - lost_packets (UDP only).
      type: int
    lost_percent:
      description: Loss in percent (UDP only).
      type: float
    jitter_ms:
      description: Receiver jitter in milliseconds (UDP only).
      type: float
    received_pps:
      description: Datagrams received per second (UDP only).
      type: float
    target_bitrate:
      description: Requested rate in bits/s, 0 = unlimited (UDP only).
      type: float
"""

from ansible_collections.volt.netbench.plugins.plugin_utils.core.filter_call import call_parser
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.iperf3 import parse_iperf3 as _parse_iperf3


def parse_iperf3(data, source=None):
    """Filter entry point: argument check, then the tested parser."""
    return call_parser("parse_iperf3", _parse_iperf3, data, source)


class FilterModule:
    """volt.netbench.parse_iperf3"""

    def filters(self):
        return {"parse_iperf3": parse_iperf3}
