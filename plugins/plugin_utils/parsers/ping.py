# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse iputils and busybox ``ping`` text output.

RTT statistics come from the per-reply ``time=`` values (with or without ``-D``'s time stamp before them), never
from the summary line, so ``ping -q`` output is refused. Duplicate replies are counted but not used for RTTs; ``-O``'s
"no answer yet" lines are not replies. A ping that got no reply at all is a result (``loss_percent`` 100,
``no_reply``, no round trip). All times are returned in microseconds.
"""

from __future__ import annotations

import re
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.parsers._common import as_text, to_float
from ansible_collections.volt.netbench.plugins.plugin_utils.core.errors import ParseError
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import summarize

PARSER = "parse_ping"

# ping -D puts the reply's time stamp before it: "[1796470535.935026] 64 bytes from ..."
REPLY_RE = re.compile(
    r"^(?:\[[0-9.]+\] )?\d+ bytes from .*?:? (?:icmp_seq|seq)=(?P<seq>\d+)\b.*?time[=<](?P<time>[0-9.]+) ?"
    r"(?P<unit>ms|us|µs|s)\b(?P<rest>.*)$"
)
# iputils: "20 packets transmitted, 20 received, +1 duplicates, 0% packet loss, time 304ms"
# busybox: "10 packets transmitted, 10 packets received, 1 duplicates, 0% packet loss"
SUMMARY_RE = re.compile(
    r"^(?P<tx>\d+) packets transmitted, (?P<rx>\d+) (?:packets )?received"
    r"(?:, \+?(?P<dup>\d+) duplicates)?(?:, \+?(?P<err>\d+) errors)?, (?P<loss>[0-9.]+)% packet loss"
)
UNIT_US = {"s": 1_000_000.0, "ms": 1000.0, "us": 1.0, "µs": 1.0}


def reply_rtts_us(data: str | bytes, source: str | None = None) -> list[float]:
    """Every reply's round-trip time (µs), duplicates left out: the observations a report pools."""
    return _scan(as_text(PARSER, source, data), source)[0]


def _scan(text: str, source: str | None) -> tuple[list[float], int, Any, str]:
    rtts: list[float] = []
    dup_lines = 0
    summary = None
    flavour = "iputils"
    for line in text.splitlines():
        line = line.strip()
        match = REPLY_RE.match(line)
        if match:
            if " seq=" in line and "icmp_seq=" not in line:
                flavour = "busybox"
            if "(DUP!)" in match.group("rest"):
                dup_lines += 1
                continue
            value = to_float(PARSER, source, match.group("time"), f"reply time in {line!r}")
            rtts.append(value * UNIT_US[match.group("unit")])
            continue
        match = SUMMARY_RE.match(line)
        if match:
            summary = match
    return rtts, dup_lines, summary, flavour


def parse_ping(data: str | bytes, source: str | None = None) -> dict[str, Any]:
    """Counts, loss and RTT min/mean/p50/p95/p99/max (µs) from per-reply lines."""
    text = as_text(PARSER, source, data)
    rtts, dup_lines, summary, flavour = _scan(text, source)
    if summary is None:
        raise ParseError(
            PARSER, source, "missing the 'N packets transmitted, M received' summary line (truncated or not ping output?)"
        )
    transmitted = int(summary.group("tx"))
    received = int(summary.group("rx"))
    duplicates = int(summary.group("dup") or 0)
    if transmitted == 0:
        raise ParseError(PARSER, source, "0 packets transmitted")
    if received == 0:
        # a path that dropped everything is a result: 100 % loss, no round trip to report
        flavour = "busybox" if "packets received" in summary.group(0) else flavour
        return {"flavour": flavour, "transmitted": transmitted, "received": 0, "duplicates": 0,
                "loss_percent": 100.0, "rtt_count": 0, "no_reply": True}
    if not rtts:
        raise ParseError(PARSER, source, "no per-reply 'time=' lines (ping -q output has none; run ping without -q)")
    if len(rtts) != received:
        # both iputils and busybox count duplicates apart from 'received'
        raise ParseError(
            PARSER, source, f"summary says {received} received but {len(rtts)} reply lines were found (truncated output?)"
        )
    duplicates = max(duplicates, dup_lines)

    stats = summarize(rtts, (50, 90, 95, 99))
    return {
        "flavour": flavour,
        "transmitted": transmitted,
        "received": received,
        "duplicates": duplicates,
        "loss_percent": 100.0 * (transmitted - received) / transmitted,
        "rtt_count": len(rtts),
        "rtt_min_us": stats["min"],
        "rtt_mean_us": stats["mean"],
        "rtt_p50_us": stats["p50"],
        "rtt_p90_us": stats["p90"],
        "rtt_p95_us": stats["p95"],
        "rtt_p99_us": stats["p99"],
        "rtt_max_us": stats["max"],
        "rtt_stddev_us": stats["stddev"],
    }
