# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host capability checks shared by volt.netbench modules (pure functions over file contents)."""

from __future__ import annotations

import gzip
import os
import re

from ansible_collections.volt.netbench.plugins.module_utils.backends import BRIDGE_BACKENDS

CPU_FLAGS_RE = re.compile(r"^flags\s*:\s*(?P<flags>.*)$", re.M)


def read(path, default=None):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return default
    if path.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def kernel_config(release):
    """CONFIG_* settings of the running kernel from /proc/config.gz or /boot/config-RELEASE."""
    text = read("/proc/config.gz") or read(f"/boot/config-{release}") or ""
    config = {}
    for line in text.splitlines():
        if line.startswith("CONFIG_") and "=" in line:
            key, value = line.split("=", 1)
            config[key] = value.strip('"')
        elif line.startswith("# CONFIG_") and line.endswith(" is not set"):
            config[line[2:].split()[0]] = "n"
    return config


def hardware_virt_flags(cpuinfo):
    """The hardware virtualisation flags (vmx, svm) present in /proc/cpuinfo text."""
    match = CPU_FLAGS_RE.search(cpuinfo or "")
    flags = set(match.group("flags").split()) if match else set()
    return sorted(flags & {"vmx", "svm"})


def module_state(name, config_key, release, config):
    """'builtin', 'loaded', 'loadable' or 'missing' for a kernel feature."""
    if os.path.isdir(f"/sys/module/{name}") and not os.path.exists(f"/sys/module/{name}/initstate"):
        return "builtin"
    if os.path.exists(f"/sys/module/{name}/initstate"):
        return "loaded"
    setting = config.get(config_key)
    if setting == "y":
        return "builtin"
    builtin = read(f"/lib/modules/{release}/modules.builtin") or ""
    if re.search(rf"/{name}\.ko", builtin):
        return "builtin"
    dep = read(f"/lib/modules/{release}/modules.dep") or ""
    if re.search(rf"/{name}\.ko(\.[a-z]+)?:", dep):
        return "loadable"
    if setting == "m":
        return "loadable"
    return "missing"


VHOST_DEVICE = "/dev/vhost-net"


def backend_support(caps, macvtap_lower="", lower_exists=True, lab_in_netns=True):
    """Per backend: {usable, reason} from hypervisor_facts' capabilities; the one place that decides it.

    CAPS needs tun, vhost_net, vhost_net_reason and macvtap. MACVTAP_LOWER, when given, must exist
    (LOWER_EXISTS); without it only a namespaced lab (which builds its own lower device) can run macvtap.
    """
    support = {}
    for backend in BRIDGE_BACKENDS:
        if not caps["tun"]:
            support[backend] = {"usable": False, "reason": f"backend {backend} needs /dev/net/tun, which does not "
                                "exist: load the tun module (modprobe tun)."}
        else:
            support[backend] = {"usable": True, "reason": "/dev/net/tun present"}
    if caps["tun"]:
        if caps["vhost_net"] == "available":
            support["vhost-net"]["reason"] = f"/dev/net/tun and {VHOST_DEVICE} present"
        else:
            support["vhost-net"] = {"usable": False, "reason": (
                f"backend vhost-net is not available on this host: {caps['vhost_net_reason']}. QEMU would abort on "
                "vhost=on. Load the vhost_net kernel module (modprobe vhost_net) on a kernel that has it, or choose "
                "another backend (-e backend=virtio or -e backend=macvtap).")}
    if caps["macvtap"] == "missing":
        support["macvtap"] = {"usable": False, "reason": (
            "backend macvtap is not available on this host: the kernel has no macvtap support (CONFIG_MACVTAP). "
            "Choose another backend (-e backend=virtio).")}
    elif macvtap_lower and not lower_exists:
        support["macvtap"] = {"usable": False, "reason": (
            f"backend macvtap needs the lower device {macvtap_lower}, which does not exist on this host: set "
            "hypervisor_macvtap_lower (host_network_macvtap_lower) to an existing NIC (see 'ip -br link'), or run "
            "the lab in a namespace (host_network_netns) where it builds its own.")}
    elif not macvtap_lower and not lab_in_netns:
        support["macvtap"] = {"usable": False, "reason": (
            "backend macvtap has no lower device: set macvtap_lower (benchmark_macvtap_lower) to the NIC it sits on, "
            "or run the lab in a namespace (benchmark_netns), where it builds its own.")}
    else:
        where = f"on {macvtap_lower}" if macvtap_lower else "on the lab's own veth"
        support["macvtap"] = {"usable": True, "reason": f"macvtap {caps['macvtap']}, {where}"}
    return support


def modules_to_load(caps, backends, load_modules):
    """Kernel modules the requested BACKENDS need and the host can load (vhost_net for vhost-net)."""
    if load_modules and "vhost-net" in backends and caps["vhost_net"] == "loadable":
        return ["vhost_net"]
    return []
