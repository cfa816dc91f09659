"""The benchmark's input checks and its check mode: nothing here takes the hypervisor lock, boots a guest
or builds a device, so these run beside the lab tests, with a lock path of their own
(test_benchmark.py holds the lab tests that share the real one)."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest

from helpers import run
from test_benchmark import ENV, TEST_SECONDS, bench_args, flat, netns_exists

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for the hypervisor's preflight")
OWN_LOCK = Path(f"/run/volt-netbench/inputs-test-{os.getpid()}.lock")


def args(results: Path, ns: str, *extra: str) -> list[str]:
    return bench_args(results, ns, "-e", f"benchmark_lock_path={OWN_LOCK}", *extra)


@pytest.fixture(name="lab_ns")
def fixture_lab_ns():
    ns = f"vnbi-{os.getpid()}"
    yield ns
    subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)


# --- input validation: refused before the host is touched ---------------------------------------

@pytest.mark.parametrize(
    "extra, message",
    [
        (["-e", "backend=vhost"], "value of benchmark_backend must be one of: virtio, vhost-net, macvtap, all, got: vhost"),
        (["-e", "duration=-5"], "duration must be a whole number of seconds, at least 1 (got -5)"),
        (["-e", "ping_count=0"], "ping_count must be a whole number of echo requests, at least 1 (got 0)"),
        (["-e", "repeat=0"], "repeat must be a whole number of repetitions, 1-50 (got 0)"),
        (["-e", '{"pps_sizes": [0]}'], "pps_sizes: 0 is not a UDP payload size: each must be a whole number of bytes "
                                       "from 1 to MTU - 28 = 1472 (got [0])"),
        (["-e", "benchmark_netns='bad name'"], "benchmark_netns 'bad name' is not a namespace name: use 1-32 letters"),
        (["-e", "benchmark_memory_mb=-1"], "benchmark_memory_mb must be 0 (the default: 8192 with KVM, 1024 under TCG) "
                                           "or at least 256 MiB (got -1)"),
        (["-e", '{"tests": "ping"}'], "tests must be a list of test names, got 'ping': pass -e '{\"tests\": [\"ping\"]}'"),
        (["-e", '{"pps_sizes": [64, 9000]}'],
         "packet size 9000 is above the MTU: a UDP payload can be at most MTU - 28 = 1472 bytes (benchmark_mtu=1500)."),
        (["-e", "results_dir=/proc/volt-netbench"], "results_dir /proc/volt-netbench is not writable"),
        (["-e", '{"tests": ["iperf4"]}'], "tests: unknown tests iperf4: choose from iperf3_tcp_single"),
        (["-e", "benchmark_server_address=8.8.8.8", "-e", "benchmark_client_address=8.8.8.9"],
         "invalid benchmark settings: lab addresses (benchmark_server_address=8.8.8.8, benchmark_client_address=8.8.8.9, "
         "benchmark_prefix=24): 8.8.8.8, 8.8.8.9 is a public address"),
        (["-e", "image=/nonexistent/cloud.qcow2"], "image /nonexistent/cloud.qcow2 is not a file on"),
        (["-e", "topology=cross_host"], "topology=cross_host measures VM to VM between two hypervisors, but the play "
                                        "has 1 (localhost): the first boots the server VM, the second the client VM"),
        (["-e", 'sweep={"mtu":[1500,9000],"queus":[2]}'],
         "sweep: 'queus' is not a factor (one of queues, mtu, offloads, message_size, streams, load)"),
        (["-e", '{"sweep": {"mtu": [1500, 9000]}}', "-e", "benchmark_uplink=eth0"],
         "sweep: mtu would change the MTU of a NIC of the host's (uplink): set its MTU yourself and run once per MTU"),
    ],
)
def test_bad_input_is_refused_before_any_host_change(tmp_path, lab_ns, extra, message):
    refused(tmp_path, lab_ns, extra, message)


@pytest.mark.parametrize("extra, message", [
    (["-e", "results_dir=/proc/volt-netbench"], "results_dir /proc/volt-netbench is not writable"),
    (["-e", "duration=-5"], "duration must be a whole number of seconds, at least 1 (got -5)"),
    (["-e", '{"tests": ["iperf4"]}'], "tests: unknown tests iperf4: choose from iperf3_tcp_single"),
    (["-e", "image=/nonexistent/cloud.qcow2"], "image /nonexistent/cloud.qcow2 is not a file on"),
])
def test_check_mode_refuses_bad_input_as_a_run_does(tmp_path, lab_ns, extra, message):
    """AWX's Check job type: the same refusal, with the same message, as the real run above."""
    refused(tmp_path, lab_ns, [*extra, "--check"], message)


