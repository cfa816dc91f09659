# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watchdog that finishes a benchmark whose ansible-playbook died (Ctrl-C, SIGTERM, crash).

ansible-playbook does not run ``always`` sections when it is interrupted, so the benchmark
starts this process first (volt.netbench.watchdog). It polls the ansible-playbook PID; when that
process is gone while the lab lock is still held by it, it tears the local lab down (QEMU
guests, SSH control masters, namespace, character devices, state), records the interrupted run
from its progress file, rewrites the report and releases the lock. When the lock is released
normally first, it exits without doing anything.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils.lab import (
    control_match, kill_netns, lock_held_by, sampler_pidfile)


INTERRUPTED = "interrupted: ansible-playbook ended before the run finished"
INTERRUPTED_UNREACHED = "the benchmark was interrupted"


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def kill_matching(needle: str) -> None:
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if needle in cmdline:
            try:
                os.kill(int(proc.name), signal.SIGTERM)
            except OSError:
                pass


def teardown(cfg: dict[str, Any]) -> None:
    if cfg.get("state_dir"):
        from ansible_collections.volt.netbench.plugins.module_utils.qemu import stop_all

        for error in stop_all(cfg["state_dir"]):
            print(f"watchdog: {error}", file=sys.stderr)
    if cfg.get("controller_dir"):
        kill_matching(control_match(cfg["controller_dir"]))
    for extra in cfg.get("extra_netns") or []:
        kill_netns(extra)  # the native reference's namespaces and the traffic servers in them
    netns = cfg.get("netns")
    if netns and cfg.get("manage_netns", True):
        kill_netns(netns)
    for key in ("state_dir", "chardev_dir", "controller_dir", "job_dir"):
        if cfg.get(key):
            shutil.rmtree(cfg[key], ignore_errors=True)
    if cfg.get("cpu_samples"):
        # the CPU sampler's files, as volt.netbench.cpu_sampler named them (it ends by itself with the guests)
        for path in (cfg["cpu_samples"], sampler_pidfile(cfg["cpu_samples"])):
            Path(path).unlink(missing_ok=True)


def record_interrupted(cfg: dict[str, Any]) -> None:
    from ansible_collections.volt.netbench.plugins.plugin_utils.report import build_report, write_report
    from ansible_collections.volt.netbench.plugins.plugin_utils.results import ResultsError, record_from_progress

    from ansible_collections.volt.netbench.plugins.plugin_utils.run_control import read_progress

    run_dirs = list(cfg.get("run_dirs") or []) + ([cfg["run_dir"]] if cfg.get("run_dir") else [])
    for run_dir in map(Path, run_dirs):
        if not read_progress(run_dir) or (run_dir / "run.json").exists():
            continue
        try:
            record_from_progress(run_dir, unreached_reason=INTERRUPTED_UNREACHED, reason=INTERRUPTED)
        except (ResultsError, OSError) as err:
            print(f"watchdog: could not record {run_dir}: {err}", file=sys.stderr)
    results_dir = cfg.get("results_dir")
    # only a watchdog that had runs to record rewrites the report (a cross-host pair's server side has none: its
    # client's watchdog writes the pair's)
    if results_dir and run_dirs:
        try:
            write_report(build_report(results_dir, baseline=cfg.get("baseline") or "virtio",
                                      display_dir=cfg.get("display_dir")), results_dir)
        except ResultsError as err:
            print(f"watchdog: no report: {err}", file=sys.stderr)


def finished(config_path: str, owner: int) -> int:
    """Remove this watchdog's configuration (and its log when the watchdog had nothing to say) once its run
    is over - unless the next run of the same lab has written its own already."""
    if (read_json(Path(config_path)) or {}).get("owner_pid") != owner:
        return 0
    Path(config_path).unlink(missing_ok=True)
    log = Path(config_path).with_suffix(".log")
    try:
        if log.stat().st_size == 0:
            log.unlink()
    except OSError:
        pass
    return 0


def main(config_path: str) -> int:
    cfg = json.loads(Path(config_path).read_text(encoding="utf-8"))
    owner = int(cfg["owner_pid"])
    lock = Path(cfg["lock"])
    while pid_alive(owner):
        if not lock_held_by(str(lock), owner):
            return finished(config_path, owner)  # the run released its lab normally
        time.sleep(1)
    if not lock_held_by(str(lock), owner):
        return finished(config_path, owner)
    # the run's configuration may have been updated (current run directory) while it ran
    cfg.update(read_json(Path(config_path)) or {})
    if cfg.get("local", True):
        teardown(cfg)
    record_interrupted(cfg)
    try:
        lock.unlink()
    except OSError:
        pass
    return finished(config_path, owner)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
