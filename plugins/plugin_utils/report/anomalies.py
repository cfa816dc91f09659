# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's Anomalies or Issues: what could not be measured or looks wrong in the chosen runs, and why."""

from __future__ import annotations

import json
import os
import re
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import NATIVE, Row
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import COMPARED_CONFIG
from ansible_collections.volt.netbench.plugins.plugin_utils.report.context import (
    COMPARED_ENV, GUEST_ENV, _sentence, _show, show_bytes, udp_receive_buffers)


def _tname(test: dict[str, Any], repeat: int) -> str:
    return f"{test['name']} #{test.get('repetition') or 1}" if repeat > 1 else test["name"]


def _cell_anomalies(run: dict[str, Any], rows: tuple[Row, ...], cells: dict, name: str, repeat: int) -> list[str]:
    out = []
    for row in rows:
        cell = cells[row][name]
        for rep in (cell or {}).get("zeros", []):
            which = f" in repetition {rep}" if repeat > 1 else ""
            out.append(f"{name}: {row.label} measured 0 {row.unit}{which}; counted in that cell (a measurement, "
                       "not a failure).")
        if cell is None:
            if row.test in _native_unavailable(run):
                continue  # said once, with its reason, by _native_anomalies
            planned = [t for t in run.get("tests", []) if t.get("name") == row.test]
            if not planned:
                out.append(f"{name}: {row.label} is n/a — test {row.test} was not part of the run.")
            elif all(t.get("status") == "ok" for t in planned):
                out.append(f"{name}: {row.label} is n/a — {row.test} recorded no {row.metric} sample.")
            # failed/skipped tests are listed once each, with their message, by _test_anomalies
    return out


# A guest's console kept with its run (console-GUEST.log): a kernel that died says so there, and nowhere else
CONSOLE_RE = re.compile(r"^console-(?P<guest>[a-z][a-z0-9-]{0,30})\.log$")
PANIC_RE = re.compile(r"Kernel panic - not syncing: (?P<why>.*)")
BUG_RE = re.compile(r"\[\s*(?P<t>[0-9.]+)\] (?P<bug>BUG: .*|general protection fault.*|Oops: .*)")
RIP_RE = re.compile(r"\] RIP: 0010:(?P<rip>\S+)")
COMM_RE = re.compile(r"\] CPU: \d+ .*?Comm: (?P<comm>\S+).*? (?P<kernel>\d+\.\d+\S*) #")
CONSOLE_TAIL = 256 * 1024


def console_panic(text: str) -> dict[str, str] | None:
    """What a guest console says about a kernel panic: why, the first BUG/Oops line with its uptime, where (RIP),
    the process that ran and the kernel; None without a panic."""
    panic = PANIC_RE.search(text)
    if panic is None:
        return None
    found = {"why": panic.group("why").strip()}
    for regex in (BUG_RE, RIP_RE, COMM_RE):
        match = regex.search(text)
        if match:
            found.update({k: v.strip() for k, v in match.groupdict().items()})
    return found


def _console_anomalies(run: dict[str, Any], shown_dir: str) -> list[str]:
    """A guest of the run whose kernel panicked (its console, kept in the run's directory)."""
    out = []
    try:
        names = sorted(os.listdir(run.get("path") or ""))
    except OSError:
        return out
    for name in names:
        match = CONSOLE_RE.match(name)
        path = os.path.join(run["path"], name)
        if not match or os.path.islink(path):
            continue
        try:
            with open(path, "rb") as handle:
                handle.seek(max(0, os.fstat(handle.fileno()).st_size - CONSOLE_TAIL))
                text = handle.read().decode("utf-8", "replace")
        except OSError:
            continue
        panic = console_panic(text)
        if panic:
            where = f" in {panic['rip']}" if panic.get("rip") else ""
            what = f"{panic['bug']}{where}" if panic.get("bug") else panic["why"]
            during = f" while {panic['comm']} ran" if panic.get("comm") else ""
            kernel = f" (kernel {panic['kernel']})" if panic.get("kernel") else ""
            at = f" {float(panic['t']):.0f} s after it booted" if panic.get("t") else ""
            out.append(f"{run['backend']}: guest {match.group('guest')}'s kernel panicked{at}{during}{kernel}: "
                       f"{what} - the tests after it could not reach the guest; its console is "
                       f"{shown_dir}/{run['backend']}/{run['run_id']}/{name}.")
    return out


def _test_anomalies(run: dict[str, Any]) -> list[str]:
    out = []
    repeat = int((run.get("config") or {}).get("repeat") or 1)
    for test in run.get("tests", []):
        if test.get("status") == "failed":
            out.append(f"{run['backend']}: {_tname(test, repeat)} failed — "
                       f"{_sentence(test.get('message'), 'no message recorded')}")
        elif test.get("status") == "skipped":
            out.append(f"{run['backend']}: {_tname(test, repeat)} skipped — "
                       f"{_sentence(test.get('message'), 'no reason recorded')}")
    return out


