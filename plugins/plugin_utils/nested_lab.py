# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A lab of hypervisor VMs on one machine (the nested_lab role): which VMs, on which ports and wire addresses,
and the inventory that reaches them.

Each hypervisor VM is a guest of this machine booted from the hypervisor image (the guest image's recipe plus
QEMU and what the hypervisor role installs): its management NIC is QEMU user networking whose SSH port is
forwarded on the loopback of the nested lab's namespace, its data NIC (``data0``) a tap on the nested lab's
bridge - the wire between the VMs. The controller reaches a VM through a ProxyCommand into that namespace,
with the VM's own host key checked strictly under a per-VM alias.

The ProxyCommand names the VM's port literally, not as ``%p``: the benchmark runs its guests' ProxyCommand
through the hypervisor's ssh (guest_inventory.proxy_command), and ssh would expand a ``%p`` there to the
guest's port."""

from __future__ import annotations

import ipaddress
import shlex
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.guest_inventory import checked

# At most this many hypervisor VMs: each takes 2 vCPUs and several GiB on the machine that runs them.
MAX_VMS = 4
# The wire between the VMs: a subnet of the benchmarking range apart from the labs' own (198.18.0.0/22 with
# the defaults), so a hypervisor's NIC never holds an address of the lab it runs.
WIRE = "198.19.255.0/24"
NAME_PREFIX = "hv"
# Each VM's own host key, which the inventory pins (the image's ed25519 key is the same in every VM: the
# nested_lab role's own connections use it, the inventory's hosts are limited to this algorithm)
HOST_KEY_TYPE = "ecdsa-sha2-nistp256"


def vms(count: int, port_base: int, controller_dir: str, wire: str = WIRE) -> list[dict[str, Any]]:
    """The hypervisor VMs as qemu_guest_guests: ``hv1`` ... ``hvN`` with SSH ports PORT_BASE+1 ..., the
    addresses .1, .2 ... of WIRE for their data NIC and their SSH control sockets in CONTROLLER_DIR
    (:func:`control_path`)."""
    count, port_base = int(count), int(port_base)
    if not 1 <= count <= MAX_VMS:
        raise ValueError(f"a nested lab has 1 to {MAX_VMS} hypervisor VMs, not {count}")
    if not 1024 <= port_base <= 65535 - count:
        raise ValueError(f"port_base {port_base} must leave {count} ports between 1025 and 65535")
    net = ipaddress.IPv4Network(wire, strict=True)
    if not net.subnet_of(ipaddress.IPv4Network("198.18.0.0/15")):
        raise ValueError(f"the wire {wire} must lie in the benchmarking range 198.18.0.0/15")
    if net.num_addresses - 2 < count:
        raise ValueError(f"the wire {wire} has no room for {count} hypervisor VMs")
    return [{"name": f"{NAME_PREFIX}{k}", "ssh_port": port_base + k,
             "data_address": f"{net.network_address + k}/{net.prefixlen}",
             "control_path": control_path(controller_dir, f"{NAME_PREFIX}{k}")} for k in range(1, count + 1)]


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
    VMs keeps its labs apart); its SSH control socket the VM's ``control_path``."""
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
            "benchmark_netns": f"vnb-{vm['name']}",
        }
    return {"all": {"children": {group: {"hosts": hosts}}}}
