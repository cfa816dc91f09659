# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A loss-bounded packet rate: the highest offered rate a path carries with at most a stated loss.

RFC 2544's throughput (section 26.1), as vsperf and nfvbench measure it: offer a rate, count what arrives,
search the offered rate. Here the generator is iperf3 (``-u -l SIZE -b RATE``: the rate it paces to, the
receiver's counts in its JSON); the search is a binary search on the offered packet rate:

1. a flood (``-b 0``) for one probe: what the sender manages is the upper bound, what arrives the first guess;
2. probes of ``probe_s`` seconds: above a passing guess in steps of ``resolution`` that double while they pass,
   then halving the bracket [highest rate that passed, lowest that failed] (halving the rate while nothing
   passed), until the bracket is narrower than ``resolution`` of its top or ``max_probes`` probes were spent;
3. a confirming run at the test's duration at the highest passing rate; when that one loses more than the
   bound, the next is offered below the lower of its rate and what arrived in it - by ``resolution``, then
   twice that, four times ... (at most half) - and confirmed again (``confirm_attempts`` in all).

The decisions are here; the benchmark's action (volt.netbench.guest_test) only runs the probes. Every probe
is kept (its command, offered rate, what arrived, the loss and iperf3's own JSON) in the test's search file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.iperf3 import parse_iperf3

MODES = ("flood", "search")
# The defaults of a search (the role exposes the loss bound; these are documented in the getting started guide,
# docs/docsite/rst/getting_started.rst).
LOSS_MAX_PCT = 0.1
# Probes of 2 s: the queues between sender and receiver (a tap's 1000 packets, the virtio ring, the socket buffer)
# hide an excess of about 1,500 packets, 10 % of a 12 kpps probe of 1 s - measured on the local lab, where 1 s
# probes passed rates that lost 6 % over 5 s.
PROBE_S = 2
MAX_PROBES = 7
RESOLUTION = 0.05
CONFIRM_ATTEMPTS = 4
# A probe costs its seconds plus iperf3's set-up and result exchange and a round trip to the client (measured
# under TCG: 0.2-0.3 s); the dry run's estimate of a search is the probes it usually needs.
PROBE_OVERHEAD_S = 0.3
EXPECTED_PROBES = 7
# Confirming runs beyond the first (measured on the local lab's guests under TCG: 3.5 confirming runs a size).
EXPECTED_RECONFIRMS = 2.5


class SearchError(Exception):
    """A search that could not run (a probe's tool failed)."""


def bits_per_second(pps: float, payload: int) -> int:
    """iperf3's ``-b`` for PPS datagrams of PAYLOAD bytes a second (it counts the UDP payload's bits)."""
    return max(1, int(round(pps * payload * 8)))


def probe_record(kind: str, target_pps: float | None, payload: int, argv: list[str], output: str,
                 wall_s: float) -> dict[str, Any]:
    """One probe as the search file keeps it: KIND (flood, probe, confirm), the rate asked for (None: a flood),
    the command, what the sender sent and the receiver got, the loss and iperf3's JSON output."""
    parsed = parse_iperf3(output, f"{kind} probe")
    seconds = parsed["seconds"]
    return {
        "kind": kind,
        "target_pps": None if target_pps is None else round(float(target_pps), 1),
        "target_bps": 0 if target_pps is None else bits_per_second(target_pps, payload),
        "command": " ".join(argv),
        "sent_pps": round(parsed["packets"] / seconds, 1) if seconds else 0.0,
        "received_pps": round(parsed["received_pps"], 1),
        "lost_percent": round(float(parsed["lost_percent"]), 4),
        "seconds": seconds,
        "wall_s": round(wall_s, 2),
        "output": output,
    }


def passes(record: dict[str, Any], loss_max: float) -> bool:
    return record["lost_percent"] <= loss_max


def sender_short(record: dict[str, Any], resolution: float = RESOLUTION) -> bool:
    """A paced probe whose sender sent less than RESOLUTION below its target: what it says of the path is the rate
    it sent, not the one asked for (a flood has no target)."""
    target, sent = record.get("target_pps"), record.get("sent_pps")
    return target is not None and isinstance(sent, (int, float)) and sent < float(target) * (1 - resolution)


def search(probe: Callable[[str, float | None], dict[str, Any]], *, loss_max: float = LOSS_MAX_PCT,
           max_probes: int = MAX_PROBES, resolution: float = RESOLUTION,
           confirm_attempts: int = CONFIRM_ATTEMPTS, probes: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Run the search with PROBE(kind, target_pps) -> a probe_record (target None: a flood; kind 'confirm': at
    the test's duration). Returns {probes, found_pps (the confirmed offered rate; None: a flood carried
    everything), result (the last confirming record), converged, message}. PROBES: the list every record is
    appended to as it comes (the caller's keeps them when a probe raises)."""
    if not 0 <= loss_max < 100:
        raise ValueError(f"loss_max must be a percentage from 0 to below 100, got {loss_max}")
    probes = [] if probes is None else probes
    flood = probe("flood", None)
    probes.append(flood)
    if passes(flood, loss_max):
        # the path carried everything the sender could send: the rate is the sender's, confirmed as a flood
        confirmed = probe("confirm", None)
        probes.append(confirmed)
        if passes(confirmed, loss_max) or confirm_attempts <= 1:
            return {"probes": probes, "found_pps": None, "result": confirmed, "converged": True,
                    "message": "" if passes(confirmed, loss_max) else _lossy(confirmed, loss_max)}
        # over the test's duration it lost more: from here on as a confirmation that failed (paced, stepping down)
        rate = min(float(confirmed["sent_pps"]), float(confirmed["received_pps"])) * (1 - resolution)
        return _confirm(probe, probes, rate, loss_max, resolution, confirm_attempts - 1, first=1, converged=True)
    low, high = 0.0, float(flood["sent_pps"])
    guess = min(float(flood["received_pps"]), high * (1 - resolution))
    spent = ups = 0
    bracketed = False  # a probe (not the flood) failed: HIGH is a measured upper bound
    while spent < max_probes and guess > 0:
        record = probe("probe", guess)
        probes.append(record)
        spent += 1
        if passes(record, loss_max) and not sender_short(record, resolution):
            low, ups = max(low, guess), ups + 1
        elif passes(record, loss_max):
            # the sender offered less than asked (measured under TCG: 27,128 of 40,736 pps asked, nothing lost): the
            # path carried what was sent, and the rate asked is beyond this sender - an upper bound like a loss
            low, high, ups, bracketed = max(low, float(record["sent_pps"])), min(high, guess), 0, True
        else:
            high, ups, bracketed = min(high, guess), 0, True
        if low > 0 and high - low <= resolution * high:
            break
        if low > 0 and not bracketed:
            # what arrived of the flood passed: the path may carry a little more - step up, doubling the step
            guess = min(low * (1 + resolution * 2 ** (ups - 1)), (low + high) / 2)
        else:
            guess = (low + high) / 2 if low > 0 else guess / 2
    converged = low > 0 and high - low <= resolution * high
    if low <= 0:
        return {"probes": probes, "found_pps": None, "result": None, "converged": False,
                "message": (f"no offered rate kept the loss at or under {loss_max:g} % (the lowest probed, "
                            f"{probes[-1]['target_pps']:,.0f} pps, lost {probes[-1]['lost_percent']:g} %)")}
    return _confirm(probe, probes, low, loss_max, resolution, confirm_attempts, first=0, converged=converged)


def _confirm(probe, probes: list[dict[str, Any]], rate: float, loss_max: float, resolution: float, attempts: int,
             first: int, converged: bool) -> dict[str, Any]:
    """Confirming runs at the test's duration from RATE, stepping down while they lose more than LOSS_MAX: below
    the lower of the rate and what arrived, by RESOLUTION times 2^k (k from FIRST; at most half)."""
    confirmed: dict[str, Any] = {}
    for attempt in range(first, first + max(1, attempts)):
        confirmed = probe("confirm", rate)
        probes.append(confirmed)
        if passes(confirmed, loss_max):
            break
        # what arrived over the test's duration is the better estimate of what the path carries; a path that
        # loses in bursts (a guest's vCPU descheduled now and then) needs steps that double
        rate = min(rate, float(confirmed["received_pps"])) * max(0.5, 1 - resolution * 2 ** attempt)
    return {"probes": probes, "found_pps": confirmed["target_pps"], "result": confirmed, "converged": converged,
            "message": "" if passes(confirmed, loss_max) else _lossy(confirmed, loss_max)}


def _lossy(record: dict[str, Any], loss_max: float) -> str:
    return (f"the confirming run lost {record['lost_percent']:g} % (more than {loss_max:g} %) at "
            f"{'a flood' if record['target_pps'] is None else format(record['target_pps'], ',.0f') + ' pps offered'}")


def search_document(outcome: dict[str, Any], *, payload: int, loss_max: float, probe_s: float,
                    resolution: float) -> dict[str, Any]:
    """The search file kept beside the test's raw output (the confirming run's JSON)."""
    return {"mode": "search", "payload_bytes": payload, "loss_max_percent": loss_max, "probe_s": probe_s,
            "resolution": resolution, "found_pps": outcome["found_pps"], "converged": outcome["converged"],
            "message": outcome["message"], "probes": outcome["probes"]}


def loss_bounded_pps(document: dict[str, Any]) -> float | None:
    """The loss-bounded rate a search file (DOCUMENT) stands for: what its last confirming run delivered, when that
    run kept within the bound - the rate the path carried, whatever was asked of the sender (under TCG a paced
    sender falls short of its target: measured here, 27,817 of 40,736 datagrams/s asked, nothing lost). A flood that
    carried everything is confirmed the same way. None when no confirming run kept within the bound."""
    confirms = [p for p in document.get("probes") or [] if isinstance(p, dict) and p.get("kind") == "confirm"]
    last = confirms[-1] if confirms else None
    if (last is None or not isinstance(last.get("lost_percent"), (int, float))
            or not passes(last, float(document.get("loss_max_percent", LOSS_MAX_PCT)))):
        return None
    received = last.get("received_pps")
    return float(received) if isinstance(received, (int, float)) and received > 0 else None


def summary(document: dict[str, Any]) -> dict[str, Any]:
    """The parsed fields a search file adds to its test: the flood's rate and loss beside the found rate,
    the offered rate confirmed, the bound, how many probes it took and whether the bracket closed."""
    probes = document.get("probes") or []
    flood = next((p for p in probes if p.get("kind") == "flood"), None)
    out: dict[str, Any] = {"pps_loss_max_percent": float(document.get("loss_max_percent", LOSS_MAX_PCT)),
                           "search_probes": sum(1 for p in probes if p.get("kind") == "probe"),
                           "search_converged": bool(document.get("converged"))}
    if flood:
        out.update(flood_pps=float(flood["received_pps"]), flood_lost_percent=float(flood["lost_percent"]),
                   flood_sent_pps=float(flood["sent_pps"]))
    if document.get("found_pps") is not None:
        out["offered_pps"] = float(document["found_pps"])
    return out
