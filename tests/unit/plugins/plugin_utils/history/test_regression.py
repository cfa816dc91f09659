"""The regression gate: a run against a baseline on results trees recorded from the tools' real output formats
(test_report_statistics.record: the real fixtures with the chosen values), and a fixed-seed simulation of its
false-claim rate, its sensitivity and its intervals' coverage. Expectations are recomputed with scipy."""

from __future__ import annotations

import csv
import gc
import io
import json

import numpy as np
import pytest
from scipy import stats as scipy_stats

from ansible_collections.volt.netbench.plugins.plugin_utils.history import regression
from ansible_collections.volt.netbench.plugins.plugin_utils.history.regression import (
    IMPROVEMENT, NO_CHANGE, REGRESSION, UNCHANGED, CompareError, compare_runs, judge)

from test_report_statistics import fieller, record, values_of  # pylint: disable=import-error

OLD, NEW = "20261201T020000Z", "20261202T020000Z"
# five repetitions per metric, a few percent apart (what a quiet lab gives)
BASE = values_of([2.00, 2.04, 1.98, 2.02, 1.99], [1.00, 1.01, 0.99, 1.02, 1.00], [0.40, 0.41, 0.40, 0.42, 0.41],
                 [9000, 9100, 8950, 9050, 9020], [5000, 5050, 4980, 5020, 5010])


def noisy(values: dict, seed: int, cv: float = 0.01, **factors) -> dict:
    """VALUES with independent noise of CV per repetition (a second run of the same lab), test -> FACTOR applied."""
    rng = np.random.default_rng(seed)
    return {name: [round(v * factors.get(name, 1.0) * (1 + rng.normal(0, cv)), 6) for v in reps]
            for name, reps in values.items()}


def tree(root, old: dict, new: dict, backends=("virtio", "macvtap")) -> None:
    for backend in backends:
        record(root, backend, OLD, old)
        record(root, backend, NEW, new if backend == "virtio" else noisy(old, 7))


def entry_of(model: dict, backend: str, label: str) -> dict:
    return next(e for e in model["comparisons"] if e["backend"] == backend and e["label"] == label)


def test_a_twenty_percent_throughput_drop_is_a_regression_with_its_interval(tmp_path):
    tree(tmp_path, BASE, noisy(BASE, 3, iperf3_tcp_single=0.8))
    model = compare_runs(tmp_path, OLD, tolerance=5, display_dir="results")
    assert model["verdict"] == REGRESSION and model["rc"] == regression.RC_REGRESSION == 3
    assert model["regressions"] == ["virtio TCP Single Stream"]
    tcp = entry_of(model, "virtio", "TCP Single Stream")
    cur, base = tcp["current"]["values"], tcp["baseline"]["values"]
    low, high = fieller(cur, base)
    assert tcp["cmp"]["change"] == pytest.approx((np.mean(cur) / np.mean(base) - 1) * 100)
    assert (tcp["cmp"]["low"], tcp["cmp"]["high"]) == (pytest.approx((low - 1) * 100, abs=1e-6),
                                                       pytest.approx((high - 1) * 100, abs=1e-6))
    assert -25 < tcp["cmp"]["change"] < -15
    # Welch's one-sided test of the ratio at 1 - 5 %, doubled, then Holm over every hypothesis of the comparison
    t = scipy_stats.ttest_ind(cur, 0.95 * np.asarray(base), equal_var=False, alternative="less")
    assert tcp["p_changed"] == pytest.approx(2 * t.pvalue, rel=1e-6)
    assert tcp["p_changed_adjusted"] < 0.05 and model["family"] >= 2 * len(model["comparisons"]) - 2
    # nothing else moved beyond the tolerance: no other claim of a change
    others = [e for e in model["comparisons"] if e is not tcp]
    assert others and all(e["verdict"] in (NO_CHANGE, UNCHANGED) for e in others)
    md = regression.render_markdown(model)
    assert "**Verdict: REGRESSION in 1 of" in md and "- **virtio TCP Single Stream**: 2.01 ±" in md
    assert f"{tcp['cmp']['change']:+.1f} % [{tcp['cmp']['low']:+.1f} %, {tcp['cmp']['high']:+.1f} %]" in md
    assert "Nothing recorded differs" in md
    rows = list(csv.DictReader(io.StringIO(regression.render_csv(model))))
    assert len(rows) == len(model["comparisons"])
    assert [r["metric"] for r in rows if r["verdict"] == REGRESSION] == ["TCP Single Stream"]
    files = regression.write_comparison(model, tmp_path)
    doc = json.loads(open(files["json"], encoding="utf-8").read())
    assert doc["rc"] == 3 and doc["regressions"] == ["virtio TCP Single Stream"]
    assert files["markdown"].endswith(f"comparisons/{NEW}-vs-{OLD}/COMPARE.md")
    assert any("REGRESSION" in line for line in regression.summary_lines(model))


