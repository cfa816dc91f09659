# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.new_run (documentation: plugins/modules/new_run.py)."""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PATHS
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.sweep import split_run_key
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import ResultsError, create_run_dir, reserve_room
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import start_progress


class ActionModule(VoltActionBase):
    """Create fresh results/<backend>/<UTC timestamp>/ directories, each with its progress file."""

    ARGSPEC = {
        "results_dir": {"type": "path", "required": True},
        "backend": {"type": "str", "choices": list(PATHS)},
        "backends": {"type": "list", "elements": "str"},
        "run_id": {"type": "str"},
        "progress": {"type": "dict", "default": {}},
    }
    MUTUALLY_EXCLUSIVE = [["backend", "backends"]]

    def execute(self, args, task_vars):
        if args["backends"] == []:
            # a hypervisor that records no run here (a cross-host pair's server side)
            return {"changed": False, "run_dirs": {}, "run_ids": {}, "msg": "no run recorded on this hypervisor"}
        backends = args["backends"] or ([args["backend"]] if args["backend"] else [])
        if not backends:
            return {"failed": True, "msg": "new_run: give backend (one run) or backends (one run each)"}
        # a sweep's runs: a backend and its point (virtio+mtu-9000: results/virtio/<run id>+mtu-9000/)
        unknown = [b for b in backends if split_run_key(b)[0] not in PATHS]
        missing = [b for b in args["progress"] if b not in backends]
        if unknown or missing:
            return {"failed": True, "msg": f"new_run: {', '.join(unknown + missing)} is not one of the runs to "
                                           f"create ({', '.join(PATHS)})"}
        if self._task.check_mode:
            return {"changed": True, "skipped_reason": "check mode: no run directory created"}
        run_dirs, run_ids, backend_of = {}, {}, {}
        for backend in backends:
            path, point = split_run_key(backend)
            backend_of[backend] = path
            try:
                run_dir, run_ids[backend] = create_run_dir(args["results_dir"], path, args["run_id"], point)
            except ResultsError as err:
                return {"failed": True, "msg": str(err), "run_dirs": run_dirs}
            run_dirs[backend] = str(run_dir)
            header = args["progress"].get(backend)
            if header:
                try:
                    start_progress(run_dir, dict(header, backend=path))
                    reserve_room(run_dir, len(header.get("planned") or []))
                except OSError as err:
                    return {"failed": True, "msg": f"new_run: {write_problem(err, run_dir)}", "run_dirs": run_dirs}
        first = backends[0]
        return {"changed": True, "run_dir": run_dirs[first], "run_id": run_ids[first], "run_dirs": run_dirs,
                "run_ids": run_ids, "backend_of": backend_of}
