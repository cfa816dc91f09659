"""The whole report over generated results trees: zeros, single repetitions, total loss, a backend missing tests,
identical values, huge and tiny values, CPU samples over a repetition that moved nothing. Every tree is recorded
through results.record_run from raw outputs in the tools' own formats (the real fixtures with their numbers
replaced, test_report_statistics), twice (a run and the one before it) and on two hosts, then rendered - the
report to Markdown, HTML and CSV, the gate's comparison, the history, the fleet report: nothing may raise, and every
table cell is a number, 'no reply' or n/a (with its reason under Anomalies). Fixed seed, bounded examples."""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from ansible_collections.volt.netbench.plugins.module_utils import hostcpu
from ansible_collections.volt.netbench.plugins.plugin_utils.report import fleet
from ansible_collections.volt.netbench.plugins.plugin_utils.history import history, regression
from ansible_collections.volt.netbench.plugins.plugin_utils import report
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import results

from test_report_statistics import ENV, FIXTURES, iperf_tcp, iperf_udp, netperf, ping  # pylint: disable=import-error

TESTS = ["iperf3_tcp_single", "iperf3_udp_max", "ping", "pps_64", "netperf_tcp_rr"]
TOOLS = {"ping": "ping", "netperf_tcp_rr": "netperf"}
NO_REPLY = (FIXTURES / "ping/iputils_unreachable.txt").read_text()
RUN_ID, EARLIER = "20261127T100000Z", "20261126T100000Z"
VALUE = st.one_of(st.just(0.0), st.floats(1e-6, 1e-3), st.floats(0.5, 50.0), st.floats(1e5, 1e8))
# a cell: a number with separators and decimals, maybe ± its half-width, a loss and an (n=K) note; or a word
CELL_RE = re.compile(r"^(-?[0-9][0-9,]*(\.[0-9]+)?( ± [0-9][0-9,]*(\.[0-9]+)?)?( \(loss [^)]*\))?( \(n=\d+\))?"
                     r"|no reply|n/a)$")


def raw_output(test: str, value: float, lost: bool) -> tuple[str, str]:
    if test == "iperf3_tcp_single":
        doc = json.loads(iperf_tcp(value))
        if value == 0:
            doc["end"]["sum_received"]["bytes"] = doc["end"]["sum_sent"]["bytes"] = 0
        return json.dumps(doc), "json"
    if test == "iperf3_udp_max":
        return iperf_udp(value * 1e9 / (1448 * 8)), "json"
    if test == "pps_64":
        return iperf_udp(value, 64), "json"
    if test == "ping":
        return (NO_REPLY if lost else ping([value] * 20)), "txt"
    return netperf(value), "txt"


def cpu_sample(t: float, busy_s: float) -> dict:
    hz = hostcpu.clock_ticks()
    return {"t": t, "guests": {"server": {"vcpu": round(busy_s / 2 * hz), "io": 0, "vhost": 0},
                               "client": {"vcpu": 0, "io": round(busy_s / 4 * hz), "vhost": 0}},
            "host": {"user": round(busy_s * hz), "nice": 0, "system": 0, "idle": 5000, "iowait": 0, "irq": 0,
                     "softirq": 0, "steal": 0}}


@st.composite
def trees(draw):
    """{backend: {test: [(value, lost) per repetition]}, with CPU samples or not}."""
    backends = draw(st.lists(st.sampled_from(["virtio", "vhost-net", "macvtap", "native"]), min_size=1, max_size=4,
                             unique=True))
    reps = draw(st.integers(1, 3))
    out = {}
    for backend in backends:
        tests = draw(st.lists(st.sampled_from(TESTS), min_size=1, max_size=len(TESTS), unique=True))
        runs = {}
        for test in tests:
            if draw(st.booleans()):  # identical values in every repetition
                runs[test] = [(draw(VALUE), draw(st.booleans()))] * reps
            else:
                runs[test] = [(draw(VALUE), draw(st.booleans())) for _rep in range(reps)]
        out[backend] = {"tests": runs, "cpu": draw(st.booleans()), "reps": reps}
    return out


def record_tree(root: Path, tree: dict, run_id: str = RUN_ID) -> None:
    for backend, spec in tree.items():
        run_dir = results.create_run_dir(root, backend, run_id)[0]
        entries, samples, t = [], [], 100.0
        for test, reps in spec["tests"].items():
            for k, (value, lost) in enumerate(reps, 1):
                text, ext = raw_output(test, value, lost)
                raw = f"{test}.{k}.{ext}"
                (run_dir / raw).write_text(text)
                entries.append({"name": test, "tool": TOOLS.get(test, "iperf3"), "repetition": k, "raw": raw,
                                "window": [t, t + 10.0], "command": f"{test} (generated)"})
                samples += [cpu_sample(t, 8.0 * len(samples) / 2), cpu_sample(t + 10.0, 8.0 * (len(samples) / 2 + 1))]
                t += 20.0
        if spec["cpu"]:
            (run_dir / "host_cpu.jsonl").write_text("".join(json.dumps(s) + "\n" for s in samples))
        results.record_run(run_dir, backend=backend, tests=entries, environment=ENV,
                           config={"tests": list(spec["tests"]), "repeat": spec["reps"], "duration_s": 10,
                                   "ping_count": 20, "pps_sizes": [64], "parallel_streams": 8})


