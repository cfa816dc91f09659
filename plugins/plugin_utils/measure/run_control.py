# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run control: how one test is started and collected on the client guest, what its outcome is
called, which tests a run never reached, and the progress file the watchdog reads.

The one place that decides a test's status and message (``classify``) and the entries of the tests
a run did not reach (``unreached``), for the benchmark role and the watchdog alike.
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shlex
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils import safefs
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import pps_search
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import is_file_name, write_atomic

JOB_DIR = "/var/tmp/volt-netbench-jobs"
PROGRESS_FILE = ".progress.json"
JOB_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# Exit status of coreutils' timeout when it had to stop the command.
TIMEOUT_RC = 124
# Seconds the collector waits beyond a test's deadline (timeout's --kill-after, plus slack).
COLLECT_SLACK = 15
# Where a sweep's paced load has its rate (bits per second) put in at run time (paced_load).
RATE_FIELD = "{rate}"

# The job: a background subshell of the shell that starts it - a fork, no program started for it (every exec costs
# ~25 ms on a TCG guest: setsid, flock and a wrapper shell were three). "$@" keeps the argument list intact: no word
# splitting, no shell parsing of the command. Its streams leave the SSH session at once (a dropped connection closes
# pipes it no longer holds; without a terminal nothing signals it, and a hang-up is ignored), so it outlives the
# connection that started it. Only shell builtins besides the tool itself: timestamps from /proc/uptime, the exit
# status and end time written in one write to the .rc file that the start left empty (non-empty: finished).
_JOB_FN = ('j() { b=$1; shift; ( trap "" HUP; exec </dev/null >/dev/null 2>&1; read -r up _ </proc/uptime; '
           'echo "$up" >"$b.started"; "$@" >"$b.out" 2>"$b.err"; rc=$?; read -r up _ </proc/uptime; '
           'echo "$rc $up" >"$b.rc" ) & }')
# A finished job's envelope (parse_envelopes), or VOLT-JOB-RUNNING: base64 only for a file with something in it (a
# process fewer on a guest whose every process is emulated).
_ENVELOPE_FN = ('e() { b=$1; if [ -s "$b.rc" ]; then read -r rc ended <"$b.rc"; read -r started <"$b.started"; '
                'echo "VOLT-JOB $rc $started $ended ${b##*/}"; if [ -s "$b.out" ]; then base64 -w0 "$b.out"; fi; echo; '
                'if [ -s "$b.err" ]; then base64 -w0 "$b.err"; fi; echo; '
                'if [ -s "$b.log" ]; then gzip -c "$b.log" | base64 -w0; fi; echo; '
                'else echo "VOLT-JOB-RUNNING ${b##*/}"; fi; }')
_UPTIME = 'read -r up _ </proc/uptime; '


class RunControlError(Exception):
    """A request the run control cannot turn into a command."""


def job_base(name: str, job_dir: str = JOB_DIR) -> str:
    if not JOB_NAME_RE.match(name):
        raise RunControlError(f"job name {name!r} is invalid: use A-Z a-z 0-9 _ . -")
    return f"{job_dir}/{name}"


def _timed(argv: list[str], timeout: int) -> list[str]:
    return ["timeout", "--kill-after=5", str(int(timeout)), *argv]


def run_command(name: str, argv: list[str], timeout: int, job_dir: str = JOB_DIR,
                load: tuple[str, list[str], int, float] | None = None) -> str:
    """One POSIX shell command - one SSH round trip per test - that starts ARGV as job NAME under timeout, waits for
    it (its own child: no lock, no polling) and prints its envelope (:func:`parse_envelopes`). It prints ``VOLT-CLOCK
    <uptime>`` first and ``VOLT-CLOCK-END <uptime>`` last: the client's /proc/uptime before the start and after the
    envelope, which map the job's own timestamps (the same clock) onto the controller's (:func:`run_clock`,
    :func:`tool_clock`).

    LOAD (name, argv, timeout, lead_s): a loaded test's load, started first and given LEAD_S on the client's own
    clock before the probe starts; the shell waits for both and prints both envelopes. When the connection drops
    while it waits, the jobs run on and :func:`collect_command` fetches each."""
    if not argv:
        raise RunControlError(f"test {name} has no command")
    base = shlex.quote(job_base(name, job_dir))
    parts = [_JOB_FN, _ENVELOPE_FN, _UPTIME + 'echo "VOLT-CLOCK $up"',
             f"umask 077; [ -d {shlex.quote(job_dir)} ] || mkdir -p {shlex.quote(job_dir)} || exit 1"]
    if load:
        load_name, load_argv, load_timeout, lead_s = load
        if not load_argv:
            raise RunControlError(f"the load of test {name} has no command")
        load_base = shlex.quote(job_base(load_name, job_dir))
        parts += [f": >{load_base}.rc || exit 1", f"j {load_base} {shlex.join(_timed(load_argv, load_timeout))}",
                  "l=$!", f"sleep {max(0.0, float(lead_s)):g}"]
    parts += [f": >{base}.rc || exit 1", f"j {base} {shlex.join(_timed(argv, timeout))}", "wait $!"]
    if load:
        parts += ["wait $l", f"e {load_base}"]
    parts += [f"e {base}", _UPTIME + 'echo "VOLT-CLOCK-END $up"']
    return "; ".join(parts)


