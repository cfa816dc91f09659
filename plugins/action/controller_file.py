# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.controller_file (documentation: plugins/modules/controller_file.py)."""

from __future__ import annotations

import base64

from ansible_collections.volt.netbench.plugins.module_utils import safefs
from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem


class ActionModule(VoltActionBase):
    """Write a file on the controller through checked directories (module_utils.safefs)."""

    ARGSPEC = {
        "dest": {"type": "path", "required": True},
        "content": {"type": "str"},
        "src": {"type": "path"},
        "private": {"type": "bool", "default": False},
        "fail_on_missing": {"type": "bool", "default": True},
    }
    MUTUALLY_EXCLUSIVE = [["content", "src"]]
    _requires_connection = True

    def execute(self, args, task_vars):
        dest = args["dest"]
        if args["content"] is None and args["src"] is None:
            return {"failed": True, "msg": "controller_file: give content or src"}
        if self._task.check_mode:
            return {"changed": False, "dest": dest, "missing": False, "skipped_reason": "check mode"}
        if args["src"] is not None:
            read = self._execute_module(module_name="ansible.builtin.slurp", module_args={"src": args["src"]},
                                        task_vars=task_vars)
            if read.get("failed"):
                if not args["fail_on_missing"] and "not found" in str(read.get("msg", "")).lower():
                    return {"changed": False, "dest": dest, "missing": True}
                return {"failed": True, "msg": f"controller_file: cannot read {args['src']}: {read.get('msg')}"}
            data = base64.b64decode(read["content"])
        else:
            data = args["content"].encode("utf-8")
        try:
            if args["private"]:
                changed = safefs.keep_private(dest, data)
            else:
                changed = safefs.read_file(dest) != data
                if changed:
                    safefs.write_file(dest, data)
        except safefs.UnsafePath as err:
            return {"failed": True, "msg": f"controller_file: refused: {err}"}
        except OSError as err:
            return {"failed": True, "msg": f"controller_file: {write_problem(err, dest)}"}
        return {"changed": changed, "dest": dest, "missing": False}
