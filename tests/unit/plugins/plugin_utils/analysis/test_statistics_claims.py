"""Issue 19's cases, each with the inputs as the issue wrote them, through the report code on synthetic results
trees in the project's own format (raw files in the tools' real formats, see test_report_statistics) or through
the statistics functions directly; expectations recomputed with numpy/scipy (test_report_statistics.fieller)."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
from scipy import stats as scipy_stats

from ansible_collections.volt.netbench.plugins.plugin_utils.analysis import claims
from ansible_collections.volt.netbench.plugins.plugin_utils import report
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import report_rows
from ansible_collections.volt.netbench.plugins.plugin_utils.statistics.stats import compare, p_text, ratio, reverse
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.verdicts import evaluate, make_cell, per_rep_scores

from test_report_statistics import (  # pylint: disable=import-error
    SAME, build, fieller, record, row, section)

RUN = "20261127T100000Z"


def tcp_only(values: list[float]) -> dict[str, list[float]]:
    return {"iperf3_tcp_single": values}


# 1. Ratio intervals allow for the denominator's noise --------------------------------------------------------

def test_percent_of_native_is_a_fieller_interval(tmp_path):
    record(tmp_path, "virtio", RUN, tcp_only([400, 410, 405]))
    record(tmp_path, "native", RUN, tcp_only([60, 80, 100]))
    model, md = build(tmp_path)
    cell = row(model, "TCP Single Stream")["of_native"]["virtio"]
    low, high = fieller([400, 410, 405], [60, 80, 100])
    # the Fieller interval [312, 1326] (Welch's degrees of freedom along the ratio give [313, 1335]);
    # the old text was "506 % [449, 564]"
    assert cell["percent"] == pytest.approx(506.25)
    assert (cell["low"], cell["high"]) == (pytest.approx(100 * low, rel=1e-6), pytest.approx(100 * high, rel=1e-6))
    assert cell["text"] == "506 % [313, 1,335]"
    assert "| TCP Single Stream | 80.00 ± 49.68 Gbps | 506 % [313, 1,335] |" in md


def test_percent_of_native_is_never_negative_and_says_when_it_is_unbounded(tmp_path):
    record(tmp_path, "virtio", RUN, tcp_only([2.0, 2.2]))
    record(tmp_path, "native", RUN, tcp_only([4, 5]))
    model, _md = build(tmp_path)
    cell = row(model, "TCP Single Stream")["of_native"]["virtio"]
    low, high = fieller([2.0, 2.2], [4, 5])
    # native's mean is not clearly above 0 with n = 2 (t = 9 on 1 degree of freedom): no upper bound.
    # The old text was "47 % [−74, 168]"
    assert high is None and cell["high"] is None and cell["low"] == pytest.approx(100 * low, rel=1e-6)
    assert cell["low"] > 0
    assert cell["text"] == f"47 % [{100 * low:,.0f}, ∞]"


def test_ratio_matches_welch_and_flips_by_reciprocal():
    a, b = [1.0, 1.1, 0.95], [0.9, 1.2, 1.0]
    ab, ba = ratio(a, b), ratio(b, a)
    assert ab["p"] == pytest.approx(scipy_stats.ttest_ind(a, b, equal_var=False).pvalue)
    # Fieller's set is invariant under A/B -> B/A
    assert ab["low"] == pytest.approx(1 / ba["high"], rel=1e-6) and ab["high"] == pytest.approx(1 / ba["low"], rel=1e-6)


# 3. The statistic shown is the statistic tested ---------------------------------------------------------------

def test_percentile_cell_is_inside_its_interval_and_agrees_with_its_sentence(tmp_path):
    """10 repetitions × 1000 replies: macvtap's per-repetition P99 is 200 µs nine times and 50 µs once (pooled:
    50); virtio's is 150 µs throughout. The cell used to read "50.0 ± 33.9" with an interval [151.1, 218.9]."""
    macvtap = [0.200] * 9 + [0.050]
    record(tmp_path, "virtio", RUN, {"ping": [0.150] * 10}, config={"ping_count": 1000}, ping_replies=1000,
           jitter=False)
    record(tmp_path, "macvtap", RUN, {"ping": macvtap}, config={"ping_count": 1000}, ping_replies=1000, jitter=False)
    model, md = build(tmp_path)
    cell = row(model, "ICMP P99")["statistics"]["macvtap"]
    values = np.array(macvtap) * 1000
    half = scipy_stats.t.ppf(0.975, 9) * values.std(ddof=1) / np.sqrt(10)
    assert cell["value"] == pytest.approx(values.mean()) and cell["low"] <= cell["value"] <= cell["high"]
    assert row(model, "ICMP P99")["cells"]["macvtap"] == f"{values.mean():,.1f} ± {half:,.1f}"
    summary = list(csv.DictReader(io.StringIO(report.render_csv(model))))
    line = next(r for r in summary if r["backend"] == "macvtap" and r["metric"] == "ICMP P99")
    assert float(line["low"]) <= float(line["mean"]) <= float(line["high"])
    # virtio (150) is lower than macvtap (185): the sentence's percentage is the cells' own
    sentence = re.search(r"ICMP P99: (?:virtio leads with|lowest mean on virtio) \(?150\.0 ± 0\.0 µs\)?, "
                         r"(?:ahead of|not separable from) macvtap \(([+-][0-9.]+) %", md)
    assert sentence, section(md, "### Latency Analysis", "### PPS Analysis")
    assert float(sentence.group(1)) == pytest.approx((1 - 150 / 185) * 100, abs=0.05)


