# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check mode: what a benchmark run would do, said before anything is touched.

``results_dir_problem`` is the one check that the results directory can be written (a real run and a
dry run alike); ``estimate`` is the wall time a run would take; ``describe`` is the dry run's text -
which backends run and which are refused with why, the guest image, the namespaces, devices and guests
the lab would create, and every step of the test plan with its command.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

# Seconds measured on the local lab by tests/perf/overhead.py (2 cores, TCG, quick profile, warm image cache,
# 2026-12-03: 304 s for virtio, macvtap and native, 68 s of it outside a 236 s span of tests - lab 7, boot 32
# (the guests to SSH, their tool checks and traffic servers; KVM guests boot faster), teardown 8): the preflight,
# packages and image check, and the records (the rest of that run), then the report and its charts.
PHASE_S = {"prepare": 16, "lab": 7, "boot": {"tcg": 32, "kvm": 20}, "teardown": 8, "report": 5}
# Beyond a test's own duration: the tool's fixed cost (sockperf's warm-up, TCP_CRR's connection churn) and
# starting and collecting the job (about 0.5-1 s on the local lab).
TOOL_EXTRA_S = {"iperf3": 0.3, "ping": 0.4, "sockperf": 2.7, "netperf": 0.3}
CRR_EXTRA_S = 4.0
PER_TEST_S = 1.0


def results_dir_problem(path: str) -> str:
    """Why the controller cannot write results under PATH ('' when it can): a probe directory is made
    and removed again in PATH, or in its nearest existing parent when PATH does not exist yet (so a
    check-mode run creates nothing)."""
    target = Path(os.path.abspath(os.path.expanduser(str(path))))
    probe_in = target
    while not probe_in.exists() and probe_in != probe_in.parent:
        probe_in = probe_in.parent
    if not probe_in.is_dir():
        return f"{probe_in} is not a directory"
    try:
        os.rmdir(tempfile.mkdtemp(prefix=".volt-netbench-probe-", dir=probe_in))
    except OSError as err:
        return f"cannot create a directory in {probe_in}: {err.strerror or err}"
    return ""


def test_seconds(test: dict[str, Any]) -> float:
    """A test's expected wall time: its duration, the tool's fixed cost, start and collection, and what it costs
    beyond its duration (``extra_s``: a packet-rate search's probes, a loaded test's lead)."""
    extra = CRR_EXTRA_S if test["name"] == "netperf_tcp_crr" else TOOL_EXTRA_S.get(test["tool"], 1.0)
    return float(test["duration_s"]) + float(test.get("extra_s") or 0.0) + extra + PER_TEST_S


def estimate(plan: dict[str, Any] | None, accelerator: str, sweep: dict[str, Any] | None = None) -> dict[str, float]:
    """Seconds per phase of a run of PLAN (lab_plan's output) and their total; with a SWEEP (run_plan's: factors
    and points) the matrix runs at every point, the native reference's tests at the points it can follow."""
    out = {"prepare_s": 0.0, "lab_s": 0.0, "boot_s": 0.0, "matrix_s": 0.0, "teardown_s": 0.0,
           "report_s": float(PHASE_S["report"])}
    if plan and plan.get("tests"):
        out.update(prepare_s=float(PHASE_S["prepare"]), lab_s=float(PHASE_S["lab"]), boot_s=float(PHASE_S["boot"].get(accelerator, PHASE_S["boot"]["tcg"])),
                   matrix_s=round(_sweep_seconds(plan, sweep), 1),
                   teardown_s=float(PHASE_S["teardown"]))
    out["total_s"] = round(sum(out.values()), 1)
    return out


