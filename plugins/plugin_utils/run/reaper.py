# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Watchdog that finishes a benchmark whose ansible-playbook died (Ctrl-C, SIGTERM, crash).

ansible-playbook does not run ``always`` sections when it is interrupted, so the benchmark
starts this process first (volt.netbench.watchdog). It polls the ansible-playbook PID; when that
process is gone while the lab lock is still held by it, it tears the local lab down (QEMU
guests, SSH control masters, namespace, character devices, state), records the interrupted run
from its progress file, rewrites the report and releases the lock. When the lock is released
normally first, it exits without doing anything. A remote hypervisor's lab is its guard's
(module_utils.lab.guard, on the hypervisor): this process refreshes the guard's heartbeat over SSH
while the run lives, and only records the run when ansible-playbook dies.
"""

from __future__ import annotations

import json
import os
import shutil
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils.lab import (
    LAB_ROOTS, control_match, controller_alive, lock_held_by, private_file, teardown_lab, within)


INTERRUPTED = "interrupted: ansible-playbook ended before the run finished"
INTERRUPTED_UNREACHED = "the benchmark was interrupted"


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def kill_matching(needle: str) -> list[int]:
    """SIGTERM this user's ssh processes whose command line holds NEEDLE (a lab's SSH control masters): each
    checked again on the process a pidfd pins before it is signalled. Returns the PIDs signalled."""
    from ansible_collections.volt.netbench.plugins.module_utils.procs import cmdline, owner, signal_if

    def meant(pid: int) -> bool:
        line = cmdline(pid)
        return (owner(pid) == os.geteuid() and needle in line
                and os.path.basename(line.split(" ", 1)[0]) == "ssh")

    signalled = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        if meant(int(proc.name)) and signal_if(int(proc.name), signal.SIGTERM, meant):
            signalled.append(int(proc.name))
    return signalled


def teardown(cfg: dict[str, Any], local: bool = True, roots=LAB_ROOTS, controller_root: str | None = None) -> None:
    """An interrupted run's teardown: a local lab's hypervisor side (module_utils.lab.teardown_lab, inside ROOTS
    and the namespaces that carry the lab's mark; a remote lab's is its guard's) and, on the controller, the
    guests' SSH control masters and their directory (only inside CONTROLLER_ROOT, the watchdog's own)."""
    for line in teardown_lab(cfg, roots) if local else []:
        if line.startswith(("guest error: ", "refused: ")):
            print(f"watchdog: {line.split(': ', 1)[1] if line.startswith('guest error') else line}", file=sys.stderr)
    if cfg.get("controller_dir"):
        if controller_root and not within(cfg["controller_dir"], [controller_root]):
            print(f"watchdog: refused: controller_dir {cfg['controller_dir']} is outside {controller_root}: "
                  "left alone", file=sys.stderr)
            return
        kill_matching(control_match(cfg["controller_dir"]))
        shutil.rmtree(cfg["controller_dir"], ignore_errors=True)


def record_interrupted(cfg: dict[str, Any]) -> None:
    from ansible_collections.volt.netbench.plugins.plugin_utils.report import build_report, write_report
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import LOCAL_HOST, ResultsError, record_from_progress

    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import read_progress

    run_dirs = list(cfg.get("run_dirs") or []) + ([cfg["run_dir"]] if cfg.get("run_dir") else [])
    for run_dir in map(Path, run_dirs):
        if not read_progress(run_dir) or (run_dir / "run.json").exists():
            continue
        try:
            record_from_progress(run_dir, unreached_reason=INTERRUPTED_UNREACHED, reason=INTERRUPTED)
        except (ResultsError, OSError) as err:
            print(f"watchdog: could not record {run_dir}: {err}", file=sys.stderr)
            continue
        if cfg.get("store"):
            from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import keep_run

            try:
                keep_run(cfg["store"], run_dir, cfg.get("store_host") or LOCAL_HOST)
            except (ResultsError, OSError) as err:
                print(f"watchdog: {run_dir} is recorded, but not in the results store: {err}", file=sys.stderr)
    results_dir = cfg.get("results_dir")
    # only a watchdog that had runs to record rewrites the report (a cross-host pair's server side has none: its
    # client's watchdog writes the pair's)
    # a sweep's runs (<run id>+mtu-9000) are its own report's: that one is written (results/sweeps/<run id>/)
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.sweep import split_run_key

    sweeps = sorted({split_run_key(Path(d).name)[0] for d in run_dirs if split_run_key(Path(d).name)[1]})
    if results_dir and run_dirs:
        try:
            if sweeps:
                from ansible_collections.volt.netbench.plugins.plugin_utils.report.sweep import build_sweep, write_sweep

                for run_id in sweeps:
                    write_sweep(build_sweep(results_dir, run_id, baseline=cfg.get("baseline") or "virtio",
                                            display_dir=cfg.get("display_dir"), store=cfg.get("store") or "",
                                            store_host=cfg.get("store_host") or LOCAL_HOST), results_dir)
            else:
                write_report(build_report(results_dir, baseline=cfg.get("baseline") or "virtio",
                                          display_dir=cfg.get("display_dir"), store=cfg.get("store") or "",
                                          store_host=cfg.get("store_host") or LOCAL_HOST), results_dir)
        except (ResultsError, OSError) as err:
            print(f"watchdog: no report: {err}", file=sys.stderr)


def finished(config_path: str, owner: int) -> int:
    """Remove this watchdog's configuration (and its log when the watchdog had nothing to say) once its run
    is over - unless the next run of the same lab has written its own already."""
    current = read_json(Path(config_path))
    if current is not None and current.get("owner_pid") != owner:
        return 0
    # gone already when the run removed it (state=finished); the empty log is this watchdog's either way
    Path(config_path).unlink(missing_ok=True)
    log = Path(config_path).with_suffix(".log")
    try:
        if log.stat().st_size == 0:
            log.unlink()
    except OSError:
        pass
    return 0


# How often the watchdog of a remote hypervisor's run refreshes the heartbeat its guard watches.
HEARTBEAT_EVERY = 5.0


def send_heartbeat(heartbeat: dict[str, Any]) -> str:
    """Touch the hypervisor's heartbeat file over SSH (``ssh``: the argv that reaches the hypervisor). Returns why
    it was not refreshed ('' when it was): ssh's or touch's failure (a user who may not touch the root-owned file,
    an sshd that refuses new connections), or a file gone (the guard fired, or the run ended)."""
    path = heartbeat["path"]
    # touch -c creates nothing; test -f afterwards tells a refreshed file from a missing one
    quoted = shlex.quote(path)
    try:
        proc = subprocess.run([*heartbeat["ssh"], f"touch -c -- {quoted} && test -f {quoted}"], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=20, check=False)
    except (OSError, subprocess.SubprocessError) as err:
        return str(err)
    if proc.returncode:
        said = " ".join((proc.stderr or "").split())[-200:]
        return f"rc={proc.returncode}: " + (said or MISSING)
    return ""


MISSING = "the file is missing, or not this user's to touch"


class Heartbeats:
    """Counts the heartbeats that did not reach the hypervisor and says so in the watchdog's log: each failure with
    how many in a row and in all, and how long the guard has left at most before it tears a live run's lab down. A
    file missing before any heartbeat reached it is no failure: the guard, started after the watchdog, has not
    written it yet."""

    def __init__(self):
        self.sent = self.failed = self.in_a_row = 0
        self.last_ok = time.monotonic()
        self.reached = False

    def note(self, problem: str, stale_after: float) -> None:
        self.sent += 1
        if not problem:
            self.in_a_row, self.last_ok, self.reached = 0, time.monotonic(), True
            return
        if not self.reached and problem.endswith(MISSING):
            return
        self.failed += 1
        self.in_a_row += 1
        left = max(0.0, float(stale_after or 600) - (time.monotonic() - self.last_ok))
        print(f"watchdog: heartbeat not refreshed ({problem}); {self.in_a_row} in a row, {self.failed} of "
              f"{self.sent} in all; the hypervisor's guard tears the lab down after {left:.0f} s more without one",
              file=sys.stderr, flush=True)


def main(config_path: str) -> int:
    """Watch the run's ansible-playbook. A local lab's run ends normally when it releases the lock; a remote
    one's when the run removes this configuration (volt.netbench.watchdog state=finished) - meanwhile this
    refreshes the heartbeat of the hypervisor's guard. When ansible-playbook dies first: a local lab is torn
    down here; a remote lab is left to its guard (the heartbeat stops); the runs are recorded either way."""
    path = Path(config_path)
    # the watchdog acts on what its configuration names (as root for a local lab): only a file this user owns,
    # in a directory only this user may change, is trusted
    problem = private_file(config_path)
    if problem:
        print(f"watchdog: ignoring {config_path}: {problem}", file=sys.stderr)
        return 1
    cfg = json.loads(path.read_text(encoding="utf-8"))
    owner = int(cfg["owner_pid"])
    lock = Path(cfg["lock"])
    local = cfg.get("local", True)
    beat = 0.0
    beats = Heartbeats()
    # the run's ansible-playbook by its PID and its start time: a PID reused after it ended is not the run
    while controller_alive(owner, cfg.get("owner_start")):
        current = read_json(path)
        if (local and not lock_held_by(str(lock), owner)) or (not local and current is None):
            return finished(config_path, owner)  # the run ended normally
        if (current or {}).get("heartbeat") and time.monotonic() - beat >= HEARTBEAT_EVERY:
            beats.note(send_heartbeat(current["heartbeat"]), current["heartbeat"].get("stale_after"))
            beat = time.monotonic()
        time.sleep(1)
    current = None if private_file(config_path) else read_json(path)
    if (local and not lock_held_by(str(lock), owner)) or (not local and current is None):
        return finished(config_path, owner)
    # the run's configuration may have been updated (current run directory) while it ran
    cfg.update(current or {})
    teardown(cfg, local, controller_root=str(path.parent))
    record_interrupted(cfg)
    if local and not lock.is_symlink():
        try:
            lock.unlink()
        except OSError:
            pass
    return finished(config_path, owner)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
