"""Sweeps (plugin_utils/measure/sweep.py): the factors checked before anything runs, the points and their interleaved
order, what a host cannot do, and the interaction test - its false-claim rate, power and interval coverage
simulated with a fixed seed, and its place in the report's one Holm family."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from ansible_collections.volt.netbench.plugins.plugin_utils.measure import results, sweep
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics import stats


def test_a_sweep_is_checked_whole_before_anything_runs():
    assert sweep.parse('{"mtu": [1500, 9000], "queues": [1, 2]}') == {"mtu": [1500, 9000], "queues": [1, 2]}
    assert sweep.parse("") == {} and sweep.parse(None) == {} and sweep.parse({}) == {}
    assert sweep.parse({"load": [0.1, 0.5, 0.9], "offloads": ["on", "off"]}) == {
        "load": [0.1, 0.5, 0.9], "offloads": ["on", "off"]}
    with pytest.raises(sweep.SweepError) as err:
        sweep.parse({"mtu": [1500, 1500, 99999], "queus": [2], "streams": [], "load": [1.0], "offloads": [True]})
    text = str(err.value)
    assert "mtu: 99999 is not a whole number from 576 to 9000" in text and "mtu: a level is given twice" in text
    assert "'queus' is not a factor (one of queues, mtu, offloads, message_size, streams, load)" in text
    assert "streams: a list of at least one level, got []" in text
    assert "load: 1.0 is not a fraction of the path's loss-bounded rate" in text
    assert "offloads: True is not 'on' or 'off'" in text
    with pytest.raises(sweep.SweepError, match="sweep '{\"mtu\":' is not JSON .*: -e key=value ends a value at a space, "
                                               "so write it without spaces"):
        sweep.parse('{"mtu":')  # what -e sweep='{"mtu": [1500, 9000]}' gives: Ansible splits key=value at spaces
    with pytest.raises(sweep.SweepError, match="sweep must map factors to lists of levels"):
        sweep.parse([1500])


def test_points_are_every_combination_named_and_interleaved_like_the_backends():
    planned = sweep.points(sweep.parse({"mtu": [1500, 9000], "queues": [1, 2]}))
    assert [p["key"] for p in planned] == ["mtu=1500,queues=1", "mtu=1500,queues=2", "mtu=9000,queues=1",
                                           "mtu=9000,queues=2"]
    assert not any(p["native"] for p in planned), "the native reference has no virtio-net queues"
    assert sweep.points({}) == [{"key": "", "factors": {}, "suffix": "", "native": True}]
    loads = sweep.points({"load": [0.5, 0.9]})
    assert [p["key"] for p in loads] == ["load=0.5", "load=0.9"] and all(p["native"] for p in loads)
    run = sweep.order(loads, ["virtio", "macvtap"], ["ping_loaded", "sockperf_loaded"], 2, native="native")
    assert [(r["test"], r["repetition"], r["point"], r["backend"]) for r in run[:6]] == [
        ("ping_loaded", 1, "load=0.5", "virtio"), ("ping_loaded", 1, "load=0.5", "macvtap"),
        ("ping_loaded", 1, "load=0.5", "native"), ("ping_loaded", 1, "load=0.9", "virtio"),
        ("ping_loaded", 1, "load=0.9", "macvtap"), ("ping_loaded", 1, "load=0.9", "native")]
    assert len(run) == 2 * 2 * 2 * 3 and run[-1] == {"test": "sockperf_loaded", "repetition": 2, "point": "load=0.9",
                                                     "backend": "native"}
    assert sweep.seconds(loads, 100.0, native_s=20.0) == 240.0 and sweep.seconds(planned, 100.0, 20.0) == 400.0


def test_points_a_host_cannot_do_are_refused_with_the_reason():
    planned = sweep.points({"queues": [1, 2, 4], "mtu": [1500, 9000]})
    refused = sweep.refusals(planned, vcpus=2)
    assert set(refused) == {"queues=4,mtu=1500", "queues=4,mtu=9000"}
    assert refused["queues=4,mtu=1500"] == ("4 queue pairs need as many vCPUs per guest, the guests have 2 "
                                            "(benchmark_vcpus)")
    assert sweep.refusals(planned, vcpus=4) == {}


def test_the_lab_devices_take_every_level_the_factors_allow():
    """Why no point is refused for the lab's own devices: in a real lab namespace's ``ip -j -d link`` (the fixture),
    every device takes the factors' largest MTU and the tap the largest queue count, and the limits the module
    states are the devices' own."""
    links = json.loads((FIXTURES / "ip_link_lab.json").read_text())
    kinds = ("veth", "bridge", "tun", "macvtap", "macvlan")
    lab = [link for link in links if link.get("linkinfo", {}).get("info_kind") in kinds]
    assert {link["linkinfo"]["info_kind"] for link in lab} == set(kinds)
    assert min(link["max_mtu"] for link in lab) == sweep.LAB_DEVICE_LIMITS["max_mtu"]
    tap = next(link for link in lab if link["linkinfo"]["info_kind"] == "tun")
    assert tap["num_tx_queues"] == sweep.LAB_DEVICE_LIMITS["queues"]
    with pytest.raises(sweep.SweepError):
        sweep.parse({"mtu": [9001]})
    with pytest.raises(sweep.SweepError):
        sweep.parse({"queues": [17]})
    assert max(sweep.parse({"mtu": [9000]})["mtu"]) < sweep.LAB_DEVICE_LIMITS["max_mtu"]
    assert max(sweep.parse({"queues": [16]})["queues"]) < sweep.LAB_DEVICE_LIMITS["queues"]


