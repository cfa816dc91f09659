"""The regression gate through ansible-playbook: playbooks/compare.yml -e against=... exits 3 on a regression (the
volt.netbench.gate callback of the project's ansible.cfg), 0 on none, 2 on any other failure; its verdict reaches
AWX as custom stats (ansible-runner's artifacts, as Automation Controller collects them). Results trees recorded
from the tools' real output formats (test_report_statistics.record)."""

from __future__ import annotations

import json
import sys

from helpers import ROOT, run

sys.path.insert(0, str(ROOT / ".collections"))

from test_regression import BASE, NEW, OLD, noisy, tree  # noqa: E402  pylint: disable=import-error,wrong-import-position

COMPARE = ROOT / "playbooks" / "compare.yml"


def test_the_gate_exits_3_on_a_regression_0_without_and_2_when_it_cannot_compare(tmp_path, ansible_bin):
    slower, steady = tmp_path / "slower", tmp_path / "steady"
    tree(slower, BASE, noisy(BASE, 3, iperf3_tcp_single=0.8))
    tree(steady, BASE, noisy(BASE, 11))
    playbook = ansible_bin / "ansible-playbook"

    proc = run([playbook, COMPARE, "-e", f"results_dir={slower}", "-e", f"against={OLD}"], check=False)
    assert proc.returncode == 3, proc.stdout[-3000:]
    assert "volt.netbench.gate: a regression beyond the tolerance - exit status 3" in proc.stderr
    said = " ".join(proc.stdout.split())  # the YAML callback folds long lines
    assert f"Run {NEW} against {OLD} (tolerance ±5 %): REGRESSION in 1 of 14 metrics" in said
    assert "regression: virtio TCP Single Stream: 2.01 ± 0.03 -> 1.60 ± 0.02 Gbps, -20.2 %" in said
    assert "Regression against 20261201T020000Z: virtio TCP Single Stream" in said
    doc = json.loads((slower / "comparisons" / f"{NEW}-vs-{OLD}" / "compare.json").read_text())
    assert doc["rc"] == 3 and doc["regressions"] == ["virtio TCP Single Stream"]

    ok = run([playbook, COMPARE, "-e", f"results_dir={steady}", "-e", "against=previous", "-e", "tolerance=5"])
    assert "no regression" in " ".join(ok.stdout.split()) and (steady / "comparisons" / f"{NEW}-vs-{OLD}" / "COMPARE.md").is_file()

    # a run that is not there is an error (Ansible's 2), not a verdict
    missing = run([playbook, COMPARE, "-e", f"results_dir={steady}", "-e", "against=20200101T000000Z"], check=False)
    assert missing.returncode == 2 and "run 20200101T000000Z not found under" in " ".join(missing.stdout.split())


def test_awx_gets_the_verdict_as_custom_stats(tmp_path):
    """Through ansible-runner on a private data directory laid out like AWX's (examples/run_with_ansible_runner.py):
    the job fails with status 3 and the playbook_on_stats event's artifact data (AWX's set_stats artifacts) carry
    the verdict per metric under volt_netbench_gate, keyed by host."""
    import ansible_runner  # pylint: disable=import-outside-toplevel

    sys.path.insert(0, str(ROOT / "examples"))
    from run_with_ansible_runner import prepare  # pylint: disable=import-error,import-outside-toplevel

    results = tmp_path / "results"
    tree(results, BASE, noisy(BASE, 3, iperf3_tcp_single=0.8))
    pdd = prepare(tmp_path / "job", {"results_dir": str(results), "against": "previous"})
    job = ansible_runner.run(private_data_dir=str(pdd), playbook="playbooks/compare.yml", ident="gate", quiet=True)
    assert (job.rc, job.status) == (3, "failed")
    stats = next(e for e in job.events if e.get("event") == "playbook_on_stats")["event_data"]["artifact_data"]
    gate = stats["volt_netbench_gate"]["localhost"]
    assert gate["verdict"] == "regression" and gate["rc"] == 3 and gate["against"] == OLD and gate["run"] == NEW
    assert gate["metrics"]["virtio TCP Single Stream"] == "regression"
    assert gate["regressions"] == ["virtio TCP Single Stream"] and gate["report"].endswith("COMPARE.md")
