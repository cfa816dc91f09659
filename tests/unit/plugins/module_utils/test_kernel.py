"""The one decision on which backends this host can run (module_utils/kernel.backend_support)."""

from __future__ import annotations

import pytest

from ansible_collections.volt.netbench.plugins.module_utils.kernel import backend_support, modules_to_load

HOST = {"tun": True, "vhost_net": "available", "vhost_net_reason": "/dev/vhost-net present", "macvtap": "loadable"}


def usable(support):
    return {name: d["usable"] for name, d in support.items()}


def test_a_full_host_runs_everything():
    assert usable(backend_support(HOST)) == {"virtio": True, "vhost-net": True, "macvtap": True}


def test_this_machine_without_vhost_net():
    caps = dict(HOST, vhost_net="missing", vhost_net_reason=(
        "/dev/vhost-net does not exist and this kernel has no vhost_net module (CONFIG_VHOST_NET=n)"))
    support = backend_support(caps)
    assert usable(support) == {"virtio": True, "vhost-net": False, "macvtap": True}
    assert support["vhost-net"]["reason"].startswith(
        "backend vhost-net is not available on this host: /dev/vhost-net does not exist and this kernel has no "
        "vhost_net module (CONFIG_VHOST_NET=n). QEMU would abort on vhost=on.")


def test_a_loadable_vhost_net_is_loaded_whenever_vhost_net_is_requested():
    caps = dict(HOST, vhost_net="loadable")
    # backend=all asks for all three: the module is loaded (this was the bug: all was told 'virtio')
    assert modules_to_load(caps, ["virtio", "vhost-net", "macvtap"], True) == ["vhost_net"]
    assert modules_to_load(caps, ["virtio"], True) == []
    assert modules_to_load(caps, ["vhost-net"], False) == []
    assert modules_to_load(HOST, ["vhost-net"], True) == []  # already there
    # not loaded (load_modules=false): refused, with what to do
    assert not backend_support(caps)["vhost-net"]["usable"]


def test_no_tun_stops_both_tap_backends():
    support = backend_support(dict(HOST, tun=False))
    assert usable(support) == {"virtio": False, "vhost-net": False, "macvtap": True}
    assert support["virtio"]["reason"] == ("backend virtio needs /dev/net/tun, which does not exist: "
                                           "load the tun module (modprobe tun).")


@pytest.mark.parametrize("kw, ok, text", [
    ({"lab_in_netns": True}, True, "on the lab's own veth"),
    ({"macvtap_lower": "ens1f0", "lower_exists": True, "lab_in_netns": False}, True, "on ens1f0"),
    ({"macvtap_lower": "vnbnosuch0", "lower_exists": False, "lab_in_netns": False}, False,
     "backend macvtap needs the lower device vnbnosuch0, which does not exist on this host"),
    ({"macvtap_lower": "", "lab_in_netns": False}, False, "backend macvtap has no lower device"),
])
def test_macvtap_needs_a_lower_device(kw, ok, text):
    decision = backend_support(HOST, **kw)["macvtap"]
    assert decision["usable"] is ok
    assert text in decision["reason"]


def test_a_kernel_without_macvtap():
    decision = backend_support(dict(HOST, macvtap="missing"))["macvtap"]
    assert not decision["usable"]
    assert "(CONFIG_MACVTAP)" in decision["reason"]
