# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's context sections: environment, test configuration, the statistical method and how to
reproduce the runs."""

from __future__ import annotations

import json
import shlex
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import BACKENDS, NATIVE
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import (
    ALPHA, CONFIDENCE, CORRECTION_NAME, scipy_version)
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.cells import NA


ENV_ROWS = (
    ("Date", "date"),
    ("Host CPU", "host_cpu"),
    ("Host RAM", "host_ram"),
    ("Host NIC", "host_nic"),
    ("Host Kernel", "host_kernel"),
    ("VM vCPUs", "vm_vcpus"),
    ("VM RAM", "vm_ram"),
    ("Guest Kernel", "guest_kernel"),
    ("QEMU Version", "qemu_version"),
)


COMPARED_ENV = ("host_cpu", "host_kernel", "vm_vcpus", "vm_ram", "guest_kernel", "qemu_version", "accelerator",
                "topology")


# what only a guest has: not compared for the native reference (no VM)
GUEST_ENV = ("vm_vcpus", "vm_ram", "guest_kernel", "qemu_version", "accelerator")


def _sentence(text: str | None, default: str) -> str:
    """One line of text that ends with exactly one full stop (or its own ? / !)."""
    text = " ".join(str(text or "").split()) or default
    return text if text[-1] in ".?!" else text + "."


def _show(value: Any) -> str:
    if value is None or value == "":
        return NA
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _environment(chosen: dict[str, dict], measured: list[str]) -> list[dict[str, str]]:
    rows = []
    names = measured or [n for n in BACKENDS if n in chosen]
    for label, key in ENV_ROWS:
        seen = {}
        for name in names:
            env = chosen[name].get("environment", {})
            value = env.get(key)
            if key == "date" and not value:
                value = str(chosen[name].get("started", ""))[:10]
            seen[name] = _show(value)
        distinct = sorted(set(seen.values()))
        if not seen:
            text = NA
        elif len(distinct) == 1:
            text = distinct[0]
        elif key == "date":
            text = " – ".join((distinct[0], distinct[-1]))
        else:
            text = "; ".join(f"{n}: {v}" for n, v in seen.items())
        rows.append({"label": label, "value": text})
    # a cross-host pair: where each guest ran and the wire between them (a same-host lab has no row)
    topology = sorted({str(chosen[n].get("environment", {}).get("topology") or "") for n in names} - {""})
    if topology:
        rows.append({"label": "Topology", "value": "; ".join(topology)})
    return rows


def udp_receive_buffers(chosen: dict[str, dict], names: list[str]) -> dict[str, list[int]]:
    """What each path's UDP sockets got for a receive buffer, as iperf3 read it back (rcvbuf_actual): the
    guests' from their net.core.rmem_default, the native reference's from iperf3 -w (matrix.native_tuning)."""
    out = {}
    for name in names:
        parsed = [test.get("parsed") or {} for test in chosen[name].get("tests", [])]
        seen = {int(p["rcvbuf_bytes"]) for p in parsed if p.get("protocol") == "UDP" and p.get("rcvbuf_bytes")}
        if seen:
            out[name] = sorted(seen)
    return out


def show_bytes(value: int) -> str:
    """A buffer size as people write it (4 MiB, 208 KiB, 1000 bytes)."""
    for unit, size in (("MiB", 1 << 20), ("KiB", 1 << 10)):
        if value >= size:
            return f"{value / size:.4g} {unit}"
    return f"{value} bytes"


def _buffers_row(chosen: dict[str, dict], measured: list[str]) -> str:
    seen = udp_receive_buffers(chosen, measured)
    if not seen:
        return NA
    by_value: dict[str, list[str]] = {}
    for name, values in seen.items():
        by_value.setdefault(", ".join(show_bytes(v) for v in values), []).append(name)
    if len(by_value) == 1:
        return next(iter(by_value))
    return "; ".join(f"{', '.join(names)}: {value}" for value, names in by_value.items())


def _test_config(chosen: dict[str, dict], measured: list[str], shown: list[str]) -> dict[str, Any]:
    def agreed(key: str, unit: str = "") -> str:
        seen = {n: chosen[n].get("config", {}).get(key) for n in measured}
        known = {json.dumps(v) for v in seen.values() if v is not None}
        if not known:
            return NA
        if len(known) == 1:
            return f"{_show(next(v for v in seen.values() if v is not None))}{unit}"
        return "; ".join(f"{n}: {_show(v)}{unit}" for n, v in seen.items())

    accel = sorted({str(chosen[n].get("environment", {}).get("accelerator") or NA) for n in measured})
    guests = [n for n in measured if n != NATIVE]
    tuning = sorted({str(chosen[n].get("config", {}).get("guest_tuning") or "") for n in guests})
    omit = agreed("iperf3_omit_s")
    duration = agreed("duration_s", " seconds per test")
    if omit not in (NA, "0"):
        duration += f" (iperf3 after {omit} s of warm-up it leaves out, `-O`)"
    return {
        "duration": duration,
        "ping_count": agreed("ping_count", " packets"),
        "ping_interval": agreed("ping_interval_s", " s"),
        "streams": agreed("parallel_streams"),
        "pps_sizes": agreed("pps_sizes"),
        "pps_mode": agreed("pps_mode"),
        "pps_loss_max": agreed("pps_loss_max_percent", " %"),
        "profile": agreed("profile"),
        "repeat": agreed("repeat"),
        # a sweep's point: the configuration these runs were measured in (its report: sweeps/<run id>/SWEEP.md)
        "point": ",".join(f"{k}={v}" for k, v in (next((chosen[n].get("config") or {} for n in measured
                                                       if (chosen[n].get("config") or {}).get("point")), {})
                                                  .get("point") or {}).items()),
        "accelerator": ", ".join(accel) if accel else NA,
        # what the guests were tuned with before the tests (matrix.GUEST_SYSCTLS); runs of older versions: none
        "guest_tuning": "; ".join(f"`{t}`" for t in tuning if t) or ("none recorded" if guests else NA),
        # the same buffers for the native reference, per socket (matrix.native_tuning); older runs: none
        "native_tuning": (str(chosen[NATIVE].get("config", {}).get("native_tuning") or "none recorded")
                          if NATIVE in shown else ""),
        # what the sockets got, read back by iperf3 on each path
        "udp_receive_buffer": _buffers_row(chosen, shown),
        "data_paths": [
            {"backend": n if n != NATIVE else "native (reference)",
             "path": _show((chosen[n].get("environment") or {}).get("data_path"))} for n in shown
        ],
    }


def _method(chosen: dict[str, dict], shown: list[str], repeat: int, tested: bool, family: int) -> dict[str, Any]:
    """How to read the cells and claims (one paragraph in the report), and whether anything was tested."""
    conf = f"{CONFIDENCE * 100:.0f} %"
    run_ids = sorted({chosen[n]["run_id"] for n in shown})
    if len(run_ids) == 1:
        how = f"the backends alternating test by test in one lab (run {run_ids[0]})"
    else:
        how = ("in separate runs (" + "; ".join(f"{n}: {chosen[n]['run_id']}" for n in shown) + "), so the "
               "differences include whatever changed on the host between them")
    return {
        "repeat": repeat,
        "tested": tested,
        "confidence": CONFIDENCE,
        "alpha": ALPHA,
        "family": family,
        "one_lab": len(run_ids) == 1,
        "method": (
            f"Each backend ran every test {repeat} time{'s' if repeat != 1 else ''}, {how}. A cell is the mean "
            f"of the repetitions that measured something (a measured 0 counts; a failed run does not) ± the "
            f"half-width of its {conf} confidence interval (Student's t, n − 1 degrees of freedom); a cell whose "
            f"n differs from {repeat} says its n, and a cell from one repetition is the plain value. A percentile "
            "cell (ICMP, TCP) is the mean of the per-repetition percentiles, each from that repetition's replies "
            "(ping's per-reply times, sockperf's `--full-log`); the latency charts pool every reply. A percentage "
            f"is the ratio of two cells' means, with the {conf} Fieller interval of that ratio for unequal "
            "variances (it allows for the noise of both means; ∞ where the reference's mean is not clearly above "
            "zero), and positive always means better. Every comparison the report can claim — each pair of "
            "backends on each row, on the category, composite and host CPU scores and on the P99/P50 tails — "
            f"is one family of {family} tested comparison{'s' if family != 1 else ''} (Welch's t-test), "
            f"corrected with {CORRECTION_NAME}: a difference is called an improvement, a regression or a lead, "
            f"and a backend outranks another, only where the adjusted p is below {ALPHA:g}, so the chance that "
            f"the report states any false difference is at most {ALPHA * 100:g} %. Identical values on both sides "
            "are not tested. Categories and the hierarchy score each repetition (geometric mean over the "
            "category's rows of value ÷ best mean, higher is better, rows paired by repetition, using only rows "
            "every ranked backend measured); a backend's rank is 1 + the number of backends that beat it. The "
            "percentages of native are estimates with their intervals, not claims, and are not in the family. "
            f"Computed with scipy {scipy_version()} and statsmodels {_statsmodels_version()}."
        ),
        "untested": "" if tested else (
            "Every backend was measured once per test (repeat = 1), so no difference below was tested: "
            "percentages and orderings are single observations, not findings. Run with `-e repeat=3` or more "
            "to test them."
        ),
    }


def _statsmodels_version() -> str:
    import statsmodels  # pylint: disable=import-outside-toplevel

    return statsmodels.__version__


def _reproducibility(chosen: dict[str, dict], measured: list[str], shown_dir: str) -> dict[str, Any]:
    """The command of each run the report compares - once per run id (one lab measures every backend of a
    run; the recorded extra vars name its ``backend``, older runs get their own backend) - then a command
    for each backend with no run, and the tools' commands on the guests."""
    commands: list[str] = []
    server: list[str] = []
    for name in BACKENDS:
        run = chosen.get(name)
        if run is None:
            commands.append(f"ansible-playbook playbooks/benchmark.yml -e backend={name}")
            continue
        extra = dict(run.get("config", {}).get("extra_vars") or {})
        extra.setdefault("backend", name)
        args = " ".join(f"-e {shlex.quote(f'{k}={_evar(v)}')}" for k, v in sorted(extra.items()))
        command = f"ansible-playbook playbooks/benchmark.yml {args}"
        if command not in commands:
            commands.append(command)
        for cmd in run.get("config", {}).get("server_commands") or []:
            text = cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)
            if text not in server:
                server.append(text)
    client = []
    for name in measured:
        for test in chosen[name].get("tests", []):
            cmd = test.get("command")
            if cmd and int(test.get("repetition") or 1) == 1:
                client.append(f"{test['name']}: {cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)}")
        break
    return {
        "benchmark": commands,
        "compare": f"ansible-playbook playbooks/compare.yml -e results_dir={shlex.quote(shown_dir)}",
        "server": server,
        "client": client,
    }


def _evar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
