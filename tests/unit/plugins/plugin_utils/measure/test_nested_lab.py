"""The nested lab's plan: its hypervisor VMs, the inventory that reaches them, their known_hosts, and the
hypervisor image's recipe against what the hypervisor and guest_image roles install."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.filter.nested_lab import nested_lab
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import nested_lab as model
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.guest_inventory import proxy_command, ssh_argv

ROOT = Path(__file__).resolve().parents[5]
KEY = "/var/lib/volt-netbench/keys/d362eb82a201f324/id_ed25519"
KNOWN = "/run/volt-netbench/controller/vnb-nested/hypervisors.known_hosts"
# two real host keys, as ssh-keygen -t ecdsa -b 256 wrote them in the VMs of a nested lab on this machine
HV1 = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBLog3Z8w4op5LMfaz1ti7rVoA9mi3IZoYjMUez0w"
       "XvmUBXBa0fzBdAybqxigRlA+Gr9OumwcqueGdhCN0s2UFjM= hv1")
HV2 = ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIszv7IIwt/vS2VZz1hv/IXT8J2kX1RpZCQmPSDw"
       "Vn4W7pyyzRmHpCk1r6/UezZfvFi0HiCn0SpCxVC5P5pLa2E= hv2")


CONTROLLER = "/run/volt-netbench/controller/vnb-nested"


def plan(count=2, **kwargs):
    return nested_lab(count, 22200, "vnb-nested", "vnb-nested", KEY, KNOWN, CONTROLLER, **kwargs)


def test_the_vms_get_ports_and_wire_addresses_apart_from_the_labs_subnets():
    planned = plan(3)
    assert planned["vms"] == [
        {"name": f"hv{k}", "ssh_port": 22200 + k, "data_address": f"198.19.255.{k}/24",
         "uplink_nic": {"mac": f"52:54:00:ce:00:0{k}"},
         "lower_nic": {"mac": f"52:54:00:ce:01:0{k}", "guest_address": f"198.19.254.{k}/24"},
         "wire_addresses": {"data0": f"198.19.255.{k}/24", "data1": f"198.19.254.{k}/24"},
         "control_path": f"{CONTROLLER}/cm-hv{k}"} for k in (1, 2, 3)]
    assert planned["wire_nics"] == ["data0", "data1"]
    # both wires checked from the first VM to every other
    assert planned["wire_checks"] == [
        {"vm": "hv1", "nic": nic, "target": f"198.19.{net}.{k}", "peer": f"hv{k}"}
        for k in (2, 3) for nic, net in (("data0", 255), ("data1", 254))]
    assert plan(1)["wire_checks"] == []
    # a teardown names every VM a nested lab can have
    assert [vm["name"] for vm in plan("all")["vms"]] == ["hv1", "hv2", "hv3", "hv4"]
    for count, message in ((0, "1 to 4 hypervisor VMs, not 0"), (5, "1 to 4 hypervisor VMs, not 5")):
        with pytest.raises(AnsibleFilterError, match=message):
            plan(count)
    with pytest.raises(AnsibleFilterError, match="must lie in the benchmarking range"):
        plan(wire="10.0.0.0/24")
    with pytest.raises(AnsibleFilterError, match="must lie in the benchmarking range"):
        plan(macvtap_wire="192.168.0.0/24")
    with pytest.raises(AnsibleFilterError, match="overlap: give each a subnet of its own"):
        plan(macvtap_wire="198.19.255.128/25")
    with pytest.raises(AnsibleFilterError, match="port_base 65534 must leave 2 ports"):
        nested_lab(2, 65534, "vnb-nested", "vnb-nested", KEY, KNOWN, CONTROLLER)


def test_the_inventory_reaches_each_vm_through_the_namespace_with_its_own_key_checked():
    inventory = plan()["inventory"]
    hosts = inventory["all"]["children"]["hypervisors"]["hosts"]
    assert list(hosts) == ["hv1", "hv2"]
    hv1 = hosts["hv1"]
    assert {k: hv1[k] for k in ("ansible_host", "ansible_port", "ansible_user", "ansible_ssh_private_key_file")} == {
        "ansible_host": "127.0.0.1", "ansible_port": 22201, "ansible_user": "root",
        "ansible_ssh_private_key_file": KEY}
    args = shlex.split(hv1["ansible_ssh_common_args"])
    assert args == ["-o", "ProxyCommand=ip netns exec vnb-nested nc 127.0.0.1 22201",
                    "-o", "HostKeyAlias=volt-vnb-nested-hv1", "-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256",
                    "-o", f"UserKnownHostsFile={KNOWN}", "-o", "StrictHostKeyChecking=yes",
                    "-o", "ControlMaster=auto", "-o", "ControlPersist=60s", "-o", f"ControlPath={CONTROLLER}/cm-hv1"]
    # the inventory is what the file holds, as YAML
    assert yaml.safe_load(yaml.safe_dump(inventory)) == inventory


def lab_vars(inventory_file, name, **play_vars):
    """Host NAME's lab variables as Ansible templates them from INVENTORY_FILE in a play with PLAY_VARS."""
    from ansible.inventory.manager import InventoryManager
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    from ansible.vars.manager import VariableManager

    loader = DataLoader()
    hosts = InventoryManager(loader=loader, sources=[str(inventory_file)])
    variables = {**VariableManager(loader=loader, inventory=hosts).get_vars(host=hosts.get_host(name)), **play_vars}
    templar = Templar(loader=loader, variables=variables)
    return {k: templar.template(variables[k]) for k in ("benchmark_netns", "benchmark_uplink", "benchmark_macvtap_lower")}