def collect_command(name: str, wait_s: float, job_dir: str = JOB_DIR) -> str:
    """A POSIX shell command that waits up to WAIT_S seconds for NAME's job (started by an earlier connection, so not
    its child: it looks every half second), then prints its envelope, ``VOLT-JOB-RUNNING`` or ``VOLT-JOB-MISSING``
    (never started). Only after a dropped connection: a test's own round trip waits for its job (run_command)."""
    base = shlex.quote(job_base(name, job_dir))
    rounds = max(1, int(math.ceil(float(wait_s) * 2)))
    return (f"{_ENVELOPE_FN}; b={base}; [ -e \"$b.rc\" ] || {{ echo VOLT-JOB-MISSING; exit 0; }}; n=0; "
            f"while [ ! -s \"$b.rc\" ] && [ $n -lt {rounds} ]; do sleep 0.5; n=$((n+1)); done; e \"$b\"")


def parse_envelopes(text: str) -> dict[str, dict[str, Any]]:
    """Every job's envelope in TEXT (run_command's or collect_command's output) by its job name:
    {finished, rc, stdout, stderr, log_gz, seconds, started_up, ended_up} or {finished: False, missing}; ``log_gz``
    is the gzipped file the tool wrote beside its output (sockperf --full-log), or b''. A collect of a job never
    started answers ``VOLT-JOB-MISSING`` (under the name ''). RunControlError on an unreadable envelope."""
    lines = text.replace("\r", "").split("\n")
    out: dict[str, dict[str, Any]] = {}
    for i, line in enumerate(lines):
        if line.startswith("VOLT-JOB-RUNNING"):
            out[line[len("VOLT-JOB-RUNNING"):].strip()] = {"finished": False, "missing": False}
        elif line.startswith("VOLT-JOB-MISSING"):
            out[""] = {"finished": False, "missing": True}
        elif line.startswith("VOLT-JOB "):
            fields = line.split()
            try:
                rc, started, ended = int(fields[1]), float(fields[2]), float(fields[3])
                stdout = base64.b64decode(lines[i + 1].strip() or b"").decode("utf-8", errors="replace")
                stderr = base64.b64decode(lines[i + 2].strip() or b"").decode("utf-8", errors="replace")
                log_gz = base64.b64decode(lines[i + 3].strip()) if len(lines) > i + 3 else b""
            except (IndexError, ValueError) as err:
                raise RunControlError(f"unreadable job envelope: {line!r} ({err})") from err
            out[fields[4] if len(fields) > 4 else ""] = {
                "finished": True, "rc": rc, "stdout": stdout, "stderr": stderr, "log_gz": log_gz,
                "seconds": round(max(0.0, ended - started), 2), "started_up": started, "ended_up": ended}
    return out


def parse_envelope(text: str, name: str | None = None) -> dict[str, Any]:
    """Job NAME's envelope in TEXT (:func:`parse_envelopes`; the first one when NAME is None, a missing job's when
    the collector found none); RunControlError when there is none."""
    found = parse_envelopes(text)
    if name is not None and name in found:
        return found[name]
    if "" in found and found[""].get("missing"):
        return found[""]
    if name is None and found:
        return next(iter(found.values()))
    raise RunControlError(f"no job envelope{f' for {name}' if name else ''} in the collector's output: {text[-300:]!r}")


# The guests' job directories: made per guest by its check (mktemp -d: a name no one can create first), a
# plan's JOB_DIR in a test's argv (sockperf's --full-log) stands for it (:func:`in_job_dir`).
GUEST_JOB_TEMPLATE = "/var/tmp/volt-netbench-jobs.XXXXXXXXXX"


