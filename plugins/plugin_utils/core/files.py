# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Writing the collection's files on the controller: atomically, leaving no temporary file behind when
the write fails, never through a link or a directory another user controls (module_utils.safefs), and saying
what a failed write means (which directory, how much room is left)."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils import safefs


def write_atomic(path: str | os.PathLike, data: str | bytes, mode: int = 0o644) -> None:
    """Write DATA to PATH through a temporary file of an unpredictable name in PATH's checked directory (created
    when missing; safefs.write_file); on failure the temporary file is removed and the OSError raised again (PATH
    keeps its old content, or stays absent). safefs.UnsafePath (an OSError) when the directory is not trusted."""
    safefs.write_file(path, data, mode=mode)


def ensure_dir(path: str | os.PathLike) -> Path:
    """PATH as a trusted directory, created where missing (safefs.ensure_dir)."""
    safefs.ensure_dir(path)
    return Path(path)


def is_file_name(value: Any) -> bool:
    """Whether VALUE names a plain file inside a directory: a non-empty string without '/' or NUL that does not start
    with '.' (no parent, no hidden or temporary file) - how a run names its files, checked again wherever read."""
    return isinstance(value, str) and bool(value) and "/" not in value and "\0" not in value and value[0] != "."


# A cell that starts with one of these is a formula to a spreadsheet (CSV injection): such text is quoted.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """VALUE as a CSV cell a spreadsheet shows as text: a string that would start a formula gets a leading
    apostrophe (OWASP's advice); numbers, and strings that are plain numbers (-3.5), stay as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value


def csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """Every cell of ROW through :func:`csv_safe`."""
    return {key: csv_safe(value) for key, value in row.items()}


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
