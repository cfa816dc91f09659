"""guest_test fails a test whose tool reported its own error but exited 0 when it collects it (not only when the
run is recorded): that failure is what makes the run check whether the server VM is still there."""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.action.guest_test import _parsed


def _unparsed(test, entry, job):
    return _parsed(test, entry, job)[1]


def test_a_tools_own_error_is_a_failure_at_collection(fixture_text):
    # real outputs (tests/fixtures, each with its .cmd): sockperf and iperf3 -J against a port nothing listens on
    refused = _unparsed({"tool": "sockperf"}, {"raw": "sockperf_tcp.1.txt"}, {"stdout": fixture_text("sockperf/refused.txt")})
    assert refused.startswith("parse_sockperf: sockperf_tcp.1.txt: sockperf reported an error: ")
    iperf = _unparsed({"tool": "iperf3"}, {"raw": "pps_64.1.json"}, {"stdout": fixture_text("iperf3/error_refused.json")})
    assert iperf.startswith("parse_iperf3: pps_64.1.json: iperf3 reported an error: unable to connect to server")
    # results are not refused
    parsed, refused = _parsed({"tool": "iperf3"}, {"raw": "x.json"}, {"stdout": fixture_text("iperf3/tcp_single.json")})
    assert refused == "" and parsed["protocol"] == "TCP" and parsed["receiver_bps"] > 0
    parsed, refused = _parsed({"tool": "ping"}, {"raw": "x.txt"}, {"stdout": fixture_text("ping/iputils_total_loss_D.txt")})
    assert refused == "" and parsed["no_reply"]
