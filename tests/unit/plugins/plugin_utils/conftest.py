"""The unit tests of plugin_utils mirror its groups (core, statistics, measure, analysis, history, report, run). Some
reuse another group's builders - test_report_statistics.record (a recorded run from chosen values), test_regression's
trees, test_history's nights - so every group's directory is importable by module name."""

from __future__ import annotations

import sys
from pathlib import Path

GROUP_DIRS = sorted(str(d) for d in Path(__file__).resolve().parent.iterdir() if d.is_dir() and d.name[0] != "_")
sys.path[:0] = [d for d in GROUP_DIRS if d not in sys.path]
