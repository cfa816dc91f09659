# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.compare_runs (documentation: plugins/modules/compare_runs.py)."""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import LOCAL_HOST
from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import keep_verdict
from ansible_collections.volt.netbench.plugins.plugin_utils.history.regression import (
    DEFAULT_TOLERANCE, REGRESSION, CompareError, ResultsError, compare_runs, gate_stats, summary_lines, to_json, write_comparison)


class ActionModule(VoltActionBase):
    """Compare a run with a baseline run and give the regression gate's verdict."""

    ARGSPEC = {
        "results_dir": {"type": "path", "required": True},
        "against": {"type": "str", "required": True},
        "run": {"type": "str", "default": ""},
        "tolerance": {"type": "float", "default": DEFAULT_TOLERANCE},
        "force": {"type": "bool", "default": False},
        "display_dir": {"type": "str"},
        "host": {"type": "str", "default": ""},
        "results_base": {"type": "str", "default": ""},
        "store": {"type": "str", "default": "", "no_log": True},
    }

    def execute(self, args, task_vars):
        host = args["host"] or task_vars.get("inventory_hostname", LOCAL_HOST)
        try:
            model = compare_runs(args["results_dir"], args["against"], run=args["run"] or None,
                                 tolerance=args["tolerance"], force=args["force"], display_dir=args["display_dir"],
                                 bases=[args["results_base"]], store=args["store"], store_host=host)
            if args["store"] and not self._task.check_mode:
                keep_verdict(args["store"], host, model)
        except (CompareError, ResultsError) as err:
            return {"failed": True, "msg": f"compare_runs: {err}"}
        doc = to_json(model)
        files = {}
        if not self._task.check_mode:
            try:
                files = write_comparison(model, args["results_dir"])
            except OSError as err:
                return {"failed": True, "msg": f"compare_runs: {write_problem(err, args['results_dir'])}"}
        lines = summary_lines(model)
        return {
            "changed": bool(files),
            "verdict": model["verdict"],
            "regression": model["verdict"] == REGRESSION,
            # not "rc": Ansible takes a non-zero rc in a result for a failed task
            "gate_rc": model["rc"],
            "regressions": model["regressions"],
            "counts": model["counts"],
            "differences": doc["differences"] + doc["measured_differences"],
            "metrics": doc["metrics"],
            "run": model["current"]["run_id"],
            "against": model["baseline"]["run_id"],
            "files": files,
            "summary": lines,
            "message": "; ".join(lines),
            "stats_data": gate_stats(model, host, files),
        }
