# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files written as root only where they are meant to go.

The collection runs as root and writes into directories that other users may be able to touch: a results tree in
someone's checkout, a HOME that ``sudo -E`` kept. Every file it writes on the controller or a hypervisor goes
through this module, which follows one rule, the one OpenSSH applies to its own files (``safe_path``):

* **A directory on the way is trusted** when it is owned by root, by the writer, or - for a run started with sudo
  - by the user who ran sudo (who holds root already), and no one else may change its entries: not writable by
  group or others, unless its sticky bit is set (``/tmp``). Anything else is refused with
  :class:`UnsafePath`, which says which directory and what to do.
* **A symbolic link on the way is followed only when it is trusted the same way**: owned by a trusted user, in a
  trusted directory (a link another user planted is refused). The walk holds each directory open and takes the
  next step relative to it, so a directory swapped for a link while it is walked is refused, not followed.
* **A file is written through a temporary file of an unpredictable name**, created with ``O_CREAT | O_EXCL |
  O_NOFOLLOW`` inside the checked directory and renamed into place relative to that directory: a planted
  ``.NAME.tmp`` or a link at the target's name is never written through (the rename replaces the link itself).
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from typing import Callable

MAX_LINKS = 40
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class UnsafePath(OSError):
    """A path the collection will not write through; the message says which part and what to do."""

    def __init__(self, message: str):
        super().__init__(errno.EPERM, message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def trusted_uids(strict: bool = False) -> set[int]:
    """Who may own a directory the writer goes through: root, the writer, and - unless STRICT (private files: the
    lab's key, the controller's lab state) - the user whose sudo started it."""
    uids = {0, os.geteuid()}
    sudo_uid = os.environ.get("SUDO_UID", "")
    if os.geteuid() == 0 and sudo_uid.isdigit() and not strict:
        uids.add(int(sudo_uid))
    return uids


def _who(uid: int) -> str:
    try:
        import pwd  # pylint: disable=import-outside-toplevel

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (KeyError, ImportError):
        return f"uid {uid}"


def dir_problem(st: os.stat_result, path: str, strict: bool = False) -> str:
    """Why the directory PATH (its lstat/fstat ST) must not be written through ('' when it may)."""
    if st.st_uid not in trusted_uids(strict):
        return (f"{path} is owned by {_who(st.st_uid)}, who could swap what is in it for a link while this run "
                f"(uid {os.geteuid()}) writes there: chown it to root or to the user running the benchmark, or "
                "choose a directory of your own")
    if st.st_mode & 0o022 and not st.st_mode & stat.S_ISVTX:
        return (f"{path} has mode {stat.S_IMODE(st.st_mode):04o}: other users may replace what is in it; "
                f"chmod go-w {path}, or choose another directory")
    return ""


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part and part != "."]


def open_dir(path: str | os.PathLike, create: bool = False, mode: int = 0o755, strict: bool = False) -> int:
    """A descriptor of the directory PATH, reached from / through trusted directories and links only (see the
    module's rule; STRICT: without the sudo user); missing directories are created (MODE) when CREATE. The caller
    closes it."""
    path = os.path.abspath(os.fspath(path))
    queue = _components(path)
    where = "/"
    fd = os.open("/", _DIR_FLAGS)
    links = 0
    try:
        problem = dir_problem(os.fstat(fd), "/", strict)
        if problem:
            raise UnsafePath(problem)
        while queue:
            name = queue.pop(0)
            if name == "..":
                nxt = os.open("..", _DIR_FLAGS, dir_fd=fd)
                where = os.path.dirname(where.rstrip("/")) or "/"
            else:
                here = os.path.join(where, name)
                try:
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                except FileNotFoundError:
                    if not create:
                        raise
                    try:
                        os.mkdir(name, mode, dir_fd=fd)
                    except FileExistsError:
                        pass
                    st = os.stat(name, dir_fd=fd, follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    # the directory holding the link is trusted (checked on the way): the link must be too
                    if st.st_uid not in trusted_uids(strict):
                        raise UnsafePath(f"{here} is a symbolic link owned by {_who(st.st_uid)}: it is not "
                                         "followed; remove it, or name the directory it points to")
                    links += 1
                    if links > MAX_LINKS:
                        raise UnsafePath(f"{path}: too many symbolic links")
                    target = os.readlink(name, dir_fd=fd)
                    queue[:0] = _components(target)
                    if target.startswith("/"):
                        os.close(fd)
                        fd = os.open("/", _DIR_FLAGS)
                        where = "/"
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    raise NotADirectoryError(errno.ENOTDIR, "not a directory", here)
                try:
                    nxt = os.open(name, _DIR_FLAGS, dir_fd=fd)
                except OSError as err:
                    if err.errno == errno.ELOOP:
                        raise UnsafePath(f"{here} became a symbolic link while it was opened: not followed") from err
                    raise
                where = here
            os.close(fd)
            fd = nxt
            problem = dir_problem(os.fstat(fd), where, strict)
            if problem:
                raise UnsafePath(problem)
        return fd
    except BaseException:
        os.close(fd)
        raise


def ensure_dir(path: str | os.PathLike, mode: int = 0o755) -> None:
    """PATH exists as a trusted directory (created with MODE where missing); UnsafePath when it cannot be."""
    os.close(open_dir(path, create=True, mode=mode))


def make_new_dir(path: str | os.PathLike, mode: int = 0o755) -> None:
    """Create the directory PATH, which must not exist yet (FileExistsError), inside a trusted parent."""
    path = os.path.abspath(os.fspath(path))
    parent = open_dir(os.path.dirname(path), create=True)
    try:
        os.mkdir(os.path.basename(path), mode, dir_fd=parent)
    finally:
        os.close(parent)


def write_file(path: str | os.PathLike, data: str | bytes, mode: int = 0o644, create_dirs: bool = True,
               strict: bool = False) -> None:
    """Write DATA to PATH atomically inside its trusted directory (:func:`write_with`)."""
    data = data.encode("utf-8") if isinstance(data, str) else data

    def fill(fd: int) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]

    write_with(path, fill, mode=mode, create_dirs=create_dirs, strict=strict)


