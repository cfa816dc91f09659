# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's shared host state: where a lab keeps its files, the hypervisor lock's file format and a
namespace's teardown.

:func:`lab_paths` is the one place that names a lab's files and directories (the roles read it through
the volt.netbench.lab_paths filter, the run model and the watchdog's reaper import it); lab_lock and
netdev own the lock and the namespace, and the reaper reaches them through this module instead of copying
their formats.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time

# The hypervisor's run-time directory of every lab (tmpfs: gone after a reboot, like the lab itself).
RUN_ROOT = "/run/volt-netbench"
# SSH control sockets of a lab's guests live in its controller directory under this prefix.
CONTROL_PREFIX = "cp-"


def lab_name(netns: str | None) -> str:
    """A lab is named after its namespace; a lab in the host's root namespace is 'root'."""
    return netns or "root"


def lab_paths(netns: str | None, run_root: str = RUN_ROOT, guest_root: str | None = None,
              controller_root: str | None = None) -> dict:
    """Every file and directory of the lab in NETNS.

    On the hypervisor under RUN_ROOT: ``chardev_dir`` (host_network's macvtap character devices),
    ``cpu_samples`` (volt.netbench.cpu_sampler's file; its pidfile is :func:`sampler_pidfile`),
    ``native_job_dir`` (the native reference's job files); under GUEST_ROOT (default RUN_ROOT/guests):
    ``guest_dir`` (qemu_guest's overlays, sockets, pidfiles, console logs); ``heartbeat`` and ``recovered``
    (the hypervisor's guard, :func:`guard`). On the controller under
    CONTROLLER_ROOT (default ~/.cache/volt-netbench/labs): ``controller_dir`` with ``known_hosts`` and
    the guests' SSH ``control_path`` (``control_match`` is what a control master's command line holds),
    and ``watchdog_config``. ``native_netns`` names the native reference's two namespaces."""
    lab = lab_name(netns)
    guest_root = guest_root or f"{run_root}/guests"
    controller_root = controller_root or os.path.expanduser("~/.cache/volt-netbench/labs")
    controller_dir = f"{controller_root}/{lab}"
    return {
        "lab": lab,
        "run_root": run_root,
        "guest_root": guest_root,
        "controller_root": controller_root,
        "chardev_dir": f"{run_root}/{lab}",
        "cpu_samples": f"{run_root}/{lab}.cpu.jsonl",
        "native_job_dir": f"{run_root}/{lab}.jobs",
        "guest_dir": f"{guest_root}/{lab}",
        "controller_dir": controller_dir,
        "known_hosts": f"{controller_dir}/known_hosts",
        "control_path": f"{controller_dir}/{CONTROL_PREFIX}%C",
        "control_match": control_match(controller_dir),
        "watchdog_config": f"{controller_root}/{lab}.watchdog.json",
        # the hypervisor's guard (volt.netbench.lab_guard): the heartbeat the run refreshes, and what the guard
        # recovered when it went stale (the next run reports it)
        "heartbeat": f"{run_root}/{lab}.heartbeat",
        "recovered": f"{run_root}/{lab}.recovered.json",
        "native_netns": {"server": f"{netns or 'vnb'}-native-server", "client": f"{netns or 'vnb'}-native-client"},
    }


def control_match(controller_dir: str) -> str:
    """What the command line of a lab's SSH control master holds (the watchdog stops them by it)."""
    return f"ControlPath={controller_dir.rstrip('/')}/{CONTROL_PREFIX}"


def sampler_pidfile(path: str) -> str:
    """The CPU sampler's pidfile beside its samples file."""
    return f"{path}.pid"


