# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark's vocabulary: backends, tools and the report's rows.

One place says which test and which metric fills each cell of the report, which way is
better, and how a value is shown, so the playbooks, the results model and the report agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils.backends import BACKENDS
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.iperf3 import parse_iperf3
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.netperf import parse_netperf
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.ping import parse_ping
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import pps_search
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import JOB_DIR, RATE_FIELD
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.sockperf import parse_sockperf

# The reference path: the same matrix between two network namespaces on the lab's wiring, no VM.
NATIVE = "native"
# Every data path a run can measure: the backends, then the reference.
PATHS = (*BACKENDS, NATIVE)
# Tools the native reference runs on the hypervisor (netperf also needs netserver).
NATIVE_TOOLS = {"iperf3": ("iperf3",), "ping": ("ping",), "sockperf": ("sockperf",), "netperf": ("netperf", "netserver")}
PARSERS: dict[str, Callable[..., dict[str, Any]]] = {
    "iperf3": parse_iperf3,
    "ping": parse_ping,
    "sockperf": parse_sockperf,
    "netperf": parse_netperf,
}
PPS_SIZES = (64, 128, 256, 512)
MAX_REPEAT = 50


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
    # A latency percentile (its cell is the mean of the per-repetition percentiles; its chart pools the replies).
    percentile: float | None = None


SECTIONS = (
    ("throughput", "Throughput (Gbps)", "Test"),
    ("latency", "Latency (microseconds)", "Metric"),
    ("latency_load", "Latency Under Load (microseconds)", "Metric"),
    ("pps", "Packets Per Second", "Packet Size"),
    ("pps_flood", "Packets Per Second, Flood (for comparison)", "Packet Size"),
    ("transactions", "Transaction Rates (trans/sec)", "Test"),
    ("cpu", "Host CPU Cost (CPU-seconds per unit of work)", "Test"),
)
# Units of work of the host CPU cost: the rate metric, its factor to the unit, the row's unit and digits.
CPU_UNITS = {
    "Gbit": ("receiver_bps", 1e-9, "CPU-s/Gbit", 3),
    "million packets": ("received_pps", 1e-6, "CPU-s/Mpkt", 2),
    "10k transactions": ("transaction_rate", 1e-4, "CPU-s/10k", 3),
}
# The tests with a host CPU cost, and their unit of work (PPS tests: a million packets).
CPU_WORK = {"iperf3_tcp_single": "Gbit", "iperf3_tcp_multi": "Gbit", "iperf3_tcp_reverse": "Gbit",
            "netperf_tcp_rr": "10k transactions", "netperf_udp_rr": "10k transactions"}
CPU_PARTS = (("vcpu", "guest vCPU threads"), ("qemu_io", "QEMU main loop and I/O threads"),
             ("vhost", "vhost workers"), ("kernel", "host kernel and the rest (softirq: bridge, macvtap)"))


def cpu_work(test_name: str) -> str | None:
    """The unit of work of TEST_NAME's host CPU cost (a key of CPU_UNITS), or None."""
    return "million packets" if test_name.startswith("pps_") else CPU_WORK.get(test_name)


def cpu_window(test_name: str, parsed: dict[str, Any], run: list[float] | None,
               duration_s: float | None = None) -> list[float] | None:
    """The part of a test's run whose work its rate measures, on the sampler's clock: RUN is the tool's whole
    run ([start, end], mapped from the client's own clock by run_control.tool_clock); the measured interval
    ends with it (the tool reports as it exits) and lasts what the tool itself measured - iperf3's
    receiver seconds (its non-omitted intervals: `-O` warm-up and connection set-up left out), netperf's
    `-l` test length (DURATION_S). Tests without a unit of work (ping, sockperf) keep their whole run.
    None without RUN."""
    if not run or len(run) != 2 or run[1] <= run[0]:
        return None
    start, end = float(run[0]), float(run[1])
    if test_name.startswith(("iperf3_", "pps_")):
        measured = parsed.get("seconds")
    elif test_name.startswith("netperf_"):
        measured = duration_s
    else:
        measured = None
    if isinstance(measured, (int, float)) and not isinstance(measured, bool) and 0 < measured < end - start:
        start = end - float(measured)
    return [round(start, 3), round(end, 3)]


