#!/usr/bin/python
# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: guest_job
author: volt.netbench maintainers (@volt)
version_added: "0.1.0"
short_description: Run one benchmark command detached from the SSH session, with a deadline
description:
  - C(started) launches O(argv) in its own session under C(timeout), writing stdout, stderr and the
    exit status to files under O(dir). The command keeps running when the SSH connection that started
    it drops, and is killed when it outlives O(timeout).
  - C(finished) waits up to O(wait) seconds for the job to end and returns its exit status, stdout
    and stderr; C(finished) is false while it still runs (retry the task until it is true).
options:
  name:
    description: Job name (a test name), used for its files.
    type: str
    required: true
  state:
    description: Start the job, or collect it.
    type: str
    default: started
    choices: [started, finished]
  argv:
    description: The command (required to start).
    type: list
    elements: str
  timeout:
    description: Seconds after which the command is terminated (then killed 5 s later).
    type: int
    default: 120
  wait:
    description: Seconds C(finished) waits for the job before answering.
    type: int
    default: 30
  dir:
    description: Directory for the job files.
    type: path
    default: /var/tmp/volt-netbench-jobs
attributes:
  check_mode:
    support: none
    description: Not supported.
  diff_mode:
    support: none
    description: Not supported.
"""

EXAMPLES = r"""
- name: Start a test
  volt.netbench.guest_job:
    name: iperf3_tcp_single
    argv: [iperf3, -c, 198.18.0.1, -t, "30", -J]
    timeout: 95

- name: Collect it
  volt.netbench.guest_job:
    name: iperf3_tcp_single
    state: finished
  register: job
  until: job.finished
  retries: 10
  delay: 1
"""

RETURN = r"""
finished:
  description: Whether the job has ended.
  returned: state=finished
  type: bool
rc:
  description: Exit status (124 when the deadline killed it).
  returned: when finished
  type: int
stdout:
  description: Standard output.
  returned: when finished
  type: str
stderr:
  description: Standard error.
  returned: when finished
  type: str
seconds:
  description: Run time of the job.
  returned: when finished
  type: float
"""

import os
import re
import time

from ansible.module_utils.basic import AnsibleModule

NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
# "$@" keeps the argument list intact: no word splitting, no shell parsing of the command
# the first redirection lets go of run_command's pipes, so run_command returns while the job runs on
WRAPPER = ('exec </dev/null >/dev/null 2>&1; out=$1; shift; "$@" >"$out.out" 2>"$out.err"; '
           'echo $? >"$out.rc.tmp"; mv "$out.rc.tmp" "$out.rc"')


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "default": "started", "choices": ["started", "finished"]},
            "argv": {"type": "list", "elements": "str"},
            "timeout": {"type": "int", "default": 120},
            "wait": {"type": "int", "default": 30},
            "dir": {"type": "path", "default": "/var/tmp/volt-netbench-jobs"},
        },
        supports_check_mode=False,
    )
    p = module.params
    if not NAME_RE.match(p["name"]):
        module.fail_json(msg=f"job name {p['name']!r} is invalid: use A-Z a-z 0-9 _ . -")
    base = os.path.join(p["dir"], p["name"])
    if p["state"] == "started":
        if not p["argv"]:
            module.fail_json(msg="state=started needs argv")
        os.makedirs(p["dir"], mode=0o700, exist_ok=True)
        for ext in (".out", ".err", ".rc", ".rc.tmp", ".started"):
            if os.path.exists(base + ext):
                os.unlink(base + ext)
        with open(base + ".started", "w", encoding="utf-8") as handle:
            handle.write(str(time.time()))
        # setsid -f: a new session in a forked child, so the job outlives this SSH connection
        argv = ["setsid", "-f", "sh", "-c", WRAPPER, "sh", base, "timeout", "--kill-after=5", str(p["timeout"]),
                *p["argv"]]
        rc, _out, err = module.run_command(argv)
        if rc != 0:
            module.fail_json(msg=f"could not start {p['name']}: {err.strip()}")
        module.exit_json(changed=True, started=True)
    if not os.path.exists(base + ".started"):
        module.fail_json(msg=f"job {p['name']} was never started in {p['dir']}")
    deadline = time.monotonic() + p["wait"]
    while not os.path.exists(base + ".rc") and time.monotonic() < deadline:
        time.sleep(0.2)
    if not os.path.exists(base + ".rc"):
        module.exit_json(changed=False, finished=False)
    with open(base + ".started", encoding="utf-8") as handle:
        started = float(handle.read())
    ended = os.path.getmtime(base + ".rc")
    with open(base + ".rc", encoding="utf-8") as handle:
        rc = int(handle.read().strip() or 255)
    out = {}
    for ext in ("out", "err"):
        with open(f"{base}.{ext}", encoding="utf-8", errors="replace") as handle:
            out[ext] = handle.read()
    module.exit_json(changed=False, finished=True, rc=rc, stdout=out["out"], stderr=out["err"],
                     seconds=round(ended - started, 2))


if __name__ == "__main__":
    main()
