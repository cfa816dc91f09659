#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: qemu_vm
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Boot or stop one benchmark guest under QEMU, with a management and a data NIC
description:
  - Starts a detached QEMU guest from a copy-on-write overlay of a base image, with a pidfile, a QMP
    socket, a serial console log and QEMU's own log, all under O(state_dir). QEMU is not started with
    C(-daemonize) - the module detaches it (its own session, no inherited descriptor) and returns once its QMP
    monitor greets, so that the sandbox can forbid it to fork or exec.
  - With O(kernel) and O(initrd) the guest boots them directly (the image the
    P(volt.netbench.guest_image#role) role builds) and gets its data address from the kernel command line.
    Without them it boots the image's own boot loader through the firmware (a cloud image), usually
    with a cloud-init NoCloud O(seed) that carries its configuration.
  - The management NIC is QEMU user networking with an SSH port forward on the hypervisor's
    loopback (inside O(netns) when set), so it works for every backend, macvtap included.
  - The data NIC is the backend under test. C(virtio) is a tap with C(vhost=off), C(vhost-net) the same
    tap with C(vhost=on) (refused when C(/dev/vhost-net) is missing, instead of QEMU's assertion),
    C(macvtap) the file descriptor of the macvtap's private character device, with its MAC.
  - With O(wait_ssh), waits until the guest's SSH server answers, up to O(boot_timeout) seconds; on
    timeout or an early QEMU exit it stops the guest and fails with the last console lines.
  - C(absent) asks QEMU to quit over QMP, then terminates and kills the recorded PID, and removes the
    overlay, sockets, pidfile and state of that guest.
options:
  name:
    description: Guest name (C(server), C(client) ...); also its hostname.
    type: str
    required: true
  state:
    description:
      - C(present) boots the guest if it is not running, C(absent) stops and removes it.
      - C(ready) waits for a running guest's SSH server (deadline O(boot_timeout) from its launch), so
        several guests can be launched with O(wait_ssh=false) and boot in parallel.
    type: str
    default: present
    choices: [present, absent, ready]
  state_dir:
    description: Directory for this lab's overlays, sockets, pidfiles and console logs.
    type: path
    required: true
  netns:
    description: Network namespace QEMU runs in (where the data device lives); empty for the root namespace.
    type: str
    default: ""
  base_image:
    description: Base qcow2 image; the guest writes to an overlay on top of it.
    type: path
  kernel:
    description: Kernel for direct boot; omit it (and O(initrd)) to boot the image's own boot loader.
    type: path
  initrd:
    description: Initrd for direct boot.
    type: path
  append:
    description: Extra kernel command line arguments (direct boot only).
    type: str
    default: ""
  seed:
    description:
      - A cloud-init NoCloud seed image (volume label C(cidata), e.g. made by C(cloud-localds)),
        attached read-only as the second virtio disk.
    type: path
  backend:
    description: Data NIC backend.
    type: str
    choices: [virtio, vhost-net, macvtap]
    default: virtio
  data_device:
    description: Tap device name (virtio, vhost-net) or macvtap character device path (macvtap).
    type: str
  data_mac:
    description: MAC of the data NIC (for macvtap it must be the macvtap's own MAC).
    type: str
  data_address:
    description:
      - Data address in CIDR form. With direct boot it is passed on the kernel command line, where the
        built image's init (volt-init) applies it; a cloud image gets it from its O(seed).
    type: str
  data_mtu:
    description: MTU of the guest's data NIC.
    type: int
    default: 1500
  queues:
    description: Queues of the data NIC (virtio-net C(mq=on); a tap needs C(multi_queue), a macvtap is opened once
      per queue).
    type: int
    default: 1
  data_nics:
    description:
      - Several data NICs, one per backend under test, in this order (guest names C(data0), C(data1), ...
        unless C(name) is given). When set, O(backend), O(data_device), O(data_mac), O(data_address),
        O(data_mtu) and O(queues) are ignored.
      - With direct boot every NIC is named and addressed by the guest's init from the kernel command line.
    type: list
    elements: dict
    suboptions:
      backend:
        description: C(virtio), C(vhost-net) or C(macvtap).
        type: str
        required: true
        choices: [virtio, vhost-net, macvtap]
      device:
        description: Tap device name (virtio, vhost-net) or macvtap character device path (macvtap).
        type: str
        required: true
      mac:
        description: MAC of the NIC (for macvtap the macvtap's own MAC).
        type: str
        required: true
      address:
        description: Guest address in CIDR form.
        type: str
        required: true
      mtu:
        description: MTU of the guest NIC.
        type: int
        default: 1500
      queues:
        description: Queues (a tap needs C(multi_queue), a macvtap is opened once per queue).
        type: int
        default: 1
      name:
        description: Guest-side interface name (default C(data<index>)).
        type: str
      vhost:
        description: For macvtap, let QEMU use vhost-net for the macvtap's queue (needs C(/dev/vhost-net)).
        type: bool
        default: false
  ssh_port:
    description: Loopback port forwarded to the guest's SSH server.
    type: int
  mgmt_mac:
    description: MAC of the management NIC.
    type: str
  sandbox:
    description:
      - Run QEMU under its seccomp sandbox (C(-sandbox on,obsolete=deny,resourcecontrol=deny,spawn=deny)).
      - C(elevateprivileges) stays allowed - QEMU 7.2 installs the filter before O(runas)'s setuid, which
        C(elevateprivileges=deny) (and C(=children)) would kill.
      - Off only for a QEMU built without seccomp support.
    type: bool
    default: true
  runas:
    description:
      - The user QEMU drops to (C(-runas)) once it has opened its disks, NICs, sockets and console; empty keeps
        root. The user must exist on the hypervisor (for example C(nobody)).
    type: str
    default: ""
  mgmt_outbound:
    description:
      - Let the guest open connections through the management NIC (QEMU user networking C(restrict=off)),
        to the hypervisor's loopback as 10.0.2.2 and to whatever the hypervisor, or its namespace, can reach.
        Needed when cloud-init installs packages from a mirror. Off by default, so only the SSH
        port forward reaches the guest and the guest reaches nothing.
    type: bool
    default: false
  vcpus:
    description: Virtual CPUs.
    type: int
    default: 1
  memory_mb:
    description: Guest RAM in MiB.
    type: int
    default: 1024
  accelerator:
    description: C(kvm), or C(tcg) with the QEMU 7.2 safe flags (C(thread=multi), C(maxcpus) of at least 2).
    type: str
    choices: [kvm, tcg]
    default: tcg
  qemu_binary:
    description: QEMU system emulator.
    type: str
    default: qemu-system-x86_64
  wait_ssh:
    description: Wait for the guest's SSH server to answer.
    type: bool
    default: true
  boot_timeout:
    description: Seconds to wait for SSH.
    type: float
    default: 180
attributes:
  check_mode:
    support: full
    description: Reports whether a guest would be started or stopped.
  diff_mode:
    support: none
    description: Not supported.
notes:
  - Needs root for the tap/macvtap devices and network namespaces.
"""

EXAMPLES = r"""
- name: Boot the server guest on tap vnbtap0 inside the lab namespace
  volt.netbench.qemu_vm:
    name: server
    state_dir: /run/volt-netbench/guests/vnb-lab
    netns: vnb-lab
    base_image: /var/cache/volt-netbench/images/abc123/disk.qcow2
    kernel: /var/cache/volt-netbench/images/abc123/vmlinuz
    initrd: /var/cache/volt-netbench/images/abc123/initrd.img
    backend: virtio
    data_device: vnbtap0
    data_mac: "52:54:00:be:00:01"
    data_address: 198.18.0.1/24
    mgmt_mac: "52:54:00:fe:00:01"
    ssh_port: 10022

- name: Boot a lab's own cloud image through its boot loader, configured by a NoCloud seed
  volt.netbench.qemu_vm:
    name: client
    state_dir: /run/volt-netbench/guests/vnb-lab
    netns: vnb-lab
    base_image: /srv/images/debian-12-genericcloud-amd64.qcow2
    seed: /run/volt-netbench/guests/vnb-lab/client-seed.iso
    backend: virtio
    data_device: vnbtap1
    data_mac: "52:54:00:be:00:02"
    data_address: 198.18.0.2/24
    mgmt_mac: "52:54:00:fe:00:02"
    mgmt_outbound: true
    ssh_port: 10023
"""

RETURN = r"""
pid:
  description: PID of the QEMU process.
  returned: when present
  type: int
boot_seconds:
  description: Seconds from launch until SSH answered (0 when the guest was already running).
  returned: when present
  type: float
argv:
  description: The QEMU command line.
  returned: when present
  type: list
  elements: str
nics:
  description: The guest's data NICs (backend, device, mac, address, mtu, queues, name, vhost), in PCI order.
  returned: when present
  type: list
  elements: dict
console_log:
  description: Path of the serial console log.
  returned: always
  type: str
"""

import os
import pwd
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.volt.netbench.plugins.module_utils.backends import BACKENDS
from ansible_collections.volt.netbench.plugins.module_utils.qemu import (
    NAME_RE, GuestError, alive, build_argv, console_tail, guest_paths, launch, read_record, stop_guest,
    write_record)


def stop(module, state_dir, name):
    try:
        return stop_guest(state_dir, name, check_mode=module.check_mode)
    except GuestError as err:
        module.fail_json(msg=str(err))


def data_nics(prm):
    """The data NIC list: data_nics, or the single NIC of the backend/data_* options."""
    if prm["data_nics"]:
        return [dict(nic) for nic in prm["data_nics"]]
    for key in ("data_device", "data_mac", "data_address"):
        if prm[key] in (None, ""):
            raise GuestError(f"state=present needs {key} (or data_nics)")
    return [{"backend": prm["backend"], "device": prm["data_device"], "mac": prm["data_mac"],
             "address": prm["data_address"], "mtu": prm["data_mtu"], "queues": prm["queues"]}]


# How long one look for the SSH banner waits, at first and at most. A guest's sshd answers within a second once it
# listens - under TCG inside TCG (a nested lab) it takes longer than 2 s to fork and send its banner, and looks that
# gave up sooner only piled up pre-auth connections until sshd dropped every new one (MaxStartups): a look that
# connected but saw no banner in time waits twice as long the next time.
BANNER_WAIT_S = 2
BANNER_WAIT_MAX_S = 60


def ssh_banner(module, port, netns, wait=BANNER_WAIT_S):
    # -N: nothing to send (stdin is empty), so the look ends when sshd, having sent its banner, closes - not after
    # WAIT more seconds of silence
    argv = ["nc", "-N", "-w", str(int(wait)), "127.0.0.1", str(port)]
    if netns:
        argv = ["ip", "netns", "exec", netns, *argv]
    rc, out, _err = module.run_command(argv, data="", binary_data=True)
    return rc == 0 and out.startswith("SSH-")


def start(module, state_dir, p):
    prm = module.params
    name = prm["name"]
    for key in ("base_image", "ssh_port", "mgmt_mac"):
        if prm[key] in (None, ""):
            module.fail_json(msg=f"state=present needs {key}")
    for key in ("base_image", "kernel", "initrd", "seed"):
        if prm[key] and not os.path.isfile(prm[key]):
            module.fail_json(msg=f"{key} {prm[key]} does not exist: build the image first (volt.netbench.guest_image)")
    try:
        nics = data_nics(prm)
        # a dry build checks every NIC, MAC and option before anything exists
        build_argv(qemu=prm["qemu_binary"], name=name, paths=p, accelerator=prm["accelerator"],
                   vcpus=prm["vcpus"], memory_mb=prm["memory_mb"], nics=nics, mgmt_mac=prm["mgmt_mac"],
                   ssh_port=prm["ssh_port"], kernel=prm["kernel"], initrd=prm["initrd"],
                   fds={i: [-1] * int(nic.get("queues", 1)) for i, nic in enumerate(nics) if nic["backend"] == "macvtap"},
                   sandbox=prm["sandbox"], runas=prm["runas"])
    except GuestError as err:
        module.fail_json(msg=str(err))
    if prm["runas"]:
        try:
            pwd.getpwnam(prm["runas"])
        except KeyError:
            module.fail_json(msg=f"runas user {prm['runas']} does not exist on this host: name an existing "
                                 "unprivileged user (for example nobody), or leave runas empty to keep root")
    for nic in nics:
        if (nic["backend"] == "vhost-net" or nic.get("vhost")) and not os.path.exists("/dev/vhost-net"):
            module.fail_json(msg="backend vhost-net needs /dev/vhost-net, which does not exist: QEMU would abort on "
                             "vhost=on. Load vhost_net (modprobe vhost_net) or choose another backend.")
        if nic["backend"] == "macvtap" and not os.path.exists(nic["device"]):
            module.fail_json(msg=f"macvtap character device {nic['device']} does not exist: run host_network first")
    if module.check_mode:
        module.exit_json(changed=True, console_log=p["console"])

    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    for key in ("overlay", "pidfile", "qmp", "console"):
        if os.path.lexists(p[key]):
            os.unlink(p[key])
    module.run_command(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", prm["base_image"],
                        p["overlay"]], check_rc=True)
    fds: dict[int, list[int]] = {}
    try:
        for index, nic in enumerate(nics):
            if nic["backend"] == "macvtap":
                # one open of the macvtap's character device per queue
                fds[index] = []
                for _queue in range(int(nic.get("queues", 1))):
                    fds[index].append(os.open(nic["device"], os.O_RDWR))
                    os.set_inheritable(fds[index][-1], True)
        argv = build_argv(qemu=module.get_bin_path(prm["qemu_binary"], required=True), name=name, paths=p,
                          accelerator=prm["accelerator"], vcpus=prm["vcpus"], memory_mb=prm["memory_mb"],
                          nics=nics, mgmt_mac=prm["mgmt_mac"], ssh_port=prm["ssh_port"],
                          mgmt_outbound=prm["mgmt_outbound"], kernel=prm["kernel"], initrd=prm["initrd"],
                          append=prm["append"], seed=prm["seed"], netns=prm["netns"], fds=fds,
                          sandbox=prm["sandbox"], runas=prm["runas"])
        started = time.monotonic()
        # detached by launch, not -daemonize: the sandbox then forbids QEMU to fork or exec (spawn=deny)
        try:
            pid = launch(argv, p, fds=[fd for opened in fds.values() for fd in opened])
        except GuestError as err:
            stop(module, state_dir, name)
            module.fail_json(msg=f"QEMU for guest {name} failed to start ({err})", argv=argv,
                             console=console_tail(p["console"]))
    finally:
        for fd in (fd for opened in fds.values() for fd in opened):
            os.close(fd)
    write_record(p, {"pid": pid, "argv": argv, "ssh_port": prm["ssh_port"], "netns": prm["netns"],
                     "nics": nics, "started": time.time()})
    boot = wait_ready(module, state_dir, p, pid, started, argv) if prm["wait_ssh"] else 0.0
    module.exit_json(changed=True, pid=pid, boot_seconds=boot, argv=argv, nics=nics, console_log=p["console"])


def wait_ready(module, state_dir, p, pid, started, argv):
    """Wait for the SSH banner; on timeout or QEMU exit, stop the guest and fail with the console tail."""
    prm = module.params
    deadline = started + prm["boot_timeout"]
    wait = BANNER_WAIT_S
    while True:
        if not alive(pid, state_dir):
            console = console_tail(p["console"])
            stop(module, state_dir, prm["name"])
            module.fail_json(msg=f"QEMU for guest {prm['name']} exited during boot. Last console lines:\n{console}",
                             argv=argv)
        looked = time.monotonic()
        if ssh_banner(module, prm["ssh_port"], prm["netns"], wait):
            return round(time.monotonic() - started, 2)
        if time.monotonic() - looked >= wait:
            # connected, but no banner within WAIT (a refused connection returns at once)
            wait = min(2 * wait, BANNER_WAIT_MAX_S)
        if time.monotonic() > deadline:
            console = console_tail(p["console"])
            stop(module, state_dir, prm["name"])
            module.fail_json(msg=f"guest {prm['name']} did not answer on SSH within {prm['boot_timeout']:g}s; "
                             f"it was stopped. Last console lines:\n{console}", argv=argv)
        time.sleep(0.25)


def ready(module, state_dir, p):
    record = read_record(p)
    if not record:
        module.fail_json(msg=f"guest {module.params['name']} is not running: launch it first (state=present)",
                         console=console_tail(p["console"]))
    if not alive(record.get("pid", 0), state_dir):
        console = console_tail(p["console"])
        stop(module, state_dir, module.params["name"])
        module.fail_json(msg=f"QEMU for guest {module.params['name']} exited during boot. Last console lines:\n"
                         f"{console}", argv=record.get("argv", []))
    if module.check_mode:
        module.exit_json(changed=False, pid=record["pid"], boot_seconds=0.0, console_log=p["console"])
    # the record holds wall-clock launch time; convert to this process's monotonic clock
    started = time.monotonic() - (time.time() - record["started"])
    boot = wait_ready(module, state_dir, p, record["pid"], started, record.get("argv", []))
    module.exit_json(changed=False, pid=record["pid"], boot_seconds=boot, argv=record.get("argv", []),
                     console_log=p["console"])


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent", "ready"]},
            "state_dir": {"type": "path", "required": True},
            "netns": {"type": "str", "default": ""},
            "base_image": {"type": "path"},
            "kernel": {"type": "path"},
            "initrd": {"type": "path"},
            "append": {"type": "str", "default": ""},
            "seed": {"type": "path"},
            "backend": {"type": "str", "default": "virtio", "choices": list(BACKENDS)},
            "data_device": {"type": "str"},
            "data_mac": {"type": "str"},
            "data_address": {"type": "str"},
            "data_mtu": {"type": "int", "default": 1500},
            "queues": {"type": "int", "default": 1},
            "data_nics": {"type": "list", "elements": "dict", "options": {
                "backend": {"type": "str", "required": True, "choices": list(BACKENDS)},
                "device": {"type": "str", "required": True},
                "mac": {"type": "str", "required": True},
                "address": {"type": "str", "required": True},
                "mtu": {"type": "int", "default": 1500},
                "queues": {"type": "int", "default": 1},
                "name": {"type": "str"},
                "vhost": {"type": "bool", "default": False},
            }},
            "ssh_port": {"type": "int"},
            "mgmt_mac": {"type": "str"},
            "mgmt_outbound": {"type": "bool", "default": False},
            "sandbox": {"type": "bool", "default": True},
            "runas": {"type": "str", "default": ""},
            "vcpus": {"type": "int", "default": 1},
            "memory_mb": {"type": "int", "default": 1024},
            "accelerator": {"type": "str", "default": "tcg", "choices": ["kvm", "tcg"]},
            "qemu_binary": {"type": "str", "default": "qemu-system-x86_64"},
            "wait_ssh": {"type": "bool", "default": True},
            "boot_timeout": {"type": "float", "default": 180},
        },
        supports_check_mode=True,
    )
    name = module.params["name"]
    if not NAME_RE.match(name):
        module.fail_json(msg=f"guest name {name!r} is invalid: use a-z 0-9 - (starting with a letter, at most 31)")
    state_dir = module.params["state_dir"]
    p = guest_paths(state_dir, name)
    if module.params["state"] == "absent":
        changed = stop(module, state_dir, name)
        module.exit_json(changed=changed, console_log=p["console"])
    if module.params["state"] == "ready":
        if not module.params["ssh_port"]:
            module.fail_json(msg="state=ready needs ssh_port")
        ready(module, state_dir, p)
    record = read_record(p)
    if record and alive(record.get("pid", 0), state_dir):
        module.exit_json(changed=False, pid=record["pid"], boot_seconds=0.0, argv=record.get("argv", []),
                         nics=record.get("nics", []), console_log=p["console"])
    start(module, state_dir, p)


if __name__ == "__main__":
    main()
