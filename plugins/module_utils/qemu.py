# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One benchmark guest under QEMU: its files, its command line, and how it is stopped.

The one place that knows a guest's state files (overlay, pidfile, QMP socket, console log, record)
and QEMU's command line for every backend, accelerator and NIC list. The qemu_vm module boots and
stops guests with it; the watchdog's reaper stops them with the same code.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import time

from ansible_collections.volt.netbench.plugins.module_utils.backends import BACKENDS
from ansible_collections.volt.netbench.plugins.module_utils.procs import signal_if

NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
IFNAME_RE = re.compile(r"^[a-z][a-z0-9]{0,14}$")

# QEMU user networking's fixed guest address and gateway (the SSH port forward targets it).
MGMT_ADDRESS = "10.0.2.15/24"
MGMT_GATEWAY = "10.0.2.2"
MGMT_PCI_SLOT = 3
ROOT_PCI_SLOT = 5
SEED_PCI_SLOT = 6
# Data NICs, in list order: the first at slot 4 (where single-NIC guests always had it), then 7, 8, ...
DATA_PCI_SLOTS = (4, 7, 8, 9, 10, 11, 12, 13)
# A virtio RNG (QEMU's own entropy): without one a TCG guest (no RDRAND) waits seconds for its random pool before
# sshd starts; the built image loads virtio_rng from its initrd, a cloud image's udev loads it.
RNG_PCI_SLOT = 14
# PID 1 of the built image (roles/guest_image/files/build-image.sh).
GUEST_INIT = "/usr/local/sbin/volt-init"


class GuestError(Exception):
    """A guest's configuration cannot be turned into a QEMU command line."""


def guest_paths(state_dir: str, name: str) -> dict[str, str]:
    """The files of guest NAME under STATE_DIR."""
    return {
        "overlay": os.path.join(state_dir, f"{name}.qcow2"),
        "pidfile": os.path.join(state_dir, f"{name}.pid"),
        "qmp": os.path.join(state_dir, f"{name}.qmp"),
        "console": os.path.join(state_dir, f"{name}.console.log"),
        "record": os.path.join(state_dir, f"{name}.json"),
        # what QEMU itself prints (its errors at start)
        "log": os.path.join(state_dir, f"{name}.qemu.log"),
    }


def guest_names(state_dir: str) -> list[str]:
    """Names of the guests that have a record under STATE_DIR."""
    try:
        entries = os.listdir(state_dir)
    except OSError:
        return []
    return sorted(e[:-5] for e in entries if e.endswith(".json") and NAME_RE.match(e[:-5]))


def data_nic_name(index: int) -> str:
    """The guest-side name of the INDEXth data NIC: data0, data1, ..."""
    return f"data{index}"


def check_nic(nic: dict, index: int) -> None:
    """Raise GuestError when a data NIC entry is incomplete or inconsistent."""
    where = f"data NIC {index}"
    backend = nic.get("backend")
    if backend not in BACKENDS:
        raise GuestError(f"{where}: backend {backend!r} is not one of {', '.join(BACKENDS)}")
    for key in ("device", "mac", "address"):
        if not nic.get(key):
            raise GuestError(f"{where} ({backend}) needs {key}")
    if not MAC_RE.match(nic["mac"]):
        raise GuestError(f"{where}: mac {nic['mac']!r} is not a MAC address like 52:54:00:12:34:56")
    if "/" not in nic["address"]:
        raise GuestError(f"{where}: address {nic['address']!r} needs a prefix length (198.18.0.1/24)")
    name = nic.get("name") or data_nic_name(index)
    if not IFNAME_RE.match(name):
        raise GuestError(f"{where}: guest interface name {name!r} is invalid (a-z 0-9, at most 15)")


