# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.watchdog (documentation: plugins/modules/watchdog.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from ansible_collections.volt.netbench.plugins.module_utils import safefs
from ansible_collections.volt.netbench.plugins.module_utils.lab import private_dir
from ansible_collections.volt.netbench.plugins.module_utils.procs import start_time
from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import BACKENDS

SUFFIX = os.path.join("ansible_collections", "volt", "netbench", "plugins", "action", "watchdog.py")


class ActionModule(VoltActionBase):
    """Start (or update the configuration of) the reaper that finishes an interrupted run."""

    ARGSPEC = {
        "state": {"type": "str", "default": "started", "choices": ["started", "updated", "finished"]},
        "config_path": {"type": "path", "required": True},
        "lock": {"type": "path"},
        "local": {"type": "bool", "default": True},
        "netns": {"type": "str", "default": ""},
        "manage_netns": {"type": "bool", "default": True},
        "extra_netns": {"type": "list", "elements": "str", "default": []},
        "job_dir": {"type": "path"},
        "state_dir": {"type": "path"},
        "chardev_dir": {"type": "path"},
        "controller_dir": {"type": "path"},
        "cpu_samples": {"type": "path"},
        "results_dir": {"type": "path"},
        "display_dir": {"type": "str"},
        "baseline": {"type": "str", "default": "virtio", "choices": list(BACKENDS)},
        "run_dir": {"type": "path"},
        "run_dirs": {"type": "list", "elements": "path"},
        "heartbeat": {"type": "dict"},
        # the results store an interrupted run is recorded into as well (its configuration file is private)
        "store": {"type": "str", "default": "", "no_log": True},
        "store_host": {"type": "str", "default": ""},
    }

    def execute(self, args, task_vars):
        if self._task.check_mode:
            return {"changed": False, "skipped_reason": "check mode"}
        config_path = Path(args.pop("config_path"))
        state = args.pop("state")
        if state == "finished":
            # the run ended normally: a remote lab's watchdog exits when its configuration is gone
            existed = config_path.exists()
            config_path.unlink(missing_ok=True)
            return {"changed": existed}
        if state == "updated":
            # only what this task names changes; the rest stays as the watchdog was started with
            try:
                cfg = json.loads(config_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as err:
                return {"failed": True, "msg": f"no watchdog configuration to update at {config_path}: {err}"}
            cfg.update({k: args[k] for k in self._task.args if k in args})
        elif not args["lock"]:
            return {"failed": True, "msg": "state=started needs lock"}
        else:
            # task workers are forked from the ansible-playbook process: its PID is our parent's
            # ... and its start time: a PID that another process got after it ended is not the run (reaper)
            cfg = {**args, "owner_pid": os.getppid(), "owner_start": start_time(os.getppid())}
        # the watchdog trusts only a configuration in a directory no one else may change (private_file)
        problem = private_dir(str(config_path.parent))
        if problem:
            return {"failed": True, "msg": f"the watchdog's configuration cannot be kept safely: {problem}. "
                                           "Remove it, or run as the user who owns it."}
        safefs.write_file(config_path, json.dumps(cfg), mode=0o600, strict=True)
        if state == "updated":
            return {"changed": False, "config": cfg}
        here = os.path.abspath(__file__)
        if not here.endswith(SUFFIX):
            return {"failed": True, "msg": f"cannot locate the collection root from {here}"}
        root = here[: -len(SUFFIX)]
        code = ("import sys; sys.path.insert(0, sys.argv[1]); "
                "from ansible_collections.volt.netbench.plugins.plugin_utils.run.reaper import main; "
                "sys.exit(main(sys.argv[2]))")
        with open(config_path.with_suffix(".log"), "ab") as log:
            proc = subprocess.Popen(  # pylint: disable=consider-using-with
                [sys.executable, "-c", code, root, str(config_path)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True, start_new_session=True,
            )
        return {"changed": True, "pid": proc.pid, "config": cfg}