def write_with(path: str | os.PathLike, fill: Callable[[int], None], mode: int = 0o644, create_dirs: bool = True,
               strict: bool = False) -> None:
    """Make PATH atomically inside its trusted directory (see the module's rule): FILL(fd) writes a temporary file
    of an unpredictable name created O_EXCL | O_NOFOLLOW, which is then renamed over PATH relative to the directory
    held open. On failure the temporary file is removed and the error raised (PATH keeps its old content, or stays
    absent)."""
    path = os.path.abspath(os.fspath(path))
    name = os.path.basename(path)
    if not name or name in (".", ".."):
        raise IsADirectoryError(errno.EISDIR, "not a file name", path)
    dfd = open_dir(os.path.dirname(path), create=create_dirs, strict=strict)
    try:
        tmp = f".{name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dfd)
        try:
            try:
                fill(fd)
                os.fchmod(fd, mode)  # whatever the umask took away
            finally:
                os.close(fd)
            os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        except BaseException:
            try:
                os.unlink(tmp, dir_fd=dfd)
            except OSError:
                pass
            raise
    finally:
        os.close(dfd)


def read_file(path: str | os.PathLike) -> bytes | None:
    """The content of the regular file PATH, opened without following a link at its name (None when absent)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        return None
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise UnsafePath(f"{os.fspath(path)} is not a regular file")
        return handle.read()


def keep_private(path: str | os.PathLike, data: str | bytes) -> bool:
    """Keep DATA as the private file PATH (0600) in a private directory (:func:`ensure_private_dir`): a secret that
    no other user can read or swap. An existing PATH that is not this user's regular file is refused (UnsafePath,
    with what to do), never reused or written through. Returns whether PATH changed."""
    path = os.path.abspath(os.fspath(path))
    ensure_private_dir(os.path.dirname(path))
    problem = private_file_problem(path)
    if problem:
        raise UnsafePath(f"{problem}: it is not reused for a private file; remove it and run again")
    data = data.encode("utf-8") if isinstance(data, str) else data
    if read_file(path) == data and stat.S_IMODE(os.lstat(path).st_mode) == 0o600:
        return False
    write_file(path, data, mode=0o600, strict=True)
    return True


def private_file_problem(path: str | os.PathLike) -> str:
    """Why an existing file PATH must not be reused as a private file of this user ('' when absent or fine)."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ""
    if not stat.S_ISREG(st.st_mode):
        return f"{path} exists and is not a regular file (a symbolic link?)"
    if st.st_uid != os.geteuid():
        return f"{path} is owned by {_who(st.st_uid)}, not by this user (uid {os.geteuid()})"
    return ""


def ensure_private_dir(path: str | os.PathLike) -> None:
    """PATH is a directory only this user can use: reached through trusted directories, created 0700 where
    missing, owned by this user; a too-open one of ours is narrowed to 0700. UnsafePath otherwise."""
    fd = open_dir(path, create=True, mode=0o700, strict=True)
    try:
        st = os.fstat(fd)
        if st.st_uid != os.geteuid():
            raise UnsafePath(f"{os.fspath(path)} is owned by {_who(st.st_uid)}, not by this user "
                             f"(uid {os.geteuid()}): private files are not kept there; remove it, or choose "
                             "another directory")
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, 0o700)
    finally:
        os.close(fd)
