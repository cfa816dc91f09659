# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.run_plan (documentation: plugins/modules/run_plan.py)."""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.run.run_model import (
    RunModelError, plan_lab, plan_pair, plan_request)


class ActionModule(VoltActionBase):
    """The benchmark run as one model: the request before anything is touched, the lab after the preflight."""

    ARGSPEC = {
        "settings": {"type": "dict"},
        "request": {"type": "dict"},
        "capabilities": {"type": "dict"},
        "image": {"type": "dict", "default": {}},
        "peers": {"type": "dict"},
        "pair_capabilities": {"type": "list", "elements": "dict", "default": []},
        # the results store the gate's baseline may be in (never part of the settings, which the request returns)
        "store": {"type": "str", "default": "", "no_log": True},
    }
    MUTUALLY_EXCLUSIVE = [["settings", "request"]]

    def execute(self, args, task_vars):
        if args["settings"] is not None:
            try:
                return {"changed": False, **plan_request(args["settings"], store=args["store"],
                                                         check_mode=bool(self._task.check_mode))}
            except RunModelError as err:
                return {"failed": True, "msg": str(err)}
        if args["request"] is not None and args["peers"] is not None:
            try:
                return {"changed": False, **plan_pair(args["request"], args["peers"])}
            except RunModelError as err:
                return {"failed": True, "msg": str(err)}
        if args["request"] is None or args["capabilities"] is None:
            return {"failed": True, "msg": "run_plan: give settings (the run as asked for), or request (run_plan's "
                                           "answer to them) with peers (every hypervisor's request, for a pair) or "
                                           "capabilities (the hypervisor's decisions)"}
        try:
            lab = plan_lab(args["request"], args["capabilities"], args["image"],
                           pair_capabilities=args["pair_capabilities"])
        except (RunModelError, ValueError) as err:
            return {"failed": True, "msg": f"run_plan: {err}"}
        # said before the lab is built, not only as n/a cells at the end
        return {"changed": False, **lab, **({"warnings": lab["before_lab"]} if lab["before_lab"] else {})}