def in_job_dir(argv: list[str], job_dir: str, planned: str = JOB_DIR) -> list[str]:
    """ARGV with the plan's job directory PLANNED replaced by the guest's own JOB_DIR (made by its check)."""
    if job_dir == planned:
        return list(argv)
    return [job_dir + arg[len(planned):] if arg == planned or arg.startswith(planned + "/") else arg for arg in argv]


def probe_command(tools: list[str], servers: list[list[str]] | None = None, job_dir: bool = False) -> str:
    """One POSIX shell command that checks a guest and starts its traffic servers: ``VOLT-MISSING <tool>`` per
    tool not on its PATH, ``VOLT-KERNEL <uname -r>``, ``VOLT-IPERF3 <line>`` per line of ``iperf3 --version``,
    then each of SERVERS (argv lists, quoted) in order - the first that fails prints ``VOLT-FAILED <n> <rc>``
    and stops the rest. Shell builtins and the tools themselves only (no Python on the guest)."""
    lines = [f"for t in {' '.join(shlex.quote(t) for t in tools)}; do "
             "command -v \"$t\" >/dev/null 2>&1 || echo \"VOLT-MISSING $t\"; done",
             "echo \"VOLT-KERNEL $(uname -r)\"",
             "if command -v iperf3 >/dev/null 2>&1; then iperf3 --version 2>&1 | while IFS= read -r l; do "
             "echo \"VOLT-IPERF3 $l\"; done; fi"]
    if job_dir:
        lines.append(f"d=$(umask 077; mktemp -d {GUEST_JOB_TEMPLATE}) && echo \"VOLT-JOBDIR $d\"")
    for index, argv in enumerate(servers or []):
        lines.append(f"{shlex.join(str(a) for a in argv)} >/dev/null 2>&1 </dev/null || "
                     f"{{ rc=$?; echo \"VOLT-FAILED {index} $rc\"; exit 0; }}")
    return "; ".join(lines)


def parse_probe(text: str) -> dict[str, Any]:
    """The probe's answer (probe_command) as {missing, kernel, iperf3 (its --version text), failed_server
    (index, rc) or None, job_dir (the one it made, '' when none)}; RunControlError when the answer has no kernel line (the command did not run)."""
    out: dict[str, Any] = {"missing": [], "kernel": None, "iperf3": "", "failed_server": None, "job_dir": ""}
    iperf3: list[str] = []
    for line in (text or "").replace("\r", "").splitlines():
        if line.startswith("VOLT-MISSING "):
            out["missing"].append(line.split(" ", 1)[1].strip())
        elif line.startswith("VOLT-KERNEL "):
            out["kernel"] = line.split(" ", 1)[1].strip()
        elif line.startswith("VOLT-IPERF3 "):
            iperf3.append(line[len("VOLT-IPERF3 "):])
        elif line.startswith("VOLT-JOBDIR "):
            out["job_dir"] = line.split(" ", 1)[1].strip()
        elif line.startswith("VOLT-FAILED "):
            fields = line.split()
            out["failed_server"] = (int(fields[1]), int(fields[2]))
    if out["kernel"] is None:
        raise RunControlError(f"no answer from the guest's check: {text[-300:]!r}")
    out["iperf3"] = "\n".join(iperf3)
    return out


def parse_clock(text: str, marker: str = "VOLT-CLOCK") -> float | None:
    """The client's uptime run_command printed after MARKER (``VOLT-CLOCK <uptime>`` before the start,
    ``VOLT-CLOCK-END <uptime>`` after the envelope), or None."""
    match = re.search(rf"^{re.escape(marker)} ([0-9]+(?:\.[0-9]+)?)\s*$", text or "", re.M)
    return float(match.group(1)) if match else None


def run_clock(sent: float, answered: float, text: str) -> tuple[float, float, float | None]:
    """SENT, ANSWERED and the client's first uptime for :func:`tool_clock` from a run_command's output TEXT: the
    client read its uptime at the start (u1) and again after the envelope (u2); with the time between the two taken
    off ANSWERED, u1 was read between SENT and that - a bracket as wide as the round trip's own overhead, not the
    test's length. Without the second reading: ANSWERED as it is (the bracket then spans the test)."""
    first, last = parse_clock(text), parse_clock(text, "VOLT-CLOCK-END")
    if first is None or last is None or last < first:
        return sent, answered, first
    return sent, max(sent, answered - (last - first)), first