def kernel_cmdline(name: str, mgmt_mac: str, nics: list[dict], accelerator: str, append: str = "") -> str:
    """The direct-boot kernel command line: the guest's init reads its hostname and every NIC from it."""
    clock = ""
    if accelerator == "tcg":
        # under TCG the guest marks the TSC unstable and falls back to the HPET, whose every read is an
        # emulated MMIO access: boot takes much longer and every timestamp costs microseconds
        clock = "tsc=reliable clocksource=tsc "
    parts = [f"root=/dev/vda rw console=ttyS0 quiet loglevel=3 panic=-1 {clock}init={GUEST_INIT}",
             f"volt.hostname={name}",
             f"volt.nic={mgmt_mac.lower()},mgmt0,{MGMT_ADDRESS},1500,{MGMT_GATEWAY}"]
    for index, nic in enumerate(nics):
        parts.append(f"volt.nic={nic['mac'].lower()},{nic.get('name') or data_nic_name(index)},"
                     f"{nic['address']},{int(nic.get('mtu', 1500))}")
    if append:
        parts.append(append)
    return " ".join(parts)


def accel_args(accelerator: str, vcpus: int) -> list[str]:
    if accelerator == "kvm":
        return ["-accel", "kvm", "-cpu", "host", "-smp", str(vcpus)]
    if accelerator == "tcg":
        # QEMU 7.2 TCG drops memory barriers with max_cpus=1 and stalls virtio-net under load
        return ["-accel", "tcg,thread=multi", "-smp", f"{vcpus},maxcpus={max(2, vcpus)}"]
    raise GuestError(f"accelerator {accelerator!r} is not kvm or tcg")


def nic_args(nic: dict, index: int, fd: int | list[int] | None = None) -> list[str]:
    """-netdev and -device for one data NIC (tap with vhost off/on, or a macvtap's file descriptors: one per queue,
    each an open of its character device - libvirt's multi-queue macvtap)."""
    if index >= len(DATA_PCI_SLOTS):
        raise GuestError(f"at most {len(DATA_PCI_SLOTS)} data NICs")
    netdev_id = f"data{index}"
    queues = int(nic.get("queues", 1))
    if nic["backend"] == "macvtap":
        fds = [fd] if isinstance(fd, int) else list(fd or [])
        if len(fds) != queues:
            raise GuestError(f"data NIC {index} (macvtap) needs {queues} open file descriptor(s) of {nic['device']}, "
                             f"one per queue (got {len(fds)})")
        netdev = (f"tap,id={netdev_id},fd={fds[0]}" if queues == 1
                  else f"tap,id={netdev_id},fds={':'.join(str(f) for f in fds)}")
        if nic.get("vhost"):  # libvirt's default for type='direct' where /dev/vhost-net exists
            netdev += ",vhost=on"
    else:
        vhost = "on" if nic["backend"] == "vhost-net" else "off"
        netdev = f"tap,id={netdev_id},ifname={nic['device']},script=no,downscript=no,vhost={vhost}"
        if queues > 1:
            netdev += f",queues={queues}"
    device = f"virtio-net-pci,netdev={netdev_id},addr={DATA_PCI_SLOTS[index]:#x},mac={nic['mac']},romfile="
    if queues > 1:
        device += f",mq=on,vectors={2 * queues + 2}"
    return ["-netdev", netdev, "-device", device]


# QEMU's seccomp filter: obsolete system calls, resource control (scheduler/affinity changes) and spawning
# (fork, vfork, execve: an escaped guest starts no process) denied. QEMU is not started with -daemonize (whose fork
# spawn=deny forbids) but detached by :func:`launch`. Measured with QEMU 7.2 here: elevateprivileges=deny (and
# =children) kill QEMU at -runas's setuid, which comes after the filter is installed - root is dropped with -runas.
SANDBOX_OPTS = "on,obsolete=deny,resourcecontrol=deny,spawn=deny"
USER_RE = re.compile(r"^[a-z_][a-z0-9_-]{0,31}$")


