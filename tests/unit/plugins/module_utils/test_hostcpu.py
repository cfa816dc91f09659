"""Host CPU per role of a QEMU process, from /proc: a fake tree for the vhost split (this host has no
vhost-net), and a real busy thread checked against its own CPU clock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins.module_utils import hostcpu

QEMU = 4242


def stat_line(pid: int, comm: str, utime: int, stime: int, ppid: int = 1) -> str:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    return f"{pid} ({comm}) S {ppid} {pid} {pid} 0 -1 4194560 0 0 0 0 {utime} {stime} 0 0 20 0 1 0 1 0 0\n"


def fake_proc(root: Path, scale: int) -> Path:
    """QEMU with two vCPU threads, its main loop, an I/O thread and an in-process vhost worker (Linux 6.4+),
    an old-style vhost kernel thread for it, and another guest's vhost thread that must not count."""
    proc = root / f"proc{scale}"
    threads = {4242: ("qemu-system-x86", 10, 5), 4243: ("CPU 0/KVM", 300, 20), 4244: ("CPU 1/KVM", 200, 10),
               4245: ("IO mon_iothread", 7, 3), 4246: (f"vhost-{QEMU}", 0, 40)}
    for tid, (comm, user, system) in threads.items():
        task = proc / str(QEMU) / "task" / str(tid)
        task.mkdir(parents=True)
        (task / "stat").write_text(stat_line(tid, comm, user * scale, system * scale))
    (proc / str(QEMU) / "stat").write_text(stat_line(QEMU, "qemu-system-x86", 0, 0))
    for pid, comm, ticks in ((777, f"vhost-{QEMU}", 50), (778, "vhost-999", 1000)):
        (proc / str(pid) / "task").mkdir(parents=True)
        (proc / str(pid) / "stat").write_text(stat_line(pid, comm, 0, ticks * scale, ppid=2))
    (proc / "self").mkdir()
    (proc / "stat").write_text(f"cpu  {1000 * scale} 0 {400 * scale} 9000 10 {5 * scale} {60 * scale} 0 0 0\n"
                               "cpu0 1 2 3 4 5 6 7 8 0 0\nintr 1 2 3\n")
    return proc


def test_roles_and_the_vhost_split_from_a_fake_proc_tree(tmp_path):
    first, second = fake_proc(tmp_path, 1), fake_proc(tmp_path, 3)
    assert hostcpu.process_roles(QEMU, str(first)) == {"vcpu": 530, "io": 25, "vhost": 90}
    samples = [hostcpu.sample({"server": QEMU}, str(first), now=100.0),
               hostcpu.sample({"server": QEMU}, str(second), now=110.0)]
    got = hostcpu.window(samples, 100.0, 110.0, ticks_per_s=100)
    # every counter tripled: the window holds twice the first reading
    assert got["guests"]["server"] == {"vcpu": pytest.approx(10.6), "io": pytest.approx(0.5),
                                       "vhost": pytest.approx(1.8)}
    assert got["host"]["busy"] == pytest.approx(2 * (1000 + 400 + 5 + 60) / 100)
    assert got["host"]["softirq"] == pytest.approx(1.2)
    # half the window, interpolated between the two samples
    half = hostcpu.window(samples, 102.5, 107.5, ticks_per_s=100)
    assert half["guests"]["server"]["vcpu"] == pytest.approx(5.3)
    # outside the samples: no figure rather than a guess
    assert hostcpu.window(samples, 95.0, 105.0, ticks_per_s=100) is None
    assert hostcpu.process_roles(99999, str(first)) is None


BUSY = textwrap.dedent("""
    import ctypes, sys, threading, time
    libc = ctypes.CDLL(None)
    done = threading.Event()
    def spin():
        libc.prctl(15, b"CPU 0/TCG", 0, 0, 0)  # PR_SET_NAME: named like a QEMU vCPU thread
        start = time.thread_time()
        while time.thread_time() - start < float(sys.argv[1]):
            pass
        print(time.thread_time(), flush=True)  # the thread's own CPU clock: the independent reading
        done.wait()  # a vCPU thread lives as long as its guest
    sys.stdin.readline()
    worker = threading.Thread(target=spin)
    worker.start()
    sys.stdin.readline()
    done.set()
    worker.join()
""")


def test_a_busy_vcpu_thread_is_measured_within_ten_percent():
    child = subprocess.Popen([sys.executable, "-c", BUSY, "1.5"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
    try:
        time.sleep(0.3)
        before = hostcpu.sample({"guest": child.pid})
        child.stdin.write("go\n")
        child.stdin.flush()
        own = float(child.stdout.readline())
        after = hostcpu.sample({"guest": child.pid})
        child.stdin.write("end\n")
        child.stdin.flush()
    finally:
        child.wait(timeout=30)
    got = hostcpu.window([before, after], before["t"], after["t"])
    assert own == pytest.approx(1.5, rel=0.05)
    assert got["guests"]["guest"]["vcpu"] == pytest.approx(own, rel=0.10)
    assert got["guests"]["guest"]["vhost"] == 0
    assert got["host"]["busy"] >= 0.9 * own
