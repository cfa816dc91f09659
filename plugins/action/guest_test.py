# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.guest_test (documentation: plugins/modules/guest_test.py)."""

from __future__ import annotations

import time

from ansible.errors import AnsibleConnectionFailure
from ansible_collections.volt.netbench.plugins.plugin_utils.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.errors import ParseError
from ansible_collections.volt.netbench.plugins.plugin_utils.files import write_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.matrix import PARSERS, headline
from ansible_collections.volt.netbench.plugins.plugin_utils.run_control import (
    COLLECT_SLACK, JOB_DIR, RunControlError, append_progress, classify, collect_command, parse_clock, parse_envelope,
    read_progress, start_command, tool_clock, write_outputs)

# A dropped SSH session while the job runs on is retried this many times before the client counts as lost.
COLLECT_ATTEMPTS = 3


def _headline(test, entry, job) -> str:
    """The test's result in the report's units, for the progress line ('' when there is none)."""
    if entry["status"] != "ok" or not job.get("stdout"):
        return ""
    try:
        return headline(test["name"], PARSERS[test["tool"]](job["stdout"], entry.get("raw")))
    except ParseError as err:
        return f"output not parsed ({err})"


class ActionModule(VoltActionBase):
    """Start one test on the delegated guest, collect it, keep its output and progress on the controller."""

    _requires_connection = True
    ARGSPEC = {
        "test": {"type": "dict", "required": True},
        "run_dir": {"type": "path", "required": True},
        "not_run": {"type": "str", "default": ""},
    }

    def _shell(self, command: str, host: bool = False) -> dict:
        # the guests are logged in as root; on the hypervisor (the native reference) become applies
        return self._low_level_execute_command(command, sudoable=host)

    def execute(self, args, task_vars):
        test = args["test"]
        for key in ("name", "tool", "argv", "timeout"):
            if key not in test:
                return {"failed": True, "msg": f"guest_test: test needs {key} (an entry of the volt.netbench.test_plan filter)"}
        if self._task.check_mode:
            return {"changed": False, "skipped": True, "msg": f"check mode: {test.get('command', test['name'])} not run"}
        started = time.monotonic()
        job, start_error, client_lost = None, "", ""
        host, job_dir = bool(test.get("host")), test.get("job_dir", JOB_DIR)
        sent = answered = 0.0
        clock_up = None
        # a guest lost earlier in the lab (run_note) stops the tests on the guests, not the hypervisor's own
        not_run = args["not_run"] or ("" if host else (read_progress(args["run_dir"]) or {}).get("lost", ""))
        if not not_run:
            try:
                sent = time.time()
                res = self._shell(start_command(test.get("job", test["name"]), test["argv"], int(test["timeout"]),
                                                job_dir), host)
                answered = time.time()
                clock_up = parse_clock(res.get("stdout", ""))
                if res["rc"] != 0:
                    start_error = (res.get("stderr") or res.get("stdout") or f"rc={res['rc']}").strip()
                else:
                    job, client_lost = self._collect(test, host, job_dir)
            except AnsibleConnectionFailure as err:
                client_lost = str(err)
            except RunControlError as err:
                start_error = str(err)
        collected = time.time()
        entry = classify(test, job=job, start_error=start_error, client_lost=client_lost, not_run=not_run)
        if entry["status"] == "ok":
            # the tool's run on the controller's clock, from the client's own timestamps (the hypervisor's CPU
            # samples are cut to the part of it the tool measured: matrix.cpu_window); without them, it ended
            # when it was collected and ran for the time the client measured
            clock = tool_clock(sent, answered, clock_up, job)
            if clock:
                entry["window"], entry["clock_error_s"] = clock["window"], clock["error_s"]
            else:
                entry["window"] = [round(collected - float(job["seconds"]), 3), round(collected, 3)]
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
                                            "remaining_s")},
                "name": test["name"], "status": entry["status"], "message": entry["message"],
                "wall_s": entry["wall_s"], "headline": _headline(test, entry, job or {}),
            },
        }

    def _collect(self, test, host: bool, job_dir: str) -> tuple[dict | None, str]:
        wait = float(test["timeout"]) + COLLECT_SLACK
        deadline = time.monotonic() + wait
        last_error = ""
        for _attempt in range(COLLECT_ATTEMPTS):
            try:
                res = self._shell(collect_command(test.get("job", test["name"]), max(1.0, deadline - time.monotonic()),
                                                  job_dir), host)
            except AnsibleConnectionFailure as err:
                last_error = str(err)
                try:
                    self._connection.reset()
                except Exception:  # pylint: disable=broad-except
                    pass  # the next attempt reconnects or fails again
                continue
            try:
                job = parse_envelope(res.get("stdout", ""))
            except RunControlError as err:
                return {"finished": False, "error": str(err)}, ""
            if job.get("missing"):
                return {"finished": False, "error": "its job files vanished from the client"}, ""
            return job, ""
        return None, last_error or "the connection dropped while the test ran"
