"""The run model (volt.netbench.run_plan): the benchmark role's decisions, made once in Python."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins.module_utils.lab import control_match, lab_paths, sampler_pidfile
from ansible_collections.volt.netbench.plugins.plugin_utils import run_control, summary
from ansible_collections.volt.netbench.plugins.plugin_utils.results import create_run_dir, record_from_progress, record_run
from ansible_collections.volt.netbench.plugins.plugin_utils.run_model import (
    RunModelError, data_path, plan_lab, plan_request)

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
# this machine's hypervisor_capabilities: TCG, no /dev/vhost-net, no netperf on the host (capabilities_*.cmd)
CAPABILITIES = json.loads((FIXTURES / "hypervisor" / "capabilities_tcg_no_vhost_net.json").read_text())
NOW = dt.datetime(2026, 12, 3, 9, 30, 5, tzinfo=dt.timezone.utc)


def request(tmp_path, **settings):
    return plan_request({"results_dir": str(tmp_path / "results"), **settings}, now=NOW)


def test_the_role_defaults_make_the_default_run(tmp_path):
    run = request(tmp_path)
    assert run["requested"] == ["virtio", "vhost-net", "macvtap"] and run["run_id"] == "20261203T093005Z"
    assert {k: run["settings"][k] for k in ("duration", "ping_count", "repeat")} == {
        "duration": 30, "ping_count": 1000, "repeat": 3}
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
    assert {k: run["settings"][k] for k in ("duration", "ping_count", "repeat", "native")} == {
        "duration": 7, "ping_count": 200, "repeat": 1, "native": False}
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
    with pytest.raises(RunModelError, match="run_plan: unknown settings durations"):
        plan_request({"durations": 5})


def test_the_lab_follows_the_hypervisors_decisions(tmp_path):
    lab = plan_lab(request(tmp_path, profile="quick"), CAPABILITIES, {"kernel_release": "6.1.0-28-amd64"}, now=NOW)
    assert lab["run_backends"] == ["virtio", "macvtap"] and lab["runs"] == ["virtio", "macvtap", "native"]
    assert lab["unsupported"]["vhost-net"].startswith("preflight: backend vhost-net is not available on this host")
    assert lab["guests"] == [
        {"name": "server", "host": "server", "ssh_port": 10022,
         "data_addresses": {"virtio": "198.18.0.1/24", "macvtap": "198.18.2.1/24"}},
        {"name": "client", "host": "client", "ssh_port": 10023,
         "data_addresses": {"virtio": "198.18.0.2/24", "macvtap": "198.18.2.2/24"}}]
    assert lab["native_endpoints"] == [
        {"name": "server", "netns": "vnb-lab-native-server", "address": "198.18.3.1/24"},
        {"name": "client", "netns": "vnb-lab-native-client", "address": "198.18.3.2/24"}]
    native = lab["headers"]["native"]
    # no netperf on this host: its tests are left out, its server is not started, the header says why
    assert set(native["environment"]["native_unavailable"]) == {"netperf_tcp_rr", "netperf_tcp_crr", "netperf_udp_rr"}
    assert not any(c.startswith("ip netns exec vnb-lab-native-server netserver") for c in native["config"]["server_commands"])
    assert all("netperf" not in t["name"] for t in native["planned"])
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

    from ansible_collections.volt.netbench.plugins.plugin_utils.run_model import SETTINGS  # pylint: disable=import-outside-toplevel

    role = yaml.safe_load((Path(__file__).resolve().parents[4] / "roles" / "benchmark" / "defaults" / "main.yml").read_text())
    names = {"server": "server_address", "client": "client_address", "image": "guest_image_path"}
    # the role's results directory is relative to the playbook, fleet follows the play's hosts, hypervisor is
    # inventory_hostname
    templated = {"results_dir", "display_dir", "fleet", "hypervisor"}
    for key, value in SETTINGS.items():
        if key not in templated:
            assert role[f"benchmark_{names.get(key, key)}"] == value, key
