"""volt.netbench.lab_guard on this host: a lab (a namespace with a process in it, a run directory, the lock) whose
heartbeat goes stale is torn down by the guard, which releases the lock and leaves a record the next start returns;
a lab whose heartbeat is refreshed keeps everything, and stopping its guard ends it without touching the lab. A lab
in the host's own namespace (a cross-host pair's) loses the links that carry the mark, and only those."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import ROOT, run

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces")


def module(ansible_bin, args: dict) -> dict:
    proc = run([ansible_bin / "ansible", "localhost", "-m", "volt.netbench.lab_guard", "-a", json.dumps(args), "-o"])
    return json.loads(proc.stdout.split("=>", 1)[1])


def netns_exists(name: str) -> bool:
    return name in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout.split()


def lab(tmp_path: Path, name: str) -> dict:
    """A lab's pieces: its namespace with a process in it, a guest state directory, the lock held by a run."""
    subprocess.run(["ip", "netns", "add", name], check=True)
    # the mark volt.netbench.netdev gives the namespaces it creates (the guard deletes no other)
    subprocess.run(["ip", "-n", name, "link", "set", "dev", "lo", "alias", "volt-netbench"], check=True)
    sleeper = subprocess.Popen(["ip", "netns", "exec", name, "sleep", "300"])  # pylint: disable=consider-using-with
    # where a lab's guests keep their state (the guard removes directories there only)
    state = Path(f"/run/volt-netbench/guests/{name}")
    state.mkdir(parents=True)
    (tmp_path / name).mkdir()
    lock = tmp_path / name / "lock"
    lock.write_text(json.dumps({"owner_pid": 1, "owner_host": "controller", "taken": time.time(), "description": "run"}))
    return {"name": name, "sleeper": sleeper, "lock": lock, "state": state,
            "heartbeat": tmp_path / name / "heartbeat", "recovered": tmp_path / name / "recovered.json",
            "teardown": {"lock": str(lock), "netns": name, "state_dir": str(state)}}


def test_a_stale_heartbeat_tears_the_lab_down_and_a_fresh_one_keeps_it(tmp_path, ansible_bin):
    stale, fresh = lab(tmp_path, f"vnbg-{os.getpid()}s"), lab(tmp_path, f"vnbg-{os.getpid()}f")
    try:
        guards = {}
        began = time.monotonic()  # before the stale lab's heartbeat is written
        for one in (stale, fresh):
            started = module(ansible_bin, {"heartbeat": str(one["heartbeat"]), "recovered": str(one["recovered"]),
                                           "stale_after": 10, "teardown": one["teardown"], "description": "run 1"})
            assert started["changed"] and started["recovered"] == {} and started["recovered_text"] == ""
            guards[one["name"]] = started["pid"]
            assert os.path.exists(f"/proc/{started['pid']}"), "the guard runs on after the module returned"
        # the fresh lab's run refreshes its heartbeat (its watchdog touches it every 5 s); the stale one's does not
        deadline = time.monotonic() + 30
        while netns_exists(stale["name"]) and time.monotonic() < deadline:
            os.utime(fresh["heartbeat"])
            time.sleep(1)
        silent_for = time.monotonic() - began
        assert not netns_exists(stale["name"]), "the stale lab's namespace is gone"
        assert 10 <= silent_for <= 20, silent_for
        stale["sleeper"].wait(timeout=10)  # killed with its namespace
        assert not stale["state"].exists() and not stale["lock"].exists() and not stale["heartbeat"].exists()
        record = json.loads(stale["recovered"].read_text())
        assert record["stale_after_s"] == 10 and record["silent_s"] >= 10 and record["run"] == "run 1"
        assert record["removed"] == [f"namespace {stale['name']}", f"directory {stale['state']}", f"lock {stale['lock']}"]
        # the fresh lab is whole; its run ends normally: the guard exits and the lab is left to the run
        assert netns_exists(fresh["name"]) and fresh["sleeper"].poll() is None and fresh["lock"].exists()
        assert module(ansible_bin, {"heartbeat": str(fresh["heartbeat"]), "state": "stopped"})["changed"]
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{guards[fresh['name']]}") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(f"/proc/{guards[fresh['name']]}"), "the stopped guard is gone"
        assert netns_exists(fresh["name"]) and fresh["lock"].exists() and fresh["state"].exists()
        # the next run on the stale lab's hypervisor is told what was recovered (once)
        again = module(ansible_bin, {"heartbeat": str(stale["heartbeat"]), "recovered": str(stale["recovered"]),
                                     "stale_after": 10, "teardown": stale["teardown"], "description": "run 2"})
        assert again["recovered"] == record and not stale["recovered"].exists()
        assert again["recovered_text"].startswith("the hypervisor's guard tore down an earlier run's lab at ")
        assert f"without a heartbeat from its controller (limit 10 s; run: run 1): namespace {stale['name']}" in \
            again["recovered_text"]
        # a newer run's start replaces the token: the older guard leaves the lab to the newer one
        newer = module(ansible_bin, {"heartbeat": str(stale["heartbeat"]), "recovered": str(stale["recovered"]),
                                     "stale_after": 10, "teardown": stale["teardown"], "description": "run 3"})
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{again['pid']}") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not os.path.exists(f"/proc/{again['pid']}") and os.path.exists(f"/proc/{newer['pid']}")
        module(ansible_bin, {"heartbeat": str(stale["heartbeat"]), "state": "stopped"})
    finally:
        for one in (stale, fresh):
            one["sleeper"].kill()
            subprocess.run(["ip", "netns", "delete", one["name"]], capture_output=True, check=False)
            one["heartbeat"].unlink(missing_ok=True)  # any guard still running exits
            shutil.rmtree(one["state"], ignore_errors=True)


