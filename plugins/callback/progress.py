# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The volt.netbench.progress callback plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: progress
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
type: aggregate
short_description: One line per benchmark test - position, backend, result, elapsed time, time left
description:
  - After each test of the matrix (each M(volt.netbench.guest_test) task), prints one line with its
    position in the matrix, the backend, the test (and repetition), its result in the report's units
    (or why it failed), how long it took, the matrix's elapsed time and an estimate of the time left
    (the plan's remaining seconds, scaled by how the matrix has kept to its plan so far).
  - An aggregate callback, so it runs beside any stdout callback; its lines appear in AWX / Automation
    Controller job output too.
  - Enabled by the project's C(ansible.cfg) (C(callbacks_enabled = volt.netbench.progress)).
requirements:
  - enabled in C(callbacks_enabled)
"""

import time

from ansible.plugins.callback import CallbackBase

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.run_control import progress_line


class CallbackModule(CallbackBase):
    """Prints volt.netbench.guest_test results as progress lines."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "volt.netbench.progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._matrix_started = None

    @staticmethod
    def _is_test(task) -> bool:
        return task.action in ("volt.netbench.guest_test", "guest_test")

    def v2_playbook_on_task_start(self, task, is_conditional):
        if self._is_test(task) and self._matrix_started is None:
            self._matrix_started = time.monotonic()

    def v2_runner_on_ok(self, result):
        info = result._result.get("volt_progress")
        if not isinstance(info, dict) or not self._is_test(result._task):
            return
        elapsed = time.monotonic() - self._matrix_started if self._matrix_started is not None else None
        self._display.display(progress_line(info, elapsed))
