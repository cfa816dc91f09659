# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The results model: one directory per run, never overwritten.

``<results_dir>/<backend>/<run_id>/`` holds every raw output under the test's name plus

* ``samples.jsonl`` - one JSON record per metric: metric, value, unit, test, backend,
  run_id, timestamp and metadata (tool, command, duration, sizes, accelerator);
* ``run.json`` - configuration, environment, per-test status and wall times.

``run.json`` is written last and exclusively: a directory without it is a run that never
finished recording and is ignored by the report.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any

from ansible_collections.volt.netbench.plugins.module_utils import hostcpu
from ansible_collections.volt.netbench.plugins.plugin_utils.core.errors import ParseError
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import pps_search
from ansible_collections.volt.netbench.plugins.module_utils import safefs
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import is_file_name, write_atomic
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.iperf3 import parse_iperf3
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PARSERS, PATHS, cpu_cost, cpu_window, unit_of
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.ping import reply_rtts_us
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.sockperf import full_log_rtts_us

SCHEMA = 1
# a UTC timestamp, a -N when two runs took the same second, and a sweep point's +factor-level parts (sweep.py)
RUN_ID_RE = re.compile(r"^\d{8}T\d{6}Z(-\d+)?(\+[a-z_]+-[0-9a-z.]+)*$")
_RUN_ID_PARTS = re.compile(r"^(\d{8}T\d{6}Z)(?:-(\d+))?(.*)$")
# an inventory host name, as a fleet's results tree names its <host>/ directories (and a results store its hosts)
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,252}$")
# the host of a single-hypervisor results tree (no <host>/ level), and of its runs in a results store
LOCAL_HOST = "localhost"
STATUSES = ("ok", "failed", "skipped")
RUN_STATUSES = ("complete", "partial", "failed", "not_run")


class ResultsError(Exception):
    """A results directory or record request is unusable; the message says why."""


