"""REPORT.html in headless Chromium (Debian's chromium): every section and chart renders, at desktop and
phone width; the screenshot check fails on a blank or broken page (checked against both)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from helpers import ROOT, chrome

# the checkout as ansible_collections.volt.netbench, and the synthetic results tree of the report's unit tests
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.volt.netbench.plugins.plugin_utils.report import charts
from ansible_collections.volt.netbench.plugins.plugin_utils import report  # noqa: E402
from test_report_statistics import FAST, NATIVE, SAME, record  # noqa: E402  pylint: disable=import-error

pytestmark = pytest.mark.skipif(os.geteuid() != 0 and not shutil.which("chromium"),
                                reason="needs Debian's chromium, or root to install it")  # the fixture: conftest.py
SECTIONS = ("environment", "configuration", "results", "table-throughput", "table-latency", "table-pps",
            "table-transactions", "analysis", "conclusions", "raw-data", "reproducibility")


def screenshot(binary: str, page: Path, out: Path, width: int, height: int) -> np.ndarray:
    chrome(binary, f"--screenshot={out}", f"--window-size={width},{height}", page.as_uri())
    with Image.open(out) as image:
        assert image.size == (width, height)
        return np.asarray(image.convert("RGB"))


def rendered(pixels: np.ndarray) -> list[str]:
    """What a rendered report shows: enough ink (text, tables), and each path's chart colour. The
    problems found ([] when none)."""
    problems = []
    ink = (pixels.sum(axis=2) < 600).mean()
    if ink < 0.02:
        problems.append(f"blank: {ink:.1%} of the pixels are not white")
    for name in ("virtio", "macvtap", "native"):
        rgb = np.array([int(charts.COLOURS[name][i:i + 2], 16) for i in (1, 3, 5)])
        if (np.abs(pixels.astype(int) - rgb).sum(axis=2) < 12).sum() < 500:
            problems.append(f"no {name} chart colour")
    return problems


def test_report_html_renders_every_section_and_chart(chromium, tmp_path):
    tree = tmp_path / "results"
    for backend, values in (("virtio", SAME), ("macvtap", FAST), ("native", NATIVE)):
        record(tree, backend, "20261127T100000Z", values)
    model = report.build_report(tree, display_dir="results")
    report.write_report(model, tree)
    page = tree / "REPORT.html"
    dom = chrome(chromium, "--dump-dom", page.as_uri()).stdout
    for section in SECTIONS:
        assert f'id="{section}"' in dom, section
    assert dom.count("<svg") == len(model["charts"]) >= 4
    # desktop: the top of the results with the first chart; phone width: the page reflows, nothing is lost
    desktop = screenshot(chromium, page, tmp_path / "desktop.png", 1280, 3000)
    assert rendered(desktop) == []
    phone = screenshot(chromium, page, tmp_path / "phone.png", 390, 8000)
    assert rendered(phone) == []
    # at phone width the charts shrink to the screen: the page is much taller than it is wide
    ink_rows = np.nonzero((phone.sum(axis=2) < 600).any(axis=1))[0]
    assert ink_rows.max() > 4000
    # the check itself fails on a blank page and on a page whose charts are broken
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    assert rendered(screenshot(chromium, blank, tmp_path / "blank.png", 1280, 3000))
    broken = tmp_path / "broken.html"
    broken.write_text(page.read_text().replace("<svg", "<svg-broken"))
    assert any("chart colour" in p for p in rendered(screenshot(chromium, broken, tmp_path / "broken.png", 1280, 3000)))
