"""The regression gate end to end: two quick runs of one lab on this machine, the second with a slower data path -
a token bucket (tc tbf, 100 Mbit/s) on the lab's taps, set by this test inside the lab's own namespace while the
guests boot (this kernel has no netem) - and `benchmark.yml -e against=previous` on the second: ansible-playbook
exits 3 and the gate names the throughput row.

Results that outlive the job: the first run is recorded into a real PostgreSQL server this test starts
(pgserver.py; -e store=DSN), the second runs from a fresh copy of the checkout with an empty results directory, the
store named only by the environment (VOLT_NETBENCH_STORE, as the AWX credential type injects it): its gate finds
the first run in the store, and keeps its verdict there.

It runs on the guest tests' xdist worker (its own lock and namespace): the benchmark tests' worker is the suite's
longest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import ROOT, copy_checkout, run
from pgserver import PgServer
from test_benchmark import ENV, PLAYBOOK, assert_clean, bench_args, flat, runs

sys.path.insert(0, str(ROOT / ".collections"))
pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces, taps and QEMU"),
              pytest.mark.xdist_group("guests")]
OWN_LOCK = Path("/run/volt-netbench/regression-gate-test.lock")
TAPS = ("vnbtap0", "vnbtap1")
# What the gate can call is bounded by the baseline's spread, whatever the drop: Welch's test of "the ratio is at
# least 1 - tolerance" has |t| <= sqrt(n) / CV of the baseline. Under the suite's load (the other worker's lab) the
# baseline's single stream once spread 0.26-1.18 Gbps (CV 55 %) and five repetitions with ping's three rows in the
# family (15 hypotheses, Holm) left a -89 % drop short. Eight repetitions of the one throughput test (its row and its
# CPU cost: 6 hypotheses) call it up to a CV of about 75 % - the pipeline's wiring is what this test checks; the
# gate's power and false-alarm rate are simulated in tests/unit/.../test_regression.py.
SETTINGS = ["-e", "backend=virtio", "-e", "repeat=8", "-e", '{"tests": ["iperf3_tcp_single"]}',
            "-e", f"benchmark_lock_path={OWN_LOCK}"]


@pytest.fixture
def lab_ns():
    ns = f"vnbr-{os.getpid()}"
    yield ns
    subprocess.run(["pkill", "-f", f"/run/volt-netbench/guests/{ns}/"], check=False)
    subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
    OWN_LOCK.unlink(missing_ok=True)


def throttle(ns: str, applied: list, stop: threading.Event) -> None:
    """Once the lab's taps exist, a 100 Mbit/s token bucket on both (traffic towards each guest): every TCP test
    of the run is rate-limited; an idle ping passes as before."""
    while not stop.is_set():
        if all(subprocess.run(["ip", "-n", ns, "link", "show", tap], capture_output=True, check=False).returncode == 0
               for tap in TAPS):
            for tap in TAPS:
                subprocess.run(["ip", "netns", "exec", ns, "tc", "qdisc", "replace", "dev", tap, "root", "tbf", "rate",
                                "100mbit", "burst", "64kb", "latency", "20ms"], check=True)
            applied.append(time.monotonic())
            return
        time.sleep(0.2)


def test_a_slower_data_path_fails_the_gate_on_its_throughput_rows_against_a_run_in_the_store(tmp_path, lab_ns):
    from ansible_collections.volt.netbench.plugins.plugin_utils.history import store as vstore  # pylint: disable=import-outside-toplevel

    results, fresh_results = tmp_path / "results", tmp_path / "fresh-results"
    server = PgServer().start()
    try:
        dsn = server.createdb("vnb_gate")
        began = time.monotonic()
        # a key=value DSN has spaces: given as an extra var, it goes as JSON
        first = run(bench_args(results, lab_ns, *SETTINGS, "-e", json.dumps({"store": dsn})), check=False, env=ENV,
                    timeout=1800)
        assert first.returncode == 0, first.stdout[-6000:]
        clone = copy_checkout(tmp_path / "clone")
        applied: list = []
        stop = threading.Event()
        watcher = threading.Thread(target=throttle, args=(lab_ns, applied, stop), daemon=True)
        watcher.start()
        try:
            args = bench_args(fresh_results, lab_ns, *SETTINGS, "-e", "against=previous", "-e", "tolerance=50")
            args[args.index(str(PLAYBOOK))] = str(clone / "playbooks" / "benchmark.yml")
            second = run(args, cwd=clone, check=False, env={**ENV, "VOLT_NETBENCH_STORE": dsn}, timeout=1800)
        finally:
            stop.set()
            watcher.join(timeout=10)
        with vstore.open_store(dsn) as store:
            kept, verdicts_kept = store.runs(), store.verdicts()
    finally:
        server.stop()
    print(f"\n[gate e2e: two runs of virtio, 1 test x 8] wall time {time.monotonic() - began:.0f} s")
    assert applied, "the lab's taps never appeared: " + second.stdout[-5000:]
    assert second.returncode == 3, second.stdout[-6000:]
    (old,), (new,) = runs(results, "virtio"), runs(fresh_results, "virtio")
    assert old["status"] == new["status"] == "complete"
    # both runs in the store, under the local lab's host, each naming where its raw files are
    assert [(r["host"], r["backend"], r["run_id"], r["location"]) for r in kept] == [
        ("localhost", "virtio", old["run_id"], str(results / "virtio" / old["run_id"])),
        ("localhost", "virtio", new["run_id"], str(fresh_results / "virtio" / new["run_id"]))]
    assert [(v["run_id"], v["against"], v["verdict"]) for v in verdicts_kept] == [
        (new["run_id"], old["run_id"], "regression")]
    doc = json.loads((fresh_results / "comparisons" / f"{new['run_id']}-vs-{old['run_id']}" / "compare.json").read_text())
    verdicts = {m["metric"]: m["verdict"] for m in doc["metrics"]}
    print("[gate e2e] " + "; ".join(
        f"{m['metric']}: {m['baseline']['values']} -> {m['current']['values']}, {m['change_pct']:+.1f} % {m['verdict']}"
        for m in doc["metrics"]))
    # the token bucket takes the single stream from about 1.5-2 Gbps to 0.1: a regression beyond 50 %
    assert verdicts["TCP Single Stream"] == "regression"
    tcp = next(m for m in doc["metrics"] if m["metric"] == "TCP Single Stream")
    assert tcp["interval_pct"][1] < -50 and max(tcp["current"]["values"]) < 0.11
    # the run's rows: the single stream and its host CPU cost, nothing else compared
    assert set(verdicts) <= {"TCP Single Stream", "TCP Single Stream, per Gbit"}
    text = flat(second.stdout)
    assert f"Run {new['run_id']} against {old['run_id']} (tolerance ±50 %): REGRESSION in" in text
    assert "volt.netbench.gate: a regression beyond the tolerance - exit status 3" in second.stderr
    # the DSN given on the command line is not in the log of the run that had it only from the environment
    assert dsn not in second.stdout
    assert_clean(lab_ns, lock=OWN_LOCK)
