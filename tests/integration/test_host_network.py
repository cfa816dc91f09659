"""roles/host_network with real devices, inside a namespace each test creates and removes.

Destructive only inside that namespace (and /dev/volt-netbench-test-*/ for the macvtap
character devices). Every step is asserted with `ip -j`.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT, run

PLAYBOOK = ROOT / "tests" / "integration" / "targets" / "host_network" / "playbook.yml"
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create network namespaces")


def netns_list() -> set[str]:
    out = subprocess.run(["ip", "-j", "netns", "list"], capture_output=True, text=True, check=True).stdout.strip()
    return {n["name"] for n in json.loads(out)} if out else set()


def links(ns: str) -> dict[str, dict]:
    out = subprocess.run(["ip", "-n", ns, "-j", "-d", "link", "show"], capture_output=True, text=True, check=True).stdout
    return {link["ifname"]: link for link in json.loads(out)}


def addrs(ns: str, dev: str) -> list[str]:
    out = subprocess.run(["ip", "-n", ns, "-j", "addr", "show", "dev", dev], capture_output=True, text=True,
                         check=True).stdout
    return [f"{a['local']}/{a['prefixlen']}" for a in json.loads(out)[0]["addr_info"] if a["family"] == "inet"]


def wait_gone(ns: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while ns in netns_list() and time.monotonic() < deadline:
        time.sleep(0.1)  # namespace teardown is asynchronous
    assert ns not in netns_list()


def recap(stdout: str) -> dict[str, int]:
    match = re.search(r"localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", stdout)
    assert match, stdout[-3000:]
    return dict(zip(("ok", "changed", "unreachable", "failed"), map(int, match.groups())))


@pytest.fixture
def lab(tmp_path, ansible_bin):
    ns = f"vnbtest-{os.getpid()}"
    chardir = Path(f"/dev/volt-netbench-test-{os.getpid()}")

    def play(backend, state, *extra, check=True):
        args = [ansible_bin / "ansible-playbook", PLAYBOOK, "-e", f"lab_netns={ns}", "-e", f"lab_backend={backend}",
                "-e", f"lab_state={state}", "-e", f"lab_chardev_dir={chardir}", "-e", "lab_mtu=1400",
                "-e", f"lab_devices_file={tmp_path / 'devices.json'}", *extra]
        return run(args, check=check)

    play.ns = ns
    play.chardir = chardir / ns
    play.devices = lambda: json.loads((tmp_path / "devices.json").read_text())
    assert ns not in netns_list()
    yield play
    subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
    subprocess.run(["rm", "-rf", str(chardir)], check=False)
    wait_gone(ns)


def test_bridge_and_taps(lab):
    ns = lab.ns
    # check mode on a clean host: reports changes, creates nothing
    assert recap(lab("virtio", "present", "--check").stdout)["changed"] > 0
    assert ns not in netns_list()

    first = lab("virtio", "present", "-e", "lab_bridge_address=198.18.0.254/24", "-e", "lab_multi_queue=true")
    assert recap(first.stdout)["changed"] > 0
    devs = links(ns)
    bridge = devs["vnbbr0"]
    assert bridge["linkinfo"]["info_kind"] == "bridge" and bridge["mtu"] == 1400 and "UP" in bridge["flags"]
    assert addrs(ns, "vnbbr0") == ["198.18.0.254/24"]
    for tap in ("vnbtap0", "vnbtap1"):
        info = devs[tap]
        assert info["linkinfo"]["info_kind"] == "tun"
        assert info["linkinfo"]["info_data"]["type"] == "tap"
        assert info["linkinfo"]["info_data"]["multi_queue"] is True
        assert info["master"] == "vnbbr0" and info["mtu"] == 1400 and "UP" in info["flags"]
    published = lab.devices()
    assert [(d["guest"], d["ifname"], d["backend"], d["netns"]) for d in published] == [
        ("server", "vnbtap0", "virtio", ns), ("client", "vnbtap1", "virtio", ns)]

    again = lab("virtio", "present", "-e", "lab_bridge_address=198.18.0.254/24", "-e", "lab_multi_queue=true")
    assert recap(again.stdout)["changed"] == 0
    assert recap(lab("virtio", "present", "--check", "-e", "lab_bridge_address=198.18.0.254/24",
                     "-e", "lab_multi_queue=true").stdout)["changed"] == 0

    assert recap(lab("virtio", "absent").stdout)["changed"] > 0
    wait_gone(ns)
    assert recap(lab("virtio", "absent").stdout)["changed"] == 0


def test_macvtap_on_a_veth_lower_device(lab):
    ns = lab.ns
    assert recap(lab("macvtap", "present", "--check").stdout)["changed"] > 0
    assert ns not in netns_list() and not lab.chardir.exists()

    assert recap(lab("macvtap", "present").stdout)["changed"] > 0
    devs = links(ns)
    assert devs["vnblow0"]["linkinfo"]["info_kind"] == "veth" and devs["vnblow0"]["mtu"] == 1400
    assert "UP" in devs["vnblow1"]["flags"]
    published = {d["guest"]: d for d in lab.devices()}
    for guest, name in (("server", "vnbmvt0"), ("client", "vnbmvt1")):
        info = devs[name]
        assert info["linkinfo"]["info_kind"] == "macvtap"
        assert info["linkinfo"]["info_data"]["mode"] == "bridge"
        assert info["link"] == "vnblow0" and info["mtu"] == 1400 and "UP" in info["flags"]
        # the private node carries the major:minor of *this* macvtap, read inside the namespace
        sysfs = subprocess.run(["ip", "netns", "exec", ns, "cat", f"/sys/class/net/{name}/tap{info['ifindex']}/dev"],
                               capture_output=True, text=True, check=True).stdout.strip()
        node = os.stat(lab.chardir / name)
        assert f"{os.major(node.st_rdev)}:{os.minor(node.st_rdev)}" == sysfs
        assert oct(node.st_mode & 0o777) == "0o600"
        assert published[guest]["chardev"] == str(lab.chardir / name)
        assert published[guest]["address"] == info["address"]
        assert published[guest]["tap_dev"] == sysfs

    assert recap(lab("macvtap", "present").stdout)["changed"] == 0
    assert recap(lab("macvtap", "absent").stdout)["changed"] > 0
    wait_gone(ns)
    assert not lab.chardir.exists()


@pytest.mark.parametrize(
    "extra, message",
    [
        (["-e", "host_network_bridge=averyveryverylongname"],
         "host_network: invalid settings: interface names must be 1-15 characters of A-Z a-z 0-9 _ . - and distinct "
         "(got averyveryverylongname, vnbtap0, vnbtap1)"),
        (["-e", "lab_mtu=70000"], "MTU 68-65535 (got 70000)"),
        (["-e", "host_network_tap_prefix=bad/"], "(got vnbbr0, bad/0, bad/1)"),
        (["-e", "lab_backend=vhost"],
         "value of host_network_backend must be one of: virtio, vhost-net, macvtap, got: vhost"),
    ],
)
def test_bad_input_is_refused_before_any_change(lab, extra, message):
    proc = lab("virtio", "present", *extra, check=False)
    assert proc.returncode != 0
    assert message in " ".join(proc.stdout.split()), proc.stdout[-3000:]
    assert lab.ns not in netns_list()


def test_bad_namespace_name(ansible_bin):
    proc = run([ansible_bin / "ansible-playbook", PLAYBOOK, "-e", "lab_netns=bad/ns", "-e", "lab_backend=virtio",
                "-e", "lab_state=present"], check=False)
    assert proc.returncode != 0
    assert "namespace 1-64 characters of A-Z a-z 0-9 _ . - (got 'bad/ns')" in " ".join(proc.stdout.split())


def test_macvtap_lower_device_must_exist(lab, ansible_bin):
    proc = run([ansible_bin / "ansible-playbook", PLAYBOOK, "-e", "lab_netns=", "-e", "lab_backend=macvtap",
                "-e", "lab_state=present", "-e", "host_network_macvtap_lower=vnbnosuch0",
                "-e", f"lab_chardev_dir={lab.chardir.parent}"], check=False)
    assert proc.returncode != 0
    assert ("lower device vnbnosuch0 does not exist in the root namespace: create it or name an existing NIC"
            in " ".join(proc.stdout.split()))
    root_links = subprocess.run(["ip", "-j", "link", "show"], capture_output=True, text=True, check=True).stdout
    assert "vnbmvt" not in root_links


def test_macvtap_without_lower_in_root_namespace(ansible_bin):
    proc = run([ansible_bin / "ansible-playbook", PLAYBOOK, "-e", "lab_netns=", "-e", "lab_backend=macvtap",
                "-e", "lab_state=present"], check=False)
    assert proc.returncode != 0
    assert ("host_network_backend=macvtap in the root namespace needs host_network_macvtap_lower"
            in " ".join(proc.stdout.split()))


def test_one_lab_for_several_backends(lab):
    """host_network_backends: a tap per guest for virtio and for vhost-net on the one bridge, a macvtap per
    guest on the namespace's veth; devices published per backend and guest; absent removes them all."""
    ns = lab.ns
    lab("virtio", "present", "-e", '{"lab_backends": ["virtio", "vhost-net", "macvtap"]}')
    found = links(ns)
    for name in ("vnbtap0", "vnbtap1", "vnbvtap0", "vnbvtap1"):
        assert found[name]["linkinfo"]["info_kind"] == "tun", name
        assert found[name]["master"] == "vnbbr0", name
    for name in ("vnbmvt0", "vnbmvt1"):
        assert found[name]["linkinfo"]["info_kind"] == "macvtap"
        assert (lab.chardir / name).is_char_device()
    assert {"vnbbr0", "vnblow0", "vnblow1"} <= set(found)
    devices = lab.devices()
    assert [(d["backend"], d["guest"], d["ifname"]) for d in devices] == [
        ("virtio", "server", "vnbtap0"), ("virtio", "client", "vnbtap1"),
        ("vhost-net", "server", "vnbvtap0"), ("vhost-net", "client", "vnbvtap1"),
        ("macvtap", "server", "vnbmvt0"), ("macvtap", "client", "vnbmvt1")]
    assert {d["lower"] for d in devices if d["backend"] == "macvtap"} == {"vnblow0"}
    assert {d["lower"] for d in devices if d["backend"] != "macvtap"} == {"vnbbr0"}
    # idempotent
    again = lab("virtio", "present", "-e", '{"lab_backends": ["virtio", "vhost-net", "macvtap"]}')
    assert recap(again.stdout)["changed"] == 0
    lab("virtio", "absent", "-e", '{"lab_backends": ["virtio", "vhost-net", "macvtap"]}')
    wait_gone(ns)
    assert not lab.chardir.exists()


