"""The report from a real results tree: three backends, one with failed/skipped tests, one missing.

Raw outputs are the real fixtures, recorded through results.record_run. Every cell, percentage,
jitter ratio and the ranking are recomputed here independently and compared with REPORT.md.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins.plugin_utils.analysis import claims
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import matrix, results
from ansible_collections.volt.netbench.plugins.plugin_utils import report
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PARSERS
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import Family, compare

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"

# test name -> (tool, fixture for virtio, fixture for macvtap); None = skipped on macvtap
PLAN = {
    "iperf3_tcp_single": ("iperf3", "iperf3/tcp_single.json", "iperf3/tcp_reverse.json"),
    "iperf3_tcp_multi": ("iperf3", "iperf3/tcp_8streams.json", "iperf3/tcp_single.json"),
    "iperf3_udp_max": ("iperf3", "iperf3/udp_max.json", "iperf3/udp_64b.json"),
    "iperf3_tcp_reverse": ("iperf3", "iperf3/tcp_reverse.json", "iperf3/tcp_8streams.json"),
    "ping": ("ping", "ping/iputils_20.txt", "ping/iputils_loss.txt"),
    "sockperf_tcp": ("sockperf", "sockperf/tcp_pp_fullrtt.txt", None),
    "pps_64": ("iperf3", "iperf3/udp_64b.json", "iperf3/udp_max.json"),
    "pps_128": ("iperf3", "iperf3/udp_64b.json", "iperf3/udp_64b.json"),
    "pps_256": ("iperf3", "iperf3/udp_max.json", "iperf3/udp_1m.json"),
    "pps_512": ("iperf3", "iperf3/udp_max.json", "iperf3/udp_max.json"),
    "netperf_tcp_rr": ("netperf", "netperf/tcp_rr.txt", "netperf/udp_rr.txt"),
    "netperf_tcp_crr": ("netperf", "netperf/tcp_crr.txt", "netperf/tcp_crr.txt"),
    "netperf_udp_rr": ("netperf", "netperf/udp_rr.txt", "netperf/no_server.txt"),
}
# label -> (section, test, metric, scale, digits, higher_is_better)
ROWS = {
    "TCP Single Stream": ("throughput", "iperf3_tcp_single", "receiver_bps", 1e-9, 2, True),
    "TCP Multi-8 Stream": ("throughput", "iperf3_tcp_multi", "receiver_bps", 1e-9, 2, True),
    "UDP Maximum": ("throughput", "iperf3_udp_max", "receiver_bps", 1e-9, 2, True),
    "TCP Reverse": ("throughput", "iperf3_tcp_reverse", "receiver_bps", 1e-9, 2, True),
    "ICMP P50": ("latency", "ping", "rtt_p50_us", 1, 1, False),
    "ICMP P95": ("latency", "ping", "rtt_p95_us", 1, 1, False),
    "ICMP P99": ("latency", "ping", "rtt_p99_us", 1, 1, False),
    "TCP P50": ("latency", "sockperf_tcp", "latency_p50_us", 1, 1, False),
    "TCP P99": ("latency", "sockperf_tcp", "latency_p99_us", 1, 1, False),
    "64 bytes": ("pps", "pps_64", "received_pps", 1, 0, True),
    "128 bytes": ("pps", "pps_128", "received_pps", 1, 0, True),
    "256 bytes": ("pps", "pps_256", "received_pps", 1, 0, True),
    "512 bytes": ("pps", "pps_512", "received_pps", 1, 0, True),
    "TCP_RR": ("transactions", "netperf_tcp_rr", "transaction_rate", 1, 0, True),
    "TCP_CRR": ("transactions", "netperf_tcp_crr", "transaction_rate", 1, 0, True),
    "UDP_RR": ("transactions", "netperf_udp_rr", "transaction_rate", 1, 0, True),
}
CONFIG = {"duration_s": 30, "ping_count": 1000, "ping_interval_s": 0.01, "parallel_streams": 8,
          "pps_sizes": [64, 128, 256, 512], "profile": "default",
          "extra_vars": {"profile": "default"},
          "server_commands": ["iperf3 -s -B 198.18.0.2 -D", "sockperf sr --tcp -i 198.18.0.2 --daemonize"],
          "guest_tuning": "sysctl -q -w net.core.rmem_max=4194304 net.core.rmem_default=4194304"}
ENV = {"host_cpu": "AMD EPYC 7B13", "host_ram": "24 GiB", "host_nic": "veth (lab namespace)",
       "host_kernel": "6.18.44", "vm_vcpus": 1, "vm_ram": "1 GiB", "guest_kernel": "6.1.0-41-amd64",
       "qemu_version": "7.2.22", "accelerator": "tcg", "date": "2026-11-26"}


def record(root: Path, backend: str, column: int, run_id: str, **extra) -> None:
    run_dir = results.create_run_dir(root, backend, run_id)[0]
    tests = []
    for name, (tool, *files) in PLAN.items():
        fixture = files[column]
        if fixture is None:
            tests.append({"name": name, "tool": tool, "status": "skipped", "message": "sockperf is not installed"})
            continue
        shutil.copy(FIXTURES / fixture, run_dir / f"{name}.out")
        tests.append({"name": name, "tool": tool, "raw": f"{name}.out",
                      "command": (FIXTURES / fixture).with_suffix(".cmd").read_text().strip()})
    results.record_run(run_dir, backend=backend, tests=tests, config=CONFIG, environment=extra.get("env", ENV))


def measured_value(column: int, label: str):
    """The value a cell must show, read from the fixture through its (separately tested) parser."""
    test, metric, scale = ROWS[label][1:4]
    tool, *files = PLAN[test]
    fixture = files[column]
    if fixture is None or fixture.endswith("no_server.txt"):
        return None
    return PARSERS[tool]((FIXTURES / fixture).read_text())[metric] * scale


def md_table(md: str, title: str) -> dict[str, list[str]]:
    block = md.split(f"### {title}\n", 1)[1].strip("\n").split("\n\n", 1)[0]
    rows = {}
    for line in block.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


@pytest.fixture
def tree(tmp_path):
    root = tmp_path / "results"
    record(root, "virtio", 0, "20261126T100000Z")
    record(root, "macvtap", 1, "20261126T110000Z")
    # an older virtio run that must not be picked
    record(root, "virtio", 1, "20261125T090000Z")
    # a run that never finished recording (no run.json) is ignored
    results.create_run_dir(root, "virtio", "20261126T120000Z")
    return root


@pytest.fixture
def md(tree):
    model = report.build_report(tree, display_dir="results")
    md_path, json_path = report.write_report(model, tree)
    assert json.loads(json_path.read_text())["measured"] == ["virtio", "macvtap"]
    return md_path.read_text()


def test_sections_and_tables_follow_the_seed(md):
    seed_headers = [
        "# Volt Network Benchmark Results", "## Test Environment", "## Test Configuration", "## Results",
        "### Throughput (Gbps)", "### Latency (microseconds)", "### Packets Per Second",
        "### Transaction Rates (trans/sec)", "## Analysis", "### Throughput Analysis", "### Latency Analysis",
        "### PPS Analysis", "## Conclusions", "### Performance Hierarchy", "### Recommendations",
        "### Anomalies or Issues", "## Raw Data", "## Reproducibility",
    ]
    positions = [md.index(h + "\n") for h in seed_headers]
    assert positions == sorted(positions)
    assert "| Test | virtio | vhost-net | macvtap |" in md
    assert "| Packet Size | virtio | vhost-net | macvtap |" in md
    assert "X Gbps" not in md and "[Describe" not in md and "Y%" not in md


@pytest.mark.parametrize("label", sorted(ROWS))
def test_every_cell(md, label):
    section, digits = ROWS[label][0], ROWS[label][4]
    title = {s[0]: s[1] for s in matrix.SECTIONS}[section]
    cells = md_table(md, title)[label]
    for column, backend in ((0, "virtio"), (2, "macvtap")):
        value = measured_value(0 if backend == "virtio" else 1, label)
        shown = digits
        if value and abs(value) < 10 ** (1 - digits):
            # at least two significant digits: 0.077 Gbps, not 0.08
            shown = max(digits, 1 - math.floor(math.log10(abs(value))))
        expected = "n/a" if value is None else f"{value:,.{shown}f}"
        if value is not None and section == "pps":
            # a packet rate shows the loss of the run behind it (the fixture's, through the parser)
            test = ROWS[label][1]
            tool, *files = PLAN[test]
            loss = PARSERS[tool]((FIXTURES / files[0 if backend == "virtio" else 1]).read_text())["lost_percent"]
            expected += f" (loss {loss:.3g} %)"
        assert cells[column] == expected, (label, backend)
    assert cells[1] == "n/a"  # vhost-net has no run


def test_percentages_against_the_virtio_baseline(md):
    single_v, single_m = measured_value(0, "TCP Single Stream"), measured_value(1, "TCP Single Stream")
    pct = (single_m - single_v) / single_v * 100
    assert f"- virtio: {single_v:,.2f} Gbps (baseline)" in md
    # one repetition each: the difference is shown as an observation, never as an improvement
    assert f"- macvtap: {single_m:,.2f} Gbps ({pct:+.1f} % vs virtio, not tested: one repetition)" in md
    assert "- vhost-net: n/a (not measured)" in md
    pps_v, pps_m = measured_value(0, "64 bytes"), measured_value(1, "64 bytes")
    pct = (pps_m - pps_v) / pps_v * 100
    assert f"- macvtap: {pps_m:,.0f} pps ({pct:+.1f} % vs virtio, not tested: one repetition)" in md
    assert "so no difference below was tested" in md


def test_lower_latency_counts_as_improvement():
    better = compare([80.0, 81.0, 79.0], [100.0, 101.0, 99.0], higher_is_better=False)
    assert better["change"] == pytest.approx(20.0) and better["low"] > 0
    # a comparison is a claim only once its family is corrected (here a family of one)
    assert not better["significant"]
    family = Family()
    family.add("latency", better)
    assert family.correct() == 1 and better["significant"] and better["p_adjusted"] == pytest.approx(better["p"])
    worse = compare([120.0, 121.0, 119.0], [100.0, 101.0, 99.0], higher_is_better=False)
    assert worse["change"] == pytest.approx(-20.0) and worse["high"] < 0
    assert claims.change_text(worse).startswith("-20.0 % [")


def test_p99_and_jitter(md):
    p50, p99 = measured_value(0, "ICMP P50"), measured_value(0, "ICMP P99")
    t50, t99 = measured_value(0, "TCP P50"), measured_value(0, "TCP P99")
    assert f"- virtio: {p99:,.1f} µs ICMP, {t99:,.1f} µs TCP" in md
    assert f"- virtio: {p99 / p50:.2f}x ICMP, {t99 / t50:.2f}x TCP" in md
    m50, m99 = measured_value(1, "ICMP P50"), measured_value(1, "ICMP P99")
    assert f"- macvtap: {m99 / m50:.2f}x ICMP, n/a TCP" in md


def expected_ranking():
    """Geometric means over rows both measured backends completed, computed from scratch."""
    per_category = {}
    for label, (section, *_rest, higher) in ROWS.items():
        v, m = measured_value(0, label), measured_value(1, label)
        if v is None or m is None:
            continue
        best = max(v, m) if higher else min(v, m)
        scores = (v / best, m / best) if higher else (best / v, best / m)
        per_category.setdefault(section, []).append(scores)
    composite = {}
    for i, name in enumerate(("virtio", "macvtap")):
        cats = [math.prod(s[i] for s in rows) ** (1 / len(rows)) for rows in per_category.values()]
        composite[name] = math.prod(cats) ** (1 / len(cats))
    return sorted(composite.items(), key=lambda kv: -kv[1])


def test_ranking_and_recommendations(md):
    ranked = expected_ranking()
    hierarchy = md.split("### Performance Hierarchy", 1)[1].split("### Recommendations", 1)[0]
    found = re.findall(r"^(\d)\. \*\*([a-z-]+)\*\* \(rank (\d)[^;]*; composite score ([0-9.]+)\)", hierarchy, re.M)
    assert [(f[1], f[3]) for f in found] == [(name, f"{score:.2f}") for name, score in ranked]
    # one repetition: nothing separates them, so they share the first rank
    assert [f[2] for f in found] == ["1", "1"]
    assert "Not ranked: **vhost-net** (not run)" in hierarchy
    recs = md.split("### Recommendations", 1)[1].split("### Anomalies", 1)[0]
    # virtio is the only bridge backend measured, so it is the default
    assert "- Default: `virtio` (the only bridge backend measured; composite score" in recs
    scores = dict(ranked)
    change = (scores["macvtap"] / scores["virtio"] - 1) * 100
    assert (f"- High-performance option: undecided: macvtap observed {change:+.1f} % vs virtio, not tested: "
            "one repetition") in recs


def test_anomalies(md):
    anomalies = md.split("### Anomalies or Issues", 1)[1].split("---", 1)[0]
    assert "- vhost-net: not run — no recorded run under results/vhost-net/." in anomalies
    assert ("- macvtap: netperf_udp_rr failed — parse_netperf: netperf_udp_rr.out: netperf reported an error: "
            "establish control: are you sure there is a netserver listening on 198.18.0.2 at port 12999?") in anomalies
    assert "- macvtap: sockperf_tcp skipped — sockperf is not installed." in anomalies
    assert "- macvtap: ping incomplete — 168 of 200 echo replies (16.0% loss)." in anomalies
    assert "- virtio: iperf3_tcp_single had 417 TCP retransmits." in anomalies
    assert "- virtio: iperf3_udp_max lost 0.15% of UDP datagrams (397 of 266,210); rates are receiver-side." in anomalies
    assert "- virtio, macvtap ran under TCG (software emulation, no KVM)" in anomalies
    assert "Mismatched" not in anomalies


def test_environment_config_raw_data_and_reproducibility(md, tree):
    assert "| Host CPU | AMD EPYC 7B13 |" in md and "| QEMU Version | 7.2.22 |" in md
    assert "- Duration: 30 seconds per test" in md
    assert "- Ping count: 1000 packets (interval 0.01 s)" in md
    assert "- iperf3 parallel streams: 8 (multi-stream tests)" in md
    assert "- `results/virtio/20261126T100000Z/`" in md
    assert "- `results/macvtap/20261126T110000Z/`" in md
    assert "ansible-playbook playbooks/benchmark.yml -e backend=virtio -e profile=default" in md
    assert "ansible-playbook playbooks/benchmark.yml -e backend=vhost-net\n" in md
    assert "iperf3 -s -B 198.18.0.2 -D" in md
    assert ("- Guests tuned before the tests (UDP socket receive buffers): "
            "`sysctl -q -w net.core.rmem_max=4194304 net.core.rmem_default=4194304`") in md
    assert "ping: ping -c 20 -i 0.01 198.18.0.2" in md


def test_not_run_backend_and_mismatch(tree):
    run_dir = results.create_run_dir(tree, "vhost-net", "20261126T130000Z")[0]
    results.record_run(run_dir, backend="vhost-net", tests=[], status="not_run",
                       reason="preflight: /dev/vhost-net is missing (load vhost_net or choose another backend)")
    env = dict(ENV, qemu_version="8.2.0")
    record(tree, "macvtap", 1, "20261126T140000Z", env=env)
    md = report.render_markdown(report.build_report(tree, display_dir="results"))
    assert ("- vhost-net: not run — preflight: /dev/vhost-net is missing (load vhost_net or choose another backend)."
            in md)
    assert "| QEMU Version | virtio: 7.2.22; macvtap: 8.2.0 |" in md
    assert "Mismatched environment between compared runs — qemu_version differs (virtio: 7.2.22; macvtap: 8.2.0)." in md


def test_what_tools_and_guests_print_stays_text_in_the_markdown(tree):
    """A guest's kernel name, a NIC's description and a tool's message are printed into REPORT.md as text: no HTML
    tag, no link, no extra table cell; REPORT.html autoescapes them."""
    hostile = "<script>alert(1)</script> | [click](javascript:alert(1))"
    run_dir = results.create_run_dir(tree, "vhost-net", "20261126T130000Z")[0]
    results.record_run(run_dir, backend="vhost-net", tests=[], status="not_run", reason=f"preflight: {hostile}")
    record(tree, "macvtap", 1, "20261126T140000Z", env=dict(ENV, guest_kernel=f"6.1 {hostile}", host_nic="eth0 | x"))
    model = report.build_report(tree, display_dir="results")
    md = report.render_markdown(model)
    assert "<script>" not in md and "](javascript" not in md
    escaped = "&lt;script>alert(1)&lt;/script> \\| [click]\\(javascript:alert(1))"
    assert f"- vhost-net: not run — preflight: {escaped}." in md
    assert f"| Guest Kernel | virtio: 6.1.0-41-amd64; macvtap: 6.1 {escaped} |" in md
    assert "| Host NIC | virtio: veth (lab namespace); macvtap: eth0 \\| x |" in md
    # every row of the environment table still has its two cells
    env_rows = [line for line in md.split("## Test Environment", 1)[1].split("## Test Configuration", 1)[0].splitlines()
                if line.startswith("| ")]
    assert env_rows and all(len(re.findall(r"(?<!\\)\|", line)) == 3 for line in env_rows), env_rows
    report.write_report(model, tree)
    html = (tree / "REPORT.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_explicit_run_ids(tree):
    model = report.build_report(tree, run_ids=["virtio/20261125T090000Z"])
    assert [b["run_id"] for b in model["backends"]] == ["20261125T090000Z", None, None]
    with pytest.raises(results.ResultsError, match="run 'nope' not found"):
        report.build_report(tree, run_ids=["nope"])


def test_no_runs_says_how_to_make_one(tmp_path):
    with pytest.raises(results.ResultsError) as err:
        report.build_report(tmp_path)
    assert str(err.value) == (
        f"no recorded runs under {tmp_path}: run 'ansible-playbook playbooks/benchmark.yml -e backend=virtio' first"
    )


def test_recorded_runs_are_never_modified(tree):
    run_dir = tree / "virtio" / "20261126T100000Z"
    before = (run_dir / "run.json").read_bytes()
    with pytest.raises(results.ResultsError, match="already recorded; existing runs are never modified"):
        results.record_run(run_dir, backend="virtio", tests=[])
    assert (run_dir / "run.json").read_bytes() == before
    again, run_id = results.create_run_dir(tree, "virtio", "20261126T100000Z")
    assert run_id == "20261126T100000Z-1" and again != run_dir


def test_samples_jsonl_records(tree):
    lines = (tree / "virtio" / "20261126T100000Z" / "samples.jsonl").read_text().splitlines()
    samples = [json.loads(line) for line in lines]
    tcp = next(s for s in samples if s["test"] == "iperf3_tcp_single" and s["metric"] == "receiver_bps")
    assert tcp["value"] == pytest.approx(13913639759.701145)
    assert tcp["unit"] == "bit/s" and tcp["backend"] == "virtio" and tcp["run_id"] == "20261126T100000Z"
    assert tcp["metadata"]["tool"] == "iperf3" and tcp["metadata"]["accelerator"] == "tcg"
    assert tcp["metadata"]["command"] == "iperf3 -c 198.18.0.2 -t 2 -J"
    assert {s["test"] for s in samples} == set(PLAN)
    run = json.loads((tree / "virtio" / "20261126T100000Z" / "run.json").read_text())
    assert run["status"] == "complete" and run["counts"] == {"ok": 13, "failed": 0, "skipped": 0}
    mac = json.loads((tree / "macvtap" / "20261126T110000Z" / "run.json").read_text())
    assert mac["status"] == "partial" and mac["counts"] == {"ok": 11, "failed": 1, "skipped": 1}


@pytest.mark.parametrize(
    "tests, message",
    [
        ([{"name": "x", "tool": "curl", "raw": "x"}], "tests[0] (x): tool 'curl' is not one of iperf3, ping, sockperf, netperf"),
        ([{"name": "x", "tool": "ping"}], "tests[0] (x): status ok needs 'raw', the output file's name"),
        ([{"name": "x", "tool": "ping", "raw": "../run.json"}], "tests[0] (x): raw must be a file name inside the run directory, got '../run.json'"),
        ([{"tool": "ping"}], "tests[0] needs a non-empty 'name'"),
    ],
)
def test_record_run_refuses_bad_tests(tmp_path, tests, message):
    run_dir = results.create_run_dir(tmp_path, "virtio")[0]
    with pytest.raises(results.ResultsError) as err:
        results.record_run(run_dir, backend="virtio", tests=tests)
    assert str(err.value) == message
    assert not (run_dir / "run.json").exists()
