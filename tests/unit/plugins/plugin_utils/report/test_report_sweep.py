"""A sweep's report (report/sweep.py) on results trees recorded from the tools' real output formats
(test_report_statistics.record): each point's comparisons and every interaction in one Holm family, each point's
own report, the overview's sentences, CSV and charts - and no claim between identical backends."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from statsmodels.stats.multitest import multipletests

from ansible_collections.volt.netbench.plugins.plugin_utils.measure import results, sweep
from ansible_collections.volt.netbench.plugins.plugin_utils.report import build_report
from ansible_collections.volt.netbench.plugins.plugin_utils.report.model import measured_cells
from ansible_collections.volt.netbench.plugins.plugin_utils.report.sweep import SWEEP_DIR, build_sweep, write_sweep
from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.verdicts import evaluate

from test_regression import noisy  # pylint: disable=import-error
from test_report_statistics import record, values_of  # pylint: disable=import-error

RUN = "20261205T230000Z"
FACTORS = {"mtu": [1500, 9000]}
# five repetitions a few percent apart
QUIET = values_of([1.00, 1.02, 0.99, 1.01, 1.00], [0.50, 0.51, 0.50, 0.49, 0.50], [0.40, 0.41, 0.40, 0.42, 0.41],
                  [9000, 9100, 8950, 9050, 9020], [5000, 5050, 4980, 5020, 5010])


def sweep_tree(root, values) -> None:
    """VALUES: (point's mtu, backend) -> test values; every run of the sweep RUN recorded with its point."""
    for (mtu, backend), reps in values.items():
        point = {"mtu": mtu}
        record(root, backend, RUN + sweep.point_suffix(point), reps,
               config={"point": point, "mtu": mtu, "sweep": FACTORS})


def test_a_lead_that_grows_with_the_mtu_is_an_interaction_and_a_steady_one_is_not(tmp_path):
    """macvtap leads virtio by ~20 % in TCP throughput at MTU 1500 and by ~80 % at 9000 (a 1.5x interaction); its
    transaction-rate lead is 20 % at both. The first interaction is claimed, the second not; every comparison of
    both points and every interaction is one family, and each point's report says so."""
    root = tmp_path / "results"
    sweep_tree(root, {
        (1500, "virtio"): noisy(QUIET, 1), (1500, "macvtap"): noisy(QUIET, 2, iperf3_tcp_single=1.2, netperf_tcp_rr=1.2),
        (9000, "virtio"): noisy(QUIET, 3, iperf3_tcp_single=2.0),
        (9000, "macvtap"): noisy(QUIET, 4, iperf3_tcp_single=3.6, netperf_tcp_rr=1.2)})
    model = build_sweep(root, RUN, persist_index=False)
    assert [p["key"] for p in model["points"]] == ["mtu=1500", "mtu=9000"]
    assert [p["dir"] for p in model["points"]] == ["mtu-1500", "mtu-9000"]
    by_row = {i["row"]: i for i in model["interactions"]}
    tcp, rr = by_row["TCP Single Stream"], by_row["TCP_RR"]
    assert tcp["significant"] and 1.4 < tcp["ratio"] < 1.6 and tcp["low"] > 1.0
    assert re.fullmatch(r"TCP Single Stream: macvtap's lead over virtio is \+(19|20|21) % at mtu=1500 and \+(79|80|81) % "
                        r"at mtu=9000: it grows \(interaction p < 0\.001, Holm-adjusted < 0\.001\)", tcp["text"])
    assert not rr["significant"] and "the change is not detectable in these repetitions" in rr["text"]
    # one family: the points' comparisons and the interactions, Holm-corrected once (recomputed with statsmodels)
    # (each point's members as its own report would register them: rows, scores, tails)
    raw = []
    for point in model["points"]:
        ids = [f"{b}/{RUN}+{point['dir']}" for b in ("virtio", "macvtap")]
        picked = measured_cells(root, ids, str(root))
        family = evaluate(picked["rows"], picked["cells"], picked["measured"]).family
        raw += [family.members[k]["p"] for k in family.tested()]
    raw += [i["p"] for i in model["interactions"] if i["tested"]]
    assert model["family"] == len(raw) == 33
    adjusted = dict(zip(raw, multipletests(raw, method="holm")[1]))
    assert tcp["p_adjusted"] == pytest.approx(adjusted[tcp["p"]])
    for point in model["point_models"].values():
        assert point["statistics"]["family"] == model["family"]
        for member in _members(point):
            assert member["p_adjusted"] == pytest.approx(adjusted[member["p"]])
    # the files: each point's full report, the overview, its CSV and a chart per factor and row
    write_sweep(model, root)
    out = root / SWEEP_DIR / RUN
    for point in ("mtu-1500", "mtu-9000"):
        assert (out / point / "REPORT.md").read_text().startswith("# Volt Network Benchmark Results")
        assert json.loads((out / point / "report.json").read_text())["measured"] == ["virtio", "macvtap"]
    text = (out / "SWEEP.md").read_text()
    assert "| mtu=9000 | virtio, macvtap |" in text and "[REPORT.md](`mtu-9000`/REPORT.md)" not in text
    assert "[REPORT.md](mtu-9000/REPORT.md)" in text
    assert tcp["text"] in text and "1 is supported by these repetitions" in text
    lines = list(csv.DictReader(io.StringIO((out / "sweep.csv").read_text())))
    cell = next(r for r in lines if r["row"] == "TCP Single Stream" and r["point"] == "mtu=9000" and r["path"] == "macvtap")
    assert float(cell["mean"]) == pytest.approx(model["point_models"]["mtu=9000"]["tables"][0]["rows"][0]["values"]["macvtap"])
    assert "improvement" in cell["versus_baseline"]
    chart = out / "charts" / "mtu_iperf3_tcp_single_receiver_bps.svg"
    assert chart.is_file() and "TCP Single Stream (Gbps) against mtu" in chart.read_text()


def _members(point_model: dict) -> list[dict]:
    """Every tested comparison of a point's report, once (its rows' comparisons with the baseline - here the only
    pair - and its scores'), as the report exposes them."""
    out = {}
    for table in point_model["tables"]:
        for row in table["rows"]:
            for cmp in row["versus_baseline"].values():
                if cmp["tested"]:
                    out[id(cmp)] = cmp
    return list(out.values())


def test_identical_backends_show_no_difference_at_any_point_and_no_interaction(tmp_path):
    """The same lab twice, under two names at two points: nothing claimed anywhere."""
    root = tmp_path / "results"
    sweep_tree(root, {(mtu, backend): noisy(QUIET, seed) for seed, (mtu, backend) in enumerate(
        [(1500, "virtio"), (1500, "macvtap"), (9000, "virtio"), (9000, "macvtap")], 11)})
    model = build_sweep(root, RUN, persist_index=False)
    assert model["interactions"] and not model["interactions_supported"]
    for point in model["point_models"].values():
        assert not any(c["significant"] for table in point["tables"] for row in table["rows"]
                       for c in row["versus_baseline"].values())


def test_the_factors_keep_the_sweeps_order_though_run_json_sorts_its_keys(tmp_path):
    """Found in the lab: run.json is written with sorted keys, so {"queues": .., "load": ..} comes back as load, queues;
    the run id keeps the sweep's order (+queues-1+load-0.3), and the report follows it."""
    root = tmp_path / "results"
    factors = {"queues": [1, 2], "load": [0.3]}
    for queues in (1, 2):
        point = {"queues": queues, "load": 0.3}
        for backend in ("virtio", "macvtap"):
            record(root, backend, RUN + sweep.point_suffix(point), noisy(QUIET, queues),
                   config={"point": point, "sweep": factors})
    assert json.loads((root / "virtio" / f"{RUN}+queues-1+load-0.3" / "run.json").read_text())["config"]["point"] == {
        "load": 0.3, "queues": 1}, "sorted on disk"
    model = build_sweep(root, RUN, persist_index=False)
    assert model["factors"] == factors and list(model["factors"]) == ["queues", "load"]
    assert [p["key"] for p in model["points"]] == ["queues=1,load=0.3", "queues=2,load=0.3"]
    assert {i["factor"] for i in model["interactions"]} == {"queues"}


def test_a_sweeps_runs_stay_out_of_the_trees_report_and_a_tampered_point_is_refused(tmp_path):
    root = tmp_path / "results"
    sweep_tree(root, {(1500, "virtio"): QUIET, (9000, "virtio"): QUIET})
    record(root, "virtio", "20261205T220000Z", QUIET)
    assert build_report(root, persist_index=False)["backends"][0]["run_id"] == "20261205T220000Z"
    with pytest.raises(results.ResultsError, match=r"sweep: no run of sweep 20261205T220000Z is recorded"):
        build_sweep(root, "20261205T220000Z", persist_index=False)
    run_json = root / "virtio" / f"{RUN}+mtu-9000" / "run.json"
    doc = json.loads(run_json.read_text())
    doc["config"]["point"] = {"mtu": 1500}
    run_json.write_text(json.dumps(doc))
    with pytest.raises(results.ResultsError, match=r"its point \{'mtu': 1500\} is not the one its run id names "
                                                   r"\(\+mtu-9000\): the file was moved or edited"):
        build_sweep(root, RUN, persist_index=False)
    doc["config"]["point"] = {"../../etc": 1}
    run_json.write_text(json.dumps(doc))
    with pytest.raises(results.ResultsError, match=r"run.json: sweep: '\.\./\.\./etc' is not a factor"):
        build_sweep(root, RUN, persist_index=False)
