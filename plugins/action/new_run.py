# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.new_run (documentation: plugins/modules/new_run.py)."""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.plugin_utils.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.matrix import PATHS
from ansible_collections.volt.netbench.plugins.plugin_utils.results import ResultsError, create_run_dir


class ActionModule(VoltActionBase):
    """Create a fresh results/<backend>/<UTC timestamp>/ directory."""

    ARGSPEC = {
        "results_dir": {"type": "path", "required": True},
        "backend": {"type": "str", "required": True, "choices": list(PATHS)},
        "run_id": {"type": "str"},
    }

    def execute(self, args, task_vars):
        if self._task.check_mode:
            return {"changed": True, "skipped_reason": "check mode: no run directory created"}
        try:
            run_dir, run_id = create_run_dir(args["results_dir"], args["backend"], args["run_id"])
        except ResultsError as err:
            return {"failed": True, "msg": str(err)}
        return {"changed": True, "run_dir": str(run_dir), "run_id": run_id}
