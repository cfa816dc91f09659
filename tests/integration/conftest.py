"""Fixtures of the integration tests."""

from __future__ import annotations

import pytest

from helpers import BIN


@pytest.fixture
def ansible_bin():
    return BIN
