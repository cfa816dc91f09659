"""The benchmark on a lab's own cloud image (image=QCOW2), with its own hypervisor lock (benchmark_lock_path)
and namespace. It runs on the benchmark tests' xdist worker, after them: beside the guest tests, three labs
at once on two cores made the whole suite slower, not faster."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from helpers import run
from test_benchmark import ENV, assert_clean, bench_args, runs

pytestmark = [pytest.mark.skipif(os.geteuid() != 0, reason="needs root for namespaces, taps and QEMU"),
              pytest.mark.xdist_group("benchmark")]
OWN_LOCK = Path("/run/volt-netbench/cloud-image-test.lock")


@pytest.fixture
def lab_ns():
    """This worker's own lab namespace; whatever a failed run left in it is removed afterwards."""
    ns = f"vnbc-{os.getpid()}"
    yield ns
    subprocess.run(["pkill", "-f", f"/run/volt-netbench/guests/{ns}/"], check=False)
    subprocess.run(["ip", "netns", "delete", ns], capture_output=True, check=False)
    OWN_LOCK.unlink(missing_ok=True)


def test_benchmark_on_a_cloud_image(tmp_path, lab_ns, cloud_image):
    """image=QCOW2: the guests boot the cloud image with NoCloud seeds; the image has the tools, so the
    seed installs nothing (no mirror in the namespace) and two tests run end to end."""
    results = tmp_path / "results"
    began = time.monotonic()
    proc = run(bench_args(results, lab_ns, "-e", "backend=virtio", "-e", f"image={cloud_image}",
                          "-e", '{"tests": ["iperf3_tcp_single", "ping"], "guest_image_cloud_packages": []}',
                          "-e", f"benchmark_lock_path={OWN_LOCK}"),
               check=False, env=ENV, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-6000:]
    print(f"\n[e2e virtio, cloud image, 2 tests] wall time {time.monotonic() - began:.0f} s")
    (run_,) = runs(results, "virtio")
    assert run_["status"] == "complete", run_["tests"]
    assert {t["name"]: t["status"] for t in run_["tests"]} == {"iperf3_tcp_single": "ok", "ping": "ok"}
    assert run_["config"]["extra_vars"]["image"] == str(cloud_image)
    # the guest kernel is what the booted guest reports, not a file beside an image
    assert re.fullmatch(r"\d+\.\d+\.\d+-\d+-amd64", run_["environment"]["guest_kernel"])
    report = (results / "REPORT.md").read_text()
    assert f"-e image={cloud_image}" in report
    assert_clean(lab_ns, lock=OWN_LOCK)
