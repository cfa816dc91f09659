"""How the results store scales with its history: a measurement, not a test.

Builds one store up to each size (default 10, 100 and 1,000 nightly run ids, two backends each) from runs recorded
by the report's unit tests' recorder (the tools' real output formats, 1 % noise, a 20 % drop in virtio's TCP
throughput two thirds of the way), written into an SQLite file - or PostgreSQL with --dsn. At each size it prints:

- record: writing one more night's runs (store.put_run), as record_run does;
- gate: the newest run against 'previous' from a fresh results tree holding only that run (regression.compare_runs
  with the store, as an AWX job's gate runs);
- history: the host's series from the store and their change points (history.build_history);
- report: a fresh tree's report drawing the store's history - built, written (REPORT.md/.html, report.json,
  charts) and its change points kept in the store, as the report action does - and the sizes of what it wrote.

    .venv/bin/python tests/perf/store_scale.py [--sizes 10 100 1000] [--dsn 'host=... dbname=...']

Everything goes to a temporary directory (and the database given), nothing is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))
sys.path.insert(0, str(ROOT / "tests" / "unit" / "plugins" / "plugin_utils"))

from ansible_collections.volt.netbench.plugins.plugin_utils import history, regression, report, results  # noqa: E402
from ansible_collections.volt.netbench.plugins.plugin_utils import store as vstore  # noqa: E402
from test_report_statistics import record, values_of  # noqa: E402  pylint: disable=import-error

START = dt.datetime(2020, 1, 1, 2, 0, tzinfo=dt.timezone.utc)


def run_id(k: int) -> str:
    return (START + dt.timedelta(days=k)).strftime("%Y%m%dT%H%M%SZ")


def nightly(tree: Path, k: int, drop_at: int, rng: np.random.Generator) -> None:
    """Night K's runs of virtio and macvtap (three repetitions each, 1 % noise)."""
    for backend in ("virtio", "macvtap"):
        def reps(center: float) -> list[float]:
            return [round(center * (1 + rng.normal(0, 0.01)), 5) for _rep in range(3)]

        tcp = reps(2.0 * (0.8 if backend == "virtio" and k >= drop_at else 1.0))
        record(tree, backend, run_id(k), values_of(tcp, reps(1.0), reps(0.4), reps(9000), reps(5000)))


def timed(fn):
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def size_of(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--dsn", default="", help="a PostgreSQL store instead of an SQLite file")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory(prefix="vnb-store-scale-") as tmp:
        work = Path(tmp)
        spec = args.dsn or str(work / "store.sqlite")
        print(f"store: {'PostgreSQL' if args.dsn else 'SQLite ' + spec}; runs are night ids of virtio + macvtap")
        print(f"{'runs':>7} {'record s':>9} {'gate s':>8} {'history s':>10} {'report s':>9} "
              f"{'REPORT.html':>12} {'report.json':>12} {'charts':>10}")
        made = 0
        with vstore.open_store(spec) as store:
            for size in sizes:
                drop_at = 2 * size // 3
                while made < size - 1:
                    tree = work / "nights" / str(made)
                    nightly(tree, made, drop_at, rng)
                    for run_dir in results.run_dirs(tree).values():
                        store.put_run(results.load_run(run_dir), host="hv01")
                    shutil.rmtree(tree)
                    made += 1
                # the newest night: recorded as record_run records it, into a fresh tree of its own
                fresh = work / f"fresh-{size}"
                nightly(fresh, made, drop_at, rng)
                made += 1
                newest = [results.load_run(d) for d in results.run_dirs(fresh).values()]

                def record_one():
                    for run in newest:
                        store.put_run(run, host="hv01")

                record_s, _none = timed(record_one)
                gate_s, model = timed(lambda: regression.compare_runs(fresh, "previous", store=spec, store_host="hv01"))
                assert model["baseline"]["run_id"] == run_id(made - 2), model["baseline"]
                history_s, hist = timed(lambda: history.build_history(
                    fresh, series=store.series("hv01", results.compared_config(newest[0]))))
                assert hist["runs"] == made, (hist["runs"], made)
                out = work / f"report-{size}"

                def render():
                    built = report.build_report(fresh, persist_index=False, store=spec, store_host="hv01")
                    report.write_report(built, out)
                    vstore.keep_change_points(spec, "hv01", built["history"])
                    return built

                report_s, _built = timed(render)
                print(f"{made:>7} {record_s:>9.2f} {gate_s:>8.2f} {history_s:>10.2f} {report_s:>9.2f} "
                      f"{size_of(out / 'REPORT.html') / 1e6:>10.2f}MB {size_of(out / 'report.json') / 1e6:>10.2f}MB "
                      f"{size_of(out / 'charts') / 1e6:>8.2f}MB")
                shutil.rmtree(fresh)
                shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
