# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The volt.netbench.gate callback plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: gate
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
type: aggregate
short_description: ansible-playbook exits 3 when the regression gate is all that failed
description:
  - The regression gate (M(volt.netbench.compare_runs) in C(playbooks/compare.yml) and, with C(-e against=...),
    C(playbooks/benchmark.yml)) fails the host whose run regressed; Ansible then exits 2, as for any failed task.
    This callback gives that case its own exit status, 3, so that CI tells "slower than the baseline" apart from
    "the benchmark broke".
  - At the end of the playbook it exits 3 when every host that failed is a host whose gate verdict
    (C(volt_netbench_gate) in the custom stats) is a regression and the gate was its only failure, and no host
    was unreachable. Any other failure keeps Ansible's own status.
  - Enabled by the project's C(ansible.cfg) (C(callbacks_enabled)). Without it the gate still fails the run,
    with status 2.
requirements:
  - enabled in C(callbacks_enabled)
"""

from ansible.plugins.callback import CallbackBase

from ansible_collections.volt.netbench.plugins.plugin_utils.history.regression import RC_REGRESSION, gate_exit


class CallbackModule(CallbackBase):
    """Exit 3 when the regression gate is the only failure."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "volt.netbench.gate"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_stats(self, stats):
        custom = (getattr(stats, "custom", {}) or {}).get("_run", {})
        if gate_exit(custom.get("volt_netbench_gate") or {}, stats.failures, stats.dark) == RC_REGRESSION:
            self._display.display(f"volt.netbench.gate: a regression beyond the tolerance - exit status {RC_REGRESSION}",
                                  stderr=True)
            # Ansible has no exit status of its own for this: leave with the gate's once every callback
            # before this one (the stdout callback's recap first) has run
            raise SystemExit(RC_REGRESSION)