def test_a_run_compared_with_itself_is_no_detectable_change(tmp_path):
    tree(tmp_path, BASE, BASE)
    model = compare_runs(tmp_path, OLD, run=OLD)
    assert model["rc"] == 0 and not model["regressions"] and model["verdict"] in (UNCHANGED, NO_CHANGE)
    assert model["comparisons"] and all(e["cmp"]["change"] == 0 and e["cmp"]["p"] == pytest.approx(1.0)
                                        and e["verdict"] in (UNCHANGED, NO_CHANGE) for e in model["comparisons"])
    assert regression.verdict_text(model).startswith("no regression (")
    # the same run twice, every metric exactly alike (no spread either side): nothing to test, nothing claimed
    flat = tmp_path / "flat"
    same = {k: [v[0]] * 3 for k, v in BASE.items() if k != "ping"}
    tree(flat, same, same, backends=("virtio",))
    model = compare_runs(flat, OLD)
    assert model["rc"] == 0 and model["verdict"] == NO_CHANGE and model["family"] == 0
    assert {e["why"] for e in model["comparisons"]} == {"not tested: identical values"}


def test_differences_within_noise_claim_no_regression(tmp_path):
    tree(tmp_path, BASE, noisy(BASE, 11))
    model = compare_runs(tmp_path, "previous", tolerance=5)
    assert model["baseline"]["run_id"] == OLD and model["current"]["run_id"] == NEW
    assert model["rc"] == 0 and not model["regressions"]
    # a 1 % noise with five repetitions is tight enough to say "unchanged within ±5 %" for the quiet rows
    assert any(e["verdict"] == UNCHANGED for e in model["comparisons"])
    assert not any(e["verdict"] in (REGRESSION, IMPROVEMENT) for e in model["comparisons"])


def test_an_improvement_is_not_a_regression(tmp_path):
    tree(tmp_path, BASE, noisy(BASE, 5, netperf_tcp_rr=1.3))
    model = compare_runs(tmp_path, OLD)
    assert model["rc"] == 0 and model["verdict"] == IMPROVEMENT
    assert [regression._name(e) for e in model["comparisons"] if e["verdict"] == IMPROVEMENT] == ["virtio TCP_RR"]


def test_latency_up_is_a_regression(tmp_path):
    tree(tmp_path, BASE, noisy(BASE, 5, ping=1.5))
    model = compare_runs(tmp_path, OLD)
    assert model["rc"] == 3
    assert all(name.startswith("virtio ICMP") for name in model["regressions"]) and model["regressions"]


def test_environment_differences_come_first_and_test_configurations_must_match(tmp_path):
    tree(tmp_path, BASE, noisy(BASE, 3))
    run_json = tmp_path / "virtio" / NEW / "run.json"
    doc = json.loads(run_json.read_text())
    doc["environment"]["host_kernel"] = "6.19.1"
    doc["config"]["mtu"] = 9000
    run_json.write_text(json.dumps(doc))
    model = compare_runs(tmp_path, OLD)
    assert [(d["label"], d["baseline"], d["current"]) for d in model["differences"]] == [
        ("Host kernel", "6.18.44", "virtio: 6.19.1; macvtap: 6.18.44"), ("MTU", "1500", "virtio: 9000; macvtap: 1500")]
    assert regression.render_markdown(model).index("| Host kernel | 6.18.44 |") < \
        regression.render_markdown(model).index("## Regressions")
    doc["config"]["duration_s"] = 30
    run_json.write_text(json.dumps(doc))
    with pytest.raises(CompareError, match=r"measured different things \(Test duration \(s\): 5 \(baseline\) vs "
                                           r"virtio: 30; macvtap: 5 \(this run\)\)"):
        compare_runs(tmp_path, OLD)
    forced = compare_runs(tmp_path, OLD, force=True)
    assert forced["forced"] and "compared because forced" in regression.render_markdown(forced)


