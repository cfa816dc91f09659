"""qemu_vm's wait for a guest's SSH banner, against a real listener on loopback that is as slow as sshd under
TCG inside TCG (a nested lab): it accepts at once and sends its banner seconds later."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time

import pytest

from ansible_collections.volt.netbench.plugins.modules import qemu_vm

pytestmark = pytest.mark.skipif(not shutil.which("nc"), reason="needs nc (netcat-openbsd)")


class Module:
    """What wait_ready uses of AnsibleModule: params, run_command, fail_json."""

    def __init__(self, port: int, timeout: float):
        self.params = {"ssh_port": port, "netns": "", "boot_timeout": timeout, "name": "server"}
        self.waits: list[str] = []

    def run_command(self, argv, data=None, binary_data=False):
        self.waits.append(argv[argv.index("-w") + 1])
        proc = subprocess.run(argv, input=data or "", capture_output=True, text=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs["msg"])


@pytest.fixture
def slow_sshd():
    """A listener that sends an SSH banner DELAY seconds after each accept (a slow guest's sshd)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    stop = threading.Event()

    def answer(conn):
        time.sleep(3.0)
        try:
            conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 slow\r\n")
        except OSError:
            pass
        conn.close()

    def serve():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _addr = server.accept()
            except socket.timeout:
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def test_a_banner_slower_than_the_first_look_is_still_seen(slow_sshd, monkeypatch):
    monkeypatch.setattr(qemu_vm, "alive", lambda pid, state_dir: True)
    module = Module(slow_sshd, timeout=30)
    began = time.monotonic()
    seconds = qemu_vm.wait_ready(module, "/nonexistent", {"console": "/nonexistent"}, 1, began, [])
    # the first look gives up after 2 s; the next waits 4 s and sees the banner 3 s after connecting
    assert module.waits == ["2", "4"]
    assert 5 <= seconds < 10


def test_a_refused_connection_does_not_lengthen_the_look(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there once closed
    monkeypatch.setattr(qemu_vm, "alive", lambda pid, state_dir: True)
    stopped = []
    monkeypatch.setattr(qemu_vm, "stop", lambda module, state_dir, name: stopped.append(name))
    monkeypatch.setattr(qemu_vm, "console_tail", lambda path: "")
    module = Module(port, timeout=1.5)
    with pytest.raises(AssertionError, match="did not answer on SSH within 1.5s"):
        qemu_vm.wait_ready(module, "/nonexistent", {"console": "/nonexistent"}, 1, time.monotonic(), [])
    assert len(module.waits) > 2 and set(module.waits) == {"2"} and stopped == ["server"]
