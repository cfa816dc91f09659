# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Host capability checks shared by volt.netbench modules (pure functions over file contents)."""

from __future__ import annotations

import gzip
import os
import re

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
