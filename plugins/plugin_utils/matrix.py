# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's vocabulary: backends, tools and the report's rows.

One place says which test and which metric fills each cell of the report, which way is
better, and how a value is shown, so the playbooks, the results model and the report agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.iperf3 import parse_iperf3
from ansible_collections.volt.netbench.plugins.plugin_utils.netperf import parse_netperf
from ansible_collections.volt.netbench.plugins.plugin_utils.ping import parse_ping
from ansible_collections.volt.netbench.plugins.plugin_utils.sockperf import parse_sockperf

BACKENDS = ("virtio", "vhost-net", "macvtap")
PARSERS: dict[str, Callable[..., dict[str, Any]]] = {
    "iperf3": parse_iperf3,
    "ping": parse_ping,
    "sockperf": parse_sockperf,
    "netperf": parse_netperf,
}
PPS_SIZES = (64, 128, 256, 512)


@dataclass(frozen=True)
class Row:
    """One row of a report table: which test/metric fills it and how it compares."""

    section: str
    label: str
    test: str
    metric: str
    scale: float
    unit: str
    higher_is_better: bool
    digits: int


SECTIONS = (
    ("throughput", "Throughput (Gbps)", "Test"),
    ("latency", "Latency (microseconds)", "Metric"),
    ("pps", "Packets Per Second", "Packet Size"),
    ("transactions", "Transaction Rates (trans/sec)", "Test"),
)

ROWS: tuple[Row, ...] = (
    Row("throughput", "TCP Single Stream", "iperf3_tcp_single", "receiver_bps", 1e-9, "Gbps", True, 2),
    Row("throughput", "TCP Multi-8 Stream", "iperf3_tcp_multi", "receiver_bps", 1e-9, "Gbps", True, 2),
    Row("throughput", "UDP Maximum", "iperf3_udp_max", "receiver_bps", 1e-9, "Gbps", True, 2),
    Row("throughput", "TCP Reverse", "iperf3_tcp_reverse", "receiver_bps", 1e-9, "Gbps", True, 2),
    Row("latency", "ICMP P50", "ping", "rtt_p50_us", 1.0, "µs", False, 1),
    Row("latency", "ICMP P95", "ping", "rtt_p95_us", 1.0, "µs", False, 1),
    Row("latency", "ICMP P99", "ping", "rtt_p99_us", 1.0, "µs", False, 1),
    Row("latency", "TCP P50", "sockperf_tcp", "latency_p50_us", 1.0, "µs", False, 1),
    Row("latency", "TCP P99", "sockperf_tcp", "latency_p99_us", 1.0, "µs", False, 1),
    *(Row("pps", f"{size} bytes", f"pps_{size}", "received_pps", 1.0, "pps", True, 0) for size in PPS_SIZES),
    Row("transactions", "TCP_RR", "netperf_tcp_rr", "transaction_rate", 1.0, "trans/sec", True, 0),
    Row("transactions", "TCP_CRR", "netperf_tcp_crr", "transaction_rate", 1.0, "trans/sec", True, 0),
    Row("transactions", "UDP_RR", "netperf_udp_rr", "transaction_rate", 1.0, "trans/sec", True, 0),
)

# Which tool runs each test of the matrix (the playbook and the results model share this).
TEST_TOOLS: dict[str, str] = {row.test: row.test.split("_")[0] for row in ROWS}
TEST_TOOLS.update({f"pps_{size}": "iperf3" for size in PPS_SIZES})
TEST_TOOLS["ping"] = "ping"


def unit_of(metric: str) -> str:
    """Unit of a parsed field, from its name."""
    if metric.endswith("_bps"):
        return "bit/s"
    if metric.endswith("_us"):
        return "us"
    if metric.endswith("_ms"):
        return "ms"
    if metric.endswith("_pps"):
        return "pps"
    if metric.endswith("_percent"):
        return "%"
    if metric.endswith("_s") or metric == "seconds":
        return "s"
    if metric == "transaction_rate":
        return "trans/s"
    if metric == "throughput":
        return "tool units"
    return "count"
