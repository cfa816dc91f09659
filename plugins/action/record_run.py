# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.record_run (documentation: plugins/modules/record_run.py)."""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PATHS
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import (
    RUN_STATUSES, UNREACHED_REASON, UNREACHED_STATUS, ResultsError, record_from_progress, record_run)
from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import LOCAL_HOST, keep_run
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import unreached


class ActionModule(VoltActionBase):
    """Parse a run's raw outputs and write samples.jsonl and run.json."""

    ARGSPEC = {
        "run_dir": {"type": "path", "required": True},
        "backend": {"type": "str", "choices": list(PATHS)},
        "tests": {"type": "list", "elements": "dict", "default": []},
        "planned": {"type": "list", "elements": "dict", "default": []},
        "unreached_reason": {"type": "str", "default": ""},
        "config": {"type": "dict", "default": {}},
        "environment": {"type": "dict", "default": {}},
        "status": {"type": "str", "choices": list(RUN_STATUSES)},
        "reason": {"type": "str", "default": ""},
        "wall_times": {"type": "dict", "default": {}},
        "started": {"type": "str"},
        "from_progress": {"type": "bool", "default": False},
        "store": {"type": "str", "default": "", "no_log": True},
        "store_host": {"type": "str", "default": ""},
    }

    def execute(self, args, task_vars):
        if self._task.check_mode:
            return {"changed": True, "skipped_reason": "check mode: nothing recorded"}
        try:
            if args["from_progress"]:
                given = [k for k in ("backend", "tests", "planned", "config", "environment", "status", "wall_times",
                                     "started") if args[k]]
                if given:
                    return {"failed": True, "msg": "record_run: from_progress takes everything from the run's "
                                                   f"progress file; do not give {', '.join(given)}"}
                run = record_from_progress(args["run_dir"], unreached_reason=args["unreached_reason"],
                                           reason=args["reason"])
            else:
                if not args["backend"]:
                    return {"failed": True, "msg": "record_run: give the run's backend (or from_progress)"}
                run = record_run(
                    args["run_dir"],
                    backend=args["backend"],
                    tests=args["tests"] + unreached(args["planned"], args["tests"],
                                                    args["unreached_reason"] or UNREACHED_REASON,
                                                    status=UNREACHED_STATUS),
                    config=args["config"],
                    environment=args["environment"],
                    status=args["status"],
                    reason=args["reason"],
                    wall_times=args["wall_times"],
                    started=args["started"],
                )
        except ResultsError as err:
            return {"failed": True, "msg": str(err)}
        except OSError as err:
            return {"failed": True, "msg": f"record_run: {write_problem(err, args['run_dir'])}"}
        stored = []
        if args["store"]:
            host = args["store_host"] or task_vars.get("inventory_hostname", LOCAL_HOST)
            try:
                stored = list(keep_run(args["store"], args["run_dir"], host))
            except ResultsError as err:
                return {"failed": True, "run_id": run["run_id"], "status": run["status"],
                        "msg": f"record_run: run {args['run_dir']} is recorded there, but not in the results store: "
                               f"{err} - once the store is reachable, import it with playbooks/compare.yml "
                               f"-e import={args['run_dir']}"}
        return {
            "stored": stored,
            "changed": True,
            "run_id": run["run_id"],
            "status": run["status"],
            "counts": run["counts"],
            "failed_tests": {t["name"]: t["message"] for t in run["tests"] if t["status"] == "failed"},
            "parsed": {t["name"]: t.get("parsed", {}) for t in run["tests"]},
        }
