"""The run model (volt.netbench.run_plan): the benchmark role's decisions, made once in Python."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins.module_utils.lab import control_match, lab_paths, sampler_pidfile
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import matrix, run_control, summary
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import create_run_dir, record_from_progress, record_run
from ansible_collections.volt.netbench.plugins.plugin_utils.run.run_model import (
    RunModelError, data_path, plan_lab, plan_pair, plan_request, sweep_run_problems)

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures"
# this machine's hypervisor_capabilities: TCG, no /dev/vhost-net, no netperf on the host (capabilities_*.cmd)
CAPABILITIES = json.loads((FIXTURES / "hypervisor" / "capabilities_tcg_no_vhost_net.json").read_text())
NOW = dt.datetime(2026, 12, 3, 9, 30, 5, tzinfo=dt.timezone.utc)


def request(tmp_path, check_mode=False, **settings):
    return plan_request({"results_dir": str(tmp_path / "results"), **settings}, now=NOW, check_mode=check_mode)


def test_the_role_defaults_make_the_default_run(tmp_path):
    run = request(tmp_path)
    assert run["requested"] == ["virtio", "vhost-net", "macvtap"] and run["run_id"] == "20261203T093005Z"
    assert {k: run["settings"][k] for k in ("duration", "ping_count", "repeat", "pps_mode", "pps_loss_max")} == {
        "duration": 30, "ping_count": 1000, "repeat": 3, "pps_mode": "search", "pps_loss_max": 0.1}
    assert run["config"]["pps_mode"] == "search" and run["config"]["pps_loss_max_percent"] == 0.1
    assert run["config"]["extra_vars"] == {"backend": "all", "profile": "default"}
    assert run["config"]["tests"][:2] == ["iperf3_tcp_single", "iperf3_tcp_multi"] and run["config"]["repeat"] == 3
    assert run["configs"]["virtio"]["server_commands"][0].startswith("iperf3 -s -B 198.18.0.1")
    assert run["paths"]["cpu_samples"] == "/run/volt-netbench/vnb-lab.cpu.jsonl"
    assert run["run_files"]["cpu_samples"] == "host_cpu.jsonl"  # the name results.py reads the samples by
    assert run["native_netns"] == ["vnb-lab-native-server", "vnb-lab-native-client"]
    assert run["display_dir"] == str(tmp_path / "results") and not (tmp_path / "results").exists()


def test_command_line_strings_and_the_profile_fill_in_the_run(tmp_path):
    run = request(tmp_path, backend="macvtap", profile="quick", duration="7", streams="4", pps_sizes=["64", 1400],
                  tests=["ping", "pps_1400"], native="false", display_dir="results")
    assert {k: run["settings"][k] for k in ("duration", "ping_count", "repeat", "native", "pps_mode")} == {
        "duration": 7, "ping_count": 200, "repeat": 1, "native": False, "pps_mode": "flood"}
    # what reproduces the run: only what differs from the profile's defaults
    assert run["config"]["extra_vars"] == {"backend": "macvtap", "profile": "quick", "duration": 7, "streams": 4,
                                           "pps_sizes": ["64", 1400], "tests": ["ping", "pps_1400"], "native": False}
    assert run["config"]["tests"] == ["ping", "pps_1400"] and run["native_netns"] == []
    assert run["display_dir"] == "results"


def test_every_problem_is_refused_at_once_with_its_own_message(tmp_path):
    with pytest.raises(RunModelError) as err:
        plan_request({"results_dir": "/proc/volt", "profile": "slow", "backend": "tap", "duration": 0,
                      "server": "8.8.8.8", "client": "8.8.8.9"})
    text = str(err.value)
    assert text.startswith("invalid benchmark settings: profile must be one of default, quick (got slow); "
                           "backend must be one of virtio, vhost-net, macvtap or all (got tap); duration must be")
    assert "8.8.8.8, 8.8.8.9 is a public address" in text
    assert "results_dir /proc/volt is not writable (cannot create a directory in /proc" in text
    with pytest.raises(RunModelError, match=r"pps_mode must be one of flood, search \(got burst\).*pps_loss_max must "
                                            r"be a loss in percent, at least 0 and below 100, e.g. 0.1 \(got 100\)"):
        request(tmp_path, pps_mode="burst", pps_loss_max=100)
    with pytest.raises(RunModelError, match="run_plan: unknown settings durations"):
        plan_request({"durations": 5})


def test_the_lab_follows_the_hypervisors_decisions(tmp_path):
    lab = plan_lab(request(tmp_path, profile="quick"), CAPABILITIES, {"kernel_release": "6.1.0-28-amd64"}, now=NOW)
    assert lab["run_backends"] == ["virtio", "macvtap"] and lab["runs"] == ["virtio", "macvtap", "native"]
    assert lab["unsupported"]["vhost-net"].startswith("preflight: backend vhost-net is not available on this host")
    assert lab["guests"] == [
        {"name": "server", "host": "server", "ssh_port": 10022, "index": 0,
         "data_addresses": {"virtio": "198.18.0.1/24", "macvtap": "198.18.2.1/24"}},
        {"name": "client", "host": "client", "ssh_port": 10023, "index": 1,
         "data_addresses": {"virtio": "198.18.0.2/24", "macvtap": "198.18.2.2/24"}}]
    assert lab["native_endpoints"] == [
        {"name": "server", "netns": "vnb-lab-native-server", "address": "198.18.3.1/24"},
        {"name": "client", "netns": "vnb-lab-native-client", "address": "198.18.3.2/24"}]
    native = lab["headers"]["native"]
    # no netperf on this host: its tests are left out, its server is not started, the header says why
    assert set(native["environment"]["native_unavailable"]) == {"netperf_tcp_rr", "netperf_tcp_crr", "netperf_udp_rr"}
    assert not any(c.startswith("ip netns exec vnb-lab-native-server netserver") for c in native["config"]["server_commands"])
    assert all("netperf" not in t["name"] for t in native["planned"])
    # its UDP sockets ask for the guests' buffers, recorded in its config as the guests' sysctl is in theirs
    assert native["config"]["native_tuning"].startswith("iperf3 -w 2097152 and netperf -s 2097152 -S 2097152")
    assert "guest_tuning" not in native["config"]
    assert lab["headers"]["virtio"]["config"]["guest_tuning"].startswith("sysctl -q -w net.core.rmem_max=")
    assert "native_tuning" not in lab["headers"]["virtio"]["config"]
    # and the run says so before the lab is built (run_plan hands these to Ansible as warnings)
    assert lab["before_lab"] == [
        "the native reference will not run netperf_tcp_rr, netperf_tcp_crr, netperf_udp_rr: netperf and netserver "
        "are not installed on the hypervisor (Debian ships netperf in non-free: add a package source that names "
        "non-free, or install it)"]
    with_netperf = dict(CAPABILITIES, tools=dict(CAPABILITIES["tools"], netperf=True, netserver=True))
    assert plan_lab(request(tmp_path, profile="quick"), with_netperf, now=NOW)["before_lab"] == []
    macvtap = lab["headers"]["macvtap"]["environment"]
    assert macvtap["data_path"] == "macvtap (bridge mode) on the lower device, virtio-net in QEMU userspace"
    assert macvtap["host_cpu"] == "AMD EPYC (2 CPUs)" and macvtap["guest_kernel"] == "6.1.0-28-amd64"
    assert macvtap["lab_backends"] == ["virtio", "macvtap"] and macvtap["data_subnet"] == "198.18.2.0/24"
    assert lab["headers"]["virtio"]["config"]["server_commands"][0].startswith("iperf3 -s -B 198.18.0.1")
    assert lab["started"] == NOW.isoformat() and lab["macvtap_vhost"] is False


def test_a_host_that_runs_nothing_plans_no_lab(tmp_path):
    caps = dict(CAPABILITIES, backends={"vhost-net": CAPABILITIES["backends"]["vhost-net"]})
    lab = plan_lab(request(tmp_path, backend="vhost-net"), caps)
    assert lab["run_backends"] == [] and lab["runs"] == [] and lab["plan"] == {} and list(lab["unsupported"]) == ["vhost-net"]


def test_a_fleets_hypervisor_keeps_its_runs_and_names_its_guests_apart(tmp_path):
    run = request(tmp_path, fleet="true", hypervisor="hv-a", display_dir="results")
    assert run["results_dir"] == str(tmp_path / "results" / "hv-a") and run["display_dir"] == "results/hv-a"
    assert run["fleet_host"] == "hv-a" and request(tmp_path, hypervisor="hv-a")["fleet_host"] == ""
    lab = plan_lab(run, CAPABILITIES, now=NOW)
    assert lab["guest_hosts"] == {"server": "hv-a-server", "client": "hv-a-client"}
    assert [g["host"] for g in lab["guests"]] == ["hv-a-server", "hv-a-client"]
    # alone, a hypervisor keeps the results tree's top level and the guests their plain names
    alone = plan_lab(request(tmp_path, hypervisor="hv-a"), CAPABILITIES, now=NOW)
    assert alone["guest_hosts"] == {"server": "server", "client": "client"}
    with pytest.raises(RunModelError, match="inventory name '../x' cannot name its results directory"):
        request(tmp_path, fleet=True, hypervisor="../x")


def test_the_data_paths_in_the_reports_words():
    from ansible_collections.volt.netbench.plugins.test.on_bridge import TestModule  # pylint: disable=import-outside-toplevel

    on_bridge = TestModule().tests()["on_bridge"]
    assert [b for b in ("virtio", "vhost-net", "macvtap") if on_bridge(b)] == ["virtio", "vhost-net"]
    assert data_path("native", ["macvtap"], False).startswith("two network namespaces on the macvtap lower device")
    assert data_path("native", ["virtio", "macvtap"], False).startswith("two network namespaces on the bridge")
    assert data_path("macvtap", ["macvtap"], True).endswith("in the vhost-net kernel thread (vhost=on)")
    assert data_path("vhost-net", ["vhost-net"], True).startswith("tap on a Linux bridge")


def test_a_labs_paths_are_named_once():
    paths = lab_paths("", controller_root="/home/u/.cache/volt-netbench/labs")
    assert paths["lab"] == "root" and paths["guest_dir"] == "/run/volt-netbench/guests/root"
    assert paths["native_netns"] == {"server": "vnb-native-server", "client": "vnb-native-client"}
    # the watchdog finds a control master by what its command line holds: the role's ControlPath
    master = f"ssh -o ControlPath={paths['control_path'].replace('%C', 'f3a9')} -p 10022 root@127.0.0.1"
    assert paths["control_match"] in master and control_match(paths["controller_dir"] + "/") == paths["control_match"]
    assert sampler_pidfile(paths["cpu_samples"]) == "/run/volt-netbench/root.cpu.jsonl.pid"


def test_the_summary_and_awx_data_come_from_the_runs_records(tmp_path):
    results = tmp_path / "results"
    ran = create_run_dir(results, "virtio", "20261203T093005Z")[0]
    shutil.copy(FIXTURES / "ping" / "iputils_20.txt", ran / "ping.txt")
    run_control.start_progress(ran, {"backend": "virtio", "planned": [
        {"name": "ping", "tool": "ping", "repetition": 1}, {"name": "netperf_tcp_rr", "tool": "netperf", "repetition": 1}]})
    run_control.append_progress(ran, {"name": "ping", "tool": "ping", "status": "ok", "message": "", "raw": "ping.txt"})
    run_control.note_progress(ran, lost="server VM unreachable: timed out")
    record_from_progress(ran)
    refused = create_run_dir(results, "vhost-net", "20261203T093005Z")[0]
    record_run(refused, backend="vhost-net", tests=[], status="not_run", reason="preflight: no /dev/vhost-net")
    create_run_dir(results, "macvtap", "20261203T093005Z")  # its record could not be written
    outcomes, not_run = summary.outcomes(results, "20261203T093005Z")
    assert outcomes["virtio"]["status"] == "partial" and outcomes["virtio"]["counts"]["skipped"] == 1
    assert outcomes["macvtap"]["status"] == "unrecorded" and not_run == {"vhost-net": "preflight: no /dev/vhost-net"}
    assert summary.failures(outcomes) == ["virtio did not complete", "macvtap did not complete"]
    result = {"report": "results/REPORT.md", "figures": {"virtio": {"ICMP P50": "0.2 ms"}}, "of_native": {},
              "ranking_text": "virtio", "recommendations": {"default": "virtio"}, "anomalies": ["a"], "runs": {},
              "measured": ["virtio"], "ranking": []}
    assert summary.summary_text(result, outcomes, not_run).splitlines() == [
        "Report: results/REPORT.md", "virtio: partial (1 ok, 0 failed)", "  ICMP P50: 0.2 ms",
        "macvtap: unrecorded (0 ok, 0 failed)", "vhost-net: not run - preflight: no /dev/vhost-net",
        "Ranking: virtio", "Default: virtio", "Anomalies: 1 (listed in the report)"]
    stats = summary.stats(result, outcomes, not_run)
    assert summary.stats_data(stats) == {"volt_netbench": stats}
    assert summary.stats_data(stats, "hv-a") == {"volt_netbench_hosts": {"hv-a": stats}}
    assert stats["status"] == "failed" and stats["error"] == "virtio did not complete; macvtap did not complete"
    # the lost guest is why the unreached test did not run
    run = json.loads((ran / "run.json").read_text())
    assert run["tests"][1]["message"] == "not run: server VM unreachable: timed out"


def test_the_models_defaults_are_the_roles():
    """run_plan fills in what a direct caller leaves out with the benchmark role's defaults (and says what differs from
    them in the extra vars that reproduce a run): they must not drift apart."""
    import yaml  # pylint: disable=import-outside-toplevel

    from ansible_collections.volt.netbench.plugins.plugin_utils.run.run_model import SETTINGS  # pylint: disable=import-outside-toplevel

    role = yaml.safe_load((Path(__file__).resolve().parents[5] / "roles" / "benchmark" / "defaults" / "main.yml").read_text())
    names = {"server": "server_address", "client": "client_address", "image": "guest_image_path"}
    # the role's results directory is relative to the playbook, fleet follows the play's hosts, hypervisor,
    # connection and address are inventory_hostname, ansible_connection and ansible_host
    templated = {"results_dir", "display_dir", "fleet", "hypervisor", "connection", "address", "port", "user", "key",
                 "ssh_args"}
    for key, value in SETTINGS.items():
        if key not in templated:
            assert role[f"benchmark_{names.get(key, key)}"] == value, key


def pair_requests(tmp_path, a=None, b=None, **settings):
    """Both hypervisors of inventories/fleet-local asked for one cross-host run (their own settings: A, B)."""
    common = {"topology": "cross_host", "fleet": True, "connection": "local", **settings}
    return {"hv-a": request(tmp_path, **{**common, "hypervisor": "hv-a", "netns": "vnb-a", **(a or {})}),
            "hv-b": request(tmp_path, **{**common, "hypervisor": "hv-b", "netns": "vnb-b", **(b or {})})}


def test_a_cross_host_pair_splits_the_guests_and_lays_one_cable_per_wiring(tmp_path):
    peers = pair_requests(tmp_path, profile="quick")
    server, client = plan_pair(peers["hv-a"], peers), plan_pair(peers["hv-b"], peers)
    # one run, one report: the results tree keeps its top level
    assert server["results_dir"] == client["results_dir"] == str(tmp_path / "results") and client["fleet_host"] == ""
    assert (server["pair"]["guests"], server["pair"]["records"]) == (["server"], False)
    assert (client["pair"]["guests"], client["pair"]["records"]) == (["client"], True)
    assert server["pair"]["peer"] == "hv-b" and client["pair"]["peer"] == "hv-a"
    # the server's side lays the simulated cable: a veth pair per wiring, from its namespace to the client's
    assert server["pair"]["cables"] == [{"name": "vnbwire0", "netns": "vnb-a", "peer_netns": "vnb-b"},
                                        {"name": "vnbwire1", "netns": "vnb-a", "peer_netns": "vnb-b"}]
    assert client["pair"]["cables"] == []
    assert server["wiring"] == client["wiring"] == {"uplink": "vnbwire0", "macvtap_lower": "vnbwire1"}
    assert client["config"]["topology"] == "cross_host" and client["config"]["extra_vars"]["topology"] == "cross_host"
    # a backend only one of the pair can run does not run; the reason names the host
    caps_b = dict(CAPABILITIES, cpu_model="Intel Xeon", backends=dict(
        CAPABILITIES["backends"], macvtap={"usable": False, "reason": "macvtap module missing"}))
    lab_b = plan_lab(client, caps_b, now=NOW, pair_capabilities=[CAPABILITIES, caps_b])
    lab_a = plan_lab(server, CAPABILITIES, now=NOW, pair_capabilities=[CAPABILITIES, caps_b])
    assert lab_b["run_backends"] == lab_a["run_backends"] == ["virtio"]
    assert lab_b["unsupported"]["macvtap"] == "preflight: on hv-b: macvtap module missing"
    assert lab_b["unsupported"]["vhost-net"].startswith("preflight: on hv-a: backend vhost-net is not available")
    assert "; on hv-b: backend vhost-net" in lab_b["unsupported"]["vhost-net"]
    # the client's hypervisor runs the matrix and records the pair's runs; the server's starts the traffic servers
    assert lab_b["runs"] == ["virtio", "native"] and lab_a["runs"] == [] and lab_a["headers"] == {}
    assert lab_a["not_run"] == {} and set(lab_b["not_run"]) == {"vhost-net", "macvtap"}
    assert lab_b["tests"] == lab_b["plan"]["tests"] and lab_b["tests"] and lab_a["tests"] == []
    assert [g["host"] for g in lab_a["guests"]] == ["hv-a-server"] and [g["host"] for g in lab_b["guests"]] == ["hv-b-client"]
    # each keeps its place in the lab (the MACs on the wire differ)
    assert [g["index"] for g in lab_a["guests"] + lab_b["guests"]] == [0, 1]
    assert lab_a["guest_hosts"] == lab_b["guest_hosts"] == {"server": "hv-a-server", "client": "hv-b-client"}
    # each guest's UDP receive buffers first (matrix.GUEST_SYSCTLS), then the server's traffic servers
    tuning = ["sysctl", "-q", "-w", "net.core.rmem_max=4194304", "net.core.rmem_default=4194304"]
    assert lab_a["guest_checks"] == [{"name": "server", "servers": [tuning] + lab_a["plan"]["server_commands"]}]
    assert lab_b["guest_checks"] == [{"name": "client", "servers": [tuning]}]
    assert lab_b["headers"]["virtio"]["config"]["guest_tuning"] == " ".join(tuning)
    # the native reference host to host: its server's namespace on hv-a, its client's on hv-b
    assert lab_a["native_endpoints"] == [{"name": "server", "netns": "vnb-a-native-server", "address": "198.18.3.1/24"}]
    assert lab_b["native_endpoints"] == [{"name": "client", "netns": "vnb-b-native-client", "address": "198.18.3.2/24"}]
    assert lab_a["native_servers"] and lab_b["native_servers"] == []
    assert all("vnb-b-native-client" in " ".join(t["argv"]) for t in lab_b["tests"] if t["backend"] == "native")
    env = lab_b["headers"]["virtio"]["environment"]
    assert env["host_cpu"] == "hv-a: AMD EPYC (2 CPUs); hv-b: Intel Xeon (2 CPUs)"
    assert env["host_kernel"] == CAPABILITIES["kernel"]
    assert env["topology"].startswith("cross-host: server VM on hv-a, client VM on hv-b, across a veth pair")
    assert env["cpu_sampled"] == "hv-b (the client VM's hypervisor)"
    # each backend's data path names the wire it crosses: the bridge's uplink, or macvtap's lower device
    assert env["data_path"].endswith("; server VM on hv-a, client VM on hv-b, across the veth pair vnbwire0 between "
                                     "hv-a's and hv-b's lab namespaces")
    assert data_path("macvtap", ["virtio", "macvtap"], True, client["pair"]).endswith(
        ", across the veth pair vnbwire1 between hv-a's and hv-b's lab namespaces")
    assert lab_b["headers"]["native"]["environment"]["data_path"].startswith(
        "two network namespaces, the server's on hv-a and the client's on hv-b, each on its host's bridge")
    # check mode says each side's part
    from ansible_collections.volt.netbench.plugins.filter.benchmark_dry_run import benchmark_dry_run  # pylint: disable=import-outside-toplevel

    image = {"action": "reuse", "dir": "/var/cache/volt-netbench/images/k", "key": "k"}
    said = {side: benchmark_dry_run(lab, requested=req["requested"], decisions=CAPABILITIES["backends"],
                                    accelerator="tcg", image=image, netns=req["settings"]["netns"], pair=req["pair"])
            for side, lab, req in (("server", lab_a, server), ("client", lab_b, client))}
    total = lab_b["tests"][-1]["total"]
    assert "  lay the simulated cable vnbwire0: a veth pair from vnb-a to vnb-b" in said["server"]
    assert f"  keep its guest up while hv-b runs the {total} tests from the client VM" in said["server"]
    assert "  leave the results and the report to hv-b" in said["server"]
    assert not any(line.startswith("    [1/") for line in said["server"])
    assert not any("lay the simulated cable" in line for line in said["client"])
    assert f"  run {total} tests, 1 repetition(s) each, the backends alternating:" in said["client"]
    assert any(line.startswith("  take part in a cross-host pair: the server VM on hv-a") for line in said["client"])
    # one hypervisor that stopped before its preflight stops the other
    with pytest.raises(RunModelError, match="the other hypervisor of the cross-host pair, hv-a, stopped before"):
        plan_lab(client, caps_b, now=NOW, pair_capabilities=[{}, caps_b])


def test_a_cross_host_pair_is_refused_before_anything_is_touched(tmp_path):
    peers = pair_requests(tmp_path, backend="macvtap")
    # only the wiring a backend needs: macvtap's lower device
    assert plan_pair(peers["hv-a"], peers)["pair"]["cables"] == [
        {"name": "vnbwire1", "netns": "vnb-a", "peer_netns": "vnb-b"}]
    three = {**peers, "hv-c": peers["hv-b"]}
    with pytest.raises(RunModelError, match=r"between two hypervisors, but the play has 3 \(hv-a, hv-b, hv-c\)"):
        plan_pair(peers["hv-a"], three)
    with pytest.raises(RunModelError, match="the other hypervisor of the cross-host pair, hv-b, stopped at its own"):
        plan_pair(peers["hv-a"], {"hv-a": peers["hv-a"], "hv-b": {}})
    # labs in namespaces of two machines: no cable joins them; settings that differ
    apart = pair_requests(tmp_path, a={"connection": "ssh", "address": "10.0.0.1"},
                          b={"connection": "ssh", "address": "10.0.0.2", "duration": 9})
    with pytest.raises(RunModelError) as err:
        plan_pair(apart["hv-b"], apart)
    assert "duration differs (hv-a: 30, hv-b: 9)" in str(err.value)
    assert "keep their labs in namespaces on different machines, which no cable joins" in str(err.value)
    # SSH to this machine's loopback is this machine - unless through a ProxyCommand, which leads elsewhere (the
    # nested lab's VMs: forwarded ports of a namespace's loopback)
    loopback = pair_requests(tmp_path, a={"connection": "ssh", "address": "127.0.0.1", "port": "22"},
                             b={"connection": "ssh", "address": "127.0.0.1", "port": "2222"})
    assert plan_pair(loopback["hv-a"], loopback)["pair"]["cables"]
    proxied = {k: "-o 'ProxyCommand=ip netns exec vnb-nested nc 127.0.0.1 %d'" % port for k, port in
               (("hv-a", 22201), ("hv-b", 22202))}
    nested = pair_requests(tmp_path, a={"connection": "ssh", "address": "127.0.0.1", "ssh_args": proxied["hv-a"]},
                           b={"connection": "ssh", "address": "127.0.0.1", "ssh_args": proxied["hv-b"]})
    with pytest.raises(RunModelError, match="keep their labs in namespaces on different machines"):
        plan_pair(nested["hv-a"], nested)
    wired = pair_requests(tmp_path, a={"connection": "ssh", "address": "127.0.0.1", "ssh_args": proxied["hv-a"],
                                       "netns": "", "uplink": "data0", "macvtap_lower": "data1"},
                          b={"connection": "ssh", "address": "127.0.0.1", "ssh_args": proxied["hv-b"],
                             "netns": "", "uplink": "data0", "macvtap_lower": "data1"})
    assert plan_pair(wired["hv-b"], wired)["pair"]["wire"] == "hv-a's data0 to hv-b's data0; hv-a's data1 to hv-b's data1"
    # real hosts: the NICs wired to each other, distinct for the bridge and for macvtap
    real = pair_requests(tmp_path, a={"netns": "", "uplink": "eno2", "macvtap_lower": "eno2"}, b={"netns": ""})
    with pytest.raises(RunModelError) as err:
        plan_pair(real["hv-a"], real)
    assert "hv-a's benchmark_uplink and benchmark_macvtap_lower are both eno2" in str(err.value)
    assert "hv-b needs benchmark_uplink: the NIC wired to the other hypervisor" in str(err.value)
    wired = pair_requests(tmp_path, backend="virtio", a={"netns": "", "uplink": "eno2"}, b={"netns": "", "uplink": "ens1"})
    pair = plan_pair(wired["hv-b"], wired)
    assert pair["pair"]["cables"] == [] and pair["wiring"]["uplink"] == "ens1"
    assert pair["pair"]["wire"] == "hv-a's eno2 to hv-b's ens1"
    # an SSH connection to the controller's loopback is the controller: a simulated cable can join its labs
    loop = pair_requests(tmp_path, b={"connection": "ssh", "address": "127.0.0.1", "port": 2222})
    assert plan_pair(loop["hv-a"], loop)["pair"]["cables"]
    # a same-host run is its own: nothing to decide
    alone = request(tmp_path)
    assert plan_pair(alone, {}) is alone and alone["pair"]["guests"] == ["server", "client"] and alone["pair"]["records"]
    with pytest.raises(RunModelError, match="topology must be one of same_host, cross_host"):
        request(tmp_path, topology="ring")


def test_a_remote_hypervisor_gets_a_proxy_and_a_heartbeat(tmp_path):
    run = request(tmp_path, connection="ssh", address="127.0.0.1", port=2222, user="root", key="/k/key",
                  ssh_args="-o UserKnownHostsFile=/k/kh", heartbeat_timeout="30", netns="vnb-b")
    assert run["ssh"] == {"host": "127.0.0.1", "port": "2222", "user": "root", "key": "/k/key",
                          "args": "-o UserKnownHostsFile=/k/kh"}
    assert run["heartbeat"] == {
        "ssh": ["ssh", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=/k/kh", "-p", "2222", "-i", "/k/key",
                "root@127.0.0.1"],
        "path": "/run/volt-netbench/vnb-b.heartbeat", "recovered": "/run/volt-netbench/vnb-b.recovered.json",
        "stale_after": 30}
    local = request(tmp_path, connection="local")
    assert local["ssh"] == {} and local["heartbeat"] == {}
    # the controller keeps each remote hypervisor's lab state apart: two hosts' labs of one name (a fleet in the
    # default namespace, a cross-host pair in the root namespace) have a watchdog and a known_hosts each
    root = local["paths"]["controller_root"]
    assert local["paths"]["watchdog_config"] == f"{root}/vnb-lab.watchdog.json"
    halves = [request(tmp_path, connection="ssh", address=f"10.0.0.{k}", hypervisor=f"hv{k}", netns="")["paths"]
              for k in (1, 2)]
    assert [h["watchdog_config"] for h in halves] == [f"{root}/hv1/root.watchdog.json", f"{root}/hv2/root.watchdog.json"]
    assert [h["controller_dir"] for h in halves] == [f"{root}/hv1/root", f"{root}/hv2/root"]
    assert halves[0]["known_hosts"] != halves[1]["known_hosts"] and halves[0]["control_match"] != halves[1]["control_match"]
    with pytest.raises(RunModelError, match=r"heartbeat_timeout must be a whole number of seconds, at least 10 \(got 5\)"):
        request(tmp_path, connection="ssh", heartbeat_timeout=5)


def test_the_gates_baseline_and_tolerance_are_checked_before_anything_is_touched(tmp_path):
    with pytest.raises(RunModelError, match=r"against: no run with data under .*results: nothing to compare with"):
        request(tmp_path, against="previous")
    with pytest.raises(RunModelError, match=r"against: run 20261201T000000Z not found under .*results \(newest runs "
                                            r"with data: none\)"):
        request(tmp_path, against="20261201T000000Z")
    with pytest.raises(RunModelError, match=r"against: .*/results/last-good is neither a run id"):
        request(tmp_path, against=str(tmp_path / "results" / "last-good"))
    # a directory outside the results tree is refused before it is read (the survey's answer, read as root)
    with pytest.raises(RunModelError, match=r"against: /etc is outside .*/results: a baseline directory must be "
                                            r"inside the results tree \(or the job template's results_base\)"):
        request(tmp_path, against="/etc")
    with pytest.raises(RunModelError, match=r"tolerance must be a percentage from 0 to below 100 \(got 120\)"):
        request(tmp_path, tolerance="120")
    assert request(tmp_path, against="")["settings"]["against"] == ""


def test_a_results_dir_stays_inside_the_job_templates_results_base(tmp_path):
    """An AWX survey's results_dir is the job user's answer: with the template's results_base it is taken inside
    that directory, and one that leaves it - absolute, '..', a symbolic link - is refused before anything runs."""
    base = tmp_path / "awx-results"
    base.mkdir()
    (base / "link").symlink_to(tmp_path)
    assert request(tmp_path, results_base=str(base), results_dir="")["results_dir"] == str(base)
    assert request(tmp_path, results_base=str(base), results_dir="team-a")["results_dir"] == str(base / "team-a")
    for bad, resolved in (("/etc", "/etc"), ("../x", tmp_path / "x"), ("link/y", tmp_path / "y")):
        with pytest.raises(RunModelError, match=re.escape(
                f"results_dir {bad!r} leaves results_base {base} (it resolves to {resolved}): name a directory "
                "inside it, or leave it empty")):
            request(tmp_path, results_base=str(base), results_dir=bad)
    with pytest.raises(RunModelError, match="results_base 'rel' must be an absolute path"):
        request(tmp_path, results_base="rel")


def test_a_sweep_is_checked_before_anything_is_touched_and_planned_in_check_mode(tmp_path):
    """The sweep's points come with the plan; a run refuses what it cannot measure, saying so; a bad factor or a
    point the guests cannot do is one of the settings' problems."""
    run = request(tmp_path, sweep='{"mtu": [1500, 9000], "streams": [1, 8]}', check_mode=True)
    assert run["sweep"]["factors"] == {"mtu": [1500, 9000], "streams": [1, 8]}
    keys = ["mtu=1500,streams=1", "mtu=1500,streams=8", "mtu=9000,streams=1", "mtu=9000,streams=8"]
    assert [p["key"] for p in run["sweep"]["points"]] == keys
    assert request(tmp_path)["sweep"] == {"factors": {}, "points": [{"key": "", "factors": {}, "suffix": "",
                                                                     "native": True}]}
    # a run measures a sweep - but not a factor it does not measure yet, a pair, or the MTU of links the lab does
    # not own
    assert len(request(tmp_path, sweep={"mtu": [1500, 9000]})["sweep"]["points"]) == 2
    assert request(tmp_path, sweep={"load": [0.5]})["sweep"]["points"][0]["key"] == "load=0.5"
    assert sweep_run_problems({"load": [0.5]}, {"topology": "cross_host", "netns": "vnb-lab"}) == [
        "sweep: a cross-host pair does not sweep yet: sweep on one hypervisor's lab (topology=same_host)"]
    with pytest.raises(RunModelError) as err:
        request(tmp_path, sweep={"mtu": [1500, 9000]}, netns="", uplink="eno1")
    assert ("sweep: mtu sets the MTU of every link in the lab's namespace, and netns='' is the host's own" in
            str(err.value) and "sweep: mtu would change the MTU of a NIC of the host's (uplink)" in str(err.value))
    with pytest.raises(RunModelError) as err:
        request(tmp_path, sweep={"queues": [1, 4], "mtu": [100]}, vcpus=2, check_mode=True)
    assert "sweep: mtu: 100 is not a whole number from 576 to 9000" in str(err.value)
    with pytest.raises(RunModelError, match=r"sweep point queues=4 cannot run here: 4 queue pairs need as many vCPUs "
                                            r"per guest, the guests have 2 \(benchmark_vcpus\)"):
        request(tmp_path, sweep={"queues": [1, 4]}, vcpus=2, check_mode=True)


