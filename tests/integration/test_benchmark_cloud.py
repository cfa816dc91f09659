"""The benchmark on a lab's own cloud image (image=QCOW2) configured by cloud-init NoCloud seeds, with its own
hypervisor lock (benchmark_lock_path) and namespace. One boot proves the seed and the benchmark on it: the image
has the tools; the seed's extra cloud-config (benchmark_guest_cloud_config) brings a one-package apt repository
of its own (write_files, a file: source: no mirror in the namespace) and the seed's packages install
volt-seed-probe from it, which no Debian mirror has; the guests' consoles, kept with the run, show it installed
and each guest named by its seed. It runs on the guest tests' xdist worker: the benchmark tests' worker is the
suite's longest."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from helpers import run
from test_benchmark import ENV, assert_clean, bench_args, runs

pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces, taps and QEMU"),
              pytest.mark.xdist_group("guests")]
OWN_LOCK = Path("/run/volt-netbench/cloud-image-test.lock")
REPO = "/var/lib/volt-seed-repo"


@pytest.fixture
def lab_ns():
    """This worker's own lab namespace; whatever a failed run left in it is removed afterwards."""
    ns = f"vnbc-{os.getpid()}"
    yield ns
    subprocess.run(["pkill", "-f", f"/run/volt-netbench/guests/{ns}/"], check=False)
    subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
    OWN_LOCK.unlink(missing_ok=True)


def seed_repository(repo: Path) -> dict:
    """Cloud-config that writes the probe repository into the guest and makes it the guest's only apt source."""
    files = [{"path": f"{REPO}/{f.name}", "encoding": "b64", "permissions": "0644",
              "content": base64.b64encode(f.read_bytes()).decode()} for f in sorted(repo.iterdir())]
    return {"write_files": files,
            "apt": {"preserve_sources_list": False, "sources_list": f"deb [trusted=yes] file:{REPO} ./\n"}}


def test_benchmark_on_a_cloud_image_with_its_nocloud_seed(tmp_path, lab_ns, cloud_image, probe_repo):
    """image=QCOW2: the guests boot the cloud image (its own GRUB and kernel) with NoCloud seeds, the seed's
    packages are installed from the seed's apt sources before the run, and two tests run end to end."""
    results = tmp_path / "results"
    before = cloud_image.stat()
    began = time.monotonic()
    extra = {"tests": ["iperf3_tcp_single", "ping"], "guest_image_cloud_packages": ["volt-seed-probe"],
             "benchmark_guest_cloud_config": seed_repository(probe_repo)}
    proc = run(bench_args(results, lab_ns, "-e", "backend=virtio", "-e", f"image={cloud_image}",
                          "-e", json.dumps(extra), "-e", f"benchmark_lock_path={OWN_LOCK}"),
               check=False, env=ENV, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:]
    print(f"\n[e2e virtio, cloud image, 2 tests] wall time {time.monotonic() - began:.0f} s")
    (run_,) = runs(results, "virtio")
    assert run_["status"] == "complete", run_["tests"]
    assert {t["name"]: t["status"] for t in run_["tests"]} == {"iperf3_tcp_single": "ok", "ping": "ok"}
    assert run_["config"]["extra_vars"]["image"] == str(cloud_image)
    # the guest kernel is what the booted guest reports, not a file beside an image
    assert re.fullmatch(r"\d+\.\d+\.\d+-\d+-amd64", run_["environment"]["guest_kernel"])
    run_dir = results / "virtio" / run_["run_id"]
    for guest in ("server", "client"):
        console = (run_dir / f"console-{guest}.log").read_text(errors="replace")
        assert "Setting up volt-seed-probe (1.0)" in console  # cloud-init's final stage, from the seed's source
        assert f"{guest} login:" in console  # the hostname from the seed's user-data
    report = (results / "REPORT.md").read_text()
    assert f"-e image={cloud_image}" in report
    assert_clean(lab_ns, lock=OWN_LOCK)
    # the guests booted overlays: the lab's image is never written (a write changes its modification and change time)
    after = cloud_image.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ctime_ns) == (before.st_size, before.st_mtime_ns, before.st_ctime_ns)
