# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The results_dir_problem filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: results_dir_problem
author: volt.netbench maintainers (@volt)
version_added: "0.4.0"
short_description: Why the controller cannot write a results directory
description:
  - Returns an empty string when the controller can write under the path, else what is wrong. A probe
    directory is made and removed again in the path, or in its nearest existing parent when the path does
    not exist yet, so nothing is left behind (the check a check-mode run makes too).
  - Runs on the controller, where the results are kept.
positional: _input
options:
  _input:
    description: The results directory.
    type: path
    required: true
"""

EXAMPLES = r"""
- name: Refuse an unwritable results directory
  ansible.builtin.assert:
    that: (results_dir | volt.netbench.results_dir_problem) | length == 0
"""

RETURN = r"""
_value:
  description: The problem, or an empty string.
  type: str
"""

from ansible_collections.volt.netbench.plugins.plugin_utils.dry_run import results_dir_problem as _problem


def results_dir_problem(path):
    """Why PATH cannot hold results ('' when it can)."""
    return _problem(str(path))


class FilterModule:
    """volt.netbench.results_dir_problem"""

    def filters(self):
        return {"results_dir_problem": results_dir_problem}