def refused(tmp_path: Path, lab_ns: str, extra: list[str], message: str) -> None:
    # a later -e wins, so the bad results_dir replaces the default one
    proc = run(args(tmp_path / "results", lab_ns, *extra), check=False, env=ENV)
    assert proc.returncode != 0
    assert message in flat(proc.stdout), proc.stdout[-3000:]
    assert not netns_exists(lab_ns)
    assert not OWN_LOCK.exists()
    assert "Prepare the hypervisor" not in proc.stdout and "Decide every requested backend" not in proc.stdout
    assert not (tmp_path / "results").exists()


@pytest.fixture
def held_lock():
    """The hypervisor lock held by another live 'ansible' process, as while another benchmark runs."""
    holder = subprocess.Popen(["bash", "-c", "exec -a ansible-playbook-elsewhere sleep 300"])
    OWN_LOCK.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps({"owner_pid": holder.pid, "owner_host": socket.gethostname(), "taken": time.time(),
                       "description": "volt.netbench benchmark held by a test"})
    OWN_LOCK.write_text(text)
    try:
        yield text
    finally:
        holder.kill()
        holder.wait()
        OWN_LOCK.unlink(missing_ok=True)


@pytest.mark.parametrize("extra, message", [
    (["-e", '{"pps_sizes": [0]}'], "pps_sizes: 0 is not a UDP payload size"),
    (["-e", "benchmark_netns='bad name'"], "benchmark_netns 'bad name' is not a namespace name"),
    (["-e", "benchmark_memory_mb=-1"], "benchmark_memory_mb must be 0 (the default"),
    (["-e", '{"tests": "ping"}'], "tests must be a list of test names, got 'ping'"),
])
def test_bad_input_is_refused_before_the_lock_another_run_holds(tmp_path, lab_ns, held_lock, extra, message):
    proc = run(args(tmp_path / "results", lab_ns, *extra), check=False, env=ENV)
    assert proc.returncode != 0
    assert message in flat(proc.stdout), proc.stdout[-3000:]
    assert "another benchmark holds this hypervisor" not in proc.stdout
    assert OWN_LOCK.read_text() == held_lock, "the other run's lock is untouched"


def snapshot(ns: str, watchdog: Path) -> dict:
    """What a benchmark run changes on this host: namespaces, root links, processes, lock, watchdog state."""
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout.split()
    links = subprocess.run(["ip", "-br", "link"], capture_output=True, text=True, check=True).stdout
    procs = subprocess.run(["pgrep", "-af", ns], capture_output=True, text=True, check=False).stdout
    return {"netns": sorted(n for n in names if n.startswith(ns)), "links": sorted(line.split()[0] for line in links.splitlines()),
            "processes": [p for p in procs.splitlines() if "pgrep" not in p], "lock": OWN_LOCK.exists(),
            "watchdog": watchdog.exists(), "samples": Path(f"/run/volt-netbench/{ns}.cpu.jsonl").exists()}