def simulate(rng, interaction: float, n: int = 3, cv: float = 0.05) -> dict:
    """One sweep of two levels: A and B at 10 Gbit/s at level 1; at level 2, A 20 % ahead of B times INTERACTION
    (1.0: the same lead as at level 1 - here 0 % then 20 % is a lead that *moves*, so level 1 gets the same 20 %)."""
    base = 10.0
    a1, b1 = base * 1.2, base
    a2, b2 = base * 1.2 * interaction * 1.5, base * 1.5  # level 2 is faster for both: only the ratio matters
    draw = [rng.normal(m, cv * m, n) for m in (a1, b1, a2, b2)]
    return sweep.interaction(*draw)


def test_simulation_the_interaction_test_claims_no_change_where_there_is_none_and_finds_a_30_percent_one():
    """Fixed seed, 3 repetitions per cell, 5 % noise. No interaction: at most 5 % of 4,000 sweeps have p < 0.05,
    and the 95 % interval of the ratio of ratios covers 1 in at least 94 %. A 30 % interaction (A's lead 20 % at
    one level, 56 % at the other): found (p < 0.05) in at least 90 % (95 % with this seed), its interval covering
    1.3 in at least 94 %. The test is conservative: 2.9 % false claims, 97 % coverage with this seed."""
    rng = np.random.default_rng(20261205)
    runs = 4000
    null = [simulate(rng, 1.0) for _run in range(runs)]
    false_claims = sum(r["p"] < 0.05 for r in null) / runs
    coverage = sum(r["low"] <= 1.0 <= r["high"] for r in null) / runs
    real = [simulate(rng, 1.3) for _run in range(runs)]
    power = sum(r["p"] < 0.05 for r in real) / runs
    covered = sum(r["low"] <= 1.3 <= r["high"] for r in real) / runs
    print(f"false claims {false_claims:.4f}, coverage {coverage:.4f}; power {power:.4f}, coverage {covered:.4f}")
    assert false_claims <= 0.05 and coverage >= 0.94
    assert power >= 0.90 and covered >= 0.94
    assert all(abs(r["lead"][0] - 20) < 15 for r in null[:50])