def _quality_anomalies(run: dict[str, Any]) -> list[str]:
    out = []
    backend = run["backend"]
    repeat = int((run.get("config") or {}).get("repeat") or 1)
    for test in run.get("tests", []):
        parsed = test.get("parsed") or {}
        name = _tname(test, repeat)
        if parsed.get("cpu_cost_unbounded"):
            out.append(f"{backend}: {name} moved no work while the host's CPU was sampled "
                       f"({float(parsed.get('host_cpu_total_s') or 0):.2f} CPU-seconds): its cost per unit of work is "
                       "unbounded, so it is left out of the CPU cost cells and the CPU score.")
        if parsed.get("no_reply"):
            out.append(f"{backend}: {name}: no reply — {parsed.get('transmitted')} probes sent, none answered (100 % "
                       "loss): the path dropped everything. Its latency cells say 'no reply' and are left out of the "
                       "comparisons and the ranking.")
        if parsed.get("lost_packets"):
            out.append(
                f"{backend}: {name} lost {parsed['lost_percent']:.2f}% of UDP datagrams "
                f"({parsed['lost_packets']:,} of {parsed['packets']:,}); rates are receiver-side."
            )
        if parsed.get("iperf3_lost_packets"):
            out.append(f"{backend}: {name}: iperf3 counted {parsed['iperf3_lost_packets']:,} datagrams lost of "
                       f"{parsed['packets']:,} (its -O warm-up counted in); the loss is recounted from the bytes received.")
        if parsed.get("retransmits"):
            out.append(f"{backend}: {name} had {parsed['retransmits']:,} TCP retransmits.")
        if "transmitted" in parsed and 0 < parsed["received"] < parsed["transmitted"]:  # none: "no reply" above
            out.append(
                f"{backend}: {name} incomplete — {parsed['received']:,} of {parsed['transmitted']:,} "
                f"echo replies ({parsed['loss_percent']:.1f}% loss)."
            )
        if parsed.get("round_trip") is False:
            out.append(
                f"{backend}: {name} latency is one-way (sockperf without --full-rtt), not a round trip like ICMP."
            )
        if parsed.get("dropped"):
            out.append(f"{backend}: {name} dropped {parsed['dropped']:,} messages.")
    return out


TCG_NOTE = ("ran under TCG (software emulation, no KVM): neither the absolute figures nor the differences between "
            "the backends represent KVM hosts, where the guests' CPU cost and each backend's overhead are different.")


def _tcg(chosen: dict[str, dict], measured: list[str]) -> list[str]:
    return [n for n in measured if str((chosen[n].get("environment") or {}).get("accelerator", "")).lower() == "tcg"]


def _environment_anomalies(chosen: dict[str, dict], measured: list[str], shown: list[str]) -> list[str]:
    """TCG, and every configuration or environment key on which the compared runs differ - the native
    reference's run checked like every backend's."""
    out = []
    tcg = _tcg(chosen, measured)
    if tcg:
        out.append(f"{', '.join(tcg)} {TCG_NOTE}")
    # a remote hypervisor's guard tore an earlier run's lab down before this run (the run notes what it said)
    for text in sorted({str((chosen[n].get("environment") or {}).get("recovered") or "") for n in shown} - {""}):
        out.append(f"Before this run, {text}.")
    # a cross-host run samples the CPU of the client VM's hypervisor only
    scopes = sorted({str((chosen[n].get("environment") or {}).get("cpu_sampled") or "") for n in measured} - {""})
    if scopes:
        out.append(f"Host CPU per unit of work counts {' and '.join(scopes)} only: in a cross-host run the server "
                   "VM's hypervisor is not sampled, so the CPU cells are the client side's cost.")
    unknown = [n for n in measured if not chosen[n].get("environment", {}).get("accelerator")]
    if unknown:
        out.append(f"{', '.join(unknown)}: accelerator not recorded.")
    for scope, keys in (("config", COMPARED_CONFIG), ("environment", COMPARED_ENV)):
        for key in keys:
            # the native reference runs no guests: its guest-side environment is not compared
            names = [n for n in shown if not (n == NATIVE and scope == "environment" and key in GUEST_ENV)]
            seen = {n: (chosen[n].get(scope) or {}).get(key) for n in names}
            distinct = {json.dumps(v, sort_keys=True) for v in seen.values()}
            if len(distinct) > 1:
                parts = "; ".join(f"{n}: {_show(v)}" for n, v in seen.items())
                out.append(f"Mismatched {scope} between compared runs — {key} differs ({parts}).")
    return out


def _native_unavailable(run: dict[str, Any]) -> dict[str, str]:
    """The tests the native reference could not run, with why (recorded in its environment)."""
    return (run.get("environment") or {}).get("native_unavailable") or {}


def _native_anomalies(chosen: dict[str, dict], reference: dict[str, Any], measured: list[str]) -> list[str]:
    """Why the native reference column is missing or has holes."""
    run = chosen.get(NATIVE)
    if run is None or not measured:
        return []
    out = []
    if not reference["measured"]:
        out.append(f"native: no data — run {run['run_id']} {run.get('status')}: "
                   f"{_sentence(run.get('reason'), 'every test failed')}")
    for test, why in sorted(_native_unavailable(run).items()):
        out.append(f"native: {test} not measured — {_sentence(why, 'no reason recorded')}")
    mismatch = buffer_mismatch(chosen, [*measured, NATIVE])
    if mismatch:
        out.append(f"native: its {mismatch} - its UDP figures (packet rates, UDP max) compare differently tuned "
                   "paths.")
    return out


def buffer_mismatch(chosen: dict[str, dict], measured: list[str]) -> str:
    """Why the native reference's UDP sockets did not get the guests' receive buffers, as a sentence without its
    subject ("UDP sockets got ..."; '' when they did, or when either side did not say)."""
    seen = udp_receive_buffers(chosen, measured)
    native = seen.get(NATIVE)
    guests = sorted({v for n, values in seen.items() if n != NATIVE for v in values})
    if not native or not guests or set(native) == set(guests):
        return ""
    return (f"UDP sockets got {', '.join(show_bytes(v) for v in native)} receive buffers, the guests' "
            f"{', '.join(show_bytes(v) for v in guests)}: the host's net.core.rmem_max (one value for the whole "
            "host; a network namespace cannot raise it, and the collection does not change the host's) caps what "
            f"iperf3 -w asks for; a net.core.rmem_max of at least {show_bytes(max(guests))} on the hypervisor "
            "gives the native reference the guests' buffers")
