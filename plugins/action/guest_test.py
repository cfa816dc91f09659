# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.guest_test (documentation: plugins/modules/guest_test.py)."""

from __future__ import annotations

import json
import shlex
import time

from ansible.errors import AnsibleConnectionFailure
from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.core.errors import ParseError
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import pps_search
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import LOAD_LEAD_S, PARSERS, headline
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import (
    COLLECT_SLACK, JOB_DIR, RunControlError, append_progress, classify, collect_command, in_job_dir, load_problem,
    paced_load, parse_envelope, parse_envelopes, read_progress, run_clock, run_command, tool_clock, tool_error,
    write_outputs)

# A dropped SSH session while the job runs on is retried this many times before the client counts as lost.
COLLECT_ATTEMPTS = 3


class _Stopped(Exception):
    """The confirming run of a packet-rate search did not produce an output (its job says why)."""


def _parsed(test, entry, job) -> tuple[dict | None, str]:
    """The collected output as its parser reads it, and why it is not a result ('' when it is one)."""
    try:
        return PARSERS[test["tool"]](job["stdout"], entry.get("raw")), ""
    except ParseError as err:
        return None, str(err)


class ActionModule(VoltActionBase):
    """Start one test on the delegated guest, collect it, keep its output and progress on the controller."""

    _requires_connection = True
    ARGSPEC = {
        "test": {"type": "dict", "required": True},
        "run_dir": {"type": "path", "required": True},
        "not_run": {"type": "str", "default": ""},
        "job_dir": {"type": "str", "default": ""},
        "rate_dir": {"type": "str", "default": ""},
    }

    def _shell(self, command: str, host: bool = False) -> dict:
        # the guests are logged in as root; on the hypervisor (the native reference) become applies. The command goes
        # to the login shell as it is (executable ''): no /bin/sh -c around it and no 'sleep 0' after it, two programs
        # fewer per round trip on an emulated guest (the guests' root shell is dash, a cloud image's bash; the
        # command is POSIX sh, and its output ends with a marker the action checks)
        return self._low_level_execute_command(command, sudoable=host, executable="")

    def execute(self, args, task_vars):
        test = args["test"]
        for key in ("name", "tool", "argv", "timeout"):
            if key not in test:
                return {"failed": True, "msg": f"guest_test: test needs {key} (an entry of the volt.netbench.test_plan filter)"}
        if self._task.check_mode:
            return {"changed": False, "skipped": True, "msg": f"check mode: {test.get('command', test['name'])} not run"}
        started = time.monotonic()
        job, start_error, client_lost, problem = None, "", "", ""
        host, job_dir = bool(test.get("host")), test.get("job_dir", JOB_DIR)
        if args["job_dir"] and not host:
            # the client's own job directory (made by its check with mktemp -d) stands for the plan's
            job_dir = args["job_dir"]
            argv = in_job_dir(test["argv"], job_dir)
            test = dict(test, argv=argv, command=" ".join(argv))
        sent = answered = 0.0
        clock_up, load = None, None
        # a guest lost earlier in the lab (run_note) stops the tests on the guests, not the hypervisor's own
        not_run = args["not_run"] or ("" if host else (read_progress(args["run_dir"]) or {}).get("lost", ""))
        # a sweep's load point: its load's rate from the capacity search of its point (run_control.paced_load)
        test, unpaced = paced_load(test, args["rate_dir"])
        if unpaced and not not_run:
            start_error = unpaced
        elif not not_run:
            try:
                if test.get("search"):
                    test, ran = self._search(test, host, job_dir)
                else:
                    # a loaded test: the flows start first, the probe LOAD_LEAD_S later, both in one round trip
                    ran = self._run(test, host, job_dir, loaded=bool(test.get("load")))
                job, start_error, client_lost = ran["job"], ran["start_error"], ran["client_lost"]
                sent, answered, clock_up, problem = ran["sent"], ran["answered"], ran["clock_up"], ran["problem"]
                load = ran.get("load")
                if test.get("load") and not client_lost and not start_error:
                    problem = load_problem(test, job, load) or problem
                    if job is not None and load is not None:
                        job["load_stdout"] = load.get("stdout", "")
            except AnsibleConnectionFailure as err:
                client_lost = str(err)
            except RunControlError as err:
                start_error = str(err)
        collected = time.time()
        entry = classify(test, job=job, start_error=start_error, client_lost=client_lost, not_run=not_run,
                         problem=problem)
        parsed = None
        if entry["status"] == "ok" and (job or {}).get("stdout"):
            # a tool that reported its own error and exited 0 (sockperf's "Can't connect socket", iperf3 -J's
            # "error") failed now, not only when the run is recorded: the failure is what makes the run check
            # whether the server VM is still there (a lost server told from a failed tool)
            parsed, refused = _parsed(test, entry, job)
            if refused:
                entry = classify(test, job=job, problem=refused)
        if entry["status"] == "ok":
            # the tool's run on the controller's clock, from the client's own timestamps (the hypervisor's CPU
            # samples are cut to the part of it the tool measured: matrix.cpu_window); without them, it ended
            # when it was collected and ran for the time the client measured
            clock = tool_clock(sent, answered, clock_up, job)
            if clock:
                entry["window"], entry["clock_error_s"] = clock["window"], clock["error_s"]
            else:
                entry["window"] = [round(collected - float(job["seconds"]), 3), round(collected, 3)]
            # the load's run beside it, on the same clock: the test's tools ran from its start to the later end
            load_clock = tool_clock(sent, answered, clock_up, load) if load else None
            if load_clock:
                entry["load_window"] = load_clock["window"]
        try:
            write_outputs(args["run_dir"], entry, job or {})
            append_progress(args["run_dir"], entry)
        except OSError as err:
            # the outcome could not be kept: the run stops here, and what was written before stays
            return {"failed": True, "msg": f"guest_test: {test['name']}: {write_problem(err, args['run_dir'])}",
                    "entry": entry}
        return {
            "changed": entry["status"] == "ok",
            "entry": entry,
            "lost": entry["message"] if client_lost else "",
            "exit_status": (job or {}).get("rc"),
            "seconds": round(time.monotonic() - started, 2),
            # for the volt.netbench.progress callback
            "volt_progress": {
                **{k: test.get(k) for k in ("position", "total", "backend", "repetition", "repeat", "planned_s",
                                            "remaining_s", "point")},
                "name": test["name"], "status": entry["status"], "message": entry["message"],
                "wall_s": entry["wall_s"], "headline": headline(test["name"], parsed) if parsed is not None else "",
            },
        }

    def _run(self, test, host: bool, job_dir: str, loaded: bool = False) -> dict:
        """Start TEST's job (and, LOADED, its load first) and collect it in one round trip (run_control.run_command):
        the job, the load's job and what the clock mapping needs. A connection that drops while the jobs run, or an
        answer without their envelopes, is collected again from the jobs' files (they run on, detached)."""
        out = {"job": None, "load": None, "start_error": "", "client_lost": "", "problem": "", "sent": 0.0,
               "answered": 0.0, "clock_up": None}
        name = test.get("job", test["name"])
        load = None
        if loaded:
            # the load outlasts the probe by its own -t (matrix.plan_tests); its deadline covers the lead too
            load = (test["load_job"], test["load"], int(test["timeout"]) + int(LOAD_LEAD_S) + 5, LOAD_LEAD_S)
        out["sent"] = time.time()
        try:
            res = self._shell(run_command(name, test["argv"], int(test["timeout"]), job_dir, load=load), host)
        except AnsibleConnectionFailure:
            # whether the jobs started is known from their files: the collector says (or that they are missing)
            return self._collected(out, test, host, job_dir, load)
        stdout = res.get("stdout", "")
        out["sent"], out["answered"], out["clock_up"] = run_clock(out["sent"], time.time(), stdout)
        if res["rc"] != 0:
            out["start_error"] = (res.get("stderr") or stdout or f"rc={res['rc']}").strip()
            return out
        try:
            found = parse_envelopes(stdout)
        except RunControlError as err:
            out["job"] = {"finished": False, "error": str(err)}
            return out
        out["job"], out["load"] = found.get(name), found.get(load[0]) if load else None
        if not (out["job"] or {}).get("finished") or (load and not (out["load"] or {}).get("finished")):
            # an answer cut short: the jobs' files on the client still have them
            return self._collected(out, test, host, job_dir, load)
        return out

    def _collected(self, out: dict, test, host: bool, job_dir: str, load) -> dict:
        """OUT with the test's job (and its load's) collected again from the client."""
        if not (out["job"] or {}).get("finished"):
            out["job"], out["client_lost"] = self._collect(test, host, job_dir)
        if load and not out["client_lost"] and not (out["load"] or {}).get("finished"):
            out["load"], lost = self._collect(dict(test, job=load[0]), host, job_dir)
            out["client_lost"] = out["client_lost"] or lost
        return out

    def _search(self, test, host: bool, job_dir: str) -> tuple[dict, dict]:
        """A loss-bounded packet rate (plugin_utils/measure/pps_search.py): short probes run in one round trip each, the
        confirming run as the test's own job. Returns the test as confirmed (its argv with the rate) and the run."""
        how = test["search"]
        payload = int(how["payload"])
        confirmed: dict = {"test": test, "ran": None}
        probes: list = []  # every probe that produced an output, also when a later one fails

        def probe(kind: str, target):
            rate = ["-b", str(pps_search.bits_per_second(target, payload) if target else 0)]
            if kind == "confirm":
                argv = list(test["argv"]) + rate
                mine = dict(test, argv=argv, command=" ".join(argv))
                ran = self._run(mine, host, job_dir)
                confirmed.update(test=mine, ran=ran)
                job = ran["job"] or {}
                if ran["start_error"] or ran["client_lost"] or not job.get("finished") or job.get("rc"):
                    raise _Stopped()
                return pps_search.probe_record(kind, target, payload, argv, job["stdout"], job.get("seconds", 0.0))
            argv = list(how["probe_argv"]) + rate
            began = time.monotonic()
            res = self._shell(shlex.join(["timeout", "--kill-after=2", str(int(how["probe_s"]) + 20), *argv]), host)
            if res["rc"] != 0:
                why = tool_error(res.get("stdout", "")) or (res.get("stderr") or "").strip()[-200:] or f"exit {res['rc']}"
                raise pps_search.SearchError(f"the {kind} probe ({' '.join(argv)}) failed: {why}")
            return pps_search.probe_record(kind, target, payload, argv, res.get("stdout", ""),
                                           time.monotonic() - began)

        outcome, problem = None, ""
        try:
            outcome = pps_search.search(probe, loss_max=float(how["loss_max"]), max_probes=int(how["max_probes"]),
                                        resolution=float(how["resolution"]),
                                        confirm_attempts=int(how["confirm_attempts"]), probes=probes)
        except (pps_search.SearchError, ParseError) as err:
            problem = f"packet-rate search: {err}"
        except _Stopped:
            pass  # the confirming run failed: its job says how (classify)
        ran = confirmed["ran"] or {"job": None, "start_error": "", "client_lost": "", "problem": "", "sent": 0.0,
                                   "answered": 0.0, "clock_up": None}
        if outcome is not None and outcome["result"] is None:
            problem = f"packet-rate search: {outcome['message']}"
        document = pps_search.search_document(
            outcome or {"probes": probes, "found_pps": None, "converged": False, "message": problem},
            payload=payload, loss_max=float(how["loss_max"]), probe_s=float(how["probe_s"]),
            resolution=float(how["resolution"]))
        job = dict(ran["job"] or {"finished": True, "rc": 0, "stdout": "", "stderr": "", "seconds": 0.0})
        job["probes"] = json.dumps(document, indent=1)
        return confirmed["test"], dict(ran, job=job, problem=problem or ran["problem"])

    def _collect(self, test, host: bool, job_dir: str) -> tuple[dict | None, str]:
        wait = float(test["timeout"]) + COLLECT_SLACK
        deadline = time.monotonic() + wait
        last_error = ""
        name = test.get("job", test["name"])
        for _attempt in range(COLLECT_ATTEMPTS):
            try:
                res = self._shell(collect_command(name, max(1.0, deadline - time.monotonic()), job_dir), host)
            except AnsibleConnectionFailure as err:
                last_error = str(err)
                try:
                    self._connection.reset()
                except Exception:  # pylint: disable=broad-except
                    pass  # the next attempt reconnects or fails again
                continue
            try:
                job = parse_envelope(res.get("stdout", ""), name)
            except RunControlError as err:
                return {"finished": False, "error": str(err)}, ""
            if job.get("missing"):
                return {"finished": False, "error": "its job files vanished from the client"}, ""
            return job, ""
        return None, last_error or "the connection dropped while the test ran"
