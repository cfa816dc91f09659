# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse ``iperf3 -J`` output (iperf 3.7 and later).

Throughput is taken from ``end.sum_received`` (what arrived at the receiver) for both TCP
and UDP. For UDP ``end.sum`` is the sender's rate and is never used for results.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.parsers._common import as_text, dig, number
from ansible_collections.volt.netbench.plugins.plugin_utils.core.errors import ParseError

PARSER = "parse_iperf3"
# iperf3 3.11 is the first to report what the receiver saw for UDP (end.sum_received), the only rate
# the report uses; older ones report the sender's rate alone.
MIN_VERSION = (3, 11)
VERSION_RE = re.compile(r"^iperf (\d+)\.(\d+)", re.M)


def version_problem(version_output: str, where: str = "the guest") -> str:
    """Why the iperf3 whose ``iperf3 --version`` printed VERSION_OUTPUT cannot be used ('' when it can)."""
    match = VERSION_RE.search(version_output or "")
    if match is None:
        first = (version_output or "").strip().splitlines()[:1]
        return (f"iperf3 on {where} did not report its version ({first[0] if first else 'no output'!r}): "
                f"the benchmark needs iperf3 {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer")
    found = (int(match.group(1)), int(match.group(2)))
    if found < MIN_VERSION:
        return (f"iperf3 {found[0]}.{found[1]} on {where} is too old: the benchmark needs "
                f"{MIN_VERSION[0]}.{MIN_VERSION[1]} or newer, the first to report the receiver's UDP rate "
                "(end.sum_received). Install a newer iperf3 in the guest image (Debian 12 has 3.12).")
    return ""


def parse_iperf3(data: str | bytes | dict, source: str | None = None) -> dict[str, Any]:
    """Return a flat dict of the run's configuration and receiver-side results."""
    if isinstance(data, dict):
        doc = data
    else:
        text = as_text(PARSER, source, data)
        try:
            doc = json.loads(text)
        except ValueError as err:
            raise ParseError(PARSER, source, f"not iperf3 -J output (invalid JSON: {err})") from err
    if not isinstance(doc, dict):
        raise ParseError(PARSER, source, "not iperf3 -J output (top level is not an object)")
    if "error" in doc:
        raise ParseError(PARSER, source, f"iperf3 reported an error: {doc['error']}")

    test_start = dig(PARSER, source, doc, "start.test_start")
    protocol = dig(PARSER, source, test_start, "protocol")
    if protocol not in ("TCP", "UDP"):
        raise ParseError(PARSER, source, f"unsupported protocol {protocol!r} (TCP or UDP expected)")
    end, start = doc.get("end"), doc.get("start")
    if protocol == "UDP" and isinstance(end, dict) and "sum_received" not in end:
        version = str((start.get("version") if isinstance(start, dict) else None) or "an unnamed version")
        raise ParseError(PARSER, source, f"missing end.sum_received, the receiver's side of a UDP test, which iperf3 "
                                         f"reports from {MIN_VERSION[0]}.{MIN_VERSION[1]} on (this output: {version}); "
                                         f"the benchmark needs iperf3 {MIN_VERSION[0]}.{MIN_VERSION[1]} or newer in "
                                         "the guests")
    received = dig(PARSER, source, doc, "end.sum_received")
    sent = dig(PARSER, source, doc, "end.sum_sent")
    where_rx = "end.sum_received"

    result: dict[str, Any] = {
        "protocol": protocol,
        "streams": int(number(PARSER, source, test_start, "num_streams", minimum=1)),
        "reverse": bool(number(PARSER, source, test_start, "reverse")),
        "duration_s": number(PARSER, source, test_start, "duration"),
        "block_size": int(number(PARSER, source, test_start, "blksize")),
        "seconds": _n(source, received, where_rx, "seconds"),
        "sender_bps": _n(source, sent, "end.sum_sent", "bits_per_second"),
        "receiver_bps": _n(source, received, where_rx, "bits_per_second"),
        "bytes_received": int(_n(source, received, where_rx, "bytes")),
    }
    rcvbuf = start.get("rcvbuf_actual") if isinstance(start, dict) else None
    if isinstance(rcvbuf, int) and not isinstance(rcvbuf, bool) and rcvbuf > 0:
        # what the client's socket got (SO_RCVBUF as the kernel set it; older releases may not say): the buffer of that
        # path's sockets, shown per path under Test Configuration
        result["rcvbuf_bytes"] = rcvbuf
    cpu = (doc.get("end") or {}).get("cpu_utilization_percent")
    if isinstance(cpu, dict):
        # iperf3's own reading of its process's CPU: "host" is the client (where -c ran), "remote" the server
        for key, name in (("host_total", "client_cpu_percent"), ("remote_total", "server_cpu_percent")):
            value = cpu.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                result[name] = float(value)
    if protocol == "TCP":
        result["retransmits"] = int(_n(source, sent, "end.sum_sent", "retransmits"))
        return result

    packets = int(_n(source, received, where_rx, "packets"))
    lost = int(_n(source, received, where_rx, "lost_packets"))
    lost_percent = _n(source, received, where_rx, "lost_percent")
    if lost < 0 or packets < 0:
        raise ParseError(PARSER, source, f"{where_rx}: negative packet counts ({packets} packets, {lost} lost)")
    if lost > packets:
        # iperf3 (3.12 at least) counts the datagrams of its -O warm-up into lost_packets when the receiver falls
        # behind (tests/fixtures/iperf3/udp_64b_omit_miscount.*): the bytes received in the measured interval say
        # how many of its datagrams arrived, each block_size bytes
        if result["block_size"] <= 0:
            raise ParseError(PARSER, source, f"{where_rx}.lost_packets ({lost}) exceeds packets ({packets})")
        result["iperf3_lost_packets"] = lost
        lost = packets - min(result["bytes_received"] // result["block_size"], packets)
        lost_percent = lost / packets * 100.0 if packets else 0.0
    seconds = result["seconds"]
    if seconds <= 0:
        raise ParseError(PARSER, source, f"{where_rx}.seconds is zero: no receiver interval")
    result.update(
        {
            "target_bitrate": number(PARSER, source, test_start, "target_bitrate"),
            "packets": packets,
            "lost_packets": lost,
            "received_packets": packets - lost,
            "lost_percent": lost_percent,
            "jitter_ms": _n(source, received, where_rx, "jitter_ms"),
            "received_pps": (packets - lost) / seconds,
        }
    )
    return result


def _n(source: str | None, node: Any, where: str, key: str) -> float:
    try:
        return number(PARSER, source, node, key)
    except ParseError as err:
        # re-labelled with the full path; the inner error adds nothing
        raise ParseError(PARSER, source, err.problem.replace(key, f"{where}.{key}", 1)) from None
