"""Run control: the detached job's shell commands (run for real with /bin/sh), the envelope, a test's
status and message, the tests a run never reached, and the progress file."""

from __future__ import annotations

import json
import os
import stat
import re
import subprocess
import time
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins.plugin_utils.measure import run_control as rc

TEST = {"name": "iperf3_tcp_single", "tool": "iperf3", "ext": "json", "timeout": 95, "duration_s": 30,
        "command": "iperf3 -c 198.18.0.1 -t 30 -J", "params": {"streams": 1}}


def sh(command: str) -> str:
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, check=True, timeout=60).stdout


def started_then_dropped(command: str) -> None:
    """Run COMMAND (a run_command) in a shell that is killed once the job started - a dropped SSH connection."""
    proc = subprocess.Popen(["sh", "-c", command], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().startswith("VOLT-CLOCK ")
    time.sleep(0.3)
    proc.kill()
    proc.wait(timeout=10)


def test_a_job_is_started_waited_for_and_collected_with_its_output_and_status_in_one_shell(tmp_path):
    # quoting survives: an argument with spaces, quotes and a $ reaches the command unchanged
    argv = ["sh", "-c", 'printf "%s|" "$@"; echo "to stderr" >&2; exit 3', "x", "a b", "it's", "$HOME"]
    job = rc.parse_envelope(sh(rc.run_command("job1", argv, timeout=30, job_dir=str(tmp_path))), "job1")
    assert job["finished"] is True
    assert job["rc"] == 3
    assert job["stdout"] == "a b|it's|$HOME|"
    assert job["stderr"] == "to stderr\n"
    assert 0 <= job["seconds"] < 5
    # the job's files stay: a collect after the fact reads the same envelope
    assert rc.parse_envelope(sh(rc.collect_command("job1", 1, job_dir=str(tmp_path))), "job1") == job


def test_a_job_outlives_the_connection_that_started_it_and_is_collected_by_the_next(tmp_path):
    """The shell that started the job is killed while it waits (a dropped SSH connection): the job, a background
    subshell that left the session's streams, runs on to its end; a collect from a new shell finds it finished."""
    started = time.monotonic()
    started_then_dropped(rc.run_command("outlives", ["sh", "-c", "sleep 1.5; echo survived"], timeout=30,
                                        job_dir=str(tmp_path)))
    assert time.monotonic() - started < 1.4  # the shell is gone before the job ended
    assert rc.parse_envelope(sh(rc.collect_command("outlives", 0.1, job_dir=str(tmp_path))), "outlives") == {
        "finished": False, "missing": False}
    job = rc.parse_envelope(sh(rc.collect_command("outlives", 10, job_dir=str(tmp_path))), "outlives")
    assert job["finished"] and job["rc"] == 0 and job["stdout"] == "survived\n"
    assert 1.4 <= job["seconds"] < 3


def test_one_round_trip_maps_the_jobs_clock_onto_the_controllers_as_precisely_as_a_short_one(tmp_path):
    """run_command prints the client's uptime before the start and after the envelope; with the controller's time
    around the round trip, the job's own uptime stamps become epoch seconds, the bracket as narrow as a short round
    trip (here client and controller are this machine: checked against it)."""
    sent = time.time()
    out = sh(rc.run_command("one", ["sh", "-c", "sleep 1; echo done"], timeout=30, job_dir=str(tmp_path)))
    answered = time.time()
    job = rc.parse_envelope(out, "one")
    assert job["finished"] and job["rc"] == 0 and job["stdout"] == "done\n"
    assert out.startswith("VOLT-CLOCK ") and re.search(r"^VOLT-CLOCK-END [0-9.]+$", out, re.M)
    sent2, answered2, clock_up = rc.run_clock(sent, answered, out)
    assert sent2 == sent and clock_up == rc.parse_clock(out)
    # the bracket lost the second the job took (within the shell's own overhead)
    assert answered - answered2 == pytest.approx(1.0, abs=0.3) and answered2 - sent < 0.4
    clock = rc.tool_clock(sent2, answered2, clock_up, job)
    start, end = clock["window"]
    assert sent - 0.05 <= start <= answered2 + 0.2 and 0.95 <= end - start <= 1.5 and end <= answered + 0.05
    assert clock["error_s"] == pytest.approx((answered2 - sent) / 2, abs=1e-3)
    assert rc.tool_clock(sent, answered, None, job) is None
    assert rc.parse_clock("no clock here") is None
    # without the second reading the bracket spans the test
    assert rc.run_clock(sent, answered, "VOLT-CLOCK 12.5\n") == (sent, answered, 12.5)


def test_a_loaded_test_starts_its_load_first_and_waits_for_both_in_one_round_trip(tmp_path):
    """The load starts, the probe LEAD_S later on the client's own clock; both envelopes come back, and the load's
    run covers the probe's. A load that ends before its probe is a problem of the test, not a result."""
    out = sh(rc.run_command("probe", ["sh", "-c", "sleep 0.5; echo rtt"], timeout=30, job_dir=str(tmp_path),
                            load=("probe.load", ["sh", "-c", "sleep 1.5; echo flows"], 30, 0.5)))
    found = rc.parse_envelopes(out)
    probe, load = found["probe"], found["probe.load"]
    assert probe["stdout"] == "rtt\n" and load["stdout"] == "flows\n"
    assert probe["started_up"] - load["started_up"] == pytest.approx(0.5, abs=0.25)
    test = {"load_command": "flows"}
    assert rc.load_problem(test, probe, load) == ""
    short = dict(load, ended_up=probe["ended_up"] - 0.2)
    assert "not measured under load throughout" in rc.load_problem(test, probe, short)
    assert "exit 1" in rc.load_problem(test, probe, dict(load, rc=1, stderr="iperf3: error - unable to connect\n"))
    assert rc.load_problem(test, probe, None) == "the load (flows) was not collected"


def test_collect_reports_a_running_job_and_timeout_kills_it(tmp_path):
    started_then_dropped(rc.run_command("slow", ["sleep", "30"], timeout=2, job_dir=str(tmp_path)))
    assert rc.parse_envelope(sh(rc.collect_command("slow", 0.3, job_dir=str(tmp_path))), "slow") == {
        "finished": False, "missing": False}
    job = rc.parse_envelope(sh(rc.collect_command("slow", 15, job_dir=str(tmp_path))), "slow")
    assert job["rc"] == rc.TIMEOUT_RC
    assert 1.5 < job["seconds"] < 10
    assert rc.classify(TEST, job=job)["message"] == "killed after its deadline of 95 s"


def test_collect_of_a_job_never_started(tmp_path):
    assert rc.parse_envelope(sh(rc.collect_command("nothing", 1, job_dir=str(tmp_path))))["missing"] is True


@pytest.mark.parametrize("text", ["", "garbage\n", "VOLT-JOB x y z\n", "VOLT-JOB-RUNNING other\n"])
def test_unreadable_envelopes_are_errors(text):
    with pytest.raises(rc.RunControlError):
        rc.parse_envelope(text, "job")


def test_bad_job_names_and_empty_commands_are_refused():
    with pytest.raises(rc.RunControlError, match="job name"):
        rc.run_command("../etc", ["true"], 5)
    with pytest.raises(rc.RunControlError, match="has no command"):
        rc.run_command("ok", [], 5)
    with pytest.raises(rc.RunControlError, match="job name"):
        rc.collect_command("a/b", 1)


def job(code=0, out='{"end": {}}', err=""):
    return {"finished": True, "rc": code, "stdout": out, "stderr": err, "seconds": 31.2}


@pytest.mark.parametrize("kwargs, status, message", [
    ({"job": job()}, "ok", ""),
    ({"job": job(1, '{"error": "unable to connect to server: Connection refused"}')}, "failed",
     "exit 1: unable to connect to server: Connection refused"),
    ({"job": job(2, "", "line one\nsockperf: ERROR: connection closed\n")}, "failed",
     "exit 2: sockperf: ERROR: connection closed"),
    ({"job": job(1, "partial\nlast stdout line", "")}, "failed", "exit 1: last stdout line"),
    ({"job": {"finished": False}}, "failed", "no result: still running after its deadline"),
    ({"job": {"finished": False, "error": "its job files vanished"}}, "failed", "no result: its job files vanished"),
    ({"start_error": "mkdir: cannot create directory"}, "failed", "could not start: mkdir: cannot create directory"),
    ({"client_lost": "ssh: connect to host 127.0.0.1 port 10023: Connection refused"}, "failed",
     "client VM unreachable: ssh: connect to host 127.0.0.1 port 10023: Connection refused"),
    ({"not_run": "server VM unreachable: timed out"}, "failed", "not run: server VM unreachable: timed out"),
])
def test_classify_decides_status_and_message(kwargs, status, message):
    entry = rc.classify(TEST, **kwargs)
    assert (entry["status"], entry["message"]) == (status, message)
    assert entry["params"] == {"streams": 1, "duration_s": 30}
    stdout = (kwargs.get("job") or {}).get("stdout")
    assert entry["raw"] == ("iperf3_tcp_single.json" if stdout else None)


def test_unreached_tests_get_one_message_and_the_callers_status():
    planned = [{"name": "ping", "tool": "ping"}, {"name": "sockperf_tcp", "tool": "sockperf"},
               {"name": "netperf_tcp_rr", "tool": "netperf"}]
    done = [{"name": "ping", "tool": "ping", "status": "ok"}]
    assert rc.unreached(planned, done, "client VM unreachable: gone") == [
        {"name": "sockperf_tcp", "tool": "sockperf", "repetition": 1, "status": "failed",
         "message": "not run: client VM unreachable: gone"},
        {"name": "netperf_tcp_rr", "tool": "netperf", "repetition": 1, "status": "failed",
         "message": "not run: client VM unreachable: gone"}]
    # repetitions are tests of their own: the second ping was not reached
    assert rc.unreached([{"name": "ping", "tool": "ping", "repetition": k} for k in (1, 2)],
                        [dict(done[0], repetition=1)], "x") == [
        {"name": "ping", "tool": "ping", "repetition": 2, "status": "failed", "message": "not run: x"}]
    assert {t["status"] for t in rc.unreached(planned, done, "interrupted", status="skipped")} == {"skipped"}


def test_outputs_and_progress_are_kept_on_the_controller(tmp_path):
    entry = rc.classify(TEST, job=job(1, '{"error": "x"}', "boom\n"))
    rc.write_outputs(tmp_path, entry, job(1, '{"error": "x"}', "boom\n"))
    assert (tmp_path / "iperf3_tcp_single.json").read_text() == '{"error": "x"}'
    assert (tmp_path / "iperf3_tcp_single.stderr").read_text() == "boom\n"
    header = {"backend": "virtio", "planned": ["iperf3_tcp_single", "ping"], "started": "t0"}
    rc.start_progress(tmp_path, header)
    rc.append_progress(tmp_path, entry)
    rc.append_progress(tmp_path, dict(entry, status="ok"))
    progress = json.loads((tmp_path / rc.PROGRESS_FILE).read_text())
    assert [t["status"] for t in progress["tests"]] == ["ok"]  # the same test again replaces its entry
    assert progress["backend"] == "virtio" and progress["started"] == "t0"
    assert rc.read_progress(tmp_path / "missing") is None


def test_the_run_state_is_noted_in_the_progress_file(tmp_path):
    """What the role used to carry in facts: phase marks, environment, wall times, a lost guest, the error."""
    rc.start_progress(tmp_path, {"backend": "macvtap", "environment": {"host_kernel": "6.1"}})
    rc.note_progress(tmp_path, mark="lab", at=100.0)
    rc.note_progress(tmp_path, mark="boot", at=112.5,
                     environment_by_backend={"macvtap": {"host_nic": "veth (vnbveth0)"}, "virtio": {"host_nic": "br"}})
    rc.note_progress(tmp_path, environment={"vm_vcpus": 1}, wall_times={"boot_to_ssh_s": {"server": 20.1}})
    rc.note_progress(tmp_path, lost="server VM unreachable: timed out")
    rc.note_progress(tmp_path, lost="client gone", mark="matrix", at=140.0)
    progress = rc.note_progress(tmp_path, mark="teardown", at=200.0, error="boom")
    assert progress["environment"] == {"host_kernel": "6.1", "host_nic": "veth (vnbveth0)", "vm_vcpus": 1}
    assert progress["lost"] == "server VM unreachable: timed out"  # the first reason stays
    assert progress["error"] == "boom" and progress["wall_times"] == {"boot_to_ssh_s": {"server": 20.1}}
    assert rc.phase_times(progress["marks"], end=212.0) == {
        "lab_s": 12.5, "boot_s": 27.5, "matrix_s": 60.0, "teardown_s": 12.0}
    # an interrupted run: a phase without the next one's mark has no time
    assert rc.phase_times({"lab": 1.0, "boot": 3.0}, end=50.0) == {"lab_s": 2.0}
    with pytest.raises(rc.RunControlError, match="mark must be one of lab, boot, matrix, teardown"):
        rc.note_progress(tmp_path, mark="report")


def test_a_log_the_tool_writes_is_collected_gzipped_and_kept(tmp_path):
    """sockperf --full-log writes beside the job's files; the collector brings it back gzipped."""
    import gzip

    jobs = tmp_path / "jobs"
    log = jobs / "virtio.sockperf_tcp.1.log"
    argv = ["sh", "-c", 'printf "packet, txTime(sec), rxTime(sec), rtt(usec)\\n1, 1.0, 1.00005, 50.0\\n" > "$1"; '
            'echo summary', "x", str(log)]
    job = rc.parse_envelope(sh(rc.run_command("virtio.sockperf_tcp.1", argv, timeout=30, job_dir=str(jobs))))
    assert job["stdout"] == "summary\n"
    assert gzip.decompress(job["log_gz"]) == log.read_bytes()
    test = dict(TEST, name="sockperf_tcp", tool="sockperf", ext="txt", raw="sockperf_tcp.1.txt",
                log="sockperf_tcp.1.csv.gz", repetition=1)
    entry = rc.classify(test, job=job)
    assert (entry["raw"], entry["log"], entry["repetition"]) == ("sockperf_tcp.1.txt", "sockperf_tcp.1.csv.gz", 1)
    out = tmp_path / "run"
    out.mkdir()
    rc.write_outputs(out, entry, job)
    assert gzip.decompress((out / "sockperf_tcp.1.csv.gz").read_bytes()) == log.read_bytes()
    # a job without a log: no log entry, nothing written
    job = rc.parse_envelope(sh(rc.run_command("plain", ["echo", "hi"], timeout=30, job_dir=str(jobs))))
    assert job["log_gz"] == b"" and rc.classify(test, job=job)["log"] is None


def test_progress_line_has_position_result_elapsed_and_time_left():
    info = {"position": 5, "total": 26, "backend": "macvtap", "name": "ping", "repetition": 2, "repeat": 3,
            "status": "ok", "message": "", "headline": "P50 996.0 µs, P95 3,352.0 µs, P99 4,821.2 µs",
            "wall_s": 3.42, "planned_s": 260, "remaining_s": 200}
    # 60 s of the plan done in 90 s: the 200 s left take about 300 s
    assert rc.progress_line(info, 90.0) == (
        "volt.netbench [5/26] macvtap ping #2: P50 996.0 µs, P95 3,352.0 µs, P99 4,821.2 µs | 3.4 s | "
        "elapsed 1:30 | about 5:00 left")
    failed = dict(info, status="failed", message="exit 1: unable to connect to server", repeat=1,
                  position=26, remaining_s=0)
    assert rc.progress_line(failed, 4000.0) == (
        "volt.netbench [26/26] macvtap ping: FAILED (exit 1: unable to connect to server) | 3.4 s | "
        "elapsed 1:06:40 | matrix done")
    assert rc.progress_line(dict(info, headline=""), None).endswith("ping #2: ok | 3.4 s")
    # a sweep's point beside the backend
    assert rc.progress_line(dict(info, point="mtu=9000,queues=2"), None).startswith(
        "volt.netbench [5/26] macvtap at mtu=9000,queues=2 ping #2: P50")


def test_headline_is_the_report_rows_text(fixture_text):
    from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import PARSERS, headline

    assert headline("iperf3_tcp_single", PARSERS["iperf3"](fixture_text("iperf3/tcp_single.json"))) == "13.91 Gbps"
    assert headline("pps_64", PARSERS["iperf3"](fixture_text("iperf3/udp_64b.json"))) == "150,479 pps"
    assert headline("ping", PARSERS["ping"](fixture_text("ping/iputils_20.txt"))) == (
        "P50 52.5 µs, P95 63.1 µs, P99 65.4 µs")
    assert headline("netperf_tcp_rr", PARSERS["netperf"](fixture_text("netperf/tcp_rr.txt"))) == "27,124 trans/sec"
    # a path that lost every echo request: the progress line says so (it said "ok" - the nested pair's virtio)
    assert headline("ping", PARSERS["ping"](fixture_text("ping/iputils_unreachable.txt"))) == "no reply, 100 % loss"
    assert headline("ping", PARSERS["ping"](fixture_text("ping/busybox_total_loss.txt"))) == "no reply, 100 % loss"


def test_one_probe_checks_a_guest_and_starts_its_servers_in_order(tmp_path):
    """The guest check's shell command run for real: missing tools, the kernel, iperf3's version lines, then the
    servers in order until one fails (the next is not started)."""
    from ansible_collections.volt.netbench.plugins.action.guest_check import check_problem

    first, after = tmp_path / "first", tmp_path / "after"
    servers = [["touch", str(first)], ["sh", "-c", "exit 3"], ["touch", str(after)]]
    probe = rc.parse_probe(sh(rc.probe_command(["sh", "no-such-tool-here"], servers)))
    assert probe["missing"] == ["no-such-tool-here"]
    assert probe["kernel"] == subprocess.run(["uname", "-r"], capture_output=True, text=True, check=True).stdout.strip()
    assert probe["failed_server"] == (1, 3) and first.exists() and not after.exists()
    good = dict(probe, missing=[], iperf3=FIXTURE_VERSION)
    assert check_problem("guest server", good, servers) == "sh -c 'exit 3' failed on guest server (rc=3)"
    old = check_problem("guest server", dict(good, iperf3=FIXTURE_VERSION.replace("iperf 3.12", "iperf 3.9")), servers)
    assert "3.9" in old and "3.11" in old
    assert check_problem("guest client", probe, servers).startswith(
        "guest client lacks no-such-tool-here: the guest image")
    # a guest with every tool, iperf3 3.12 (tests/fixtures/iperf3/version.txt) and servers that start
    ok = rc.parse_probe(sh(rc.probe_command(["sh"], [["true"]])))
    assert check_problem("guest server", dict(ok, iperf3=FIXTURE_VERSION), [["true"]]) == ""
    with pytest.raises(rc.RunControlError, match="no answer from the guest's check"):
        rc.parse_probe("sh: 1: Syntax error\n")


def test_the_guests_job_directory_is_made_with_mktemp_and_stands_for_the_plans():
    """The check makes a job directory no other user of the guest could have made first (mktemp -d, 0700); the
    plan's JOB_DIR in a test's argv (sockperf's --full-log) becomes it."""
    probe = rc.parse_probe(sh(rc.probe_command(["sh"], [], job_dir=True)))
    made = Path(probe["job_dir"])
    try:
        assert made.parent == Path("/var/tmp") and made.name.startswith("volt-netbench-jobs.")
        assert made.is_dir() and not made.is_symlink() and stat.S_IMODE(made.stat().st_mode) == 0o700
        assert made.stat().st_uid == os.geteuid()
        assert rc.parse_probe(sh(rc.probe_command(["sh"], [])))["job_dir"] == ""
        other = rc.parse_probe(sh(rc.probe_command(["sh"], [], job_dir=True)))["job_dir"]
        assert other != str(made)
        os.rmdir(other)
    finally:
        os.rmdir(made)
    argv = ["sockperf", "ping-pong", "--full-log", f"{rc.JOB_DIR}/virtio.sockperf_tcp.1.log", "-i", "198.18.0.1"]
    assert rc.in_job_dir(argv, str(made)) == [*argv[:3], f"{made}/virtio.sockperf_tcp.1.log", *argv[4:]]
    assert rc.in_job_dir(argv, rc.JOB_DIR) == argv
    assert rc.in_job_dir(["x", f"{rc.JOB_DIR}-other/f"], str(made)) == ["x", f"{rc.JOB_DIR}-other/f"]


FIXTURE_VERSION = (Path(__file__).resolve().parents[4] / "fixtures/iperf3/version.txt").read_text()


def test_a_ping_without_any_reply_is_a_measurement_and_other_ping_errors_fail(fixture_text):
    # iputils ping exits 1 when no reply came back at all (tests/fixtures/ping/iputils_total_loss_D.*): the run
    # keeps it (the parser makes it loss 100 %, "no reply"); exit 2 is ping's own error
    ping = {"name": "ping", "tool": "ping", "argv": ["ping"], "timeout": 9}
    lost = fixture_text("ping/iputils_total_loss_D.txt")
    assert rc.classify(ping, job=job(1, lost))["status"] == "ok"
    failed = rc.classify(ping, job=job(2, "", "ping: connect: Network is unreachable\n"))
    assert (failed["status"], failed["message"]) == ("failed", "exit 2: ping: connect: Network is unreachable")
    # another tool's exit 1 is still a failure, and a ping that printed nothing is one too
    assert rc.classify(TEST, job=job(1, '{"error": "x"}'))["status"] == "failed"
    assert rc.classify(ping, job=job(1, "", "ping: unknown host\n"))["status"] == "failed"


def test_a_load_point_paces_its_load_at_its_fraction_of_the_searched_rate(tmp_path):
    """run_control.paced_load: the rate from the capacity search's file of the point that searched it, never a
    guess - without a rate found, the test does not start and says why."""
    test = {"name": "ping", "load": ["iperf3", "-c", "198.18.0.1", "-u", "-l", "1400", "-b", "{rate}", "-t", "5"],
            "load_rate": {"fraction": 0.5, "payload": 1400, "search": "load_capacity.1.search.json",
                          "run": "virtio+load-0.1"}}
    confirmed = [{"kind": "confirm", "target_pps": 10000.0, "received_pps": 10000.0, "lost_percent": 0.0}]
    (tmp_path / "load_capacity.1.search.json").write_text(json.dumps({"found_pps": 10000.0, "probes": confirmed}))
    paced, why = rc.paced_load(test, str(tmp_path))
    # 5,000 datagrams a second of 1,400 bytes: 56 Mbit/s
    assert why == "" and paced["load"][7] == "56000000" and paced["load_bps_offered"] == 56_000_000
    assert paced["load_command"].endswith("-b 56000000 -t 5") and test["load"][7] == "{rate}"
    (tmp_path / "load_capacity.1.search.json").write_text(json.dumps({"found_pps": None, "probes": [
        dict(confirmed[0], lost_percent=3.0)]}))
    assert rc.paced_load(test, str(tmp_path))[1] == (
        "the load's loss-bounded rate is unknown: its capacity search (virtio+load-0.1) found none")
    (tmp_path / "load_capacity.1.search.json").unlink()
    (tmp_path / "elsewhere.json").write_text(json.dumps({"found_pps": 1e9, "probes": confirmed}))
    (tmp_path / "load_capacity.1.search.json").symlink_to(tmp_path / "elsewhere.json")
    assert "unreadable" in rc.paced_load(test, str(tmp_path))[1], "a planted link is not followed"
    assert rc.paced_load(test, "")[1].startswith("the load's loss-bounded rate is unknown")
    assert rc.paced_load({"name": "ping"}, "") == ({"name": "ping"}, "")


def test_a_flood_that_carried_everything_is_the_loads_capacity():
    """Measured on macvtap here: the flood lost nothing, its confirming flood neither - the search has no offered rate
    (found_pps None: the path carried all the sender could send), and the capacity is what that flood delivered."""
    document = {"found_pps": None, "converged": True, "loss_max_percent": 0.1, "probes": [
        {"kind": "flood", "target_pps": None, "received_pps": 40866.0, "lost_percent": 0.0},
        {"kind": "confirm", "target_pps": None, "received_pps": 37652.0, "lost_percent": 0.0}]}
    assert rc.load_rate_bps(document, 0.5, 1400) == round(37652 * 0.5 * 1400 * 8)
    lossy = dict(document, probes=[*document["probes"][:1], dict(document["probes"][1], lost_percent=2.0)])
    assert rc.load_rate_bps(lossy, 0.5, 1400) is None
    assert rc.load_rate_bps({"found_pps": None, "converged": False, "probes": []}, 0.5, 1400) is None
    # measured on macvtap in another run: a probe asked for 40,736 datagrams/s, the sender managed 27,128 - nothing
    # lost, so the search went on to confirm 40,736, which delivered 27,817: the capacity is what was carried
    asked = {"found_pps": 40736.0, "converged": True, "loss_max_percent": 0.1, "probes": [
        {"kind": "flood", "target_pps": None, "received_pps": 42042.4, "lost_percent": 1.95},
        {"kind": "probe", "target_pps": 40736.0, "received_pps": 27128.0, "lost_percent": 0.0},
        {"kind": "confirm", "target_pps": 40736.0, "received_pps": 27816.67, "lost_percent": 0.0}]}
    assert rc.load_rate_bps(asked, 0.1, 1400) == round(27816.67 * 0.1 * 1400 * 8)
