"""The report's other forms: charts (SVG and PNG), REPORT.html and summary.csv, from a synthetic
results tree of the tools' real output (see test_report_statistics)."""

from __future__ import annotations

import csv
import datetime as dt
import errno
import io
import json
import os
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ansible_collections.volt.netbench.plugins.plugin_utils.report import charts
from ansible_collections.volt.netbench.plugins.plugin_utils import report

from test_report_statistics import FAST, NATIVE, SAME, record, rtts  # pylint: disable=import-error

NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.timezone.utc)
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(name="tree")
def fixture_tree(tmp_path) -> Path:
    record(tmp_path, "virtio", "20261127T100000Z", SAME)
    record(tmp_path, "macvtap", "20261127T100000Z", FAST)
    record(tmp_path, "native", "20261127T100000Z", NATIVE)
    return tmp_path


def write(tree: Path, out: Path) -> dict:
    model = report.build_report(tree, display_dir="results", now=NOW)
    report.write_report(model, out)
    return model


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()  # valid XML, or this raises
    assert root.tag == f"{SVG}svg"
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


def test_every_chart_is_valid_svg_and_png_and_names_the_measured_backends(tree):
    model = write(tree, tree)
    keys = [c["key"] for c in model["charts"]]
    # no TCP latency (no sockperf test in this tree) and no CPU samples: no chart for them
    assert keys == ["throughput", "latency_icmp", "pps", "transactions"]
    for chart in model["charts"]:
        texts = svg_texts(tree / chart["svg"])
        for name in ("virtio", "macvtap", "native"):
            assert name in texts, (chart["key"], texts)
        assert "vhost-net" not in texts, "a backend without data is not drawn"
        with Image.open(tree / chart["png"]) as png:
            assert png.format == "PNG" and png.size == (800, 400)
            pixels = np.asarray(png.convert("RGB")).reshape(-1, 3)
        # each path's colour is drawn (bars, lines), not only the legend's swatch
        for name in ("virtio", "macvtap", "native"):
            rgb = tuple(int(charts.COLOURS[name][i:i + 2], 16) for i in (1, 3, 5))
            assert (pixels == rgb).all(axis=1).sum() > 100, (chart["key"], name)
    md = (tree / "REPORT.md").read_text()
    assert "![Throughput (Gbps), mean and 95 % interval](charts/throughput.svg)" in md
    assert "![ICMP round-trip time by percentile (every reply pooled)](charts/latency_icmp.svg)" in md


def test_the_icmp_curve_is_the_pooled_replies_percentiles(tree):
    model = write(tree, tree)
    curve = model["percentile_curves"]["icmp"]["native"]
    row = next(r for t in model["tables"] for r in t["rows"] if r["label"] == "ICMP P50")
    # the curve pools every reply of the cell's repetitions (numpy's linear percentile of the raw files' times)
    reps = row["statistics"]["native"]["repetitions"]
    assert reps == [1, 2, 3]
    pooled = [t * 1000 for k in reps for t in rtts(NATIVE["ping"][k - 1], k)]
    for pct in (50, 99):
        assert curve["us"][curve["percentiles"].index(pct)] == pytest.approx(np.percentile(pooled, pct), abs=1e-3)
    # the plotted points are the curve's values (the SVG keeps them as path vertices, not as text)
    assert set(curve) == {"percentiles", "us"} and curve["us"] == sorted(curve["us"])


def test_two_renders_are_byte_identical(tree, tmp_path_factory):
    first, second = tmp_path_factory.mktemp("one"), tmp_path_factory.mktemp("two")
    model = write(tree, first)
    write(tree, second)
    for name in report.report_files(model):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    svg = (first / "charts" / "throughput.svg").read_text()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    assert b"Software" not in (first / "charts" / "throughput.png").read_bytes()


def test_report_html_is_one_self_contained_file_with_every_section_and_chart(tree):
    model = write(tree, tree)
    html = (tree / "REPORT.html").read_text()
    for title in ("Test Environment", "Test Configuration", "Results", "Throughput (Gbps)", "Latency (microseconds)",
                  "Packets Per Second", "Transaction Rates (trans/sec)", "Analysis", "Distance from Native",
                  "Conclusions", "Performance Hierarchy", "Recommendations", "Anomalies or Issues", "Raw Data",
                  "Reproducibility"):
        assert re.search(rf"<h[23][^>]*>{re.escape(title)}</h[23]>", html), title
    assert html.count("<svg") == len(model["charts"]) == 4
    assert 'name="viewport"' in html
    # no request leaves the file: no scripts, stylesheets, images or fonts from anywhere
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    assert not re.search(r"(src|href)=\"(https?:)?//", html) and "@import" not in html
    # the same numbers as REPORT.md, from the same model
    md = (tree / "REPORT.md").read_text()
    cell = next(r for t in model["tables"] for r in t["rows"] if r["label"] == "TCP Single Stream")["cells"]["macvtap"]
    assert f"| {cell} |" in md and f"<td class=\"macvtap\">{cell}</td>" in html
    for anomaly in model["anomalies"]:
        assert anomaly.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&#39;") in html


