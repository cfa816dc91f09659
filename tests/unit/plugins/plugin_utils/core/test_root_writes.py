"""Root writes only where it means to (issue 32): each test plants exactly what a user who can write to a results
tree, a HOME or a lock directory would, runs the collection's own code as root, and shows that nothing outside the
intended place changed and that the refusal says what to do. Results trees are recorded from the tools' real
outputs (test_report_statistics.record)."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

from ansible_collections.volt.netbench.plugins.module_utils import lab, procs, safefs
from ansible_collections.volt.netbench.plugins.plugin_utils.core import files
from ansible_collections.volt.netbench.plugins.plugin_utils.history import history, regression
from ansible_collections.volt.netbench.plugins.plugin_utils import report
from ansible_collections.volt.netbench.plugins.plugin_utils.measure import results
from ansible_collections.volt.netbench.plugins.plugin_utils.run.reaper import Heartbeats, send_heartbeat

from test_regression import BASE, NEW, OLD, noisy, tree  # pylint: disable=import-error

NOBODY = 65534
pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="plants files as another user: needs root")


@pytest.fixture(name="victim")
def fixture_victim(tmp_path):
    """A file elsewhere on the machine that a planted link points at; it must never change."""
    path = tmp_path / "elsewhere" / "precious.conf"
    path.parent.mkdir()
    path.write_text("keep me\n")
    return path


def unchanged(path) -> bool:
    return path.read_text() == "keep me\n" and path.stat().st_uid == 0


def chown_tree(root, uid: int) -> None:
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [dirpath, *[os.path.join(dirpath, n) for n in dirnames + filenames]]:
            os.lchown(name, uid, uid)


def test_a_run_id_inside_run_json_is_checked_where_it_is_read(tmp_path):
    """The issue's reproduction: a baseline whose run.json names a run id that climbs out of the tree."""
    results_dir = tmp_path / "results"
    tree(results_dir, BASE, noisy(BASE, 3))
    target = tmp_path / "outside"
    target.mkdir()
    for backend in ("virtio", "macvtap"):
        run_json = results_dir / backend / OLD / "run.json"
        doc = json.loads(run_json.read_text())
        doc["run_id"] = f"x/../../../../../../{target.relative_to('/')}/elsewhere"
        run_json.write_text(json.dumps(doc))
    with pytest.raises(results.ResultsError, match=rf"{OLD}/run.json: run_id 'x/\.\./.*elsewhere' is not a run id"):
        regression.compare_runs(results_dir, "previous")
    assert list(target.iterdir()) == []
    # a run.json whose id is well formed but not its directory's: moved or edited, refused with what to do
    doc["run_id"] = NEW
    run_json.write_text(json.dumps(doc))
    with pytest.raises(results.ResultsError, match=rf"run_id '{NEW}' is not its directory's name '{OLD}': the file "
                                                   r"was moved or edited; restore it, or remove the directory"):
        results.load_run(run_json.parent)
    # file names a test points at are plain names in the run directory
    doc.update(run_id=OLD)
    doc["tests"][0]["raw"] = "../../../../etc/shadow"
    run_json.write_text(json.dumps(doc))
    with pytest.raises(results.ResultsError, match=r"names raw '\.\./\.\./\.\./\.\./etc/shadow', not a file name"):
        results.load_run(run_json.parent)