# 4. Ranks from the pairwise results; the recommendations read them --------------------------------------------

def test_ranks_follow_the_pairwise_results_and_recommendations_do_not_test_again(tmp_path):
    for name, values in (("macvtap", [1000, 1010, 990]), ("vhost-net", [960, 1000, 920]),
                         ("virtio", [900, 910, 890])):
        record(tmp_path, name, RUN, {"netperf_tcp_rr": values})
    model, md = build(tmp_path)
    ranks = {r["backend"]: r["rank"] for r in model["hierarchy"]}
    # macvtap beats virtio; vhost-net is separated from neither
    assert ranks == {"macvtap": 1, "vhost-net": 1, "virtio": 2}
    assert model["ranking_text"] == "macvtap = vhost-net = virtio; macvtap > virtio"
    by = {r["backend"]: r for r in model["hierarchy"]}
    assert by["virtio"]["beaten_by"] == ["macvtap"] and by["virtio"]["not_separable"] == ["vhost-net"]
    recs = section(md, "### Recommendations", "### Anomalies")
    assert "- Default: `vhost-net` or `virtio`: not separable on this data" in recs
    # the hierarchy and the recommendations quote the same adjusted p for vhost-net vs virtio
    p_adj = by["vhost-net"]["comparisons"]["virtio"]["p_adjusted"]
    assert p_text(p_adj, "adjusted p") in recs
    assert "A backend's rank is 1 + the number of backends that beat it" in md


def test_ranking_text_shows_what_the_chain_does_not():
    items = [{"backend": "a", "beats": ["c"]}, {"backend": "b", "beats": []}, {"backend": "c", "beats": []}]
    assert claims.ranking_text(items) == "a = b = c; a > c"
    items = [{"backend": "a", "beats": ["b"]}, {"backend": "b", "beats": ["c"]}, {"backend": "c", "beats": []}]
    assert claims.ranking_text(items) == "a > b > c; a = c"
    items = [{"backend": "a", "beats": ["b", "c"]}, {"backend": "b", "beats": ["c"]}, {"backend": "c", "beats": []}]
    assert claims.ranking_text(items) == "a > b > c"


# 5. A measured zero counts ------------------------------------------------------------------------------------

def test_a_zero_among_the_repetitions_is_counted(tmp_path):
    record(tmp_path, "macvtap", RUN, {"iperf3_udp_max": [0, 1.00, 1.01]})
    record(tmp_path, "virtio", RUN, {"iperf3_udp_max": [0.90, 0.92, 0.95]})
    model, md = build(tmp_path)
    cell = row(model, "UDP Maximum")["statistics"]["macvtap"]
    assert cell["n"] == 3 and cell["mean"] == pytest.approx(0.67, abs=0.001)
    assert "macvtap leads" not in md and "improvement" not in section(md, "### Throughput Analysis", "## Conclusions")
    assert "- macvtap: UDP Maximum measured 0 Gbps in repetition 1; counted in that cell" in md


# 6. No spread is no evidence ----------------------------------------------------------------------------------

