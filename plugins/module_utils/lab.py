# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's shared host state: where a lab keeps its files, the hypervisor lock's file format and a
namespace's teardown.

:func:`lab_paths` is the one place that names a lab's files and directories (the roles read it through
the volt.netbench.lab_paths filter, the run model and the watchdog's reaper import it); lab_lock and
netdev own the lock and the namespace, and the reaper reaches them through this module instead of copying
their formats.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import time

# The hypervisor's run-time directory of every lab (tmpfs: gone after a reboot, like the lab itself).
RUN_ROOT = "/run/volt-netbench"
# The labs' macvtap character devices: on /dev (devtmpfs), not under RUN_ROOT - systemd mounts /run with nodev,
# where a device node cannot be opened (EACCES; found when the benchmark first ran on a hypervisor VM with its
# own systemd-style /run, the nested lab). Also gone after a reboot.
DEV_ROOT = "/dev/volt-netbench"
# Where a lab's files may be removed by its teardown
LAB_ROOTS = (RUN_ROOT, DEV_ROOT)
# SSH control sockets of a lab's guests live in its controller directory under this prefix.
CONTROL_PREFIX = "cp-"


def lab_name(netns: str | None) -> str:
    """A lab is named after its namespace; a lab in the host's root namespace is 'root'."""
    return netns or "root"


def lab_paths(netns: str | None, run_root: str = RUN_ROOT, guest_root: str | None = None,
              controller_root: str | None = None, dev_root: str = DEV_ROOT) -> dict:
    """Every file and directory of the lab in NETNS.

    On the hypervisor under DEV_ROOT: ``chardev_dir`` (host_network's macvtap character devices); under
    RUN_ROOT: ``cpu_samples`` (volt.netbench.cpu_sampler's file; its pidfile is :func:`sampler_pidfile`),
    ``native_job_dir`` (the native reference's job files); under GUEST_ROOT (default RUN_ROOT/guests):
    ``guest_dir`` (qemu_guest's overlays, sockets, pidfiles, console logs); ``heartbeat`` and ``recovered``
    (the hypervisor's guard, :func:`guard`). On the controller under
    CONTROLLER_ROOT (:func:`default_controller_root`): ``controller_dir`` with ``known_hosts`` and
    the guests' SSH ``control_path`` (``control_match`` is what a control master's command line holds),
    and ``watchdog_config``. ``native_netns`` names the native reference's two namespaces."""
    lab = lab_name(netns)
    guest_root = guest_root or f"{run_root}/guests"
    controller_root = controller_root or default_controller_root()
    controller_dir = f"{controller_root}/{lab}"
    return {
        "lab": lab,
        "run_root": run_root,
        "guest_root": guest_root,
        "controller_root": controller_root,
        "dev_root": dev_root,
        "chardev_dir": f"{dev_root}/{lab}",
        "cpu_samples": f"{run_root}/{lab}.cpu.jsonl",
        "native_job_dir": f"{run_root}/{lab}.jobs",
        "guest_dir": f"{guest_root}/{lab}",
        "controller_dir": controller_dir,
        "known_hosts": f"{controller_dir}/known_hosts",
        "control_path": f"{controller_dir}/{CONTROL_PREFIX}%C",
        "control_match": control_match(controller_dir),
        "watchdog_config": f"{controller_root}/{lab}.watchdog.json",
        # the controller's copies of the lab SSH keys (guest_image), one directory per image
        "key_root": default_key_root(),
        # the hypervisor's guard (volt.netbench.lab_guard): the heartbeat the run refreshes, and what the guard
        # recovered when it went stale (the next run reports it)
        "heartbeat": f"{run_root}/{lab}.heartbeat",
        "recovered": f"{run_root}/{lab}.recovered.json",
        "native_netns": {"server": f"{netns or 'vnb'}-native-server", "client": f"{netns or 'vnb'}-native-client"},
    }


# The controller's lab state when ansible-playbook runs as root: a root-only directory, not the HOME that
# `sudo -E` keeps (the watchdog acts as root on what its configuration there names).
ROOT_CONTROLLER_ROOT = f"{RUN_ROOT}/controller"


# The controller's copies of the lab's SSH keys when ansible-playbook runs as root: a root-only directory that
# outlives a reboot (the image cache on the hypervisor keeps the keys too), never the HOME that `sudo -E` keeps.
ROOT_KEY_ROOT = "/var/lib/volt-netbench/keys"