def test_the_baseline_is_named_every_way(tmp_path):
    tree(tmp_path, BASE, noisy(BASE, 3))
    assert set(regression.resolve(tmp_path, OLD)) == {"virtio", "macvtap"}
    assert set(regression.resolve(tmp_path, f"macvtap/{OLD}")) == {"macvtap"}
    assert regression.resolve(tmp_path, str(tmp_path / "virtio" / OLD))["virtio"]["run_id"] == OLD
    assert {r["run_id"] for r in regression.resolve(tmp_path, "").values()} == {NEW}
    assert {r["run_id"] for r in regression.resolve(tmp_path, "previous", before=NEW).values()} == {OLD}
    with pytest.raises(CompareError, match="before run 20261201T020000Z: nothing to compare with"):
        regression.resolve(tmp_path, "previous", before=OLD)
    with pytest.raises(CompareError, match=r"run 20991231T000000Z not found .*newest runs with data: "
                                           f"{NEW}, {OLD}"):
        compare_runs(tmp_path, "20991231T000000Z")
    with pytest.raises(CompareError, match="tolerance must be a percentage"):
        compare_runs(tmp_path, OLD, tolerance=-1)
    with pytest.raises(CompareError, match="against: name the baseline"):
        compare_runs(tmp_path, "")


def test_one_repetition_is_never_a_regression(tmp_path):
    one = {k: v[:1] for k, v in BASE.items()}
    tree(tmp_path, one, {k: [v[0] * 0.5] for k, v in one.items()})
    model = compare_runs(tmp_path, OLD)
    assert model["rc"] == 0 and {e["why"] for e in model["comparisons"]} == {"not tested: one repetition"}


# ---- the method, simulated (fixed seed) -------------------------------------------------------------------------

def simulate(true_ratio: float, *, runs: int, metrics: int = 12, reps: int = 5, cv: float = 0.03,
             tolerance: float = 5.0, seed: int = 20261203) -> dict:
    """RUNS comparisons of METRICS throughput metrics each (REPS repetitions a side, lognormal noise of CV), the
    first metric's true ratio TRUE_RATIO, the others unchanged: how often each verdict came out, and how often
    the first metric's interval covered its true change."""
    rng = np.random.default_rng(seed)
    sigma = np.sqrt(np.log(1 + cv ** 2))
    counts = {"any_regression": 0, "first_regression": 0, "other_claims": 0, "covered": 0, "first_unchanged": 0}
    for _run in range(runs):
        entries = []
        for m in range(metrics):
            ratio = true_ratio if m == 0 else 1.0
            base = 100 * rng.lognormal(-sigma ** 2 / 2, sigma, reps)
            cur = 100 * ratio * rng.lognormal(-sigma ** 2 / 2, sigma, reps)
            entries.append({"current": {"values": list(cur)}, "baseline": {"values": list(base)},
                            "higher_is_better": True})
        judge(entries, tolerance)
        verdicts = [e["verdict"] for e in entries]
        counts["any_regression"] += REGRESSION in verdicts
        counts["first_regression"] += verdicts[0] == REGRESSION
        counts["first_unchanged"] += verdicts[0] == UNCHANGED
        counts["other_claims"] += any(v in (REGRESSION, IMPROVEMENT) for v in verdicts[1:])
        first = entries[0]["cmp"]
        change = (true_ratio - 1) * 100
        counts["covered"] += first["low"] is not None and first["low"] <= change <= (first["high"] or np.inf)
    return {k: v / runs for k, v in counts.items()}