@seed(20261205)
@settings(max_examples=60, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(tree=trees())
def test_every_generated_results_tree_renders_and_every_cell_is_a_result(tree):
    fleet_root = Path(tempfile.mkdtemp(prefix="vnb-property-"))
    root = fleet_root / "hv-a"
    try:
        record_tree(root, tree, EARLIER)
        record_tree(root, tree)
        record_tree(fleet_root / "hv-b", tree)
        # the gate (this run against the same values before it), the history and the fleet: no division by zero
        try:
            gate = regression.compare_runs(root, "previous")
            assert regression.render_markdown(gate) and regression.render_csv(gate)
        except regression.CompareError as err:  # a run with no data: said, not a crash
            assert "no run with data" in str(err)
        json.dumps(history.build_history(root, persist=False))
        fleet_model = fleet.build_fleet(fleet_root, ["hv-a", "hv-b"])
        assert fleet.render_fleet(fleet_model) and fleet.fleet_csv(fleet_model)
        assert fleet.render_fleet_html(fleet_model, {c["key"]: "<svg></svg>" for c in fleet_model.get("charts") or []})
        model = report.build_report(root)
        svgs = {chart["key"]: "<svg></svg>" for chart in model.get("charts") or []}  # charts.draw's, without drawing
        markdown, html, csv_text = report.render_markdown(model), report.render_html(model, svgs), report.render_csv(model)
        assert markdown and html and csv_text
        json.dumps(model)  # report.json
        for table in model["tables"]:
            for row in table["rows"]:
                for column, cell in row["cells"].items():
                    assert CELL_RE.match(cell), (table["key"], row["label"], column, cell)
                    if cell == "n/a" and column in model["measured"]:
                        # an n/a in a measured column says why under Anomalies
                        assert any(column in line for line in model["anomalies"]), (row["label"], column)
        for backend, spec in tree.items():
            lost = [k for k, (_v, loss) in enumerate(spec["tests"].get("ping", []), 1) if loss]
            icmp = next((r for t in model["tables"] for r in t["rows"] if r["test"] == "ping"), None)
            shown = backend in model["measured"] or (backend == "native" and model["reference"]["measured"])
            if icmp and shown and lost and len(lost) == len(spec["tests"]["ping"]):
                assert icmp["cells"][backend] == "no reply"
            if shown and lost:
                assert any(f"{backend}: ping" in line and "no reply" in line for line in model["anomalies"])
                # said once: not also "incomplete - 0 of N echo replies"
                assert not any(f"{backend}: ping" in line and "incomplete — 0 of" in line for line in model["anomalies"])
        labels = [(t["key"], r["label"]) for t in model["tables"] for r in t["rows"]]
        assert len(labels) == len(set(labels)), "a row label repeats within its table"
        native = [line["label"] for line in model["analysis"]["native"]]
        assert len(native) == len(set(native)), "a row label repeats in Distance from Native"
        keys = [(r["backend"], r["metric"]) for r in report.summary_rows(model)]
        assert len(keys) == len(set(keys)), "a metric repeats for one backend in summary.csv"
        for backend, spec in tree.items():
            zero = [k for k, (v, _lost) in enumerate(spec["tests"].get("iperf3_tcp_single", []), 1) if v == 0]
            shown = backend in model["measured"] or (backend == "native" and model["reference"]["measured"])
            if spec["cpu"] and zero and shown:
                assert any(f"{backend}: iperf3_tcp_single" in line and "unbounded" in line
                           for line in model["anomalies"]), model["anomalies"]
    finally:
        shutil.rmtree(fleet_root)


def test_a_guest_whose_kernel_panicked_is_named_with_its_console(tmp_path):
    """The real console of a Debian 13 guest (kernel 6.12.117) that panicked in net_rx_action under TCG during
    iperf3_tcp_multi (tests/fixtures/console/trixie-server-panic.cmd): the report says what happened to the guest,
    not only that the tests after it could not reach it."""
    record_tree(tmp_path, {"virtio": {"tests": {"iperf3_tcp_single": [(2.0, False)]}, "cpu": False, "reps": 1}})
    run_dir = tmp_path / "virtio" / RUN_ID
    # as the serial console wrote it: CRLF line endings
    console = (FIXTURES / "console/trixie-server-panic.log").read_text()
    (run_dir / "console-server.log").write_bytes(console.replace("\n", "\r\n").encode())
    (run_dir / "console-client.log").write_text("volt-init: sshd started\n")
    model = report.build_report(tmp_path, display_dir="results")
    assert [a for a in model["anomalies"] if "panicked" in a] == [
        "virtio: guest server's kernel panicked 30 s after it booted while iperf3 ran (kernel 6.12.117+deb13-amd64): "
        "BUG: kernel NULL pointer dereference, address: 0000000000000008 in net_rx_action+0xef/0x420 - the tests "
        f"after it could not reach the guest; its console is results/virtio/{RUN_ID}/console-server.log."]