def test_an_interaction_is_a_member_of_the_reports_family_and_says_so():
    rng = np.random.default_rng(3)
    clear = sweep.interaction(*(rng.normal(m, 0.02 * m, 4) for m in (12.0, 10.0, 20.0, 10.0)))
    flat = sweep.interaction(*(rng.normal(m, 0.05 * m, 3) for m in (12.0, 10.0, 18.0, 15.0)))
    family = stats.Family()
    family.add(("interaction", "queues", "macvtap", "virtio"), clear)
    family.add(("interaction", "mtu", "macvtap", "virtio"), flat)
    family.add(("other claim",), stats.compare([1.0, 1.1, 0.9], [1.0, 1.05, 0.95]))
    assert family.correct() == 3
    assert clear["significant"] and not flat["significant"] and clear["p_adjusted"] >= clear["p"]
    grows = sweep.interaction_text("macvtap", "virtio", "queues", (1, 4), clear)
    assert re.fullmatch(r"macvtap's lead over virtio is \+(19|20|21) % at queues=1 and \+(9\d|10\d) % at queues=4: it "
                        r"grows \(interaction p < 0\.001, Holm-adjusted < 0\.001\)", grows), grows
    same = sweep.interaction_text("macvtap", "virtio", "mtu", (1500, 9000), flat)
    assert same.endswith(")") and ": the change is not detectable in these repetitions (interaction p = " in same
    # what cannot be tested is said, never claimed
    one = sweep.interaction([12.0], [10.0], [20.0], [10.0])
    assert not one["tested"] and one["ratio"] == pytest.approx(5 / 3) and one["why"] == "one repetition"
    assert sweep.interaction_text("a", "b", "mtu", (1500, 9000), one).endswith("- not tested (one repetition)")
    zero = sweep.interaction([0.0, 0.0], [10.0, 10.0], [1.0, 1.0], [10.0, 10.0])
    assert not zero["tested"] and zero["ratio"] is None
    same_values = sweep.interaction([2.0, 2.0], [1.0, 1.0], [2.0, 2.0], [1.0, 1.0])
    assert same_values["degenerate"] and not same_values["tested"] and same_values["ratio"] == 1.0
    latency = sweep.interaction([0.9, 0.91], [1.0, 1.01], [0.5, 0.51], [1.0, 1.01], higher_is_better=False)
    assert latency["lead"][0] == pytest.approx(10, abs=1) and latency["lead"][1] == pytest.approx(50, abs=1)
    assert math.isclose(latency["ratio"], (0.505 / 1.005) / (0.905 / 1.005))


def test_a_points_runs_are_named_by_its_levels_and_kept_apart_from_other_points(tmp_path):
    """A point's runs: results/<backend>/<run id>+factor-level/, a run id the results checks accept (and nothing
    else), sorted after the point's own run id; its run.json configuration carries the point."""
    planned = sweep.points(sweep.parse({"mtu": [9000], "load": [0.5], "offloads": ["off"]}))
    assert sweep.point_suffix(planned[0]["factors"]) == "+mtu-9000+load-0.5+offloads-off"
    assert sweep.run_key("virtio", planned[0]) == "virtio+mtu-9000+load-0.5+offloads-off"
    assert sweep.split_run_key("vhost-net+mtu-9000") == ("vhost-net", "+mtu-9000")
    assert sweep.split_run_key("native") == ("native", "")
    for good in ("20261205T221100Z", "20261205T221100Z-2", "20261205T221100Z+mtu-9000+load-0.5",
                 "20261205T221100Z-1+offloads-off"):
        assert results.RUN_ID_RE.match(good)
    for bad in ("20261205T221100Z+mtu", "20261205T221100Z+../x", "20261205T221100Z+mtu-9000/..",
                "20261205T221100Z+MTU-9000", "20261205T221100Z+mtu-9000-1"):
        assert not results.RUN_ID_RE.match(bad), bad
    first, first_id = results.create_run_dir(tmp_path, "virtio", "20261205T221100Z", "+mtu-9000")
    again, again_id = results.create_run_dir(tmp_path, "virtio", "20261205T221100Z", "+mtu-9000")
    assert first == tmp_path / "virtio" / "20261205T221100Z+mtu-9000"
    assert again_id == "20261205T221100Z-1+mtu-9000", "a taken id takes its -N before the point"
    with pytest.raises(results.ResultsError, match="is not a UTC timestamp"):
        results.create_run_dir(tmp_path, "virtio", "20261205T221100Z", "mtu-9000")
    ids = ["20261205T221100Z+mtu-9000", "20261205T221100Z-1+mtu-1500", "20261205T221100Z", "20261205T221059Z+mtu-9000"]
    assert sorted(ids, key=results._sort_key) == [  # pylint: disable=protected-access
        "20261205T221059Z+mtu-9000", "20261205T221100Z", "20261205T221100Z+mtu-9000", "20261205T221100Z-1+mtu-1500"]
    config = sweep.point_config(sweep.points({"streams": [2], "mtu": [9000]})[0], {"mtu": 1500, "parallel_streams": 8})
    assert config == {"mtu": 9000, "parallel_streams": 2, "point": {"streams": 2, "mtu": 9000}}
    assert sweep.point_config({"key": "", "factors": {}}, {"mtu": 1500}) == {"mtu": 1500}
    # the gate and the history compare a point only with the same point
    assert results.compared_config({"config": config}) != results.compared_config({"config": dict(config, point={
        "streams": 2, "mtu": 1500})})


