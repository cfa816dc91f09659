"""History of a results tree: the SQLite index (rebuilt, refreshed, never the source of truth), change points with
PELT (ruptures) at the right run, the newest run that stands out, history.csv and the trend charts in REPORT.md and
REPORT.html. Runs recorded from the tools' real output formats (test_report_statistics.record); the change-point
method's false-alarm rate and its accuracy are simulated with a fixed seed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3

import numpy as np

from ansible_collections.volt.netbench.plugins.plugin_utils.history import history
from ansible_collections.volt.netbench.plugins.plugin_utils import report

from test_report_statistics import record, values_of  # pylint: disable=import-error

START = dt.datetime(2026, 11, 1, 2, 0, tzinfo=dt.timezone.utc)


def run_id(k: int) -> str:
    return (START + dt.timedelta(days=k)).strftime("%Y%m%dT%H%M%SZ")


def nightly(root, runs: int, *, drop_at: int | None = None, last_drop: bool = False, seed: int = 5) -> None:
    """RUNS nightly runs of virtio and macvtap, 3 repetitions each with 1 % noise; virtio's TCP throughput 20 %
    lower from run DROP_AT on (0-based), or in the newest run only (LAST_DROP)."""
    rng = np.random.default_rng(seed)
    for k in range(runs):
        for backend in ("virtio", "macvtap"):
            def reps(center):
                return [round(center * (1 + rng.normal(0, 0.01)), 5) for _rep in range(3)]

            slower = backend == "virtio" and ((drop_at is not None and k >= drop_at) or (last_drop and k == runs - 1))
            tcp = reps(2.0 * (0.8 if slower else 1.0))
            record(root, backend, run_id(k), values_of(tcp, reps(1.0), reps(0.4), reps(9000), reps(5000)))


def test_a_step_in_twenty_four_nightly_runs_is_found_at_its_run_and_drawn(tmp_path):
    nightly(tmp_path, 24, drop_at=12)
    model = report.build_report(tmp_path, display_dir="results")
    hist = model["history"]
    assert hist["runs"] == 24 and hist["first"] == run_id(0) and hist["last"] == run_id(23)
    assert [(c["backend"], c["label"], c["run_id"], c["regression"]) for c in hist["change_points"]] == [
        ("virtio", "TCP Single Stream", run_id(12), True)]
    cp = hist["change_points"][0]
    assert -21 < cp["change_pct"] < -19 and cp["text"].startswith(f"virtio TCP Single Stream: regression at run {run_id(12)}, 2.00")
    # it is the current level: named under the anomalies
    assert hist["current"] == [cp] and not hist["newest"]
    assert any(a.startswith("History (24 runs of this configuration): virtio TCP Single Stream: regression at run")
               for a in model["anomalies"])
    report.write_report(model, tmp_path)
    md = (tmp_path / "REPORT.md").read_text()
    assert "### History" in md and f"- {cp['text']}" in md
    assert "![TCP Single Stream (Gbps) over the runs](charts/history/history_throughput_tcp_single_stream.svg)" in md
    html = (tmp_path / "REPORT.html").read_text()
    assert 'id="chart-history_throughput_tcp_single_stream"' in html and html.count("<svg") >= len(hist["charts"])
    for chart in hist["charts"]:
        assert (tmp_path / chart["svg"]).stat().st_size > 0 and "png" not in chart  # inline in the HTML: SVG only
    rows = list(csv.DictReader(io.StringIO((tmp_path / "history.csv").read_text())))
    tcp = [r for r in rows if r["backend"] == "virtio" and r["metric"] == "TCP Single Stream"]
    assert len(tcp) == 24 and [r["run_id"] for r in tcp if r["change_point"]] == [run_id(12)]
    assert tcp[12]["change_point"] == "regression"
    # each point is the run's own cell
    own = report.build_report(tmp_path, run_ids=[f"virtio/{run_id(5)}"], display_dir="results")
    cell = next(r for t in own["tables"] for r in t["rows"] if r["label"] == "TCP Single Stream")["statistics"]["virtio"]
    assert float(tcp[5]["mean"]) == cell["mean"] and int(tcp[5]["n"]) == 3
    assert "history.csv" in report.report_files(model)


def test_a_drop_in_the_newest_run_is_named_before_it_can_be_a_change_point(tmp_path):
    nightly(tmp_path, 10, last_drop=True)
    model = report.build_report(tmp_path, display_dir="results")
    hist = model["history"]
    assert not hist["change_points"]
    assert [(o["backend"], o["label"], o["run_id"]) for o in hist["newest"]] == [("virtio", "TCP Single Stream", run_id(9))]
    assert any("too soon for a change point, it looks like a regression" in a for a in model["anomalies"])


def test_a_quiet_history_has_no_change_point_and_two_runs_draw_nothing(tmp_path):
    nightly(tmp_path / "quiet", 12)
    hist = report.build_report(tmp_path / "quiet")["history"]
    assert hist["runs"] == 12 and not hist["change_points"] and not hist["current"] and not hist["newest"]
    nightly(tmp_path / "two", 2)
    model = report.build_report(tmp_path / "two")
    assert model["history"]["runs"] == 2 and model["history"]["charts"] == []
    assert "looked for from 6 runs on" in report.render_markdown(model)
    one = tmp_path / "one"
    nightly(one, 1)
    assert "### History" not in report.render_markdown(report.build_report(one))


def test_the_index_follows_the_run_directories_and_is_rebuilt_when_broken(tmp_path):
    nightly(tmp_path, 3)
    conn, counts = history.sync_index(tmp_path)
    conn.close()
    assert counts["added"] == 6 and (tmp_path / history.INDEX_NAME).is_file()
    conn, counts = history.sync_index(tmp_path)
    conn.close()
    assert (counts["added"], counts["kept"]) == (0, 6)
    # run.json is the source of truth: an edited run is read again, a removed one leaves the index
    path = tmp_path / "virtio" / run_id(1) / "run.json"
    doc = json.loads(path.read_text())
    doc["environment"]["host_kernel"] = "6.19.0"
    path.write_text(json.dumps(doc) + " ")
    import shutil  # pylint: disable=import-outside-toplevel

    shutil.rmtree(tmp_path / "macvtap" / run_id(2))
    conn, counts = history.sync_index(tmp_path)
    rows = conn.execute("SELECT environment FROM runs WHERE rel = ?", (f"virtio/{run_id(1)}",)).fetchone()
    conn.close()
    assert (counts["updated"], counts["removed"], counts["kept"]) == (1, 1, 4)
    assert json.loads(rows[0])["host_kernel"] == "6.19.0"
    # a corrupt index is rebuilt from the runs
    (tmp_path / history.INDEX_NAME).write_bytes(b"not a database" * 100)
    conn, counts = history.sync_index(tmp_path)
    assert counts["rebuilt"] == 1 and counts["added"] == 5
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 5
    conn.close()
    # check mode: an index in memory, nothing written
    fresh = tmp_path / "fresh"
    nightly(fresh, 2)
    conn, counts = history.sync_index(fresh, persist=False)
    conn.close()
    assert counts["in_memory"] == 1 and not (fresh / history.INDEX_NAME).exists()
    report.build_report(fresh, persist_index=False)
    assert not (fresh / history.INDEX_NAME).exists()
    assert isinstance(sqlite3.sqlite_version, str)


def test_simulation_change_points_false_alarms_and_accuracy():
    """Fixed seed. Series of 10-60 runs with 3 % noise and no change: a change point of 5 % or more in at most 5 % of
    them; a 10 % step at run 12 of 24: found in at least 95 % of the series, at the exact run in at least 80 %."""
    rng = np.random.default_rng(20261203)
    series = 300
    false_alarms = found = exact = 0
    for _series in range(series):
        n = int(rng.integers(10, 61))
        flat = list(100 * (1 + 0.03 * rng.standard_normal(n)))
        false_alarms += bool(history.change_points(flat, True))
        step = [v * (0.9 if i >= 12 else 1.0) for i, v in enumerate(100 * (1 + 0.03 * rng.standard_normal(24)))]
        cps = history.change_points(step, True)
        found += bool(cps)
        exact += any(c["index"] == 12 and c["regression"] for c in cps)
    print(f"false alarms {false_alarms / series:.3f}, found {found / series:.3f}, exact {exact / series:.3f}")
    assert false_alarms / series <= 0.05
    assert found / series >= 0.95 and exact / series >= 0.8


def test_the_c_pelt_segments_every_series_as_ruptures_pure_python_pelt_with_the_l2_cost(monkeypatch):
    """history.change_points runs ruptures' KernelCPD (linear kernel: the l2 cost, PELT in C) because ruptures'
    Pelt(model="l2") is pure Python (2.2 s on 1,000 runs). Fixed seed: on flat, stepped and spiky series of 6-120 runs
    both give the same change points."""
    import ruptures

    class PurePython:  # history.change_points' call, answered by ruptures' reference implementation
        def __init__(self, kernel, min_size, jump):
            assert kernel == "linear"
            self.algo = ruptures.Pelt(model="l2", min_size=min_size, jump=jump)

        def fit(self, signal):
            self.algo.fit(signal)
            return self

        def predict(self, pen):
            return self.algo.predict(pen=pen)

    rng = np.random.default_rng(20261205)
    shapes = {"flat": np.ones, "step": lambda n: np.where(np.arange(n) >= n // 2, 0.85, 1.0),
              "spike": lambda n: np.where(np.arange(n) % 17 == 5, 1.3, 1.0),
              "two steps": lambda n: np.where(np.arange(n) >= n // 3, 1.1, 1.0) * np.where(np.arange(n) >= 2 * n // 3, 0.8, 1.0)}
    compared = changed = 0
    for _case in range(60):
        for shape in shapes.values():
            n = int(rng.integers(6, 121))
            values = list(100 * shape(n) * (1 + 0.02 * rng.standard_normal(n)))
            fast = history.change_points(values, True)
            with monkeypatch.context() as patched:
                patched.setattr(ruptures, "KernelCPD", PurePython)
                reference = history.change_points(values, True)
            assert fast == reference, (n, values)
            compared += 1
            changed += bool(fast)
    assert compared == 240 and changed >= 60, changed  # the steps were found: the comparison saw change points


def test_a_history_longer_than_the_window_shows_its_newest_runs_and_keeps_every_run_in_history_csv(tmp_path, monkeypatch):
    """Twenty nights, virtio's TCP throughput 20 % lower from night 6 and back from night 12 (two change points); a
    window of 10 runs and 1 change point shown besides the current ones: the report shows nights 10-19 and the
    newer change point, names how many it leaves to history.csv, which holds all twenty nights."""
    monkeypatch.setattr(history, "WINDOW", 10)
    monkeypatch.setattr(history, "SHOWN_CHANGES", 1)
    rng = np.random.default_rng(11)
    for k in range(20):
        for backend in ("virtio", "macvtap"):
            def reps(center):
                return [round(center * (1 + rng.normal(0, 0.01)), 5) for _rep in range(3)]

            tcp = reps(2.0 * (0.8 if backend == "virtio" and 6 <= k < 12 else 1.0))
            record(tmp_path, backend, run_id(k), values_of(tcp, reps(1.0), reps(0.4), reps(9000), reps(5000)))
    model = report.build_report(tmp_path, display_dir="results")
    full = model["history"]
    assert [(c["run_id"], c["regression"]) for c in full["change_points"]] == [(run_id(6), True), (run_id(12), False)]
    report.write_report(model, tmp_path)
    shown = json.loads((tmp_path / "report.json").read_text())["history"]
    assert shown["runs"] == 20 and shown["window"]["run_ids"] == [run_id(k) for k in range(10, 20)]
    assert [c["run_id"] for c in shown["change_points"]] == [run_id(12)] and shown["change_points_total"] == 2
    tcp = next(s for s in shown["series"] if s["backend"] == "virtio" and s["label"] == "TCP Single Stream")
    assert len(tcp["mean"]) == len(tcp["low"]) == len(tcp["n"]) == 10 and tcp["n"] == [3] * 10
    assert tcp["starts"] == [2] and tcp["runs"] == 20 and tcp["change_points"] == 2
    assert tcp["first"] == run_id(0) and tcp["last"] == run_id(19) and 1.95 < tcp["level"] < 2.05
    full_tcp = next(s for s in full["series"] if s["backend"] == "virtio" and s["label"] == "TCP Single Stream")
    assert tcp["mean"] == [p["mean"] for p in full_tcp["points"][10:]]
    md = (tmp_path / "REPORT.md").read_text()
    assert "a trend chart per metric below (its 10 newest runs)." in md
    assert f"- {full['change_points'][1]['text']}\n- 1 older change point: in `history.csv`" in md
    assert full["change_points"][0]["text"] not in md
    html = (tmp_path / "REPORT.html").read_text()
    assert "TCP Single Stream (Gbps) over the 10 newest of 20 runs" in html
    assert "1 older change point: in <code>history.csv</code>" in html
    rows = list(csv.DictReader(io.StringIO((tmp_path / "history.csv").read_text())))
    virtio_tcp = [r for r in rows if r["backend"] == "virtio" and r["metric"] == "TCP Single Stream"]
    assert [r["run_id"] for r in virtio_tcp] == [run_id(k) for k in range(20)]
    assert [r["change_point"] for r in virtio_tcp if r["change_point"]] == ["regression", "improvement"]


def test_what_a_report_shows_of_its_history_does_not_grow_with_it():
    """history.shown of 100 and of 5,000 runs (12 series, a change point every 50 runs): the same size within 1 %,
    under 100 kB - a report's history is bounded; build_history on 5,000 runs stays fast enough to draw it."""
    rng = np.random.default_rng(3)

    def model(runs: int) -> dict:
        series = {}
        for backend in ("virtio", "vhost-net", "macvtap"):
            for label in ("TCP Single Stream", "UDP", "ICMP P50", "TCP_RR"):
                level = np.repeat(1 + 0.1 * (np.arange(runs // 50 + 1) % 2), 50)[:runs]
                means = level * (1 + 0.01 * rng.standard_normal(runs))
                series[(backend, "throughput", label)] = {
                    "backend": backend, "section": "throughput", "label": label, "unit": "Gbps",
                    "higher_is_better": True, "digits": 2,
                    "points": [{"run_id": run_id(k), "date": "", "status": "complete", "n": 3, "mean": float(m),
                                "low": float(m) * 0.99, "high": float(m) * 1.01} for k, m in enumerate(means)]}
        return history.build_history("unused", series=series)

    small, large = (json.dumps(history.shown(model(n)), indent=2, sort_keys=True) for n in (100, 5000))
    assert len(json.loads(large)["change_points"]) == history.SHOWN_CHANGES  # none is a regression now
    assert abs(len(large) - len(small)) < 0.01 * len(small) and len(large) < 100_000, (len(small), len(large))
