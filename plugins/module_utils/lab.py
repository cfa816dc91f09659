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
    ``guest_dir`` (qemu_guest's overlays, sockets, pidfiles, console logs). On the controller under
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
