# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark_input_problems filter plugin."""

from __future__ import annotations

DOCUMENTATION = r"""
name: benchmark_input_problems
author: volt.netbench maintainers (@volt)
version_added: "0.9.0"
short_description: Every problem with a benchmark's settings, before anything is touched
description:
  - Checks the settings of a benchmark run and returns one message per problem, naming the variable,
    the value and what is allowed; an empty list when the run may start.
  - Extra vars arrive as strings from a command line and as strings or lists from an AWX survey; a
    string where a list is needed (C(tests), C(pps_sizes)) is refused with the form to use.
positional: _input
options:
  _input:
    description:
      - The settings, with the profile's values filled in. Keys C(duration), C(ping_count),
        C(ping_interval), C(streams), C(repeat), C(mtu), C(pps_sizes), C(tests), C(netns), C(vcpus), C(memory_mb),
        and the lab addresses C(server), C(client), C(prefix) (checked when given - one subnet, room for every
        data path's subnet, never a public address).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse bad settings
  ansible.builtin.assert:
    that: __problems | length == 0
    fail_msg: "{{ __problems | join('; ') }}"
  vars:
    __problems: "{{ {'duration': 30, 'ping_count': 1000, 'ping_interval': 0.01, 'streams': 8, 'repeat': 3,
                     'mtu': 1500, 'pps_sizes': [64], 'tests': [], 'netns': 'vnb-lab', 'vcpus': 0,
                     'memory_mb': 0} | volt.netbench.benchmark_input_problems }}"
"""

RETURN = r"""
_value:
  description: One message per problem.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.inputs import benchmark_problems


def benchmark_input_problems(settings):
    """Every problem with these settings (volt.netbench.benchmark_input_problems)."""
    if not isinstance(settings, dict):
        raise AnsibleFilterError(f"benchmark_input_problems: settings must be a dict, got {type(settings).__name__}")
    return benchmark_problems(dict(settings))


class FilterModule:
    """volt.netbench.benchmark_input_problems"""

    def filters(self):
        return {"benchmark_input_problems": benchmark_input_problems}
