"""Shared helpers of the integration tests (imported as `helpers`; pytest puts this directory on sys.path)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# the unit tests' builders the integration tests reuse (test_report_statistics.record, test_history's nights,
# test_regression's trees): their group directories, put on sys.path by conftest.py
UNIT_BUILDERS = [str(ROOT / "tests" / "unit" / "plugins" / "plugin_utils" / group) for group in ("report", "history")]


def run(args, *, cwd=ROOT, env=None, check=True, timeout=900):
    """Run a command, print its output on failure, return the CompletedProcess."""
    full_env = {**os.environ, "ANSIBLE_FORCE_COLOR": "0", "ANSIBLE_NOCOLOR": "1", **(env or {})}
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        pytest.fail(f"{' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout[-6000:]}\n{proc.stderr[-4000:]}")
    return proc


def chrome(binary: str, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium (the chromium fixture's binary) with ARGS, e.g. --dump-dom URL or --screenshot=PNG URL."""
    return subprocess.run([binary, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           "--force-device-scale-factor=1", *args], capture_output=True, text=True, timeout=120,
                          check=True)


def tracked_files() -> list[str]:
    """The checkout's files as a clean clone (plus files not yet committed, not ignored) has them: no results, no
    index, no venv."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode()
        return [f for f in listed.split("\0") if f and (ROOT / f).exists()]
    return [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file() and ".venv" not in p.parts]


def copy_checkout(dest: Path) -> Path:
    """A copy of the checkout's tracked files at DEST (links copied as links); returns DEST."""
    for rel in tracked_files():
        src = ROOT / rel
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            (dest / rel).symlink_to(src.readlink())
        else:
            shutil.copy2(src, dest / rel)
    return dest
