"""The benchmark's input check: one message per problem, naming the variable, the value and what is allowed."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.filter.benchmark_input_problems import benchmark_input_problems

GOOD = {"duration": 30, "ping_count": 1000, "ping_interval": 0.01, "streams": 8, "repeat": 3, "mtu": 1500,
        "pps_sizes": [64, 128, 256, 512], "tests": [], "netns": "vnb-lab", "vcpus": 0, "memory_mb": 0}


def problems(**changes):
    return benchmark_input_problems(dict(GOOD, **changes))


def test_the_defaults_and_command_line_strings_pass():
    assert problems() == []
    # -e duration=5 arrives as a string; an AWX survey multiselect as a list
    assert problems(duration="5", ping_count="200", repeat="2", streams="4", mtu="9000", vcpus="2",
                    memory_mb="2048", pps_sizes=["64", 1400], tests=["ping", "pps_1400"], netns="") == []


@pytest.mark.parametrize("changes, message", [
    ({"pps_sizes": [0]}, "pps_sizes: 0 is not a UDP payload size: each must be a whole number of bytes from 1 to "
                         "MTU - 28 = 1472 (got [0])"),
    ({"pps_sizes": "64"}, "pps_sizes must be a non-empty list of UDP payload sizes in bytes, e.g. "
                          "-e '{\"pps_sizes\": [64, 128]}' (got '64')"),
    ({"pps_sizes": [64, 9000]}, "packet size 9000 is above the MTU: a UDP payload can be at most MTU - 28 = 1472 "
                                "bytes (benchmark_mtu=1500)."),
    ({"netns": "bad name"}, "benchmark_netns 'bad name' is not a namespace name: use 1-32 letters, digits, '_', '.' "
                            "or '-' (starting with a letter or digit), or leave it empty for a real lab in the root "
                            "namespace"),
    ({"netns": "../etc"}, "benchmark_netns '../etc' is not a namespace name"),
    ({"memory_mb": -1}, "benchmark_memory_mb must be 0 (the default: 8192 with KVM, 1024 under TCG) or at least "
                        "256 MiB (got -1)"),
    ({"vcpus": 65}, "benchmark_vcpus must be 0 (the default: 4 with KVM, 1 under TCG) or 1-64 vCPUs (got 65)"),
    ({"tests": "ping"}, "tests must be a list of test names, got 'ping': pass -e '{\"tests\": [\"ping\"]}' "
                        "(choose from iperf3_tcp_single, "),
    ({"tests": ["ping", "iperf4"]}, "tests: unknown tests iperf4: choose from iperf3_tcp_single"),
    ({"duration": "-5"}, "duration must be a whole number of seconds, at least 1 (got -5)"),
    ({"duration": "abc"}, "duration must be a whole number of seconds, at least 1 (got abc)"),
    ({"ping_count": 0}, "ping_count must be a whole number of echo requests, at least 1 (got 0)"),
    ({"repeat": 51}, "repeat must be a whole number of repetitions, 1-50 (got 51)"),
    ({"streams": 0}, "streams must be a whole number of parallel iperf3 streams, 1-128 (got 0)"),
    ({"mtu": 100}, "mtu must be an MTU in bytes, 576-65535 (got 100)"),
    ({"ping_interval": 0}, "ping_interval must be a number of seconds above 0 (got 0)"),
])
def test_each_bad_value_gets_its_own_message(changes, message):
    found = problems(**changes)
    assert len(found) == 1, found
    assert found[0].startswith(message), found[0]


def test_every_problem_is_reported_at_once():
    found = problems(duration=0, netns="a b", memory_mb=-1)
    assert [p.split()[0] for p in found] == ["duration", "benchmark_netns", "benchmark_memory_mb"]


def test_settings_must_be_a_dict():
    with pytest.raises(AnsibleFilterError, match="settings must be a dict"):
        benchmark_input_problems(["duration"])


LAB = {"server": "198.18.0.1", "client": "198.18.0.2", "prefix": 24}
GIVEN = "lab addresses (benchmark_server_address={server}, benchmark_client_address={client}, benchmark_prefix={prefix})"


@pytest.mark.parametrize("changes, message", [
    ({"server": "8.8.8.8", "client": "8.8.8.9"},
     "8.8.8.8, 8.8.8.9 is a public address; the lab's traffic must stay on the lab: use the benchmarking range "
     "198.18.0.0/15 (the defaults 198.18.0.1 and 198.18.0.2) or a private range"),
    ({"client": "198.18.0.1"}, "server 198.18.0.1 and client 198.18.0.1 must be two addresses of one /24 subnet"),
    ({"client": "198.18.7.2"}, "server 198.18.0.1 and client 198.18.7.2 must be two addresses of one /24 subnet"),
    ({"server": "fe80::1"}, "lab addresses must be IPv4 addresses: Expected 4 octets in 'fe80::1'"),
    ({"server": "255.255.255.1", "client": "255.255.255.2"}, "no room for a vhost-net subnet after 255.255.255.0/24"),
])
def test_lab_addresses_are_refused_by_the_input_check(changes, message):
    """Before lab_plan, with their own message (they used to reach the user as a failed set_fact's filter error)."""
    lab = dict(LAB, **changes)
    assert problems(**lab) == [f"{GIVEN.format(**lab)}: {message}"]


def test_the_default_and_private_lab_addresses_pass():
    assert problems(**LAB) == []
    assert problems(server="10.1.0.1", client="10.1.0.2", prefix=16) == []
    assert problems(server="198.18.0.1", client="198.18.0.2", prefix="x") == [
        "benchmark_prefix must be a whole number 8-30 (got x)"]
