# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sweeps: which backend *for which configuration*. A sweep names factors and their levels
(``{"mtu": [1500, 9000], "queues": [1, 2]}``); every combination of levels is a point of the run, and every
point is measured for every backend, interleaved like the backends are (each test's repetitions go round the
points and, inside a point, round the backends), so that the host's drift hits every point alike.

What this module decides, in one place:

* **The factors** (:data:`FACTORS`): their levels' type and range, whether the native reference can follow them,
  and how a level reads in a sentence. A sweep is checked (:func:`parse`) before anything is touched, each
  problem named with what to do.
* **The points** (:func:`points`): the product of the levels in the order given, each with a key
  (``mtu=9000,queues=2``) that names it in run.json, the store and the report; :func:`refusals` says which
  points a host cannot do and why (a queue count above the guests' vCPUs; the lab's own devices take every level
  the factors allow: LAB_DEVICE_LIMITS); :func:`order` is the run's interleaved order and :func:`seconds` its time.
* **A point's run** (:func:`point_suffix`, :func:`run_key`, :func:`point_config`): each backend's runs at a
  point are a run directory of their own, ``results/<backend>/<run id>+mtu-9000+queues-2/``, whose run.json
  carries the point (``config.point``, and the factors' own settings: ``mtu``, ``parallel_streams`` ...), so the
  gate compares a point only with the same point and the history keeps a series per point.
* **Setting a point** (:func:`guest_command`, :func:`mtu_batch`): what the guests and the lab's namespaces run
  when the matrix moves to a point - no reboot: ``ip link set ... mtu``, ``ethtool -K`` and ``ethtool -L``
  in the guests (each checked after it is set), the MTU of every link in the lab's namespaces.
* **Interactions** (:func:`interaction`): does a backend pair's ratio change between two levels of a factor?
  The ratio of the two ratios of means, tested on the log scale: d = log(mA2/mB2) - log(mA1/mB1), its variance
  by the delta method (each mean's variance over its square), Welch-Satterthwaite degrees of freedom, Student's
  t for the p-value and the 95 % interval (exp of d's). The result has :func:`stats.compare`'s fields, so the
  report puts it in its one Holm family with every other claim; its false-claim rate and coverage are simulated
  with a fixed seed in the unit tests.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections.abc import Sequence
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import CONFIDENCE, _t, p_text


class SweepError(ValueError):
    """A sweep that cannot run (the message says what to change)."""


def _whole(low: int, high: int):
    def check(level: Any) -> int:
        if isinstance(level, bool) or not isinstance(level, int) or not low <= level <= high:
            raise SweepError(f"a whole number from {low} to {high}")
        return level
    return check


def _fraction(level: Any) -> float:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < float(level) < 1:
        raise SweepError("a fraction of the path's loss-bounded rate, above 0 and below 1 (e.g. 0.5)")
    return float(level)


def _switch(level: Any) -> str:
    if level not in ("on", "off"):
        raise SweepError("'on' or 'off'")
    return str(level)


# name: (check of one level, whether the native reference can follow it, what the factor sets)
FACTORS: dict[str, tuple[Any, bool, str]] = {
    "queues": (_whole(1, 16), False, "virtio-net queue pairs (QEMU mq=on, the tap or macvtap with as many queues, "
                                     "ethtool -L in the guests)"),
    "mtu": (_whole(576, 9000), True, "the MTU of the lab devices and the guests' data NICs"),
    "offloads": (_switch, False, "TSO, GSO and GRO in both guests (ethtool -K)"),
    "message_size": (_whole(1, 65507), True, "iperf3's -l and netperf's request and response sizes (bytes)"),
    "streams": (_whole(1, 128), True, "iperf3's parallel streams"),
    "load": (_fraction, True, "the latency tests' offered load, a fraction of the loss-bounded rate"),
}


# The lab settings a point changes, by factor: the run's configuration key each sets.
CONFIG_KEYS = {"queues": "queues", "mtu": "mtu", "offloads": "offloads", "message_size": "message_size",
               "streams": "parallel_streams", "load": "load"}


def parse(value: Any) -> dict[str, list[Any]]:
    """The sweep VALUE (a dict, or its JSON text; empty: no sweep) as {factor: levels}, in the order given. Every
    problem is named at once (SweepError)."""
    if value in (None, "", {}):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as err:
            raise SweepError(f"sweep {value!r} is not JSON ({err}): -e key=value ends a value at a space, so write it "
                             "without spaces (-e sweep='{\"mtu\":[1500,9000]}') or as JSON extra vars "
                             "(-e '{\"sweep\": {\"mtu\": [1500, 9000]}}')") from err
    if not isinstance(value, dict):
        raise SweepError(f"sweep must map factors to lists of levels (e.g. {{\"mtu\": [1500, 9000]}}), got {value!r}")
    problems, out = [], {}
    for name, levels in value.items():
        if name not in FACTORS:
            problems.append(f"{name!r} is not a factor (one of {', '.join(FACTORS)})")
            continue
        if not isinstance(levels, list) or not levels:
            problems.append(f"{name}: a list of at least one level, got {levels!r}")
            continue
        checked = []
        for level in levels:
            try:
                checked.append(FACTORS[name][0](level))
            except SweepError as err:
                problems.append(f"{name}: {level!r} is not {err}")
        if len(set(checked)) != len(checked):
            problems.append(f"{name}: a level is given twice in {levels!r}")
        out[name] = checked
    if problems:
        raise SweepError("sweep: " + "; ".join(problems))
    return out


def point_key(factors: dict[str, Any]) -> str:
    """A point's name: factor=level joined by commas, in the sweep's order ('' without a sweep)."""
    return ",".join(f"{name}={level:g}" if isinstance(level, float) else f"{name}={level}"
                    for name, level in factors.items())


def _level_text(level: Any) -> str:
    return f"{level:g}" if isinstance(level, float) else str(level)


def point_suffix(factors: dict[str, Any]) -> str:
    """What a point adds to its runs' id and to its run key: ``+mtu-9000+queues-2`` ('' without a sweep)."""
    return "".join(f"+{name}-{_level_text(level)}" for name, level in factors.items())


def run_key(path: str, point: dict[str, Any]) -> str:
    """The name of PATH's run at POINT (a points() entry): ``virtio+mtu-9000`` - the backend alone without a sweep."""
    return path + point_suffix(point["factors"])


def split_run_key(key: str) -> tuple[str, str]:
    """A run key's backend and its point's suffix (``('virtio', '+mtu-9000')``) - or a run id's timestamp and its
    point (``('20261205T221100Z', '+mtu-9000')``); the suffix is '' without a sweep."""
    path, sep, rest = key.partition("+")
    return path, sep + rest


def point_config(point: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    """A run's configuration CONFIG at POINT: ``point`` (the factors, absent without a sweep) and every setting the
    point changes."""
    factors = point["factors"]
    if not factors:
        return dict(config)
    out = dict(config, point=dict(factors))
    for name, level in factors.items():
        out[CONFIG_KEYS[name]] = level
    return out


def guest_command(factors: dict[str, Any], nics: Sequence[dict[str, Any]]) -> str:
    """The shell command a guest runs to take the point FACTORS on its data NICS (name, backend, queues: the NIC's
    queues at boot): the MTU, the offloads and the queue pairs, each read back after it is set (the command fails
    when the guest did not take it). '' when the point changes nothing on the guests."""
    lines = []
    for nic in nics:
        name = nic["name"]
        if "mtu" in factors:
            mtu = int(factors["mtu"])
            lines += [f"ip link set dev {name} mtu {mtu}", f'test "$(cat /sys/class/net/{name}/mtu)" = {mtu}']
        if "offloads" in factors:
            state = factors["offloads"]
            lines += [f"ethtool -K {name} tso {state} gso {state} gro {state}",
                      f"ethtool -k {name} | grep -q '^generic-segmentation-offload: {state}'"]
        if "queues" in factors and int(nic.get("queues", 1)) > 1:
            queues = int(factors["queues"])
            lines += [f"ethtool -L {name} combined {queues}",
                      f"ethtool -l {name} | sed -n '/^Current/,$p' | grep -q '^Combined:[[:space:]]*{queues}$'"]
    return " && ".join(["set -e"] + lines) if lines else ""


# A link's kind, in the order a new MTU is set: the devices others sit on first (a macvtap, a macvlan or a bridge
# port cannot go above its lower device's MTU), the bridge last.
_MTU_ORDER = {"veth": 0, "": 0, "tun": 1, "macvtap": 2, "macvlan": 2, "bridge": 3}


def mtu_batch(links: Any, mtu: int) -> str:
    """``ip -batch`` lines that set MTU on every link of a namespace (LINKS: ``ip -j -d link show``'s JSON, as text
    or parsed) but its loopback, lower devices before the links on them, the bridge last."""
    if isinstance(links, str):
        links = json.loads(links or "[]")
    found = []
    for link in links or []:
        name = str(link.get("ifname", ""))
        if not name or name == "lo" or "@" in name or any(c.isspace() for c in name):
            continue
        kind = str((link.get("linkinfo") or {}).get("info_kind", ""))
        found.append((_MTU_ORDER.get(kind, 0), name))
    return "".join(f"link set dev {name} mtu {int(mtu)}\n" for _rank, name in sorted(found))


def points(sweep: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Every combination of the levels, the first factor varying slowest; one point without a sweep."""
    names = list(sweep)
    out = []
    for combo in itertools.product(*(sweep[n] for n in names)):
        factors = dict(zip(names, combo))
        out.append({"key": point_key(factors), "factors": factors, "suffix": point_suffix(factors),
                    "native": all(FACTORS[n][1] for n in factors)})
    return out


# What the lab's own devices take (``ip -d link``'s max_mtu and queues: tests/fixtures/sweep/ip_link_lab.json): a tap
# 65521 bytes and 256 queues, a veth, bridge, macvtap or macvlan 65535 bytes, a macvtap opened once per queue as often
# as a tap. The factors' ranges stay inside them (mtu up to 9000, queues up to 16), so no point is refused for the
# lab's devices; the host's own NICs are not swept (run_model.sweep_run_problems refuses an mtu sweep on them).
LAB_DEVICE_LIMITS = {"max_mtu": 65521, "queues": 256}


def refusals(planned: list[dict[str, Any]], *, vcpus: int) -> dict[str, str]:
    """The points a host cannot do, by key, with the reason: more queue pairs than the guests' vCPUs (each queue
    pair is served by a vCPU of the guest; virtio-net offers no more than that many)."""
    out = {}
    for point in planned:
        queues = point["factors"].get("queues")
        if queues is not None and queues > vcpus:
            out[point["key"]] = (f"{queues} queue pairs need as many vCPUs per guest, the guests have {vcpus} "
                                 "(benchmark_vcpus)")
    return out


def order(planned: list[dict[str, Any]], backends: Sequence[str], tests: Sequence[str], repeat: int,
          native: str | None = None) -> list[dict[str, Any]]:
    """The run's order: for each test, each repetition goes round the points and, inside a point, round the
    backends (the native reference, NATIVE, last in a point it can follow) - drift hits every point and backend
    alike."""
    out = []
    for test in tests:
        for k in range(1, repeat + 1):
            for point in planned:
                paths = list(backends) + ([native] if native and point["native"] else [])
                out += [{"test": test, "repetition": k, "point": point["key"], "backend": b} for b in paths]
    return out


def seconds(planned: list[dict[str, Any]], per_point_s: float, native_s: float = 0.0) -> float:
    """How long the sweep's matrix takes: PER_POINT_S (every backend's tests at one point, as matrix.plan_matrix
    plans them) at every point, NATIVE_S more at each point the native reference follows."""
    return sum(per_point_s + (native_s if p["native"] else 0.0) for p in planned)


def _moments(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, the variance of the log of the mean by the delta method (var / n / mean^2), n."""
    n = len(values)
    mean = statistics.fmean(values)
    return mean, statistics.variance(values) / n / mean ** 2, n


def interaction(a1: Sequence[float], b1: Sequence[float], a2: Sequence[float], b2: Sequence[float],
                higher_is_better: bool = True) -> dict[str, Any]:
    """Does A's ratio to B change from level 1 (A1, B1: the repetitions' values) to level 2 (A2, B2)? The ratio of
    the ratios of means, (mA2/mB2) / (mA1/mB1), with its 95 % interval and the two-sided p of "it is 1" (see the
    module). ``lead`` is A's lead over B in percent at each level (positive = A better). Not tested - and never a
    claim - with fewer than two repetitions in a group, a mean not above zero, or no spread at all."""
    groups = [list(map(float, g)) for g in (a1, b1, a2, b2)]
    out: dict[str, Any] = {"n": [len(g) for g in groups], "ratio": None, "low": None, "high": None, "p": None,
                           "tested": False, "degenerate": False, "why": "", "lead": [None, None],
                           "higher_is_better": higher_is_better, "p_adjusted": None, "significant": False}
    if any(not g for g in groups) or any(statistics.fmean(g) <= 0 for g in groups):
        out["why"] = "a group without a mean above 0"
        return out
    means = [statistics.fmean(g) for g in groups]
    r1, r2 = means[0] / means[1], means[2] / means[3]
    sign = 1 if higher_is_better else -1
    out.update(ratio=r2 / r1, lead=[sign * (r1 - 1) * 100, sign * (r2 - 1) * 100])
    if any(len(g) < 2 for g in groups):
        out["why"] = "one repetition"
        return out
    moments = [_moments(g) for g in groups]
    var = sum(v for _m, v, _n in moments)
    if var == 0:
        out.update(degenerate=True, why="identical values, not tested")
        return out
    df = var ** 2 / sum(v ** 2 / (n - 1) for _m, v, n in moments if v > 0)
    d = math.log(r2) - math.log(r1)
    se = math.sqrt(var)
    t = _t().t
    half = float(t.ppf(0.5 + CONFIDENCE / 2, df)) * se
    out.update(tested=True, p=float(2 * t.sf(abs(d) / se, df)), low=math.exp(d - half), high=math.exp(d + half),
               df=df)
    return out


def interaction_text(a: str, b: str, factor: str, levels: tuple[Any, Any], cmp: dict[str, Any]) -> str:
    """The report's sentence for one interaction (after the family's correction): how A's lead over B moves from
    one level of FACTOR to the other, and whether that change is supported."""
    lo, hi = levels
    if cmp["lead"][0] is None:
        return f"{a} against {b} across {factor} {lo} → {hi}: not measured at both levels ({cmp['why']})"
    moves = (f"{a}'s lead over {b} is {cmp['lead'][0]:+.0f} % at {factor}={lo} and {cmp['lead'][1]:+.0f} % at "
             f"{factor}={hi}")
    if not cmp["tested"]:
        return f"{moves} - not tested ({cmp['why']})"
    p = p_text(cmp["p"], "interaction p") + (f", {p_text(cmp['p_adjusted'], 'Holm-adjusted')}"
                                             if cmp["p_adjusted"] is not None else "")
    if cmp["significant"]:
        grows = "grows" if cmp["lead"][1] > cmp["lead"][0] else "shrinks"
        return f"{moves}: it {grows} ({p})"
    return f"{moves}: the change is not detectable in these repetitions ({p})"
