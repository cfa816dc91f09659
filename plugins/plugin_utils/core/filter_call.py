# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one way the parse_* filters call their parser."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible.errors import AnsibleFilterError

from ansible_collections.volt.netbench.plugins.plugin_utils.core.errors import ParseError


def call_parser(name: str, parser: Callable[..., dict[str, Any]], data: Any, source: Any, **kwargs: Any) -> dict:
    """Check the filter's arguments, run the parser, turn a ParseError into AnsibleFilterError."""
    if source is not None and not isinstance(source, str):
        raise AnsibleFilterError(f"{name}: source must be a string, got {type(source).__name__}")
    try:
        return parser(data, source, **kwargs)
    except ParseError as err:
        raise AnsibleFilterError(str(err)) from err
