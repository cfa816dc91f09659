"""Property tests: truncated or mutated real outputs never escape as anything but AnsibleFilterError.

A parser either returns a result whose numbers are finite and sane, or raises
AnsibleFilterError naming itself. Any other exception (KeyError, TypeError, IndexError,
ZeroDivisionError ...) fails these tests.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.volt.netbench.plugins.filter.parse_iperf3 import parse_iperf3
from ansible_collections.volt.netbench.plugins.filter.parse_netperf import parse_netperf
from ansible_collections.volt.netbench.plugins.filter.parse_ping import parse_ping
from ansible_collections.volt.netbench.plugins.filter.parse_sockperf import parse_sockperf

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures"
PARSERS = {
    "iperf3": (parse_iperf3, "parse_iperf3"),
    "ping": (parse_ping, "parse_ping"),
    "sockperf": (parse_sockperf, "parse_sockperf"),
    "netperf": (parse_netperf, "parse_netperf"),
}
CASES = [
    (tool, path.read_text(encoding="utf-8"))
    for tool in PARSERS
    for path in sorted((FIXTURES / tool).glob("*"))
    if path.suffix in {".json", ".txt", ".csv"} and path.stat().st_size < 200_000 and path.stem != "version"
]
IDS = [f"{case[0]}-{i}" for i, case in enumerate(CASES)]
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(tool: str, data) -> None:
    func, name = PARSERS[tool]
    try:
        result = func(data)
    except AnsibleFilterError as err:
        assert str(err).startswith(f"{name}: "), str(err)
        return
    assert isinstance(result, dict)
    for key, value in result.items():
        if isinstance(value, float):
            assert math.isfinite(value), key


@pytest.mark.parametrize("tool, text", CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_truncated(tool, text, data):
    cut = data.draw(st.integers(min_value=0, max_value=len(text)))
    check(tool, text[:cut])


@pytest.mark.parametrize("tool, text", CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_mutated(tool, text, data):
    start = data.draw(st.integers(min_value=0, max_value=len(text)))
    end = data.draw(st.integers(min_value=start, max_value=min(len(text), start + 40)))
    junk = data.draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20)
                     | st.sampled_from(["-1", "nan", "inf", "0", "1e309", ",", "\n", "=", " ms", "%", "(DUP!)"]))
    check(tool, text[:start] + junk + text[end:])


@pytest.mark.parametrize("tool, text", CASES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_lines_dropped_or_repeated(tool, text, data):
    lines = text.splitlines()
    if not lines:
        return
    i = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
    if data.draw(st.booleans()):
        lines = lines[:i] + lines[i + 1:]
    else:
        lines = lines[:i] + [lines[i]] * 3 + lines[i + 1:]
    check(tool, "\n".join(lines))


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=5)
IPERF3_DOCS = [json.loads(t) for tool, t in CASES if tool == "iperf3"]


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))


@pytest.mark.parametrize("doc", IPERF3_DOCS, ids=range(len(IPERF3_DOCS)))
@SETTINGS
@given(data=st.data())
def test_iperf3_json_values_replaced(doc, data):
    doc = json.loads(json.dumps(doc))
    paths = [p for p in _paths(doc) if p]
    path = data.draw(st.sampled_from(paths))
    parent = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = data.draw(JSON_LEAF | st.lists(JSON_LEAF, max_size=2) | st.dictionaries(st.text(max_size=3), JSON_LEAF, max_size=2))
    check("iperf3", doc)
    check("iperf3", json.dumps(doc))


@pytest.mark.parametrize("tool", sorted(PARSERS))
@SETTINGS
@given(data=st.one_of(st.text(max_size=300), st.binary(max_size=100), st.integers(), st.none(), st.lists(st.integers())))
def test_arbitrary_input(tool, data):
    check(tool, data)
