"""Fixtures of the integration tests."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import BIN, ROOT, UNIT_BUILDERS, run

sys.path[:0] = [d for d in UNIT_BUILDERS if d not in sys.path]


@pytest.fixture
def ansible_bin():
    return BIN


@pytest.fixture(scope="session", name="chromium")
def fixture_chromium() -> str:
    """Debian's chromium, installed when missing (as root)."""
    if not shutil.which("chromium"):
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium"]
        if subprocess.run(install, env=env, capture_output=True, check=False).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=True)
            subprocess.run(install, env=env, capture_output=True, check=True)
    return shutil.which("chromium")


# No cloud image can be downloaded here, so the tests build a stand-in shaped like Debian's genericcloud
# qcow2 (BIOS + GRUB, cloud-init, no host keys, no keys, root locked): cloud_image/build-cloud-image.sh.
CLOUD_BUILDER = ROOT / "tests" / "integration" / "cloud_image" / "build-cloud-image.sh"
TEST_IMAGE_CACHE = os.environ.get("VOLT_NETBENCH_TEST_IMAGE_CACHE", "/var/cache/volt-netbench/test-images")


@pytest.fixture(scope="session")
def cloud_image() -> Path:
    """The stand-in cloud image, cached outside the checkout and keyed by its builder's hash."""
    key = hashlib.sha256(CLOUD_BUILDER.read_bytes()).hexdigest()[:16]
    out = Path(TEST_IMAGE_CACHE) / f"cloud-{key}"
    for stale in Path(TEST_IMAGE_CACHE).glob("cloud-*"):  # images of earlier versions of the builder
        if not stale.name.startswith(out.name):
            subprocess.run(["rm", "-rf", "--", stale], check=True)
    started = time.monotonic()
    run(["bash", CLOUD_BUILDER, out], timeout=1800)
    print(f"\ncloud image {out}: ready after {time.monotonic() - started:.0f} s")
    return out / "disk.qcow2"


@pytest.fixture
def probe_repo(tmp_path) -> Path:
    """A flat apt repository with one package, volt-seed-probe, that no Debian mirror has: finding it
    installed in a guest proves cloud-init installed the seed's packages from the seed's apt sources."""
    repo = tmp_path / "repo"
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "usr" / "share" / "volt-seed-probe").mkdir(parents=True)
    (pkg / "usr" / "share" / "volt-seed-probe" / "installed").write_text("installed by cloud-init\n")
    control = ("Package: volt-seed-probe\nVersion: 1.0\nArchitecture: all\n"
               "Maintainer: volt.netbench tests <tests@volt.invalid>\nDescription: volt.netbench seed probe\n")
    (pkg / "DEBIAN" / "control").write_text(control)
    repo.mkdir()
    deb = repo / "volt-seed-probe_1.0_all.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", pkg, deb], check=True, capture_output=True)
    data = deb.read_bytes()
    packages = (control.replace("Description:", f"Filename: ./{deb.name}\nSize: {len(data)}\n"
                                f"SHA256: {hashlib.sha256(data).hexdigest()}\nDescription:"))
    (repo / "Packages").write_text(packages)
    index = (repo / "Packages").read_bytes()
    (repo / "Release").write_text(
        "Origin: volt.netbench tests\nLabel: volt.netbench tests\n"
        f"Date: {time.strftime('%a, %d %b %Y %H:%M:%S UTC', time.gmtime())}\n"
        f"SHA256:\n {hashlib.sha256(index).hexdigest()} {len(index)} Packages\n")
    return repo
