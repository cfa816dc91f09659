# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared argument handling for the collection's controller-side action plugins."""

from __future__ import annotations

from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase


class VoltActionBase(ActionBase):
    """Validates task arguments against ``ARGSPEC`` before ``execute`` runs on the controller."""

    ARGSPEC: dict[str, Any] = {}
    MUTUALLY_EXCLUSIVE: list[list[str]] = []
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        validation, args = self.validate_argument_spec(
            argument_spec=self.ARGSPEC, mutually_exclusive=self.MUTUALLY_EXCLUSIVE
        )
        del validation
        # a no_log argument (a store's DSN) never comes back in the result, as AnsibleModule keeps it out of its own
        secrets = {str(args[k]) for k, spec in self.ARGSPEC.items() if spec.get("no_log") and args.get(k)}
        try:
            result.update(self.execute(args, task_vars or {}))
        except AnsibleActionFail as err:
            if secrets:
                raise AnsibleActionFail(remove_values(str(err), secrets)) from err
            raise
        except Exception as err:  # pylint: disable=broad-except
            raise AnsibleActionFail(remove_values(f"{self._task.action}: unexpected {type(err).__name__}: {err}",
                                                  secrets)) from err
        return remove_values(result, secrets) if secrets else result

    def execute(self, args: dict[str, Any], task_vars: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError
