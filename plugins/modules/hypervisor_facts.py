#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: hypervisor_facts
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Report what a QEMU hypervisor can do for network benchmarking
description:
  - Detects hardware acceleration, vhost-net, macvtap, tun and bridge support, the QEMU version,
    the CPU model, RAM, kernel and (when O(nic) is given) the NIC's model, driver and speed.
  - Hardware acceleration counts as usable only when C(/dev/kvm) exists B(and) C(/proc/cpuinfo)
    shows C(vmx) or C(svm); a paravirtual C(/dev/kvm) without them (nested hosts) hangs normal guests.
  - vhost-net is C(available) when C(/dev/vhost-net) exists, C(loadable) when the kernel has it as a
    module that is not loaded yet, else C(missing).
  - With O(backends), it also decides for each backend whether it can run here and why (C(backends) in
    the result) - the one place that decides it; roles and the benchmark read that. With
    O(load_modules) it first loads what the requested backends need and the kernel has as a module
    (C(vhost_net) for C(vhost-net)), so a loadable vhost-net counts as usable.
  - Read-only unless it loads a module.
options:
  backends:
    description: Backends to decide on (loading their modules with O(load_modules)).
    type: list
    elements: str
    choices: [virtio, vhost-net, macvtap]
    default: []
  load_modules:
    description: Load the kernel modules the requested O(backends) need (C(modprobe vhost_net)).
    type: bool
    default: false
  macvtap_lower:
    description: The NIC macvtap sits on (a real lab); it must exist. Empty when the lab builds its own in a namespace.
    type: str
    default: ""
  lab_in_netns:
    description: The lab lives in a network namespace where it builds its own macvtap lower device.
    type: bool
    default: true
  nic:
    description: Network interface whose model, driver and speed are reported (for example the macvtap lower device).
    type: str
  netns:
    description: Network namespace O(nic) lives in; empty for the root namespace.
    type: str
    default: ""
  qemu_binary:
    description: QEMU system emulator to ask for its version.
    type: str
    default: qemu-system-x86_64
  tools:
    description: Commands to look for on the host's PATH (the native reference's traffic tools); see RV(hypervisor.tools).
    type: list
    elements: str
    default: []
attributes:
  check_mode:
    support: full
    description: Reports the modules it would load without loading them (a loadable vhost_net then counts as usable).
  diff_mode:
    support: none
    description: Nothing to diff.
"""

EXAMPLES = r"""
- name: What can this hypervisor do
  volt.netbench.hypervisor_facts:
    nic: eno1
  register: caps
"""

RETURN = r"""
hypervisor:
  description: Capabilities and facts of the host.
  returned: always
  type: dict
  contains:
    kvm_usable:
      description: True when /dev/kvm exists and the CPU shows vmx or svm.
      type: bool
    kvm_reason:
      description: Why KVM is (not) usable.
      type: str
    accelerator:
      description: C(kvm) when usable, else C(tcg).
      type: str
    vhost_net:
      description: C(available), C(loadable) or C(missing).
      type: str
    vhost_net_reason:
      description: What was found, and what to do when it is not available.
      type: str
    macvtap:
      description: C(builtin), C(loaded), C(loadable) or C(missing).
      type: str
    tun:
      description: Whether /dev/net/tun exists.
      type: bool
    bridge:
      description: C(builtin), C(loaded), C(loadable) or C(missing).
      type: str
    qemu_version:
      description: QEMU version string, empty when QEMU is not installed.
      type: str
    cpu_model:
      description: CPU model name.
      type: str
    cpu_count:
      description: Online CPUs.
      type: int
    tools:
      description: Each of O(tools) with its path, or null when the host does not have it.
      type: dict
    ram_bytes:
      description: Total RAM.
      type: int
    ram:
      description: Total RAM, human readable (GiB).
      type: str
    kernel:
      description: Kernel release.
      type: str
    nic:
      description: Name, model, driver and speed of O(nic) (empty dict without O(nic)).
      type: dict
    backends:
      description: Per requested backend, C(usable) (bool) and C(reason) (what was found, or why not and what to do).
      type: dict
    loaded_modules:
      description: Kernel modules this call loaded.
      type: list