def cpu_cost(parsed: dict[str, Any], test_name: str) -> dict[str, float]:
    """Host CPU-seconds per unit of work: the CPU rate over the test's window divided by its work rate,
    in total and per part (``host_cpu_cost``, ``host_cpu_cost_vcpu``, ...). Empty without CPU samples."""
    work = cpu_work(test_name)
    window, total = parsed.get("host_cpu_window_s"), parsed.get("host_cpu_total_s")
    if work is None or not window or total is None:
        return {}
    metric, factor, _unit, _digits = CPU_UNITS[work]
    rate = (parsed.get(metric) or 0) * factor
    if rate <= 0:
        # CPU spent on no work: a cost per unit of work without bound - no cost sample; the report says why
        return {"cpu_cost_unbounded": True}
    out = {"host_cpu_cost": total / window / rate}
    for part, _label in CPU_PARTS:
        out[f"host_cpu_cost_{part}"] = (parsed.get(f"host_cpu_{part}_s") or 0.0) / window / rate
    return out


MULTI_LABEL = "TCP Multi-{streams} Stream"
# The latency probes that also run while `streams` TCP flows load the same path (the idle test they mirror).
LOADED = {"ping_loaded": "ping", "sockperf_loaded": "sockperf_tcp"}
# The load starts this long before its latency probe (iperf3's connection set-up and its -O warm-up second).
LOAD_LEAD_S = 1.5
# A probe that sends a count (ping -c N -i I) takes longer when the load it runs beside keeps the guest's CPU busy:
# its load is sized for this many times its nominal N x I, so that it still covers the probe (a load that ends first
# fails the test). Measured here: 100 pings at 0.01 s beside 8 TCP streams on a 1-vCPU TCG guest sent for 2.26 s
# and ran 3.1 s in all (nominal 1 s). A time-bound probe (sockperf -t) does not stretch.
LOAD_PROBE_STRETCH = 3.0
# A sweep's load points: the latency tests beside a paced UDP flow of this payload (it fits a 1500-byte MTU) at a
# fraction of the loss-bounded rate the CAPACITY search finds at the point; RATE_FIELD is where the run puts the rate.
CAPACITY = "load_capacity"
LOAD_PAYLOAD = 1400


def report_rows(streams: int = 8, pps_sizes: list[int] | tuple[int, ...] = PPS_SIZES,
                tests: list[str] | None = None, pps_mode: str = "flood") -> tuple[Row, ...]:
    """The report's rows for a run's configuration: the multi-stream row is labelled with its stream
    count, one PPS row per payload size, and only the tests the run selected (all when None). With the
    defaults these are the seed's rows with the latency under load after the idle latency, followed by the
    host CPU cost of every test that has one. A PPS search (PPS_MODE 'search') adds each size's flood beside it."""
    sizes = sorted(set(int(s) for s in pps_sizes))
    rows = (
        Row("throughput", "TCP Single Stream", "iperf3_tcp_single", "receiver_bps", 1e-9, "Gbps", True, 2),
        Row("throughput", MULTI_LABEL.format(streams=streams), "iperf3_tcp_multi", "receiver_bps", 1e-9, "Gbps",
            True, 2),
        Row("throughput", "UDP Maximum", "iperf3_udp_max", "receiver_bps", 1e-9, "Gbps", True, 2),
        Row("throughput", "TCP Reverse", "iperf3_tcp_reverse", "receiver_bps", 1e-9, "Gbps", True, 2),
        Row("latency", "ICMP P50", "ping", "rtt_p50_us", 1.0, "µs", False, 1, 50),
        Row("latency", "ICMP P95", "ping", "rtt_p95_us", 1.0, "µs", False, 1, 95),
        Row("latency", "ICMP P99", "ping", "rtt_p99_us", 1.0, "µs", False, 1, 99),
        Row("latency", "TCP P50", "sockperf_tcp", "latency_p50_us", 1.0, "µs", False, 1, 50),
        Row("latency", "TCP P99", "sockperf_tcp", "latency_p99_us", 1.0, "µs", False, 1, 99),
        Row("latency_load", "ICMP P50", "ping_loaded", "rtt_p50_us", 1.0, "µs", False, 1, 50),
        Row("latency_load", "ICMP P99", "ping_loaded", "rtt_p99_us", 1.0, "µs", False, 1, 99),
        Row("latency_load", f"Load beside ICMP ({streams} TCP streams, Gbps)", "ping_loaded", "load_bps", 1e-9,
            "Gbps", True, 2),
        Row("latency_load", "TCP P50", "sockperf_loaded", "latency_p50_us", 1.0, "µs", False, 1, 50),
        Row("latency_load", "TCP P99", "sockperf_loaded", "latency_p99_us", 1.0, "µs", False, 1, 99),
        Row("latency_load", f"Load beside TCP ({streams} TCP streams, Gbps)", "sockperf_loaded", "load_bps", 1e-9,
            "Gbps", True, 2),
        *(Row("pps", f"{size} bytes", f"pps_{size}", "received_pps", 1.0, "pps", True, 0)
          for size in sizes),
        *(Row("pps_flood", f"{size} bytes", f"pps_{size}", "flood_pps", 1.0, "pps", True, 0)
          for size in sizes if pps_mode == "search"),
        Row("transactions", "TCP_RR", "netperf_tcp_rr", "transaction_rate", 1.0, "trans/sec", True, 0),
        Row("transactions", "TCP_CRR", "netperf_tcp_crr", "transaction_rate", 1.0, "trans/sec", True, 0),
        Row("transactions", "UDP_RR", "netperf_udp_rr", "transaction_rate", 1.0, "trans/sec", True, 0),
    )
    rows += tuple(Row("cpu", f"{r.label}, per {unit}", r.test, "host_cpu_cost", 1.0, CPU_UNITS[unit][2], False,
                      CPU_UNITS[unit][3]) for r in rows if r.section != "pps_flood" and (unit := cpu_work(r.test)))
    if tests is not None:
        rows = tuple(r for r in rows if r.test in tests)
    return rows


