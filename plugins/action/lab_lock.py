# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.lab_lock: adds the controller's identity, runs the module."""

from __future__ import annotations

import os
import socket

from ansible.plugins.action import ActionBase
from ansible_collections.volt.netbench.plugins.module_utils.procs import start_time


class ActionModule(ActionBase):
    """Run lab_lock on the hypervisor with owner_pid = this ansible-playbook process."""

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        # task workers are forked from the ansible-playbook process: its PID is our parent's
        args["owner_pid"] = os.getppid()
        args["owner_start"] = start_time(os.getppid())
        args["owner_host"] = socket.gethostname()
        result.update(self._execute_module(module_name="volt.netbench.lab_lock", module_args=args,
                                           task_vars=task_vars))
        return result