def tool_clock(sent: float, answered: float, clock_up: float | None, job: dict[str, Any]) -> dict[str, Any] | None:
    """The tool's run [started, ended] on the controller's clock (epoch seconds), from the job's own uptime
    stamps: the start command read the client's uptime CLOCK_UP between SENT and ANSWERED (the controller's
    time.time() around it), so uptime u is at u + (SENT + ANSWERED) / 2 - CLOCK_UP, within half that round
    trip (``error_s``). None without the stamps."""
    if clock_up is None or job.get("started_up") is None or job.get("ended_up") is None:
        return None
    offset = (sent + answered) / 2 - clock_up
    return {"window": [round(job["started_up"] + offset, 3), round(job["ended_up"] + offset, 3)],
            "error_s": round(max(0.0, answered - sent) / 2, 3)}


def load_problem(test: dict[str, Any], probe: dict[str, Any] | None, load: dict[str, Any] | None) -> str:
    """Why a loaded test's load did not load its probe throughout ('' when it did): not collected, not finished,
    failed, or its run (the job's uptime stamps, the probe's clock) did not cover the probe's."""
    command = test.get("load_command") or "the load"
    if load is None:
        return f"the load ({command}) was not collected"
    if not load.get("finished"):
        return f"the load did not finish: {load.get('error') or 'still running after its deadline'}"
    if load.get("rc"):
        reason = tool_error(load.get("stdout", "")) or _last_line(load.get("stderr", ""))[-200:]
        return f"the load ({command}) failed: exit {load['rc']}: {reason}"
    if probe and probe.get("finished") and probe.get("ended_up") is not None and load.get("ended_up") is not None:
        if load["started_up"] > probe["started_up"] or load["ended_up"] < probe["ended_up"]:
            return (f"the load ({command}) ran {load['started_up']:.2f}-{load['ended_up']:.2f} s, its probe "
                    f"{probe['started_up']:.2f}-{probe['ended_up']:.2f} s (the client's uptime): the latency was not "
                    "measured under load throughout")
    return ""


def _last_line(text: str) -> str:
    text = (text or "").strip()
    return text.split("\n")[-1].strip() if text else ""


