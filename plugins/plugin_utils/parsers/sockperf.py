# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Parse ``sockperf ping-pong`` (and under-load) client output, or its ``--full-log`` CSV.

The summary gives percentiles in microseconds. Without ``--full-rtt`` sockperf reports
one-way latency (round trip / 2); with it, the round trip. ``round_trip`` in the result says
which. A ``--full-log`` CSV holds one row per observation (``rtt(usec)`` = rxTime - txTime,
a round trip); percentiles are then computed with the collection's percentile definition.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.parsers._common import as_text, strip_ansi, to_float
from ansible_collections.volt.netbench.plugins.plugin_utils.core.errors import ParseError
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import pct_key, summarize

PARSER = "parse_sockperf"

# 3.5: "avg-lat=  5.123 (std-dev=1.234)" (one way, %7.3lf); 3.7: "avg-rtt=11.198 (std-dev=0.540)"; 3.8 and later:
# "avg-latency=56.765 (std-dev=46.806, mean-ad=31.750, median-ad=6.224, siqr=19.027, cv=0.825, std-error=0.162,
# 99.0% ci=[56.349, 57.181])" (src/client.cpp's format strings of each release)
AVG_RE = re.compile(r"====> avg-(?P<kind>rtt|latency|lat)= *(?P<avg>[0-9.]+) \(std-dev=(?P<std>[0-9.]+)[,)]")
TOTAL_RE = re.compile(r"Total (?P<n>\d+) observations")
PCT_RE = re.compile(r"---> percentile (?P<pct>[0-9.]+) = +(?P<val>[0-9.]+)")
EXTREME_RE = re.compile(r"---> <(?P<which>MAX|MIN)> observation = +(?P<val>[0-9.]+)")
DROPS_RE = re.compile(
    r"# dropped messages = (?P<dropped>\d+); # duplicated messages = (?P<dup>\d+); # out-of-order messages = (?P<ooo>\d+)"
)
VALID_RE = re.compile(
    r"\[Valid Duration\] RunTime=(?P<rt>[0-9.]+) sec; SentMessages=(?P<sent>\d+); ReceivedMessages=(?P<recv>\d+)"
)
ERROR_RE = re.compile(r"sockperf: ERROR: (?P<msg>.*)")
CSV_HEADER = "packet, txTime(sec), rxTime(sec), rtt(usec)"


def parse_sockperf(
    data: str | bytes, source: str | None = None, percentiles: Sequence[float] = (50, 90, 99, 99.9)
) -> dict[str, Any]:
    """Latency percentiles (µs) from sockperf's summary or from a ``--full-log`` CSV."""
    text = strip_ansi(as_text(PARSER, source, data))
    if CSV_HEADER in text:
        return _parse_full_log(text, source, percentiles)
    return _parse_summary(text, source)


def full_log_rtts_us(data: str | bytes, source: str | None = None) -> list[float] | None:
    """Every observation's latency (µs) from a ``--full-log`` CSV in the output, or None when it has none."""
    text = strip_ansi(as_text(PARSER, source, data))
    if CSV_HEADER not in text:
        return None
    return _full_log_rows(text, source)[:, 2].tolist()


