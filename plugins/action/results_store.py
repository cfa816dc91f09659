# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.results_store (documentation: plugins/modules/results_store.py)."""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import ResultsError
from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import (
    SCHEMA_VERSION, export_tree, import_tree, open_store)


class ActionModule(VoltActionBase):
    """Bring a results store's schema up to date, and import results trees into it."""

    ARGSPEC = {
        "store": {"type": "str", "required": True, "no_log": True},
        "import_dir": {"type": "path"},
        "host": {"type": "str"},
        "export_dir": {"type": "path"},
        "hosts": {"type": "list", "elements": "str"},
    }

    def execute(self, args, task_vars):
        if self._task.check_mode:
            return {"changed": False, "skipped_reason": "check mode: the store is not touched"}
        try:
            with open_store(args["store"], migrate=False) as store:
                migrated = store.migrate()
                counts = import_tree(store, args["import_dir"], host=args["host"]) if args["import_dir"] else {}
                exported = export_tree(store, args["export_dir"], args["hosts"]) if args["export_dir"] else {}
                runs, hosts = len(store.runs()), store.hosts()
        except ResultsError as err:
            return {"failed": True, "msg": f"results_store: {err}"}
        if args["import_dir"] and not counts.get("hosts"):
            return {"failed": True, "msg": f"results_store: no recorded runs under {args['import_dir']} (neither "
                                           "<backend>/<run id>/ nor <host>/<backend>/<run id>/ directories)"}
        if args["export_dir"] and not hosts:
            return {"failed": True, "msg": "results_store: the store holds no runs to export: record some with "
                                           "benchmark.yml -e store=..., or import a tree (-e import=DIR)"}
        return {"changed": bool(migrated or counts.get("imported") or any(exported.values())), "migrated": migrated,
                "schema": SCHEMA_VERSION, "imported": counts, "exported": exported, "runs": runs, "hosts": hosts}
