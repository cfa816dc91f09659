"""The fleet report: every host's cells side by side, backends compared with hosts as blocks (one Holm family),
outlier hosts by median/MAD, environment differences, hosts without a report."""

from __future__ import annotations

import csv
import gc
import io
import math

import numpy as np
import pytest

from ansible_collections.volt.netbench.plugins.plugin_utils.report import fleet
from ansible_collections.volt.netbench.plugins.plugin_utils import report
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import Family, blocked_compare, blocked_ratio

from test_report_statistics import record, values_of  # pylint: disable=import-error

RUN = "20261203T100000Z"


def scaled(factor: float, faster: float = 1.0) -> dict:
    """A host's figures: its own speed (FACTOR: CPUs, NICs differ between hosts), a backend FASTER on it."""
    base = values_of([1.00, 1.10, 0.95], [0.50, 0.55, 0.52], [0.40, 0.42, 0.41], [9000, 9500, 9200],
                     [5000, 5100, 4950])
    out = {}
    for name, reps in base.items():
        better = faster if name != "ping" else 1 / faster  # a faster backend has a lower round trip
        out[name] = [v * factor * better for v in reps]
    return out


# how much each host's second backend differs from the stated factor (no two hosts measure alike)
HOST_NOISE = (1.01, 0.98, 1.02, 0.99, 1.0, 1.015)


def fleet_tree(root, factors: dict[str, float], macvtap_faster: float) -> None:
    for (host, factor), noise in zip(factors.items(), HOST_NOISE):
        record(root / host, "virtio", RUN, scaled(factor))
        record(root / host, "macvtap", RUN, scaled(factor, macvtap_faster * noise))


def test_a_backend_faster_on_every_host_is_claimed_across_the_fleet(tmp_path):
    # the hosts differ by up to 3x among themselves: pooled, that would drown a 30 % difference; blocked, it does not
    fleet_tree(tmp_path, {"hv-a": 1.0, "hv-b": 2.0, "hv-c": 3.0, "hv-d": 1.5}, macvtap_faster=1.3)
    model = fleet.build_fleet(tmp_path, ["hv-a", "hv-b", "hv-c", "hv-d"], display_dir="results")
    single = next(c for c in model["comparisons"] if c["label"] == "TCP Single Stream")
    assert (single["a"], single["b"], single["hosts"]) == ("virtio", "macvtap", 4)
    assert single["cmp"]["ratio"] == pytest.approx(1 / 1.3, rel=0.02) and single["significant"]
    assert single["verdict"].startswith("macvtap better on the same host (adjusted p")
    # each host's cells are exactly its own report's
    own = report.build_report(tmp_path / "hv-b", display_dir="results/hv-b")
    own_row = next(r for t in own["tables"] for r in t["rows"] if r["label"] == "TCP Single Stream")
    table = next(t for t in model["tables"] if t["label"] == "TCP Single Stream")
    row_b = next(r for r in table["rows"] if r["host"] == "hv-b")
    assert row_b["cells"] == [own_row["cells"][c] for c in model["columns"]] and model["columns"] == ["virtio", "macvtap"]
    text = fleet.render_fleet(model)
    assert "| TCP Single Stream | virtio vs macvtap | 0.769x [" in text and "| 4 | macvtap better on the same host" in text
    assert "[hv-a](results/hv-a/REPORT.md)" in text
    # the environment: a column per host (the hosts were once joined into one cell with escaped pipes)
    env = text.split("## Environment per Host")[1].split("\n\n")[1].splitlines()
    assert env[0] == "| | hv-a | hv-b | hv-c | hv-d |" and env[1] == "|---|---|---|---|---|"
    assert all(line.count(" | ") == 4 and "\\|" not in line for line in env[2:]), env
    rows = list(csv.DictReader(io.StringIO(fleet.fleet_csv(model))))
    b_single = next(r for r in rows if r["host"] == "hv-b" and r["backend"] == "virtio" and r["metric"] == "TCP Single Stream")
    assert float(b_single["mean"]) == pytest.approx(own_row["values"]["virtio"]) and b_single["n"] == "3"