def test_the_comparisons_directory_is_named_from_run_ids_only(tmp_path):
    model = {"current": {"run_id": NEW}, "baseline": {"run_id": "../../x"}}
    with pytest.raises(regression.CompareError, match=r"'\.\./\.\./x' is not a run id"):
        regression.write_comparison(model, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_planted_temporary_names_and_links_are_never_written_through(tmp_path, victim):
    """A root-owned tree in which the predictable names of the old writer are links to a file elsewhere: every
    report file is written through a temporary file of its own, and a link at the target's name is replaced, not
    followed."""
    results_dir = tmp_path / "results"
    tree(results_dir, BASE, noisy(BASE, 3))
    for name in (".REPORT.md.tmp", ".report.json.tmp", ".summary.csv.tmp"):
        os.symlink(victim, results_dir / name)
    os.symlink(victim, results_dir / "REPORT.html")
    report.write_report(report.build_report(results_dir), results_dir)
    assert unchanged(victim)
    assert not (results_dir / "REPORT.html").is_symlink() and "<html" in (results_dir / "REPORT.html").read_text()
    assert (results_dir / ".REPORT.md.tmp").is_symlink()  # left as it was: never opened
    model = regression.compare_runs(results_dir, OLD)
    out = results_dir / "comparisons" / f"{NEW}-vs-{OLD}"
    out.mkdir(parents=True)
    os.symlink(victim, out / "compare.json")
    written = regression.write_comparison(model, results_dir)
    assert unchanged(victim) and json.loads(open(written["json"], encoding="utf-8").read())["verdict"]


def test_a_results_tree_another_user_owns_is_refused_before_anything_is_written(tmp_path, victim):
    """The issue's reproduction: a tree owned by nobody, with links planted as the old writer's temporary names."""
    results_dir = tmp_path / "results"
    tree(results_dir, BASE, noisy(BASE, 3))
    os.symlink(victim, results_dir / ".REPORT.md.tmp")
    os.symlink(victim, results_dir / ".report.json.tmp")
    chown_tree(results_dir, NOBODY)
    before = sorted(p.name for p in results_dir.iterdir())
    model = report.build_report(results_dir)  # reading is fine
    with pytest.raises(safefs.UnsafePath, match=rf"{results_dir} is owned by uid {NOBODY} \(nobody\), who could swap "
                                                r"what is in it for a link while this run \(uid 0\) writes there: "
                                                r"chown it to root or to the user running the benchmark"):
        report.write_report(model, results_dir)
    with pytest.raises(safefs.UnsafePath, match=r"is owned by uid 65534"):
        regression.write_comparison(regression.compare_runs(results_dir, OLD), results_dir)
    assert unchanged(victim) and sorted(p.name for p in results_dir.iterdir()) == before
    # the message a playbook shows (files.write_problem) names the directory and the fix
    with pytest.raises(OSError) as caught:
        files.write_atomic(results_dir / "REPORT.md", "x")
    assert "chown it to root" in files.write_problem(caught.value, results_dir)


def test_a_directory_swapped_for_a_link_inside_the_tree_is_not_followed(tmp_path, victim):
    """A sub-directory replaced by a link another user made (in a sticky, world-writable directory, like /tmp)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)
    results_dir = shared / "results"
    os.symlink(victim.parent, results_dir)
    os.lchown(results_dir, NOBODY, NOBODY)
    with pytest.raises(safefs.UnsafePath, match=rf"{results_dir} is a symbolic link owned by uid 65534 \(nobody\): "
                                                r"it is not followed"):
        files.write_atomic(results_dir / "precious.conf", "overwritten\n")
    assert unchanged(victim)
    # a group- or world-writable directory without the sticky bit: anyone may replace what is in it
    os.unlink(results_dir)
    results_dir.mkdir()
    os.chmod(results_dir, 0o777)
    with pytest.raises(safefs.UnsafePath, match=rf"{results_dir} has mode 0777: other users may replace what is in "
                                                rf"it; chmod go-w {results_dir}"):
        files.write_atomic(results_dir / "REPORT.md", "x")
    # a link root made (an administrator's /var/lib/x -> /data/x) is followed
    os.chmod(results_dir, 0o755)
    os.symlink(results_dir, tmp_path / "by-root")
    files.write_atomic(tmp_path / "by-root" / "REPORT.md", "ok")
    assert (results_dir / "REPORT.md").read_text() == "ok"


def test_the_lab_key_is_never_kept_in_a_directory_another_user_controls(tmp_path, victim, monkeypatch):
    """A HOME that `sudo -E` kept, whose owner planted the key directory as a link to a place of their choice."""
    home = tmp_path / "home"
    (home / ".cache" / "volt-netbench").mkdir(parents=True)
    os.symlink(victim.parent, home / ".cache" / "volt-netbench" / "keys")
    chown_tree(home, NOBODY)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SUDO_UID", str(NOBODY))  # the user who ran sudo: trusted for results, never for secrets
    key = home / ".cache" / "volt-netbench" / "keys" / "abc" / "id_ed25519"
    with pytest.raises(safefs.UnsafePath, match=rf"{home} is owned by uid 65534 \(nobody\)"):
        safefs.keep_private(key, "PRIVATE KEY\n")
    assert unchanged(victim) and not (victim.parent / "abc").exists()
    # root's default is a root-only directory, whatever HOME says
    assert lab.default_key_root() == "/var/lib/volt-netbench/keys"
    own = tmp_path / "keys"
    assert safefs.keep_private(own / "abc" / "id_ed25519", "PRIVATE KEY\n") is True
    assert oct((own / "abc" / "id_ed25519").stat().st_mode & 0o777) == "0o600"
    assert oct((own / "abc").stat().st_mode & 0o777) == "0o700"
    assert safefs.keep_private(own / "abc" / "id_ed25519", "PRIVATE KEY\n") is False  # idempotent
    # a key another user owns (or could read) is refused, not reused
    os.chown(own / "abc" / "id_ed25519", NOBODY, NOBODY)
    with pytest.raises(safefs.UnsafePath, match=r"id_ed25519 is owned by uid 65534 \(nobody\), not by this user "
                                                r"\(uid 0\): it is not reused for a private file; remove it and run"):
        safefs.keep_private(own / "abc" / "id_ed25519", "OTHER\n")
    os.chown(own / "abc", NOBODY, NOBODY)
    with pytest.raises(safefs.UnsafePath, match=r"is owned by uid 65534 \(nobody\)"):
        safefs.keep_private(own / "abc" / "other", "x")


def test_a_recycled_pid_is_not_the_controller(tmp_path):
    """A sleeper whose command line names ansible but whose start time differs from the one recorded."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "ansible-playbook"])
    try:
        for _attempt in range(100):
            if "ansible" in procs.cmdline(sleeper.pid):
                break
            time.sleep(0.02)
        start = procs.start_time(sleeper.pid)
        assert lab.controller_alive(sleeper.pid, start) is True
        assert lab.controller_alive(sleeper.pid, start - 1) is False  # the PID now names another process
        holder = {"owner_pid": sleeper.pid, "owner_start": start - 1, "owner_host": os.uname().nodename,
                  "taken": time.time()}
        assert lab.lock_stale(holder, max_age=3600) is True
        holder["owner_start"] = start
        assert lab.lock_stale(holder, max_age=3600) is False
    finally:
        sleeper.kill()
        sleeper.wait()


def _take(path: str, who: int, barrier, out) -> None:
    barrier.wait()
    outcome, _holder = lab.take_lock(path, {"owner_pid": who, "owner_host": "h", "taken": time.time()}, 3600,
                                     lambda h: h.get("owner_pid") == who)
    out.put((who, outcome))


def test_two_runs_taking_over_one_stale_lock_cannot_both_win(tmp_path):
    path = str(tmp_path / "benchmark.lock")
    for attempt in range(5):
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"corrupt": True}, handle)  # stale: anyone may take it over
        ctx = multiprocessing.get_context("fork")
        barrier, out = ctx.Barrier(2), ctx.Queue()
        racers = [ctx.Process(target=_take, args=(path, 1000 + attempt * 10 + i, barrier, out)) for i in range(2)]
        for racer in racers:
            racer.start()
        for racer in racers:
            racer.join(10)
        outcomes = sorted(out.get(timeout=5)[1] for _racer in racers)
        assert outcomes == ["busy", "recovered"], outcomes
        winner = lab.read_lock(path)["owner_pid"]
        assert winner in (1000 + attempt * 10, 1001 + attempt * 10)
        os.unlink(path)