def test_a_sweep_plans_a_run_per_backend_and_point_interleaved_with_each_point_set_once(tmp_path):
    """Every backend at every point is a run of its own (virtio+mtu-9000), the matrix goes round the points inside
    each test's repetition (drift hits every point alike), and the first test at a point sets it: the lab's
    namespaces take its MTU, the guests' NICs its MTU and queue pairs (each read back)."""
    run = request(tmp_path, profile="quick", repeat=2, tests=["iperf3_tcp_multi", "ping"],
                  sweep={"mtu": [1500, 9000], "streams": [2, 4]}, vcpus=2)
    lab = plan_lab(run, CAPABILITIES, now=NOW)
    keys = ["mtu=1500,streams=2", "mtu=1500,streams=4", "mtu=9000,streams=2", "mtu=9000,streams=4"]
    suffixes = ["+mtu-1500+streams-2", "+mtu-1500+streams-4", "+mtu-9000+streams-2", "+mtu-9000+streams-4"]
    assert lab["runs"] == [f"{b}{s}" for s in suffixes for b in ("virtio", "macvtap", "native")]
    order = [(t["name"], t["repetition"], t["point"], t["backend"]) for t in lab["tests"]]
    assert order[:6] == [("iperf3_tcp_multi", 1, keys[0], "virtio"), ("iperf3_tcp_multi", 1, keys[0], "macvtap"),
                         ("iperf3_tcp_multi", 1, keys[0], "native"), ("iperf3_tcp_multi", 1, keys[1], "virtio"),
                         ("iperf3_tcp_multi", 1, keys[1], "macvtap"), ("iperf3_tcp_multi", 1, keys[1], "native")]
    assert len(order) == 2 * 2 * 4 * 3 and [t["position"] for t in lab["tests"]] == list(range(1, 49))
    # each point's own argv and run; the job names carry the point (the guest's files do not collide)
    multi = [t for t in lab["tests"] if t["name"] == "iperf3_tcp_multi" and t["backend"] == "virtio"]
    assert [t["argv"][-2:] for t in multi[:4]] == [["-P", "2"], ["-P", "4"], ["-P", "2"], ["-P", "4"]]
    assert multi[0]["run"] == "virtio+mtu-1500+streams-2" and multi[0]["job"] == "virtio.mtu-1500.streams-2.iperf3_tcp_multi.1"
    # the point is set at its first test, 16 times (2 tests x 2 repetitions x 4 points)
    sets = [t for t in lab["tests"] if "set_point" in t]
    assert len(sets) == 16 and all(t["backend"] == "virtio" for t in sets)
    first = sets[2]["set_point"]
    assert first["key"] == keys[2] and first["mtu"] == 9000
    assert first["netns"] == ["vnb-lab", "vnb-lab-native-server", "vnb-lab-native-client"]
    assert first["guest_command"] == (
        'set -e && ip link set dev data0 mtu 9000 && test "$(cat /sys/class/net/data0/mtu)" = 9000 && '
        'ip link set dev data1 mtu 9000 && test "$(cat /sys/class/net/data1/mtu)" = 9000')
    # each run records its point and what the point sets
    header = lab["headers"]["macvtap+mtu-9000+streams-4"]
    assert header["backend"] == "macvtap" and header["config"]["point"] == {"mtu": 9000, "streams": 4}
    assert header["config"]["mtu"] == 9000 and header["config"]["parallel_streams"] == 4
    assert [p["name"] for p in header["planned"]][:2] == ["iperf3_tcp_multi", "iperf3_tcp_multi"]
    assert lab["not_run_runs"][0]["key"] == "vhost-net+mtu-1500+streams-2" and len(lab["not_run_runs"]) == 4
    assert lab["not_run_runs"][3]["config"]["point"] == {"mtu": 9000, "streams": 4}


