"""How the results store and the report scale with the history: a measurement, not a test.

Builds one store up to each size (default 10, 100, 1,000 and 10,000 nights) of one host's runs, each night a copy of
a seed run of every backend - a real results tree's newest runs (``--seed``, e.g. the README's first command's
``results/``), or by default a small synthetic night from the report's unit tests' recorder (the tools' real output
formats) - with 1 % noise on every measured value and a 20 % drop in virtio's TCP single-stream throughput two thirds
of the way. At each size it prints:

- record: writing the newest night's runs (store.put_run), as record_run does;
- gate: the newest run against 'previous' from a fresh results tree holding only that night (regression.compare_runs
  with the store, as an AWX job's gate runs);
- history: the host's series from the store and their change points (history.build_history);
- report: that fresh tree's report drawing the store's history - built, written (REPORT.md/.html, report.json,
  history.csv, charts) and its change points kept in the store, as the report action does - and the sizes of what
  it wrote (REPORT.html and report.json are bounded; history.csv holds every run).

The first three nights and the two before the newest are recorded whole (store.put_run: the run's document, samples
and round trips); the nights between are copied inside the database (the first night's cells and values with fresh
noise, under their own run ids, without the raw samples' and round trips' documents: 10,000 nights of those would be
tens of GB, and nothing measured here reads them - the gate reads the previous night, recorded whole).

    .venv/bin/python tests/perf/store_scale.py [--sizes 10 100 1000 10000] [--seed results] [--dsn 'host=... dbname=...']
                                               [--keep DIR]

Everything goes to a temporary directory (and the database given), nothing is kept (--keep: the largest size's
report, copied to DIR).
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))
# the unit tests' builders (test_report_statistics.record, test_history, test_regression)
sys.path[:0] = [str(ROOT / "tests" / "unit" / "plugins" / "plugin_utils" / group) for group in ("report", "history")]

from ansible_collections.volt.netbench.plugins.plugin_utils.history import history, regression
from ansible_collections.volt.netbench.plugins.plugin_utils import report  # noqa: E402
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import results  # noqa: E402
from ansible_collections.volt.netbench.plugins.plugin_utils.history import store as vstore  # noqa: E402
from test_report_statistics import record, values_of  # noqa: E402  pylint: disable=import-error

START = dt.datetime(2000, 1, 1, 2, 0, tzinfo=dt.timezone.utc)
HOST = "hv01"
WHOLE_FIRST, WHOLE_LAST = 3, 2


def run_id(k: int) -> str:
    return (START + dt.timedelta(days=k)).strftime("%Y%m%dT%H%M%SZ")


class Nights:
    """Night K's runs: the seed's runs under run id K, every measured value with 1 % noise, virtio's TCP
    single-stream throughput 20 % lower from night DROP_AT on."""

    def __init__(self, seed: Path, rng: np.random.Generator):
        self.rng = rng
        self.seed_dirs = {}
        self.seed_runs = {}
        for key, run_dir in results.run_dirs(seed).items():
            backend = key.split("/")[0]
            self.seed_dirs[backend] = run_dir  # the newest of each backend
        for backend, run_dir in self.seed_dirs.items():
            run = results.load_run(run_dir)
            # read once, not per copy
            run["rtts"] = vstore._rtts(run)  # pylint: disable=protected-access
            self.seed_runs[backend] = run
        self.drop_at = 0

    def factor(self, backend: str, test: str, k: int) -> float:
        step = 0.8 if backend == "virtio" and test == "iperf3_tcp_single" and k >= self.drop_at else 1.0
        return step * (1 + self.rng.normal(0, 0.01))

    def samples(self, backend: str, k: int) -> list[dict[str, Any]]:
        out = []
        for sample in self.seed_runs[backend]["samples"]:
            sample = dict(sample, run_id=run_id(k))
            if isinstance(sample.get("value"), float):
                sample["value"] = sample["value"] * self.factor(backend, sample.get("test", ""), k)
            out.append(sample)
        return out

    def loaded(self, k: int) -> list[dict[str, Any]]:
        """Night K as results.load_run would read it (for store.put_run)."""
        out = []
        for backend, seed in self.seed_runs.items():
            run = copy.deepcopy({k2: v for k2, v in seed.items() if k2 != "samples"})
            run.update(run_id=run_id(k), samples=self.samples(backend, k))
            out.append(run)
        return out

    def files(self, tree: Path, k: int) -> None:
        """Night K as files in TREE: run.json and samples.jsonl rewritten, every raw file a hard link."""
        for backend, source in self.seed_dirs.items():
            target = tree / backend / run_id(k)
            target.mkdir(parents=True)
            for path in source.iterdir():
                if path.name == "run.json":
                    doc = json.loads(path.read_text(encoding="utf-8"))
                    (target / path.name).write_text(json.dumps(dict(doc, run_id=run_id(k))), encoding="utf-8")
                elif path.name == "samples.jsonl":
                    lines = [json.dumps(s) for s in self.samples(backend, k)]
                    (target / path.name).write_text("".join(line + "\n" for line in lines), encoding="utf-8")
                elif path.is_file() and not path.is_symlink():
                    os.link(path, target / path.name)

    def clone(self, store: vstore.Store, k: int, template: int) -> None:
        """Night K copied inside the database from night TEMPLATE (recorded whole): its runs' rows without the
        documents of samples and round trips, its cells and values with fresh noise."""
        # pylint: disable=protected-access
        with store._transaction() as cur:
            for backend in self.seed_runs:
                key = (HOST, backend, run_id(template))
                store._execute(cur, f"""
                    INSERT INTO vnb_runs (host, backend, run_id, status, started, finished, recorded, compared,
                                          profile, repeat, measured, config, environment, location, document,
                                          samples, rtts)
                    SELECT host, backend, ?, status, started, finished, recorded, compared, profile, repeat, measured,
                           config, environment, location, document, {store._sql('?')}, {store._sql('?')}
                    FROM vnb_runs WHERE host = ? AND backend = ? AND run_id = ?""",
                               (run_id(k), store._json([]), store._json({}), *key))
                cells = store._execute(cur, """
                    SELECT section, label, unit, higher_is_better, digits, n, mean, low, high, vals FROM vnb_cells
                    WHERE host = ? AND backend = ? AND run_id = ?""", key).fetchall()
                rows = []
                for section, label, unit, hib, digits, n, mean, low, high, vals in cells:
                    f = self.factor(backend, "iperf3_tcp_single" if label == "TCP Single Stream" else label, k)
                    vals = store._from_json(vals)
                    vals = [v * f if isinstance(v, (int, float)) else v for v in vals] if isinstance(vals, list) else vals
                    rows.append((HOST, backend, run_id(k), section, label, unit, hib, digits, n, mean * f,
                                 None if low is None else low * f, None if high is None else high * f,
                                 store._json(vals)))
                cur.executemany(store._sql("INSERT INTO vnb_cells VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"), rows)
                values = store._execute(cur, """
                    SELECT test, metric, repetition, value, unit FROM vnb_values
                    WHERE host = ? AND backend = ? AND run_id = ?""", key).fetchall()
                cur.executemany(store._sql("INSERT INTO vnb_values VALUES (?, ?, ?, ?, ?, ?, ?, ?)"), [
                    (HOST, backend, run_id(k), test, metric, rep, value * self.factor(backend, test, k), unit)
                    for test, metric, rep, value, unit in values])


def synthetic_seed(tree: Path) -> Path:
    """One night of virtio and macvtap from the report's unit tests' recorder (three repetitions each)."""
    for backend, scale in (("virtio", 1.0), ("macvtap", 1.1)):
        record(tree, backend, run_id(0), values_of([2.0 * scale] * 3, [1.0 * scale] * 3, [0.4 / scale] * 3,
                                                   [9000 * scale] * 3, [5000 * scale] * 3))
    return tree


def database_size(store: vstore.Store) -> int:
    """A PostgreSQL store's database size in bytes (pg_database_size)."""
    with store._transaction() as cur:  # pylint: disable=protected-access
        return int(store._execute(cur, "SELECT pg_database_size(current_database())").fetchone()[0])  # pylint: disable=protected-access