def default_key_root() -> str:
    """Where the controller keeps its copies of the lab SSH keys: ROOT_KEY_ROOT for root, else the user's own
    ~/.cache/volt-netbench/keys. Written only through safefs.keep_private (0700 directories, 0600 keys)."""
    return ROOT_KEY_ROOT if os.geteuid() == 0 else os.path.expanduser("~/.cache/volt-netbench/keys")


def default_controller_root() -> str:
    """Where the controller keeps its labs' state (known_hosts, SSH control sockets, the watchdog's
    configuration): ROOT_CONTROLLER_ROOT for root; else the user's runtime directory ($XDG_RUNTIME_DIR, 0700),
    else ~/.cache/volt-netbench/labs. Whichever it is, :func:`private_dir` checks it before use."""
    if os.geteuid() == 0:
        return ROOT_CONTROLLER_ROOT
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime and os.path.isdir(runtime):
        return f"{runtime}/volt-netbench"
    return os.path.expanduser("~/.cache/volt-netbench/labs")


def _owned_problem(path: str, st: os.stat_result, what: str, mode_mask: int) -> str:
    if st.st_uid != os.geteuid():
        return f"{what} {path} is owned by uid {st.st_uid}, not by this user (uid {os.geteuid()})"
    if st.st_mode & mode_mask:
        return f"{what} {path} has mode {stat.S_IMODE(st.st_mode):04o}: others may change it"
    return ""


def private_dir(path: str) -> str:
    """Make sure PATH is a directory only this user can use (safefs.ensure_private_dir: reached through trusted
    directories, created 0700 when missing, a too-open one of ours narrowed to 0700). Returns the problem when it
    cannot be ('' when it is fine): a symbolic link another user made, another owner."""
    from ansible_collections.volt.netbench.plugins.module_utils import safefs

    try:
        safefs.ensure_private_dir(path)
    except OSError as err:
        return str(err)
    return ""


def private_file(path: str) -> str:
    """Why the file PATH must not be trusted ('' when it may): not a regular file (a symbolic link), another
    owner, writable by others, or in a directory others may change."""
    try:
        st = os.lstat(path)
        parent = os.lstat(os.path.dirname(os.path.abspath(path)))
    except OSError as err:
        return f"{path}: {err.strerror}"
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file"
    return (_owned_problem(path, st, "file", 0o022)
            or _owned_problem(os.path.dirname(os.path.abspath(path)), parent, "directory", 0o077))


def control_match(controller_dir: str) -> str:
    """What the command line of a lab's SSH control master holds (the watchdog stops them by it)."""
    return f"ControlPath={controller_dir.rstrip('/')}/{CONTROL_PREFIX}"


def sampler_pidfile(path: str) -> str:
    """The CPU sampler's pidfile beside its samples file."""
    return f"{path}.pid"