def test_the_fleet_writes_its_markdown_html_csv_and_forest_plot(tmp_path):
    """The fleet's files come from one model: the HTML is well-formed, self-contained and holds the same verdicts as
    the Markdown; the forest plot has one line per tested comparison, filled where the fleet supports a difference,
    and the same model draws byte-identical files."""
    from html.parser import HTMLParser  # pylint: disable=import-outside-toplevel

    fleet_tree(tmp_path, {"hv-a": 1.0, "hv-b": 2.0, "hv-c": 3.0}, macvtap_faster=1.3)
    model = fleet.build_fleet(tmp_path, ["hv-a", "hv-b", "hv-c"], display_dir="results")
    paths = fleet.write_fleet(model, tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in paths] == [
        "REPORT.md", "REPORT.html", "fleet.csv", "charts/fleet_ratios.svg", "charts/fleet_ratios.png"]
    assert all(p.stat().st_size > 0 for p in paths)
    markdown, html = (tmp_path / "REPORT.md").read_text(), (tmp_path / "REPORT.html").read_text()
    assert "![Backends across the fleet: ratio A/B" in markdown and "(charts/fleet_ratios.svg)" in markdown
    assert "http" not in html.replace("http://www.w3.org", "")  # no external request (SVG's own namespaces aside)
    cells = []

    class Cells(HTMLParser):
        """Every table row's cells, as text."""

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                cells.append([])
            elif tag == "td":
                cells[-1].append("")

        def handle_data(self, data):
            if cells and cells[-1] and self.get_starttag_text() and self.get_starttag_text().startswith("<td"):
                cells[-1][-1] += data

    Cells().feed(html)
    cells = [[" ".join(x.split()) for x in row] for row in cells]
    for c in model["comparisons"]:
        assert [c["label"], f"{c['a']} vs {c['b']}", c["ratio"], str(c["hosts"]), c["verdict"]] in cells, c["label"]
    claims = [c for c in model["comparisons"] if c["significant"]]
    assert claims and html.count('<tr class="claim">') == len(claims)
    svg = (tmp_path / "charts" / "fleet_ratios.svg").read_text()
    tested = [c for c in model["comparisons"] if c["cmp"]["tested"]]
    for c in tested:
        assert f"{c['label']}: {c['a']} / {c['b']} (3 hosts)" in svg
    assert '<a href="hv-a/REPORT.html">hv-a</a>' in html
    first = {p.name: p.read_bytes() for p in paths}
    fleet.write_fleet(model, tmp_path)
    assert {p.name: p.read_bytes() for p in paths} == first


def test_identical_backends_are_not_separated_and_an_outlier_host_is_named(tmp_path):
    fleet_tree(tmp_path, {"hv-a": 1.0, "hv-b": 1.05, "hv-c": 0.97, "hv-d": 1.02, "hv-e": 0.2}, macvtap_faster=1.0)
    model = fleet.build_fleet(tmp_path, ["hv-a", "hv-b", "hv-c", "hv-d", "hv-e", "hv-f"],
                              failures={"hv-f": "preflight: /dev/kvm is missing"})
    assert model["claims"] == [] and model["family_size"] > 0
    assert "No difference between backends is supported across the fleet." in fleet.render_fleet(model)
    assert any(o.startswith("hv-e: virtio TCP Single Stream 0.20 Gbps against the fleet's median 1.02") for o in
               model["outliers"]), model["outliers"]
    assert not any(o.startswith(("hv-a", "hv-b", "hv-c", "hv-d")) for o in model["outliers"])
    assert model["missing"] == {"hv-f": "preflight: /dev/kvm is missing"} and model["reported"][-1] == "hv-e"


def test_the_blocked_ratio_is_the_one_sample_t_test_of_the_log_ratios():
    from scipy import stats  # pylint: disable=import-outside-toplevel

    pairs = [(10, 8), (12, 9.5), (9, 7.7), (11, 9)]
    logs = [math.log(a / b) for a, b in pairs]
    rat = blocked_ratio(pairs)
    assert rat["p"] == pytest.approx(stats.ttest_1samp(logs, 0).pvalue)
    half = stats.t.ppf(0.975, 3) * np.std(logs, ddof=1) / 2
    assert (rat["low"], rat["high"]) == pytest.approx((math.exp(np.mean(logs) - half), math.exp(np.mean(logs) + half)))
    assert blocked_ratio([(1, 2)])["why"] == "one host" and blocked_ratio([(2, 1), (4, 2)])["degenerate"]


def test_blocked_comparisons_claim_nothing_for_identical_backends_and_cover_the_true_ratio(monkeypatch):
    """Simulated fleets (fixed seed): host effects multiplicative and large (CV 50 %), measurement noise 5 %.
    Identical backends: at most 5 % of fleets carry any claim over 10 rows; a true ratio of 1.1 is covered by
    about 95 % of the intervals."""
    # statsmodels' Holm branch runs gc.collect() on every call: harmless once per report, slow 1000 times
    monkeypatch.setattr(gc, "collect", lambda *_args: 0)
    rng = np.random.default_rng(20261203)
    fleets, hosts, rows = 1000, 5, 10
    with_claim = covered = 0
    for _fleet in range(fleets):
        family = Family()
        for row in range(rows):
            host = rng.lognormal(0, 0.5, hosts) * (row + 1)
            pairs = list(zip(host * rng.lognormal(0, 0.05, hosts), host * rng.lognormal(0, 0.05, hosts)))
            family.add(row, blocked_compare(pairs))
        family.correct()
        with_claim += any(c["significant"] for c in family.members.values())
        host = rng.lognormal(0, 0.5, hosts)
        rat = blocked_ratio(list(zip(1.1 * host * rng.lognormal(0, 0.05, hosts), host * rng.lognormal(0, 0.05, hosts))))
        covered += rat["low"] <= 1.1 <= rat["high"]
    print(f"\nfleets of {hosts} hosts, {rows} rows: {with_claim / fleets:.1%} of identical-backend fleets carry a claim; "
          f"intervals cover a true ratio of 1.1 in {covered / fleets:.1%}")
    assert with_claim / fleets <= 0.05
    assert 0.93 <= covered / fleets <= 0.97