def compared(row: Row) -> bool:
    """Whether the report compares the backends on ROW: not on a search's flood beside it, nor on the load that
    kept a path busy while its latency was measured (context for a row, not a result of its own)."""
    return is_compared(row.section, row.metric)


# The sections whose rows share a label with the seed's rows (ICMP P50, 64 bytes), and what a sentence calls them.
SECTION_SUFFIX = {"latency_load": " under load", "pps_flood": " flood"}


def row_name(section: str, label: str) -> str:
    """A row's name outside its table (COMPARE.md, the fleet report): its label, with what the table is where
    another table has the same label - 'ICMP P50 under load', '64 bytes flood'."""
    return f"{label}{SECTION_SUFFIX.get(section, '')}"


def is_compared(section: str, metric: str) -> bool:
    """:func:`compared` for a row known by its section and metric (a report model's table row)."""
    return section != "pps_flood" and metric != "load_bps"


# The seed's rows (default configuration).
ROWS: tuple[Row, ...] = report_rows()


def shown_digits(value: float, digits: int) -> int:
    """The digits a value is shown with - its row's DIGITS, or more when those would show fewer than two significant
    digits (0.0043 Gbps, not 0.00: a path that moved little moved something; a measured 0 still reads 0.00). The
    report's cells, their intervals' half-widths and the progress line's headline all show values so."""
    if value and math.isfinite(value) and abs(value) < 10 ** (1 - digits):
        return max(digits, 1 - math.floor(math.log10(abs(value))))
    return digits