def test_a_queue_sweep_boots_the_guests_with_its_largest_count_and_native_stays_out(tmp_path):
    run = request(tmp_path, profile="quick", tests=["iperf3_tcp_multi"], sweep={"queues": [1, 2]}, vcpus=2)
    lab = plan_lab(run, CAPABILITIES, now=NOW)
    # the guests' default under TCG is one vCPU: two queue pairs are refused before the lab is built
    with pytest.raises(RunModelError, match=r"sweep point queues=2 cannot run here: 2 queue pairs need as many vCPUs "
                                            r"per guest, the guests have 1 \(benchmark_vcpus\) - set -e "
                                            r"benchmark_vcpus=N"):
        plan_lab(request(tmp_path, profile="quick", tests=["ping"], sweep={"queues": [1, 2]}), CAPABILITIES, now=NOW)
    # native cannot follow queues: no native run at any point
    assert lab["runs"] == ["virtio+queues-1", "macvtap+queues-1", "virtio+queues-2", "macvtap+queues-2"]
    assert lab["queues"] == 2
    command = lab["tests"][0]["set_point"]["guest_command"]
    assert "ethtool -L data0 combined 1 && ethtool -l data0 | sed -n '/^Current/,$p' | grep -q" in command
    assert "ethtool -L data1 combined 1" in command and "mtu" not in command
    assert lab["tests"][0]["set_point"]["netns"] == []
    # with the MTU too: the lab's namespace only - the native reference follows no queue count, its namespaces are
    # not built
    both = plan_lab(request(tmp_path, profile="quick", tests=["ping"], sweep={"mtu": [1500, 9000], "queues": [1, 2]},
                            vcpus=2), CAPABILITIES, now=NOW)
    assert both["native_endpoints"] == [] and both["tests"][0]["set_point"]["netns"] == ["vnb-lab"]
    # without a sweep: the matrix as before (no point, no set_point)
    plain = plan_lab(request(tmp_path, profile="quick", tests=["ping"]), CAPABILITIES, now=NOW)
    assert plain["runs"] == ["virtio", "macvtap", "native"] and plain["queues"] == 1
    assert all("set_point" not in t and "point" not in t and t["run"] == t["backend"] for t in plain["tests"])
    assert "point" not in plain["headers"]["virtio"]["config"]


