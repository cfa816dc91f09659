"""parse_ping against real iputils and busybox output (commands in tests/fixtures/ping/*.cmd)."""

from __future__ import annotations

import math
import re

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.filter.parse_ping import parse_ping


def type7(values, pct):
    """Independent textbook percentile (Hyndman & Fan type 7) to check the parser against."""
    ordered = sorted(values)
    rank = pct / 100 * (len(ordered) - 1)
    lo, hi = math.floor(rank), math.ceil(rank)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)


def reply_times_us(text):
    return [float(m) * 1000 for m in re.findall(r"time=([0-9.]+) ms", text) if "DUP" not in m]


def summary_line(text):
    return re.search(r"= ([0-9.]+)/([0-9.]+)/([0-9.]+)", text).groups()


@pytest.mark.parametrize("name", ["iputils_20.txt", "iputils_loss.txt", "busybox_10.txt"])
def test_percentiles_match_the_reply_lines(fixture_text, name):
    text = fixture_text(f"ping/{name}")
    times = reply_times_us(text)
    r = parse_ping(text)
    assert r["rtt_count"] == len(times)
    for pct in (50, 90, 95, 99):
        assert r[f"rtt_p{pct}_us"] == pytest.approx(type7(times, pct))
    # min/avg/max agree with the tool's own summary line (printed in ms, rounded to µs)
    smin, savg, smax = (float(v) * 1000 for v in summary_line(text))
    assert r["rtt_min_us"] == pytest.approx(smin)
    assert r["rtt_max_us"] == pytest.approx(smax)
    assert r["rtt_mean_us"] == pytest.approx(savg, abs=1.0)


def test_iputils_counts(fixture_text):
    r = parse_ping(fixture_text("ping/iputils_20.txt"))
    assert (r["flavour"], r["transmitted"], r["received"], r["loss_percent"]) == ("iputils", 20, 20, 0.0)


def test_loss(fixture_text):
    r = parse_ping(fixture_text("ping/iputils_loss.txt"))
    assert (r["transmitted"], r["received"], r["duplicates"]) == (200, 168, 0)
    assert r["loss_percent"] == pytest.approx(16.0)


def test_busybox(fixture_text):
    r = parse_ping(fixture_text("ping/busybox_10.txt"))
    assert (r["flavour"], r["transmitted"], r["received"]) == ("busybox", 10, 10)


def test_duplicates_are_counted_not_timed(fixture_text):
    lines = fixture_text("ping/iputils_20.txt").splitlines()
    reply = next(line for line in lines if "icmp_seq=3 " in line)
    dup = reply.replace(" ms", " ms (DUP!)")
    text = "\n".join(lines).replace(reply, f"{reply}\n{dup}").replace(" 0% packet loss", " +1 duplicates, 0% packet loss")
    r = parse_ping(text)
    assert r["duplicates"] == 1
    assert r["rtt_count"] == 20


@pytest.mark.parametrize(
    "name, message",
    [
        ("iputils_quiet.txt",
         "parse_ping: iputils_quiet.txt: no per-reply 'time=' lines (ping -q output has none; run ping without -q)"),
    ],
)
def test_real_outputs_that_cannot_give_percentiles(fixture_text, name, message):
    with pytest.raises(AnsibleFilterError) as err:
        parse_ping(fixture_text(f"ping/{name}"), source=name)
    assert str(err.value) == message


def test_truncated_output(fixture_text):
    text = fixture_text("ping/iputils_20.txt")
    with pytest.raises(AnsibleFilterError) as err:
        parse_ping(text[: text.index("icmp_seq=10 ")])
    assert "missing the 'N packets transmitted, M received' summary line" in str(err.value)


def test_reply_lines_missing_against_summary(fixture_text):
    text = "\n".join(line for line in fixture_text("ping/iputils_20.txt").splitlines() if "icmp_seq=5 " not in line)
    with pytest.raises(AnsibleFilterError) as err:
        parse_ping(text)
    assert str(err.value) == "parse_ping: <text>: summary says 20 received but 19 reply lines were found (truncated output?)"


def test_wrong_tool(fixture_text):
    with pytest.raises(AnsibleFilterError, match="^parse_ping: <text>: missing the 'N packets transmitted"):
        parse_ping(fixture_text("netperf/tcp_rr.txt"))


@pytest.mark.parametrize("name, flavour, transmitted", [
    ("iputils_unreachable.txt", "iputils", 5),        # "Destination Host Unreachable" not shown without -D
    ("iputils_total_loss_D.txt", "iputils", 4),       # -D: time-stamped "From ... Destination Host Unreachable"
    ("iputils_outstanding.txt", "iputils", 6),        # -O: "no answer yet for icmp_seq=N"
    ("busybox_total_loss.txt", "busybox", 3),
])
def test_a_path_that_dropped_everything_is_a_result(fixture_text, name, flavour, transmitted):
    """Total loss is the most important thing a benchmark can report: 100 % loss, no round trip, never a failure."""
    r = parse_ping(fixture_text(f"ping/{name}"), source=name)
    assert r == {"flavour": flavour, "transmitted": transmitted, "received": 0, "duplicates": 0,
                 "loss_percent": 100.0, "rtt_count": 0, "no_reply": True}


@pytest.mark.parametrize("name, flavour", [
    ("iputils_timestamps.txt", "iputils"),   # ping -D, iputils 20221126 (bookworm)
    ("trixie_timestamps.txt", "iputils"),    # ping -D, iputils 20240905 (trixie)
    ("trixie_busybox.txt", "busybox"),       # BusyBox 1.37 (trixie)
    ("trixie_guest.txt", "iputils"),         # iputils 20240905 in a trixie guest of the lab (under TCG)
])
def test_time_stamped_and_newer_outputs_give_every_reply(fixture_text, name, flavour):
    text = fixture_text(f"ping/{name}")
    r = parse_ping(text, source=name)
    # every reply line's time=, recomputed here from the text (the stamp before -D's lines is not a reply time)
    times = [float(m) * 1000 for m in re.findall(r"time=([0-9.]+) ms", text)]
    assert r["flavour"] == flavour and r["received"] == r["rtt_count"] == len(times) == r["transmitted"]
    assert r["rtt_min_us"] == pytest.approx(min(times)) and r["rtt_max_us"] == pytest.approx(max(times))
    assert r["rtt_mean_us"] == pytest.approx(sum(times) / len(times))
