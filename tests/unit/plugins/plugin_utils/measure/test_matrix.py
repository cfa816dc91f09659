"""The test matrix the client runs, and its agreement with the report's rows."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.filter.test_plan import test_plan as plan_filter
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import ROWS, plan_tests
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import matrix


def plan(**kw):
    args = {"duration": 30, "ping_count": 1000, "ping_interval": 0.01, "streams": 8, "pps_sizes": [64, 128, 256, 512]}
    args.update(kw)
    return plan_tests("198.18.0.1", **args)


def test_commands_are_the_documented_ones():
    commands = {t["name"]: t["command"] for t in plan()}
    assert commands == {
        "iperf3_tcp_single": "iperf3 -c 198.18.0.1 -t 30 -O 1 -J",
        "iperf3_tcp_multi": "iperf3 -c 198.18.0.1 -t 30 -O 1 -J -P 8",
        "iperf3_udp_max": "iperf3 -c 198.18.0.1 -t 30 -O 1 -J -u -b 0",
        "iperf3_tcp_reverse": "iperf3 -c 198.18.0.1 -t 30 -O 1 -J -R",
        "ping": "ping -c 1000 -i 0.01 -W 2 198.18.0.1",
        "sockperf_tcp": "sockperf ping-pong --tcp -i 198.18.0.1 -p 11111 -t 30 --full-rtt",
        "ping_loaded": "ping -c 1000 -i 0.01 -W 2 198.18.0.1",
        "sockperf_loaded": "sockperf ping-pong --tcp -i 198.18.0.1 -p 11111 -t 30 --full-rtt",
        "pps_64": "iperf3 -c 198.18.0.1 -t 30 -O 1 -J -u -b 0 -l 64",
        "pps_128": "iperf3 -c 198.18.0.1 -t 30 -O 1 -J -u -b 0 -l 128",
        "pps_256": "iperf3 -c 198.18.0.1 -t 30 -O 1 -J -u -b 0 -l 256",
        "pps_512": "iperf3 -c 198.18.0.1 -t 30 -O 1 -J -u -b 0 -l 512",
        "netperf_tcp_rr": "netperf -H 198.18.0.1 -l 30 -t TCP_RR -j -- -o THROUGHPUT,THROUGHPUT_UNITS,MEAN_LATENCY,"
                          "P50_LATENCY,P90_LATENCY,P99_LATENCY,STDDEV_LATENCY,TRANSACTION_RATE",
        "netperf_tcp_crr": "netperf -H 198.18.0.1 -l 30 -t TCP_CRR -j -- -o THROUGHPUT,THROUGHPUT_UNITS,MEAN_LATENCY,"
                           "P50_LATENCY,P90_LATENCY,P99_LATENCY,STDDEV_LATENCY,TRANSACTION_RATE",
        "netperf_udp_rr": "netperf -H 198.18.0.1 -l 30 -t UDP_RR -j -- -o THROUGHPUT,THROUGHPUT_UNITS,MEAN_LATENCY,"
                          "P50_LATENCY,P90_LATENCY,P99_LATENCY,STDDEV_LATENCY,TRANSACTION_RATE",
    }


def test_every_report_row_is_measured_by_a_planned_test_with_its_tool():
    tests = {t["name"]: t for t in plan()}
    for row in ROWS:
        assert row.test in tests, row
    assert {t["tool"] for t in tests.values()} == {"iperf3", "ping", "sockperf", "netperf"}
    assert tests["ping"]["duration_s"] == pytest.approx(10.0)
    assert tests["netperf_tcp_crr"]["timeout"] == 30 + 6 + 60


def test_selection_and_unknown_names():
    assert [t["name"] for t in plan(selected=["ping", "pps_64"])] == ["ping", "pps_64"]
    with pytest.raises(ValueError, match="unknown tests iperf4: choose from iperf3_tcp_single"):
        plan(selected=["iperf4"])
    with pytest.raises(AnsibleFilterError, match="^test_plan: unknown tests iperf4"):
        plan_filter("198.18.0.1", 5, 200, selected=["iperf4"])


def test_filter_returns_server_commands_bound_to_the_data_address():
    out = plan_filter("198.18.0.1", 5, 200, servers=True)
    assert out["server_commands"] == [
        ["iperf3", "-s", "-B", "198.18.0.1", "-D"],
        ["sockperf", "server", "--tcp", "-i", "198.18.0.1", "-p", "11111", "--daemonize"],
        ["netserver", "-L", "198.18.0.1"],
    ]


# --- one lab for several backends -----------------------------------------------------------------

from ansible_collections.volt.netbench.plugins.filter.lab_plan import lab_plan  # noqa: E402
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import lab_addresses  # noqa: E402


def test_each_backend_has_its_own_subnet_whatever_runs_with_it():
    both = lab_addresses(["virtio", "macvtap"], "198.18.0.1", "198.18.0.2", 24)
    assert both["virtio"] == {"server": "198.18.0.1", "client": "198.18.0.2", "server_cidr": "198.18.0.1/24",
                              "client_cidr": "198.18.0.2/24", "subnet": "198.18.0.0/24"}
    assert both["macvtap"]["subnet"] == "198.18.2.0/24"
    assert lab_addresses(["macvtap"], "198.18.0.1", "198.18.0.2", 24)["macvtap"] == both["macvtap"]
    assert lab_addresses(["vhost-net"], "198.18.0.1", "198.18.0.2", 24)["vhost-net"]["server_cidr"] == "198.18.1.1/24"
    assert lab_addresses(["macvtap"], "198.18.0.1", "198.18.0.2", 30)["macvtap"]["server"] == "198.18.0.9"


@pytest.mark.parametrize("server, client, prefix, message", [
    ("198.18.0.1", "198.18.1.2", 24, "must be two addresses of one /24 subnet"),
    ("198.18.0.1", "198.18.0.1", 24, "must be two addresses of one /24 subnet"),
    ("198.18.0.1", "198.18.0.2", 31, "prefix 31 must be 8-30"),
    ("fe80::1", "fe80::2", 64, "prefix 64 must be 8-30"),
    ("not-an-ip", "198.18.0.2", 24, "lab addresses must be IPv4 addresses"),
])
def test_bad_lab_addresses_are_refused(server, client, prefix, message):
    with pytest.raises(AnsibleFilterError, match=message):
        lab_plan(["virtio"], server, client, prefix=prefix)


def test_the_matrix_alternates_the_backends_test_by_test():
    plan = lab_plan(["virtio", "vhost-net", "macvtap"], "198.18.0.1", "198.18.0.2", duration=5, ping_count=200,
                    selected=["iperf3_tcp_single", "ping"])
    assert [t["job"] for t in plan["tests"]] == [
        "virtio.iperf3_tcp_single.1", "vhost-net.iperf3_tcp_single.1", "macvtap.iperf3_tcp_single.1",
        "virtio.ping.1", "vhost-net.ping.1", "macvtap.ping.1"]
    assert [(t["position"], t["total"]) for t in plan["tests"]] == [(i, 6) for i in range(1, 7)]
    # each backend's tests target its own server address
    assert [t["argv"][-1] for t in plan["tests"] if t["name"] == "ping"] == ["198.18.0.1", "198.18.1.1", "198.18.2.1"]
    assert plan["by_backend"]["macvtap"][0]["command"] == "iperf3 -c 198.18.2.1 -t 5 -O 1 -J"
    assert ["iperf3", "-s", "-B", "198.18.1.1", "-D"] in plan["server_commands"]
    assert plan["servers_by_backend"]["macvtap"][2] == ["netserver", "-L", "198.18.2.1"]
    assert plan["seconds"] == 3 * (5 + 1 + 200 * 0.01)  # iperf3 runs 1 s longer: its warm-up is omitted
    with pytest.raises(AnsibleFilterError, match="backends must be a list"):
        lab_plan("virtio", "198.18.0.1", "198.18.0.2")
    with pytest.raises(AnsibleFilterError, match="unknown tests iperf4"):
        lab_plan(["virtio"], "198.18.0.1", "198.18.0.2", selected=["iperf4"])


def test_repetitions_interleave_backends_and_keep_their_own_files():
    plan = lab_plan(["virtio", "macvtap"], "198.18.0.1", "198.18.0.2", duration=5, ping_count=200,
                    selected=["iperf3_tcp_single", "ping"], repeat=2)
    assert [t["job"] for t in plan["tests"]] == [
        "virtio.iperf3_tcp_single.1", "macvtap.iperf3_tcp_single.1",
        "virtio.iperf3_tcp_single.2", "macvtap.iperf3_tcp_single.2",
        "virtio.ping.1", "macvtap.ping.1", "virtio.ping.2", "macvtap.ping.2"]
    assert [t["raw"] for t in plan["by_backend"]["virtio"]] == [
        "iperf3_tcp_single.1.json", "iperf3_tcp_single.2.json", "ping.1.txt", "ping.2.txt"]
    assert plan["planned_by_backend"]["macvtap"][1] == {"name": "iperf3_tcp_single", "tool": "iperf3", "repetition": 2}
    assert plan["test_names"] == ["iperf3_tcp_single", "ping"] and plan["repeat"] == 2
    assert plan["tests"][-1]["total"] == 8
    for bad in (0, 51):
        with pytest.raises(AnsibleFilterError, match="repeat must be a whole number 1-50"):
            lab_plan(["virtio"], "198.18.0.1", "198.18.0.2", repeat=bad)


def test_sockperf_keeps_its_full_log_per_repetition():
    plan = lab_plan(["virtio"], "198.18.0.1", "198.18.0.2", selected=["sockperf_tcp"], repeat=2)
    first, second = plan["by_backend"]["virtio"]
    assert first["argv"][-2:] == ["--full-log", "/var/tmp/volt-netbench-jobs/virtio.sockperf_tcp.1.log"]
    assert second["log"] == "sockperf_tcp.2.csv.gz" and second["command"].endswith("virtio.sockperf_tcp.2.log")
    assert "full_log" not in first


NATIVE = {"server_netns": "vnb-lab-native-server", "client_netns": "vnb-lab-native-client",
          "job_dir": "/run/volt-netbench/vnb-lab.jobs"}


def test_the_native_reference_runs_the_same_tests_in_its_namespaces_after_the_backends():
    plan = lab_plan(["virtio", "macvtap"], "198.18.0.1", "198.18.0.2", duration=5, ping_count=200,
                    selected=["iperf3_tcp_single", "sockperf_tcp"], native=NATIVE)
    assert plan["paths"] == ["virtio", "macvtap", "native"]
    assert [t["job"] for t in plan["tests"]] == [
        "virtio.iperf3_tcp_single.1", "macvtap.iperf3_tcp_single.1", "native.iperf3_tcp_single.1",
        "virtio.sockperf_tcp.1", "macvtap.sockperf_tcp.1", "native.sockperf_tcp.1"]
    single, sockperf = plan["by_backend"]["native"]
    # the client side runs inside the client namespace, against the native server's own subnet
    assert single["argv"] == ["ip", "netns", "exec", "vnb-lab-native-client",
                              "iperf3", "-c", "198.18.3.1", "-t", "5", "-O", "1", "-J"]
    assert single["host"] is True and single["job_dir"] == NATIVE["job_dir"]
    assert sockperf["argv"][-2:] == ["--full-log", "/run/volt-netbench/vnb-lab.jobs/native.sockperf_tcp.1.log"]
    assert plan["addresses"]["native"]["client_cidr"] == "198.18.3.2/24"
    # its servers run in the server namespace on the hypervisor, not on the server VM
    assert plan["servers_by_backend"]["native"][0] == ["ip", "netns", "exec", "vnb-lab-native-server",
                                                       "iperf3", "-s", "-B", "198.18.3.1", "-D"]
    assert all("198.18.3.1" not in " ".join(cmd) for cmd in plan["server_commands"])
    assert "host" not in plan["by_backend"]["virtio"][0]
    assert plan["native_unavailable"] == {}


def test_the_native_reference_asks_for_the_guests_udp_buffers_per_socket():
    size = str(matrix.NATIVE_SOCKET_BUFFER)
    assert 2 * matrix.NATIVE_SOCKET_BUFFER == dict(matrix.GUEST_SYSCTLS)["net.core.rmem_default"]
    tests = ["iperf3_tcp_single", "iperf3_udp_max", "pps_64", "netperf_udp_rr", "netperf_tcp_rr"]
    for mode in ("flood", "search"):
        plan = matrix.plan_matrix(["virtio"], "198.18.0.1", "198.18.0.2", 24, duration=5, ping_count=100,
                                  ping_interval=0.01, streams=8, pps_sizes=[64], selected=tests,
                                  native=dict(NATIVE, missing=[]), pps_mode=mode)
        native = {t["name"]: t for t in plan["by_backend"]["native"]}
        guest = {t["name"]: t for t in plan["by_backend"]["virtio"]}
        for name in ("iperf3_udp_max", "pps_64"):
            assert native[name]["argv"][-2:] == ["-w", size] and "-w" not in guest[name]["argv"]
            assert native[name]["command"].endswith(f" -w {size}")
        if mode == "search":
            assert native["pps_64"]["search"]["probe_argv"][-2:] == ["-w", size]
            assert "-w" not in guest["pps_64"]["search"]["probe_argv"]
        assert native["netperf_udp_rr"]["argv"][-4:] == ["-s", size, "-S", size]
        assert native["netperf_udp_rr"]["argv"].index("--") < native["netperf_udp_rr"]["argv"].index("-s")
        # TCP sizes its own buffers (net.ipv4.tcp_rmem): its commands are the guests'
        for name in ("iperf3_tcp_single", "netperf_tcp_rr"):
            assert native[name]["argv"][4:] == [a.replace("198.18.0.1", "198.18.3.1") for a in guest[name]["argv"]]


def test_the_native_reference_leaves_out_tests_whose_tools_the_hypervisor_lacks():
    plan = lab_plan(["virtio"], "198.18.0.1", "198.18.0.2", selected=["ping", "netperf_tcp_rr", "netperf_udp_rr"],
                    native=dict(NATIVE, missing=["netserver"]))
    assert [t["job"] for t in plan["tests"]] == ["virtio.ping.1", "native.ping.1", "virtio.netperf_tcp_rr.1",
                                                 "virtio.netperf_udp_rr.1"]
    assert plan["native_unavailable"]["netperf_tcp_rr"].startswith(
        "netserver is not installed on the hypervisor (Debian ships netperf in non-free")
    assert [t["name"] for t in plan["planned_by_backend"]["native"]] == ["ping"]
    assert [cmd[4] for cmd in plan["servers_by_backend"]["native"]] == ["iperf3", "sockperf"]
    assert plan["tests"][-1]["total"] == 4 and plan["tests"][-1]["remaining_s"] == 0
    with pytest.raises(AnsibleFilterError, match="native is the reference, not a backend"):
        lab_plan(["virtio", "native"], "198.18.0.1", "198.18.0.2")
    with pytest.raises(AnsibleFilterError, match="the native reference needs client_netns"):
        lab_plan(["virtio"], "198.18.0.1", "198.18.0.2", native={"server_netns": "a", "job_dir": "/tmp/x"})


def test_a_loaded_ping_is_covered_by_its_load_even_when_the_load_slows_it():
    """A load that ends before its probe fails the test. ping sends a count, and a guest kept busy by the load sends
    it slower: its load lasts LOAD_PROBE_STRETCH times the probe's nominal length after the lead. sockperf stops at
    its -t: its load is not stretched."""
    for kw, ping_s, duration in (({}, 10.0, 30), ({"duration": 2, "ping_count": 100}, 1.0, 2)):
        tests = {t["name"]: t for t in plan(**kw)}
        load = tests["ping_loaded"]["load"]
        ran = int(load[load.index("-t") + 1]) + int(load[load.index("-O") + 1])  # the flows' seconds after set-up
        assert ran >= matrix.LOAD_LEAD_S + matrix.LOAD_PROBE_STRETCH * ping_s
        assert tests["ping_loaded"]["extra_s"] == pytest.approx(
            matrix.LOAD_LEAD_S + (matrix.LOAD_PROBE_STRETCH - 1) * ping_s)
        sockperf = tests["sockperf_loaded"]["load"]
        ran = int(sockperf[sockperf.index("-t") + 1]) + int(sockperf[sockperf.index("-O") + 1])
        assert matrix.LOAD_LEAD_S + duration <= ran <= matrix.LOAD_LEAD_S + duration + matrix.TOOL_WALL_S["sockperf"] + 2
    # the suite's run of 2026-12-06 (quick, 1 s tests, 100 pings, macvtap on TCG): the load ran 82.67-87.24 s, its
    # probe 84.45-87.55 s (the client's uptime) - 100 pings sent in 2.26 s beside 8 streams. Sized now, the flows
    # run past the probe's end, 4.88 s after the load's start, with the ~0.3 s of connection set-up before them.
    load = {t["name"]: t for t in plan(duration=1, ping_count=100)}["ping_loaded"]["load"]
    assert int(load[load.index("-t") + 1]) + int(load[load.index("-O") + 1]) >= (87.55 - 82.67) + 0.5