def read_lock(path: str) -> dict | None:
    """The lock's holder ({owner_pid, owner_host, taken, description}), None when free, {corrupt} when unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"corrupt": True}


def lock_held_by(path: str, owner_pid: int) -> bool:
    holder = read_lock(path)
    return bool(holder) and holder.get("owner_pid") == owner_pid


def lock_stale(holder: dict, max_age: float) -> bool:
    """A holder that can be taken over: unreadable, its ansible-playbook gone (same host), or too old."""
    if holder.get("corrupt"):
        return True
    if holder.get("owner_host") == socket.gethostname():
        pid = holder.get("owner_pid")
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                return b"ansible" not in handle.read()
        except (OSError, TypeError):
            return True
    return time.time() - holder.get("taken", 0) > max_age


def netns_pids(name: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in out.split() if pid.isdigit()]


def kill_netns(name: str) -> None:
    """Kill every process left in namespace NAME and delete it (the watchdog's teardown)."""
    for pid in netns_pids(name):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def teardown_lab(cfg: dict) -> list[str]:
    """The hypervisor's side of a lab's teardown, for the controller's watchdog (a local lab) and the
    hypervisor's guard (a lab whose controller went silent): the guests recorded under ``state_dir``, the
    native reference's namespaces (``extra_netns``) and the lab's (``netns``, when ``manage_netns``) with every
    process in them, the run-time directories (``state_dir``, ``chardev_dir``, ``job_dir``) and the CPU
    sampler's files (``cpu_samples``). Returns what it found and removed, in words."""
    from ansible_collections.volt.netbench.plugins.module_utils.qemu import guest_names, stop_all

    removed = []
    if cfg.get("state_dir"):
        names = guest_names(cfg["state_dir"])
        removed += [f"guest {name}" for name in names]
        removed += [f"guest error: {error}" for error in stop_all(cfg["state_dir"])]
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.split()
    for extra in cfg.get("extra_netns") or []:
        if extra in names:
            removed.append(f"namespace {extra}")
            kill_netns(extra)
    netns = cfg.get("netns")
    if netns and cfg.get("manage_netns", True) and netns in names:
        removed.append(f"namespace {netns}")
        kill_netns(netns)
    for key in ("state_dir", "chardev_dir", "job_dir"):
        if cfg.get(key) and os.path.exists(cfg[key]):
            removed.append(f"directory {cfg[key]}")
            shutil.rmtree(cfg[key], ignore_errors=True)
    if cfg.get("cpu_samples"):
        for path in (cfg["cpu_samples"], sampler_pidfile(cfg["cpu_samples"])):
            if os.path.exists(path):
                removed.append(f"file {path}")
                os.unlink(path)
    return removed


def _write_json(path: str, data: dict) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(tmp, path)


def guard(heartbeat: str, token: str, poll: float = 1.0) -> dict | None:
    """The hypervisor's guard of one run's lab (volt.netbench.lab_guard runs it detached): while the heartbeat
    file HEARTBEAT names this run (TOKEN) and its modification time is fresh, it waits. The run's controller
    refreshes the file (its watchdog touches it over SSH every few seconds) and removes it when the run ends;
    the guard then exits, as it does when a newer run has written its own token. When the file has not been
    touched for its ``stale_after`` seconds the controller is gone: the guard tears the lab down
    (:func:`teardown_lab`), releases the lab's lock if it is still the run's, writes what it did next to the
    heartbeat (``recovered``, read by the next run) and returns that record."""
    while True:
        try:
            silent = time.time() - os.stat(heartbeat).st_mtime
            with open(heartbeat, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        if data.get("token") != token:
            return None
        if silent <= float(data.get("stale_after", 600)):
            time.sleep(poll)
            continue
        teardown = data.get("teardown") or {}
        removed = teardown_lab(teardown)
        lock = teardown.get("lock")
        if lock and read_lock(lock) == data.get("lock_holder"):
            os.unlink(lock)
            removed.append(f"lock {lock}")
        record = {"recovered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "silent_s": round(silent),
                  "stale_after_s": data.get("stale_after"), "run": data.get("description", ""),
                  "started": data.get("started", ""), "removed": removed}
        _write_json(data["recovered"], record)
        try:
            os.unlink(heartbeat)
        except OSError:
            pass
        return record