def test_simulation_identical_runs_never_fail_the_gate_more_than_five_percent(monkeypatch):
    """No change at all: the gate fails (any regression among 12 metrics) in at most 5 % of the comparisons."""
    # statsmodels' Holm branch runs gc.collect() on every call: harmless once per comparison, slow 400 times
    monkeypatch.setattr(gc, "collect", lambda *_args: 0)
    rates = simulate(1.0, runs=400)
    print("identical runs:", rates)
    assert rates["any_regression"] <= 0.05
    assert 0.93 <= rates["covered"] <= 0.975


def test_simulation_a_change_at_the_tolerance_is_rarely_called_a_regression(monkeypatch):
    """The first metric exactly 5 % slower (the tolerance itself): neither a regression beyond it nor unchanged
    within it - each claimed at most 5 % of the time; a 20 % drop with five repetitions at 3 % noise is caught nearly always; the intervals keep
    their 95 %."""
    monkeypatch.setattr(gc, "collect", lambda *_args: 0)
    edge = simulate(0.95, runs=400)
    print("at the tolerance:", edge)
    assert edge["first_regression"] <= 0.05 and edge["other_claims"] <= 0.05
    # ... nor "unchanged within ±5 %": the equivalence claim is as guarded at its margin
    assert edge["first_unchanged"] <= 0.05
    drop = simulate(0.80, runs=200, seed=7)
    print("20 % drop:", drop)
    assert drop["first_regression"] >= 0.9 and drop["other_claims"] <= 0.05
    assert 0.92 <= drop["covered"] <= 0.98


def test_the_gate_status_is_3_only_when_the_gate_is_all_that_failed():
    gates = {"hv-a": {"rc": 3}, "hv-b": {"rc": 0}}
    assert regression.gate_exit(gates, {"hv-a": 1, "hv-b": 0}, {}) == 3
    assert regression.gate_exit(gates, {"hv-a": 0, "hv-b": 0}, {}) == 0          # nothing failed
    assert regression.gate_exit(gates, {"hv-a": 1, "hv-b": 1}, {}) == 0          # hv-b broke otherwise
    assert regression.gate_exit(gates, {"hv-a": 2}, {}) == 0                     # the gate and something else
    assert regression.gate_exit(gates, {"hv-a": 1}, {"hv-c": 1}) == 0            # a host unreachable
    assert regression.gate_exit({}, {"hv-a": 1}, {}) == 0                        # no gate ran


def test_a_sweeps_point_is_gated_only_against_the_same_point(tmp_path):
    """Two sweeps over mtu and a plain run between them: the second sweep's mtu=9000 against 'previous' is the first
    sweep's mtu=9000 (not its mtu=1500 of the same second, not the plain run); the first sweep named by its run id
    stands for its run at the point; a 20 % drop at 9000 only is a regression there and nowhere else."""
    for sweep_id, factor in ((OLD, 1.0), (NEW, 0.8)):
        for mtu in (1500, 9000):
            config = {"point": {"mtu": mtu}, "mtu": mtu, "sweep": {"mtu": [1500, 9000]}}
            values = noisy(BASE, mtu, iperf3_tcp_single=factor if mtu == 9000 else 1.0)
            record(tmp_path, "virtio", f"{sweep_id}+mtu-{mtu}", values, config=config)
    record(tmp_path, "virtio", "20261201T120000Z", BASE)
    at_9000 = compare_runs(tmp_path, "previous", run=f"{NEW}+mtu-9000")
    assert at_9000["baseline"]["run_id"] == f"{OLD}+mtu-9000" and at_9000["rc"] == 3
    assert at_9000["regressions"][0].startswith("virtio TCP Single Stream")
    assert compare_runs(tmp_path, OLD, run=f"{NEW}+mtu-9000")["baseline"]["run_id"] == f"{OLD}+mtu-9000"
    at_1500 = compare_runs(tmp_path, "previous", run=f"{NEW}+mtu-1500")
    assert at_1500["baseline"]["run_id"] == f"{OLD}+mtu-1500" and at_1500["rc"] == 0
    # a plain run's previous is a plain run
    with pytest.raises(CompareError, match="no run with data under .* before run 20261201T120000Z"):
        compare_runs(tmp_path, "previous", run="20261201T120000Z")
