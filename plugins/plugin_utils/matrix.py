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

from ansible_collections.volt.netbench.plugins.module_utils.backends import BACKENDS
from ansible_collections.volt.netbench.plugins.plugin_utils.iperf3 import parse_iperf3
from ansible_collections.volt.netbench.plugins.plugin_utils.netperf import parse_netperf
from ansible_collections.volt.netbench.plugins.plugin_utils.ping import parse_ping
from ansible_collections.volt.netbench.plugins.plugin_utils.run_control import JOB_DIR
from ansible_collections.volt.netbench.plugins.plugin_utils.sockperf import parse_sockperf

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
    ("pps", "Packets Per Second", "Packet Size"),
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
        return {}
    out = {"host_cpu_cost": total / window / rate}
    for part, _label in CPU_PARTS:
        out[f"host_cpu_cost_{part}"] = (parsed.get(f"host_cpu_{part}_s") or 0.0) / window / rate
    return out


MULTI_LABEL = "TCP Multi-{streams} Stream"


def report_rows(streams: int = 8, pps_sizes: list[int] | tuple[int, ...] = PPS_SIZES,
                tests: list[str] | None = None) -> tuple[Row, ...]:
    """The report's rows for a run's configuration: the multi-stream row is labelled with its stream
    count, one PPS row per payload size, and only the tests the run selected (all when None). With the
    defaults these are exactly the seed's rows, followed by the host CPU cost of every test that has one."""
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
        *(Row("pps", f"{size} bytes", f"pps_{size}", "received_pps", 1.0, "pps", True, 0)
          for size in sizes),
        Row("transactions", "TCP_RR", "netperf_tcp_rr", "transaction_rate", 1.0, "trans/sec", True, 0),
        Row("transactions", "TCP_CRR", "netperf_tcp_crr", "transaction_rate", 1.0, "trans/sec", True, 0),
        Row("transactions", "UDP_RR", "netperf_udp_rr", "transaction_rate", 1.0, "trans/sec", True, 0),
    )
    rows += tuple(Row("cpu", f"{r.label}, per {unit}", r.test, "host_cpu_cost", 1.0, CPU_UNITS[unit][2], False,
                      CPU_UNITS[unit][3]) for r in rows if (unit := cpu_work(r.test)))
    if tests is not None:
        rows = tuple(r for r in rows if r.test in tests)
    return rows


# The seed's rows (default configuration).
ROWS: tuple[Row, ...] = report_rows()


def headline(test_name: str, parsed: dict[str, Any]) -> str:
    """A test's result as its report rows show it, e.g. ``1.72 Gbps`` or ``P50 996.0 µs, P95 ...``."""
    size = test_name[4:] if test_name.startswith("pps_") and test_name[4:].isdigit() else None
    rows = [r for r in report_rows(pps_sizes=[int(size)] if size else PPS_SIZES)
            if r.test == test_name and r.section != "cpu"]
    parts = []
    for row in rows:
        value = parsed.get(row.metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = f"{value * row.scale:,.{row.digits}f} {row.unit}"
            parts.append(f"{row.label.split()[-1]} {text}" if len(rows) > 1 else text)
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
) -> list[dict[str, Any]]:
    """The benchmark's test matrix as argv lists for the client VM, in the order they run."""
    dur = str(duration)
    iperf = ["iperf3", "-c", server, "-t", dur, "-O", str(IPERF3_OMIT_S), "-J"]
    tests: list[dict[str, Any]] = [
        {"name": "iperf3_tcp_single", "argv": iperf, "params": {"streams": 1}},
        {"name": "iperf3_tcp_multi", "argv": iperf + ["-P", str(streams)], "params": {"streams": streams}},
        {"name": "iperf3_udp_max", "argv": iperf + ["-u", "-b", "0"], "params": {"udp_rate": "unlimited"}},
        {"name": "iperf3_tcp_reverse", "argv": iperf + ["-R"], "params": {"reverse": True}},
        {"name": "ping", "argv": ["ping", "-c", str(ping_count), "-i", f"{ping_interval:g}", "-W", "2", server],
         "params": {"count": ping_count, "interval_s": ping_interval},
         "seconds": ping_count * ping_interval},
        {"name": "sockperf_tcp", "argv": ["sockperf", "ping-pong", "--tcp", "-i", server, "-p", str(SOCKPERF_PORT),
                                          "-t", dur, "--full-rtt"], "params": {"round_trip": True}, "full_log": True},
    ]
    tests += [
        {"name": f"pps_{size}", "argv": iperf + ["-u", "-b", "0", "-l", str(size)], "params": {"payload_bytes": size}}
        for size in pps_sizes
    ]
    tests += [
        {
            "name": f"netperf_{kind.lower()}",
            "argv": ["netperf", "-H", server, "-l", dur, "-t", kind, "-j", "--", "-o", NETPERF_SELECTORS],
            "params": {"netperf_test": kind},
        }
        for kind in ("TCP_RR", "TCP_CRR", "UDP_RR")
    ]
    for test in tests:
        tool = "iperf3" if test["name"].startswith(("iperf3", "pps")) else test["name"].split("_")[0]
        seconds = test.pop("seconds", duration + (IPERF3_OMIT_S if tool == "iperf3" else 0))
        test.update(
            tool=tool,
            ext="json" if tool == "iperf3" else "txt",
            command=" ".join(test["argv"]),
            duration_s=seconds,
            timeout=int(seconds + OVERHEAD_S[tool] + margin),
        )
    if selected:
        unknown = sorted(set(selected) - {t["name"] for t in tests})
        if unknown:
            raise ValueError(f"unknown tests {', '.join(unknown)}: choose from {', '.join(t['name'] for t in tests)}")
        tests = [t for t in tests if t["name"] in selected]
    return tests


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
    """Repetition K of TEST on BACKEND: its job name on the client and its raw file(s) on the controller.
    sockperf also writes every observation (``--full-log``, kept gzipped as ``log``), so the report can
    pool the repetitions' latencies."""
    job = f"{backend}.{test['name']}.{k}"
    entry = dict(test, repetition=k, repeat=repeat, job=job, raw=f"{test['name']}.{k}.{test['ext']}")
    if entry.pop("full_log", False):
        entry["argv"] = test["argv"] + ["--full-log", f"{job_dir}/{job}.log"]
        entry["command"] = " ".join(entry["argv"])
        entry["log"] = f"{test['name']}.{k}.csv.gz"
    return entry