def test_summary_csv_has_one_row_per_backend_and_metric(tree):
    model = write(tree, tree)
    rows = list(csv.DictReader(io.StringIO((tree / "summary.csv").read_text())))
    table_rows = [r for t in model["tables"] for r in t["rows"]]
    assert len(rows) == 3 * len(table_rows)  # virtio, macvtap and native measured every row
    assert {r["backend"] for r in rows} == {"virtio", "macvtap", "native"}
    tcp = next(r for r in rows if r["backend"] == "macvtap" and r["metric"] == "TCP Single Stream")
    values = np.array(FAST["iperf3_tcp_single"])
    assert (tcp["unit"], int(tcp["n"]), tcp["run_id"]) == ("Gbps", 3, "20261127T100000Z")
    assert float(tcp["mean"]) == pytest.approx(values.mean())
    stats = json.loads((tree / "report.json").read_text())["tables"][0]["rows"][0]["statistics"]["macvtap"]
    assert float(tcp["interval_half_width"]) == pytest.approx(stats["half"])
    assert float(tcp["low"]) == pytest.approx(values.mean() - stats["half"])


def test_without_matplotlib_the_report_says_so_and_draws_nothing(tree, monkeypatch, tmp_path_factory):
    out = tmp_path_factory.mktemp("nomatplotlib")
    monkeypatch.setattr(charts, "unavailable", lambda: "matplotlib is not installed where the report was written")
    model = write(tree, out)
    assert model["charts"] == [] and not (out / "charts").exists()
    assert "*matplotlib is not installed where the report was written*" in (out / "REPORT.md").read_text()
    assert "<svg" not in (out / "REPORT.html").read_text()
    assert (out / "summary.csv").is_file()


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_atomic

    target = tmp_path / "REPORT.md"
    target.mkdir()  # os.replace onto a directory fails after the temporary file was written
    with pytest.raises(OSError):
        write_atomic(target, "text")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["REPORT.md"]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
def test_a_full_disk_keeps_what_was_written_and_says_how_much_is_free(tree, tmp_path):
    """The report written onto a 64 KiB tmpfs: the disk fills while the charts are written; no temporary file
    stays, and the message names the directory and its free space."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem

    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(small)], check=True)
    try:
        model = report.build_report(tree, display_dir="results", now=NOW)
        with pytest.raises(OSError) as caught:
            report.write_report(model, small)
        assert caught.value.errno == errno.ENOSPC
        leftovers = [p.name for p in small.rglob("*") if p.name.endswith(".tmp")]
        assert leftovers == []
        text = write_problem(caught.value, small)
        assert text.startswith(f"could not write in {small}: No space left on device (") and "KiB free of 64 KiB" in text
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_a_small_value_keeps_two_significant_digits_and_a_zero_stays_zero():
    from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.cells import fmt

    # a nested lab's TCG-inside-TCG throughput (Gbps, 2 digits): it moved something, the cell says how much
    assert [fmt(v, 2) for v in (0.0043, 0.012, 0.08, 0.5, 0.0, 1234.5)] == [
        "0.0043", "0.012", "0.080", "0.50", "0.00", "1,234.50"]
    assert fmt(None, 2) == "n/a" and fmt(0.4, 1) == "0.40" and fmt(7505.0, 1) == "7,505.0"
    # an interval's half-width keeps its mean's digits
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import headline, shown_digits

    assert shown_digits(2.01, 2) == 2 and shown_digits(0.0053, 2) == 4 and shown_digits(0.0, 2) == 2
    # the progress line's headline shows a value as the cell does (the nested lab's '0.00 Gbps' said nothing moved)
    assert headline("iperf3_tcp_single", {"receiver_bps": 4.3e6}) == "0.0043 Gbps"
    assert headline("iperf3_tcp_single", {"receiver_bps": 1.72e9}) == "1.72 Gbps"