def test_a_load_sweep_searches_each_paths_capacity_once_and_paces_every_load_point_from_it(tmp_path):
    """The rate-latency curve: the loss-bounded rate (a load_capacity search) at the load's first level, once per
    path and in the first repetition, before anything else; each latency test at a load point paces a UDP flow at
    its fraction of that rate (the rate put in at run time from that point's run: load_rate.run)."""
    run = request(tmp_path, profile="quick", repeat=2, tests=["ping", "sockperf_tcp"], sweep={"load": [0.1, 0.5, 0.9]})
    lab = plan_lab(run, CAPABILITIES, now=NOW)
    assert lab["runs"] == [f"{b}+load-{f}" for f in ("0.1", "0.5", "0.9") for b in ("virtio", "macvtap", "native")]
    capacity = [t for t in lab["tests"] if t["name"] == "load_capacity"]
    assert [(t["backend"], t["point"], t["repetition"]) for t in capacity] == [
        ("virtio", "load=0.1", 1), ("macvtap", "load=0.1", 1), ("native", "load=0.1", 1)]
    assert lab["tests"][:3] == capacity, "the searches come first"
    assert capacity[0]["argv"][-2:] == ["-l", "1400"] and capacity[0]["search"]["payload"] == 1400
    # the native reference's search between its namespaces
    assert capacity[2]["search"]["probe_argv"][:4] == ["ip", "netns", "exec", "vnb-lab-native-client"]
    loaded = [t for t in lab["tests"] if t["name"] == "ping" and t["backend"] == "macvtap"]
    assert [(t["point"], t["repetition"], t["load_rate"]["fraction"]) for t in loaded] == [
        ("load=0.1", 1, 0.1), ("load=0.5", 1, 0.5), ("load=0.9", 1, 0.9),
        ("load=0.1", 2, 0.1), ("load=0.5", 2, 0.5), ("load=0.9", 2, 0.9)]
    assert all(t["load_rate"]["run"] == "macvtap+load-0.1" for t in loaded)
    assert loaded[1]["load"][:9] == ["iperf3", "-c", "198.18.2.1", "-u", "-l", "1400", "-b", "{rate}", "-t"]
    assert loaded[1]["load_job"] == "macvtap.load-0.5.ping.1.load" and loaded[1]["params"]["load_fraction"] == 0.5
    # each run plans what it runs: the capacity only in the first level's runs
    planned = {key: [p["name"] for p in h["planned"]] for key, h in lab["headers"].items()}
    assert planned["virtio+load-0.1"] == ["ping", "ping", "sockperf_tcp", "sockperf_tcp", "load_capacity"]
    assert planned["virtio+load-0.9"] == ["ping", "ping", "sockperf_tcp", "sockperf_tcp"]
    # the loaded repetitions are the tests' extra time (the load's lead; a ping's load also covers it slowed down
    # LOAD_PROBE_STRETCH times); 3 searches + 3 paths x 3 points x 2 tests x 2 repetitions
    assert len(lab["tests"]) == 3 + 36
    for t in (t for t in lab["tests"] if t.get("load_rate")):
        stretch = matrix.LOAD_PROBE_STRETCH if t["name"] == "ping" else 1.0
        assert t["extra_s"] == pytest.approx(matrix.LOAD_LEAD_S + (stretch - 1) * t["duration_s"]), t["name"]
