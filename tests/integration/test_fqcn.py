"""FQCNs resolve from a plain checkout and from an installed build of the collection."""

from __future__ import annotations

import re
import shutil

from helpers import ROOT, run

FIXTURES = ROOT / "tests" / "fixtures"
PLAYBOOK = ROOT / "tests" / "integration" / "targets" / "fqcn" / "playbook.yml"


def test_from_a_checkout(tmp_path, ansible_bin):
    proc = run([ansible_bin / "ansible-playbook", PLAYBOOK, "-e", f"fixtures={FIXTURES}", "-e", f"results={tmp_path}"])
    assert re.search(r"localhost\s+: ok=\d+\s+changed=\d+\s+unreachable=0\s+failed=0", proc.stdout)
    doc = run([ansible_bin / "ansible-doc", "-t", "filter", "volt.netbench.parse_ping"])
    assert f"{ROOT}/.collections/ansible_collections/volt/netbench/plugins/filter/parse_ping.py" in doc.stdout


def test_installed_build(tmp_path, ansible_bin):
    build = run([ansible_bin / "ansible-galaxy", "collection", "build", "--output-path", tmp_path / "dist", ROOT])
    tarball = next((tmp_path / "dist").glob("volt-netbench-*.tar.gz"))
    assert str(tarball) in build.stdout
    # --force: from the checkout, ansible.cfg already shows volt.netbench (the .collections symlink)
    run([ansible_bin / "ansible-galaxy", "collection", "install", "--force", tarball, "-p", tmp_path / "colls"])
    installed = tmp_path / "colls" / "ansible_collections" / "volt" / "netbench"
    assert (installed / "plugins" / "filter" / "parse_iperf3.py").is_file()
    assert (installed / "templates" / "REPORT.md.j2").is_file()
    assert not (installed / ".collections").exists(), "the checkout symlink must not be packaged"

    # run outside the checkout, with only the installed copy on the collections path
    work = tmp_path / "elsewhere"
    work.mkdir()
    (work / "ansible.cfg").write_text(f"[defaults]\ncollections_path = {tmp_path / 'colls'}\n")
    shutil.copy(PLAYBOOK, work / "playbook.yml")
    env = {"ANSIBLE_CONFIG": str(work / "ansible.cfg")}
    results = tmp_path / "results"
    run([ansible_bin / "ansible-playbook", "playbook.yml", "-e", f"fixtures={FIXTURES}", "-e", f"results={results}"],
        cwd=work, env=env)
    doc = run([ansible_bin / "ansible-doc", "volt.netbench.report"], cwd=work, env=env)
    assert str(installed / "plugins" / "modules" / "report.py") in doc.stdout
    # the collection's own playbook, addressed by FQCN
    proc = run([ansible_bin / "ansible-playbook", "volt.netbench.compare", "-e", f"results_dir={results}"],
               cwd=work, env=env)
    assert "Measured: virtio" in proc.stdout
    assert (results / "REPORT.md").is_file()


def test_compare_playbook_is_idempotent_and_explains_missing_runs(tmp_path, ansible_bin):
    results = tmp_path / "results"
    run([ansible_bin / "ansible-playbook", PLAYBOOK, "-e", f"fixtures={FIXTURES}", "-e", f"results={results}"])
    compare = ROOT / "playbooks" / "compare.yml"
    again = run([ansible_bin / "ansible-playbook", compare, "-e", f"results_dir={results}"])
    assert re.search(r"changed=0\s+unreachable=0\s+failed=0", again.stdout)
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run([ansible_bin / "ansible-playbook", compare, "-e", f"results_dir={empty}"], check=False)
    assert proc.returncode == 2
    assert (
        f"no recorded runs under {empty}: run 'ansible-playbook playbooks/benchmark.yml -e backend=virtio' first"
        in proc.stdout.replace("\n", " ").replace("    ", " ")
    )
