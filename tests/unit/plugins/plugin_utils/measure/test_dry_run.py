"""Check mode's text and the results directory check (plugins/plugin_utils/measure/dry_run.py)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.volt.netbench.plugins.filter.benchmark_dry_run import benchmark_dry_run
from ansible_collections.volt.netbench.plugins.filter.lab_plan import lab_plan
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import dry_run, sweep

NATIVE = {"server_netns": "vnb-lab-native-server", "client_netns": "vnb-lab-native-client",
          "job_dir": "/run/volt-netbench/vnb-lab.jobs", "missing": ["netperf", "netserver"]}


def test_a_missing_results_dir_is_probed_in_its_parent_and_nothing_is_left(tmp_path):
    target = tmp_path / "a" / "b" / "results"
    assert dry_run.results_dir_problem(str(target)) == ""
    assert list(tmp_path.iterdir()) == [], "the probe is removed and nothing is created"
    (tmp_path / "file").write_text("x")
    assert dry_run.results_dir_problem(str(tmp_path / "file" / "results")) == f"{tmp_path / 'file'} is not a directory"


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write a read-only directory")
def test_an_unwritable_results_dir_is_refused(tmp_path):
    tmp_path.chmod(0o500)
    try:
        assert dry_run.results_dir_problem(str(tmp_path / "results")).startswith(f"cannot create a directory in {tmp_path}")
    finally:
        tmp_path.chmod(0o700)


def test_proc_is_refused_as_a_real_run_refuses_it():
    assert dry_run.results_dir_problem("/proc/volt-netbench").startswith("cannot create a directory in /proc")


def test_the_dry_run_says_what_runs_what_is_refused_and_every_step():
    plan = lab_plan(["virtio", "macvtap"], "198.18.0.1", "198.18.0.2", duration=5, ping_count=200,
                    selected=["iperf3_tcp_single", "ping", "netperf_tcp_crr"], native=NATIVE)
    decisions = {"virtio": {"usable": True}, "macvtap": {"usable": True},
                 "vhost-net": {"usable": False, "reason": "/dev/vhost-net does not exist"}}
    devices = [{"ifname": "vnbtap0", "kind": "tap", "netns": "vnb-lab", "backend": "virtio", "guest": "server",
                "lower": "vnbbr0"},
               {"ifname": "data0", "kind": "existing", "netns": "vnb-lab-native-server", "name": "server",
                "address": "198.18.3.1/24", "lower": "vnbbr0"}]
    guests = [{"name": "server", "data_addresses": {"virtio": "198.18.0.1/24", "macvtap": "198.18.2.1/24"}}]
    lines = benchmark_dry_run(plan, requested=["virtio", "vhost-net", "macvtap"], decisions=decisions,
                              accelerator="tcg", image={"action": "reuse", "key": "0123abcd", "dir": "/c/0123abcd"},
                              netns="vnb-lab", native_netns=["vnb-lab-native-server", "vnb-lab-native-client"],
                              devices=devices, guests=guests, results_dir="results")
    text = "\n".join(lines)
    assert lines[0].startswith("Check mode: nothing was installed, created, locked or written")
    assert "  run virtio\n  refuse vhost-net: /dev/vhost-net does not exist\n  run macvtap" in text
    assert "  reuse the cached guest image /c/0123abcd (recipe 0123abcd)" in text
    assert ("  create the namespace vnb-lab and the native reference's vnb-lab-native-server, "
            "vnb-lab-native-client") in text
    assert "  create tap vnbtap0 in vnb-lab on vnbbr0 for virtio server" in text
    assert "  create data0 in vnb-lab-native-server on vnbbr0 for the native server (198.18.3.1/24)" in text
    assert "  boot guest server under TCG: macvtap 198.18.2.1/24, virtio 198.18.0.1/24" in text
    # every step of the plan, with its command; native's netperf test is left out, and why
    assert "    [1/8] virtio iperf3_tcp_single (6 s): iperf3 -c 198.18.0.1 -t 5 -O 1 -J" in text
    assert ("    [3/8] native iperf3_tcp_single (6 s): ip netns exec vnb-lab-native-client iperf3 -c 198.18.3.1 "
            "-t 5 -O 1 -J") in text
    assert "    [8/8] macvtap netperf_tcp_crr (5 s): netperf -H 198.18.2.1 -l 5 -t TCP_CRR" in text
    assert "    native netperf_tcp_crr: left out - netperf and netserver are not installed" in text
    est = dry_run.estimate(plan, "tcg")
    # three iperf3 runs (+0.3 s), three pings (+0.4 s), two TCP_CRR (+4 s), each +1 s to start and collect
    matrix = sum(t["duration_s"] + dry_run.PER_TEST_S for t in plan["tests"]) + 3 * 0.3 + 3 * 0.4 + 2 * 4.0
    assert est["matrix_s"] == pytest.approx(matrix, abs=0.05)
    assert est["total_s"] == pytest.approx(16 + 7 + 32 + matrix + 8 + 5, abs=0.05)
    assert f"(preparing 16 s, lab 7 s, boot 32 s, tests {est['matrix_s']:g} s, teardown 8 s, report 5 s)" in text


def test_a_sweep_lists_its_points_and_counts_the_tests_at_every_one():
    plan = lab_plan(["virtio", "macvtap"], "198.18.0.1", "198.18.0.2", duration=5, ping_count=200,
                    selected=["iperf3_tcp_single", "ping"], native=dict(NATIVE, missing=[]))
    one = dry_run.estimate(plan, "tcg")
    backends = sum(dry_run.test_seconds(t) for t in plan["tests"] if t["backend"] != "native")
    native = one["matrix_s"] - backends
    assert native > 0
    swept = sweep.points(sweep.parse({"mtu": [1500, 9000], "queues": [1, 2]}))
    assert dry_run.estimate(plan, "tcg", {"points": swept})["matrix_s"] == pytest.approx(4 * backends, abs=0.1)
    follows = sweep.points({"streams": [1, 8], "message_size": [1448]})
    est = dry_run.estimate(plan, "tcg", {"points": follows})
    assert est["matrix_s"] == pytest.approx(2 * (backends + native), abs=0.1)
    usable = {"virtio": {"usable": True}, "macvtap": {"usable": True}}
    image = {"action": "reuse", "key": "k", "dir": "/c/k"}
    lines = benchmark_dry_run(plan, requested=["virtio", "macvtap"], decisions=usable, accelerator="tcg", image=image,
                              sweep={"factors": {"mtu": [1500, 9000], "queues": [1, 2]}, "points": swept})
    text = "\n".join(lines)
    assert ("  sweep 4 points (mtu 1500, 9000; queues 1, 2): these tests at each point, the points alternating "
            "inside each repetition like the backends") in text
    assert "    point mtu=9000,queues=2 (no native reference: it has no guest NICs to set)" in text
    assert f"tests {dry_run.estimate(plan, 'tcg', {'points': swept})['matrix_s']:g} s" in text
    plain = benchmark_dry_run(plan, requested=["virtio"], decisions=usable, accelerator="tcg", image=image)
    assert "sweep" not in "\n".join(plain)


def test_nothing_to_run_says_so_and_a_built_image_is_named():
    lines = benchmark_dry_run({}, requested=["vhost-net"], decisions={"vhost-net": {"usable": False, "reason": "no"}},
                              accelerator="tcg", image={"action": "build", "key": "k", "dir": "/c/k"})
    assert lines[1:] == ["  refuse vhost-net: no", "  build the guest image /c/k (recipe k; about two minutes)",
                         "  measure nothing: no requested backend can run here; it would record each as not run "
                         "under results"]
