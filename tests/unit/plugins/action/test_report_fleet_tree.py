"""volt.netbench.report on a fleet's results tree (only <host>/ directories, as benchmark.yml leaves a fleet's):
every host's report is written again and the fleet report with them - before, compare.yml on such a tree failed
with "no recorded runs under ...", so a fleet's reports could not be re-rendered without running it again."""

from __future__ import annotations

import sys
from pathlib import Path

from test_record_run_store import run_action  # pylint: disable=import-error

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugin_utils" / "report"))
from test_report_statistics import FAST, SAME, record  # noqa: E402  pylint: disable=import-error,wrong-import-position

from ansible_collections.volt.netbench.plugins.action.report import ActionModule  # noqa: E402


def test_a_fleet_tree_gets_each_hosts_report_and_the_fleet_report(tmp_path):
    fleet = tmp_path / "results"
    for host in ("hv-a", "hv-b"):
        record(fleet / host, "virtio", "20261101T020000Z", SAME)
        record(fleet / host, "macvtap", "20261101T020000Z", FAST)
    (fleet / "notes").mkdir()  # not a host: no runs
    result = run_action({"results_dir": str(fleet), "display_dir": "results"}, {}, ActionModule)
    assert not result.get("failed"), result
    assert result["fleet"] and result["report"] == str(fleet / "REPORT.md")
    assert result["hosts"] == {h: str(fleet / h / "REPORT.md") for h in ("hv-a", "hv-b")} and not result["missing"]
    for path in [fleet / "REPORT.md", fleet / "REPORT.html", *(fleet / h / "REPORT.md" for h in ("hv-a", "hv-b"))]:
        assert path.is_file(), path
    text = (fleet / "REPORT.md").read_text()
    assert "results/hv-a/REPORT.md" in text and "results/hv-b/REPORT.md" in text
    assert result["measured"] == ["virtio", "macvtap"]
    # the per-host reports were written by this call, each from its own host's runs
    for host in ("hv-a", "hv-b"):
        assert "| TCP Single Stream |" in (fleet / host / "REPORT.md").read_text()
