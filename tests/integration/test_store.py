"""The results store, the same cases against both engines: SQLite (a file) and a real PostgreSQL server the tests
start themselves (pgserver.py: the distribution's initdb, a Unix socket in a private directory, stopped after).
Runs are recorded by results.record_run from raw files in a results tree (the report's synthetic runs), written to
the store and read back: what a report, the history or the gate compute from the store is what they compute from
the tree."""

from __future__ import annotations

import json
import os
import shutil
import sys
import threading

import pytest

from helpers import ROOT, run
from pgserver import PgServer

sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.volt.netbench.plugins.plugin_utils.history import history, store as vstore  # noqa: E402
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import results
from test_history import nightly  # noqa: E402  pylint: disable=import-error
from test_report_statistics import FAST, SAME, record  # noqa: E402  pylint: disable=import-error

RUN_IDS = ("20261101T020000Z", "20261102T020000Z", "20261103T020000Z")


@pytest.fixture(scope="module", name="postgres")
def fixture_postgres():
    server = PgServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"], name="spec")
def fixture_spec(request, tmp_path):
    """Where a fresh, empty store is: an SQLite file, or a new database on the test server."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite")
    return request.getfixturevalue("postgres").createdb(f"vnb_{abs(hash(str(tmp_path))) % 10**12}")


@pytest.fixture(name="tree")
def fixture_tree(tmp_path):
    """A results tree of three runs of two backends (raw files, parsed by record_run)."""
    root = tmp_path / "results"
    for k, run_id in enumerate(RUN_IDS):
        record(root, "virtio", run_id, SAME if k < 2 else FAST)
        record(root, "macvtap", run_id, FAST)
    return root


def test_the_schema_is_made_once_and_a_newer_one_is_refused(spec):
    store = vstore.open_store(spec, migrate=False)
    try:
        assert store.version() == 0
        assert store.migrate() == [1] and store.migrate() == [] and store.version() == vstore.SCHEMA_VERSION
        with store._transaction() as cur:  # pylint: disable=protected-access
            store._execute(cur, "INSERT INTO vnb_schema VALUES (?, ?)", (99, "later"))  # pylint: disable=protected-access
        with pytest.raises(vstore.StoreError, match="at schema 99, newer than this collection's 1: upgrade"):
            store.migrate()
    finally:
        store.close()


def test_two_controllers_opening_one_store_at_once_migrate_it_once(spec):
    applied, errors = [], []

    def open_one():
        try:
            with vstore.open_store(spec, migrate=False) as store:
                applied.append(store.migrate())
        except Exception as err:  # pylint: disable=broad-except
            errors.append(err)

    threads = [threading.Thread(target=open_one) for _k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and sorted(applied) == [[], [], [], [1]]


def test_a_run_read_back_is_the_run_the_tree_holds_and_writing_it_again_keeps_one(spec, tree):
    with vstore.open_store(spec) as store:
        for run_dir in results.run_dirs(tree).values():
            store.put_run(results.load_run(run_dir), host="hv01")
        first = results.load_run(tree / "virtio" / RUN_IDS[0])
        store.put_run(first, host="hv01")  # again: one run
        runs = store.runs()
        assert [(r["host"], r["backend"], r["run_id"]) for r in runs] == (
            [("hv01", "macvtap", r) for r in RUN_IDS] + [("hv01", "virtio", r) for r in RUN_IDS])
        assert runs[3]["location"] == str(tree / "virtio" / RUN_IDS[0]) and runs[3]["status"] == "complete"
        assert runs[3]["started"].startswith(first["started"][:19])
        assert store.runs(host="hv02") == [] and len(store.runs(backend="virtio")) == 3

        back = store.load_run("hv01", "virtio", RUN_IDS[0])
        assert {k: v for k, v in back.items() if k not in ("rtts", "path")} == {
            k: v for k, v in first.items() if k != "path"}
        # the round trips travel with the run: the ping percentiles pooled from them, without the raw files
        ping = next(t for t in first["tests"] if t["name"] == "ping")
        assert back["rtts"]["ping#1"] == results.rtts_of(first, ping) and len(back["rtts"]["ping#1"]) == 200
        back["path"] = "/nowhere"
        assert history._cells_of(back) == history._cells_of(first)  # pylint: disable=protected-access

        # SQL sees every parsed value per test, metric and repetition, and the report's cells
        with store._transaction() as cur:  # pylint: disable=protected-access
            values = store._execute(cur, "SELECT count(*) FROM vnb_values WHERE backend = ? AND run_id = ?",  # pylint: disable=protected-access
                                    ("virtio", RUN_IDS[0])).fetchone()[0]
            cells = store._execute(cur, "SELECT count(*) FROM vnb_cells WHERE backend = ? AND run_id = ?",  # pylint: disable=protected-access
                                   ("virtio", RUN_IDS[0])).fetchone()[0]
        assert values == len({(s["test"], s["metric"], s["repetition"]) for s in first["samples"]})
        assert cells == len(history._cells_of(first))  # pylint: disable=protected-access

        assert store.delete_run("hv01", "virtio", RUN_IDS[0]) and not store.delete_run("hv01", "virtio", RUN_IDS[0])
        with store._transaction() as cur:  # pylint: disable=protected-access
            assert store._execute(cur, "SELECT count(*) FROM vnb_values WHERE run_id = ? AND backend = ?",  # pylint: disable=protected-access
                                  (RUN_IDS[0], "virtio")).fetchone()[0] == 0


def test_the_history_from_the_store_is_the_trees(spec, tree):
    with vstore.open_store(spec) as store:
        assert vstore.import_tree(store, tree) == {"imported": 6, "skipped": 0, "hosts": 1}
        from_store = store.series(vstore.LOCAL_HOST)
    from_tree = history.load_series(tree, persist=False)
    assert from_store.keys() == from_tree.keys() and len(from_store) > 10
    for key, series in from_tree.items():
        assert from_store[key]["points"] == series["points"]
        assert {k: v for k, v in from_store[key].items() if k != "points"} == {
            k: v for k, v in series.items() if k != "points"}


def test_a_fleets_tree_is_imported_by_host_and_names_are_checked_where_read(spec, tmp_path):
    fleet = tmp_path / "fleet"
    for host in ("hv-a", "hv-b"):
        record(fleet / host, "virtio", RUN_IDS[0], SAME)
    (fleet / "not a host").mkdir()
    with vstore.open_store(spec) as store:
        assert vstore.import_tree(store, fleet) == {"imported": 2, "skipped": 0, "hosts": 2}
        assert store.hosts() == ["hv-a", "hv-b"]
        # a row written by someone else with a name that is not one
        run = store.load_run("hv-a", "virtio", RUN_IDS[0])
        with store._transaction() as cur:  # pylint: disable=protected-access
            store._execute(cur, "UPDATE vnb_runs SET document = ? WHERE host = ?",  # pylint: disable=protected-access
                           (store._json(dict({k: v for k, v in run.items() if k not in ("samples", "rtts", "path")},  # pylint: disable=protected-access
                                             run_id="../../etc")), "hv-b"))
        with pytest.raises(vstore.StoreError, match="holds the document of 'virtio'/'../../etc'"):
            store.load_run("hv-b", "virtio", RUN_IDS[0])
        with store._transaction() as cur:  # pylint: disable=protected-access
            for table in ("vnb_cells", "vnb_values"):
                store._execute(cur, f"DELETE FROM {table} WHERE host = ?", ("hv-b",))  # pylint: disable=protected-access
            store._execute(cur, "UPDATE vnb_runs SET host = ? WHERE host = ?", ("../x", "hv-b"))  # pylint: disable=protected-access
        with pytest.raises(vstore.StoreError, match="a run whose key is not a run's: '../x' is not a host name"):
            store.runs()
    with pytest.raises(vstore.StoreError, match="'../x' is not a host name"):
        vstore.checked_key("../x", "virtio", RUN_IDS[0])


def test_gate_verdicts_are_kept_per_run_and_baseline(spec):
    with vstore.open_store(spec) as store:
        store.put_verdict("hv01", RUN_IDS[1], RUN_IDS[0], tolerance=5, verdict="pass", regressions=0)
        store.put_verdict("hv01", RUN_IDS[2], RUN_IDS[1], tolerance=5, verdict="regression", regressions=2,
                          detail={"rows": ["virtio TCP"]})
        store.put_verdict("hv01", RUN_IDS[2], RUN_IDS[1], tolerance=5, verdict="regression", regressions=1)
        kept = store.verdicts("hv01")
        assert [(v["run_id"], v["verdict"], v["regressions"]) for v in kept] == [
            (RUN_IDS[2], "regression", 1), (RUN_IDS[1], "pass", 0)]
        with pytest.raises(vstore.StoreError, match="is not a run id"):
            store.put_verdict("hv01", "previous", RUN_IDS[0], tolerance=5, verdict="pass", regressions=0)


def test_a_dsn_is_told_from_a_path_and_its_password_never_shown(postgres):
    assert vstore.is_dsn("postgresql://volt:s3cret@db.example/vnb") and vstore.is_dsn("host=/run/pg dbname=x")
    assert not vstore.is_dsn("/var/lib/volt-netbench/store.sqlite") and not vstore.is_dsn("results/.store.sqlite")
    with pytest.raises(vstore.StoreError) as err:
        vstore.open_store(postgres.dsn.replace("dbname=postgres", "dbname=absent password=s3cret"))
    assert "s3cret" not in str(err.value) and "password=***" in str(err.value)
    assert vstore._redacted("postgresql://volt:s3cret@db/vnb") == "postgresql://volt:***@db/vnb"  # pylint: disable=protected-access
    assert json.dumps(vstore.open_store(postgres.dsn).runs()) == "[]"


def test_the_change_points_kept_for_dashboards_are_the_historys(spec, tmp_path):
    """Twelve nightly runs, virtio's TCP throughput 20 % lower from the eighth on: the store's change points (kept
    for the dashboards' annotations, refreshed on import and on every recorded run) are the report history's."""
    root = tmp_path / "nightly"
    nightly(root, 12, drop_at=7)
    expected = history.build_history(root, persist=False)["change_points"]
    assert any(c["regression"] and c["backend"] == "virtio" for c in expected)
    with vstore.open_store(spec) as store:
        vstore.import_tree(store, root, host="hv01")
        kept = store.change_points("hv01")
        assert store.refresh_change_points("hv01", kept[0]["compared"]) == len(kept)  # again: the same, not twice
        assert len(store.change_points()) == len(kept)
    assert sorted((c["backend"], c["label"], c["run_id"], c["regression"]) for c in kept) == sorted(
        (c["backend"], c["label"], c["run_id"], c["regression"]) for c in expected)
    for got in kept:
        want = next(c for c in expected if (c["backend"], c["label"], c["run_id"]) ==
                    (got["backend"], got["label"], got["run_id"]))
        assert got["change_pct"] == pytest.approx(want["change_pct"]) and got["before"] == pytest.approx(want["before"])


def test_a_fresh_trees_report_draws_the_history_the_store_keeps(spec, tmp_path):
    """An AWX job's results directory holds its own run alone; with the store, the report's history is the host's
    twelve nights, change point included - what the report of the whole tree shows."""
    from ansible_collections.volt.netbench.plugins.plugin_utils import report  # pylint: disable=import-outside-toplevel

    whole = tmp_path / "nightly"
    nightly(whole, 12, drop_at=7)
    fresh = tmp_path / "fresh"
    newest = sorted(p.name for p in (whole / "virtio").iterdir())[-1]
    for backend in ("virtio", "macvtap"):
        (fresh / backend).mkdir(parents=True)
        shutil.copytree(whole / backend / newest, fresh / backend / newest)
    with vstore.open_store(spec) as store:
        vstore.import_tree(store, whole, host="hv01")
    alone = report.build_report(fresh, persist_index=False)["history"]
    kept = report.build_report(fresh, persist_index=False, store=spec, store_host="hv01")["history"]
    full = report.build_report(whole, persist_index=False)["history"]
    assert alone["runs"] == 1 and not alone["change_points"]
    assert kept["runs"] == full["runs"] == 12
    assert [(c["backend"], c["label"], c["run_id"]) for c in kept["change_points"]] == [
        (c["backend"], c["label"], c["run_id"]) for c in full["change_points"]] != []
    assert [c["key"] for c in kept["charts"]] == [c["key"] for c in full["charts"]]
    # the report keeps the change points its history found in the store (recording a run does not compute them)
    with vstore.open_store(spec) as store:
        store.put_change_points("hv01", kept["compared"], [], 5.0)
        assert store.change_points("hv01") == []
    vstore.keep_change_points(spec, "hv01", kept)
    with vstore.open_store(spec) as store:
        assert [(c["backend"], c["label"], c["run_id"]) for c in store.change_points("hv01")] == sorted(
            ((c["backend"], c["label"], c["run_id"]) for c in full["change_points"]), key=lambda c: c[2])


def test_an_sqlite_store_is_never_opened_through_a_link_or_in_a_directory_another_user_can_swap(tmp_path):
    """Root writes only where it means to: a link at the store's path (planted by another user, aimed at a file of
    root's) is refused, the file it points to untouched; so is a directory on the way that another user owns."""
    target = tmp_path / "precious"
    target.write_bytes(b"root's own file")
    (tmp_path / "store.sqlite").symlink_to(target)
    with pytest.raises(vstore.StoreError, match="cannot be kept safely: .* is not a regular file"):
        vstore.open_store(str(tmp_path / "store.sqlite"))
    assert target.read_bytes() == b"root's own file"
    if os.geteuid() == 0:
        theirs = tmp_path / "theirs"
        theirs.mkdir()
        os.chown(theirs, 65534, 65534)
        with pytest.raises(vstore.StoreError, match="cannot be kept safely: .*nobody"):
            vstore.open_store(str(theirs / "store.sqlite"))
        assert not (theirs / "store.sqlite").exists()


def without_raw(value):
    """VALUE without its 'raw' entries (the paths of raw files)."""
    if isinstance(value, dict):
        return {k: without_raw(v) for k, v in value.items() if k != "raw"}
    if isinstance(value, list):
        return [without_raw(v) for v in value]
    return value


def test_a_fleet_recorded_by_two_controllers_is_reported_from_the_store(spec, tmp_path):
    """Two controllers (two results trees that never met) record hv-a and hv-b into one store; a third, with an empty
    results directory, writes every host's report and the fleet report from the store alone - latency cells and
    charts included, from the round trips the store keeps (no raw file is at hand)."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.report import fleet
    from ansible_collections.volt.netbench.plugins.plugin_utils import report  # pylint: disable=import-outside-toplevel

    for host, values in (("hv-a", SAME), ("hv-b", FAST)):
        tree = tmp_path / f"controller-{host}"
        record(tree, "virtio", RUN_IDS[0], values)
        record(tree, "macvtap", RUN_IDS[0], FAST)
        with vstore.open_store(spec) as store:
            vstore.import_tree(store, tree, host=host)
    fresh = tmp_path / "fresh"
    with vstore.open_store(spec) as store:
        written = vstore.export_tree(store, fresh)
        assert vstore.export_tree(store, fresh) == {"hv-a": [], "hv-b": []}  # again: nothing new to write
    assert written == {h: [f"macvtap/{RUN_IDS[0]}", f"virtio/{RUN_IDS[0]}"] for h in ("hv-a", "hv-b")}
    assert results.fleet_hosts(fresh) == ["hv-a", "hv-b"]
    for host, values in (("hv-a", SAME), ("hv-b", FAST)):
        original = report.build_report(tmp_path / f"controller-{host}", persist_index=False)
        exported = report.build_report(fresh / host, persist_index=False)
        # every cell the same, only where the raw files are differs (the exported run names the exported directory)
        assert without_raw(exported["tables"]) == without_raw(original["tables"])
        assert exported["percentile_curves"] == original["percentile_curves"] and exported["percentile_curves"]
    model = fleet.build_fleet(fresh, ["hv-a", "hv-b"])
    assert model["reported"] == ["hv-a", "hv-b"] and not model["missing"]


def test_compare_yml_renders_a_fleet_from_the_store_alone(postgres, tmp_path, ansible_bin):
    """The playbook a third controller runs: -e store=... -e from_store=true into an empty results directory."""
    dsn = postgres.createdb("vnb_fleet_from_store")
    for host in ("hv-a", "hv-b"):
        record(tmp_path / host, "virtio", RUN_IDS[0], SAME)
        with vstore.open_store(dsn) as store:
            vstore.import_tree(store, tmp_path / host, host=host)
    out = tmp_path / "fleet"
    proc = run([ansible_bin / "ansible-playbook", ROOT / "playbooks" / "compare.yml", "-e", f"results_dir={out}",
                "-e", "from_store=true"], env={"VOLT_NETBENCH_STORE": dsn}, check=False)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert (out / "REPORT.md").is_file() and (out / "hv-a" / "REPORT.md").is_file() and (out / "hv-b" / "REPORT.md").is_file()
    assert "hv-a/REPORT.md" in (out / "REPORT.md").read_text() and dsn not in proc.stdout


def test_reading_a_store_changes_nothing_in_it(spec, tree, tmp_path):
    """What reads history or a baseline (check mode too) opens the store read-only: a store without a schema, or an
    SQLite file that is not there, reads as empty and is left as it was - no file made, no table created."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.history import regression  # pylint: disable=import-outside-toplevel

    with vstore.open_store(spec, read_only=True) as store:
        assert (store.runs(), store.hosts(), store.series("localhost"), store.verdicts()) == ([], [], {}, [])
        with pytest.raises(vstore.StoreError, match="holds no run"):
            store.load_run("localhost", "virtio", RUN_IDS[0])
    if not vstore.is_dsn(spec):
        assert not os.path.exists(spec)
    else:
        with vstore.open_store(spec, migrate=False) as store:
            assert store.version() == 0
    # the gate reads it so too: the tree's runs alone, then the store's once it has them
    model = regression.compare_runs(tree, "previous", store=spec)
    assert model["baseline"]["run_id"] == RUN_IDS[1]
    with vstore.open_store(spec) as store:
        store.put_run(results.load_run(tree / "virtio" / RUN_IDS[0]), host="localhost")
        kept = store.runs()
    with vstore.open_store(spec, read_only=True) as store:
        assert store.runs() == kept
    assert regression.compare_runs(tree, "previous", store=spec)["baseline"]["run_id"] == RUN_IDS[1]