def test_a_failed_heartbeat_is_said_and_counted(tmp_path, capsys):
    problem = send_heartbeat({"ssh": ["sh", "-c"], "path": str(tmp_path / "missing.heartbeat")})
    assert problem.startswith("rc=1")
    beats = Heartbeats()
    beats.note("", 30)
    beats.note(problem, 30)  # gone after a beat reached it (before any, test_reaper: the guard not started yet)
    beats.note("", 30)
    beats.note("rc=255: Connection refused", 30)
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2
    assert "1 in a row, 1 of 2 in all" in err[0] and "1 in a row, 2 of 4 in all" in err[1]
    assert "the hypervisor's guard tears the lab down after 30 s more without one" in err[1]
    (tmp_path / "hb").write_text("{}")
    assert send_heartbeat({"ssh": ["sh", "-c"], "path": str(tmp_path / "hb")}) == ""


def test_the_guard_measures_silence_on_its_own_clock(tmp_path):
    """A heartbeat file whose modification time lies an hour in the past (a wall clock stepped forward) does not fire
    the guard at once: it fires only after stale_after seconds in which it saw no refresh."""
    heartbeat = tmp_path / "lab.heartbeat"
    heartbeat.write_text(json.dumps({"token": "t", "stale_after": 1.5, "teardown": {},
                                     "recovered": str(tmp_path / "lab.recovered.json")}))
    old = time.time() - 3600
    os.utime(heartbeat, (old, old))
    began = time.monotonic()
    record = lab.guard(str(heartbeat), "t", poll=0.1)
    assert 1.5 <= time.monotonic() - began < 5
    assert record["silent_s"] == 2 and json.loads((tmp_path / "lab.recovered.json").read_text())["removed"] == []