TCP_ECHO = """import socket
s = socket.create_server(("198.18.3.1", 5201))
print("listening", flush=True)
c, peer = s.accept()
c.sendall(f"hello from {peer[0]}".encode())
c.close()
"""
TCP_HELLO = """import socket
c = socket.create_connection(("198.18.3.1", 5201), timeout=10)
print(c.recv(100).decode())
"""


def native_endpoints(ns: str) -> list[dict]:
    return [{"name": "server", "netns": f"{ns}-ns", "address": "198.18.3.1/24"},
            {"name": "client", "netns": f"{ns}-nc", "address": "198.18.3.2/24"}]


@pytest.mark.parametrize("backend, wiring", [("virtio", "veth"), ("macvtap", "macvlan")])
def test_native_endpoints_on_the_lab_wiring(lab, tmp_path, backend, wiring):
    """The native reference's two namespaces hang off the bridge (veth) or macvtap's lower device (macvlan),
    reach each other through it, and go - with a process left in one - when the lab is removed."""
    native = native_endpoints(lab.ns)
    extra = ("-e", json.dumps({"lab_native": native}))
    try:
        lab(backend, "present", *extra)
        second = lab(backend, "present", *extra)
        assert recap(second.stdout)["changed"] == 0, "idempotent"
        published = json.loads((tmp_path / "devices.json.native").read_text())
        assert [(d["name"], d["netns"], d["ifname"]) for d in published] == [
            ("server", f"{lab.ns}-ns", "data0"), ("client", f"{lab.ns}-nc", "data0")]
        for endpoint in native:
            data0 = links(endpoint["netns"])["data0"]
            assert data0["linkinfo"]["info_kind"] == wiring and data0["mtu"] == 1400
            assert addrs(endpoint["netns"], "data0") == [endpoint["address"]]
        lab_links = links(lab.ns)
        if wiring == "veth":
            assert lab_links["vnbnat0"]["master"] == "vnbbr0" and lab_links["vnbnat1"]["master"] == "vnbbr0"
        else:
            assert published[0]["lower"] == "vnblow0" and "vnbnat0" not in lab_links
        # the two endpoints reach each other over the lab wiring: a TCP exchange between their namespaces
        server = subprocess.Popen(["ip", "netns", "exec", f"{lab.ns}-ns", sys.executable, "-c", TCP_ECHO],
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "listening"
        client = subprocess.run(["ip", "netns", "exec", f"{lab.ns}-nc", sys.executable, "-c", TCP_HELLO],
                                capture_output=True, text=True, timeout=20, check=False)
        assert client.stdout.strip() == "hello from 198.18.3.2", client.stderr
        server.wait(timeout=10)
        # a server left running in an endpoint's namespace is stopped by the teardown
        sleeper = subprocess.Popen(["ip", "netns", "exec", f"{lab.ns}-ns", "sleep", "300"])
        lab(backend, "absent", *extra)
        assert sleeper.wait(timeout=15) != 0
        for endpoint in native:
            wait_gone(endpoint["netns"])
    finally:
        for endpoint in native:
            subprocess.run(["ip", "netns", "delete", endpoint["netns"]], capture_output=True, check=False)


def netdev(ansible_bin, args: dict):
    return run([ansible_bin / "ansible", "localhost", "-m", "volt.netbench.netdev", "-a", json.dumps(args), "-o"],
               check=False)


def test_only_what_the_lab_marked_is_adopted_or_deleted(lab, ansible_bin):
    """A namespace or device the lab did not create (no 'volt-netbench' alias) is refused before anything changes,
    and so is an uplink that carries an address."""
    subprocess.run(["ip", "netns", "add", lab.ns], check=True)
    subprocess.run(["ip", "-n", lab.ns, "link", "add", "vnbbr0", "type", "bridge"], check=True)
    before = set(links(lab.ns))
    proc = lab("virtio", "present", check=False)
    assert proc.returncode != 0
    assert (f"namespace {lab.ns} exists and was not created by volt.netbench (its lo has no 'volt-netbench' alias)"
            in " ".join(proc.stdout.split()))
    assert set(links(lab.ns)) == before, "nothing was added to someone else's namespace"
    proc = netdev(ansible_bin, {"name": lab.ns, "kind": "netns", "state": "absent", "kill": True})
    assert proc.returncode != 0 and lab.ns in netns_list(), "nor is it deleted"
    # marked as netdev marks the namespaces it creates; a device in it that netdev did not create is still refused
    subprocess.run(["ip", "-n", lab.ns, "link", "set", "dev", "lo", "alias", "volt-netbench"], check=True)
    proc = netdev(ansible_bin, {"name": "vnbbr0", "kind": "bridge", "netns": lab.ns, "state": "absent"})
    assert proc.returncode != 0 and "vnbbr0" in links(lab.ns)
    assert f"vnbbr0 exists in namespace {lab.ns} and was not created by volt.netbench" in proc.stdout
    made = netdev(ansible_bin, {"name": "vnbbr1", "kind": "bridge", "netns": lab.ns})
    assert made.returncode == 0, made.stdout
    assert links(lab.ns)["vnbbr1"].get("ifalias") == "volt-netbench"
    # an uplink with an address is not enslaved
    subprocess.run(["ip", "-n", lab.ns, "link", "add", "vnbup0", "type", "veth", "peer", "name", "vnbup1"], check=True)
    subprocess.run(["ip", "-n", lab.ns, "addr", "add", "198.18.9.1/24", "dev", "vnbup0"], check=True)
    proc = netdev(ansible_bin, {"name": "vnbup0", "kind": "existing", "netns": lab.ns, "master": "vnbbr1"})
    assert proc.returncode != 0 and "master" not in links(lab.ns)["vnbup0"]
    assert "vnbup0 carries addresses 198.18.9.1/24: enslaving it to vnbbr1 would cut this host's network" in proc.stdout
    subprocess.run(["ip", "-n", lab.ns, "addr", "flush", "dev", "vnbup0"], check=True)
    proc = netdev(ansible_bin, {"name": "vnbup0", "kind": "existing", "netns": lab.ns, "master": "vnbbr1"})
    assert proc.returncode == 0 and links(lab.ns)["vnbup0"]["master"] == "vnbbr1", proc.stdout
    proc = netdev(ansible_bin, {"name": lab.ns, "kind": "netns", "state": "absent"})
    assert proc.returncode == 0, proc.stdout
    wait_gone(lab.ns)


def test_the_macvtap_nodes_are_made_where_a_device_node_can_be_opened(tmp_path):
    """A device node on a file system mounted nodev cannot be opened, even by root - systemd mounts /run so. The
    nested lab found it: the benchmark's macvtap nodes under /run/volt-netbench failed with EACCES on a hypervisor
    VM whose /run is such a tmpfs. They are made under /dev (devtmpfs) now."""
    sys.path.insert(0, str(ROOT / ".collections"))
    from ansible_collections.volt.netbench.plugins.module_utils.lab import DEV_ROOT, lab_paths

    null = os.stat("/dev/null").st_rdev
    run_like = tmp_path / "run"
    run_like.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs", str(run_like)], check=True)
    try:
        os.mknod(run_like / "node", 0o600 | 0o020000, null)
        with pytest.raises(PermissionError):
            open(run_like / "node", "rb").close()
    finally:
        subprocess.run(["umount", str(run_like)], check=True)
    chardev_dir = Path(lab_paths("vnb-lab")["chardev_dir"])
    assert chardev_dir == Path(DEV_ROOT) / "vnb-lab"
    # the mount that holds it allows device nodes, and a node there opens
    mounts = [line.split() for line in Path("/proc/self/mountinfo").read_text().splitlines()]
    holder = max((m for m in mounts if str(chardev_dir).startswith(m[4].rstrip("/") + "/")), key=lambda m: len(m[4]))
    assert "nodev" not in holder[5].split(","), holder
    probe = Path(f"{DEV_ROOT}-test-{os.getpid()}")
    probe.mkdir(mode=0o700)
    try:
        os.mknod(probe / "node", 0o600 | 0o020000, null)
        open(probe / "node", "rb").close()
    finally:
        (probe / "node").unlink(missing_ok=True)
        probe.rmdir()
