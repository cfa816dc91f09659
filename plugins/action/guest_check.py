# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.guest_check (documentation: plugins/modules/guest_check.py)."""

from __future__ import annotations

import shlex

from ansible.errors import AnsibleConnectionFailure
from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.iperf3 import version_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import (
    GUEST_JOB_TEMPLATE, RunControlError, parse_probe, probe_command)


def check_problem(where: str, probe: dict, servers: list[list[str]]) -> str:
    """Why WHERE (``guest server``) cannot run the benchmark ('' when it can): a missing tool, an iperf3
    older than 3.11, a traffic server that did not start."""
    if probe["missing"]:
        return (f"{where} lacks {', '.join(probe['missing'])}: the guest image must have iperf3, sockperf, "
                "netperf (with netserver) and ping. With guest_image_path, let cloud-init install them "
                "(guest_image_cloud_packages, and a mirror the guests can reach: benchmark_guest_mgmt_outbound, "
                "benchmark_guest_cloud_config) or put them into the image.")
    if probe["iperf3"]:
        problem = version_problem(probe["iperf3"], where)
        if problem:
            return problem
    if probe["failed_server"] is not None:
        index, rc = probe["failed_server"]
        return f"{shlex.join(servers[index])} failed on {where} (rc={rc})"
    return ""


class ActionModule(VoltActionBase):
    """One round trip to a guest: its tools, its iperf3, its kernel, then its traffic servers."""

    _requires_connection = True
    ARGSPEC = {
        "tools": {"type": "list", "elements": "str", "required": True},
        "servers": {"type": "list", "elements": "list", "default": []},
        "name": {"type": "str", "default": ""},
        "host": {"type": "bool", "default": False},
        "job_dir": {"type": "bool", "default": False},
    }

    def execute(self, args, task_vars):
        name = args["name"] or task_vars.get("inventory_hostname", "the guest")
        where = name if args["host"] else f"guest {name}"
        servers = [[str(a) for a in argv] for argv in args["servers"]]
        if self._task.check_mode:
            return {"changed": False, "skipped": True, "msg": "check mode: the guest is not contacted"}
        try:
            # the guests are logged in as root; on the hypervisor (the native reference) become applies
            res = self._low_level_execute_command(probe_command(args["tools"], servers, args["job_dir"]),
                                                  sudoable=args["host"])
            probe = parse_probe(res.get("stdout", ""))
        except AnsibleConnectionFailure as err:
            return {"failed": True, "msg": f"{where} cannot be reached over SSH: {err}"}
        except RunControlError as err:
            return {"failed": True, "msg": f"{where}: {err} (rc={res.get('rc')}, stderr: "
                                           f"{(res.get('stderr') or '').strip()[-300:]})"}
        problem = check_problem(where, probe, servers)
        if args["job_dir"] and not probe["job_dir"] and not problem:
            problem = f"{where} could not make its job directory (mktemp -d {GUEST_JOB_TEMPLATE})"
        result = {"changed": bool(servers) and not problem, "kernel": probe["kernel"], "iperf3": probe["iperf3"],
                  "missing": probe["missing"], "servers": [shlex.join(s) for s in servers], "job_dir": probe["job_dir"]}
        if problem:
            result.update(failed=True, msg=problem)
        return result