def test_a_points_guest_command_sets_and_reads_back_each_setting():
    nics = [{"name": "data0", "backend": "virtio", "queues": 2}, {"name": "data1", "backend": "macvtap", "queues": 1}]
    command = sweep.guest_command({"mtu": 9000, "offloads": "off", "queues": 2}, nics)
    assert command.split(" && ") == [
        "set -e",
        "ip link set dev data0 mtu 9000", 'test "$(cat /sys/class/net/data0/mtu)" = 9000',
        "ethtool -K data0 tso off gso off gro off", "ethtool -k data0 | grep -q '^generic-segmentation-offload: off'",
        "ethtool -L data0 combined 2",
        "ethtool -l data0 | sed -n '/^Current/,$p' | grep -q '^Combined:[[:space:]]*2$'",
        "ip link set dev data1 mtu 9000", 'test "$(cat /sys/class/net/data1/mtu)" = 9000',
        "ethtool -K data1 tso off gso off gro off", "ethtool -k data1 | grep -q '^generic-segmentation-offload: off'",
    ], "a NIC booted with one queue has no queue pairs to set"
    assert sweep.guest_command({"streams": 4}, nics) == "", "streams change the client's argv only"


FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "sweep"


def test_the_mtu_is_set_on_lower_devices_first_and_on_the_bridge_last():
    batch = sweep.mtu_batch((FIXTURES / "ip_link_lab.json").read_text(), 9000)
    assert batch.splitlines() == ["link set dev vnblow0 mtu 9000", "link set dev vnblow1 mtu 9000",
                                  "link set dev vnbtap0 mtu 9000", "link set dev vnbmvl0 mtu 9000",
                                  "link set dev vnbmvt0 mtu 9000", "link set dev vnbbr0 mtu 9000"]
    assert sweep.mtu_batch("[]", 1500) == "" and sweep.mtu_batch([{"ifname": "lo"}], 1500) == ""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a network namespace")
def test_the_batch_takes_a_real_lab_namespace_up_to_jumbo_frames_and_back():
    """The fixture's namespace built for real: ip -batch takes every link to 9000 and back to 1500 in that order
    (a macvtap above its lower device, a bridge above its port would be refused)."""
    ns = f"vnbsweep-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        for argv in (["link", "add", "vnblow0", "type", "veth", "peer", "name", "vnblow1"],
                     ["link", "add", "vnbbr0", "type", "bridge"],
                     ["tuntap", "add", "dev", "vnbtap0", "mode", "tap", "multi_queue"],
                     ["link", "set", "vnbtap0", "master", "vnbbr0"],
                     ["link", "add", "link", "vnblow0", "name", "vnbmvt0", "type", "macvtap", "mode", "bridge"]):
            subprocess.run(["ip", "-n", ns, *argv], check=True)
        for mtu in (9000, 1500):
            links = subprocess.run(["ip", "-j", "-d", "-n", ns, "link", "show"], check=True, capture_output=True,
                                   text=True).stdout
            subprocess.run(["ip", "-n", ns, "-batch", "-"], input=sweep.mtu_batch(links, mtu), check=True, text=True)
            shown = json.loads(subprocess.run(["ip", "-j", "-n", ns, "link", "show"], check=True, capture_output=True,
                                              text=True).stdout)
            assert {link["ifname"]: link["mtu"] for link in shown if link["ifname"] != "lo"} == {
                name: mtu for name in ("vnblow0", "vnblow1", "vnbbr0", "vnbtap0", "vnbmvt0")}
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)
