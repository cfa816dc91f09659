"""A given cloud image is checked by what QEMU would open: images made with qemu-img exactly as an attacker would
(a backing file, an external data file naming a host file), checked in Python before any QEMU tool opens them."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess

import pytest

from ansible_collections.volt.netbench.plugins.module_utils import qcow2

pytestmark = pytest.mark.skipif(shutil.which("qemu-img") is None, reason="qemu-img (qemu-utils) is not installed")


def make(path, *args, size="16M"):
    subprocess.run(["qemu-img", "create", "-q", *args, str(path), *([size] if size else [])], check=True)
    return path


def test_a_self_contained_image_is_copied_once_and_the_copy_is_private(tmp_path):
    src = make(tmp_path / "cloud.qcow2", "-f", "qcow2")
    dest = tmp_path / "cache" / "cloud-x" / "disk.qcow2"
    first = qcow2.private_copy(str(src), str(dest))
    assert first == {"disk": str(dest), "copied": True, "size": src.stat().st_size}
    assert dest.read_bytes() == src.read_bytes()
    assert stat.S_IMODE(dest.stat().st_mode) == 0o600 and stat.S_IMODE(dest.parent.stat().st_mode) == 0o700
    assert qcow2.private_copy(str(src), str(dest))["copied"] is False  # unchanged: the kept copy is used
    # the image changed (its change time moves, whatever its size and mtime say): copied again
    with open(src, "r+b") as handle:
        handle.seek(src.stat().st_size - 1)
        handle.write(handle.read(1) or b"\0")
    assert qcow2.private_copy(str(src), str(dest))["copied"] is True


@pytest.mark.parametrize("compat", ["1.1", "0.10"])
def test_a_backing_file_is_refused_before_anything_is_copied(tmp_path, compat):
    base = make(tmp_path / "base.raw", "-f", "raw")
    src = make(tmp_path / "cloud.qcow2", "-f", "qcow2", "-o", f"compat={compat}", "-F", "raw", "-b", str(base), size=None)
    dest = tmp_path / "cache" / "disk.qcow2"
    with pytest.raises(qcow2.ImageError, match=rf"guest_image_path {src} has a backing file \({base}\): QEMU, as "
                                               r"root, would open that file too"):
        qcow2.private_copy(str(src), str(dest))
    assert not dest.exists()


def test_an_external_data_file_is_refused_and_the_named_file_left_alone(tmp_path):
    """The issue's reproduction: data_file=<a file>,data_file_raw=on hands the guest that file (or device)."""
    victim = tmp_path / "victim.bin"
    src = make(tmp_path / "cloud.qcow2", "-f", "qcow2", "-o", f"data_file={victim},data_file_raw=on", size="64M")
    victim.write_bytes(b"host data" * 1000)  # what the host keeps there (qemu-img create made the file)
    before = victim.read_bytes(), victim.stat().st_mtime_ns
    assert qcow2.header_refs(src.read_bytes()[:qcow2.HEADER_READ]) == {"data_file": str(victim)}
    with pytest.raises(qcow2.ImageError, match=rf"guest_image_path {src} has an external data file \({victim}\): "
                                               r"QEMU, as root, would give the guests that file or device\. Make a "
                                               rf"self-contained image once: qemu-img convert -O qcow2 {src} "):
        qcow2.private_copy(str(src), str(tmp_path / "cache" / "disk.qcow2"))
    assert (victim.read_bytes(), victim.stat().st_mtime_ns) == before
    assert not (tmp_path / "cache" / "disk.qcow2").exists()


def test_other_formats_are_named_and_refused(tmp_path):
    for fmt, expected in (("raw", "raw"), ("vmdk", "vmdk"), ("qed", "qed")):
        src = make(tmp_path / f"image.{fmt}", "-f", fmt)
        with pytest.raises(qcow2.ImageError, match=rf"is {expected}, not qcow2: the guests boot from qcow2 overlays"):
            qcow2.private_copy(str(src), str(tmp_path / "cache" / "disk.qcow2"))


def test_a_copy_replaced_in_the_cache_is_checked_again(tmp_path):
    """The kept copy is what QEMU opens: a copy that no longer passes the check is made again from the source."""
    src = make(tmp_path / "cloud.qcow2", "-f", "qcow2")
    dest = tmp_path / "cache" / "disk.qcow2"
    qcow2.private_copy(str(src), str(dest))
    base = make(tmp_path / "base.raw", "-f", "raw")
    os.unlink(dest)
    make(dest, "-f", "qcow2", "-F", "raw", "-b", str(base), size=None)
    os.chmod(dest, 0o600)
    assert qcow2.private_copy(str(src), str(dest))["copied"] is True
    assert dest.read_bytes() == src.read_bytes()