def test_check_mode_says_what_a_run_would_do_and_changes_nothing(tmp_path, lab_ns):
    results, cache = tmp_path / "results", tmp_path / "images"
    cache.mkdir()
    watchdog = Path.home() / ".cache" / "volt-netbench" / "labs" / f"{lab_ns}.watchdog.json"
    before = snapshot(lab_ns, watchdog)
    proc = subprocess.run(args(results, lab_ns, "-e", "backend=all", "-e", "native=true",
                               "-e", f"benchmark_image_cache_dir={cache}", "-e", 'sweep={"streams":[1,8]}',
                               "--check", "--diff"),
                          capture_output=True, text=True, timeout=900, check=False, env={**os.environ, **ENV})
    out = proc.stdout
    assert proc.returncode == 0, out[-4000:]
    assert snapshot(lab_ns, watchdog) == before, "check mode changed the host"
    assert not results.exists() and list(cache.iterdir()) == [], "nothing is written or built"
    assert "Check mode: nothing was installed, created, locked or written. A run would:" in out
    # the preflight's decisions, read-only
    assert "run virtio" in out and "run macvtap" in out
    if not os.path.exists("/dev/vhost-net"):
        assert "refuse vhost-net: backend vhost-net is not available on this host: /dev/vhost-net does not exist" in out
    assert re.search(rf"build the guest image {cache}/[0-9a-f]{{16}} \(recipe [0-9a-f]{{16}}; about two minutes\)", out)
    assert f"create the namespace {lab_ns} and the native reference's {lab_ns}-native-server, {lab_ns}-native-client" in out
    assert f"create tap vnbtap0 in {lab_ns} on vnbbr0 for virtio server" in out
    assert f"create macvtap vnbmvt1 in {lab_ns} on vnblow0 for macvtap client" in out
    assert f"create data0 in {lab_ns}-native-client on vnbbr0 for the native client (198.18.3.2/24)" in out
    assert re.search(r"boot guest server under (TCG|KVM): macvtap 198\.18\.2\.1/24, virtio 198\.18\.0\.1/24", out)
    # every step of the plan, with its command, and the time it would take
    steps = re.findall(r"\[(\d+)/(\d+)\] (virtio|macvtap|native) (\w+) \([0-9.]+ s\): (.+)$", out, re.M)
    total = int(steps[0][1])
    assert [int(s[0]) for s in steps] == list(range(1, total + 1))
    assert steps[0][2:4] == ("virtio", "iperf3_tcp_single")
    assert steps[0][4].startswith(f"iperf3 -c 198.18.0.1 -t {TEST_SECONDS} ")
    assert any(s[2] == "native" and s[4].startswith(f"ip netns exec {lab_ns}-native-client ping ") for s in steps)
    # a sweep (-e sweep=... as key=value JSON without spaces): its points, every test at each, in the time
    assert ("sweep 2 points (streams 1, 8): these tests at each point, the points alternating inside each repetition "
            "like the backends") in out
    assert "point streams=1\n" in out and "point streams=8\n" in out
    minutes = re.search(r"tests ([0-9.]+) s, teardown", out)
    assert float(minutes.group(1)) > 2 * sum(float(s) for s in re.findall(r"\] \S+ \w+ \(([0-9.]+) s\)", out)), \
        "the tests count twice (+ their fixed costs)"
    assert re.search(r"take about \d:\d\d:\d\d \(preparing 16 s, lab 7 s, boot \d+ s, tests [0-9.]+ s, teardown 8 s, report 5 s\)", out)
    # no lock, no watchdog, no guest, no run: those tasks are skipped or not reached
    for task in ("Take the hypervisor lock", "Start the watchdog", "Boot the server and client guests", "Start a run record"):
        for shown in re.finditer(rf"TASK \[[^\]]*{task}[^\]]*\] \**\n(\S+)", out):
            assert shown.group(1) == "skipping:", task
    # --diff adds nothing noisy: no before/after of devices or packages
    assert "--- before" not in out and "+++ after" not in out
