# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.run_note (documentation: plugins/modules/run_note.py)."""

from __future__ import annotations

import time

from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import PHASES, RunControlError, note_progress


def nic_environment(nic_facts: list[dict]) -> dict[str, dict[str, str]]:
    """Each backend's host_nic from volt.netbench.hypervisor_facts results registered in a loop over the
    backends ('summary (name)')."""
    out = {}
    for result in nic_facts:
        nic = ((result.get("hypervisor") or {}).get("nic")) or {}
        if result.get("item") and nic:
            out[result["item"]] = {"host_nic": f"{nic.get('summary', '')} ({nic.get('name', '')})"}
    return out


def lost_guest(lost: str, server_check: dict) -> str:
    """Why the guests are lost: the client's dropped session, else an unreachable server VM ('' when
    neither)."""
    if lost:
        return lost
    if (server_check or {}).get("unreachable"):
        message = str(server_check.get("msg") or "").strip()
        return "server VM unreachable: " + (message[:297] + "..." if len(message) > 300 else message)
    return ""


class ActionModule(VoltActionBase):
    """Note what a running benchmark learnt in each of its runs' progress files."""

    ARGSPEC = {
        "run_dirs": {"type": "list", "elements": "path", "required": True},
        "mark": {"type": "str", "choices": list(PHASES)},
        "environment": {"type": "dict", "default": {}},
        "nic_facts": {"type": "list", "elements": "dict", "default": []},
        "wall_times": {"type": "dict", "default": {}},
        "lost": {"type": "str", "default": ""},
        "server_check": {"type": "dict", "default": {}},
        "error": {"type": "str", "default": ""},
    }

    def execute(self, args, task_vars):
        if self._task.check_mode:
            return {"changed": False, "skipped_reason": "check mode: nothing noted"}
        now = time.time()
        by_backend = nic_environment(args["nic_facts"])
        lost = lost_guest(args["lost"], args["server_check"])
        noted = ""
        for run_dir in args["run_dirs"]:
            try:
                progress = note_progress(run_dir, mark=args["mark"] or "", at=now, environment=args["environment"],
                                         environment_by_backend=by_backend, wall_times=args["wall_times"], lost=lost,
                                         error=args["error"][:2000])
            except RunControlError as err:
                return {"failed": True, "msg": f"run_note: {err}", "error": args["error"]}
            except OSError as err:
                # the error is returned all the same: record_run can still take it as the run's reason
                problem = f"run_note: {write_problem(err, run_dir)}"
                if args["error"]:
                    problem = f"{args['error']} (and the run's progress file could not note it: {problem})"
                return {"failed": True, "msg": problem, "error": args["error"]}
            noted = noted or progress.get("lost", "")
        return {"changed": True, "lost": noted, "error": args["error"]}
