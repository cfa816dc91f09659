"""How much of a benchmark run is the benchmark itself: a measurement, not a test.

Runs ``./scripts/benchmark.sh -e profile=quick`` (every backend this host supports) twice: first with an
empty guest-image cache (the image is built: a cold start), then with that cache warm. For each run it
prints the wall time, and from the recorded run.json files the boot -> SSH time of each guest, the
matrix phase divided by the tools' own run time (1.0 = no time between tests) and the harness's own time per
test: the matrix less the time a tool of a test runs (a loaded test's tools run from its load's start to the
later of the two ends: the load leads its probe and outlasts it by design). Issue 36's target is 0.3 s.

    sudo .venv/bin/python tests/perf/overhead.py [--cached-only] [-- extra ansible-playbook args]

Needs root (the lab's namespace and QEMU). Results go to a temporary directory; nothing is kept.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def tool_windows(test: dict) -> list[list[float]]:
    """TEST's tool window and its load's, those it has (both on the controller's clock)."""
    return [w for w in (test.get("window"), test.get("load_window")) if w]


def tool_seconds(test: dict) -> float:
    """How long a tool of TEST ran: its window joined with its load's, else its own wall time."""
    windows = tool_windows(test)
    if not windows:
        return float(test.get("wall_s") or 0)
    return max(w[1] for w in windows) - min(w[0] for w in windows)


def run_benchmark(results: Path, cache: Path | None, extra: list[str]) -> float:
    argv = [str(ROOT / "scripts" / "benchmark.sh"), "-e", "profile=quick", "-e", f"results_dir={results}", *extra]
    if cache is not None:
        argv += ["-e", f"benchmark_image_cache_dir={cache}"]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - started
    if proc.returncode != 0:
        print(proc.stdout[-3000:], proc.stderr[-2000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"benchmark.sh failed with rc={proc.returncode}")
    return wall


def describe(label: str, wall: float, results: Path) -> None:
    print(f"\n{label}: ./scripts/benchmark.sh -e profile=quick took {wall:.0f} s ({wall / 60:.1f} min)")
    lab: dict[str, list[dict]] = {}
    for run_json in sorted(results.glob("*/*/run.json")):
        run = json.loads(run_json.read_text())
        if run["status"] == "not_run":
            print(f"  {run['backend']:<9} not run: {run.get('reason', '')[:100]}")
            continue
        lab.setdefault(run["run_id"], []).append(run)
    for run_id, runs in lab.items():
        # one lab, one boot and one matrix for every backend of the run id
        walls = runs[0].get("wall_times", {})
        boot = ", ".join(f"{g} {s:.1f} s" for g, s in sorted(walls.get("boot_to_ssh_s", {}).items()))
        tools = sum(tool_seconds(t) for run in runs for t in run["tests"])
        loaded = sum(1 for run in runs for t in run["tests"] if t.get("load_window"))
        matrix = float(walls.get("matrix_s") or 0)
        ratio = f"{matrix / tools:.2f}" if tools else "n/a"
        tests = sum(len(run["tests"]) for run in runs)
        print(f"  run {run_id} ({', '.join(r['backend'] for r in runs)}): boot->SSH {boot}; "
              f"matrix phase {matrix:.1f} s / the tools' own time {tools:.1f} s = {ratio} over {tests} tests; "
              f"the harness: {(matrix - tools) / max(tests, 1):.2f} s per test ({loaded} loaded tests: their tools' time "
              f"from the load's start to the later end)")
        # the span of the tests: from the first tool's start to the last tool's end (each test's window, on the
        # controller's clock); everything else - preflight, image, lab, boot, servers, sampler, teardown,
        # records, report - is the run's overhead
        windows = [w for run in runs for t in run["tests"] for w in tool_windows(t)]
        if windows:
            span = max(w[1] for w in windows) - min(w[0] for w in windows)
            phases = ", ".join(f"{k[:-2]} {float(walls[k]):.1f} s" for k in ("lab_s", "boot_s", "teardown_s")
                               if k in walls)
            print(f"  outside the matrix: {wall - span:.0f} s of {wall:.0f} s (tests span {span:.0f} s; {phases}; "
                  f"the rest is preflight, image, guest checks and servers, records and the report)")
        for run in runs:
            print(f"    {run['backend']:<9} {run['status']}: {run['counts']['ok']} ok, {run['counts']['failed']} failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cached-only", action="store_true", help="skip the cold run (the default image cache is used)")
    parser.add_argument("extra", nargs="*", help="extra ansible-playbook arguments (after --)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vnb-overhead-") as tmp:
        cache = Path(tmp) / "images"
        if not args.cached_only:
            wall = run_benchmark(Path(tmp) / "cold", cache, args.extra)
            describe("cold image cache (image built)", wall, Path(tmp) / "cold")
        wall = run_benchmark(Path(tmp) / "cached", None if args.cached_only else cache, args.extra)
        describe("image cached", wall, Path(tmp) / "cached")
    return 0


if __name__ == "__main__":
    sys.exit(main())