def test_a_lab_in_the_hosts_own_namespace_loses_its_marked_links_and_keeps_the_uplink(tmp_path):
    """module_utils.lab.teardown_lab with no namespace (a cross-host pair's lab, on the hypervisor's NICs), run in a
    namespace of this test's as its "own" namespace: the bridge, tap, macvtap and veth netdev made (the mark) are
    deleted; the uplink NIC (no mark) stays, out of the bridge - the guard once left them all behind."""
    ns = f"vnbg-{os.getpid()}r"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        steps = [["link", "add", "vnbbr0", "type", "bridge"], ["link", "add", "uplink0", "type", "veth", "peer", "name", "wire0"],
                 ["link", "set", "uplink0", "master", "vnbbr0"], ["tuntap", "add", "vnbtap0", "mode", "tap"],
                 ["link", "set", "vnbtap0", "master", "vnbbr0"], ["link", "add", "vnbl0", "type", "veth", "peer", "name", "vnbl1"],
                 ["link", "add", "link", "vnbl1", "name", "vnbmvt0", "type", "macvtap", "mode", "bridge"]]
        steps += [["link", "set", "dev", name, "alias", "volt-netbench"] for name in ("vnbbr0", "vnbtap0", "vnbl0", "vnbl1", "vnbmvt0")]
        for step in steps:
            subprocess.run(["ip", "-n", ns, *step], check=True)
        code = ("import json, sys; sys.path.insert(0, sys.argv[1]); from ansible_collections.volt.netbench.plugins."
                "module_utils.lab import teardown_lab; print(json.dumps(teardown_lab({'netns': ''})))")
        out = subprocess.run(["ip", "netns", "exec", ns, sys.executable, "-c", code, str(ROOT / ".collections")],
                             capture_output=True, text=True, check=True).stdout
        removed = json.loads(out)
        assert {"device vnbbr0", "device vnbtap0", "device vnbmvt0"} <= set(removed), removed
        assert "device vnbl0" in removed or "device vnbl1" in removed, removed  # a veth pair goes as one
        left = json.loads(subprocess.run(["ip", "-n", ns, "-j", "link", "show"], capture_output=True, text=True,
                                         check=True).stdout)
        assert sorted(link["ifname"] for link in left) == ["lo", "uplink0", "wire0"]
        assert "master" not in next(link for link in left if link["ifname"] == "uplink0")
    finally:
        subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
