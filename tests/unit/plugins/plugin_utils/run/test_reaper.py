"""The watchdog's reaper records every backend's interrupted run of a shared lab from its progress file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins.plugin_utils.run import reaper
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import run_control
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import create_run_dir

FIXTURES = Path(__file__).resolve().parents[4] / "fixtures"


def test_every_backend_of_the_lab_is_recorded_as_interrupted(tmp_path):
    results = tmp_path / "results"
    dirs = {b: create_run_dir(results, b, "20261127T080000Z")[0] for b in ("virtio", "macvtap")}
    planned = {"ping": "ping", "netperf_tcp_rr": "netperf"}
    for backend, run_dir in dirs.items():
        shutil.copy(FIXTURES / "ping" / "iputils_20.txt", run_dir / "ping.txt")
        entry = {"name": "ping", "tool": "ping", "status": "ok", "message": "", "raw": "ping.txt"}
        header = {"backend": backend, "planned": [{"name": n, "tool": t, "repetition": 1} for n, t in planned.items()],
                  "config": {}, "environment": {}, "started": "t0"}
        run_control.start_progress(run_dir, header)
        run_control.append_progress(run_dir, entry)
    reaper.record_interrupted({"run_dirs": [str(d) for d in dirs.values()], "results_dir": str(results)})
    for backend, run_dir in dirs.items():
        run = json.loads((run_dir / "run.json").read_text())
        assert run["backend"] == backend and run["status"] == "partial"
        assert run["reason"] == "interrupted: ansible-playbook ended before the run finished"
        status = {t["name"]: (t["status"], t["message"]) for t in run["tests"]}
        assert status == {"ping": ("ok", ""), "netperf_tcp_rr": ("skipped", "not run: the benchmark was interrupted")}
    assert (results / "REPORT.md").is_file()
    # a watchdog that had no run to record (a cross-host pair's server side) leaves the report to the one that had
    (results / "REPORT.md").unlink()
    reaper.record_interrupted({"run_dirs": [], "results_dir": str(results)})
    assert not (results / "REPORT.md").exists()


def test_teardown_removes_the_cpu_samplers_files_by_the_names_the_sampler_uses(tmp_path):
    """The watchdog is told the samples file the run gave the sampler; its pidfile is named by the same function
    the cpu_sampler module uses (module_utils/lab.sampler_pidfile)."""
    from ansible_collections.volt.netbench.plugins.module_utils.lab import sampler_pidfile

    samples = tmp_path / "vnb-lab.cpu.jsonl"
    samples.write_text("{}\n")
    Path(sampler_pidfile(str(samples))).write_text("4242")
    other = tmp_path / "other-lab.cpu.jsonl"
    other.write_text("{}\n")
    reaper.teardown({"cpu_samples": str(samples)}, roots=(str(tmp_path),))
    assert not samples.exists() and not Path(sampler_pidfile(str(samples))).exists()
    assert other.exists(), "another lab's samples stay"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a network namespace")
def test_teardown_stops_the_native_servers_and_removes_their_namespaces_and_job_files(tmp_path):
    ns = f"vnbreap-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    # the mark volt.netbench.netdev gives the namespaces it creates
    subprocess.run(["ip", "-n", ns, "link", "set", "dev", "lo", "alias", "volt-netbench"], check=True)
    server = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "300"])
    job_dir = tmp_path / "vnb-lab.jobs"
    job_dir.mkdir()
    (job_dir / "native.ping.1.out").write_text("64 bytes from 198.18.3.1")
    try:
        deadline = time.monotonic() + 10
        while not subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False).stdout.strip():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        reaper.teardown({"extra_netns": [ns], "job_dir": str(job_dir)}, roots=(str(tmp_path),))
        assert server.wait(timeout=10) != 0
        assert ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
        assert not job_dir.exists()
    finally:
        server.kill()
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)


def test_a_run_that_released_its_lock_leaves_no_watchdog_state(tmp_path):
    owner = subprocess.Popen(["sleep", "30"])
    try:
        config = tmp_path / "vnb-lab.watchdog.json"
        config.write_text(json.dumps({"owner_pid": owner.pid, "lock": str(tmp_path / "benchmark.lock")}))
        config.with_suffix(".log").write_text("")
        assert reaper.main(str(config)) == 0  # the lock is not held: the run ended normally
        assert not config.exists() and not config.with_suffix(".log").exists()
        # a remote run's end removed the configuration first (watchdog state=finished): the empty log goes too
        config.with_suffix(".log").write_text("")
        assert reaper.finished(str(config), owner.pid) == 0 and not config.with_suffix(".log").exists()
        # the next run of the same lab wrote its own configuration: it stays
        config.write_text(json.dumps({"owner_pid": owner.pid + 1, "lock": str(tmp_path / "benchmark.lock")}))
        assert reaper.finished(str(config), owner.pid) == 0 and config.exists()
    finally:
        owner.kill()
        owner.wait()


def _progress_run(results: Path, backend: str = "virtio", point: dict | None = None) -> Path:
    run_dir = create_run_dir(results, backend, "20261127T080000Z",
                             "".join(f"+{k}-{v}" for k, v in (point or {}).items()))[0]
    shutil.copy(FIXTURES / "ping" / "iputils_20.txt", run_dir / "ping.txt")
    config = {"repeat": 1, **({"point": point, "sweep": {"mtu": [1500, 9000]}} if point else {})}
    header = {"backend": backend, "planned": [{"name": "ping", "tool": "ping", "repetition": 1},
                                              {"name": "netperf_tcp_rr", "tool": "netperf", "repetition": 1}],
              "config": config, "environment": {"accelerator": "tcg"}, "started": "2026-11-27T08:00:00+00:00"}
    run_control.start_progress(run_dir, header)
    for mark, at in (("lab", 1000.0), ("boot", 1012.0), ("matrix", 1032.5)):
        run_control.note_progress(run_dir, mark=mark, at=at)
    run_control.note_progress(run_dir, environment={"vm_vcpus": 1}, wall_times={"boot_to_ssh_s": {"server": 20.0}})
    run_control.append_progress(run_dir, {"name": "ping", "tool": "ping", "status": "ok", "message": "",
                                          "raw": "ping.txt", "wall_s": 2.5})
    return run_dir


def test_the_normal_ending_and_the_watchdog_record_a_progress_file_alike(tmp_path):
    """One record path: the role's record_run (from_progress) and the watchdog call the same function; the
    same progress file gives the same run.json (timestamps aside)."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import record_from_progress

    normal, watched = _progress_run(tmp_path / "a"), _progress_run(tmp_path / "b")
    record_from_progress(normal, unreached_reason=reaper.INTERRUPTED_UNREACHED, reason=reaper.INTERRUPTED)
    reaper.record_interrupted({"run_dirs": [str(watched)]})
    runs = [json.loads((d / "run.json").read_text()) for d in (normal, watched)]
    for run in runs:
        run.pop("finished")
        for test in run["tests"]:
            test.get("parsed", {}).pop("timestamp", None)
    assert runs[0] == runs[1]
    assert runs[0]["status"] == "partial" and runs[0]["environment"] == {"accelerator": "tcg", "vm_vcpus": 1}
    assert runs[0]["wall_times"] == {"lab_s": 12.0, "boot_s": 20.5, "boot_to_ssh_s": {"server": 20.0}, "ping_s": 2.5}
    assert [(t["name"], t["status"]) for t in runs[0]["tests"]] == [("ping", "ok"), ("netperf_tcp_rr", "skipped")]


