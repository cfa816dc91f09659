# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.fleet_report (documentation: plugins/modules/fleet_report.py)."""

from __future__ import annotations


from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.report.fleet import build_fleet, write_fleet
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import BACKENDS


class ActionModule(VoltActionBase):
    """Write the fleet's REPORT.md and fleet.csv beside the hosts' own result directories."""

    ARGSPEC = {
        "results_dir": {"type": "path", "required": True},
        "hosts": {"type": "list", "elements": "str", "required": True},
        "failures": {"type": "dict", "default": {}},
        "baseline": {"type": "str", "default": "virtio", "choices": list(BACKENDS)},
        "display_dir": {"type": "str"},
    }

    def execute(self, args, task_vars):
        model = build_fleet(args["results_dir"], args["hosts"], failures=args["failures"], baseline=args["baseline"],
                            display_dir=args["display_dir"])
        if self._task.check_mode:
            return {"changed": False, "skipped_reason": "check mode: no fleet report written"}
        try:
            paths = write_fleet(model, args["results_dir"])
        except OSError as err:
            return {"failed": True, "msg": f"fleet_report: {write_problem(err, args['results_dir'])}"}
        return {
            "changed": True,
            "report": str(paths[0]),
            "html": str(paths[1]),
            "csv": str(paths[2]),
            "reported": model["reported"],
            "missing": model["missing"],
            "claims": [f"{c['label']}: {c['verdict']}" for c in model["claims"]],
            "outliers": model["outliers"],
        }