def test_each_vms_lab_is_in_a_namespace_of_its_own_or_for_a_pair_on_the_cabled_nics(tmp_path):
    """Same host (a fleet of the VMs): each VM's lab in a namespace named after it, no NIC of the wires taken - the
    labs of a fleet share no L2 segment. topology=cross_host: a pair's labs outside namespaces, as a pair of real
    hosts, data0 the bridge's uplink and data1 macvtap's lower device - what run_plan asks of a real pair."""
    # the inventory file as the role writes it (to_nice_yaml)
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump(plan()["inventory"], indent=2))
    for name in ("hv1", "hv2"):
        assert lab_vars(inventory, name) == lab_vars(inventory, name, benchmark_topology="same_host") == {
            "benchmark_netns": f"vnb-{name}", "benchmark_uplink": "", "benchmark_macvtap_lower": ""}
        assert lab_vars(inventory, name, benchmark_topology="cross_host") == {
            "benchmark_netns": "", "benchmark_uplink": "data0", "benchmark_macvtap_lower": "data1"}


def test_the_benchmarks_guests_proxy_through_the_vm_without_its_port_being_rewritten():
    """The guests' ProxyCommand runs the hypervisor's ssh (with its own ProxyCommand) and ssh expands %p in it to
    the guest's port: the VM's port is written literally, so only the guest's %p is expanded."""
    hv1 = plan()["inventory"]["all"]["children"]["hypervisors"]["hosts"]["hv1"]
    ssh = {"host": "127.0.0.1", "port": "22201", "user": "root", "key": KEY, "args": hv1["ansible_ssh_common_args"]}
    command = proxy_command("vnb-hv1", "", ssh)
    assert command.count("%") == 1 and command.endswith("ip netns exec vnb-hv1 nc 127.0.0.1 %p")
    words = shlex.split(command.replace("%p", "10022"))
    assert words[:len(ssh_argv(ssh)) - 1] == ssh_argv(ssh)[:-1]
    assert "ProxyCommand=ip netns exec vnb-nested nc 127.0.0.1 22201" in words


def test_known_hosts_pins_each_vms_own_key_under_its_alias():
    text = plan(host_keys={"hv2": HV2, "hv1": HV1})["known_hosts"]
    lines = text.splitlines()
    assert lines == [f"volt-vnb-nested-hv1 {' '.join(HV1.split()[:2])}", f"volt-vnb-nested-hv2 {' '.join(HV2.split()[:2])}"]
    assert "known_hosts" not in plan()
    with pytest.raises(AnsibleFilterError, match="is not an SSH public key of type ecdsa-sha2-nistp256"):
        plan(host_keys={"hv1": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI hv1"})
    with pytest.raises(AnsibleFilterError, match="is not a host name"):
        nested_lab(1, 22200, "vnb nested", "vnb-nested", KEY, KNOWN, CONTROLLER)


def test_the_hypervisor_image_holds_what_the_hypervisor_and_guest_roles_install():
    """The hypervisor image is the guest image with a hypervisor's packages: nothing the hypervisor role would
    install (it cannot - the VMs reach no mirror) or the guests' tools miss."""
    nested = yaml.safe_load((ROOT / "roles/nested_lab/defaults/main.yml").read_text())
    hypervisor = yaml.safe_load((ROOT / "roles/hypervisor/vars/main.yml").read_text())
    guest = yaml.safe_load((ROOT / "roles/guest_image/defaults/main.yml").read_text())
    packages = set(nested["nested_lab_image_packages"])
    assert set(hypervisor["__hypervisor_packages"]["Debian"]) <= packages
    assert set(hypervisor["__hypervisor_native_packages"]["Debian"]) <= packages
    assert set(guest["guest_image_packages"]) <= packages
    # netperf comes with the late packages (non-free), as in the guest image
    assert "netperf" in guest["guest_image_late_packages"]
    assert model.vms(1, 22200, CONTROLLER)[0]["data_address"].startswith("198.19.255.")


def test_each_vm_gets_two_nics_one_per_wire_both_taps_on_bridges():
    """Both wires are taps on bridges of this machine (a wire carries frames of any MAC, as a cable does - a
    macvtap here would deliver only its own): each wire's devices name their NIC's MAC (the second's its address
    too), so one VM gets two virtio taps with two MACs, data0 and data1, in the devices' order - neither of them a
    MAC the inner guests get (host_network's 52:54:00:be:BB:GG): hv1's data0 once had the server guest's, and the
    bridge on hv1 that data0 is the uplink of took the guest's frames as its own."""
    from ansible_collections.volt.netbench.plugins.module_utils.qemu import guest_nics  # pylint: disable=import-outside-toplevel

    vms = plan()["vms"]
    wire0 = [{"guest": vm["name"], "backend": "virtio", "ifname": f"vnbntap{k}", **vm["uplink_nic"]}
             for k, vm in enumerate(vms)]
    wire1 = [{"guest": vm["name"], "backend": "virtio", "ifname": f"vnbnltap{k}", **vm["lower_nic"]}
             for k, vm in enumerate(vms)]
    nics = guest_nics(wire0 + wire1, "hv2", 1, vms[1]["data_address"])
    assert [(n["name"], n["device"], n["mac"], n["address"]) for n in nics] == [
        ("data0", "vnbntap1", "52:54:00:ce:00:02", "198.19.255.2/24"),
        ("data1", "vnbnltap1", "52:54:00:ce:01:02", "198.19.254.2/24")]
    inner = {n["mac"] for guest in range(2) for n in guest_nics(
        [{"guest": g, "backend": b, "ifname": f"vnbtap{i}"} for i, g in enumerate(("server", "client"))
         for b in ("virtio", "vhost-net")], ("server", "client")[guest], guest, "198.18.0.1/24")}
    assert inner and not inner & {vm[nic]["mac"] for vm in vms for nic in ("uplink_nic", "lower_nic")}
