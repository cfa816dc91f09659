"""Every fixture is real tool output with the command line that produced it beside it."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
OUTPUTS = sorted(p for p in FIXTURES.glob("*/*") if p.suffix in {".json", ".txt", ".csv"})


def test_there_are_fixtures_for_every_tool():
    assert {p.parent.name for p in OUTPUTS} == {"iperf3", "ping", "sockperf", "netperf", "hypervisor", "sweep"}


@pytest.mark.parametrize("output", OUTPUTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixture_has_its_command_and_targets_the_benchmark_range(output):
    cmd = output.with_suffix(".cmd")
    if output.suffix == ".csv":  # written by sockperf --full-log, named in the .txt run's command
        cmd = output.with_suffix(".cmd")
        assert "--full-log" in cmd.read_text()
    text = cmd.read_text().strip()
    if output.parent.name == "hypervisor":  # the hypervisor role's decisions on this machine: no traffic
        assert text.startswith("ansible-playbook tests/fixtures/hypervisor/capture.yml ") and output.name in text
        return
    if output.parent.name == "sweep":  # a lab namespace's links, read with iproute2: no traffic
        assert text.startswith("ip -j -d -n ") and " link show" in text.splitlines()[0]
        return
    assert text.split()[0] in {"iperf3", "ping", "busybox", "sockperf", "netperf"}
    if text.endswith(" --version"):  # no traffic
        return
    command = text.splitlines()[0]  # comment lines may follow the command
    targets = [ipaddress.ip_address(a) for a in re.findall(r"\b\d+\.\d+\.\d+\.\d+\b", command)]
    assert targets and all(a in ipaddress.ip_network("198.18.0.0/15") for a in targets), \
        "fixtures must target the benchmarking range 198.18.0.0/15"