def _parse_summary(text: str, source: str | None) -> dict[str, Any]:
    avg = AVG_RE.search(text)
    if avg is None:
        error = ERROR_RE.search(text)
        if error:
            raise ParseError(PARSER, source, f"sockperf reported an error: {error.group('msg').strip()}")
        raise ParseError(PARSER, source, "missing the '====> avg-rtt|avg-latency|avg-lat' line (truncated or not sockperf output?)")
    total = TOTAL_RE.search(text)
    if total is None:
        raise ParseError(PARSER, source, "missing the 'Total N observations' line")
    pcts: dict[str, float] = {}
    for match in PCT_RE.finditer(text):
        pcts[pct_key(float(match.group("pct")))] = to_float(PARSER, source, match.group("val"), "percentile value")
    extremes = {
        m.group("which").lower(): to_float(PARSER, source, m.group("val"), "observation")
        for m in EXTREME_RE.finditer(text)
    }
    for key in ("p50", "p90", "p99", "p99_9"):
        if key not in pcts:
            raise ParseError(PARSER, source, f"missing the '---> percentile {key[1:].replace('_', '.')}' line")
    for key in ("min", "max"):
        if key not in extremes:
            raise ParseError(PARSER, source, f"missing the '---> <{key.upper()}> observation' line")
    observations = int(total.group("n"))
    if observations == 0:
        raise ParseError(PARSER, source, "0 observations")
    result: dict[str, Any] = {
        "source_format": "summary",
        "round_trip": avg.group("kind") == "rtt",
        "observations": observations,
        "latency_avg_us": to_float(PARSER, source, avg.group("avg"), "avg"),
        "latency_stddev_us": to_float(PARSER, source, avg.group("std"), "std-dev"),
        "latency_min_us": extremes["min"],
        "latency_max_us": extremes["max"],
        "percentiles_us": pcts,
    }
    for key in ("p50", "p90", "p99", "p99_9"):
        result[f"latency_{key}_us"] = pcts[key]
    drops = DROPS_RE.search(text)
    if drops:
        result.update(
            dropped=int(drops.group("dropped")), duplicated=int(drops.group("dup")), out_of_order=int(drops.group("ooo"))
        )
    valid = VALID_RE.search(text)
    if valid:
        result.update(
            duration_s=float(valid.group("rt")),
            sent_messages=int(valid.group("sent")),
            received_messages=int(valid.group("recv")),
        )
    return result


def _full_log_rows(text: str, source: str | None) -> Any:
    """The full log's observations as an (n, 3) array: txTime, rxTime (s) and rtt (µs). A table numpy reads whole
    and finite is taken as it is (a 100,000-observation log in a tenth of the time); anything else is read line by
    line, which names the first line it refuses."""
    import numpy as np  # pylint: disable=import-outside-toplevel

    lines = text.splitlines()
    start = next((i + 1 for i, line in enumerate(lines) if line.strip() == CSV_HEADER), len(lines))
    end = start
    while end < len(lines) and lines[end].strip() and not lines[end].startswith("---"):
        end += 1
    block = lines[start:end]
    if block:
        try:
            table = np.loadtxt(block, delimiter=",", comments=None, dtype=float, ndmin=2)
        except ValueError:
            table = None
        if table is not None and table.shape[1] == 4 and np.isfinite(table[:, 1:]).all():
            return table[:, 1:]
    rows: list[tuple[float, float, float]] = []
    for line in block:
        parts = [p.strip() for p in line.split(",")]
        if len(parts) != 4:
            raise ParseError(PARSER, source, f"full-log row has {len(parts)} fields, 4 expected: {line!r}")
        tx, rx, rtt = (to_float(PARSER, source, p, "full-log field") for p in parts[1:])
        rows.append((tx, rx, rtt))
    if not rows:
        raise ParseError(PARSER, source, "full-log CSV has a header but no observations")
    return np.asarray(rows, dtype=float)


def _parse_full_log(text: str, source: str | None, percentiles: Sequence[float]) -> dict[str, Any]:
    rows = _full_log_rows(text, source)
    try:
        wanted = [float(p) for p in percentiles]
    except (TypeError, ValueError) as err:
        raise ParseError(PARSER, source, f"percentiles must be numbers, got {percentiles!r}") from err
    for pct in wanted:
        if not 0 < pct < 100:
            raise ParseError(PARSER, source, f"percentile {pct:g} is outside 0..100")
    values = rows[:, 2].tolist()
    stats = summarize(values, wanted)
    pcts = {pct_key(p): stats[pct_key(p)] for p in wanted}
    # the rtt column is rxTime - txTime of the same message: a full round trip
    tx, rx, rtt = (float(v) for v in rows[0])
    round_trip = abs((rx - tx) * 1e6 - rtt) <= max(1.0, 0.1 * rtt)
    result: dict[str, Any] = {
        "source_format": "full-log",
        "round_trip": round_trip,
        "observations": len(values),
        "latency_avg_us": stats["mean"],
        "latency_stddev_us": stats["stddev"],
        "latency_min_us": stats["min"],
        "latency_max_us": stats["max"],
        "percentiles_us": pcts,
        "duration_s": float(rows[-1][0] - rows[0][0]),
    }
    for key, value in pcts.items():
        result[f"latency_{key}_us"] = value
    return result
