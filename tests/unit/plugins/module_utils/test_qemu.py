"""QEMU's command line for each backend, accelerator and NIC list, and stopping guests by record."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins.module_utils import qemu
from ansible_collections.volt.netbench.plugins.module_utils.procs import owner
from ansible_collections.volt.netbench.plugins.module_utils.qemu import (
    SANDBOX_OPTS, GuestError, build_argv, guest_paths, launch, qmp_quit)

TAP = {"backend": "virtio", "device": "vnbtap0", "mac": "52:54:00:be:00:01", "address": "198.18.0.1/24"}
VHOST = {"backend": "vhost-net", "device": "vnbtap2", "mac": "52:54:00:be:01:01", "address": "198.18.1.1/24"}
MACVTAP = {"backend": "macvtap", "device": "/run/volt-netbench/lab/vnbmvt0", "mac": "02:11:22:33:44:55",
           "address": "198.18.2.1/24", "mtu": 9000}


def argv(nics, **kw):
    args = {"qemu": "/usr/bin/qemu-system-x86_64", "name": "server", "paths": guest_paths("/run/g", "server"),
            "accelerator": "tcg", "vcpus": 1, "memory_mb": 1024, "nics": nics, "mgmt_mac": "52:54:00:fe:00:01",
            "ssh_port": 10022, "kernel": "/img/vmlinuz", "initrd": "/img/initrd.img"}
    args.update(kw)
    return build_argv(**args)


def option(line, flag, containing=""):
    """Every value of FLAG in LINE (optionally only those containing a text)."""
    return [line[i + 1] for i, arg in enumerate(line[:-1]) if arg == flag and containing in line[i + 1]]


def test_virtio_tap_under_tcg_with_direct_boot():
    line = argv([TAP])
    assert line[0] == "/usr/bin/qemu-system-x86_64"
    assert option(line, "-accel") == ["tcg,thread=multi"]
    assert option(line, "-smp") == ["1,maxcpus=2"]  # QEMU 7.2 TCG stalls virtio-net with max_cpus=1
    assert option(line, "-netdev", "id=data0") == ["tap,id=data0,ifname=vnbtap0,script=no,downscript=no,vhost=off"]
    assert option(line, "-device", "netdev=data0") == ["virtio-net-pci,netdev=data0,addr=0x4,mac=52:54:00:be:00:01,romfile="]
    assert option(line, "-netdev", "id=mgmt") == ["user,id=mgmt,restrict=on,hostfwd=tcp:127.0.0.1:10022-:22"]
    append = option(line, "-append")[0].split()
    assert "init=/usr/local/sbin/volt-init" in append
    assert "volt.hostname=server" in append
    assert "volt.nic=52:54:00:fe:00:01,mgmt0,10.0.2.15/24,1500,10.0.2.2" in append
    assert "volt.nic=52:54:00:be:00:01,data0,198.18.0.1/24,1500" in append
    assert "tsc=reliable" in append and "panic=-1" in append
    assert "-no-reboot" in line
    # not -daemonize: qemu.launch detaches QEMU, so the sandbox can forbid it to fork (spawn=deny)
    assert "-daemonize" not in line and option(line, "-pidfile") == ["/run/g/server.pid"]


def test_qemu_is_sandboxed_and_drops_root_when_asked():
    line = argv([TAP])
    assert option(line, "-sandbox") == ["on,obsolete=deny,resourcecontrol=deny,spawn=deny"] and "-runas" not in line
    assert option(argv([TAP], runas="nobody"), "-runas") == ["nobody"]
    assert "-sandbox" not in argv([TAP], sandbox=False)
    with pytest.raises(GuestError, match="runas 'no body; rm' is not a user name"):
        argv([TAP], runas="no body; rm")


def test_kvm_gets_host_cpu_and_plain_smp():
    line = argv([TAP], accelerator="kvm", vcpus=4, memory_mb=8192)
    assert option(line, "-accel") == ["kvm"]
    assert option(line, "-cpu") == ["host"]
    assert option(line, "-smp") == ["4"]
    assert option(line, "-m") == ["8192"]
    assert "tsc=reliable" not in option(line, "-append")[0]


def test_vhost_net_tap_and_multiqueue():
    line = argv([dict(VHOST, queues=4)])
    assert option(line, "-netdev", "id=data0") == [
        "tap,id=data0,ifname=vnbtap2,script=no,downscript=no,vhost=on,queues=4"]
    assert option(line, "-device", "netdev=data0")[0].endswith(",mq=on,vectors=10")


def test_macvtap_by_inherited_fd_with_its_own_mac():
    line = argv([MACVTAP], fds={0: 7})
    assert option(line, "-netdev", "id=data0") == ["tap,id=data0,fd=7"]
    assert "mac=02:11:22:33:44:55" in option(line, "-device", "netdev=data0")[0]
    assert "volt.nic=02:11:22:33:44:55,data0,198.18.2.1/24,9000" in option(line, "-append")[0]
    vhost = argv([dict(MACVTAP, vhost=True)], fds={0: 7})
    assert option(vhost, "-netdev", "id=data0") == ["tap,id=data0,fd=7,vhost=on"]
    with pytest.raises(GuestError, match=r"needs 1 open file descriptor\(s\)"):
        argv([MACVTAP])


def test_multi_queue_macvtap_takes_one_descriptor_per_queue():
    # libvirt's multi-queue macvtap: the character device opened once per queue, fds=a:b (QEMU 7.2 here starts with
    # it on a macvtap in a namespace: two opens of its /dev node, -netdev tap,fds=3:4 and mq=on)
    line = argv([dict(MACVTAP, queues=2, vhost=True)], fds={0: [7, 8]})
    assert option(line, "-netdev", "id=data0") == ["tap,id=data0,fds=7:8,vhost=on"]
    assert option(line, "-device", "netdev=data0")[0].endswith(",mq=on,vectors=6")


def test_one_nic_per_backend_at_distinct_slots_and_names():
    line = argv([TAP, VHOST, MACVTAP], fds={2: 9})
    devices = option(line, "-device", "virtio-net-pci,netdev=data")
    assert [d.split(",")[2] for d in devices] == ["addr=0x4", "addr=0x7", "addr=0x8"]
    append = option(line, "-append")[0]
    for index, nic in enumerate((TAP, VHOST, MACVTAP)):
        assert f"volt.nic={nic['mac']},data{index},{nic['address']}," in append
    assert option(line, "-netdev", "id=data2") == ["tap,id=data2,fd=9"]


def test_cloud_image_boots_its_own_loader_with_a_seed():
    line = argv([TAP], kernel=None, initrd=None, seed="/run/g/server-seed.iso", mgmt_outbound=True)
    assert "-kernel" not in line and "-append" not in line and "-no-reboot" not in line
    assert "virtio-blk-pci,drive=root,addr=0x5,bootindex=0" in line
    assert "virtio-blk-pci,drive=seed,addr=0x6" in line
    assert option(line, "-netdev", "id=mgmt")[0].startswith("user,id=mgmt,restrict=off,")


def test_namespace_wraps_the_command():
    line = argv([TAP], netns="vnb-lab")
    assert line[:4] == ["ip", "netns", "exec", "vnb-lab"]


def test_append_comes_last_so_it_can_override():
    assert option(argv([TAP], append="init=/bin/false"), "-append")[0].endswith(" init=/bin/false")


@pytest.mark.parametrize("nics, kw, message", [
    ([], {}, "at least one data NIC"),
    ([dict(TAP, backend="e1000")], {}, "backend 'e1000' is not one of"),
    ([dict(TAP, mac="52:54:00")], {}, "is not a MAC address"),
    ([dict(TAP, address="198.18.0.1")], {}, "needs a prefix length"),
    ([dict(TAP, device="")], {}, "needs device"),
    ([dict(MACVTAP, queues=2)], {"fds": {0: 3}}, r"needs 2 open file descriptor\(s\) .* one per queue \(got 1\)"),
    ([TAP, dict(VHOST, mac=TAP["mac"])], {}, "every NIC needs its own MAC"),
    ([TAP], {"initrd": None}, "kernel and initrd go together"),
    ([TAP], {"name": "Bad Name"}, "guest name 'Bad Name' is invalid"),
    ([TAP], {"accelerator": "hvf"}, "accelerator 'hvf' is not kvm or tcg"),
    ([dict(TAP, name="a-very-long-interface-name")], {}, "guest interface name"),
])
def test_bad_configurations_are_refused(nics, kw, message):
    with pytest.raises(GuestError, match=message):
        argv(nics, **kw)


def test_stop_guest_kills_the_recorded_process_and_removes_its_files(tmp_path):
    state_dir = str(tmp_path / "guests")
    os.makedirs(state_dir)
    paths = guest_paths(state_dir, "server")
    # a stand-in whose command line names qemu and the state directory, as a real guest's does
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "qemu", state_dir])
    deadline = time.monotonic() + 10
    while not qemu.alive(proc.pid, state_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        qemu.write_record(paths, {"pid": proc.pid, "started": time.time()})
        for key in ("overlay", "pidfile"):
            open(paths[key], "w").close()
        assert qemu.guest_names(state_dir) == ["server"]
        assert qemu.stop_guest(state_dir, "server", check_mode=True) is True
        assert proc.poll() is None  # check mode touches nothing
        assert qemu.stop_all(state_dir) == []
        assert proc.wait(timeout=30) != 0  # terminated (no QMP socket answered)
        assert not any(os.path.exists(paths[k]) for k in ("overlay", "pidfile", "record"))
        assert qemu.stop_guest(state_dir, "server") is False  # idempotent
    finally:
        proc.kill()
        proc.wait()


def test_a_reused_pid_is_not_killed(tmp_path):
    state_dir = str(tmp_path / "guests")
    os.makedirs(state_dir)
    paths = guest_paths(state_dir, "client")
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with open(paths["record"], "w", encoding="utf-8") as handle:
            json.dump({"pid": proc.pid}, handle)
        assert qemu.stop_guest(state_dir, "client") is True  # the record is removed ...
        assert proc.poll() is None  # ... but another program's process is left alone
    finally:
        proc.kill()
        proc.wait()


def test_console_tail_starts_at_the_panic(tmp_path):
    log = tmp_path / "console.log"
    trace = [f"[    8.9{i:05d}] trace line {i}" for i in range(40)]
    log.write_text("\n".join(["early boot"] * 50 + ["[    8.9] Kernel panic - not syncing: Attempted to kill init!"]
                             + trace) + "\n")
    tail = qemu.console_tail(str(log)).splitlines()
    assert tail[0].endswith("Kernel panic - not syncing: Attempted to kill init!")
    assert len(tail) == 25
    log.write_text("\x1b[0;32mOK\x1b[0m line\r\n" + "\n".join(f"l{i}" for i in range(30)))
    assert qemu.console_tail(str(log), lines=3) == "l27\nl28\nl29"
    assert qemu.console_tail(str(tmp_path / "missing")) == "(no console output)"


DEVICES = [
    {"guest": "server", "backend": "virtio", "ifname": "vnbtap0", "address": "aa:aa:aa:aa:aa:01"},
    {"guest": "client", "backend": "virtio", "ifname": "vnbtap1", "address": "aa:aa:aa:aa:aa:02"},
    {"guest": "server", "backend": "macvtap", "ifname": "vnbmvt0", "chardev": "/run/v/lab/vnbmvt0",
     "address": "02:00:00:00:00:01"},
    {"guest": "client", "backend": "macvtap", "ifname": "vnbmvt1", "chardev": "/run/v/lab/vnbmvt1",
     "address": "02:00:00:00:00:02"},
]


def test_guest_nics_one_per_lab_device_with_fixed_tap_macs_and_the_macvtaps_own():
    nics = qemu.guest_nics(DEVICES, "client", 1, {"virtio": "198.18.0.2/24", "macvtap": "198.18.2.2/24"},
                           mtu=9000, queues=2, macvtap_vhost=True)
    assert nics == [
        {"backend": "virtio", "device": "vnbtap1", "mac": "52:54:00:be:00:02", "address": "198.18.0.2/24",
         "mtu": 9000, "queues": 2, "name": "data0", "vhost": False},
        {"backend": "macvtap", "device": "/run/v/lab/vnbmvt1", "mac": "02:00:00:00:00:02", "address": "198.18.2.2/24",
         "mtu": 9000, "queues": 2, "name": "data1", "vhost": True},
    ]
    # the whole list goes through build_argv without complaint (the macvtap opened once per queue)
    assert len(option(argv(nics, fds={1: [5, 6]}), "-device", "virtio-net-pci,netdev=data")) == 2
    single = qemu.guest_nics(DEVICES[:2], "server", 0, "198.18.0.1/24")
    assert [(n["name"], n["address"], n["mac"]) for n in single] == [("data0", "198.18.0.1/24", "52:54:00:be:00:01")]
    with pytest.raises(GuestError, match="no data address for backend macvtap"):
        qemu.guest_nics(DEVICES, "server", 0, {"virtio": "198.18.0.1/24"})
    with pytest.raises(GuestError, match="no lab device for guest third"):
        qemu.guest_nics(DEVICES, "third", 2, "198.18.0.3/24")


@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None or os.geteuid() != 0,
                    reason="needs QEMU and root (-runas)")
def test_launch_detaches_a_sandboxed_qemu_that_cannot_fork_and_returns_once_it_is_ready(tmp_path):
    """A real QEMU (no machine, no guest): started without -daemonize, in its own session, under spawn=deny, root
    dropped for nobody - launch returns its PID once QMP greets; a QEMU that refuses its options says why."""
    paths = guest_paths(str(tmp_path), "probe")
    base = ["qemu-system-x86_64", "-machine", "none", "-nodefaults", "-display", "none",
            "-qmp", f"unix:{paths['qmp']},server=on,wait=off", "-pidfile", paths["pidfile"]]
    pid = launch([*base, "-sandbox", SANDBOX_OPTS, "-runas", "nobody"], paths)
    try:
        assert os.getsid(pid) == pid and os.getsid(pid) != os.getsid(0)  # its own session: detached
        assert owner(pid) == pwd.getpwnam("nobody").pw_uid  # -runas done: launch waited for the end of init
        assert int(Path(paths["pidfile"]).read_text()) == pid
    finally:
        assert qmp_quit(paths["qmp"])
        for _attempt in range(100):
            if not Path(f"/proc/{pid}").exists():
                break
            time.sleep(0.05)
    with pytest.raises(GuestError, match=r"rc=1: qemu-system-x86_64: -no-such-option: invalid option"):
        launch([*base, "-no-such-option"], paths)
