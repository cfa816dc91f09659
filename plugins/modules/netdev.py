#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: netdev
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Manage a network namespace, bridge, tap, veth or macvtap device with iproute2
description:
  - Creates, updates or removes one lab network object, optionally inside a network namespace,
    with C(ip -j) and argument lists (no shell).
  - Idempotent; reports C(changed) only when a command had to run; supports check mode and diff.
  - For macvtap devices it can also create a private character device node for QEMU from the
    device's own C(/sys/class/net/NAME/tapIFINDEX/dev) read inside its namespace, never by
    guessing C(/dev/tapN) (ifindexes are unique per namespace only).
  - Input is checked before any change; bad names, MTUs or a missing lower device are refused
    with a message saying what to change.
options:
  name:
    description: Interface name (1-15 characters of C([A-Za-z0-9_.-])), or the namespace name for O(kind=netns).
    type: str
    required: true
  kind:
    description: What to manage.
    type: str
    required: true
    choices: [netns, bridge, tap, veth, macvtap, macvlan, existing]
  state:
    description:
      - C(present) creates or updates, C(absent) removes (a namespace with everything in it).
      - O(kind=existing) manages a device the module never creates or deletes (an uplink NIC);
        C(present) sets its master/MTU/state, C(absent) only detaches it from its bridge.
    type: str
    default: present
    choices: [present, absent]
  netns:
    description: Namespace the device lives in; empty for the root namespace. Ignored for O(kind=netns).
    type: str
    default: ""
  mtu:
    description: MTU (68-65535). Unset leaves the kernel's default.
    type: int
  master:
    description: Bridge to enslave the device to. Empty string detaches it.
    type: str
  up:
    description: Whether the link is administratively up.
    type: bool
    default: true
  addresses:
    description: IPv4/IPv6 addresses in CIDR form the device must have (others are left alone).
    type: list
    elements: str
    default: []
  link:
    description: Lower device of a macvtap or macvlan (in the same namespace, or in O(link_netns) for a macvlan).
    type: str
  link_netns:
    description:
      - For O(kind=macvlan), the namespace the lower device O(link) lives in when it is not O(netns) (empty
        for the root namespace). The macvlan is created there and moved into O(netns).
    type: str
  mode:
    description: macvtap or macvlan mode.
    type: str
    default: bridge
    choices: [bridge, vepa, private, passthru]
  macaddr:
    description: MAC address to set (macvtap, tap, veth).
    type: str
  peer:
    description: Name of the veth peer, created in the same namespace (or in O(peer_netns)).
    type: str
  peer_netns:
    description: For O(kind=veth), the namespace the peer is created in (it must exist); unset = O(netns).
    type: str
  kill:
    description:
      - For O(kind=netns) with O(state=absent), stop the processes left in the namespace (SIGTERM, then
        SIGKILL after 5 s) instead of failing on them - for namespaces whose servers the caller started.
    type: bool
    default: false
  multi_queue:
    description: Create the tap device with IFF_MULTI_QUEUE (for multi-queue virtio-net).
    type: bool
    default: false
  chardev:
    description:
      - For O(kind=macvtap), a path where a private character device node for the macvtap is kept
        (mode 0600), created from the device's major:minor. Removed with O(state=absent).
    type: path
attributes:
  check_mode:
    support: full
    description: Reports what would change, changes nothing.
  diff_mode:
    support: full
    description: Shows the device's state before and after.
notes:
  - Needs root (CAP_NET_ADMIN) and iproute2 with JSON output (C(ip -j)).
"""

EXAMPLES = r"""
- name: A namespace for the lab
  volt.netbench.netdev:
    name: vnb-lab
    kind: netns

- name: A bridge inside it
  volt.netbench.netdev:
    name: vnbbr0
    kind: bridge
    netns: vnb-lab
    mtu: 1500
    addresses: [198.18.0.254/24]

- name: A tap for the server guest, enslaved to the bridge
  volt.netbench.netdev:
    name: vnbtap0
    kind: tap
    netns: vnb-lab
    master: vnbbr0

- name: A macvtap on a lower device, with a private char device for QEMU
  volt.netbench.netdev:
    name: vnbmvt0
    kind: macvtap
    netns: vnb-lab
    link: vnbl0
    chardev: /dev/volt-netbench/vnb-lab/vnbmvt0.tap