def timed(fn):
    began = time.perf_counter()
    out = fn()
    return time.perf_counter() - began, out


def size_of(path: Path) -> int:
    return path.stat().st_size if path.is_file() else sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 10000])
    parser.add_argument("--seed", type=Path, help="a results tree whose newest run of each backend is every night's")
    parser.add_argument("--dsn", default="", help="a PostgreSQL store instead of an SQLite file")
    parser.add_argument("--keep", type=Path, help="copy the largest size's report here (REPORT.*, charts ...)")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    if sizes[0] < WHOLE_FIRST + WHOLE_LAST + 1:
        parser.error(f"the smallest size is {WHOLE_FIRST + WHOLE_LAST + 1} nights")
    with tempfile.TemporaryDirectory(prefix="vnb-store-scale-") as tmp:
        work = Path(tmp)
        seed = args.seed or synthetic_seed(work / "seed")
        nights = Nights(seed, np.random.default_rng(7))
        spec = args.dsn or str(work / "store.sqlite")
        backends = ", ".join(nights.seed_runs)
        print(f"store: {'PostgreSQL' if args.dsn else 'SQLite'}; a night: {backends} from "
              f"{args.seed or 'the unit tests recorder'}; history window {history.WINDOW} runs")
        print(f"{'nights':>7} {'record s':>9} {'gate s':>7} {'history s':>10} {'report s':>9} {'REPORT.html':>12} "
              f"{'report.json':>12} {'charts':>8} {'history.csv':>12} {'store':>9}")
        made = 0
        with vstore.open_store(spec) as store:
            for size in sizes:
                nights.drop_at = 2 * size // 3
                while made < size - 1:
                    if made < WHOLE_FIRST or made >= size - 1 - WHOLE_LAST:
                        for run in nights.loaded(made):
                            store.put_run(run, host=HOST, location=str(seed))
                    else:
                        nights.clone(store, made, made % WHOLE_FIRST)
                    made += 1
                # the newest night: recorded as record_run records it, from a fresh tree of its own
                fresh = work / f"fresh-{size}"
                nights.files(fresh, made)
                newest = [results.load_run(d) for d in results.run_dirs(fresh).values()]
                made += 1

                def record_one():
                    for run in newest:
                        store.put_run(run, host=HOST)

                record_s, _none = timed(record_one)
                gate_s, model = timed(lambda: regression.compare_runs(fresh, "previous", store=spec, store_host=HOST))
                assert model["baseline"]["run_id"] == run_id(made - 2), model["baseline"]
                history_s, hist = timed(lambda: history.build_history(
                    fresh, series=store.series(HOST, results.compared_config(newest[0]))))
                assert hist["runs"] == made, (hist["runs"], made)
                out = work / f"report-{size}"

                def render():
                    built = report.build_report(fresh, persist_index=False, store=spec, store_host=HOST)
                    report.write_report(built, out)
                    vstore.keep_change_points(spec, HOST, built["history"])
                    return built

                report_s, _built = timed(render)
                db = size_of(Path(spec)) / 1e6 if not args.dsn else database_size(store) / 1e6
                print(f"{made:>7} {record_s:>9.2f} {gate_s:>7.2f} {history_s:>10.2f} {report_s:>9.2f} "
                      f"{size_of(out / 'REPORT.html') / 1e6:>10.2f}MB {size_of(out / 'report.json') / 1e6:>10.2f}MB "
                      f"{size_of(out / 'charts') / 1e6:>6.2f}MB {size_of(out / 'history.csv') / 1e6:>10.1f}MB "
                      f"{db:>7.0f}MB", flush=True)
                shutil.rmtree(fresh)
                if args.keep and size == sizes[-1]:
                    shutil.copytree(out, args.keep, dirs_exist_ok=True)
                shutil.rmtree(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