def test_identical_values_are_not_tested(tmp_path):
    record(tmp_path, "virtio", RUN, tcp_only([4000, 4000]))
    record(tmp_path, "macvtap", RUN, tcp_only([5000, 5000]))
    model, md = build(tmp_path)
    cmp = row(model, "TCP Single Stream")["versus_baseline"]["macvtap"]
    assert not cmp["tested"] and cmp["degenerate"] and cmp["p"] is None and not cmp["significant"]
    analysis = section(md, "### Throughput Analysis", "## Conclusions")
    assert "p < 0.001" not in md and "leads" not in analysis
    assert ("TCP Single Stream: highest on macvtap (5,000.00 ± 0.00 Gbps) vs virtio (4,000.00 ± 0.00 Gbps), "
            "+25.0 %; identical values on each side, not tested.") in analysis
    assert "- macvtap: 5,000.00 ± 0.00 Gbps (+25.0 % vs virtio, identical values on each side, not tested)" in analysis
    assert [r["rank"] for r in model["hierarchy"]] == [1, 1]


# 7. Smaller untruths ------------------------------------------------------------------------------------------

def test_cells_say_their_n_when_every_backend_lost_a_repetition(tmp_path):
    failed = {"netperf_tcp_rr#2": "killed after its deadline of 66 s"}
    record(tmp_path, "virtio", RUN, {"netperf_tcp_rr": [4000, 4100, 4050]}, failed=failed)
    record(tmp_path, "macvtap", RUN, {"netperf_tcp_rr": [5000, 5100, 5050]}, failed=failed)
    model, md = build(tmp_path)
    cells = row(model, "TCP_RR")["cells"]
    assert cells["virtio"].endswith("(n=2)") and cells["macvtap"].endswith("(n=2)")
    assert "(n = 3 unless a cell says otherwise)" in md


def test_the_method_says_one_lab_only_for_one_run(tmp_path):
    record(tmp_path, "virtio", RUN, SAME)
    record(tmp_path, "macvtap", "20261227T100000Z", SAME)
    model, _md = build(tmp_path)
    assert not model["statistics"]["one_lab"]
    assert ("in separate runs (virtio: 20261127T100000Z; macvtap: 20261227T100000Z), so the differences include "
            "whatever changed on the host between them") in model["statistics"]["method"]
    other = tmp_path / "one"
    record(other, "virtio", RUN, SAME)
    record(other, "macvtap", RUN, SAME)
    model, _md = build(other)
    assert "alternating test by test in one lab (run 20261127T100000Z)" in model["statistics"]["method"]


def test_the_native_runs_configuration_is_compared_too(tmp_path):
    record(tmp_path, "virtio", RUN, SAME, config={"duration_s": 30, "ping_count": 1000})
    record(tmp_path, "native", RUN, SAME, config={"duration_s": 5, "ping_count": 200})
    _model, md = build(tmp_path)
    assert "Mismatched config between compared runs — duration_s differs (virtio: 30; native: 5)." in md
    assert "Mismatched config between compared runs — ping_count differs (virtio: 1000; native: 200)." in md


def test_the_untested_banner_stays_when_only_native_was_repeated(tmp_path):
    record(tmp_path, "virtio", RUN, {t: v[:1] for t, v in SAME.items()})
    record(tmp_path, "native", RUN, SAME)
    model, md = build(tmp_path)
    assert not model["statistics"]["tested"] and "so no difference below was tested" in md


def test_p_values_show_their_side_of_005():
    assert p_text(0.0496) == "p = 0.0496" and p_text(0.04999) == "p = 0.04999"
    assert p_text(0.0504) == "p = 0.050" and p_text(0.05) == "p = 0.050" and p_text(0.1234) == "p = 0.123"
    assert p_text(0.0004) == "p < 0.001" and p_text(None) == "not tested"


def test_scores_pair_repetitions_by_number():
    """Row A lost repetition 2: repetition 3 of A is paired with repetition 3 of B (it used to be paired with B's 2)."""
    a, b = [r for r in report_rows(tests=["iperf3_tcp_single", "iperf3_tcp_reverse"]) if r.section != "cpu"]
    cells = {a: {"x": make_cell({1: 1.0, 3: 3.0})}, b: {"x": make_cell({1: 10.0, 2: 20.0, 3: 30.0})}}
    scores, counted, left = per_rep_scores([a, b], cells, ["x"])
    best_a, best_b = 2.0, 20.0
    assert counted == [a, b] and left == []
    assert scores["x"] == pytest.approx([np.sqrt(1 / best_a * 10 / best_b), np.sqrt(3 / best_a * 30 / best_b)])


