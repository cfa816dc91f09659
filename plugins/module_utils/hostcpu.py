# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the backends cost the hypervisor's CPU: samples of cumulative CPU time, read from /proc.

A sample holds, for each guest's QEMU process, the CPU time of its threads split by role -
``vcpu`` (threads named ``CPU n/KVM`` or ``CPU n/TCG``), ``vhost`` (the ``vhost-<qemu pid>`` workers:
kernel threads before Linux 6.4, threads of the QEMU process since) and ``io`` (everything else of
QEMU: main loop, I/O threads, workers) - and the host's total from /proc/stat, including ``softirq``
where the bridge and macvtap work lands. ``window`` turns samples into CPU seconds between two times.
Runs on the hypervisor (a module's daemon) and on the controller (tests, the report), so it has no
Ansible imports. ``proc`` is a parameter so tests can read a fake tree.
"""

from __future__ import annotations

import bisect
import os
import re
import time
from typing import Any

CPU_THREAD_RE = re.compile(r"^CPU \d+/(KVM|TCG)$")
STAT_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
ROLES = ("vcpu", "io", "vhost")


def clock_ticks() -> int:
    return os.sysconf("SC_CLK_TCK")


def _stat_fields(path: str) -> tuple[str, list[str]] | None:
    """comm and the fields after it of a /proc/.../stat file (comm may hold spaces and parentheses)."""
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None  # the thread ended between listing and reading
    head, _sep, rest = text.rpartition(")")
    return head.partition("(")[2], rest.split()


def _ticks(fields: list[str]) -> int:
    # fields after comm: state(0) ppid(1) ... utime(11) stime(12)
    return int(fields[11]) + int(fields[12])


def role_of(comm: str, qemu_pid: int) -> str:
    if CPU_THREAD_RE.match(comm):
        return "vcpu"
    if comm == f"vhost-{qemu_pid}":
        return "vhost"
    return "io"


def process_roles(pid: int, proc: str = "/proc") -> dict[str, int] | None:
    """CPU ticks of one QEMU process by role, with its vhost kernel threads; None when it is gone."""
    task_dir = f"{proc}/{pid}/task"
    try:
        tids = os.listdir(task_dir)
    except OSError:
        return None
    out = dict.fromkeys(ROLES, 0)
    for tid in tids:
        parsed = _stat_fields(f"{task_dir}/{tid}/stat")
        if parsed:
            out[role_of(parsed[0], pid)] += _ticks(parsed[1])
    for entry in os.listdir(proc):
        # vhost workers before Linux 6.4: kernel threads (children of kthreadd, pid 2) named vhost-<pid>
        if entry.isdigit() and entry != str(pid):
            parsed = _stat_fields(f"{proc}/{entry}/stat")
            if parsed and parsed[0] == f"vhost-{pid}" and parsed[1][1] == "2":
                out["vhost"] += _ticks(parsed[1])
    return out


def host_stat(proc: str = "/proc") -> dict[str, int]:
    """The host's cumulative CPU ticks by kind (the 'cpu' line of /proc/stat)."""
    with open(f"{proc}/stat", "r", encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("cpu "):
                values = [int(v) for v in line.split()[1:]]
                return dict(zip(STAT_FIELDS, values + [0] * (len(STAT_FIELDS) - len(values))))
    raise ValueError(f"{proc}/stat has no 'cpu' line")


def sample(guests: dict[str, int], proc: str = "/proc", now: float | None = None) -> dict[str, Any]:
    """One sample: wall time (epoch seconds), each guest's ticks by role, the host's ticks by kind."""
    return {
        "t": time.time() if now is None else now,
        "guests": {name: process_roles(pid, proc) for name, pid in guests.items()},
        "host": host_stat(proc),
    }


def _at(samples: list[dict[str, Any]], times: list[float], when: float, get) -> float | None:
    """A cumulative counter at WHEN, interpolated linearly between the nearest samples around it that
    have it (SAMPLES oldest first, TIMES their times)."""
    a = next((samples[k] for k in range(bisect.bisect_right(times, when) - 1, -1, -1)
              if get(samples[k]) is not None), None)
    b = next((samples[k] for k in range(bisect.bisect_left(times, when), len(samples))
              if get(samples[k]) is not None), None)
    if a is None or b is None:
        return None
    if b["t"] == a["t"]:
        return float(get(a))
    return get(a) + (get(b) - get(a)) * (when - a["t"]) / (b["t"] - a["t"])


def window(samples: list[dict[str, Any]], start: float, end: float, ticks_per_s: int | None = None
           ) -> dict[str, Any] | None:
    """CPU seconds spent between START and END (epoch seconds): per guest and role, and the host's busy
    time (everything but idle and iowait) with its softirq share. None when the samples (oldest first)
    do not cover it."""
    hz = ticks_per_s or clock_ticks()
    if end <= start or not samples or samples[0]["t"] > start or samples[-1]["t"] < end:
        return None
    times = [s["t"] for s in samples]

    def delta(get) -> float | None:
        a, b = _at(samples, times, start, get), _at(samples, times, end, get)
        return None if a is None or b is None else (b - a) / hz

    names = sorted({n for s in samples for n in (s.get("guests") or {})})
    guests = {}
    for name in names:
        guests[name] = {role: delta(lambda s, n=name, r=role: (s["guests"].get(n) or {}).get(r)) for role in ROLES}

    def busy(s):
        return sum(v for k, v in s["host"].items() if k not in ("idle", "iowait"))

    return {
        "seconds": end - start,
        "guests": guests,
        "host": {"busy": delta(busy), "softirq": delta(lambda s: s["host"]["softirq"]),
                 "system": delta(lambda s: s["host"]["system"] + s["host"]["irq"])},
    }