"""

import json
import os
import platform
import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.volt.netbench.plugins.module_utils.backends import BACKENDS
from ansible_collections.volt.netbench.plugins.module_utils.kernel import (
    VHOST_DEVICE,
    backend_support,
    hardware_virt_flags,
    modules_to_load,
    kernel_config,
    module_state,
    read,
)


def nic_facts(module, nic, netns):
    prefix = ["ip", "netns", "exec", netns] if netns else []
    rc, out, err = module.run_command(prefix + ["ip", "-j", "-d", "link", "show", "dev", nic])
    if rc != 0:
        module.fail_json(msg=f"NIC {nic} not found{' in namespace ' + netns if netns else ''}: {err.strip()}")
    link = json.loads(out)[0]
    facts = {"name": nic, "kind": (link.get("linkinfo") or {}).get("info_kind", "physical"), "mac": link.get("address", "")}
    # sysfs must be read from inside the namespace (ip netns exec remounts /sys)
    rc, out, _err = module.run_command(prefix + ["cat", f"/sys/class/net/{nic}/speed"])
    speed = out.strip() if rc == 0 else ""
    facts["speed_mbps"] = int(speed) if speed.lstrip("-").isdigit() and int(speed) > 0 else None
    driver, model = "", ""
    if module.get_bin_path("ethtool"):
        rc, out, _err = module.run_command(prefix + ["ethtool", "-i", nic])
        if rc == 0:
            info = dict(line.split(": ", 1) for line in out.splitlines() if ": " in line)
            driver = info.get("driver", "")
            bus = info.get("bus-info", "")
            if bus.count(":") >= 2 and module.get_bin_path("lspci"):
                rc, out, _err = module.run_command(["lspci", "-s", bus])
                model = out.split(": ", 1)[-1].strip() if rc == 0 and out else ""
    facts["driver"] = driver or facts["kind"]
    facts["model"] = model or (f"{facts['kind']} (virtual)" if facts["kind"] != "physical" else "unknown")
    speed_text = f"{facts['speed_mbps'] / 1000:g} Gbit/s" if facts["speed_mbps"] else "speed n/a"
    facts["summary"] = f"{facts['model']}, driver {facts['driver']}, {speed_text}"
    return facts


def main():
    module = AnsibleModule(
        argument_spec={
            "nic": {"type": "str"},
            "netns": {"type": "str", "default": ""},
            "qemu_binary": {"type": "str", "default": "qemu-system-x86_64"},
            "backends": {"type": "list", "elements": "str", "default": [],
                         "choices": list(BACKENDS)},
            "load_modules": {"type": "bool", "default": False},
            "macvtap_lower": {"type": "str", "default": ""},
            "lab_in_netns": {"type": "bool", "default": True},
            "tools": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    release = platform.release()
    config = kernel_config(release)
    cpuinfo = read("/proc/cpuinfo", "")
    flags = hardware_virt_flags(cpuinfo)
    has_kvm = os.path.exists("/dev/kvm")
    if has_kvm and flags:
        kvm_usable, kvm_reason = True, f"/dev/kvm present and CPU flags {', '.join(flags)}"
    elif has_kvm:
        kvm_usable, kvm_reason = False, (
            "/dev/kvm exists but /proc/cpuinfo shows neither vmx nor svm (paravirtual or nested host): "
            "guests would hang under KVM, using TCG"
        )
    else:
        kvm_usable, kvm_reason = False, "/dev/kvm does not exist (kvm module not loaded or no hardware virtualisation): using TCG"

    prm = module.params
    loaded = []
    pending = modules_to_load({"vhost_net": vhost_state_of(release, config)}, prm["backends"], prm["load_modules"])
    for name in pending:
        if module.check_mode:
            continue
        rc, _out, err = module.run_command(["modprobe", name])
        if rc != 0:
            module.fail_json(msg=f"modprobe {name} failed: {err.strip()}; check 'dmesg' on the hypervisor, "
                             "or choose another backend (-e backend=virtio or -e backend=macvtap).")
        loaded.append(name)
    vhost_state = module_state("vhost_net", "CONFIG_VHOST_NET", release, config)
    if module.check_mode and "vhost_net" in pending:
        vhost, vhost_reason = "available", "vhost_net would be loaded (check mode)"
    elif os.path.exists(VHOST_DEVICE):
        vhost, vhost_reason = "available", "/dev/vhost-net present"
    elif vhost_state == "loadable":
        vhost, vhost_reason = "loadable", "/dev/vhost-net is missing but the vhost_net module exists: load it with 'modprobe vhost_net'"
    elif loaded:
        vhost, vhost_reason = "missing", "modprobe vhost_net ran but /dev/vhost-net still does not exist: check 'dmesg'"
    else:
        vhost, vhost_reason = "missing", (
            "/dev/vhost-net does not exist and this kernel has no vhost_net module "
            f"(CONFIG_VHOST_NET={config.get('CONFIG_VHOST_NET', 'unknown')})"
        )

    qemu_version = ""
    qemu = module.get_bin_path(module.params["qemu_binary"])
    if qemu:
        rc, out, _err = module.run_command([qemu, "--version"])
        match = re.search(r"version (\S+)", out) if rc == 0 else None
        qemu_version = match.group(1) if match else ""
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    meminfo = read("/proc/meminfo", "")
    mem = re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M)
    ram_bytes = int(mem.group(1)) * 1024 if mem else 0

    facts = {
        "kvm_usable": kvm_usable,
        "kvm_reason": kvm_reason,
        "cpu_virt_flags": flags,
        "accelerator": "kvm" if kvm_usable else "tcg",
        "vhost_net": vhost,
        "vhost_net_reason": vhost_reason,
        "macvtap": module_state("macvtap", "CONFIG_MACVTAP", release, config),
        "bridge": module_state("bridge", "CONFIG_BRIDGE", release, config),
        "tun": os.path.exists("/dev/net/tun"),
        "qemu_version": qemu_version,
        "cpu_model": model.group(1).strip() if model else platform.processor() or "unknown",
        "cpu_count": os.cpu_count() or 0,
        "ram_bytes": ram_bytes,
        "ram": f"{ram_bytes / 2**30:.1f} GiB",
        "kernel": release,
        "nic": nic_facts(module, module.params["nic"], module.params["netns"]) if module.params["nic"] else {},
        "tools": {tool: module.get_bin_path(tool) for tool in prm["tools"]},
    }
    if prm["backends"]:
        lower_exists = True
        if prm["macvtap_lower"]:
            lower_exists = module.run_command(["ip", "link", "show", "dev", prm["macvtap_lower"]])[0] == 0
        support = backend_support(facts, prm["macvtap_lower"], lower_exists, prm["lab_in_netns"])
        facts["backends"] = {name: support[name] for name in prm["backends"]}
    else:
        facts["backends"] = {}
    facts["loaded_modules"] = loaded
    module.exit_json(changed=bool(loaded or (pending and module.check_mode)), hypervisor=facts)


def vhost_state_of(release, config):
    """available, loadable or missing (before anything is loaded)."""
    if os.path.exists(VHOST_DEVICE):
        return "available"
    return "loadable" if module_state("vhost_net", "CONFIG_VHOST_NET", release, config) == "loadable" else "missing"


if __name__ == "__main__":
    main()
