"""volt.netbench.record_run with a results store it cannot reach: the run is recorded in its directory all the same,
the task fails saying how to import it later, and the store's DSN - a no_log argument - appears nowhere in the
result, not even inside the driver's own error."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.volt.netbench.plugins.action.record_run import ActionModule

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugin_utils" / "report"))
from test_report_statistics import SAME, record  # noqa: E402  pylint: disable=import-error,wrong-import-position


def run_action(args: dict, task_vars: dict, action_class=ActionModule) -> dict:
    """Run an action plugin of the collection as a task on the controller would (no connection is used)."""
    task = Task()
    task.args = args
    task.action = f"volt.netbench.{action_class.__module__.rsplit('.', 1)[-1]}"
    connection = SimpleNamespace(_shell=SimpleNamespace(tmpdir="/nonexistent"))  # the controller's: never used
    action = action_class(task=task, connection=connection, play_context=PlayContext(), loader=DataLoader(),
                          templar=None, shared_loader_obj=None)
    return action.run(task_vars=task_vars)


def test_an_unreachable_store_fails_the_task_without_losing_the_run_or_showing_the_dsn(tmp_path):
    run_dir = record(tmp_path / "results", "virtio", "20261101T020000Z", SAME)
    (run_dir / "run.json").rename(run_dir / "recorded.json")  # record it again through the action, from its tests
    tests = json.loads((run_dir / "recorded.json").read_text())["tests"]
    (run_dir / "samples.jsonl").unlink()
    dsn = f"host={tmp_path}/no-server dbname=vnb user=volt password=s3cret-pw connect_timeout=2"
    result = run_action({"run_dir": str(run_dir), "backend": "virtio", "store": dsn,
                         "tests": [{k: t[k] for k in ("name", "tool", "repetition", "raw", "command")} for t in tests]},
                        {"inventory_hostname": "hv01"})
    assert result["failed"] and result["run_id"] == "20261101T020000Z" and (run_dir / "run.json").is_file()
    assert "is recorded there, but not in the results store" in result["msg"]
    assert f"import it with playbooks/compare.yml -e import={run_dir}" in result["msg"]
    assert "s3cret-pw" not in json.dumps(result) and dsn not in json.dumps(result)


def test_a_store_file_gets_the_run_under_the_inventory_host(tmp_path):
    run_dir = record(tmp_path / "results", "virtio", "20261101T020000Z", SAME)
    (run_dir / "run.json").rename(run_dir / "recorded.json")
    tests = json.loads((run_dir / "recorded.json").read_text())["tests"]
    (run_dir / "samples.jsonl").unlink()
    store = tmp_path / "store.sqlite"
    result = run_action({"run_dir": str(run_dir), "backend": "virtio", "store": str(store),
                         "tests": [{k: t[k] for k in ("name", "tool", "repetition", "raw", "command")} for t in tests]},
                        {"inventory_hostname": "hv01"})
    assert not result.get("failed"), result
    assert result["stored"] == ["hv01", "virtio", "20261101T020000Z"]
    from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import open_store  # pylint: disable=import-outside-toplevel

    with open_store(str(store)) as kept:
        assert [r["run_id"] for r in kept.runs("hv01")] == ["20261101T020000Z"]