def _sweep_seconds(plan: dict[str, Any], sweep: dict[str, Any] | None) -> float:
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.sweep import seconds  # pylint: disable=import-outside-toplevel

    backends = sum(test_seconds(t) for t in plan["tests"] if t.get("backend") != "native")
    native = sum(test_seconds(t) for t in plan["tests"] if t.get("backend") == "native")
    return seconds((sweep or {}).get("points") or [{"native": True}], backends, native)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def describe(*, requested: list[str], decisions: dict[str, dict[str, Any]], plan: dict[str, Any] | None,
             accelerator: str, image: dict[str, Any], netns: str, native_netns: list[str],
             devices: list[dict[str, Any]], guests: list[dict[str, Any]], results_dir: str,
             pair: dict[str, Any] | None = None, sweep: dict[str, Any] | None = None) -> list[str]:
    """The dry run's report, one line per item (what ansible-playbook --check prints); PAIR: this hypervisor's part
    of a cross-host pair (run_plan's); SWEEP: the sweep's factors and points (run_plan's)."""
    pair = pair or {}
    cross = pair.get("topology") == "cross_host"
    lines = ["Check mode: nothing was installed, created, locked or written. A run would:"]
    for name in requested:
        decision = decisions.get(name) or {}
        if decision.get("usable"):
            lines.append(f"  run {name}")
        else:
            lines.append(f"  refuse {name}: {' '.join(str(decision.get('reason') or 'not decided').split())}")
    if image.get("action") == "use":
        lines.append(f"  boot the lab's own cloud image {image.get('path')} (with a cloud-init seed per guest)")
    elif image.get("action") == "reuse":
        lines.append(f"  reuse the cached guest image {image.get('dir')} (recipe {image.get('key')})")
    else:
        lines.append(f"  build the guest image {image.get('dir')} (recipe {image.get('key')}; about two minutes)")
    if plan and plan.get("tests"):
        lines.append(f"  create the namespace {netns or '(none: the root namespace)'}"
                     + (f" and the native reference's {', '.join(native_netns)}" if native_netns else ""))
        if cross:
            lines.append(f"  take part in a cross-host pair: the server VM on {pair['server_host']}, the client VM on "
                         f"{pair['client_host']}, across {pair['wire']}")
        for cable in pair.get("cables") or []:
            lines.append(f"  lay the simulated cable {cable['name']}: a veth pair from {cable['netns']} to "
                         f"{cable['peer_netns']}")
        for device in devices:
            where = f" in {device['netns']}" if device.get("netns") else ""
            lower = f" on {device['lower']}" if device.get("lower") else ""
            if device.get("address"):  # a native endpoint: its own namespace and address
                lines.append(f"  create {device.get('ifname')}{where}{lower} for the native {device.get('name')} "
                             f"({device['address']})")
            else:
                lines.append(f"  create {device.get('kind', 'device')} {device.get('ifname')}{where}{lower}"
                             + (f" for {device['backend']} {device['guest']}" if device.get("backend") else ""))
        for guest in guests:
            addresses = ", ".join(f"{b} {a}" for b, a in sorted((guest.get("data_addresses") or {}).items()))
            lines.append(f"  boot guest {guest['name']} under {accelerator.upper()}: {addresses}")
        total = plan["tests"][-1]["total"]
        if cross and pair.get("side") == "server":
            lines.append(f"  keep its guest up while {pair['client_host']} runs the {total} tests from the client VM")
        else:
            lines.append(f"  run {total} tests, {plan['repeat']} repetition(s) each, the backends alternating:")
        for test in plan["tests"] if not (cross and pair.get("side") == "server") else []:
            lines.append(f"    [{test['position']}/{total}] {test['backend']} {test['name']} ({test['duration_s']:g} s): "
                         f"{test['command']}")
        for name, why in sorted((plan.get("native_unavailable") or {}).items()):
            lines.append(f"    native {name}: left out - {why}")
        factors = (sweep or {}).get("factors") or {}
        if factors:
            levels = "; ".join(f"{name} {', '.join(map(str, values))}" for name, values in factors.items())
            lines.append(f"  sweep {len(sweep['points'])} points ({levels}): these tests at each point, the points "
                         "alternating inside each repetition like the backends")
            for point in sweep["points"]:
                note = "" if point["native"] else " (no native reference: it has no guest NICs to set)"
                lines.append(f"    point {point['key']}{note}")
        est = estimate(plan, accelerator, sweep)
        lines.append(f"  take about {_clock(est['total_s'])} (preparing {est['prepare_s']:g} s, lab {est['lab_s']:g} s, "
                     f"boot {est['boot_s']:g} s, tests {est['matrix_s']:g} s, teardown {est['teardown_s']:g} s, "
                     f"report {est['report_s']:g} s)")
        if pair.get("records", True):
            lines.append(f"  write results/<backend>/<timestamp>/ and the report under {results_dir}")
        else:
            lines.append(f"  leave the results and the report to {pair['client_host']}")
    else:
        lines.append("  measure nothing: no requested backend can run here; it would record each as not run "
                     f"under {results_dir}")
    # one line each, no trailing blanks (ansible's YAML output then shows the text as a literal block)
    return [" ".join(line.split("\n")).rstrip() for line in lines]
