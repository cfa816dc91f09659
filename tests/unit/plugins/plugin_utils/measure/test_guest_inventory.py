"""How the controller reaches a lab's guests: add_host's entries and the ProxyCommand into the lab."""

from __future__ import annotations

import re
import shlex

import pytest

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.guest_inventory import guest_entries, proxy_command

GUESTS = [{"name": "server", "host": "hv-a-server", "ssh_port": 10022,
           "data_addresses": {"virtio": "198.18.0.1/24", "macvtap": "198.18.2.1/24"}},
          {"name": "client", "ssh_port": 10023, "data_address": "198.18.0.2/24"}]


def test_each_guest_is_reached_through_the_labs_namespace_with_its_own_alias_and_socket():
    server, client = guest_entries(GUESTS, netns="vnb-a", controller_root="/root/.cache/volt-netbench/labs",
                                   ssh_key="/var/cache/k", group="volt_guests")
    assert (server["name"], client["name"]) == ("hv-a-server", "client")  # the inventory name, default the name
    assert server["ansible_port"] == 10022 and server["ansible_host"] == "127.0.0.1"
    assert server["volt_guest_data_addresses"] == {"virtio": "198.18.0.1", "macvtap": "198.18.2.1"}
    assert client["volt_guest_data_address"] == "198.18.0.2" and server["volt_guest_lab"] == "vnb-a"
    args = shlex.split(server["ansible_ssh_common_args"])
    assert args[:2] == ["-o", "ProxyCommand=ip netns exec vnb-a nc 127.0.0.1 %p"]
    assert "HostKeyAlias=volt-vnb-a-server" in args and "ControlPath=/root/.cache/volt-netbench/labs/vnb-a/cp-%C" in args
    assert "UserKnownHostsFile=/root/.cache/volt-netbench/labs/vnb-a/known_hosts" in args
    # Ansible's own wait for the guest's SSH: its default under KVM, longer under TCG (a nested lab's hv2 server
    # sent its banner later than 30 s after the boot wait had seen it)
    assert server["ansible_timeout"] == 30
    tcg = guest_entries(GUESTS, netns="vnb-a", controller_root="/x", ssh_key="/k", group="g", accelerator="tcg")
    assert {g["ansible_timeout"] for g in tcg} == {180}
    with pytest.raises(ValueError, match="accelerator 'auto' is not one of kvm, tcg"):
        guest_entries(GUESTS, netns="vnb-a", controller_root="/x", ssh_key="/k", group="g", accelerator="auto")


@pytest.mark.parametrize("netns, proxy_host, what", [
    ("vnb-a", "hv;touch /tmp/x", "proxy host 'hv;touch /tmp/x'"),
    ("vnb-a", "-oProxyCommand=touch /tmp/x", "proxy host '-oProxyCommand=touch /tmp/x'"),
    ("vnb-a", 'hv" -oProxyCommand="x', "proxy host 'hv\" -oProxyCommand=\"x'"),
    ("vnb'a", "", "namespace \"vnb'a\""),
    ("-n", "hv", "namespace '-n'"),
])
def test_a_value_that_is_not_one_plain_word_is_refused(netns, proxy_host, what):
    with pytest.raises(ValueError, match=re.escape(f"{what} is not a host name, user@host, address or namespace")):
        proxy_command(netns, proxy_host)
    with pytest.raises(ValueError, match="the hypervisor's host '-oX' is not"):
        proxy_command("vnb-a", "", {"host": "-oX"})


def test_a_remote_hypervisors_name_is_one_word_of_the_proxy_command():
    command = proxy_command("vnb-a", "root@hv-a.example:22")
    assert shlex.split(command) == ["ssh", "-o", "BatchMode=yes", "root@hv-a.example:22", "ip", "netns", "exec",
                                    "vnb-a", "nc", "127.0.0.1", "%p"]
    remote = ["ssh", "-o", "BatchMode=yes", "-W", "127.0.0.1:%p", "root@hv-a"]
    assert shlex.split(proxy_command("", "root@hv-a")) == remote
    assert proxy_command("", "") == ""


def test_a_remote_hypervisor_is_reached_as_ansible_reaches_it():
    """The hypervisor's own SSH settings (port, user, key, common args) make the guests' ProxyCommand and the
    watchdog's heartbeat command: one ssh, each word quoted once."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.guest_inventory import ssh_argv  # pylint: disable=import-outside-toplevel

    ssh = {"host": "127.0.0.1", "port": "2222", "user": "root", "key": "/k/id ed25519",
           "args": "-o UserKnownHostsFile=/k/known_hosts -o 'StrictHostKeyChecking=yes'"}
    argv = ssh_argv(ssh)
    assert argv == ["ssh", "-o", "BatchMode=yes", "-o", "UserKnownHostsFile=/k/known_hosts", "-o",
                    "StrictHostKeyChecking=yes", "-p", "2222", "-i", "/k/id ed25519", "root@127.0.0.1"]
    command = proxy_command("vnb-b", "", ssh)
    assert shlex.split(command.replace("%p", "10022")) == [*argv, "ip", "netns", "exec", "vnb-b", "nc", "127.0.0.1",
                                                           "10022"]
    assert shlex.split(proxy_command("", "", ssh)) == [*argv[:-1], "-W", "127.0.0.1:%p", "root@127.0.0.1"]
    (entry,) = guest_entries([{"name": "server", "ssh_port": 10022, "data_address": "198.18.0.1/24"}], netns="vnb-b",
                             controller_root="/c", ssh_key="/k/lab", group="g", ssh=ssh)
    # the key's path has a space and the common args quotes: Ansible's split gives ssh the command whole
    assert shlex.split(entry["ansible_ssh_common_args"])[:2] == ["-o", f"ProxyCommand={command}"]
    assert ssh_argv({"host": "hv01"}) == ["ssh", "-o", "BatchMode=yes", "hv01"]
