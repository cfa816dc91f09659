# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the collection's files on the controller: atomically, leaving no temporary file behind when
the write fails, and saying what a failed write means (which directory, how much room is left)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path


def write_atomic(path: str | os.PathLike, data: str | bytes) -> None:
    """Write DATA to PATH through a temporary file beside it; on failure the temporary file is removed and
    the OSError is raised again (PATH keeps its old content, or stays absent)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        else:
            tmp.write_text(data, encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def write_problem(err: OSError, directory: str | os.PathLike) -> str:
    """What a failed write says: the error, the directory, and with a full disk how much room is left."""
    text = f"could not write in {directory}: {err.strerror or err}"
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        try:
            usage = shutil.disk_usage(directory)
            text += (f" ({usage.free // 1024:,} KiB free of {usage.total // 1024:,} KiB): free some space or point "
                     "results_dir at a larger file system; the measurements already written stay")
        except OSError:
            pass
    return text
