# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The iperf3_version_problem filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: iperf3_version_problem
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Why a guest's iperf3 cannot be used, from its version
description:
  - Takes the output of C(iperf3 --version) and returns an empty string when that iperf3 is 3.11 or newer,
    otherwise a message that says what was found and what is needed. iperf3 3.11 is the first to report the
    receiver's UDP rate (C(end.sum_received)), the only UDP rate the report uses.
positional: _input, where
options:
  _input:
    description: Output of C(iperf3 --version).
    type: str
    required: true
  where:
    description: Where that iperf3 runs, for the message.
    type: str
    default: the guest
"""

EXAMPLES = r"""
- name: Refuse an old iperf3
  ansible.builtin.fail:
    msg: "{{ iperf3_version.stdout | volt.netbench.iperf3_version_problem('guest client') }}"
  when: (iperf3_version.stdout | volt.netbench.iperf3_version_problem) | length > 0
"""

RETURN = r"""
_value:
  description: The problem, or an empty string.
  type: str
"""

from ansible_collections.volt.netbench.plugins.plugin_utils.parsers.iperf3 import version_problem


def iperf3_version_problem(output, where="the guest"):
    """Why this iperf3 cannot be used ('' when it can)."""
    return version_problem(str(output or ""), str(where))


class FilterModule:
    """volt.netbench.iperf3_version_problem"""

    def filters(self):
        return {"iperf3_version_problem": iperf3_version_problem}