def headline(test_name: str, parsed: dict[str, Any]) -> str:
    """A test's result as its report rows show it, e.g. ``1.72 Gbps``, ``0.0043 Gbps`` or ``P50 996.0 µs, P95 ...``."""
    if test_name == CAPACITY and isinstance(parsed.get("received_pps"), (int, float)):
        # a load sweep's search: what its confirming run carried within the loss bound (pps_search.loss_bounded_pps)
        return f"loss-bounded rate {parsed['received_pps']:,.0f} pps"
    size = test_name[4:] if test_name.startswith("pps_") and test_name[4:].isdigit() else None
    rows = [r for r in report_rows(pps_sizes=[int(size)] if size else PPS_SIZES, pps_mode="search")
            if r.test == test_name and r.section != "cpu" and r.metric in parsed]
    parts = []
    for row in rows:
        value = parsed.get(row.metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            shown = value * row.scale
            text = f"{shown:,.{shown_digits(shown, row.digits)}f} {row.unit}"
            parts.append(f"{row.label.split()[-1]} {text}" if len(rows) > 1 else text)
    if parsed.get("no_reply"):
        # a path that dropped everything has no round trip to show: what it lost is the result
        parts.append(f"no reply, {parsed.get('loss_percent', 100.0):g} % loss")
    return ", ".join(parts)


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


NETPERF_SELECTORS = (
    "THROUGHPUT,THROUGHPUT_UNITS,MEAN_LATENCY,P50_LATENCY,P90_LATENCY,P99_LATENCY,STDDEV_LATENCY,TRANSACTION_RATE"
)
SOCKPERF_PORT = 11111
# iperf3 omits this many seconds at the start of every test (-O): TCP slow start is not measured.
IPERF3_OMIT_S = 1
# Fixed tool overheads beyond the test duration (LAB-NOTES): sockperf pp ~2.4 s, TCP_CRR ~4 s.
OVERHEAD_S = {"sockperf": 5, "netperf": 6, "iperf3": 3, "ping": 3}
# What a latency probe takes beyond its duration on the local lab (sockperf's warm-up and its summary; ping's
# last reply and exit): the load beside it lasts that much longer.
TOOL_WALL_S = {"sockperf": 3.0, "ping": 0.5}


def plan_tests(
    server: str,
    *,
    duration: int,
    ping_count: int,
    ping_interval: float,
    streams: int,
    pps_sizes: list[int],
    selected: list[str] | None = None,
    margin: int = 60,
    pps_mode: str = "flood",
    pps_loss_max: float = pps_search.LOSS_MAX_PCT,
    message_size: int | None = None,
    load_fraction: float | None = None,
) -> list[dict[str, Any]]:
    """The benchmark's test matrix as argv lists for the client VM, in the order they run.

    PPS_MODE 'flood': each packet rate is what arrives of iperf3 -b 0; 'search': the highest offered rate
    whose loss stays at or under PPS_LOSS_MAX percent (plugin_utils/measure/pps_search.py; the entry's ``search``
    says how, its argv gets ``-b RATE`` when the rate is found). MESSAGE_SIZE (a sweep's ``message_size``): iperf3's
    ``-l`` on its TCP and UDP-max tests and netperf's request and response sizes (``-r``); None: the tools' own
    defaults (the packet-rate tests keep their payload sizes). LOAD_FRACTION (a sweep's ``load``): the latency tests
    (ping, sockperf_tcp) run beside a paced UDP flow offering that fraction of the path's loss-bounded rate, which the
    ``load_capacity`` search (added to the matrix) finds - the flow's argv has ``{rate}`` for the bits per second
    the run puts in from that search (``load_rate``). The loaded latency tests carry a ``load``:
    the iperf3 command started LOAD_LEAD_S before the probe and running until after it (a ping probe's
    LOAD_PROBE_STRETCH times its nominal length). ``extra_s``: the
    seconds a test is expected to take beyond its duration (the search's probes, the load's lead)."""
    if pps_mode not in pps_search.MODES:
        raise ValueError(f"pps_mode must be one of {', '.join(pps_search.MODES)}, got {pps_mode!r}")
    dur = str(duration)
    iperf = ["iperf3", "-c", server, "-t", dur, "-O", str(IPERF3_OMIT_S), "-J"]
    ping_s = ping_count * ping_interval

    def load(seconds: float) -> list[str]:
        # the flows' warm-up second (-O, not measured) and LOAD_LEAD_S pass before the probe of SECONDS starts;
        # they outlast it by a second
        return ["iperf3", "-c", server, "-t", str(int(math.ceil(seconds + LOAD_LEAD_S - IPERF3_OMIT_S + 1))),
                "-O", str(IPERF3_OMIT_S), "-J", "-P", str(streams)]

    sockperf = ["sockperf", "ping-pong", "--tcp", "-i", server, "-p", str(SOCKPERF_PORT), "-t", dur, "--full-rtt"]
    ping = ["ping", "-c", str(ping_count), "-i", f"{ping_interval:g}", "-W", "2", server]
    sized = iperf + (["-l", str(int(message_size))] if message_size else [])

    def covered(tool: str, probe_s: float) -> tuple[float, float]:
        """The seconds a load must cover beside a TOOL probe of PROBE_S nominal seconds, and the test's extra_s: a
        ping's count is sent slower by a guest the load keeps busy (LOAD_PROBE_STRETCH); sockperf stops at its -t."""
        stretch = LOAD_PROBE_STRETCH if tool == "ping" else 1.0
        return stretch * probe_s + TOOL_WALL_S[tool], LOAD_LEAD_S + (stretch - 1) * probe_s

    def paced(seconds: float) -> list[str]:
        # the load of a sweep's load point: UDP datagrams of LOAD_PAYLOAD bytes at {rate} bits per second
        return ["iperf3", "-c", server, "-u", "-l", str(LOAD_PAYLOAD), "-b", RATE_FIELD,
                "-t", str(int(math.ceil(seconds + LOAD_LEAD_S + 1))), "-J"]

    tests: list[dict[str, Any]] = [
        {"name": "iperf3_tcp_single", "argv": sized, "params": {"streams": 1}},
        {"name": "iperf3_tcp_multi", "argv": sized + ["-P", str(streams)], "params": {"streams": streams}},
        {"name": "iperf3_udp_max", "argv": sized + ["-u", "-b", "0"], "params": {"udp_rate": "unlimited"}},
        {"name": "iperf3_tcp_reverse", "argv": sized + ["-R"], "params": {"reverse": True}},
        {"name": "ping", "argv": ping, "params": {"count": ping_count, "interval_s": ping_interval},
         "seconds": ping_s},
        {"name": "sockperf_tcp", "argv": sockperf, "params": {"round_trip": True}, "full_log": True},
        {"name": "ping_loaded", "argv": ping,
         "params": {"count": ping_count, "interval_s": ping_interval, "load_streams": streams}, "seconds": ping_s},
        {"name": "sockperf_loaded", "argv": sockperf, "params": {"round_trip": True, "load_streams": streams},
         "full_log": True},
    ]
    for test in tests:
        if test["name"] in LOADED:
            cover_s, extra_s = covered(test["argv"][0], test.get("seconds", duration))
            test.update(load=load(cover_s), extra_s=extra_s)
    if load_fraction is not None:
        for test in tests:
            if test["name"] in ("ping", "sockperf_tcp"):
                cover_s, extra_s = covered(test["argv"][0], test.get("seconds", duration))
                test.update(load=paced(cover_s), extra_s=extra_s,
                            load_rate={"fraction": float(load_fraction), "payload": LOAD_PAYLOAD,
                                       "search": f"{CAPACITY}.1.search.json"},
                            params=dict(test["params"], load_fraction=float(load_fraction)))
        tests.append(_search_test(CAPACITY, server, LOAD_PAYLOAD, pps_loss_max, duration,
                                  {"payload_bytes": LOAD_PAYLOAD, "pps_mode": "search",
                                   "loss_max_percent": float(pps_loss_max), "capacity": True}, iperf))
    for size in pps_sizes:
        if pps_mode == "flood":
            tests.append({"name": f"pps_{size}", "argv": iperf + ["-u", "-b", "0", "-l", str(size)],
                          "params": {"payload_bytes": size, "pps_mode": "flood"}})
            continue
        tests.append(_search_test(f"pps_{size}", server, size, pps_loss_max, duration,
                                  {"payload_bytes": size, "pps_mode": "search", "loss_max_percent": float(pps_loss_max)},
                                  iperf))
    tests += [
        {
            "name": f"netperf_{kind.lower()}",
            "argv": ["netperf", "-H", server, "-l", dur, "-t", kind, "-j", "--", "-o", NETPERF_SELECTORS]
                    + (["-r", f"{int(message_size)},{int(message_size)}"] if message_size else []),
            "params": {"netperf_test": kind, **({"message_bytes": int(message_size)} if message_size else {})},
        }
        for kind in ("TCP_RR", "TCP_CRR", "UDP_RR")
    ]
    for test in tests:
        if message_size and test["name"].startswith("iperf3_"):
            test["params"]["message_bytes"] = int(message_size)
        tool = "iperf3" if test["name"].startswith(("iperf3", "pps", CAPACITY)) else test["name"].split("_")[0]
        seconds = test.pop("seconds", duration + (IPERF3_OMIT_S if tool == "iperf3" else 0))
        test.update(
            tool=tool,
            ext="json" if tool == "iperf3" else "txt",
            command=" ".join(test["argv"]),
            duration_s=seconds,
            extra_s=float(test.get("extra_s", 0.0)),
            timeout=int(seconds + OVERHEAD_S[tool] + margin),
        )
        if "load" in test:
            test["load_command"] = " ".join(test["load"])
    if selected:
        unknown = sorted(set(selected) - {t["name"] for t in tests} - {CAPACITY})
        if unknown:
            raise ValueError(f"unknown tests {', '.join(unknown)}: choose from {', '.join(t['name'] for t in tests)}")
        # a load point's capacity search comes with the latency tests it paces
        tests = [t for t in tests if t["name"] in selected or t["name"] == CAPACITY]
    return tests


def _search_test(name: str, server: str, size: int, loss_max: float, duration: int, params: dict[str, Any],
                 iperf: list[str]) -> dict[str, Any]:
    """A loss-bounded rate search (pps_search.py) of SIZE-byte datagrams as a test of the matrix."""
    return {
        "name": name, "argv": iperf + ["-u", "-l", str(size)], "params": params,
        "search": {"payload": size, "loss_max": float(loss_max), "probe_s": pps_search.PROBE_S,
                   "max_probes": pps_search.MAX_PROBES, "resolution": pps_search.RESOLUTION,
                   "confirm_attempts": pps_search.CONFIRM_ATTEMPTS,
                   "probe_argv": ["iperf3", "-c", server, "-t", str(pps_search.PROBE_S), "-J", "-u", "-l", str(size)]},
        "extra_s": ((pps_search.EXPECTED_PROBES + 1) * (pps_search.PROBE_S + pps_search.PROBE_OVERHEAD_S)
                    + pps_search.EXPECTED_RECONFIRMS * (duration + IPERF3_OMIT_S + pps_search.PROBE_OVERHEAD_S)),
    }


# The guests' socket receive buffers, set on both guests before the tests (the traffic servers' sockets get
# them). Under TCG a guest's vCPU stalls for tens of ms; with Debian's default 208 KiB the server's iperf3 drops
# datagrams in its socket whatever the offered rate - a loss floor of 0.2-3 % no loss-bounded search gets under.
# Measured here (quick profile, pps_mode=search, virtio and macvtap, one lab each): default buffers 5 of 8
# cells within 0.1 %, searched rates 3,047-11,799 pps, 5 min 22 s; 4 MiB 8 of 8 at 0 % loss, 11,120-19,605 pps,
# 2 min 54 s. TCP sizes its buffers itself (net.ipv4.tcp_rmem): only UDP (packet rates, UDP_RR) sees this.
GUEST_SYSCTLS = (("net.core.rmem_max", 4194304), ("net.core.rmem_default", 4194304))


def guest_tuning() -> list[str]:
    """The command that sets GUEST_SYSCTLS on a guest (as root; the report lists it with the server's)."""
    return ["sysctl", "-q", "-w", *(f"{key}={value}" for key, value in GUEST_SYSCTLS)]


# The native reference gets the guests' UDP receive buffers per socket: a network namespace cannot set its own
# net.core.rmem_* (the kernel answers EINVAL; measured on 6.18) and the collection does not change the host's.
# The kernel doubles what SO_RCVBUF asks for, so half the guests' net.core.rmem_default gives their buffer - as
# long as the host's net.core.rmem_max allows it (the iperf3 runs record what each socket got: rcvbuf_actual,
# shown per path under Test Configuration). iperf3 -w and netperf -s/-S set the send buffer too; for UDP over a
# veth a datagram leaves the send buffer when it is handed to the peer, so only the receiver's matters.
NATIVE_SOCKET_BUFFER = dict(GUEST_SYSCTLS)["net.core.rmem_default"] // 2


def native_tuning() -> str:
    """What the native reference's UDP tests add to their command lines (recorded in its run's config)."""
    size = NATIVE_SOCKET_BUFFER
    return (f"iperf3 -w {size} and netperf -s {size} -S {size} on the UDP tests (the kernel doubles it: "
            f"{2 * size // 1048576} MiB receive buffers, the guests' net.core.rmem_default, which a network namespace "
            "cannot set)")


def _native_argv(argv: list[str]) -> list[str]:
    """ARGV with the guests' UDP receive buffer asked for per socket (NATIVE_SOCKET_BUFFER); TCP as it is."""
    size = str(NATIVE_SOCKET_BUFFER)
    if argv[0] == "iperf3" and "-u" in argv:
        return argv + ["-w", size]
    if argv[0] == "netperf" and "UDP_RR" in argv and "--" in argv:
        return argv + ["-s", size, "-S", size]
    return list(argv)


def server_commands(server: str) -> list[list[str]]:
    """Traffic servers on the server VM, bound to its data address only."""
    return [
        ["iperf3", "-s", "-B", server, "-D"],
        ["sockperf", "server", "--tcp", "-i", server, "-p", str(SOCKPERF_PORT), "--daemonize"],
        ["netserver", "-L", server],
    ]


def lab_addresses(backends: list[str], server: str, client: str, prefix: int) -> dict[str, dict[str, str]]:
    """Each backend's own subnet: the server and client addresses moved by the backend's position in
    PATHS times the subnet size (virtio 198.18.0.0/24, vhost-net 198.18.1.0/24, macvtap 198.18.2.0/24,
    native 198.18.3.0/24 with the defaults), so a backend's addresses are the same whichever backends run
    together."""
    import ipaddress

    if not 8 <= int(prefix) <= 30:
        raise ValueError(f"prefix {prefix} must be 8-30")
    try:
        base_server, base_client = ipaddress.IPv4Address(server), ipaddress.IPv4Address(client)
    except ValueError as err:
        raise ValueError(f"lab addresses must be IPv4 addresses: {err}") from err
    net = ipaddress.IPv4Network(f"{server}/{prefix}", strict=False)
    if base_client not in net or base_server == base_client:
        raise ValueError(f"server {server} and client {client} must be two addresses of one /{prefix} subnet")
    out = {}
    for backend in backends:
        if backend not in PATHS:
            raise ValueError(f"unknown backend {backend!r}")
        shift = PATHS.index(backend) * net.num_addresses
        try:
            s, c = base_server + shift, base_client + shift
        except ipaddress.AddressValueError as err:
            raise ValueError(f"no room for a {backend} subnet after {net}") from err
        out[backend] = {"server": str(s), "client": str(c), "server_cidr": f"{s}/{prefix}",
                        "client_cidr": f"{c}/{prefix}", "subnet": str(ipaddress.IPv4Network(f"{s}/{prefix}", strict=False))}
    return out


def _repetition(backend: str, test: dict[str, Any], k: int, repeat: int, job_dir: str = JOB_DIR) -> dict[str, Any]:
    """Repetition K of TEST on BACKEND (a run key at a sweep's point: ``virtio+mtu-9000``): its job name on the
    client and its raw file(s) on the controller.
    sockperf also writes every observation (``--full-log``, kept gzipped as ``log``), so the report can
    pool the repetitions' latencies."""
    # a job name is a plain name on the client (A-Z a-z 0-9 _ . -): a sweep point's '+' parts become '.'
    job = f"{backend.replace('+', '.')}.{test['name']}.{k}"
    entry = dict(test, repetition=k, repeat=repeat, job=job, raw=f"{test['name']}.{k}.{test['ext']}")
    if entry.pop("full_log", False):
        entry["argv"] = test["argv"] + ["--full-log", f"{job_dir}/{job}.log"]
        entry["command"] = " ".join(entry["argv"])
        entry["log"] = f"{test['name']}.{k}.csv.gz"
    if "search" in test:
        # every probe of the search, beside the confirming run's output
        entry["probes"] = f"{test['name']}.{k}.search.json"
    if "load" in test:
        # the load's own iperf3 output, beside the latency probe's
        entry.update(load_job=f"{job}.load", load_raw=f"{test['name']}.{k}.load.json")
    return entry


def in_netns(netns: str, argv: list[str]) -> list[str]:
    """ARGV run inside network namespace NETNS (on the hypervisor)."""
    return ["ip", "netns", "exec", netns, *argv]


def native_unavailable(tests: list[dict[str, Any]], missing: list[str]) -> dict[str, str]:
    """The tests the native reference cannot run because a tool is missing on the hypervisor, with why."""
    out = {}
    for test in tests:
        needs = NATIVE_TOOLS[test["tool"]] + (NATIVE_TOOLS["iperf3"] if "load" in test else ())
        lacking = [t for t in dict.fromkeys(needs) if t in missing]
        if lacking:
            hint = (" (Debian ships netperf in non-free: add a package source that names non-free, or install it)"
                    if test["tool"] == "netperf" else "")
            out[test["name"]] = (f"{' and '.join(lacking)} {'is' if len(lacking) == 1 else 'are'} not installed on "
                                 f"the hypervisor{hint}")
    return out


def _native(tests: list[dict[str, Any]], native: dict[str, Any]) -> dict[str, Any]:
    """The native reference's entries: every command inside the client namespace on the hypervisor, its
    job files in the native job directory, and the tests whose tools the hypervisor lacks left out."""
    for key in ("server_netns", "client_netns", "job_dir"):
        if not native.get(key):
            raise ValueError(f"the native reference needs {key}")
    unavailable = native_unavailable(tests, native["missing"])
    kept = []
    for test in tests:
        if test["name"] in unavailable:
            continue
        argv = in_netns(native["client_netns"], _native_argv(test["argv"]))
        entry = dict(test, argv=argv, command=" ".join(argv), host=True, job_dir=native["job_dir"])
        if "load" in test:
            entry["load"] = in_netns(native["client_netns"], test["load"])
            entry["load_command"] = " ".join(entry["load"])
        if "search" in test:
            entry["search"] = dict(test["search"], probe_argv=in_netns(native["client_netns"],
                                                                       _native_argv(test["search"]["probe_argv"])))
        kept.append(entry)
    return {"tests": kept, "unavailable": unavailable}


def plan_matrix(backends: list[str], server: str, client: str, prefix: int, *, duration: int, ping_count: int,
                ping_interval: float, streams: int, pps_sizes: list[int], selected: list[str] | None = None,
                margin: int = 60, repeat: int = 1, native: dict[str, Any] | None = None, pps_mode: str = "flood",
                pps_loss_max: float = pps_search.LOSS_MAX_PCT, message_size: int | None = None,
                point: str = "", load_fraction: float | None = None) -> dict[str, Any]:
    """The whole run: every backend's subnet, its tests, and the matrix in the order it runs - for each
    test, every repetition of every backend, the backends alternating (test 1 #1 on virtio, test 1 #1 on
    macvtap, test 1 #2 on virtio, ...), so the host's drift hits every backend alike - and the traffic
    servers for every backend. Every repetition is its own entry (``repetition`` 1..``repeat``) with its
    own job name and raw output file.

    NATIVE (server_netns, client_netns, job_dir, missing: tools the hypervisor lacks) adds the native
    reference after the backends: the same tests between two namespaces on the hypervisor (entries with
    ``host``), its servers in ``servers_by_backend['native']``, the tests it cannot run in
    ``native_unavailable``.

    POINT (a sweep point's suffix, ``+mtu-9000``: sweep.point_suffix) names the runs of this matrix: each entry's
    ``run`` is its backend and POINT, and so are its job names; MESSAGE_SIZE: see plan_tests."""
    if not backends:
        raise ValueError("no backend to plan for")
    if NATIVE in backends:
        raise ValueError("native is the reference, not a backend: plan it with native=")
    if isinstance(repeat, bool) or not isinstance(repeat, int) or not 1 <= repeat <= MAX_REPEAT:
        raise ValueError(f"repeat must be a whole number 1-{MAX_REPEAT}, got {repeat!r}")
    if native:
        native = dict(native, missing=list(native.get("missing") or []))
    paths = list(backends) + ([NATIVE] if native else [])
    addresses = lab_addresses(paths, server, client, prefix)
    single = {b: plan_tests(addresses[b]["server"], duration=duration, ping_count=ping_count,
                            ping_interval=ping_interval, streams=streams, pps_sizes=pps_sizes,
                            selected=selected, margin=margin, pps_mode=pps_mode, pps_loss_max=pps_loss_max,
                            message_size=message_size, load_fraction=load_fraction)
              for b in paths}
    names = [t["name"] for t in single[backends[0]]]
    unavailable: dict[str, str] = {}
    if native:
        planned_native = _native(single[NATIVE], native)
        single[NATIVE], unavailable = planned_native["tests"], planned_native["unavailable"]
    by_backend = {b: [_repetition(b + point, t, k, repeat, t.get("job_dir", JOB_DIR)) for t in single[b]
                      for k in range(1, repeat + 1)] for b in paths}
    entry = {(b, t["name"], t["repetition"]): t for b in paths for t in by_backend[b]}
    tests = [dict(entry[(backend, name, k)], backend=backend, run=backend + point)
             for name in names for k in range(1, repeat + 1) for backend in paths if (backend, name, k) in entry]
    planned = sum(t["duration_s"] + t["extra_s"] for t in tests)
    left = planned
    for position, test in enumerate(tests, 1):
        left -= test["duration_s"] + test["extra_s"]
        test.update(position=position, total=len(tests), planned_s=planned, remaining_s=left)
    servers = {b: server_commands(addresses[b]["server"]) for b in paths}
    if native:
        # a server whose tool the hypervisor lacks is not started (its tests are left out above)
        servers[NATIVE] = [in_netns(native["server_netns"], cmd) for cmd in servers[NATIVE]
                           if cmd[0] not in native["missing"]]
    return {
        "addresses": addresses,
        "paths": paths,
        "by_backend": by_backend,
        "planned_by_backend": {b: [{"name": t["name"], "tool": t["tool"], "repetition": t["repetition"]}
                                   for t in by_backend[b]] for b in paths},
        "test_names": names,
        "tests": tests,
        "repeat": repeat,
        "iperf3_omit_s": IPERF3_OMIT_S,
        # the traffic servers on the server VM (the native reference's run on the hypervisor)
        "server_commands": [cmd for b in backends for cmd in servers[b]],
        "servers_by_backend": servers,
        "native_unavailable": unavailable,
        "seconds": planned,
    }
