"""Repetitions and statistics in the report, on synthetic results trees.

Each run is recorded through results.record_run from raw outputs in the tools' own formats: the real
fixtures (tests/fixtures, each with the command that made it) with their measured numbers replaced by
the values a test chooses. Every expectation is recomputed here with numpy/scipy, independently of
plugin_utils.stats and plugin_utils.report.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import numpy as np
import pytest
from scipy import stats as scipy_stats
from scipy.optimize import brentq

from ansible_collections.volt.netbench.plugins.module_utils import hostcpu
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import matrix, results
from ansible_collections.volt.netbench.plugins.plugin_utils import report
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import p_text

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures"
IPERF_TCP = json.loads((FIXTURES / "iperf3/tcp_single.json").read_text())
IPERF_UDP = json.loads((FIXTURES / "iperf3/udp_max.json").read_text())
NETPERF = (FIXTURES / "netperf/tcp_rr.txt").read_text()
ENV = {"host_cpu": "AMD EPYC 7B13", "host_kernel": "6.18.44", "vm_vcpus": 1, "vm_ram": "1 GiB",
       "guest_kernel": "6.1.0-41-amd64", "qemu_version": "7.2.22", "accelerator": "tcg"}
TESTS = ["iperf3_tcp_single", "iperf3_udp_max", "ping", "pps_64", "netperf_tcp_rr"]


def iperf_tcp(gbps: float, seconds: float | None = None, omit: int = 0) -> str:
    """TCP output at GBPS; SECONDS: the measured (non-omitted) time, after OMIT seconds of warm-up (-O)."""
    doc = copy.deepcopy(IPERF_TCP)
    doc["end"]["sum_received"]["bits_per_second"] = gbps * 1e9
    doc["end"]["sum_sent"]["bits_per_second"] = gbps * 1e9
    if seconds is not None:
        for key in ("sum_received", "sum_sent"):
            doc["end"][key].update(end=seconds, seconds=seconds)
        doc["start"]["test_start"].update(omit=omit, duration=int(seconds))
    return json.dumps(doc)


def iperf_udp(received_pps: float, size: int = 1448, rcvbuf: int | None = None) -> str:
    """UDP output whose receiver saw RECEIVED_PPS datagrams per second (0 = every one lost); RCVBUF: what its
    socket read back as its receive buffer (the fixture's 208 KiB by default)."""
    doc = copy.deepcopy(IPERF_UDP)
    if rcvbuf is not None:
        doc["start"]["rcvbuf_actual"] = rcvbuf
    rx = doc["end"]["sum_received"]
    received = int(round(received_pps * rx["seconds"]))
    packets = received + 1000
    rx["lost_packets"] = packets - received
    rx["packets"] = packets
    rx["lost_percent"] = 100.0 * rx["lost_packets"] / packets
    rx["bits_per_second"] = received_pps * size * 8
    doc["start"]["test_start"]["blksize"] = size
    return json.dumps(doc)


def ping(rtts_ms: list[float]) -> str:
    lines = ["PING 198.18.0.1 (198.18.0.1) 56(84) bytes of data."]
    lines += [f"64 bytes from 198.18.0.1: icmp_seq={i} ttl=64 time={t:.3f} ms" for i, t in enumerate(rtts_ms, 1)]
    lines += ["", "--- 198.18.0.1 ping statistics ---",
              f"{len(rtts_ms)} packets transmitted, {len(rtts_ms)} received, 0% packet loss, time 100ms"]
    return "\n".join(lines) + "\n"


def netperf(rate: float) -> str:
    head, columns, values = NETPERF.strip().split("\n")
    fields = values.split(",")
    fields[0], fields[-1] = f"{rate:.2f}", f"{rate:.3f}"
    return "\n".join([head, columns, ",".join(fields)]) + "\n"


def rtts(center_ms: float, rep: int, n: int = 200) -> list[float]:
    rng = np.random.default_rng(rep * 1000 + int(center_ms * 1000))
    return list(np.round(center_ms + rng.gamma(2.0, center_ms / 10, n), 3))


def record(root: Path, backend: str, run_id: str, values: dict[str, list], *, config: dict | None = None,
           failed: dict[str, str] | None = None, ping_replies: int = 200, jitter: bool = True,
           rcvbuf: int | None = None) -> Path:
    """A run with one raw file per test and repetition. VALUES: test -> a value per repetition
    (Gbps, pps, ms or trans/s); FAILED: 'test#rep' -> message. Ping: PING_REPLIES replies around the value
    (every reply exactly the value without JITTER)."""
    run_dir = results.create_run_dir(root, backend, run_id)[0]
    repeat = max(len(v) for v in values.values())
    entries = []
    for name, reps in values.items():
        for k, value in enumerate(reps, 1):
            key = f"{name}#{k}"
            tool = {"ping": "ping", "netperf_tcp_rr": "netperf"}.get(name, "iperf3")
            if failed and key in failed:
                entries.append({"name": name, "tool": tool, "repetition": k, "status": "failed",
                                "message": failed[key]})
                continue
            if name == "iperf3_tcp_single":
                text, ext = iperf_tcp(value), "json"
            elif name == "iperf3_udp_max":
                text, ext = iperf_udp(value * 1e9 / (1448 * 8), rcvbuf=rcvbuf), "json"
            elif name.startswith("pps_"):
                text, ext = iperf_udp(value, int(name[4:]), rcvbuf=rcvbuf), "json"
            elif name == "ping":
                text, ext = ping(rtts(value, k, ping_replies) if jitter else [value] * ping_replies), "txt"
            else:
                text, ext = netperf(value), "txt"
            raw = f"{name}.{k}.{ext}"
            (run_dir / raw).write_text(text)
            entries.append({"name": name, "tool": tool, "repetition": k, "raw": raw, "command": f"{name} (synthetic)"})
    cfg = {"duration_s": 5, "ping_count": 200, "ping_interval_s": 0.01, "parallel_streams": 8,
           "pps_sizes": [64], "profile": "quick", "tests": list(values), "repeat": repeat, "mtu": 1500,
           "netns": "vnb-lab"}
    cfg.update(config or {})
    results.record_run(run_dir, backend=backend, tests=entries, config=cfg, environment=ENV)
    return run_dir


def fieller(a, b, alpha: float = 0.05) -> tuple[float, float | None]:
    """The 95 % interval of mean(A)/mean(B) recomputed with scipy alone: the ratios R for which Welch's test
    of A against R x B does not reject (Fieller's interval for unequal variances). None: unbounded above."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    est = a.mean() / b.mean()

    def p(r):
        return scipy_stats.ttest_ind(a, r * b, equal_var=False).pvalue - alpha

    high = None if p(est * 1e9) > 0 else brentq(p, est, est * 1e9, xtol=1e-12)
    low = brentq(p, 1e-12, est, xtol=1e-12) if p(1e-12) < 0 else 0.0
    return low, high


def values_of(tcp, udp, ping_ms, pps, rr):
    return {"iperf3_tcp_single": tcp, "iperf3_udp_max": udp, "ping": ping_ms, "pps_64": pps, "netperf_tcp_rr": rr}


SAME = values_of([1.00, 1.10, 0.95], [0.50, 0.55, 0.52], [0.40, 0.42, 0.41], [9000, 9500, 9200],
                 [5000, 5100, 4950])
FAST = values_of([2.00, 2.05, 1.98], [1.00, 1.02, 1.01], [0.20, 0.21, 0.20], [18000, 18200, 17900],
                 [10000, 10100, 9950])


def build(root: Path, **kwargs) -> tuple[dict, str]:
    model = report.build_report(root, display_dir="results", **kwargs)
    return model, report.render_markdown(model)


def row(model: dict, label: str) -> dict:
    return next(r for t in model["tables"] for r in t["rows"] if r["label"] == label)


def section(md: str, start: str, end: str) -> str:
    return md.split(start, 1)[1].split(end, 1)[0]


def test_identical_data_is_tied_and_no_difference_is_claimed(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    record(tmp_path, "macvtap", "20261127T100000Z", SAME)
    model, md = build(tmp_path)
    assert [r["rank"] for r in model["hierarchy"]] == [1, 1]
    cmp = row(model, "TCP Single Stream")["versus_baseline"]["macvtap"]
    assert cmp["p"] == pytest.approx(1.0) and not cmp["significant"] and cmp["change"] == pytest.approx(0.0)
    analysis = section(md, "### Throughput Analysis", "## Conclusions")
    assert "improvement" not in analysis and "regression" not in analysis and " leads " not in analysis
    assert "- macvtap: 1.02 ± " in analysis and "(not separable from virtio: +0.0 % [" in analysis
    assert "not separable from macvtap (+0.0 % [" in analysis
    recs = section(md, "### Recommendations", "### Anomalies")
    assert "none separable from the default" in recs


def test_clearly_separated_pair_is_ranked_with_its_p_value(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    record(tmp_path, "macvtap", "20261127T100000Z", FAST)
    model, md = build(tmp_path)
    assert [(r["backend"], r["rank"]) for r in model["hierarchy"]] == [("macvtap", 1), ("virtio", 2)]
    assert model["hierarchy"][1]["comparisons"]["macvtap"]["p_adjusted"] < 0.05
    assert model["hierarchy"][1]["beaten_by"] == ["macvtap"] and model["ranking_text"] == "macvtap > virtio"
    # the percentage is the ratio of the means, its interval Fieller's, recomputed with scipy's Welch test
    v, m = np.array(SAME["iperf3_tcp_single"]), np.array(FAST["iperf3_tcp_single"])
    low, high = fieller(m, v)
    change = (m.mean() / v.mean() - 1) * 100
    cmp = row(model, "TCP Single Stream")["versus_baseline"]["macvtap"]
    assert cmp["p"] == pytest.approx(scipy_stats.ttest_ind(m, v, equal_var=False).pvalue)
    assert cmp["significant"] and cmp["p_adjusted"] >= cmp["p"]
    text = (f"{change:+.1f} % [{(low - 1) * 100:+.1f}, {(high - 1) * 100:+.1f}] improvement, "
            f"{p_text(cmp['p_adjusted'], 'adjusted p')}")
    assert f"- macvtap: {m.mean():,.2f} ± " in md and text in md
    # latency: lower is better, so macvtap's lower P99 is an improvement too; the sentence's percentage is
    # the one the two cells it names give
    p99 = row(model, "ICMP P99")
    shown = {n: float(p99["cells"][n].split(" ± ")[0].replace(",", "")) for n in ("virtio", "macvtap")}
    sentence = re.search(r"ICMP P99: macvtap leads with [^,]+ µs, ahead of virtio \(([+-][0-9.]+) % \[", md)
    assert sentence, md
    assert float(sentence.group(1)) == pytest.approx((1 - shown["macvtap"] / shown["virtio"]) * 100, abs=0.15)
    recs = section(md, "### Recommendations", "### Anomalies")
    assert "- High-performance option: `macvtap` (when a dedicated lower NIC is available; composite score" in recs
    assert "p < 0.001" in recs or re.search(r"p = 0\.0[0-4]\d", recs)


def test_cells_match_the_raw_files(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    model, md = build(tmp_path)
    values = np.array(SAME["netperf_tcp_rr"], dtype=float)
    half = scipy_stats.t.ppf(0.975, len(values) - 1) * values.std(ddof=1) / np.sqrt(len(values))
    assert f"| TCP_RR | {values.mean():,.0f} ± {half:,.0f} | n/a | n/a |" in md
    # ICMP percentiles: each repetition's P99 from its own replies (numpy's default, linear), then their
    # mean ± interval - the shown value is the tested statistic and lies inside its interval
    per_rep = [np.percentile([t * 1000 for t in rtts(SAME["ping"][k - 1], k)], 99) for k in (1, 2, 3)]
    half = scipy_stats.t.ppf(0.975, 2) * np.std(per_rep, ddof=1) / np.sqrt(3)
    assert f"| ICMP P99 | {np.mean(per_rep):,.1f} ± {half:,.1f} | n/a | n/a |" in md
    cell = row(model, "ICMP P99")["statistics"]["virtio"]
    assert cell["n"] == 3 and cell["low"] <= cell["value"] <= cell["high"]
    assert cell["raw"] == [f"results/virtio/20261127T100000Z/ping.{k}.txt" for k in (1, 2, 3)]


def test_a_newer_all_failed_run_does_not_replace_data(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    record(tmp_path, "macvtap", "20261127T100000Z", FAST)
    failed = {f"{t}#1": "client VM unreachable: ssh timed out" for t in SAME}
    record(tmp_path, "virtio", "20261127T120000Z", {t: [v[0]] for t, v in SAME.items()}, failed=failed,
           config={"repeat": 3})
    model, md = build(tmp_path)
    assert {b["name"]: b["run_id"] for b in model["backends"] if b["run_id"]} == {
        "virtio": "20261127T100000Z", "macvtap": "20261127T100000Z"}
    assert model["measured"] == ["virtio", "macvtap"]
    assert ("- virtio: run 20261127T120000Z recorded no data; the report uses the older run 20261127T100000Z."
            in md)
    assert "n/a (no bridge backend" not in md


def test_a_measured_zero_is_a_measurement(tmp_path):
    """Every UDP datagram lost is a result (0 Gbps), not a failed run: it stays in its cell and its score."""
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    zero = dict(FAST, iperf3_udp_max=[0, 0, 0])
    record(tmp_path, "macvtap", "20261127T100000Z", zero)
    model, md = build(tmp_path)
    udp = row(model, "UDP Maximum")
    assert udp["cells"]["macvtap"] == "0.00 ± 0.00" and udp["cells"]["virtio"].startswith("0.52 ± ")
    assert udp["statistics"]["macvtap"]["n"] == 3
    assert row(model, "TCP Single Stream")["cells"]["macvtap"].startswith("2.01 ± ")
    assert model["scoring"]["left_out"] == []
    assert model["scoring"]["categories"]["throughput"]["rows"] == ["TCP Single Stream", "UDP Maximum"]
    # a rate of 0 makes that repetition's throughput score 0
    assert model["scoring"]["categories"]["throughput"]["scores"]["macvtap"] == [0.0, 0.0, 0.0]
    assert ("- macvtap: UDP Maximum measured 0 Gbps in repetition 1; counted in that cell (a measurement, not a "
            "failure).") in md


def test_a_failed_test_on_one_backend_removes_only_that_cell(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    failed = {f"netperf_tcp_rr#{k}": "exit 1: netperf: send_omni: connection refused" for k in (1, 2, 3)}
    record(tmp_path, "macvtap", "20261127T100000Z", FAST, failed=failed)
    model, md = build(tmp_path)
    rr = row(model, "TCP_RR")
    assert rr["cells"]["macvtap"] == "n/a" and rr["cells"]["virtio"].startswith("5,017 ± ")
    assert model["scoring"]["left_out"] == ["TCP_RR (no value on macvtap)"]
    assert "transactions" not in model["scoring"]["categories"]
    assert "- macvtap: netperf_tcp_rr #2 failed — exit 1: netperf: send_omni: connection refused." in md
    # one failed repetition of three: the cell says its n
    record(tmp_path, "virtio", "20261127T110000Z", SAME, failed={"pps_64#2": "killed after its deadline of 66 s"})
    model, _md = build(tmp_path)
    assert row(model, "64 bytes")["cells"]["virtio"].endswith("(n=2)")


def test_rows_follow_the_run_configuration(tmp_path):
    values = {"iperf3_tcp_single": [1.0], "pps_1400": [8000.0]}
    selected = ["iperf3_tcp_single", "iperf3_tcp_multi", "pps_1400"]
    record(tmp_path, "virtio", "20261127T100000Z", values,
           config={"pps_sizes": [1400], "parallel_streams": 4, "tests": selected})
    model, md = build(tmp_path)
    labels = [r["label"] for t in model["tables"] for r in t["rows"]]
    assert labels == ["TCP Single Stream", "TCP Multi-4 Stream", "1400 bytes"]
    # a packet rate shows its run's loss beside it (the synthetic run: 1,000 of 17,001 datagrams)
    assert "| 1400 bytes | 8,000 (loss 5.88 %) | n/a | n/a |" in md and "64 bytes" not in md
    assert "**1400-byte Packets (best overhead indicator):**" in md
    assert "Packet sizes are the UDP payload" in md


def test_default_configuration_gives_exactly_the_seeds_rows():
    seed = (Path(__file__).resolve().parents[5] / "../shared/seed/results-template.md")
    # the seed's sections; the latency under load follows the idle latency, the host CPU cost is a section of its
    # own after them (and a search's flood rates follow the packet rates: not with the default flood mode)
    rows = matrix.report_rows()
    assert not [r for r in rows if r.section == "pps_flood"]
    assert [r.label for r in rows if r.section == "latency_load"] == [
        "ICMP P50", "ICMP P99", "Load beside ICMP (8 TCP streams, Gbps)", "TCP P50", "TCP P99",
        "Load beside TCP (8 TCP streams, Gbps)"]
    assert [r.label for r in matrix.report_rows(pps_mode="search") if r.section == "pps_flood"] == [
        "64 bytes", "128 bytes", "256 bytes", "512 bytes"]
    labels = [r.label for r in rows if r.section not in ("cpu", "latency_load")]
    if seed.is_file():
        text = seed.read_text()
        seed_labels = re.findall(r"^\| ([^|]+?) \| \| \| \|$", text, re.M)
        assert labels == seed_labels
    assert labels[:4] == ["TCP Single Stream", "TCP Multi-8 Stream", "UDP Maximum", "TCP Reverse"]
    assert [r.label for r in matrix.report_rows(8, [64, 128, 256, 512])][15:19] == [
        "64 bytes", "128 bytes", "256 bytes", "512 bytes"]


def test_one_repetition_says_nothing_was_tested(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", {t: v[:1] for t, v in SAME.items()})
    record(tmp_path, "macvtap", "20261127T100000Z", {t: v[:1] for t, v in FAST.items()})
    model, md = build(tmp_path)
    assert not model["statistics"]["tested"]
    analysis = section(md, "## Analysis", "### Throughput Analysis")
    assert "so no difference below was tested" in analysis
    assert "| TCP Single Stream | 1.00 | n/a | 2.00 |" in md and "±" not in section(md, "## Results", "---")
    assert "(+100.0 % vs virtio, not tested: one repetition)" in md
    assert [r["rank"] for r in model["hierarchy"]] == [1, 1]
    assert "undecided" in section(md, "### Recommendations", "### Anomalies")


def test_report_json_carries_the_statistics_of_every_cell(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    record(tmp_path, "macvtap", "20261127T100000Z", FAST)
    model = report.build_report(tmp_path, display_dir="results")
    report.write_report(model, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    tcp = next(r for t in data["tables"] for r in t["rows"] if r["label"] == "TCP Single Stream")
    cell = tcp["statistics"]["macvtap"]
    assert cell["n"] == 3 and cell["mean"] == pytest.approx(np.mean(FAST["iperf3_tcp_single"]))
    assert cell["low"] < cell["mean"] < cell["high"]
    assert cell["raw"] == [f"results/macvtap/20261127T100000Z/iperf3_tcp_single.{k}.json" for k in (1, 2, 3)]
    assert 0 <= tcp["versus_baseline"]["macvtap"]["p"] < 0.05
    assert data["statistics"]["method"].startswith("Each backend ran every test 3 times")


def test_tcg_caveat_and_config_mismatch(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    record(tmp_path, "macvtap", "20261127T100000Z", FAST, config={"mtu": 9000})
    _model, md = build(tmp_path)
    assert "neither the absolute figures nor the differences between the backends represent KVM hosts" in md
    assert "*Measured under TCG (virtio, macvtap): these recommendations describe this emulated lab only" in md
    assert "Mismatched config between compared runs — mtu differs (virtio: 1500; macvtap: 9000)." in md


def test_tcp_percentiles_pool_every_repetitions_full_log(tmp_path):
    """sockperf's --full-log (tests/fixtures/sockperf/tcp_pp_fulllog.*, a real run), kept gzipped per repetition;
    the second repetition's round trips are the first's × 1.2."""
    import gzip

    summary = (FIXTURES / "sockperf/tcp_pp_fulllog.txt").read_text()
    csv = (FIXTURES / "sockperf/tcp_pp_fulllog.csv").read_text()

    def scaled(text: str, factor: float) -> str:
        out = []
        for line in text.splitlines():
            parts = line.split(", ")
            if len(parts) == 4 and parts[0].isdigit():
                line = ", ".join(parts[:3] + [f"{float(parts[3]) * factor:.3f}"])
            out.append(line)
        return "\n".join(out) + "\n"

    def rtts_of(text: str) -> list[float]:
        return [float(line.split(", ")[3]) for line in text.splitlines()
                if len(line.split(", ")) == 4 and line.split(", ")[0].isdigit()]

    logs = [csv, scaled(csv, 1.2)]
    run_dir = results.create_run_dir(tmp_path, "virtio", "20261127T100000Z")[0]
    tests = []
    for k, text in enumerate(logs, 1):
        (run_dir / f"sockperf_tcp.{k}.txt").write_text(summary)
        (run_dir / f"sockperf_tcp.{k}.csv.gz").write_bytes(gzip.compress(text.encode()))
        tests.append({"name": "sockperf_tcp", "tool": "sockperf", "repetition": k, "raw": f"sockperf_tcp.{k}.txt",
                      "log": f"sockperf_tcp.{k}.csv.gz"})
    results.record_run(run_dir, backend="virtio", tests=tests, environment=ENV,
                       config={"tests": ["sockperf_tcp"], "repeat": 2})
    model, md = build(tmp_path)
    per_rep = [np.percentile(rtts_of(t), 99) for t in logs]
    pooled = np.percentile(rtts_of(logs[0]) + rtts_of(logs[1]), 99)
    half = scipy_stats.t.ppf(0.975, 1) * np.std(per_rep, ddof=1) / np.sqrt(2)
    assert f"| TCP P99 | {np.mean(per_rep):,.1f} ± {half:,.1f} | n/a | n/a |" in md
    # the chart's curve pools every round trip of both logs
    curve = model["percentile_curves"]["tcp"]["virtio"]
    assert curve["us"][curve["percentiles"].index(99)] == pytest.approx(pooled, abs=1e-3)
    # the samples come from the full log too, by the same percentile definition
    samples = [json.loads(line) for line in (run_dir / "samples.jsonl").read_text().splitlines()]
    p99 = sorted((s["repetition"], s["value"]) for s in samples if s["metric"] == "latency_p99_us")
    assert [v for _k, v in p99] == pytest.approx(per_rep)


def test_host_cpu_cost_per_unit_of_work(tmp_path):
    """host_cpu.jsonl samples (the cpu_sampler's format) and each repetition's window give CPU-seconds per
    Gbit: the CPU rate over the window divided by the work rate; the split says where it went."""
    hz = hostcpu.clock_ticks()
    run_dir = results.create_run_dir(tmp_path, "virtio", "20261127T100000Z")[0]
    tests = []
    for k, (gbps, start) in enumerate(((1.0, 100.0), (2.0, 200.0)), 1):
        (run_dir / f"iperf3_tcp_single.{k}.json").write_text(iperf_tcp(gbps, seconds=10.0))
        tests.append({"name": "iperf3_tcp_single", "tool": "iperf3", "repetition": k,
                      "raw": f"iperf3_tcp_single.{k}.json", "window": [start, start + 10.0]})

    def cpu_sample(t: float, vcpu_s: float, io_s: float, busy_s: float) -> dict:
        # cumulative: the server's vCPU threads, the client's QEMU I/O threads, the host's busy time
        return {"t": t, "guests": {"server": {"vcpu": round(vcpu_s * hz), "io": 0, "vhost": 0},
                                   "client": {"vcpu": 0, "io": round(io_s * hz), "vhost": 0}},
                "host": {"user": round((busy_s - 2) * hz), "nice": 0, "system": round(2 * hz), "idle": 5000,
                         "iowait": 0, "irq": 0, "softirq": 0, "steal": 0}}

    # window 1: vCPU 5 s, I/O 1 s, busy 8 s; window 2: vCPU 6 s, I/O 1 s, busy 8 s
    samples = [cpu_sample(100.0, 0, 0, 2), cpu_sample(110.0, 5, 1, 10), cpu_sample(200.0, 5, 1, 10),
               cpu_sample(210.0, 11, 2, 18)]
    (run_dir / "host_cpu.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
    results.record_run(run_dir, backend="virtio", tests=tests, environment=ENV,
                       config={"tests": ["iperf3_tcp_single"], "repeat": 2})
    model, md = build(tmp_path)
    costs = np.array([(8 / 10) / 1.0, (8 / 10) / 2.0])  # busy cores / Gbit per second
    half = scipy_stats.t.ppf(0.975, 1) * costs.std(ddof=1) / np.sqrt(2)
    assert f"| TCP Single Stream, per Gbit | {costs.mean():,.3f} ± {half:,.3f} | n/a | n/a |" in md
    assert "### Host CPU Cost (CPU-seconds per unit of work)" in md and "### CPU Cost Analysis" in md

    def share(values):  # the per-repetition shares' mean ± t half-width, as the split table shows them
        v = np.array(values)
        return f"{v.mean():.0f} ± {scipy_stats.t.ppf(0.975, 1) * v.std(ddof=1) / np.sqrt(2):.0f} %"

    split = {r["label"]: r["cells"]["virtio"] for r in model["cpu_split"]}
    assert split == {"guest vCPU threads": share([62.5, 75.0]), "QEMU main loop and I/O threads": share([12.5, 12.5]),
                     "vhost workers": share([0.0, 0.0]),
                     "host kernel and the rest (softirq: bridge, macvtap)": share([25.0, 12.5])}
    # CPU cost is reported beside the ranking, not in it
    assert "cpu" not in model["scoring"]["categories"]


def test_no_cpu_samples_no_cpu_section(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    model, md = build(tmp_path)
    assert "Host CPU Cost" not in md and model["cpu_split"] == []


NATIVE = values_of([4.00, 4.10, 3.90], [2.00, 2.10, 1.90], [0.05, 0.05, 0.05], [40000, 41000, 39000],
                   [20000, 20500, 19500])


def test_the_native_reference_is_a_column_and_a_percentage_never_a_rank(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    record(tmp_path, "macvtap", "20261127T100000Z", FAST)
    record(tmp_path, "native", "20261127T100000Z", NATIVE)
    model, md = build(tmp_path)
    assert model["columns"] == ["virtio", "vhost-net", "macvtap", "native"]
    assert model["measured"] == ["virtio", "macvtap"] and model["reference"]["measured"]
    tcp = np.array(NATIVE["iperf3_tcp_single"])
    half = scipy_stats.t.ppf(0.975, 2) * tcp.std(ddof=1) / np.sqrt(3)
    assert "| Test | virtio | vhost-net | macvtap | native |" in md
    assert f"| TCP Single Stream | {np.mean(SAME['iperf3_tcp_single']):.2f} ± " in md
    assert md.split("| TCP Single Stream |", 1)[1].split("\n", 1)[0].endswith(f"| {tcp.mean():.2f} ± {half:.2f} |")
    # % of native: the backend's mean over native's, with Fieller's interval of that ratio
    for name, values in (("virtio", SAME), ("macvtap", FAST)):
        mine = np.array(values["iperf3_tcp_single"])
        low, high = fieller(mine, tcp)
        cell = row(model, "TCP Single Stream")["of_native"][name]
        assert cell["percent"] == pytest.approx(100 * mine.mean() / tcp.mean())
        assert cell["text"] == f"{100 * mine.mean() / tcp.mean():,.0f} % [{100 * low:,.0f}, {100 * high:,.0f}]"
    native_section = section(md, "### Distance from Native", "## Conclusions")
    assert f"| TCP Single Stream | {tcp.mean():.2f} ± {half:.2f} Gbps |" in native_section
    assert row(model, "TCP Single Stream")["of_native"]["virtio"]["text"] in native_section
    # the reference is never ranked nor recommended
    assert [r["backend"] for r in model["hierarchy"]] == ["macvtap", "virtio"]
    assert "native" not in section(md, "### Performance Hierarchy", "### Anomalies")
    assert "- `results/native/20261127T100000Z/`" in md


def test_the_native_reference_gets_the_guests_udp_buffers_and_a_capped_one_is_named(tmp_path):
    guests, tuning = 4194304, matrix.native_tuning()
    record(tmp_path, "virtio", "20261127T100000Z", SAME, rcvbuf=guests,
           config={"guest_tuning": " ".join(matrix.guest_tuning())})
    record(tmp_path, "macvtap", "20261127T100000Z", FAST, rcvbuf=guests,
           config={"guest_tuning": " ".join(matrix.guest_tuning())})
    record(tmp_path, "native", "20261127T100000Z", NATIVE, rcvbuf=guests, config={"native_tuning": tuning})
    model, md = build(tmp_path)
    config = section(md, "## Test Configuration", "---")
    assert f"- Native reference, the same buffers per socket: {tuning}" in config
    assert "iperf3 -w 2097152 and netperf -s 2097152 -S 2097152 on the UDP tests" in tuning
    assert "- UDP socket receive buffer, as iperf3 read it back: 4 MiB\n" in config
    assert "native: its UDP sockets got" not in md
    # a host whose net.core.rmem_max (212992 on a stock kernel) caps what -w asks for: the kernel's doubled cap
    capped = tmp_path / "capped"
    for name, values, size in (("virtio", SAME, guests), ("macvtap", FAST, guests), ("native", NATIVE, 425984)):
        record(capped, name, "20261127T100000Z", values, rcvbuf=size)
    model, md = build(capped)
    assert ("- UDP socket receive buffer, as iperf3 read it back: virtio, macvtap: 4 MiB; native: 416 KiB"
            in section(md, "## Test Configuration", "---"))
    assert ("- native: its UDP sockets got 416 KiB receive buffers, the guests' 4 MiB: the host's net.core.rmem_max "
            "(one value for the whole host") in md
    assert "a net.core.rmem_max of at least 4 MiB on the hypervisor gives the native reference" in md
    # no native run: no tuning line, the guests' buffer alone
    alone = tmp_path / "alone"
    record(alone, "virtio", "20261127T100000Z", SAME, rcvbuf=guests)
    model, md = build(alone)
    assert "Native reference, the same buffers" not in md and "as iperf3 read it back: 4 MiB\n" in md


def test_tests_the_native_reference_could_not_run_are_named(tmp_path):
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    run_dir = results.create_run_dir(tmp_path, "native", "20261127T100000Z")[0]
    (run_dir / "ping.1.txt").write_text(ping(rtts(0.05, 1)))
    why = "netperf is not installed on the hypervisor (Debian ships netperf in non-free)"
    results.record_run(run_dir, backend="native", tests=[{"name": "ping", "tool": "ping", "raw": "ping.1.txt"}],
                       config={"tests": list(SAME), "repeat": 3}, environment={"native_unavailable": {"netperf_tcp_rr": why}})
    model, md = build(tmp_path)
    assert f"- native: netperf_tcp_rr not measured — {why}." in md
    assert "native: TCP_RR is n/a" not in md, "said once, with its reason"
    assert row(model, "TCP_RR")["cells"]["native"] == "n/a"
    assert "TCP_RR" not in [line["label"] for line in model["analysis"]["native"]]
    # without a native run there is no column and no section (-e native=false)
    other = tmp_path / "other"
    record(other, "virtio", "20261127T100000Z", SAME)
    model, md = build(other)
    assert model["columns"] == ["virtio", "vhost-net", "macvtap"] and "Distance from Native" not in md


def test_the_cpu_window_is_the_tools_measured_interval(tmp_path):
    """A fake sampler: the tool ran [100.0, 111.2] on the sampler's clock - 0.2 s of connection set-up, 1 s of
    iperf3 warm-up (-O 1) and 10 measured seconds. The host was fully busy (2 cores) until 101.2 and half busy
    (1 core) after: the measured interval's CPU is 10 CPU-seconds, and the window has the tool's 10 s."""
    hz = hostcpu.clock_ticks()
    run_dir = results.create_run_dir(tmp_path, "virtio", "20261127T100000Z")[0]
    (run_dir / "iperf3_tcp_single.1.json").write_text(iperf_tcp(1.0, seconds=10.0, omit=1))
    tests = [{"name": "iperf3_tcp_single", "tool": "iperf3", "repetition": 1, "raw": "iperf3_tcp_single.1.json",
              "window": [100.0, 111.2], "clock_error_s": 0.01}]

    def sample(t: float, busy_s: float) -> dict:
        return {"t": t, "guests": {"server": {"vcpu": round(busy_s * hz), "io": 0, "vhost": 0}},
                "host": {"user": round(busy_s * hz), "nice": 0, "system": 0, "idle": 0, "iowait": 0, "irq": 0,
                         "softirq": 0, "steal": 0}}

    # cumulative busy seconds every 0.1 s: 2 per second until 101.2, 1 per second after
    times = [round(99.0 + 0.1 * i, 1) for i in range(140)]
    busy = [2 * (min(t, 101.2) - 99.0) + max(0.0, t - 101.2) for t in times]
    (run_dir / "host_cpu.jsonl").write_text("".join(json.dumps(sample(t, b)) + "\n" for t, b in zip(times, busy)))
    results.record_run(run_dir, backend="virtio", tests=tests, environment=ENV,
                       config={"tests": ["iperf3_tcp_single"], "repeat": 1})
    run = json.loads((run_dir / "run.json").read_text())
    parsed = run["tests"][0]["parsed"]
    assert parsed["host_cpu_window"] == [101.2, 111.2]
    assert parsed["host_cpu_window_s"] == pytest.approx(10.0)
    assert parsed["host_cpu_total_s"] == pytest.approx(10.0, rel=0.01)
    # 1 busy core per Gbit/s: 1 CPU-second per Gbit (the whole run would have said 12.4 / 11.2 = 1.107)
    assert parsed["host_cpu_cost"] == pytest.approx(1.0, rel=0.01)


def test_netperf_work_is_its_test_length():
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import cpu_window

    assert cpu_window("netperf_tcp_rr", {"transaction_rate": 1.0}, [10.0, 42.5], 30) == [12.5, 42.5]
    assert cpu_window("iperf3_tcp_single", {"seconds": 5.0}, [10.0, 16.5]) == [11.5, 16.5]
    # ping measures its whole run; a measured time longer than the run keeps the run
    assert cpu_window("ping", {}, [10.0, 20.0]) == [10.0, 20.0]
    assert cpu_window("netperf_tcp_crr", {}, [10.0, 42.5], 30) == [12.5, 42.5]
    assert cpu_window("iperf3_tcp_single", {"seconds": 5.0}, None) is None
    assert cpu_window("iperf3_tcp_single", {"seconds": 50.0}, [10.0, 16.5]) == [10.0, 16.5]


def test_reproducibility_prints_the_command_that_was_run(tmp_path):
    """One lab measured virtio and macvtap (one run id, `-e backend=all`): one command, not one per backend."""
    extra = {"extra_vars": {"backend": "all", "profile": "quick"}}
    record(tmp_path, "virtio", "20261127T100000Z", SAME, config=extra)
    record(tmp_path, "macvtap", "20261127T100000Z", SAME, config=extra)
    model, _md = build(tmp_path)
    assert model["reproducibility"]["benchmark"] == [
        "ansible-playbook playbooks/benchmark.yml -e backend=all -e profile=quick",
        "ansible-playbook playbooks/benchmark.yml -e backend=vhost-net"]


def test_a_cross_host_run_and_a_recovered_lab_are_named_under_anomalies():
    """What the run's environment notes - where the CPU was sampled (a cross-host pair), what a remote hypervisor's
    guard tore down before the run - is said once, whichever backends carry it."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.report.anomalies import _environment_anomalies  # pylint: disable=import-outside-toplevel

    env = {"accelerator": "kvm", "cpu_sampled": "hv-b (the client VM's hypervisor)",
           "recovered": "the hypervisor's guard tore down an earlier run's lab at 2026-12-03T10:00:00Z after 12 s"}
    chosen = {b: {"environment": dict(env), "config": {}} for b in ("virtio", "macvtap")}
    lines = _environment_anomalies(chosen, ["virtio", "macvtap"], ["virtio", "macvtap"])
    assert lines == [
        "Before this run, the hypervisor's guard tore down an earlier run's lab at 2026-12-03T10:00:00Z after 12 s.",
        "Host CPU per unit of work counts hv-b (the client VM's hypervisor) only: in a cross-host run the server VM's "
        "hypervisor is not sampled, so the CPU cells are the client side's cost."]
    plain = {b: {"environment": {"accelerator": "kvm"}, "config": {}} for b in ("virtio", "macvtap")}
    assert _environment_anomalies(plain, ["virtio", "macvtap"], ["virtio", "macvtap"]) == []


def test_latency_under_load_is_compared_with_each_paths_idle_latency():
    """The loaded ÷ idle ratio per path: Fieller's interval and Welch's p (recomputed with scipy), one Holm family
    (statsmodels) of its own; a path whose loaded latency is its idle one is not called different."""
    from scipy import stats as st  # pylint: disable=import-outside-toplevel
    from statsmodels.stats.multitest import multipletests  # pylint: disable=import-outside-toplevel

    from ansible_collections.volt.netbench.plugins.plugin_utils.report.model import under_load  # pylint: disable=import-outside-toplevel
    from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.verdicts import make_cell as _make_cell  # pylint: disable=import-outside-toplevel

    def make_cell(reps):
        return dict(_make_cell(reps), text=f"{np.mean(list(reps.values())):,.1f}")

    rows = matrix.report_rows(tests=["ping", "ping_loaded"])
    by = {(r.test, r.metric): r for r in rows}
    idle = {"virtio": [1000.0, 1040.0, 980.0], "native": [50.0, 52.0, 49.0]}
    loaded = {"virtio": [3900.0, 4200.0, 3700.0], "native": [50.5, 49.0, 51.5]}
    cells = {r: {} for r in rows}
    for name in idle:
        for metric in ("rtt_p50_us", "rtt_p99_us"):
            cells[by[("ping", metric)]][name] = make_cell(dict(enumerate(idle[name], 1)))
            cells[by[("ping_loaded", metric)]][name] = make_cell(dict(enumerate(loaded[name], 1)))
    out = under_load(rows, cells, ["virtio", "native"])
    assert out["family"] == 4 and [(line["backend"], line["metric"]) for line in out["lines"]] == [
        ("virtio", "ICMP P50"), ("virtio", "ICMP P99"), ("native", "ICMP P50"), ("native", "ICMP P99")]
    raw_p = [st.ttest_ind(loaded[n], idle[n], equal_var=False).pvalue for n in ("virtio", "virtio", "native", "native")]
    reject, adjusted, _s, _b = multipletests(raw_p, alpha=0.05, method="holm")
    for line, adj, rej in zip(out["lines"], adjusted, reject):
        assert line["p_adjusted"] == pytest.approx(adj, rel=1e-6) and line["significant"] == bool(rej)
        assert line["ratio"] == pytest.approx(np.mean(loaded[line["backend"]]) / np.mean(idle[line["backend"]]))
    virtio = out["lines"][0]
    assert virtio["significant"] and "higher under load" in virtio["text"] and virtio["ratio_low"] > 3
    assert not out["lines"][2]["significant"] and "no difference shown" in out["lines"][2]["text"]
    shown = np.mean(loaded["virtio"]) / np.mean(idle["virtio"])
    assert out["finding"].startswith(f"Under load the latency changed beyond its interval on: virtio ICMP P50 "
                                     f"×{shown:.2f} [{virtio['ratio_low']:.2f}, {virtio['ratio_high']:.2f}]")
    # one repetition: estimates, never a claim
    single = {r: {n: make_cell({1: c["values"][0]}) for n, c in cells[r].items()} for r in rows}
    once = under_load(rows, single, ["virtio", "native"])
    assert once["family"] == 0 and all("not tested: one repetition" in line["text"] for line in once["lines"])
    assert once["finding"].startswith("One repetition per test")


def test_a_searched_rate_over_its_loss_bound_names_a_cause_that_exists_on_that_path(tmp_path):
    search = {"pps_mode": "search", "pps_loss_max_percent": 0.1}
    guests = 4194304
    record(tmp_path, "virtio", "20261127T100000Z", SAME, config=search, rcvbuf=guests)
    record(tmp_path, "native", "20261127T100000Z", NATIVE, config=search, rcvbuf=guests)
    model, md = build(tmp_path)
    anomalies = section(md, "### Anomalies", "##")
    virtio = next(line for line in anomalies.splitlines() if line.startswith("- virtio: PPS 64"))
    native = next(line for line in anomalies.splitlines() if line.startswith("- native: PPS 64"))
    assert "more than pps_loss_max (0.1 %)" in virtio and "under TCG a guest's vCPU stalls" in virtio
    # no vCPU on the native path: with the guests' buffers, what is left is its receiver's scheduling
    assert "vCPU" not in native and "the receiving iperf3 not scheduled in time" in native
    # with a smaller buffer than the guests', that is the cause named
    capped = tmp_path / "capped"
    record(capped, "virtio", "20261127T100000Z", SAME, config=search, rcvbuf=guests)
    record(capped, "native", "20261127T100000Z", NATIVE, config=search, rcvbuf=425984)
    model, md = build(capped)
    native = next(line for line in section(md, "### Anomalies", "##").splitlines()
                  if line.startswith("- native: PPS 64"))
    assert "(the native reference's UDP sockets got 416 KiB receive buffers, the guests' 4 MiB" in native


def test_a_small_cpu_share_is_shown_not_rounded_to_nothing():
    """A nested lab's vhost-net run: its vhost workers took 0.11 % of the host CPU of its tests - whole percents
    showed '0 %', as if the path had no vhost worker at all."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.cells import _cpu_split  # pylint: disable=import-outside-toplevel

    parsed = {"host_cpu_total_s": 100.0, "host_cpu_vcpu_s": 74.8, "host_cpu_qemu_io_s": 14.3, "host_cpu_vhost_s": 0.109,
              "host_cpu_kernel_s": 10.791}
    chosen = {"vhost-net": {"tests": [{"name": "iperf3_tcp_single", "repetition": 1, "parsed": parsed}]}}
    rows = tuple(r for r in matrix.report_rows() if r.section == "cpu")
    split = {r["part"]: r["cells"]["vhost-net"] for r in _cpu_split(chosen, rows, ["vhost-net"])}
    assert split == {"vcpu": "75 %", "qemu_io": "14 %", "vhost": "0.11 %", "kernel": "11 %"}
