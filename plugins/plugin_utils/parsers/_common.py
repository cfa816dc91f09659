# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Small input helpers shared by the parsers; every failure is a ParseError."""

from __future__ import annotations

import math
import re
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.core.errors import ParseError

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\[[0-9;]*m")


def as_text(parser: str, source: str | None, data: Any) -> str:
    """Accept str/bytes tool output; refuse anything else or an empty document."""
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    if not isinstance(data, str):
        raise ParseError(parser, source, f"expected the tool's text output, got {type(data).__name__}")
    if not data.strip():
        raise ParseError(parser, source, "empty output")
    return data


def strip_ansi(text: str) -> str:
    """Remove ANSI colour codes (sockperf prints them even when not on a terminal)."""
    return ANSI_RE.sub("", text)


def to_float(parser: str, source: str | None, text: str, what: str) -> float:
    """Parse one number from text; NaN/inf and garbage are refused with ``what`` named."""
    try:
        value = float(text)
    except (TypeError, ValueError) as err:
        raise ParseError(parser, source, f"{what} is not a number: {text!r}") from err
    if not math.isfinite(value):
        raise ParseError(parser, source, f"{what} is not a finite number: {text!r}")
    return value


def dig(parser: str, source: str | None, doc: Any, path: str) -> Any:
    """Follow a dotted path through nested dicts, naming the first missing key."""
    node = doc
    walked = []
    for key in path.split("."):
        walked.append(key)
        if not isinstance(node, dict) or key not in node:
            raise ParseError(parser, source, f"missing {'.'.join(walked)}")
        node = node[key]
    return node


def number(parser: str, source: str | None, doc: Any, path: str, *, minimum: float = 0.0) -> float:
    """A finite number (not a bool) at ``path``, at least ``minimum``."""
    value = dig(parser, source, doc, path)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ParseError(parser, source, f"{path} is not a number: {value!r}")
    if value < minimum:
        raise ParseError(parser, source, f"{path} is below {minimum:g}: {value!r}")
    return float(value)
