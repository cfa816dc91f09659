# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse netperf 2.7 omni output produced with ``-- -o SELECTOR,...`` (CSV).

The output is an optional banner (``MIGRATED TCP REQUEST/RESPONSE TEST from ...``), a CSV
header row naming the selectors and one CSV value row. Request/response latencies are full
round trips in microseconds; percentiles need ``-j`` on the netperf command line.
"""

from __future__ import annotations

import csv
import re
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.parsers._common import as_text, to_float
from ansible_collections.volt.netbench.plugins.plugin_utils.core.errors import ParseError

PARSER = "parse_netperf"

BANNER_TESTS = (
    ("TCP Connect/Request/Response", "TCP_CRR"),
    ("TCP REQUEST/RESPONSE", "TCP_RR"),
    ("UDP REQUEST/RESPONSE", "UDP_RR"),
    ("TCP STREAM", "TCP_STREAM"),
    ("TCP MAERTS", "TCP_MAERTS"),
    ("UDP STREAM", "UDP_STREAM"),
)
COLUMNS = {
    "Throughput": "throughput",
    "Throughput Units": "throughput_units",
    "Mean Latency Microseconds": "latency_mean_us",
    "50th Percentile Latency Microseconds": "latency_p50_us",
    "90th Percentile Latency Microseconds": "latency_p90_us",
    "99th Percentile Latency Microseconds": "latency_p99_us",
    "Minimum Latency Microseconds": "latency_min_us",
    "Maximum Latency Microseconds": "latency_max_us",
    "Stddev Latency Microseconds": "latency_stddev_us",
    "Transaction Rate Tran/s": "transaction_rate",
}
UNITS_RE = re.compile(r"^10\^(?P<exp>\d+)bits/s$")
ERROR_HINTS = ("establish control", "establish_control", "netperf: ", "recv_response", "send_omni")


def parse_netperf(data: str | bytes, source: str | None = None) -> dict[str, Any]:
    """Transaction rate, throughput (+ units) and latency statistics from one netperf run."""
    text = as_text(PARSER, source, data)
    lines = [line for line in text.splitlines() if line.strip()]
    test = None
    body: list[str] = []
    for line in lines:
        if line.startswith("MIGRATED ") or " TEST from " in line:
            test = next((name for marker, name in BANNER_TESTS if marker in line), "unknown")
            continue
        body.append(line)
    errors = [line for line in body if any(line.startswith(h) for h in ERROR_HINTS)]
    if errors:
        raise ParseError(PARSER, source, f"netperf reported an error: {errors[0].strip()}")
    if len(body) < 2:
        raise ParseError(PARSER, source, "missing the CSV header and value rows (run netperf with -- -o SELECTORS)")
    header, values = next(csv.reader([body[0]])), next(csv.reader([body[1]]))
    if "Throughput" not in header and "Transaction Rate Tran/s" not in header:
        raise ParseError(PARSER, source, f"CSV header has neither Throughput nor Transaction Rate: {body[0]!r}")
    if len(values) != len(header):
        raise ParseError(
            PARSER, source, f"value row has {len(values)} fields but the header has {len(header)} (truncated output?)"
        )
    fields = dict(zip(header, values))
    result: dict[str, Any] = {"test": test, "fields": fields}
    for column, key in COLUMNS.items():
        if column not in fields:
            continue
        if key == "throughput_units":
            result[key] = fields[column].strip()
            continue
        value = to_float(PARSER, source, fields[column].strip(), column)
        if value < 0:
            raise ParseError(
                PARSER, source, f"{column} is {value:g}: not collected (latency percentiles need netperf -j)"
            )
        result[key] = value
    units = result.get("throughput_units", "")
    if "transaction_rate" not in result and units == "Trans/s" and "throughput" in result:
        result["transaction_rate"] = result["throughput"]
    match = UNITS_RE.match(units)
    if match and "throughput" in result:
        result["throughput_bps"] = result["throughput"] * 10 ** int(match.group("exp"))
    if test and test.endswith("_RR") and "transaction_rate" not in result:
        raise ParseError(PARSER, source, f"{test} output has no transaction rate (select TRANSACTION_RATE or THROUGHPUT)")
    return result