def test_csv_cells_cannot_start_a_formula(tmp_path):
    assert files.csv_safe("=HYPERLINK(\"http://x\")") == "'=HYPERLINK(\"http://x\")"
    assert files.csv_safe("@SUM(A1)") == "'@SUM(A1)" and files.csv_safe("+1+cmd") == "'+1+cmd"
    assert files.csv_safe("-3.5") == "-3.5" and files.csv_safe(-3.5) == -3.5 and files.csv_safe("TCP") == "TCP"
    text = history.history_csv({"series": [{"backend": "virtio", "section": "s", "label": "=cmd|' /C calc'!A0",
                                            "unit": "u", "higher_is_better": True, "change_points": [],
                                            "points": [{"run_id": OLD, "date": "d", "n": 1, "mean": -1.0,
                                                        "low": None, "high": None}]}]})
    assert ",'=cmd|' /C calc'!A0," in text and ",-1.0," in text


def test_the_history_index_is_bound_to_its_tree_and_its_owner(tmp_path):
    results_dir = tmp_path / "results"
    tree(results_dir, BASE, noisy(BASE, 3))
    conn, counts = history.sync_index(results_dir)
    conn.close()
    assert counts["added"] == 4
    conn, counts = history.sync_index(results_dir)
    conn.close()
    assert (counts["kept"], counts["rebuilt"]) == (4, 0)
    # an index copied from another tree (matching signatures cannot make it trusted there)
    other = tmp_path / "other"
    shutil.copytree(results_dir, other, symlinks=True)
    conn, counts = history.sync_index(other)
    conn.close()
    assert counts["rebuilt"] == 1
    # an index file another user made (or replaced) is rebuilt, not trusted
    os.chown(results_dir / history.INDEX_NAME, NOBODY, NOBODY)
    conn, counts = history.sync_index(results_dir)
    conn.close()
    assert counts["rebuilt"] == 1 and (results_dir / history.INDEX_NAME).stat().st_uid == 0
    # a link in the index's place is removed, never opened
    victim = tmp_path / "victim.sqlite"
    victim.write_text("keep")
    os.unlink(results_dir / history.INDEX_NAME)
    os.symlink(victim, results_dir / history.INDEX_NAME)
    conn, counts = history.sync_index(results_dir)
    conn.close()
    assert counts["rebuilt"] == 1 and victim.read_text() == "keep"
    assert not (results_dir / history.INDEX_NAME).is_symlink()
    with sqlite3.connect(results_dir / history.INDEX_NAME) as db:
        assert dict(db.execute("SELECT key, value FROM meta"))["tree"] == os.path.realpath(results_dir)
