# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab of hypervisor VMs on one machine (the nested_lab role): which VMs, on which ports and wire addresses,
and the inventory that reaches them.

Each hypervisor VM is a guest of this machine booted from the hypervisor image (the guest image's recipe plus
QEMU and what the hypervisor role installs): its management NIC is QEMU user networking whose SSH port is
forwarded on the loopback of the nested lab's namespace; its two data NICs are the wires between the VMs, as a pair of
real hypervisors has two NICs cabled to each other: ``data0`` a tap on one bridge of the nested lab (a cross-host
pair's bridge uplink, for virtio and vhost-net), ``data1`` a tap on a second bridge (macvtap's lower device: a
bridge port cannot carry macvtaps). A wire must carry frames of any MAC, as a cable does - the inner guests' own:
a bridge does; a macvtap on this side does not (it delivers only its own MAC - the first version's data1, which
left a pair's macvtap guests unable to reach each other). The controller reaches a VM through a ProxyCommand into
that namespace, with the VM's own host key checked strictly under a per-VM alias.

The ProxyCommand names the VM's port literally, not as ``%p``: the benchmark runs its guests' ProxyCommand
through the hypervisor's ssh (guest_inventory.proxy_command), and ssh would expand a ``%p`` there to the
guest's port."""

from __future__ import annotations

import ipaddress
import shlex
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.guest_inventory import checked

# At most this many hypervisor VMs: each takes 2 vCPUs and several GiB on the machine that runs them.
MAX_VMS = 4
# The wires between the VMs: subnets of the benchmarking range apart from the labs' own (198.18.0.0/22 with the
# defaults), so a hypervisor's NIC never holds an address of the lab it runs. The nested lab checks each wire with
# these addresses, then takes them off: a cross-host pair's labs enslave data0 to their bridges and put macvtaps
# on data1, and an uplink must carry no address (netdev refuses one).
WIRE = "198.19.255.0/24"
MACVTAP_WIRE = "198.19.254.0/24"
# Both wires are taps on bridges of this machine (host_network's virtio taps) whose VM NICs get MACs of their own:
# host_network's (52:54:00:be:00:0K) are the inner guests' too - hv1's data0 had the server guest's MAC, so the
# bridge on hv1 took the frames for the guest as its own and a cross-host pair's guests never reached each other
UPLINK_MAC = "52:54:00:ce:00:{:02x}"
LOWER_MAC = "52:54:00:ce:01:{:02x}"
# The NICs a cross-host pair of these VMs is wired by: data0 is the bridge's uplink, data1 macvtap's lower device
UPLINK, MACVTAP_LOWER = "data0", "data1"
NAME_PREFIX = "hv"
# Each VM's own host key, which the inventory pins (the image's ed25519 key is the same in every VM: the
# nested_lab role's own connections use it, the inventory's hosts are limited to this algorithm)
HOST_KEY_TYPE = "ecdsa-sha2-nistp256"


def vms(count: int, port_base: int, controller_dir: str, wire: str = WIRE,
        macvtap_wire: str = MACVTAP_WIRE) -> list[dict[str, Any]]:
    """The hypervisor VMs as qemu_guest_guests: ``hv1`` ... ``hvN`` with SSH ports PORT_BASE+1 ..., the
    addresses .1, .2 ... of WIRE (data0: its ``data_address``; ``uplink_nic``, the MAC its device names) and
    MACVTAP_WIRE (data1: ``lower_nic``, the MAC and address its device names), ``wire_addresses`` (NIC -> CIDR address, to check the wires) and their SSH
    control sockets in CONTROLLER_DIR (:func:`control_path`)."""
    count, port_base = int(count), int(port_base)
    if not 1 <= count <= MAX_VMS:
        raise ValueError(f"a nested lab has 1 to {MAX_VMS} hypervisor VMs, not {count}")
    if not 1024 <= port_base <= 65535 - count:
        raise ValueError(f"port_base {port_base} must leave {count} ports between 1025 and 65535")
    nets = [ipaddress.IPv4Network(w, strict=True) for w in (wire, macvtap_wire)]
    for net in nets:
        if not net.subnet_of(ipaddress.IPv4Network("198.18.0.0/15")):
            raise ValueError(f"the wire {net} must lie in the benchmarking range 198.18.0.0/15")
        if net.num_addresses - 2 < count:
            raise ValueError(f"the wire {net} has no room for {count} hypervisor VMs")
    if nets[0].overlaps(nets[1]):
        raise ValueError(f"the two wires {nets[0]} and {nets[1]} overlap: give each a subnet of its own")
    out = []
    for k in range(1, count + 1):
        addresses = [f"{net.network_address + k}/{net.prefixlen}" for net in nets]
        out.append({"name": f"{NAME_PREFIX}{k}", "ssh_port": port_base + k, "data_address": addresses[0],
                    "uplink_nic": {"mac": UPLINK_MAC.format(k)},
                    "lower_nic": {"mac": LOWER_MAC.format(k), "guest_address": addresses[1]},
                    "wire_addresses": dict(zip((UPLINK, MACVTAP_LOWER), addresses)),
                    "control_path": control_path(controller_dir, f"{NAME_PREFIX}{k}")})
    return out


def wire_checks(machines: list[dict[str, Any]]) -> list[dict[str, str]]:
    """The pings that show both wires carry frames between the VMs: from the first VM to every other, on each
    wire NIC (nothing to check with one VM)."""
    first = machines[0]
    return [{"vm": first["name"], "nic": nic, "target": other["wire_addresses"][nic].split("/")[0], "peer": other["name"]}
            for other in machines[1:] for nic in (UPLINK, MACVTAP_LOWER)]


def host_alias(lab: str, name: str) -> str:
    """The name a VM's host key is pinned under in the nested lab's known_hosts."""
    return f"volt-{checked(lab, 'lab')}-{checked(name, 'hypervisor VM')}"


def known_hosts(lab: str, keys: dict[str, str]) -> str:
    """The known_hosts of the nested lab: each VM's own host key (KEYS: name -> 'ssh-ed25519 AAAA...')."""
    lines = []
    for name, key in sorted(keys.items()):
        words = str(key).split()
        if len(words) < 2 or words[0] != HOST_KEY_TYPE:
            raise ValueError(f"{name}: {str(key)[:40]!r} is not an SSH public key of type {HOST_KEY_TYPE}")
        lines.append(f"{host_alias(lab, name)} {words[0]} {words[1]}")
    return "\n".join(lines) + "\n"


def control_path(controller_dir: str, name: str) -> str:
    """The SSH control socket of one VM's connections: a literal path (a %C would reach the guests'
    ProxyCommand, where ssh knows no such token) in the nested lab's directory, so its teardown can close the
    masters whose ProxyCommand still runs in the nested lab's namespace."""
    return f"{controller_dir}/cm-{checked(name, 'hypervisor VM')}"


def inventory(machines: list[dict[str, Any]], *, netns: str, lab: str, ssh_key: str, known_hosts_file: str,
              group: str = "hypervisors") -> dict[str, Any]:
    """The inventory a user passes to benchmark.yml (-i): GROUP with one host per VM, reached over SSH as root
    with SSH_KEY through a ProxyCommand into NETNS, its host key checked against KNOWN_HOSTS_FILE; each VM's
    lab in a namespace of its own name (the controller keeps one lab directory per namespace: a fleet of these
    VMs keeps its labs apart); its SSH control socket the VM's ``control_path``.

    With ``-e topology=cross_host`` a pair of these VMs is wired as a pair of real hosts is: their labs outside
    namespaces, on the NICs cabled to each other (benchmark_uplink data0, benchmark_macvtap_lower data1) - the
    inventory's lab variables are templates on benchmark_topology, so the one inventory serves both."""
    checked(netns, "namespace")
    hosts = {}
    for vm in machines:
        port = int(vm["ssh_port"])
        proxy = f"ProxyCommand=ip netns exec {netns} nc 127.0.0.1 {port}"
        args = " ".join([
            "-o " + shlex.quote(proxy),
            f"-o HostKeyAlias={host_alias(lab, vm['name'])}",
            f"-o HostKeyAlgorithms={HOST_KEY_TYPE}",
            f"-o UserKnownHostsFile={known_hosts_file}",
            "-o StrictHostKeyChecking=yes",
            "-o ControlMaster=auto -o ControlPersist=60s",
            f"-o ControlPath={vm['control_path']}",
        ])
        hosts[vm["name"]] = {
            "ansible_host": "127.0.0.1",
            "ansible_port": port,
            "ansible_user": "root",
            "ansible_connection": "ssh",
            "ansible_ssh_private_key_file": ssh_key,
            "ansible_ssh_common_args": args,
            "ansible_python_interpreter": "/usr/bin/python3",
            "benchmark_netns": _by_topology("", f"vnb-{vm['name']}"),
            "benchmark_uplink": _by_topology(UPLINK, ""),
            "benchmark_macvtap_lower": _by_topology(MACVTAP_LOWER, ""),
        }
    return {"all": {"children": {group: {"hosts": hosts}}}}


def _by_topology(cross_host: str, same_host: str) -> str:
    """A lab variable of the inventory: CROSS_HOST when the run is a cross-host pair, else SAME_HOST."""
    return (f"{{{{ {cross_host!r} if benchmark_topology | default('same_host') == 'cross_host' "
            f"else {same_host!r} }}}}")
