"""The loss-bounded packet rate's search (plugin_utils/measure/pps_search.py): its decisions on simulated paths, its
records from real iperf3 output (tests/fixtures/iperf3, each with the command that made it)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins.plugin_utils.measure import pps_search
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.iperf3 import parse_iperf3

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures" / "iperf3"


class Path_:
    """A simulated path: the sender manages SENDER pps, the path carries CAPACITY pps over time; queues on the way
    absorb BUFFER packets of excess (what makes short probes look better than long runs); RANDOM_LOSS percent of
    packets are lost whatever the rate."""

    def __init__(self, capacity, sender=50_000.0, buffer=0.0, random_loss=0.0, probe_s=2.0, test_s=5.0, seed=1,
                 paced=None):
        self.capacity, self.sender, self.buffer, self.random_loss = capacity, sender, buffer, random_loss
        # what the sender manages when it paces (-b RATE): under TCG less than its flood (-b 0)
        self.paced = paced or sender
        self.seconds = {"flood": probe_s, "probe": probe_s, "confirm": test_s}
        self.rng = random.Random(seed)
        self.calls: list[tuple[str, float | None]] = []

    def __call__(self, kind, target):
        self.calls.append((kind, target))
        seconds = self.seconds[kind]
        sent_pps = self.sender if target is None else min(target, self.paced)
        sent = sent_pps * seconds
        carried = min(sent, self.capacity * seconds + self.buffer)
        carried *= 1 - self.random_loss / 100 * (0.5 + self.rng.random())
        return {"kind": kind, "target_pps": target, "sent_pps": sent_pps, "received_pps": carried / seconds,
                "lost_percent": (sent - carried) / sent * 100}


@pytest.mark.parametrize("capacity", [3_000.0, 11_050.0, 40_000.0])
def test_the_search_finds_the_rate_the_path_carries_within_its_resolution(capacity):
    path = Path_(capacity)
    out = pps_search.search(path, loss_max=0.1)
    assert out["message"] == "" and out["converged"]
    assert out["result"]["lost_percent"] <= 0.1
    # a passing rate, at most two resolutions below the capacity
    assert capacity * (1 - 2 * pps_search.RESOLUTION) <= out["found_pps"] <= capacity
    kinds = [k for k, _t in path.calls]
    assert kinds[0] == "flood" and kinds[-1] == "confirm" and kinds.count("probe") <= pps_search.MAX_PROBES
    assert [p["kind"] for p in out["probes"]] == kinds, "every probe is kept, in order"


def test_queues_that_hide_excess_in_short_probes_are_caught_by_the_confirming_run():
    # measured on the local lab: 1 s probes passed 12.3 kpps, 5 s runs carried 11.0 kpps; the confirming run
    # steps down below what arrived in it
    path = Path_(11_000.0, sender=42_000.0, buffer=1_500.0)
    out = pps_search.search(path, loss_max=0.1)
    confirms = [p for p in out["probes"] if p["kind"] == "confirm"]
    assert confirms[0]["lost_percent"] > 0.1 and len(confirms) >= 2
    assert out["result"]["lost_percent"] <= 0.1 and out["message"] == ""
    assert confirms[1]["target_pps"] < confirms[0]["received_pps"]


def test_a_path_that_carries_the_whole_flood_is_confirmed_as_a_flood():
    path = Path_(1e9, sender=20_000.0)
    out = pps_search.search(path, loss_max=0.1)
    assert out["found_pps"] is None and out["result"]["target_pps"] is None and out["message"] == ""
    assert [k for k, _t in path.calls] == ["flood", "confirm"]


def test_a_flood_that_passes_its_probe_but_not_the_test_is_stepped_down():
    # measured on the local lab: native's 2 s flood lost 0.87 %, its 3 s confirming flood 2.74 % (bound 1 %)
    path = Path_(30_000.0, sender=30_800.0, buffer=1_200.0)
    out = pps_search.search(path, loss_max=1.0)
    kinds = [k for k, _t in path.calls]
    assert kinds[:2] == ["flood", "confirm"] and "probe" not in kinds
    assert out["probes"][1]["lost_percent"] > 1.0 and out["result"]["lost_percent"] <= 1.0
    assert out["found_pps"] is not None and out["found_pps"] < out["probes"][1]["received_pps"]
    assert out["message"] == ""


def test_a_sender_that_cannot_pace_to_the_rate_asked_is_not_the_paths_rate():
    """Measured on macvtap here: the flood sent 42,880 pps and lost 1.9 %; a probe asked 40,736 pps, the paced sender
    managed 27,128 and nothing was lost - counted as a pass, the search confirmed 40,736, which delivered 27,817. A
    short sender is an upper bound on what can be offered: the search settles on what it can send."""
    path = Path_(35_000.0, sender=42_880.0, paced=27_500.0)
    out = pps_search.search(path, loss_max=0.1)
    assert out["message"] == "" and out["result"]["lost_percent"] <= 0.1
    assert out["found_pps"] <= 27_500.0 * (1 + pps_search.RESOLUTION)
    assert out["result"]["sent_pps"] >= out["found_pps"] * (1 - pps_search.RESOLUTION), "the confirmed rate was sent"
    assert any(pps_search.sender_short(p) for p in out["probes"] if p["kind"] == "probe")


def test_a_path_that_loses_at_every_rate_says_so_instead_of_a_rate():
    path = Path_(1e9, random_loss=2.0)
    out = pps_search.search(path, loss_max=0.1, max_probes=5)
    assert out["result"] is None and out["found_pps"] is None
    assert out["message"].startswith("no offered rate kept the loss at or under 0.1 %")
    assert len([p for p in out["probes"] if p["kind"] == "probe"]) == 5


def test_a_loss_bound_of_zero_and_a_looser_one():
    strict = pps_search.search(Path_(8_000.0, random_loss=0.0), loss_max=0.0)
    assert strict["result"]["lost_percent"] == 0.0
    # 1 % random loss on top: a 5 % bound passes near the capacity, a 0.1 % bound finds nothing
    assert pps_search.search(Path_(8_000.0, random_loss=1.0), loss_max=5.0)["found_pps"] >= 8_000 * 0.9
    with pytest.raises(ValueError):
        pps_search.search(Path_(8_000.0), loss_max=100)


def test_a_probe_record_from_real_iperf3_output():
    # iperf3 -c 198.18.0.2 -t 2 -u -b 0 -l 64 -J: a flood
    text = (FIXTURES / "udp_64b.json").read_text()
    parsed = parse_iperf3(text)
    record = pps_search.probe_record("flood", None, 64, ["iperf3", "-b", "0"], text, 2.3)
    assert record["target_pps"] is None and record["target_bps"] == 0
    assert record["received_pps"] == pytest.approx(parsed["received_pps"], abs=0.1)
    assert record["lost_percent"] == pytest.approx(parsed["lost_percent"], abs=1e-4)
    assert record["sent_pps"] == pytest.approx(parsed["packets"] / parsed["seconds"], abs=0.1)
    assert json.loads(record["output"]) == json.loads(text)
    # a paced run (iperf3's default 1 Mbit/s for UDP): the rate asked for, in iperf3's -b bits of payload
    paced = (FIXTURES / "udp_1m.json").read_text()
    record = pps_search.probe_record("probe", 1_000_000 / (8 * 1448), 1448, ["iperf3"], paced, 2.2)
    assert record["target_bps"] == 1_000_000 and record["lost_percent"] == parse_iperf3(paced)["lost_percent"]
    with pytest.raises(Exception, match="iperf3 reported an error"):
        pps_search.probe_record("probe", 1000.0, 64, ["iperf3"], (FIXTURES / "error_refused.json").read_text(), 1)


def test_the_search_file_adds_the_flood_beside_the_found_rate():
    path = Path_(11_000.0, sender=42_000.0)
    out = pps_search.search(path, loss_max=0.1)
    document = pps_search.search_document(out, payload=64, loss_max=0.1, probe_s=2, resolution=0.05)
    extra = pps_search.summary(json.loads(json.dumps(document)))
    assert extra["flood_pps"] == pytest.approx(11_000.0) and extra["flood_sent_pps"] == 42_000.0
    assert extra["flood_lost_percent"] == pytest.approx((42_000 - 11_000) / 42_000 * 100)
    assert extra["offered_pps"] == out["found_pps"] and extra["pps_loss_max_percent"] == 0.1
    assert extra["search_probes"] == sum(1 for k, _t in path.calls if k == "probe")
    assert pps_search.bits_per_second(11_000, 64) == 5_632_000


def test_the_callers_list_keeps_the_probes_made_before_one_fails():
    path = Path_(11_000.0, sender=42_000.0)

    def failing(kind, target):
        if len(path.calls) == 3:
            raise pps_search.SearchError("iperf3 stopped answering")
        return path(kind, target)

    kept: list = []
    with pytest.raises(pps_search.SearchError):
        pps_search.search(failing, loss_max=0.1, probes=kept)
    assert [p["kind"] for p in kept] == ["flood", "probe", "probe"]
