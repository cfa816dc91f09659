"""ansible-lint (production profile) and ansible-test sanity pass with no ignore entries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from helpers import ROOT, copy_checkout, run

STANDIN = ROOT / "tests" / "sanity" / "get_pip_standin.py"


def test_no_ignore_files():
    assert not list((ROOT / "tests" / "sanity").glob("ignore-*.txt"))
    assert not (ROOT / ".ansible-lint-ignore").exists()


def test_ansible_lint_production(ansible_bin):
    proc = run([ansible_bin / "ansible-lint", "--offline"], check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    assert "Profile 'production' was required, and it passed." in output


def test_ansible_test_sanity(tmp_path, ansible_bin):
    # ansible-test fetches a get-pip bootstrap script from a host this network cannot reach;
    # it uses a cached copy first, so provide the offline stand-in there (see the file's docstring)
    cache = Path.home() / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    for version in ("24_2",):
        target = cache / f"get_pip_{version}.py"
        if not target.exists() or target.read_bytes() != STANDIN.read_bytes():
            shutil.copy(STANDIN, target)
    if shutil.which("shellcheck") is None:
        pytest.fail("shellcheck is not installed; scripts/test.sh installs it (apt-get install shellcheck)")
    dest = tmp_path / "ansible_collections" / "volt" / "netbench"
    copy_checkout(dest)
    proc = run([ansible_bin / "ansible-test", "sanity", "--python", "3.11", "--color", "no"], cwd=dest, check=False,
               timeout=2400)
    errors = [line for line in (proc.stdout + proc.stderr).splitlines() if line.startswith(("ERROR", "FATAL"))]
    assert proc.returncode == 0, "\n".join(errors) or proc.stderr[-4000:]
    assert 'Running sanity test "validate-modules"' in proc.stdout
    assert 'Running sanity test "shellcheck"' in proc.stdout and "shellcheck\" not found" not in proc.stdout + proc.stderr


def test_the_changelog_is_generated_from_its_fragments_and_names_the_collections_version(tmp_path, ansible_bin):
    """CHANGELOG.rst is what antsibull-changelog makes of changelogs/changelog.yaml (regenerated in a copy, compared
    byte for byte), the fragments lint clean, and galaxy.yml's version is the newest release it records."""
    import yaml  # pylint: disable=import-outside-toplevel

    dest = tmp_path / "ansible_collections" / "volt" / "netbench"
    copy_checkout(dest)
    env = {"PATH": f"{ansible_bin}:{os.environ.get('PATH', '')}"}
    run([ansible_bin / "antsibull-changelog", "lint"], cwd=dest, env=env)
    (dest / "CHANGELOG.rst").unlink()
    run([ansible_bin / "antsibull-changelog", "generate"], cwd=dest, env=env)
    assert (dest / "CHANGELOG.rst").read_text() == (ROOT / "CHANGELOG.rst").read_text(), (
        "CHANGELOG.rst is not what changelogs/changelog.yaml makes: run antsibull-changelog generate")
    releases = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())["releases"]
    newest = max(releases, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"] == newest
    assert "v0.1.0" in (ROOT / "CHANGELOG.rst").read_text() and f"v{newest}" in (ROOT / "CHANGELOG.rst").read_text()


def test_the_collections_docs_lint_clean(tmp_path, ansible_bin):
    """antsibull-docs lint-collection-docs --plugin-docs: every module's, plugin's and role's documentation parses,
    and every reference in it (M(), P(), O(), RV()) names something that exists - in a copy shaped like an installed
    collection (ansible_collections/volt/netbench)."""
    dest = tmp_path / "ansible_collections" / "volt" / "netbench"
    copy_checkout(dest)
    proc = run([ansible_bin / "antsibull-docs", "lint-collection-docs", "--plugin-docs", "."], cwd=dest,
               env={"PATH": f"{ansible_bin}:{os.environ.get('PATH', '')}"}, check=False, timeout=600)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout[-6000:] + proc.stderr[-2000:]
