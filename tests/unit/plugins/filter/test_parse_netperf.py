"""parse_netperf against real netperf 2.7.0 output (commands in tests/fixtures/netperf/*.cmd)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.filter.parse_netperf import parse_netperf


@pytest.mark.parametrize(
    "name, test, rate, mean, p50, p90, p99, stddev",
    [
        ("tcp_rr.txt", "TCP_RR", 27123.981, 36.74, 32, 47, 73, 24.63),
        ("tcp_crr.txt", "TCP_CRR", 9210.816, 108.34, 106, 132, 191, 30.67),
        ("udp_rr.txt", "UDP_RR", 30277.078, 32.96, 31, 39, 63, 11.64),
    ],
)
def test_request_response(fixture_text, name, test, rate, mean, p50, p90, p99, stddev):
    r = parse_netperf(fixture_text(f"netperf/{name}"))
    assert r["test"] == test
    assert r["transaction_rate"] == rate
    assert r["throughput_units"] == "Trans/s"
    assert (r["latency_mean_us"], r["latency_p50_us"], r["latency_p90_us"], r["latency_p99_us"]) == (mean, p50, p90, p99)
    assert r["latency_stddev_us"] == stddev


def test_stream(fixture_text):
    r = parse_netperf(fixture_text("netperf/tcp_stream.txt"))
    assert r["test"] == "TCP_STREAM"
    assert (r["throughput"], r["throughput_units"]) == (4939.73, "10^6bits/s")
    assert r["throughput_bps"] == pytest.approx(4939.73e6)
    assert "transaction_rate" not in r


def test_no_netserver(fixture_text):
    with pytest.raises(AnsibleFilterError) as err:
        parse_netperf(fixture_text("netperf/no_server.txt"), source="no_server.txt")
    assert str(err.value) == (
        "parse_netperf: no_server.txt: netperf reported an error: establish control: are you sure there is a "
        "netserver listening on 198.18.0.2 at port 12999?"
    )


def test_truncated_value_row(fixture_text):
    text = fixture_text("netperf/tcp_rr.txt").rstrip("\n")
    with pytest.raises(AnsibleFilterError) as err:
        parse_netperf(text[: text.rindex(",")])
    assert str(err.value) == "parse_netperf: <text>: value row has 7 fields but the header has 8 (truncated output?)"


def test_banner_only(fixture_text):
    banner = fixture_text("netperf/tcp_rr.txt").splitlines()[0]
    with pytest.raises(AnsibleFilterError) as err:
        parse_netperf(banner)
    assert str(err.value) == "parse_netperf: <text>: missing the CSV header and value rows (run netperf with -- -o SELECTORS)"


def test_percentiles_without_histogram_are_refused(fixture_text):
    lines = fixture_text("netperf/tcp_rr.txt").splitlines()
    values = lines[2].split(",")
    values[5] = "-1"
    text = "\n".join([lines[0], lines[1], ",".join(values)])
    with pytest.raises(AnsibleFilterError, match="99th Percentile Latency Microseconds is -1: not collected"):
        parse_netperf(text)


def test_wrong_tool(fixture_text):
    with pytest.raises(AnsibleFilterError, match="^parse_netperf: <text>: CSV header has neither"):
        parse_netperf(fixture_text("ping/iputils_20.txt"))
