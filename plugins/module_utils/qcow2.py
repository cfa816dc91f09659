# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A given cloud image, checked by what QEMU will open, and the private copy the guests boot from.

QEMU opens its drives as root, before ``-runas`` drops privileges: whatever file an image names, QEMU opens too.
A qcow2 image can name two: a *backing file* (the header's backing_file_offset) and an *external data file*
(incompatible feature bit 2, with the file's name in header extension 0x44415441; ``qemu-img create -o
data_file=/dev/sdX,data_file_raw=on``) - the second hands the guest a host device. Both are refused here by
reading the header in Python, before any QEMU tool opens the image.

The image is checked on a **copy in a directory only root can use**, read once from one open descriptor: the
guests' overlays are made on the copy, so the file QEMU opens is the file that was checked and no one can swap it
between the check and the boot. The copy is kept, keyed by the source's identity (device, inode, size, change
time), so an unchanged image is not copied again.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import struct

from ansible_collections.volt.netbench.plugins.module_utils import safefs

MAGIC = b"QFI\xfb"
INCOMPAT_DATA_FILE = 1 << 2
EXT_DATA_FILE = 0x44415441
EXT_END = 0
HEADER_READ = 1 << 16  # the header and its extensions lie in the first cluster (at most 64 KiB is read)
OTHER_FORMATS = ((b"KDMV", "vmdk"), (b"# Disk DescriptorFile", "vmdk"), (b"QED\0", "qed"), (b"vhdxfile", "vhdx"),
                 (b"conectix", "vpc"), (b"<<< Oracle VM VirtualBox Disk Image >>>", "vdi"))


class ImageError(Exception):
    """The image cannot be used; the message says why and what to do."""


def image_format(head: bytes) -> str:
    """The format HEAD (the file's first bytes) announces: qcow2, another known format, or raw."""
    if head.startswith(MAGIC):
        return "qcow2"
    return next((name for magic, name in OTHER_FORMATS if head.startswith(magic)), "raw")


def header_refs(head: bytes) -> dict[str, str]:
    """The files a qcow2 header (HEAD: its first bytes) makes QEMU open besides the image: ``backing`` and
    ``data_file`` (the name, or '(unnamed)'), empty when none. ImageError when HEAD is not a whole qcow2 header."""
    if len(head) < 72 or not head.startswith(MAGIC):
        raise ImageError("not a qcow2 header")
    version, backing_offset, backing_size = struct.unpack_from(">IQI", head, 4)
    refs: dict[str, str] = {}
    if backing_offset:
        name = head[backing_offset:backing_offset + backing_size] if backing_offset + backing_size <= len(head) else b""
        refs["backing"] = name.decode("utf-8", "replace") or "(unnamed)"
    if version < 3:
        return refs
    if len(head) < 104:
        raise ImageError("a qcow2 version 3 header cut short")
    incompatible = struct.unpack_from(">Q", head, 72)[0]
    header_length = struct.unpack_from(">I", head, 100)[0]
    offset = max(header_length, 104)
    while offset + 8 <= len(head):
        kind, length = struct.unpack_from(">II", head, offset)
        if kind == EXT_END:
            break
        if kind == EXT_DATA_FILE:
            refs["data_file"] = head[offset + 8:offset + 8 + length].decode("utf-8", "replace") or "(unnamed)"
        offset += 8 + (length + 7) // 8 * 8
    if incompatible & INCOMPAT_DATA_FILE:
        refs.setdefault("data_file", "(unnamed)")
    return refs


def problem(src: str, head: bytes) -> str:
    """Why the image SRC (its first bytes HEAD) must not be booted ('' when it may), with what to do."""
    fmt = image_format(head)
    flatten = f"qemu-img convert -O qcow2 {src} IMAGE.qcow2"
    if fmt != "qcow2":
        return (f"guest_image_path {src} is {fmt}, not qcow2: the guests boot from qcow2 overlays on top of it. "
                f"Convert it once: {flatten}")
    try:
        refs = header_refs(head)
    except ImageError as err:
        return f"guest_image_path {src} is not a usable qcow2 image ({err})"
    if "backing" in refs:
        return (f"guest_image_path {src} has a backing file ({refs['backing']}): QEMU, as root, would open that file "
                f"too, wherever it points. Flatten the image once: {flatten}")
    if "data_file" in refs:
        return (f"guest_image_path {src} has an external data file ({refs['data_file']}): QEMU, as root, would give "
                f"the guests that file or device. Make a self-contained image once: {flatten}")
    return ""


def _identity(st: os.stat_result) -> dict[str, int]:
    return {"dev": st.st_dev, "ino": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns}


def private_copy(src: str, dest: str) -> dict:
    """Check the image SRC and keep the copy the guests boot from as DEST (0600, in a 0700 directory of root's
    own; safefs). Returns {disk, copied, size}; ImageError with what to do when the image must not be used."""
    try:
        fd = os.open(src, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as err:
        raise ImageError(f"guest_image_path {src}: {err.strerror}") from err
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ImageError(f"guest_image_path {src} is not a regular file")
        why = problem(src, os.pread(fd, HEADER_READ, 0))
        if why:
            raise ImageError(why)
        record_path = f"{dest}.source.json"
        source = {"path": os.path.realpath(src), **_identity(st)}
        safefs.ensure_private_dir(os.path.dirname(dest))
        kept = safefs.read_file(record_path) if not safefs.private_file_problem(dest) else None
        if kept and json.loads(kept) == source and os.path.isfile(dest) and _checked(dest, src) == "":
            return {"disk": dest, "copied": False, "size": st.st_size}
        _copy(fd, st.st_size, dest)
        why = _checked(dest, src)
        if why:
            os.unlink(dest)
            raise ImageError(why)
        safefs.keep_private(record_path, json.dumps(source, sort_keys=True))
        return {"disk": dest, "copied": True, "size": st.st_size}
    finally:
        os.close(fd)


def _checked(path: str, src: str) -> str:
    """The copy's own check: what QEMU will open is the copy, so the copy's header is what counts."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        return problem(src, os.pread(fd, HEADER_READ, 0))
    finally:
        os.close(fd)


def _copy(src_fd: int, size: int, dest: str) -> None:
    """Copy SIZE bytes of SRC_FD to DEST (0600) through a private temporary file renamed into place."""

    def fill(out: int) -> None:
        offset = 0
        while offset < size:
            try:
                done = os.copy_file_range(src_fd, out, size - offset, offset, offset)
            except OSError as err:
                if err.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                done = os.write(out, os.pread(src_fd, min(1 << 20, size - offset), offset))
            if not done:
                break
            offset += done

    safefs.write_with(dest, fill, mode=0o600, strict=True)
