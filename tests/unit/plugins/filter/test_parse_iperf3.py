"""parse_iperf3 against real iperf3 3.12 -J output (commands in tests/fixtures/iperf3/*.cmd)."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.filter.parse_iperf3 import FilterModule, parse_iperf3


def test_filter_is_registered():
    assert FilterModule().filters()["parse_iperf3"] is parse_iperf3


def test_tcp_single(fixture_text):
    r = parse_iperf3(fixture_text("iperf3/tcp_single.json"))
    assert r["protocol"] == "TCP"
    assert r["streams"] == 1 and r["reverse"] is False
    assert r["duration_s"] == 2.0
    assert r["receiver_bps"] == pytest.approx(13913639759.701145)
    assert r["sender_bps"] == pytest.approx(13929628713.749956)
    assert r["retransmits"] == 417
    assert r["bytes_received"] == 3478716040
    assert "lost_packets" not in r


def test_tcp_eight_streams(fixture_text):
    r = parse_iperf3(fixture_text("iperf3/tcp_8streams.json"))
    assert r["streams"] == 8
    assert r["receiver_bps"] == pytest.approx(22987438101.754192)
    assert r["retransmits"] == 89


def test_tcp_reverse(fixture_text):
    r = parse_iperf3(fixture_text("iperf3/tcp_reverse.json"))
    assert r["reverse"] is True
    assert r["receiver_bps"] == pytest.approx(17356583070.589375)
    assert r["retransmits"] == 111


def test_udp_max_uses_receiver_side_with_loss(fixture_text):
    r = parse_iperf3(fixture_text("iperf3/udp_max.json"))
    assert r["protocol"] == "UDP"
    assert r["target_bitrate"] == 0
    assert r["receiver_bps"] == pytest.approx(1539477283.8969176)
    assert r["packets"] == 266210
    assert r["lost_packets"] == 397  # the sender side (end.sum_sent) claims 0
    assert r["received_packets"] == 266210 - 397
    assert r["lost_percent"] == pytest.approx(0.14913038578565793)
    assert r["jitter_ms"] == pytest.approx(0.005007232692859018)
    assert r["received_pps"] == pytest.approx((266210 - 397) / 2.000145)


def test_udp_small_datagrams(fixture_text):
    r = parse_iperf3(fixture_text("iperf3/udp_64b.json"))
    assert r["block_size"] == 64
    assert r["lost_packets"] == 137
    assert r["received_pps"] == pytest.approx((301110 - 137) / 2.000104)


def test_the_receive_buffer_each_socket_got_is_kept(fixture_text):
    # the kernel's default (net.core.rmem_default, 208 KiB) and what iperf3 -w 2097152 gets (the kernel doubles it)
    assert parse_iperf3(fixture_text("iperf3/udp_64b.json"))["rcvbuf_bytes"] == 212992
    assert parse_iperf3(fixture_text("iperf3/udp_64b_w2m.json"))["rcvbuf_bytes"] == 4194304
    assert parse_iperf3(fixture_text("iperf3/trixie_udp.json"))["rcvbuf_bytes"] == 212992


def test_udp_loss_that_iperf3_miscounted_with_its_warm_up_is_recounted_from_the_bytes(fixture_text):
    """iperf3 3.12 with -O counted the warm-up's datagrams as lost: 8543 "lost" of 2040 (418 %). The bytes the
    receiver got in the measured second (94336 = 1474 datagrams of 64 bytes) give the loss instead."""
    r = parse_iperf3(fixture_text("iperf3/udp_64b_omit_miscount.json"))
    assert r["iperf3_lost_packets"] == 8543 and r["packets"] == 2040 and r["bytes_received"] == 94336
    assert r["received_packets"] == 1474 and r["lost_packets"] == 2040 - 1474
    assert r["lost_percent"] == pytest.approx(566 / 2040 * 100)
    assert r["received_pps"] == pytest.approx(1474 / 0.964782)
    assert "iperf3_lost_packets" not in parse_iperf3(fixture_text("iperf3/udp_64b.json"))


def test_udp_default_rate(fixture_text):
    r = parse_iperf3(fixture_text("iperf3/udp_1m.json"))
    assert r["target_bitrate"] == 1048576
    assert r["lost_packets"] == 0
    assert r["receiver_bps"] == pytest.approx(1048218.8762027223)


def test_accepts_a_decoded_dict(fixture_text):
    doc = json.loads(fixture_text("iperf3/tcp_single.json"))
    assert parse_iperf3(doc)["retransmits"] == 417


def test_iperf3_error_is_a_failure_with_its_message(fixture_text):
    with pytest.raises(AnsibleFilterError) as err:
        parse_iperf3(fixture_text("iperf3/error_refused.json"), source="error_refused.json")
    assert str(err.value) == (
        "parse_iperf3: error_refused.json: iperf3 reported an error: unable to connect to server: Connection refused"
    )


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda d: d["end"].pop("sum_received"),
         "parse_iperf3: <text>: missing end.sum_received, the receiver's side of a UDP test, which iperf3 reports from "
         "3.11 on (this output: iperf 3.12); the benchmark needs iperf3 3.11 or newer in the guests"),
        (lambda d: d["end"]["sum_received"].pop("lost_packets"), "parse_iperf3: <text>: missing end.sum_received.lost_packets"),
        (lambda d: d["start"].pop("test_start"), "parse_iperf3: <text>: missing start.test_start"),
        (lambda d: d["end"]["sum_received"].update(bits_per_second="fast"),
         "parse_iperf3: <text>: end.sum_received.bits_per_second is not a number: 'fast'"),
        (lambda d: d["start"]["test_start"].update(protocol="SCTP"),
         "parse_iperf3: <text>: unsupported protocol 'SCTP' (TCP or UDP expected)"),
    ],
)
def test_missing_or_wrong_fields_are_named(fixture_text, mutate, message):
    doc = json.loads(fixture_text("iperf3/udp_max.json"))
    mutate(doc)
    with pytest.raises(AnsibleFilterError) as err:
        parse_iperf3(json.dumps(doc))
    assert str(err.value) == message


@pytest.mark.parametrize(
    "data, message",
    [
        ("", "parse_iperf3: <text>: empty output"),
        ("[]", "parse_iperf3: <text>: not iperf3 -J output (top level is not an object)"),
        (None, "parse_iperf3: <text>: expected the tool's text output, got NoneType"),
    ],
)
def test_bad_documents(data, message):
    with pytest.raises(AnsibleFilterError) as err:
        parse_iperf3(data)
    assert str(err.value) == message


def test_truncated_json_names_the_parser(fixture_text):
    text = fixture_text("iperf3/tcp_single.json")
    with pytest.raises(AnsibleFilterError, match=r"^parse_iperf3: t\.json: not iperf3 -J output \(invalid JSON"):
        parse_iperf3(text[: len(text) // 2], source="t.json")


def test_source_must_be_a_string(fixture_text):
    with pytest.raises(AnsibleFilterError, match="source must be a string"):
        parse_iperf3(fixture_text("iperf3/tcp_single.json"), source=3)


def test_iperf3_version_check_on_real_output(fixture_text):
    """tests/fixtures/iperf3/version.txt: Debian 12's iperf3 3.12 (the guest image's) is accepted."""
    from ansible_collections.volt.netbench.plugins.filter.iperf3_version_problem import iperf3_version_problem

    real = fixture_text("iperf3/version.txt")
    assert real.startswith("iperf 3.12 ")
    assert iperf3_version_problem(real, "guest client") == ""
    # the same output from an older release (Debian 11 ships 3.9): refused, with what is needed
    old = real.replace("iperf 3.12 ", "iperf 3.9 ", 1)
    assert iperf3_version_problem(old, "guest client") == (
        "iperf3 3.9 on guest client is too old: the benchmark needs 3.11 or newer, the first to report the "
        "receiver's UDP rate (end.sum_received). Install a newer iperf3 in the guest image (Debian 12 has 3.12).")
    assert "did not report its version ('iperf3: command not found')" in iperf3_version_problem(
        "iperf3: command not found", "guest server")


def test_guest_cpu_as_iperf3_reports_it(fixture_text):
    """end.cpu_utilization_percent: host = the client running -c, remote = the server."""
    single = parse_iperf3(fixture_text("iperf3/tcp_single.json"))
    assert single["client_cpu_percent"] == pytest.approx(97.07977385618697)
    assert single["server_cpu_percent"] == pytest.approx(53.18362957619098)
    reverse = parse_iperf3(fixture_text("iperf3/tcp_reverse.json"))
    assert reverse["server_cpu_percent"] == pytest.approx(97.19847329388793)


@pytest.mark.parametrize("name", ["trixie_tcp.json", "trixie_udp.json"])
def test_iperf3_3_18_from_the_next_debian_release(fixture_text, name):
    """iperf3 3.18 (Debian trixie; tests/fixtures/generate-formats.sh): the same fields, recomputed from the JSON."""
    doc = json.loads(fixture_text(f"iperf3/{name}"))
    assert doc["start"]["version"].startswith("iperf 3.18")
    r = parse_iperf3(fixture_text(f"iperf3/{name}"))
    received = doc["end"]["sum_received"]
    assert r["receiver_bps"] == received["bits_per_second"] and r["bytes_received"] == received["bytes"]
    assert r["protocol"] == doc["start"]["test_start"]["protocol"]
    if r["protocol"] == "UDP":
        assert r["received_packets"] == received["packets"] - received["lost_packets"]
        assert r["received_pps"] == pytest.approx(r["received_packets"] / received["seconds"])
    else:
        assert r["retransmits"] == doc["end"]["sum_sent"]["retransmits"]