"""

RETURN = r"""
device:
  description: State of the device after the task (empty when absent).
  returned: always
  type: dict
  contains:
    ifname:
      description: Interface name.
      type: str
    ifindex:
      description: Interface index inside its namespace.
      type: int
    kind:
      description: Device kind.
      type: str
    address:
      description: MAC address.
      type: str
    mtu:
      description: MTU.
      type: int
    master:
      description: Bridge the device is enslaved to.
      type: str
    up:
      description: Administratively up.
      type: bool
    addresses:
      description: Addresses in CIDR form.
      type: list
      elements: str
    tap_dev:
      description: C(major:minor) of a macvtap's character device.
      type: str
    chardev:
      description: Path of the private character device node.
      type: str
commands:
  description: The commands that ran (or would run in check mode).
  returned: always
  type: list
  elements: list
"""

import json
import os
import re
import signal
import stat
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.volt.netbench.plugins.module_utils.lab import MARK, is_marked, signal_netns

IFNAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,15}$")
NETNS_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,63}$")
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
KIND_OF = {"bridge": "bridge", "tap": "tun", "veth": "veth", "macvtap": "macvtap", "macvlan": "macvlan",
           "existing": None}


class NetDev:
    def __init__(self, module):
        self.module = module
        self.p = module.params
        self.ns = "" if self.p["kind"] == "netns" else self.p["netns"]
        self.commands = []
        self.changed = False
        # in check mode a namespace created by an earlier (skipped) task does not exist yet
        self.ns_pending = False

    # ---- helpers ------------------------------------------------------------------------
    def ip(self, *args, ns=None):
        ns = self.ns if ns is None else ns
        return ["ip"] + (["-n", ns] if ns else []) + list(args)

    def run(self, argv, *, mutate=True):
        if mutate:
            self.commands.append(argv)
            self.changed = True
            if self.module.check_mode:
                return ""
        rc, out, err = self.module.run_command(argv)
        if rc != 0:
            self.module.fail_json(msg=f"{' '.join(argv)} failed (rc={rc}): {err.strip() or out.strip()}",
                                  commands=self.commands)
        return out

    def netns_list(self):
        out = self.run(["ip", "-j", "netns", "list"], mutate=False).strip()
        return {entry["name"] for entry in json.loads(out)} if out else set()

    def netns_pids(self, name):
        """The processes left in namespace NAME."""
        return self.run(["ip", "netns", "pids", name], mutate=False).split()

    def link(self, name, ns=None):
        rc, out, _err = self.module.run_command(self.ip("-j", "-d", "link", "show", "dev", name, ns=ns))
        if rc != 0 or not out.strip():
            return None
        link = json.loads(out)[0]
        rc, out, _err = self.module.run_command(self.ip("-j", "addr", "show", "dev", name, ns=ns))
        addrs = []
        if rc == 0 and out.strip():
            for info in json.loads(out)[0].get("addr_info", []):
                if info.get("scope") == "link" and info.get("family") == "inet6":
                    continue
                addrs.append(f"{info['local']}/{info['prefixlen']}")
        linkinfo = link.get("linkinfo") or {}
        info_data = linkinfo.get("info_data") or {}
        return {
            "ifname": link["ifname"],
            "ifindex": link["ifindex"],
            "kind": linkinfo.get("info_kind", ""),
            "tun_type": info_data.get("type", ""),
            "multi_queue": bool(info_data.get("multi_queue", False)),
            "mode": info_data.get("mode", ""),
            "link": link.get("link", ""),
            "address": link.get("address", ""),
            "mtu": link.get("mtu"),
            "master": link.get("master", ""),
            "up": "UP" in link.get("flags", []),
            "addresses": addrs,
            "marked": is_marked(link),
        }

    def public(self, dev):
        if dev is None:
            return {}
        keep = ("ifname", "ifindex", "kind", "address", "mtu", "master", "up", "addresses")
        out = {k: dev[k] for k in keep}
        if dev["kind"] in ("macvtap", "macvlan"):
            out.update(mode=dev["mode"], link=dev["link"])
        if dev.get("tap_dev"):
            out["tap_dev"] = dev["tap_dev"]
        if self.p.get("chardev"):
            out["chardev"] = self.p["chardev"]
        return out

    # ---- validation ---------------------------------------------------------------------
    def validate(self):
        p = self.p
        name = p["name"]
        if p["kind"] == "netns":
            if not NETNS_RE.match(name):
                self.module.fail_json(msg=f"namespace name {name!r} is invalid: use 1-64 characters of A-Z a-z 0-9 _ . - "
                                      "not starting with '.'")
            return
        if not IFNAME_RE.match(name) or name in (".", ".."):
            self.module.fail_json(msg=f"interface name {name!r} is invalid: use 1-15 characters of A-Z a-z 0-9 _ . -")
        if self.ns and not NETNS_RE.match(self.ns):
            self.module.fail_json(msg=f"namespace name {self.ns!r} is invalid: use 1-64 characters of A-Z a-z 0-9 _ . - "
                                  "not starting with '.'")
        for key in ("master", "link", "peer"):
            value = p.get(key)
            if value and (not IFNAME_RE.match(value) or value in (".", "..")):
                self.module.fail_json(msg=f"{key} {value!r} is not a valid interface name: use 1-15 characters of "
                                      "A-Z a-z 0-9 _ . -")
        if p["mtu"] is not None and not 68 <= p["mtu"] <= 65535:
            self.module.fail_json(msg=f"mtu {p['mtu']} is out of range: use 68-65535")
        if p["macaddr"] and not MAC_RE.match(p["macaddr"]):
            self.module.fail_json(msg=f"macaddr {p['macaddr']!r} is not a MAC address like 52:54:00:12:34:56")
        for key, kind in (("peer_netns", "veth"), ("link_netns", "macvlan")):
            if p[key] is not None and p["kind"] != kind:
                self.module.fail_json(msg=f"{key} is only for kind={kind}")
            if p[key] and not NETNS_RE.match(p[key]):
                self.module.fail_json(msg=f"{key} {p[key]!r} is not a namespace name: use 1-64 characters of "
                                      "A-Z a-z 0-9 _ . - not starting with '.'")
        if p["kill"] and (p["kind"] != "netns" or p["state"] != "absent"):
            self.module.fail_json(msg="kill is only for kind=netns with state=absent")
        if p["state"] == "present":
            if p["kind"] in ("macvtap", "macvlan") and not p["link"]:
                self.module.fail_json(msg=f"kind={p['kind']} needs link: the lower device the {p['kind']} sits on")
            if p["kind"] == "veth" and not p["peer"]:
                self.module.fail_json(msg="kind=veth needs peer: the name of the other end")
            if p["chardev"] and p["kind"] != "macvtap":
                self.module.fail_json(msg="chardev is only for kind=macvtap")
            for ns in {self.ns, p["peer_netns"] or "", p["link_netns"] or ""} - {""}:
                if ns not in self.netns_list():
                    if not self.module.check_mode:
                        self.module.fail_json(msg=f"namespace {ns} does not exist: create it first (kind=netns)")
                    self.ns_pending = True
            if self.ns_pending:
                return
            if p["kind"] == "existing" and self.link(p["name"]) is None:
                self.module.fail_json(msg=f"device {p['name']} does not exist: name an existing NIC (see 'ip -br link')")
            if p["kind"] == "existing" and p["master"]:
                self.check_uplink(self.link(p["name"]))
            lower_ns = self.lower_ns()
            if p["kind"] in ("macvtap", "macvlan") and self.link(p["link"], ns=lower_ns) is None:
                where = f"namespace {lower_ns}" if lower_ns else "the root namespace"
                self.module.fail_json(msg=f"lower device {p['link']} does not exist in {where}: create it or name "
                                      "an existing NIC")
            if p["master"]:
                master = self.link(p["master"])
                if master is None or master["kind"] != "bridge":
                    self.module.fail_json(msg=f"master {p['master']} is not a bridge in "
                                          f"{('namespace ' + self.ns) if self.ns else 'the root namespace'}")
        for addr in p["addresses"]:
            if not re.match(r"^[0-9a-fA-F:.]+/\d{1,3}$", addr):
                self.module.fail_json(msg=f"address {addr!r} is not in CIDR form like 198.18.0.1/24")

    def check_uplink(self, dev):
        """Refuse to enslave a NIC that carries an address or the default route: as a bridge port it would lose
        them, and with them this host's network - perhaps the SSH session Ansible runs over."""
        if dev["master"] == self.p["master"]:
            return  # already the bridge's port (an earlier run of this task)
        routes = self.run(self.ip("-j", "route", "show", "default", "dev", dev["ifname"]), mutate=False).strip()
        carries = []
        if dev["addresses"]:
            carries.append(f"addresses {', '.join(dev['addresses'])}")
        if routes and json.loads(routes):
            carries.append("the default route")
        if carries:
            self.module.fail_json(msg=f"{dev['ifname']} carries {' and '.join(carries)}: enslaving it to {self.p['master']} "
                                  "would cut this host's network (and perhaps Ansible's own connection). Name a "
                                  "NIC without addresses as the uplink, or none (the lab stays in its namespace).")

    # ---- netns --------------------------------------------------------------------------
    def netns(self):
        name = self.p["name"]
        exists = name in self.netns_list()
        before = {"netns": name} if exists else {}
        if exists and not (self.link("lo", ns=name) or {}).get("marked"):
            # someone else's namespace: its processes, devices and routes are not the lab's to adopt or delete
            self.module.fail_json(msg=f"namespace {name} exists and was not created by volt.netbench (its lo has no "
                                  f"'{MARK}' alias): name another namespace, or delete it yourself "
                                  f"(ip netns delete {name}) if it is a leftover")
        if self.p["state"] == "present" and not exists:
            self.run(["ip", "netns", "add", name])
            # the mark: what the lab may later adopt or delete
            self.run(["ip", "-n", name, "link", "set", "dev", "lo", "alias", MARK])
            if not self.module.check_mode:
                self.run(["ip", "-n", name, "link", "set", "lo", "up"], mutate=False)
        elif self.p["state"] == "absent" and exists:
            # processes of a lab that was just stopped (QEMU, SSH ProxyCommands) may take a moment to exit
            deadline = time.monotonic() + 10
            pids = self.netns_pids(name)
            if pids and self.p["kill"] and not self.module.check_mode:
                self.stop(name, pids)
                pids = self.netns_pids(name)
            while pids and time.monotonic() < deadline and not self.module.check_mode:
                time.sleep(0.2)
                pids = self.netns_pids(name)
            if pids:
                self.module.fail_json(msg=f"namespace {name} still has processes {', '.join(pids)}: stop them first")
            self.run(["ip", "netns", "delete", name])
            if not self.module.check_mode:
                self.wait(lambda: name not in self.netns_list(), f"namespace {name} to disappear")
        after = {"netns": name} if self.p["state"] == "present" else {}
        return before, after, {"netns": name} if self.p["state"] == "present" else {}

    def stop(self, name, pids):
        """SIGTERM the processes of namespace NAME, SIGKILL what is left after 5 s - each only while it is still
        in that namespace (a PID reused since it was listed is not signalled)."""
        self.changed = True
        for sig, grace in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 2.0)):
            self.commands.append(["kill", f"-{sig.name}", *pids])
            signal_netns(name, sig, pids)
            deadline = time.monotonic() + grace
            while pids and time.monotonic() < deadline:
                time.sleep(0.1)
                pids = self.netns_pids(name)
            if not pids:
                return

    def lower_ns(self):
        """The namespace of a macvtap's or macvlan's lower device."""
        return self.p["link_netns"] if self.p["kind"] == "macvlan" and self.p["link_netns"] is not None else self.ns

    def wait(self, predicate, what, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.1)
        self.module.fail_json(msg=f"timed out after {timeout:g}s waiting for {what}", commands=self.commands)

    # ---- links --------------------------------------------------------------------------
    def device(self):
        p = self.p
        name = p["name"]
        if self.ns_pending:
            self.create()
            self.update(None)
            return {}, {"ifname": name, "kind": p["kind"]}, {"ifname": name, "kind": p["kind"]}
        dev = self.link(name)
        before = self.public(dev)
        if p["state"] == "absent" and p["kind"] == "existing":
            if dev is not None and dev["master"]:
                self.run(self.ip("link", "set", "dev", name, "nomaster"))
            return before, self.public(self.link(name)) if not self.module.check_mode else before, {}
        if p["state"] == "absent":
            if dev is not None:
                self.check_kind(dev)
                self.check_mark(dev)
                self.run(self.ip("link", "delete", "dev", name))
                if not self.module.check_mode:
                    self.wait(lambda: self.link(name) is None, f"{name} to disappear")
            self.remove_chardev()
            return before, {}, {}
        if dev is None:
            self.create()
            dev = None if self.module.check_mode else self.link(name)
        else:
            self.check_kind(dev)
            self.check_mark(dev)
        self.update(dev)
        after_dev = self.link(name) if not self.module.check_mode else dev
        if after_dev is not None and p["kind"] == "macvtap":
            after_dev["tap_dev"] = self.tap_dev(after_dev)
            self.ensure_chardev(after_dev["tap_dev"])
        after = self.public(after_dev) if after_dev else {"ifname": name, "kind": p["kind"]}
        return before, after, after

    def check_kind(self, dev):
        want = KIND_OF[self.p["kind"]]
        if want is None:
            return
        if dev["kind"] != want or (self.p["kind"] == "tap" and dev["tun_type"] not in ("tap", "")):
            self.module.fail_json(msg=f"{dev['ifname']} exists but is a {dev['kind'] or 'physical'} device, not "
                                  f"{self.p['kind']}: pick another name or remove it")
        if self.p["state"] == "absent":
            return
        if self.p["kind"] in ("macvtap", "macvlan") and self.lower_ns() == self.ns and dev["link"] != self.p["link"]:
            self.module.fail_json(msg=f"{dev['ifname']} sits on {dev['link']}, not {self.p['link']}: remove it first")
        if self.p["kind"] == "tap" and dev["multi_queue"] != self.p["multi_queue"]:
            self.module.fail_json(msg=f"{dev['ifname']} multi_queue is {dev['multi_queue']}, requested "
                                  f"{self.p['multi_queue']}: remove it first")

    def check_mark(self, dev):
        """Refuse a device the lab did not create (no mark): adopting or deleting it would touch someone else's."""
        if not dev["marked"] and self.p["kind"] != "existing":
            where = f"namespace {self.ns}" if self.ns else "the root namespace"
            self.module.fail_json(msg=f"{dev['ifname']} exists in {where} and was not created by volt.netbench (no "
                                  f"'{MARK}' alias): pick another name, or remove it yourself "
                                  f"(ip {'-n ' + self.ns + ' ' if self.ns else ''}link delete {dev['ifname']}) if it is "
                                  "a leftover")

    def create(self):
        p = self.p
        name = p["name"]
        if p["kind"] == "bridge":
            self.run(self.ip("link", "add", "name", name, "type", "bridge"))
        elif p["kind"] == "tap":
            self.run(self.ip("tuntap", "add", "dev", name, "mode", "tap") + (["multi_queue"] if p["multi_queue"] else []))
        elif p["kind"] == "veth":
            peer_ns = ["netns", p["peer_netns"]] if p["peer_netns"] and p["peer_netns"] != self.ns else []
            self.run(self.ip("link", "add", "name", name, "type", "veth", "peer", "name", p["peer"], *peer_ns))
        elif p["kind"] == "macvtap":
            self.run(self.ip("link", "add", "link", p["link"], "name", name, "type", "macvtap", "mode", p["mode"]))
        elif p["kind"] == "macvlan":
            lower_ns = self.lower_ns()
            self.run(self.ip("link", "add", "link", p["link"], "name", name, "type", "macvlan", "mode", p["mode"],
                             ns=lower_ns))
            if lower_ns != self.ns:
                # into the namespace it serves (pid 1's namespace is the root one)
                self.run(self.ip("link", "set", "dev", name, "netns", self.ns or "1", ns=lower_ns))
        # the mark: what the lab may later adopt or delete (a veth's peer too)
        self.run(self.ip("link", "set", "dev", name, "alias", MARK))
        if p["kind"] == "veth":
            peer_ns = p["peer_netns"] if p["peer_netns"] is not None else self.ns
            self.run(self.ip("link", "set", "dev", p["peer"], "alias", MARK, ns=peer_ns))

    def update(self, dev):
        p = self.p
        name = p["name"]
        if p["macaddr"] and (dev is None or dev["address"].lower() != p["macaddr"].lower()):
            self.run(self.ip("link", "set", "dev", name, "address", p["macaddr"]))
        if p["kind"] in ("macvtap", "macvlan") and dev is not None and dev["mode"] != p["mode"]:
            self.run(self.ip("link", "set", "dev", name, "type", p["kind"], "mode", p["mode"]))
        if p["mtu"] is not None and (dev is None or dev["mtu"] != p["mtu"]):
            self.run(self.ip("link", "set", "dev", name, "mtu", str(p["mtu"])))
        if p["master"] is not None:
            current = dev["master"] if dev else ""
            if p["master"] and current != p["master"]:
                self.run(self.ip("link", "set", "dev", name, "master", p["master"]))
            elif not p["master"] and current:
                self.run(self.ip("link", "set", "dev", name, "nomaster"))
        have = set(dev["addresses"]) if dev else set()
        for addr in p["addresses"]:
            if addr not in have:
                self.run(self.ip("addr", "add", addr, "dev", name))
        if p["kind"] == "veth" and p["up"]:
            peer_ns = p["peer_netns"] if p["peer_netns"] is not None else self.ns
            peer = self.link(p["peer"], ns=peer_ns)
            if peer is None or not peer["up"]:
                self.run(self.ip("link", "set", "dev", p["peer"], "up", ns=peer_ns))
        if dev is None or dev["up"] != p["up"]:
            self.run(self.ip("link", "set", "dev", name, "up" if p["up"] else "down"))

    # ---- macvtap char device ------------------------------------------------------------
    def tap_dev(self, dev):
        # ip netns exec remounts /sys for the namespace, so this reads the right device
        prefix = ["ip", "netns", "exec", self.ns] if self.ns else []
        path = f"/sys/class/net/{dev['ifname']}/tap{dev['ifindex']}/dev"
        out = self.run(prefix + ["cat", path], mutate=False).strip()
        if not re.match(r"^\d+:\d+$", out):
            self.module.fail_json(msg=f"unexpected content of {path}: {out!r}")
        return out

    def ensure_chardev(self, majmin):
        path = self.p["chardev"]
        if not path:
            return
        major, minor = (int(x) for x in majmin.split(":"))
        want = os.makedev(major, minor)
        try:
            st = os.lstat(path)
            if stat.S_ISCHR(st.st_mode) and st.st_rdev == want and stat.S_IMODE(st.st_mode) == 0o600:
                return
        except FileNotFoundError:
            st = None
        self.commands.append(["mknod", "-m", "0600", path, "c", str(major), str(minor)])
        self.changed = True
        if self.module.check_mode:
            return
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        if st is not None:
            os.unlink(path)
        os.mknod(path, 0o600 | stat.S_IFCHR, want)
        os.chmod(path, 0o600)

    def remove_chardev(self):
        path = self.p.get("chardev")
        if path and os.path.lexists(path):
            self.commands.append(["rm", path])
            self.changed = True
            if not self.module.check_mode:
                os.unlink(path)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "kind": {"type": "str", "required": True,
                     "choices": ["netns", "bridge", "tap", "veth", "macvtap", "macvlan", "existing"]},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "netns": {"type": "str", "default": ""},
            "mtu": {"type": "int"},
            "master": {"type": "str"},
            "up": {"type": "bool", "default": True},
            "addresses": {"type": "list", "elements": "str", "default": []},
            "link": {"type": "str"},
            "mode": {"type": "str", "default": "bridge", "choices": ["bridge", "vepa", "private", "passthru"]},
            "macaddr": {"type": "str"},
            "peer": {"type": "str"},
            "peer_netns": {"type": "str"},
            "link_netns": {"type": "str"},
            "kill": {"type": "bool", "default": False},
            "multi_queue": {"type": "bool", "default": False},
            "chardev": {"type": "path"},
        },
        supports_check_mode=True,
    )
    if not module.get_bin_path("ip"):
        module.fail_json(msg="the ip command (iproute2) is not installed")
    netdev = NetDev(module)
    netdev.validate()
    if module.params["kind"] == "netns":
        before, after, device = netdev.netns()
    else:
        before, after, device = netdev.device()
    result = {"changed": netdev.changed, "device": device, "commands": netdev.commands}
    if module._diff:
        result["diff"] = {"before": before, "after": after}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