def new_run_id(now: dt.datetime | None = None) -> str:
    """UTC timestamp used as the run id, e.g. ``20261126T173224Z``."""
    now = now or dt.datetime.now(dt.timezone.utc)
    return now.astimezone(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def create_run_dir(results_dir: str | os.PathLike, backend: str, run_id: str | None = None,
                   point: str = "") -> tuple[Path, str]:
    """Create ``<results_dir>/<backend>/<run_id><point>`` exclusively; a taken id gets a ``-N`` suffix (before a
    sweep point's POINT, ``+mtu-9000``: sweep.point_suffix)."""
    check_backend(backend)
    base = Path(results_dir) / backend
    try:
        safefs.ensure_dir(base)
    except OSError as err:
        raise ResultsError(f"cannot create results directory {base}: {err.strerror}") from err
    run_id = run_id or new_run_id()
    if not RUN_ID_RE.match(run_id + point) or (point and not point.startswith("+")):
        raise ResultsError(f"run id {run_id + point!r} is not a UTC timestamp like 20261126T173224Z (with a sweep "
                           "point's +factor-level parts)")
    candidate, n = run_id + point, 0
    while True:
        try:
            safefs.make_new_dir(base / candidate)
            return base / candidate, candidate
        except FileExistsError:
            n += 1
            candidate = f"{run_id}-{n}{point}"
        except OSError as err:
            raise ResultsError(f"cannot create run directory {base / candidate}: {err.strerror}") from err


# Room kept in a run directory from its start until it is recorded, so that a results disk that fills up
# during the matrix still takes the run's run.json and samples.jsonl (about 2 KiB a test; kept generous).
RESERVE_FILE = ".reserve"
RESERVE_BASE = 16 * 1024
RESERVE_PER_TEST = 8 * 1024


def reserve_room(run_dir: str | os.PathLike, planned_tests: int) -> None:
    """Keep room for the run's record (released by record_run just before it writes)."""
    write_atomic(Path(run_dir, RESERVE_FILE), b"\0" * (RESERVE_BASE + RESERVE_PER_TEST * max(0, planned_tests)))


def check_backend(backend: str) -> None:
    if backend not in PATHS:
        raise ResultsError(f"unknown backend {backend!r}: choose one of {', '.join(PATHS)}")


def record_run(
    run_dir: str | os.PathLike,
    *,
    backend: str,
    tests: list[dict[str, Any]],
    config: dict[str, Any] | None = None,
    environment: dict[str, Any] | None = None,
    status: str | None = None,
    reason: str = "",
    wall_times: dict[str, float] | None = None,
    started: str | None = None,
) -> dict[str, Any]:
    """Parse each test's raw output in ``run_dir`` and write samples.jsonl and run.json.

    ``tests`` is the ordered list of ``{name, tool, status, message, raw, command, params,
    wall_s}``; a test whose raw output does not parse becomes ``failed`` with the parser's
    message. Refuses to touch a run that already has run.json.
    """
    check_backend(backend)
    run_path = Path(run_dir)
    run_id = run_path.name
    if not run_path.is_dir():
        raise ResultsError(f"run directory {run_path} does not exist")
    if not RUN_ID_RE.match(run_id):
        raise ResultsError(f"run directory name {run_id!r} is not a run id (UTC timestamp)")
    if (run_path / "run.json").exists() or (run_path / "samples.jsonl").exists():
        raise ResultsError(f"run {run_path} is already recorded; existing runs are never modified")
    environment = dict(environment or {})
    config = dict(config or {})
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")

    recorded: list[dict[str, Any]] = []
    samples: list[dict[str, Any]] = []
    seen: set[tuple[str, int]] = set()
    cpu_samples = load_cpu_samples(run_path)
    for index, test in enumerate(tests):
        entry = _normalize_test(index, test)
        key = (entry["name"], entry["repetition"])
        if key in seen:
            raise ResultsError(f"tests[{index}] ({entry['name']}): repetition {entry['repetition']} is listed twice")
        seen.add(key)
        if entry["status"] == "ok":
            try:
                parsed = _parse_raw(run_path, entry)
            except ParseError as err:
                entry.update(status="failed", message=str(err))
            else:
                work = cpu_window(entry["name"], parsed, entry.get("window"), entry["params"].get("duration_s"))
                if cpu_samples and work:
                    parsed.update(host_cpu_metrics(hostcpu.window(cpu_samples, *work)))
                    parsed["host_cpu_window"] = work
                    parsed.update(cpu_cost(parsed, entry["name"]))
                entry["parsed"] = parsed
                samples.extend(_samples(parsed, entry, backend, run_id, now, environment))
        recorded.append(entry)

    counts = {s: sum(1 for t in recorded if t["status"] == s) for s in STATUSES}
    if status is None:
        status = run_status(counts)
    if status not in RUN_STATUSES:
        raise ResultsError(f"run status {status!r} is not one of {', '.join(RUN_STATUSES)}")
    run = {
        "schema": SCHEMA,
        "run_id": run_id,
        "backend": backend,
        "status": status,
        "reason": reason,
        "started": started or now,
        "finished": now,
        "config": config,
        "environment": environment,
        "tests": recorded,
        "counts": counts,
        "wall_times": dict(wall_times or {}),
    }
    # the room kept since the run started is what these two files are written into
    (run_path / RESERVE_FILE).unlink(missing_ok=True)
    write_atomic(run_path / "samples.jsonl", "".join(json.dumps(sample, sort_keys=True) + "\n" for sample in samples))
    write_atomic(run_path / "run.json", json.dumps(run, indent=2, sort_keys=True) + "\n")
    return run


CPU_SAMPLES = "host_cpu.jsonl"


def load_cpu_samples(run_path: Path) -> list[dict[str, Any]]:
    """The hypervisor's CPU samples kept with the run (volt.netbench.cpu_sampler), oldest first."""
    try:
        lines = (run_path / CPU_SAMPLES).read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line cut short when the sampler was stopped
    return sorted(out, key=lambda s: s.get("t", 0))


def host_cpu_metrics(window: dict[str, Any] | None) -> dict[str, float]:
    """A test window's host CPU seconds: both guests' vCPU threads, QEMU's other threads, vhost workers,
    the host kernel and everything else outside QEMU (host busy minus QEMU, softirq included), the total."""
    if not window or window["host"]["busy"] is None:
        return {}
    roles = {role: sum((g or {}).get(role) or 0.0 for g in window["guests"].values()) for role in hostcpu.ROLES}
    qemu = sum(roles.values())
    total = window["host"]["busy"]
    return {
        "host_cpu_vcpu_s": roles["vcpu"],
        "host_cpu_qemu_io_s": roles["io"],
        "host_cpu_vhost_s": roles["vhost"],
        "host_cpu_kernel_s": max(0.0, total - qemu),
        "host_cpu_softirq_s": window["host"]["softirq"] or 0.0,
        "host_cpu_total_s": total,
        "host_cpu_window_s": window["seconds"],
    }


def _normalize_test(index: int, test: Any) -> dict[str, Any]:
    if not isinstance(test, dict) or not isinstance(test.get("name"), str) or not test["name"]:
        raise ResultsError(f"tests[{index}] needs a non-empty 'name'")
    name = test["name"]
    tool = test.get("tool")
    if tool not in PARSERS:
        raise ResultsError(f"tests[{index}] ({name}): tool {tool!r} is not one of {', '.join(PARSERS)}")
    status = test.get("status", "ok")
    if status not in STATUSES:
        raise ResultsError(f"tests[{index}] ({name}): status {status!r} is not one of {', '.join(STATUSES)}")
    repetition = test.get("repetition", 1)
    if isinstance(repetition, bool) or not isinstance(repetition, int) or repetition < 1:
        raise ResultsError(f"tests[{index}] ({name}): repetition must be a whole number from 1, got {repetition!r}")
    raw = test.get("raw")
    if status == "ok" and not raw:
        raise ResultsError(f"tests[{index}] ({name}): status ok needs 'raw', the output file's name")
    for key, value in (("raw", raw), ("log", test.get("log")), ("probes", test.get("probes")), ("load", test.get("load"))):
        if value not in (None, "") and not is_file_name(value):
            raise ResultsError(
                f"tests[{index}] ({name}): {key} must be a file name inside the run directory, got {value!r}")
    return {
        "name": name,
        "repetition": repetition,
        "tool": tool,
        "status": status,
        "message": str(test.get("message") or ""),
        "raw": raw,
        "log": test.get("log"),
        **{k: test[k] for k in ("probes", "load", "load_command", "load_window") if test.get(k)},
        "stderr": test.get("stderr"),
        "command": test.get("command"),
        "params": dict(test.get("params") or {}),
        "wall_s": test.get("wall_s"),
        "window": test.get("window"),
        "clock_error_s": test.get("clock_error_s"),
    }


def rtts_of(run: dict[str, Any], test: dict[str, Any]) -> list[float] | None:
    """The per-reply (ping) or per-message (sockperf --full-log) round trips in µs of one recorded test of a
    loaded RUN (see load_runs), or None when its raw output has none. A run read from a results store carries
    them (``rtts``, by 'name#repetition'): its raw files may be on another machine."""
    if isinstance(run.get("rtts"), dict):
        return run["rtts"].get(f"{test.get('name')}#{int(test.get('repetition') or 1)}") or None
    try:
        if test.get("tool") == "ping" and test.get("raw"):
            return reply_rtts_us((Path(run["path"]) / test["raw"]).read_text(encoding="utf-8", errors="replace"),
                                 test["raw"]) or None
        if test.get("tool") == "sockperf" and test.get("log"):
            return full_log_rtts_us(read_log(Path(run["path"]) / test["log"]), test["log"])
    except (OSError, EOFError, ValueError, ParseError):
        return None
    return None


def pooled_rtts(run: dict[str, Any], test_name: str, repetitions: list[int]) -> list[float]:
    """Every round trip of TEST_NAME's REPETITIONS in RUN, pooled; [] when one of them has none."""
    tests = {(t["name"], int(t.get("repetition") or 1)): t for t in run.get("tests", [])}
    pooled: list[float] = []
    for rep in repetitions:
        test = tests.get((test_name, rep))
        rtts = rtts_of(run, test) if test else None
        if not rtts:
            return []
        pooled.extend(rtts)
    return pooled


def read_log(path: str | os.PathLike) -> str:
    """A test's extra log (sockperf --full-log), kept gzipped beside its raw output."""
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as handle:
        return handle.read()


def _parse_raw(run_path: Path, entry: dict[str, Any]) -> dict[str, Any]:
    parser = PARSERS[entry["tool"]]
    path = run_path / entry["raw"]
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ParseError(f"parse_{entry['tool']}", entry["raw"], f"cannot read raw output: {err.strerror}") from err
    if entry.get("log"):
        # every observation: the percentiles by the collection's definition, as the report pools them. The log is
        # what the cells come from; the summary is a cross-check (a release whose summary the parser does not know
        # still gives its cells, and says why its summary was not read)
        try:
            full = parser(read_log(run_path / entry["log"]), entry["log"])
        except (OSError, EOFError, gzip.BadGzipFile) as err:
            raise ParseError(f"parse_{entry['tool']}", entry["log"], f"cannot read the log: {err}") from err
        try:
            parsed = parser(text, entry["raw"])
        except ParseError as err:
            parsed = dict(full, source_format="full-log", summary_problem=str(err))
        else:
            parsed.update({k: v for k, v in full.items() if k.startswith("latency_p") or k == "percentiles_us"})
            parsed.update(source_format=f"{parsed.get('source_format')}+full-log", observations=full["observations"])
    else:
        parsed = parser(text, entry["raw"])
    if entry.get("probes"):
        # a packet-rate search: the flood and the search's outcome beside the confirmed rate
        try:
            document = json.loads((run_path / entry["probes"]).read_text(encoding="utf-8"))
            parsed.update(pps_search.summary(document))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise ParseError("pps_search", entry["probes"], f"unreadable search file: {err}") from err
    if entry.get("load"):
        # the flows that loaded the path while the latency was measured: what they carried
        try:
            load = parse_iperf3((run_path / entry["load"]).read_text(encoding="utf-8", errors="replace"), entry["load"])
        except OSError as err:
            raise ParseError("parse_iperf3", entry["load"], f"cannot read the load's output: {err.strerror}") from err
        parsed.update(load_bps=load["receiver_bps"], load_streams=load["streams"],
                      load_retransmits=load.get("retransmits", 0))
    return parsed


def _samples(
    parsed: dict[str, Any], entry: dict[str, Any], backend: str, run_id: str, when: str, environment: dict[str, Any]
) -> list[dict[str, Any]]:
    meta = {
        "tool": entry["tool"],
        "command": entry["command"],
        "raw": entry["raw"],
        "accelerator": environment.get("accelerator"),
        **{k: v for k, v in entry["params"].items() if isinstance(v, (str, int, float, bool))},
    }
    for key in ("duration_s", "block_size", "streams", "round_trip", "protocol", "test"):
        if key in parsed:
            meta.setdefault(key, parsed[key])
    out = []
    for metric, value in parsed.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        out.append(
            {
                "metric": metric,
                "value": value,
                "unit": unit_of(metric),
                "test": entry["name"],
                "repetition": entry["repetition"],
                "backend": backend,
                "run_id": run_id,
                "timestamp": when,
                "metadata": meta,
            }
        )
    return out


def run_dirs(results_dir: str | os.PathLike) -> dict[str, Path]:
    """Every recorded run directory under RESULTS_DIR (one with run.json) by BACKEND/RUN_ID, oldest first per
    backend. A run or backend directory is a directory of the tree: a link in its place is not read."""
    root = Path(results_dir)
    out = {}
    for backend in PATHS:
        base = root / backend
        if not base.is_dir() or base.is_symlink():
            continue
        for run_path in sorted(p for p in base.iterdir()
                               if RUN_ID_RE.match(p.name) and p.is_dir() and not p.is_symlink()):
            if (run_path / "run.json").is_file():
                out[f"{backend}/{run_path.name}"] = run_path
    return out


def fleet_hosts(results_dir: str | os.PathLike) -> list[str]:
    """The hosts of a fleet's results tree - its <host>/ directories that hold recorded runs (a link in a host's
    place is not read) - sorted; [] for a single host's tree (runs right under it) or one without runs."""
    root = Path(results_dir)
    if not root.is_dir() or run_dirs(root):
        return []
    return sorted(p.name for p in root.iterdir() if HOST_RE.match(p.name) and p.name not in PATHS and p.is_dir()
                  and not p.is_symlink() and run_dirs(p))


def load_runs(results_dir: str | os.PathLike) -> list[dict[str, Any]]:
    """Every recorded run under ``results_dir`` with its samples, oldest first per backend."""
    return [load_run(run_path) for run_path in run_dirs(results_dir).values()]


def load_run(run_path: str | os.PathLike) -> dict[str, Any]:
    run_path = Path(run_path)
    try:
        run = json.loads((run_path / "run.json").read_text(encoding="utf-8"))
        samples = []
        samples_file = run_path / "samples.jsonl"
        if samples_file.exists():
            for line in samples_file.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    samples.append(json.loads(line))
    except (OSError, ValueError) as err:
        raise ResultsError(f"run {run_path} is unreadable: {err}") from err
    if not isinstance(run, dict) or run.get("schema") != SCHEMA:
        raise ResultsError(f"run {run_path}/run.json is not a volt.netbench run (schema {SCHEMA} expected)")
    check_loaded(run, run_path, samples)
    run["path"] = str(run_path)
    run["samples"] = samples
    # a run exported from a results store (store.export_tree) carries its round trips; its raw files are elsewhere
    rtts_file = run_path / "rtts.json"
    if rtts_file.is_file() and not rtts_file.is_symlink():
        try:
            rtts = json.loads(rtts_file.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            raise ResultsError(f"run {run_path}/rtts.json is unreadable: {err}") from err
        if not isinstance(rtts, dict) or not all(isinstance(v, list) for v in rtts.values()):
            raise ResultsError(f"run {run_path}/rtts.json is not a run's round trips by test")
        run["rtts"] = rtts
    return run


def check_loaded(run: dict[str, Any], run_path: Path, samples: list[dict[str, Any]]) -> None:
    """A run.json's names are checked where they are read, by the rules they were written with: its run id is a
    run id and its directory's name, its backend a backend and its parent directory's name, every file a test
    names a plain file name in the run directory, every sample the run's (ResultsError names the file)."""
    where = f"{run_path}/run.json"
    run_id, backend = run.get("run_id"), run.get("backend")
    if not isinstance(run_id, str) or not RUN_ID_RE.match(run_id):
        raise ResultsError(f"{where}: run_id {run_id!r} is not a run id (a UTC timestamp like 20261126T173224Z)")
    if run_id != run_path.name:
        raise ResultsError(f"{where}: run_id {run_id!r} is not its directory's name {run_path.name!r}: the file was "
                           "moved or edited; restore it, or remove the directory")
    if backend not in PATHS:
        raise ResultsError(f"{where}: backend {backend!r} is not one of {', '.join(PATHS)}")
    if run_path.parent.name in PATHS and backend != run_path.parent.name:
        raise ResultsError(f"{where}: backend {backend!r} is not its directory's {run_path.parent.name!r}")
    tests = run.get("tests")
    if not isinstance(tests, list) or not all(isinstance(t, dict) for t in tests):
        raise ResultsError(f"{where}: tests is not a list of tests")
    for test in tests:
        for key in ("raw", "log", "probes", "load"):
            value = test.get(key)
            if value not in (None, "") and not is_file_name(value):  # the rule record_run wrote it with
                raise ResultsError(f"{where}: test {test.get('name')!r} names {key} {value!r}, not a file name "
                                   "inside the run directory")
    for sample in samples:
        if not isinstance(sample, dict) or sample.get("run_id") != run_id or sample.get("backend") != backend:
            raise ResultsError(f"{run_path}/samples.jsonl: a sample that is not run {backend}/{run_id}'s")


def _sort_key(run_id: str) -> tuple[str, int, str]:
    """Oldest first: the timestamp, then -N, then a sweep point's parts."""
    found = _RUN_ID_PARTS.match(run_id)
    if not found:
        return run_id, 0, ""
    return found.group(1), int(found.group(2) or 0), found.group(3)


# Configuration that must match for runs to be compared (a report picks runs that agree on it).
COMPARED_CONFIG = ("duration_s", "ping_count", "ping_interval_s", "parallel_streams", "pps_sizes", "pps_mode",
                   "pps_loss_max_percent", "profile", "mtu", "tests", "repeat", "netns", "point")


def run_status(counts: dict[str, int]) -> str:
    """A run's status from its tests' counts, whatever ended it: ``failed`` when no test succeeded (or none
    was recorded), ``complete`` when every test did, else ``partial``."""
    total = sum(counts.values())
    if not total or not counts.get("ok"):
        return "failed"
    return "complete" if counts["ok"] == total else "partial"


# What a run's tests were never reached for is recorded as: the test did not run, it did not fail.
UNREACHED_STATUS = "skipped"
# ... with this reason when nothing more precise is known
UNREACHED_REASON = "the run stopped early"


def record_from_progress(run_dir: str | os.PathLike, *, unreached_reason: str = "", reason: str = "",
                         now: float | None = None) -> dict[str, Any]:
    """Seal a run from its progress file (run_control.start_progress, append_progress, note_progress): the
    one way a run is recorded, for a normal end and for the watchdog's alike. The tests it never reached
    are ``skipped`` with 'not run: UNREACHED_REASON' (default: the error that stopped the run, the lost
    guest, else 'the run stopped early'); REASON defaults to that error; the status follows
    :func:`run_status`; the lab's phases are timed from their marks up to NOW."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import (  # pylint: disable=import-outside-toplevel
        phase_times, read_progress, unreached)

    progress = read_progress(run_dir) or {}
    if not progress.get("backend"):
        raise ResultsError(f"run {run_dir} has no progress file to record it from")
    reason = reason or progress.get("error") or ""
    unreached_reason = unreached_reason or reason or progress.get("lost") or UNREACHED_REASON
    done = list(progress.get("tests") or [])
    tests = done + unreached(progress.get("planned") or [], done, unreached_reason, status=UNREACHED_STATUS)
    # the lab's phases, then each test's own time (the last repetition's under the test's name)
    walls = dict(phase_times(progress.get("marks") or {}, time.time() if now is None else now),
                 **(progress.get("wall_times") or {}))
    walls.update({f"{t['name']}_s": t["wall_s"] for t in done if t.get("wall_s") is not None})
    return record_run(run_dir, backend=progress["backend"], tests=tests, config=progress.get("config"),
                      environment=progress.get("environment"), reason=reason, wall_times=walls,
                      started=progress.get("started"))


def has_data(run: dict[str, Any]) -> bool:
    """A run that measured something: complete or partial, with at least one sample."""
    return run.get("status") in ("complete", "partial") and bool(run.get("samples"))


def compared_config(run: dict[str, Any]) -> str:
    config = run.get("config") or {}
    return json.dumps({k: config.get(k) for k in COMPARED_CONFIG}, sort_keys=True)


def select_runs(runs: list[dict[str, Any]], run_ids: list[str] | None = None
                ) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Which run counts for each backend, and notes (for the report's anomalies) on the runs passed over.

    With ``run_ids``: exactly those runs. Otherwise (a sweep's runs left out: each point is its own report's), per
    backend, the latest run with data (see ``has_data``) whose compared configuration (``COMPARED_CONFIG``) matches
    that of the newest run with data of any backend; failing that its latest run with data (the report then names the mismatch);
    a backend without any run with data is represented by its latest run (not run, or failed). A newer
    run without data never replaces an older one with data; it is named in the notes.
    """
    chosen: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    if run_ids:
        for run_id in run_ids:
            matches = [r for r in runs if r["run_id"] == run_id or f"{r['backend']}/{r['run_id']}" == run_id]
            if not matches:
                raise ResultsError(f"run {run_id!r} not found (use BACKEND/RUN_ID when ids repeat across backends)")
            if len(matches) > 1:
                raise ResultsError(f"run id {run_id!r} exists for several backends; name it as BACKEND/RUN_ID")
            run = matches[0]
            if run["backend"] in chosen:
                raise ResultsError(f"two runs given for backend {run['backend']}: compare one run per backend")
            chosen[run["backend"]] = run
        return chosen, notes
    # a sweep's runs are its report's (report/sweep.py): one point's runs are not the tree's newest configuration
    newest_first = sorted((r for r in runs if not (r.get("config") or {}).get("point")),
                          key=lambda r: _sort_key(r["run_id"]), reverse=True)
    with_data = [r for r in newest_first if has_data(r)]
    reference = compared_config(with_data[0]) if with_data else None
    for backend in PATHS:
        own = [r for r in newest_first if r["backend"] == backend]
        if not own:
            continue
        own_data = [r for r in own if has_data(r)]
        if not own_data:
            chosen[backend] = own[0]
            continue
        run = next((r for r in own_data if compared_config(r) == reference), own_data[0])
        chosen[backend] = run
        for newer in own:
            if newer is run:
                break
            if has_data(newer):
                notes.append(f"{backend}: run {newer['run_id']} is newer but its configuration differs from the "
                             f"compared runs'; the report uses run {run['run_id']}.")
            else:
                what = "was not run" if newer.get("status") == "not_run" else "recorded no data"
                reason = " ".join(str(newer.get("reason") or "").split())
                notes.append(f"{backend}: run {newer['run_id']} {what}"
                             f"{' (' + reason.rstrip('.') + ')' if reason else ''}; "
                             f"the report uses the older run {run['run_id']}.")
    return chosen, notes
