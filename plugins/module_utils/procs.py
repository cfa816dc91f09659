# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Signals that reach only the process they were meant for.

A PID read from a file, from ``ip netns pids`` or from /proc is only a number: the process may have
exited and the number been given to another one. Every signal the collection sends goes through
:func:`signal_if`: it pins the process with a pidfd (Linux 5.3+, ``os.pidfd_open``), checks that the
pinned process is the one meant (its start time, its command line, its namespace), and signals the
pidfd - a PID reused after the check cannot be hit, the pidfd still names the old process.
"""

from __future__ import annotations

import os
import signal
from typing import Callable


def start_time(pid: int) -> int | None:
    """PID's start time in clock ticks after boot (/proc/PID/stat field 22), None when it is gone."""
    try:
        with open(f"/proc/{int(pid)}/stat", encoding="utf-8", errors="replace") as handle:
            fields = handle.read().rpartition(")")[2].split()
    except (OSError, ValueError):
        return None
    # fields[0] is field 3 (state): field 22 is fields[19]
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def identity(pid: int) -> dict | None:
    """What names PID beyond its number, to write beside it in a pidfile: {pid, start}."""
    start = start_time(pid)
    return None if start is None else {"pid": int(pid), "start": start}


def is_same(ident: dict) -> Callable[[int], bool]:
    """A check for :func:`signal_if`: the process still has the start time IDENT recorded."""
    return lambda pid: ident.get("start") is not None and start_time(pid) == ident["start"]


def cmdline(pid: int) -> str:
    """PID's command line with its arguments joined by spaces ('' when it is gone)."""
    try:
        with open(f"/proc/{int(pid)}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except (OSError, ValueError):
        return ""


def owner(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{int(pid)}").st_uid
    except (OSError, ValueError):
        return None


def netns_inode(path: str) -> int | None:
    """The inode of a network namespace: of its bind mount (/run/netns/NAME) or of /proc/PID/ns/net."""
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def in_netns(inode: int | None) -> Callable[[int], bool]:
    """A check for :func:`signal_if`: the process is (still) in the namespace whose inode is INODE."""
    return lambda pid: inode is not None and netns_inode(f"/proc/{int(pid)}/ns/net") == inode


def signal_if(pid: int, sig: int, check: Callable[[int], bool]) -> bool:
    """Send SIG to PID when CHECK(PID) holds for the process the PID names now, pinned before the check.
    Returns whether the signal was sent (False: gone, or another process than the one meant)."""
    try:
        pidfd = os.pidfd_open(int(pid))
    except ProcessLookupError:
        return False
    except (AttributeError, OSError):
        pidfd = None  # a kernel or Python without pidfds: check, then signal (a narrower race remains)
    try:
        if not check(int(pid)):
            return False
        if pidfd is None:
            os.kill(int(pid), sig)
        else:
            signal.pidfd_send_signal(pidfd, sig)
        return True
    except ProcessLookupError:
        return False
    finally:
        if pidfd is not None:
            os.close(pidfd)
