# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one exception every volt.netbench parser raises for bad input."""

from __future__ import annotations


class ParseError(ValueError):
    """Tool output could not be parsed.

    The message always names the parser, the source (file name or ``<text>``) and what was
    missing or wrong, e.g. ``parse_iperf3: tcp_single.json: missing end.sum_received``.
    """

    def __init__(self, parser: str, source: str | None, problem: str) -> None:
        self.parser = parser
        self.source = source or "<text>"
        self.problem = problem
        super().__init__(f"{parser}: {self.source}: {problem}")