def _truncate(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def tool_error(stdout: str) -> str:
    """iperf3's own error ("error" at the top of its JSON), when there is one."""
    try:
        data = json.loads(stdout)
    except ValueError:
        match = re.search(r'"error":\s*"([^"]*)"', stdout or "")
        return match.group(1) if match else ""
    return str(data.get("error", "")) if isinstance(data, dict) else ""


# ping's exit status when no reply came back at all (iputils and BusyBox; 2 is any other error): a measurement -
# total loss, the cell's "no reply" - not a failed tool. Its output is still checked by the parser.
NO_REPLY_RC = 1


def classify(test: dict[str, Any], *, job: dict[str, Any] | None = None, start_error: str = "",
             client_lost: str = "", not_run: str = "", problem: str = "") -> dict[str, Any]:
    """The run.json entry of one test from what happened to it.

    NOT_RUN: the test was never started because the lab was already lost (the reason).
    CLIENT_LOST: the client stopped answering while starting or collecting the test.
    START_ERROR: the client answered but the test could not be started.
    JOB: the collected job ({finished, rc, stdout, stderr, seconds}; a packet-rate search adds ``probes``, the
    search file's text, a loaded test ``load_stdout``, its load's output).
    PROBLEM: the tool ran but the test did not measure what it names (a search found no rate, the load failed).
    """
    job = job or {}
    name, ext = test["name"], test.get("ext", "txt")
    raw = test.get("raw") or f"{name}.{ext}"
    stem = raw[: -len(ext) - 1] if raw.endswith(f".{ext}") else raw
    stdout, stderr = job.get("stdout", ""), job.get("stderr", "")
    if not_run:
        status, message = "failed", f"not run: {not_run}"
    elif client_lost:
        status, message = "failed", f"client VM unreachable: {_truncate(client_lost)}"
    elif start_error:
        status, message = "failed", f"could not start: {_truncate(start_error)}"
    elif not job.get("finished"):
        status, message = "failed", f"no result: {job.get('error') or 'still running after its deadline'}"
    elif job["rc"] == TIMEOUT_RC:
        status, message = "failed", f"killed after its deadline of {test['timeout']} s"
    elif job["rc"] != 0 and not (test["tool"] == "ping" and job["rc"] == NO_REPLY_RC and stdout):
        reason = tool_error(stdout) or _last_line(stderr) or _last_line(stdout)
        status, message = "failed", _truncate(f"exit {job['rc']}: {reason}")
    elif problem:
        status, message = "failed", _truncate(problem)
    else:
        status, message = "ok", ""
    return {
        "name": name,
        "tool": test["tool"],
        "status": status,
        "message": message,
        "repetition": int(test.get("repetition", 1)),
        "raw": raw if stdout else None,
        "stderr": f"{stem}.stderr" if stderr else None,
        "log": test.get("log") if job.get("log_gz") else None,
        **({"probes": test.get("probes") if job.get("probes") else None} if "search" in test else {}),
        **({"load": test.get("load_raw") if job.get("load_stdout") else None,
            "load_command": test.get("load_command", "")} if "load" in test else {}),
        "command": test.get("command", ""),
        "params": dict(test.get("params", {}), duration_s=test.get("duration_s")),
        "wall_s": float(job.get("seconds", 0.0)),
    }


def unreached(planned: list[dict[str, Any]], done: list[dict[str, Any]], reason: str,
              status: str = "failed") -> list[dict[str, Any]]:
    """Entries for the planned tests (each repetition of each) that have no entry in DONE: STATUS with
    'not run: REASON'.

    The benchmark role records them as failed (the run stopped); the watchdog as skipped (interrupted).
    """
    seen = {_key(t) for t in done}
    return [{"name": t["name"], "tool": t["tool"], "repetition": int(t.get("repetition", 1)), "status": status,
             "message": f"not run: {reason}"}
            for t in planned if _key(t) not in seen]


def _key(test: dict[str, Any]) -> tuple[str, int]:
    return test["name"], int(test.get("repetition", 1))


def write_outputs(run_dir: str | os.PathLike, entry: dict[str, Any], job: dict[str, Any]) -> None:
    """Keep the raw stdout and stderr of a test, and the gzipped log its tool wrote, beside its run
    (names from its entry)."""
    for key, text in (("raw", job.get("stdout", "")), ("stderr", job.get("stderr", "")),
                      ("probes", job.get("probes", "")), ("load", job.get("load_stdout", ""))):
        if entry.get(key) and text:
            write_atomic(_inside(run_dir, entry[key]), text)
    if entry.get("log") and job.get("log_gz"):
        write_atomic(_inside(run_dir, entry["log"]), job["log_gz"])


def _inside(run_dir: str | os.PathLike, name: str) -> Path:
    """RUN_DIR/NAME for a plain file name NAME (no directory, not hidden); ValueError otherwise."""
    if not is_file_name(name):
        raise ValueError(f"{name!r} is not a file name inside the run directory")
    return Path(run_dir, name)


def progress_line(info: dict[str, Any], elapsed_s: float | None) -> str:
    """The callback's line after a test: position, backend, test, its result in the report's units, its
    time, the matrix's elapsed time and an estimate of the time left (the plan's remaining seconds scaled
    by how the matrix has kept to its plan so far)."""
    name = info["name"] + (f" #{info['repetition']}" if int(info.get("repeat") or 1) > 1 else "")
    if info.get("status") == "ok":
        result = info.get("headline") or "ok"
    else:
        result = f"FAILED ({_truncate(info.get('message') or 'no message', 160)})"
    # a sweep's point beside the backend: 'virtio at mtu=9000,queues=2'
    where = info["backend"] + (f" at {info['point']}" if info.get("point") else "")
    line = (f"volt.netbench [{info['position']}/{info['total']}] {where} {name}: {result}"
            f" | {float(info.get('wall_s') or 0):.1f} s")
    if elapsed_s is not None:
        line += f" | elapsed {_clock(elapsed_s)}"
        done = float(info.get("planned_s") or 0) - float(info.get("remaining_s") or 0)
        if info["position"] >= info["total"]:
            line += " | matrix done"
        elif done > 0:
            line += f" | about {_clock(float(info['remaining_s']) * elapsed_s / done)} left"
    return line


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def load_rate_bps(search_document: dict[str, Any], fraction: float, payload: int) -> int | None:
    """The paced load's bits per second: FRACTION of the loss-bounded rate a ``load_capacity`` search found
    (pps_search.loss_bounded_pps of its search file's document), in datagrams of PAYLOAD bytes; None when the search
    found no rate."""
    found = pps_search.loss_bounded_pps(search_document)
    return None if found is None else pps_search.bits_per_second(found * float(fraction), int(payload))


def paced_load(test: dict[str, Any], rate_dir: str) -> tuple[dict[str, Any], str]:
    """TEST with its paced load's rate put in (a sweep's load point: ``load_rate``, matrix.plan_tests) - the
    fraction of the loss-bounded rate its point's ``load_capacity`` search found, read from that search's file in
    RATE_DIR (the run directory of the point that searched it). Returns the test and why it cannot run ('' when
    it can); a test without ``load_rate`` as it is."""
    how = test.get("load_rate")
    if not how:
        return test, ""
    if not rate_dir or not is_file_name(how.get("search")):
        return test, "the load's loss-bounded rate is unknown: no capacity search named for it"
    try:
        raw = safefs.read_file(Path(rate_dir, how["search"]))
        document = json.loads(raw) if raw is not None else None
    except (OSError, ValueError, safefs.UnsafePath) as err:
        return test, f"the load's capacity search is unreadable ({err})"
    rate = load_rate_bps(document, how["fraction"], how["payload"]) if isinstance(document, dict) else None
    if rate is None:
        return test, ("the load's loss-bounded rate is unknown: its capacity search "
                      f"({how.get('run', 'this point')}) found none")
    load = [str(rate) if a == RATE_FIELD else a for a in test["load"]]
    return dict(test, load=load, load_command=" ".join(load), load_bps_offered=rate), ""


def read_progress(run_dir: str | os.PathLike) -> dict[str, Any] | None:
    try:
        return json.loads(Path(run_dir, PROGRESS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def append_progress(run_dir: str | os.PathLike, entry: dict[str, Any]) -> dict[str, Any]:
    """Add ENTRY to the run's progress file (started by :func:`start_progress`) and write it atomically; the
    same test and repetition again replaces its entry. Returns the new progress."""
    progress = read_progress(run_dir) or {"tests": []}
    progress["tests"] = [t for t in progress.get("tests", []) if _key(t) != _key(entry)] + [entry]
    write_atomic(Path(run_dir, PROGRESS_FILE), json.dumps(progress))
    return progress


def start_progress(run_dir: str | os.PathLike, header: dict[str, Any]) -> None:
    """Start the run's progress file with its HEADER: backend, planned (name, tool and repetition of each
    planned test), config, environment, started - everything run.json needs besides the tests."""
    write_atomic(Path(run_dir, PROGRESS_FILE), json.dumps(dict(header, tests=[], marks={}, wall_times={})))


# The lab's phases in the order a run enters them; each lasts until the next one's mark (the last one,
# the teardown, until the run is recorded).
PHASES = ("lab", "boot", "matrix", "teardown")


def note_progress(run_dir: str | os.PathLike, *, mark: str = "", at: float | None = None,
                  environment: dict[str, Any] | None = None,
                  environment_by_backend: dict[str, dict[str, Any]] | None = None,
                  wall_times: dict[str, Any] | None = None, lost: str = "", error: str = "") -> dict[str, Any]:
    """Note what the run learnt in its progress file: the start of a phase (MARK, one of PHASES, AT a
    time.time()), the environment's new fields (and those of this run's backend in ENVIRONMENT_BY_BACKEND),
    wall times, a lost guest (LOST: later tests on the guests are not run, the first reason stays) and the
    error that stopped the run. Returns the new progress."""
    progress = read_progress(run_dir) or {"tests": []}
    if mark:
        if mark not in PHASES:
            raise RunControlError(f"mark must be one of {', '.join(PHASES)}, got {mark!r}")
        progress.setdefault("marks", {})[mark] = at
    progress["environment"] = dict(progress.get("environment") or {}, **(environment or {}),
                                   **(environment_by_backend or {}).get(progress.get("backend", ""), {}))
    progress["wall_times"] = dict(progress.get("wall_times") or {}, **(wall_times or {}))
    if lost and not progress.get("lost"):
        progress["lost"] = lost
    if error:
        progress["error"] = error
    write_atomic(Path(run_dir, PROGRESS_FILE), json.dumps(progress))
    return progress


def phase_times(marks: dict[str, float], end: float) -> dict[str, float]:
    """Each phase's wall time (``lab_s``, ``boot_s``, ``matrix_s``, ``teardown_s``) from the marks: a phase
    that started and was followed by the next one's mark; the teardown lasts until END."""
    out = {}
    for phase, after in zip(PHASES, PHASES[1:] + ("",)):
        start, stop = marks.get(phase), marks.get(after) if after else end
        if start is not None and stop is not None:
            out[f"{phase}_s"] = round(float(stop) - float(start), 2)
    return out