def test_one_repetition_says_not_tested_never_not_separable(tmp_path):
    record(tmp_path, "virtio", RUN, {t: v[:1] for t, v in SAME.items()})
    record(tmp_path, "macvtap", RUN, {t: [x * 1.01 for x in v[:1]] for t, v in SAME.items()})
    model, md = build(tmp_path)
    conclusions = section(md, "## Conclusions", "### Anomalies")
    assert "not separable" not in conclusions and "not tested" in conclusions
    assert all(r["untested"] for r in model["hierarchy"])


def test_the_cheapest_sentence_has_no_percentage_of_its_own():
    rows = [r for r in report_rows(tests=["iperf3_tcp_single", "iperf3_tcp_reverse"]) if r.section == "cpu"]
    cells = {rows[0]: {"a": make_cell({1: 1.0, 2: 1.1, 3: 0.9}), "b": make_cell({1: 1.5, 2: 1.6, 3: 1.4})},
             rows[1]: {"a": make_cell({1: 2.0, 2: 2.1, 3: 1.9}), "b": make_cell({1: 4.0, 2: 4.2, 3: 3.8})}}
    verdicts = evaluate(rows, cells, ["a", "b"])
    sentence = claims.cheapest(verdicts)
    assert "%" not in sentence and "CPU score 1.00" in sentence
    assert re.search(r"adjusted p [<=] 0\.\d+", sentence)


def test_no_comparison_is_significant_before_its_family_is_corrected():
    assert not compare([2.0, 2.1, 2.05], [1.0, 1.1, 1.05])["significant"]


@pytest.mark.parametrize("a, b", [([1.0, 1.1, 0.95], [0.9, 1.2, 1.0]), ([2.0, 2.2], [4, 5]), ([0, 1.0, 1.01], [0.9, 0.92, 0.95]),
                                  ([400, 410, 405], [60, 80, 100]), ([5, 5], [4, 4])])
@pytest.mark.parametrize("higher", [True, False])
def test_a_reversed_comparison_equals_the_comparison_made_the_other_way(a, b, higher):
    """verdicts.Verdicts derives B vs A from A vs B (both means above 0) instead of computing it again."""
    got, want = reverse(compare(a, b, higher)), compare(b, a, higher)
    for key in ("n", "tested", "degenerate", "bounded", "p"):
        assert got[key] == (pytest.approx(want[key]) if key == "p" and want[key] is not None else want[key]), key
    for key in ("ratio", "ratio_low", "ratio_high", "change", "low", "high"):
        assert (got[key] is None) == (want[key] is None), key
        if want[key] is not None:
            assert got[key] == pytest.approx(want[key], rel=1e-6, abs=1e-9), key


def test_backends_without_a_common_row_are_listed_not_ranked(tmp_path):
    record(tmp_path, "virtio", RUN, {"iperf3_tcp_single": [1.0, 1.1, 1.05]})
    record(tmp_path, "macvtap", RUN, {"netperf_tcp_rr": [5000, 5100, 5050]})
    model, _md = build(tmp_path)
    assert [(r["backend"], r["rank"]) for r in model["hierarchy"]] == [("virtio", 1), ("macvtap", 1)]
    assert all(r["best_for"][0].startswith("Not comparable") for r in model["hierarchy"])


@pytest.mark.parametrize("a, b", [([0, 0, 0], [1, 1.1, 0.9]), ([0, 0, 0.1], [1, 1.1, 0.9]), ([1, 2, 3], [0.001, 0.5, 1.0]),
                                  ([1e-9, 2e-9, 3e-9], [1e9, 2e9, 1.5e9]), ([1, 1, 1], [2, 3, 4]), ([5, 6, 7], [1, 1, 1])])
@pytest.mark.filterwarnings("ignore:Precision loss occurred")  # scipy's own, on the side without spread
def test_ratio_bounds_hold_at_the_edges(a, b):
    """Zeros, a mean at 0, scales 10^18 apart, one side without spread: the interval holds the ratio, starts at
    or above 0, and agrees with the inversion of scipy's Welch test."""
    rat = ratio(a, b)
    assert rat["tested"] and 0 <= rat["low"] <= rat["ratio"]
    assert rat["high"] is None or rat["high"] >= rat["ratio"]
    if rat["high"] is not None and rat["ratio"] > 0:
        _low, high = fieller(a, b)
        assert rat["high"] == pytest.approx(high, rel=1e-5)
