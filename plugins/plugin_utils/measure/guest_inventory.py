# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the controller reaches a lab's guests: their inventory entries (the qemu_guest role adds them with
add_host), the SSH options and the ProxyCommand into the lab's namespace, quoted for the shell that runs it."""

from __future__ import annotations

import re
import shlex
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils.lab import lab_paths


# An ssh destination ([user@]host) or a namespace name: one word that cannot be read as an option of ssh or ip.
_WORD = re.compile(r"^[A-Za-z0-9_.:@%\[\]][A-Za-z0-9_.:@%\[\]-]*$")


def checked(value: str, what: str) -> str:
    """VALUE when it is one plain word (letters, digits, _ . : @ % [ ] -, not starting with '-'); ValueError
    naming WHAT otherwise - a leading '-' would make it an option of ssh (-oProxyCommand=...)."""
    if not _WORD.match(value):
        raise ValueError(f"{what} {value!r} is not a host name, user@host, address or namespace name: use letters, "
                         "digits and _ . : @ % [ ] - (not starting with '-'), no spaces or quotes")
    return value


def ssh_argv(ssh: dict[str, Any]) -> list[str]:
    """The ssh command that reaches a remote hypervisor as Ansible does: SSH's ``host``, ``port``, ``user``,
    ``key`` and ``args`` (ansible_ssh_common_args, split as the shell would), in batch mode."""
    words = ["ssh", "-o", "BatchMode=yes", *shlex.split(str(ssh.get("args") or ""))]
    if ssh.get("port"):
        words += ["-p", str(ssh["port"])]
    if ssh.get("key"):
        words += ["-i", str(ssh["key"])]
    host = checked(str(ssh["host"]), "the hypervisor's host")
    if ssh.get("user"):
        checked(str(ssh["user"]), "the hypervisor's user")
    if ssh.get("port") and not str(ssh["port"]).isdigit():
        raise ValueError(f"the hypervisor's port {ssh['port']!r} is not a number")
    return [*words, f"{ssh['user']}@{host}" if ssh.get("user") else host]


def proxy_command(netns: str, proxy_host: str, ssh: dict[str, Any] | None = None) -> str:
    """The ProxyCommand that reaches 127.0.0.1:%p on the hypervisor (inside NETNS when given): for a remote
    hypervisor over SSH, as SSH describes it (:func:`ssh_argv`) or to the destination PROXY_HOST. Every word
    is quoted for the shell ssh runs it with."""
    inner = ["ip", "netns", "exec", checked(netns, "namespace"), "nc", "127.0.0.1", "%p"] if netns else []
    if proxy_host:
        checked(proxy_host, "proxy host")
    if ssh:
        outer = ssh_argv(ssh)
        if inner:
            return " ".join([*map(shlex.quote, outer), *map(_quote, inner)])
        return " ".join([*map(shlex.quote, outer[:-1]), "-W", "127.0.0.1:%p", shlex.quote(outer[-1])])
    if proxy_host and inner:
        return " ".join(["ssh", "-o", "BatchMode=yes", shlex.quote(proxy_host), *map(_quote, inner)])
    if proxy_host:
        return " ".join(["ssh", "-o", "BatchMode=yes", "-W", "127.0.0.1:%p", shlex.quote(proxy_host)])
    return " ".join(map(_quote, inner))


def _quote(word: str) -> str:
    return word if word == "%p" else shlex.quote(word)


# Seconds Ansible waits for a guest's SSH connection (banner included), by the guests' accelerator. Under TCG a
# guest is tens of times slower, and where the hypervisor itself is a TCG guest (a nested lab) its sshd took more
# than Ansible's default 30 s to send its banner to a first connection after the boot wait had seen it.
CONNECT_TIMEOUT = {"kvm": 30, "tcg": 180}


def guest_entries(guests: list[dict[str, Any]], *, netns: str, controller_root: str, ssh_key: str,
                  group: str, proxy_host: str = "", ssh: dict[str, Any] | None = None,
                  accelerator: str = "kvm") -> list[dict[str, Any]]:
    """One add_host entry per guest: its inventory name (``host``, default its name), group, SSH connection
    (loopback port on the hypervisor, the lab's known_hosts under a per-guest alias, its control socket, the
    connection timeout of its ACCELERATOR) and its data addresses (``volt_guest_data_address``: the first;
    ``volt_guest_data_addresses``: per backend)."""
    if accelerator not in CONNECT_TIMEOUT:
        raise ValueError(f"accelerator {accelerator!r} is not one of {', '.join(CONNECT_TIMEOUT)}")
    paths = lab_paths(netns, controller_root=controller_root)
    proxy = proxy_command(netns, proxy_host, ssh)
    out = []
    for guest in guests:
        addresses = guest.get("data_addresses") or {"data": guest["data_address"]}
        # one word for the shlex split Ansible applies to ansible_ssh_common_args, whatever the command holds
        options = (["-o " + shlex.quote(f"ProxyCommand={proxy}")] if proxy else []) + [
            f"-o HostKeyAlias=volt-{paths['lab']}-{guest['name']}",
            f"-o UserKnownHostsFile={paths['known_hosts']}",
            "-o StrictHostKeyChecking=yes",
            "-o ControlMaster=auto -o ControlPersist=120s",
            f"-o ControlPath={paths['control_path']}",
        ]
        out.append({
            "name": guest.get("host") or guest["name"],
            "groups": group,
            "ansible_host": "127.0.0.1",
            "ansible_port": int(guest["ssh_port"]),
            "ansible_user": "root",
            "ansible_connection": "ssh",
            "ansible_ssh_private_key_file": ssh_key,
            "ansible_python_interpreter": "/usr/bin/python3",
            "ansible_ssh_pipelining": True,
            "ansible_ssh_common_args": " ".join(options),
            "ansible_timeout": CONNECT_TIMEOUT[accelerator],
            "volt_guest_data_address": next(iter(addresses.values())).split("/")[0],
            "volt_guest_data_addresses": {k: v.split("/")[0] for k, v in addresses.items()},
            "volt_guest_lab": paths["lab"],
        })
    return out