def build_argv(*, qemu: str, name: str, paths: dict[str, str], accelerator: str, vcpus: int, memory_mb: int,
               nics: list[dict], mgmt_mac: str, ssh_port: int, mgmt_outbound: bool = False,
               kernel: str | None = None, initrd: str | None = None, append: str = "",
               seed: str | None = None, netns: str = "", fds: dict[int, int | list[int]] | None = None,
               sandbox: bool = True, runas: str = "") -> list[str]:
    """QEMU's command line for one guest.

    SANDBOX: QEMU's seccomp filter (SANDBOX_OPTS); RUNAS: the user QEMU drops to once it has opened its
    disks, NICs, sockets and console (QEMU runs as root to open taps and macvtaps; a guest that escapes its
    emulator then holds that user's rights, not root's).

    With KERNEL/INITRD the guest boots them directly and reads its configuration from the kernel
    command line; without them it boots the image's own boot loader (a cloud image with a SEED).
    FDS maps a macvtap NIC's index to the file descriptor(s) QEMU inherits for it (a list: one per queue).
    """
    if not NAME_RE.match(name):
        raise GuestError(f"guest name {name!r} is invalid: use a-z 0-9 - (starting with a letter, at most 31)")
    if not MAC_RE.match(mgmt_mac or ""):
        raise GuestError(f"mgmt_mac {mgmt_mac!r} is not a MAC address like 52:54:00:12:34:56")
    if not nics:
        raise GuestError("a guest needs at least one data NIC")
    if bool(kernel) != bool(initrd):
        raise GuestError("kernel and initrd go together: give both for direct boot, or neither to boot the "
                         "image's own boot loader")
    for index, nic in enumerate(nics):
        check_nic(nic, index)
    macs = [nic["mac"].lower() for nic in nics] + [mgmt_mac.lower()]
    if len(set(macs)) != len(macs):
        raise GuestError(f"guest {name}: every NIC needs its own MAC (got {', '.join(macs)})")
    if runas and not USER_RE.match(runas):
        raise GuestError(f"runas {runas!r} is not a user name (a-z 0-9 _ -, starting with a letter or _)")
    fds = fds or {}
    argv = [qemu, "-name", f"guest={name},debug-threads=on", "-machine", "pc", *accel_args(accelerator, vcpus),
            "-m", str(memory_mb), "-nodefaults", "-no-user-config", "-display", "none", "-vga", "none"]
    if sandbox:
        argv += ["-sandbox", SANDBOX_OPTS]
    if runas:
        argv += ["-runas", runas]
    if kernel:
        # a panic (init gone) ends QEMU at once instead of a reboot loop: the boot fails fast with its console
        argv += ["-kernel", kernel, "-initrd", initrd,
                 "-append", kernel_cmdline(name, mgmt_mac, nics, accelerator, append), "-no-reboot"]
    # the root disk first (vda, boot device), the seed second (vdb); no option ROMs (nothing boots from a NIC)
    argv += ["-drive", f"file={paths['overlay']},if=none,id=root,format=qcow2,cache=unsafe",
             "-device", f"virtio-blk-pci,drive=root,addr={ROOT_PCI_SLOT:#x}" + ("" if kernel else ",bootindex=0")]
    if seed:
        argv += ["-drive", f"file={seed},if=none,id=seed,format=raw,readonly=on",
                 "-device", f"virtio-blk-pci,drive=seed,addr={SEED_PCI_SLOT:#x}"]
    restrict = "off" if mgmt_outbound else "on"
    argv += ["-netdev", f"user,id=mgmt,restrict={restrict},hostfwd=tcp:127.0.0.1:{int(ssh_port)}-:22",
             "-device", f"virtio-net-pci,netdev=mgmt,addr={MGMT_PCI_SLOT:#x},mac={mgmt_mac},romfile="]
    for index, nic in enumerate(nics):
        argv += nic_args(nic, index, fds.get(index))
    argv += ["-device", f"virtio-rng-pci,addr={RNG_PCI_SLOT:#x}"]
    argv += ["-serial", f"file:{paths['console']}",
             "-qmp", f"unix:{paths['qmp']},server=on,wait=off",
             "-pidfile", paths["pidfile"]]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    return argv


