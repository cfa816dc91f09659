"""roles/hypervisor: packages, capability facts and the preflight that refuses what cannot run."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from helpers import ROOT, run

PLAYBOOK = ROOT / "tests" / "integration" / "targets" / "hypervisor" / "playbook.yml"
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="installs packages and reads root-only devices")
HAS_HW_VIRT = bool(re.search(r"^flags\s*:.*\b(vmx|svm)\b", Path("/proc/cpuinfo").read_text(), re.M))
KVM_USABLE = os.path.exists("/dev/kvm") and HAS_HW_VIRT


def play(ansible_bin, tmp_path, backend, *extra, check=True):
    return run([ansible_bin / "ansible-playbook", PLAYBOOK, "-e", f"lab_backend={backend}",
                "-e", f"caps_file={tmp_path / 'caps.json'}", *extra], check=check, timeout=1800)


def flat(proc):
    return " ".join(proc.stdout.split())


NON_FREE_SOURCES = Path("/etc/apt/sources.list.d/volt-netbench-non-free.sources")


def _root_netns_netservers() -> list[int]:
    """netserver processes listening in this (the root) network namespace."""
    mine = os.readlink("/proc/self/ns/net")
    out = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "netserver" and os.readlink(f"/proc/{pid}/ns/net") == mine:
                out.append(int(pid))
        except OSError:
            continue
    return out


def _other_sources_name_non_free() -> bool:
    files = [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*")]
    return any(re.search(r"\bnon-free\b", f.read_text(errors="replace")) for f in files
               if f.is_file() and f != NON_FREE_SOURCES and f.suffix in (".list", ".sources"))


def test_capabilities_installed_host(ansible_bin, tmp_path):
    # with the native reference's tools: netperf from non-free where no source names it (Debian)
    play(ansible_bin, tmp_path, "virtio", "-e", "lab_native=true")
    caps = json.loads((tmp_path / "caps.json").read_text())
    assert caps["tools"]["netperf"] and caps["tools"]["netserver"], caps["tools"]
    assert NON_FREE_SOURCES.is_file() or _other_sources_name_non_free()
    if NON_FREE_SOURCES.is_file():
        text = NON_FREE_SOURCES.read_text()
        assert "Components: non-free" in text and re.search(r"^Suites: \S+$", text, re.M)
    assert not _root_netns_netservers(), "the netserver the package started is left listening on the host"
    assert caps["kvm_usable"] is KVM_USABLE
    assert caps["accelerator"] == ("kvm" if KVM_USABLE else "tcg")
    if os.path.exists("/dev/kvm") and not HAS_HW_VIRT:
        assert "shows neither vmx nor svm" in caps["kvm_reason"]
    assert caps["vhost_net"] == ("available" if os.path.exists("/dev/vhost-net") else caps["vhost_net"])
    assert re.match(r"^\d+\.\d+", caps["qemu_version"])
    assert caps["kernel"] == os.uname().release
    assert caps["ram_bytes"] > 0 and caps["cpu_count"] == os.cpu_count()
    assert caps["tun"] is True and caps["backend"] == "virtio"
    # a second run installs and changes nothing
    again = play(ansible_bin, tmp_path, "virtio", "-e", "lab_native=true")
    assert re.search(r"changed=0\s+unreachable=0\s+failed=0", again.stdout)


@pytest.mark.skipif(os.path.exists("/dev/vhost-net"), reason="this host has /dev/vhost-net")
def test_vhost_net_is_refused_with_the_reason(ansible_bin, tmp_path):
    proc = play(ansible_bin, tmp_path, "vhost-net", "-e", "lab_install=false", check=False)
    assert proc.returncode == 2
    text = flat(proc)
    assert "backend vhost-net is not available on this host: /dev/vhost-net does not exist" in text
    assert ("QEMU would abort on vhost=on. Load the vhost_net kernel module (modprobe vhost_net) on a kernel that "
            "has it, or choose another backend (-e backend=virtio or -e backend=macvtap).") in text
    assert not (tmp_path / "caps.json").exists()


@pytest.mark.skipif(KVM_USABLE, reason="this host has usable KVM")
def test_kvm_required_but_unusable(ansible_bin, tmp_path):
    proc = play(ansible_bin, tmp_path, "virtio", "-e", "lab_accelerator=kvm", "-e", "lab_install=false", check=False)
    assert proc.returncode == 2
    assert "hypervisor_accelerator=kvm but KVM is not usable here:" in flat(proc)
    assert "Use hypervisor_accelerator=auto (or tcg) to run under TCG." in flat(proc)


def test_macvtap_lower_device_missing(ansible_bin, tmp_path):
    proc = play(ansible_bin, tmp_path, "macvtap", "-e", "lab_lower=vnbnosuch0", "-e", "lab_install=false",
                check=False)
    assert proc.returncode == 2
    assert ("backend macvtap needs the lower device vnbnosuch0, which does not exist on this host: set "
            "hypervisor_macvtap_lower (host_network_macvtap_lower) to an existing NIC") in flat(proc)


def test_unknown_backend_is_refused_by_the_argument_spec(ansible_bin, tmp_path):
    proc = play(ansible_bin, tmp_path, "vhost", "-e", "lab_install=false", check=False)
    assert proc.returncode == 2
    assert "value of hypervisor_backend must be one of: virtio, vhost-net, macvtap, got: vhost" in flat(proc)


def test_every_requested_backend_gets_a_decision(ansible_bin, tmp_path):
    """backend=all asks about all three (it used to ask about virtio only, so vhost_net was never loaded);
    with require_backends=false nothing is refused and each decision carries its reason."""
    proc = play(ansible_bin, tmp_path, "virtio", "-e", '{"lab_backends": ["virtio", "vhost-net", "macvtap"]}',
                "-e", "lab_require=false", "-e", "lab_install=false")
    assert proc.returncode == 0
    caps = json.loads((tmp_path / "caps.json").read_text())
    decisions = caps["backends"]
    assert set(decisions) == {"virtio", "vhost-net", "macvtap"}
    assert decisions["virtio"]["usable"] is True
    assert decisions["macvtap"]["usable"] is True
    if os.path.exists("/dev/vhost-net"):
        assert decisions["vhost-net"]["usable"] is True
    else:
        # loadable modules are loaded before deciding; this kernel has none
        assert decisions["vhost-net"]["usable"] is False
        assert decisions["vhost-net"]["reason"].startswith("backend vhost-net is not available on this host:")
        assert caps["loaded_modules"] == []