def in_netns(netns: str, argv: list[str]) -> list[str]:
    """ARGV run inside network namespace NETNS (on the hypervisor)."""
    return ["ip", "netns", "exec", netns, *argv]


def native_unavailable(tests: list[dict[str, Any]], missing: list[str]) -> dict[str, str]:
    """The tests the native reference cannot run because a tool is missing on the hypervisor, with why."""
    out = {}
    for test in tests:
        lacking = [t for t in NATIVE_TOOLS[test["tool"]] if t in missing]
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
        argv = in_netns(native["client_netns"], test["argv"])
        kept.append(dict(test, argv=argv, command=" ".join(argv), host=True, job_dir=native["job_dir"]))
    return {"tests": kept, "unavailable": unavailable}


def plan_matrix(backends: list[str], server: str, client: str, prefix: int, *, duration: int, ping_count: int,
                ping_interval: float, streams: int, pps_sizes: list[int], selected: list[str] | None = None,
                margin: int = 60, repeat: int = 1, native: dict[str, Any] | None = None) -> dict[str, Any]:
    """The whole run: every backend's subnet, its tests, and the matrix in the order it runs - for each
    test, every repetition of every backend, the backends alternating (test 1 #1 on virtio, test 1 #1 on
    macvtap, test 1 #2 on virtio, ...), so the host's drift hits every backend alike - and the traffic
    servers for every backend. Every repetition is its own entry (``repetition`` 1..``repeat``) with its
    own job name and raw output file.

    NATIVE (server_netns, client_netns, job_dir, missing: tools the hypervisor lacks) adds the native
    reference after the backends: the same tests between two namespaces on the hypervisor (entries with
    ``host``), its servers in ``servers_by_backend['native']``, the tests it cannot run in
    ``native_unavailable``."""
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
                            selected=selected, margin=margin) for b in paths}
    names = [t["name"] for t in single[backends[0]]]
    unavailable: dict[str, str] = {}
    if native:
        planned_native = _native(single[NATIVE], native)
        single[NATIVE], unavailable = planned_native["tests"], planned_native["unavailable"]
    by_backend = {b: [_repetition(b, t, k, repeat, t.get("job_dir", JOB_DIR)) for t in single[b]
                      for k in range(1, repeat + 1)] for b in paths}
    entry = {(b, t["name"], t["repetition"]): t for b in paths for t in by_backend[b]}
    tests = [dict(entry[(backend, name, k)], backend=backend)
             for name in names for k in range(1, repeat + 1) for backend in paths if (backend, name, k) in entry]
    planned = sum(t["duration_s"] for t in tests)
    left = planned
    for position, test in enumerate(tests, 1):
        left -= test["duration_s"]
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