def alive(pid: int, state_dir: str) -> bool:
    """True when PID is running and is the QEMU of this state directory (not a reused PID)."""
    try:
        with open(f"/proc/{int(pid)}/cmdline", "rb") as handle:
            cmdline = handle.read().decode(errors="replace")
    except (OSError, ValueError):
        return False
    return state_dir in cmdline and "qemu" in cmdline


def read_record(paths: dict[str, str]) -> dict | None:
    try:
        with open(paths["record"], encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def write_record(paths: dict[str, str], record: dict) -> None:
    with open(paths["record"], "w", encoding="utf-8") as handle:
        json.dump(record, handle)


def recorded_pid(paths: dict[str, str]) -> int | None:
    """The guest's PID from its record, else its pidfile (QEMU removes the pidfile when it exits)."""
    record = read_record(paths)
    if record and record.get("pid"):
        return int(record["pid"])
    try:
        with open(paths["pidfile"], encoding="utf-8") as handle:
            return int(handle.read().strip())
    except (OSError, ValueError):
        return None


def console_tail(path: str, lines: int = 25) -> str:
    """The last LINES lines of a console log; from the kernel's panic line on when it panicked."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16384))
            text = handle.read().decode(errors="replace")
    except OSError:
        return "(no console output)"
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text).replace("\r", "")
    all_lines = text.splitlines()
    panic = [i for i, line in enumerate(all_lines) if "Kernel panic" in line]
    if panic:  # the reason first, then as much of the trace as fits
        return "\n".join(all_lines[panic[-1]:panic[-1] + lines])
    return "\n".join(all_lines[-lines:]) or "(no console output)"


def launch(argv: list[str], paths: dict[str, str], fds=(), timeout: float = 60.0) -> int:
    """Start QEMU (ARGV from :func:`build_argv`) detached from the caller - its own session, no inherited
    descriptor but FDS, its output in the guest's log - and return its PID once it is initialised: its QMP
    monitor answers a command (:func:`qmp_ready`). GuestError with QEMU's own words when it exits first, or is not
    ready within TIMEOUT."""
    import subprocess  # pylint: disable=import-outside-toplevel

    with open(paths["log"], "wb") as log:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
                                pass_fds=tuple(fds), close_fds=True, start_new_session=True)
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise GuestError(f"rc={proc.returncode}: {log_tail(paths['log']) or 'QEMU printed nothing'}")
        if os.path.exists(paths["qmp"]) and qmp_ready(paths["qmp"]):
            return proc.pid
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise GuestError(f"QEMU was not ready within {timeout:g} s: {log_tail(paths['log'])}")
        time.sleep(0.05)


def log_tail(path: str, limit: int = 2000) -> str:
    try:
        with open(path, "rb") as handle:
            return handle.read()[-limit:].decode(errors="replace").strip()
    except OSError:
        return ""


def qmp_ready(sock_path: str, timeout: float = 5.0) -> bool:
    """Whether QEMU has finished starting: its QMP monitor answers query-status. The greeting alone says less - the
    monitor's own I/O thread sends it while QEMU may still be setting up (before -runas drops root, measured); a
    command is dispatched from QEMU's main loop, which runs once everything is set up."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(sock_path)
            reader = sock.makefile("rb")
            if b"QMP" not in reader.readline():
                return False
            for command in (b'{"execute": "qmp_capabilities"}\n', b'{"execute": "query-status"}\n'):
                sock.sendall(command)
                line = reader.readline()
                while line and b'"event"' in line:  # events may come before the answer
                    line = reader.readline()
                if b'"return"' not in line:
                    return False
            return True
    except OSError:
        return False


def qmp_quit(sock_path: str, timeout: float = 3.0) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(sock_path)
            sock.recv(4096)
            sock.sendall(b'{"execute": "qmp_capabilities"}\n')
            sock.recv(4096)
            sock.sendall(b'{"execute": "quit"}\n')
            sock.recv(4096)
        return True
    except OSError:
        return False


def stop_guest(state_dir: str, name: str, check_mode: bool = False) -> bool:
    """Stop guest NAME (QMP quit, SIGTERM, SIGKILL by its recorded PID) and remove its files.

    Returns whether anything was (or, in check mode, would be) changed. Raises GuestError when the
    process survives SIGKILL. The console log is kept (the caller removes the state directory).
    """
    paths = guest_paths(state_dir, name)
    changed = False
    pid = recorded_pid(paths)
    if pid and alive(pid, state_dir):
        changed = True
        if check_mode:
            return changed
        qmp_quit(paths["qmp"])
        for sig, wait in ((None, 5.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            # only while the PID is still this state directory's QEMU (pinned, then checked, then signalled)
            if sig is not None and not signal_if(pid, sig, lambda p: alive(p, state_dir)):
                break
            deadline = time.monotonic() + wait
            while alive(pid, state_dir) and time.monotonic() < deadline:
                time.sleep(0.1)
            if not alive(pid, state_dir):
                break
        if alive(pid, state_dir):
            raise GuestError(f"QEMU {pid} of guest {name} survived SIGKILL")
    for key in ("overlay", "pidfile", "qmp", "record"):
        if os.path.lexists(paths[key]):
            changed = True
            if not check_mode:
                os.unlink(paths[key])
    return changed


def stop_all(state_dir: str) -> list[str]:
    """Stop every recorded guest under STATE_DIR; returns the errors (empty when all stopped)."""
    errors = []
    for name in guest_names(state_dir):
        try:
            stop_guest(state_dir, name)
        except GuestError as err:
            errors.append(str(err))
    return errors


def tap_mac(backend: str, guest_index: int) -> str:
    """The fixed MAC of a guest's tap NIC for BACKEND (macvtap NICs use the macvtap's own MAC)."""
    return f"52:54:00:be:{BACKENDS.index(backend):02x}:{guest_index + 1:02x}"


def guest_nics(devices: list[dict], guest: str, guest_index: int, addresses: dict | str, mtu: int = 1500,
               queues: int = 1, macvtap_vhost: bool = False) -> list[dict]:
    """The data NICs of guest GUEST, one per lab device host_network built for it, in the devices' order.

    DEVICES are host_network_devices entries (guest, backend, ifname, chardev, address); ADDRESSES maps
    a backend to the guest's CIDR address on it (a plain string: the same for every backend, the
    single-backend case). A device may name its NIC's own ``mac`` and ``guest_address`` (two taps of one
    backend for one guest: the nested lab's two wires). MACVTAP_VHOST lets QEMU use vhost-net for macvtap
    queues (libvirt's default for type='direct' where /dev/vhost-net exists).
    """
    nics = []
    for device in devices:
        if device.get("guest") != guest:
            continue
        backend = device.get("backend")
        if backend not in BACKENDS:
            raise GuestError(f"lab device {device.get('ifname', '?')} of guest {guest} has no known backend ({backend!r})")
        address = device.get("guest_address") or (
            addresses if isinstance(addresses, str) else (addresses or {}).get(backend))
        if not address:
            raise GuestError(f"guest {guest} has no data address for backend {backend}")
        macvtap = backend == "macvtap"
        nics.append({
            "backend": backend,
            "device": device.get("chardev") if macvtap else device.get("ifname"),
            "mac": device.get("mac") or (device.get("address") if macvtap else tap_mac(backend, guest_index)),
            "address": address,
            "mtu": int(mtu),
            "queues": int(queues),
            "name": data_nic_name(len(nics)),
            "vhost": bool(macvtap and macvtap_vhost),
        })
    if not nics:
        raise GuestError(f"no lab device for guest {guest}: run host_network first (host_network_devices)")
    return nics
