# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's shared host state: the hypervisor lock's file format and a namespace's teardown.

lab_lock and netdev own these; the watchdog's reaper reaches them through this module instead of
copying their formats.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time


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
