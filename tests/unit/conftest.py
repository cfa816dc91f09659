"""Make the checkout importable as ansible_collections.volt.netbench for plain pytest."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# .collections/ansible_collections/volt/netbench -> the checkout
sys.path.insert(0, str(ROOT / ".collections"))
FIXTURES = ROOT / "tests" / "fixtures"


@pytest.fixture
def fixture_text():
    def read(rel: str) -> str:
        return (FIXTURES / rel).read_text(encoding="utf-8")

    return read