@pytest.mark.parametrize("counts, status", [
    ({"ok": 0, "failed": 0, "skipped": 0}, "failed"), ({"ok": 0, "failed": 2, "skipped": 0}, "failed"),
    ({"ok": 0, "failed": 0, "skipped": 3}, "failed"), ({"ok": 0, "failed": 1, "skipped": 1}, "failed"),
    ({"ok": 2, "failed": 0, "skipped": 0}, "complete"), ({"ok": 2, "failed": 1, "skipped": 0}, "partial"),
    ({"ok": 2, "failed": 0, "skipped": 1}, "partial"), ({"ok": 1, "failed": 1, "skipped": 1}, "partial")])
def test_run_status_rules(counts, status):
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import run_status

    assert run_status(counts) == status


def test_the_watchdogs_report_keeps_the_runs_baseline(tmp_path):
    results = tmp_path / "results"
    for backend in ("virtio", "macvtap"):
        _progress_run(results, backend)
    reaper.record_interrupted({"run_dirs": [str(p) for p in results.glob("*/*")], "results_dir": str(results),
                               "baseline": "macvtap"})
    model = json.loads((results / "report.json").read_text())
    assert model["baseline"] == "macvtap"  # it was virtio, whatever the run was started with


def test_an_interrupted_sweep_gets_its_own_report_and_its_outcomes_by_point(tmp_path):
    """The watchdog of an interrupted sweep records every point's run and writes the sweep's report (not the tree's
    REPORT.md, which a sweep's runs are not part of); the closing summary names each run by backend and point."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure import summary

    results = tmp_path / "results"
    for mtu in (1500, 9000):
        for backend in ("virtio", "macvtap"):
            _progress_run(results, backend, {"mtu": mtu})
    reaper.record_interrupted({"run_dirs": [str(p) for p in results.glob("*/*")], "results_dir": str(results)})
    out = results / "sweeps" / "20261127T080000Z"
    assert (out / "SWEEP.md").is_file() and (out / "mtu-9000" / "REPORT.md").is_file()
    assert not (results / "REPORT.md").exists()
    ran, not_run = summary.outcomes(results, "20261127T080000Z")
    assert sorted(ran) == ["macvtap+mtu-1500", "macvtap+mtu-9000", "virtio+mtu-1500", "virtio+mtu-9000"]
    assert all(o["status"] == "partial" for o in ran.values()) and not_run == {}
    # a row the interrupted runs never reached has an empty chart that says so (not an empty legend)
    charts = sorted((out / "charts").glob("*.svg"))
    assert charts and any("not measured at any level" in c.read_text() for c in charts)


def test_a_full_disk_says_where_and_how_much_is_free(tmp_path):
    import errno

    from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem

    text = write_problem(OSError(errno.ENOSPC, "No space left on device"), tmp_path)
    assert text.startswith(f"could not write in {tmp_path}: No space left on device (")
    assert "KiB free of" in text and "results_dir" in text


def sleeper_in(ns: str) -> subprocess.Popen:
    proc = subprocess.Popen(["ip", "netns", "exec", ns, "sleep", "300"])
    deadline = time.monotonic() + 10
    while not subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True, check=False).stdout.strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return proc


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a network namespace and chown")
def test_the_watchdog_acts_only_on_what_is_the_labs(tmp_path, capsys):
    """A namespace without the lab's mark, and paths outside the collection's run-time directory, are left alone
    (and said so); a configuration another user owns, or in a directory others may change, is not read at all."""
    ns = f"vnbforeign-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    server = sleeper_in(ns)
    outside = tmp_path / "home" / "precious"
    outside.mkdir(parents=True)
    try:
        removed = reaper.teardown_lab({"extra_netns": [ns], "job_dir": str(outside), "cpu_samples": "/etc/passwd"},
                                      roots=(str(tmp_path / "run"),))
        assert removed == [
            f"refused: job_dir {outside} is outside {tmp_path / 'run'}: left alone",
            f"refused: cpu_samples /etc/passwd is outside {tmp_path / 'run'}: left alone",
            f"refused: namespace {ns} was not created by volt.netbench (no mark on its lo): left alone"]
        assert server.poll() is None and outside.exists() and os.path.exists("/etc/passwd")
        # a symbolic link inside the root that leads out of it is outside too
        (tmp_path / "run").mkdir()
        (tmp_path / "run" / "lab.jobs").symlink_to(outside)
        assert reaper.teardown_lab({"job_dir": str(tmp_path / "run" / "lab.jobs")}, roots=(str(tmp_path / "run"),)) == [
            f"refused: job_dir {tmp_path / 'run' / 'lab.jobs'} is outside {tmp_path / 'run'}: left alone"]

        # the watchdog of a run whose ansible-playbook is gone, configured to tear that namespace down
        gone = subprocess.Popen(["true"])
        gone.wait()
        subprocess.run(["ip", "-n", ns, "link", "set", "dev", "lo", "alias", "volt-netbench"], check=True)
        lock = tmp_path / "benchmark.lock"
        lock.write_text(json.dumps({"owner_pid": gone.pid}))
        confdir = tmp_path / "controller"
        confdir.mkdir(mode=0o700)
        config = confdir / "vnb-lab.watchdog.json"
        config.write_text(json.dumps({"owner_pid": gone.pid, "lock": str(lock), "extra_netns": [ns]}))
        os.chown(config, 65534, 65534)
        capsys.readouterr()
        assert reaper.main(str(config)) == 1
        assert f"watchdog: ignoring {config}: file {config} is owned by uid 65534, not by this user (uid 0)" in (
            capsys.readouterr().err)
        os.chown(config, 0, 0)
        os.chmod(confdir, 0o777)
        assert reaper.main(str(config)) == 1
        assert f"directory {confdir} has mode 0777: others may change it" in capsys.readouterr().err
        assert server.poll() is None and lock.exists(), "an untrusted configuration changes nothing"
        os.chmod(confdir, 0o700)
        assert reaper.main(str(config)) == 0
        assert server.wait(timeout=10) != 0 and not lock.exists() and not config.exists()
    finally:
        server.kill()
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)


def test_a_heartbeat_file_the_guard_has_not_written_yet_is_no_failure_but_one_that_went_away_is(capsys):
    beats = reaper.Heartbeats()
    missing = f"rc=1: {reaper.MISSING}"
    beats.note(missing, 120)  # the watchdog's first beat, before lab_guard started
    assert (beats.sent, beats.failed) == (1, 0) and capsys.readouterr().err == ""
    beats.note("", 120)
    beats.note(missing, 120)  # after one reached it: the guard fired, or the file was removed
    beats.note("rc=255: ssh: connect to host 10.0.0.2 port 22: Connection refused", 120)
    err = capsys.readouterr().err.splitlines()
    assert (beats.sent, beats.failed, beats.in_a_row) == (4, 2, 2)
    assert err[0].startswith(f"watchdog: heartbeat not refreshed ({missing}); 1 in a row, 1 of 3 in all; the ")
    assert "Connection refused); 2 in a row, 2 of 4 in all" in err[1]