def read_lock(path: str) -> dict | None:
    """The lock's holder ({owner_pid, owner_host, taken, description}), None when free, {corrupt} when unreadable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"corrupt": True}


def lock_held_by(path: str, owner_pid: int) -> bool:
    holder = read_lock(path)
    return bool(holder) and holder.get("owner_pid") == owner_pid


def controller_alive(pid, start=None) -> bool:
    """Whether the ansible-playbook process PID still runs: its command line names ansible and - when START (its
    start time, procs.start_time, recorded beside the PID) is known - it is the same process, not another one
    that got the PID after it ended."""
    from ansible_collections.volt.netbench.plugins.module_utils.procs import cmdline, start_time

    try:
        pid = int(pid)
    except (TypeError, ValueError):
        return False
    if start is not None and start_time(pid) != start:
        return False
    return "ansible" in cmdline(pid)


def lock_stale(holder: dict, max_age: float, now: float | None = None) -> bool:
    """A holder that can be taken over: unreadable, its ansible-playbook gone (same host), a remote run whose
    controller went silent (its ``heartbeat`` file, which the run's watchdog touches every few seconds, missing or
    untouched for the holder's ``stale_after`` seconds - also when the run was interrupted before its guard
    started), or too old (MAX_AGE)."""
    now = time.time() if now is None else now
    if holder.get("corrupt"):
        return True
    beat = holder.get("heartbeat")
    if beat and now - holder.get("taken", 0) > float(holder.get("stale_after") or 600):
        try:
            silent = now - os.stat(beat).st_mtime
        except OSError:
            silent = float("inf")
        if silent > float(holder.get("stale_after") or 600):
            return True
    if holder.get("owner_host") == socket.gethostname():
        return not controller_alive(holder.get("owner_pid"), holder.get("owner_start"))
    return now - holder.get("taken", 0) > max_age


def take_lock(path: str, new: dict, max_age: float, mine) -> tuple[str, dict | None]:
    """Take the lab's lock at PATH for NEW (its holder record), or keep it when MINE(holder) says it is already
    ours. Returns (outcome, holder): ``mine`` (held already), ``taken`` (free), ``recovered`` (a stale holder's,
    returned), ``busy`` (a live holder's, returned). Read, judge, replace and create happen under an exclusive
    flock of the lock's directory (held open; no file of its own to leave behind), so two runs recovering the same
    stale lock cannot both go on: the second finds the first one's fresh lock."""
    import fcntl  # pylint: disable=import-outside-toplevel

    from ansible_collections.volt.netbench.plugins.module_utils import safefs

    safefs.ensure_dir(os.path.dirname(path))
    guard_fd = safefs.open_dir(os.path.dirname(path))
    try:
        fcntl.flock(guard_fd, fcntl.LOCK_EX)
        holder = read_lock(path)
        if holder is not None and mine(holder):
            return "mine", holder
        if holder is not None and not lock_stale(holder, max_age):
            return "busy", holder
        if holder is not None:
            os.unlink(path)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(new, handle)
        return ("recovered" if holder is not None else "taken"), holder
    finally:
        os.close(guard_fd)  # releases the flock


def netns_pids(name: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True, check=False).stdout
    return [int(pid) for pid in out.split() if pid.isdigit()]


# What a lab creates carries this mark: a device's alias (ip link set dev NAME alias MARK), a namespace's on its
# loopback device. volt.netbench.netdev adopts or deletes only what has it, and so does the watchdog's teardown.
MARK = "volt-netbench"


def is_marked(link: dict | None) -> bool:
    """Whether LINK (an entry of ``ip -j link show``) carries the lab's mark."""
    return bool(link) and (link.get("ifalias") or "") == MARK


def marked_links() -> list[str]:
    """The links of this namespace that carry the lab's mark (volt.netbench.netdev made them), by name: the
    guests' macvtaps and taps before the bridges and veths they sit on (a macvtap goes with its lower device)."""
    out = subprocess.run(["ip", "-d", "-j", "link", "show"], capture_output=True, text=True, check=False).stdout
    try:
        links = [link for link in json.loads(out or "[]") if is_marked(link) and link.get("ifname")]
    except ValueError:
        return []
    first = ("macvtap", "tun")
    return [link["ifname"] for link in sorted(
        links, key=lambda link: (((link.get("linkinfo") or {}).get("info_kind") or "") not in first))]


def netns_marked(name: str) -> bool:
    """Whether namespace NAME was created by volt.netbench.netdev (its loopback device carries the mark)."""
    out = subprocess.run(["ip", "-n", name, "-j", "link", "show", "dev", "lo"], capture_output=True, text=True,
                         check=False).stdout
    try:
        return is_marked((json.loads(out) or [None])[0])
    except ValueError:
        return False


def within(path: str, roots) -> bool:
    """Whether PATH (symbolic links resolved) lies strictly inside one of ROOTS."""
    real = os.path.realpath(path)
    for root in roots:
        top = os.path.realpath(root).rstrip("/")
        if real.startswith(top + "/") and real != top:
            return True
    return False


def signal_netns(name: str, sig: int, pids=None) -> None:
    """Send SIG to PIDS (default: every process ``ip netns pids`` lists) of namespace NAME, each only while its
    process is still in that namespace (a PID reused since it was listed is left alone)."""
    from ansible_collections.volt.netbench.plugins.module_utils.procs import in_netns, netns_inode, signal_if

    inode = netns_inode(f"/run/netns/{name}")
    for pid in netns_pids(name) if pids is None else pids:
        signal_if(int(pid), sig, in_netns(inode))


def kill_netns(name: str) -> None:
    """Kill every process left in namespace NAME (:func:`signal_netns`) and delete it (the watchdog's teardown)."""
    signal_netns(name, signal.SIGKILL)
    subprocess.run(["ip", "netns", "delete", name], capture_output=True, check=False)


def teardown_lab(cfg: dict, roots=LAB_ROOTS) -> list[str]:
    """The hypervisor's side of a lab's teardown, for the controller's watchdog (a local lab) and the
    hypervisor's guard (a lab whose controller went silent): the guests recorded under ``state_dir``, the
    native reference's namespaces (``extra_netns``) and the lab's (``netns``, when ``manage_netns``) with every
    process in them - a lab in the host's own namespace (no ``netns``): every link that carries the mark -, the
    run-time directories (``state_dir``, ``chardev_dir``, ``job_dir``) and the CPU
    sampler's files (``cpu_samples``). Only what is the lab's is touched: namespaces that carry the mark
    (:data:`MARK`), files and directories inside ROOTS (the collection's run-time directory). Returns what it
    found and removed, in words; what it left alone as ``refused: ...``."""
    from ansible_collections.volt.netbench.plugins.module_utils.qemu import guest_names, stop_all

    removed = []

    def ours(key: str) -> bool:
        if not cfg.get(key):
            return False
        if within(cfg[key], roots):
            return True
        removed.append(f"refused: {key} {cfg[key]} is outside {', '.join(roots)}: left alone")
        return False

    allowed = {key for key in ("state_dir", "chardev_dir", "job_dir", "cpu_samples") if ours(key)}
    if "state_dir" in allowed:
        names = guest_names(cfg["state_dir"])
        removed += [f"guest {name}" for name in names]
        removed += [f"guest error: {error}" for error in stop_all(cfg["state_dir"])]
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout.split()
    netns = cfg.get("netns")
    for ns in list(cfg.get("extra_netns") or []) + ([netns] if netns and cfg.get("manage_netns", True) else []):
        if ns not in names:
            continue
        if not netns_marked(ns):
            removed.append(f"refused: namespace {ns} was not created by volt.netbench (no mark on its lo): left alone")
            continue
        removed.append(f"namespace {ns}")
        kill_netns(ns)
    if not netns:
        # a lab in the host's own namespace: no namespace takes its bridge, taps and macvtaps with it - every link
        # that carries the mark goes (the uplink NIC, which does not, leaves the bridge as the bridge is deleted)
        for name in marked_links():
            if subprocess.run(["ip", "link", "delete", "dev", name], capture_output=True, check=False).returncode == 0:
                removed.append(f"device {name}")
    for key in ("state_dir", "chardev_dir", "job_dir"):
        if key in allowed and os.path.exists(cfg[key]):
            removed.append(f"directory {cfg[key]}")
            shutil.rmtree(cfg[key], ignore_errors=True)
    if "cpu_samples" in allowed:
        for path in (cfg["cpu_samples"], sampler_pidfile(cfg["cpu_samples"])):
            if os.path.lexists(path):
                removed.append(f"file {path}")
                os.unlink(path)
    return removed


def _write_json(path: str, data: dict) -> None:
    from ansible_collections.volt.netbench.plugins.module_utils import safefs

    safefs.write_file(path, json.dumps(data))


def guard(heartbeat: str, token: str, poll: float = 1.0) -> dict | None:
    """The hypervisor's guard of one run's lab (volt.netbench.lab_guard runs it detached): while the heartbeat
    file HEARTBEAT names this run (TOKEN) and its modification time is fresh, it waits. The run's controller
    refreshes the file (its watchdog touches it over SSH every few seconds) and removes it when the run ends;
    the guard then exits, as it does when a newer run has written its own token. When the file has not been
    touched for its ``stale_after`` seconds the controller is gone - silence measured on the guard's own monotonic
    clock from the last change of the modification time it saw, so that a step of the wall clock (NTP, a resumed
    VM) neither fires the guard nor holds it back. The guard then tears the lab down
    (:func:`teardown_lab`), releases the lab's lock if it is still the run's, writes what it did next to the
    heartbeat (``recovered``, read by the next run) and returns that record."""
    seen, since = None, time.monotonic()
    while True:
        try:
            mtime = os.stat(heartbeat).st_mtime_ns
            with open(heartbeat, encoding="utf-8") as handle:
                data = json.load(handle)
        except (OSError, ValueError):
            return None
        if data.get("token") != token:
            return None
        if mtime != seen:
            seen, since = mtime, time.monotonic()
        silent = time.monotonic() - since
        if silent <= float(data.get("stale_after", 600)):
            time.sleep(poll)
            continue
        teardown = data.get("teardown") or {}
        removed = teardown_lab(teardown)
        lock = teardown.get("lock")
        if lock and read_lock(lock) == data.get("lock_holder"):
            os.unlink(lock)
            removed.append(f"lock {lock}")
        record = {"recovered_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "silent_s": round(silent),
                  "stale_after_s": data.get("stale_after"), "run": data.get("description", ""),
                  "started": data.get("started", ""), "removed": removed}
        _write_json(data["recovered"], record)
        try:
            os.unlink(heartbeat)
        except OSError:
            pass
        return record
