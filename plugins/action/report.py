# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for volt.netbench.report (documentation: plugins/modules/report.py)."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.volt.netbench.plugins.plugin_utils.core.action_base import VoltActionBase
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import write_problem
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import BACKENDS
from ansible_collections.volt.netbench.plugins.plugin_utils.report import (
    build_report, render_markdown, report_files, shown_model, write_report)
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.results import LOCAL_HOST, ResultsError, fleet_hosts
from ansible_collections.volt.netbench.plugins.plugin_utils.history.store import keep_change_points
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.summary import (
    failures, outcomes, stats, stats_data, summary_text)


class ActionModule(VoltActionBase):
    """Write REPORT.md and report.json from the recorded runs."""

    ARGSPEC = {
        "results_dir": {"type": "path", "required": True},
        "output_dir": {"type": "path"},
        "baseline": {"type": "str", "default": "virtio", "choices": list(BACKENDS)},
        "run_ids": {"type": "list", "elements": "str", "default": []},
        "display_dir": {"type": "str"},
        "run_id": {"type": "str"},
        "fleet_host": {"type": "str", "default": ""},
        "store": {"type": "str", "default": "", "no_log": True},
        "store_host": {"type": "str", "default": ""},
        "sweep": {"type": "bool", "default": False},
    }

    def execute(self, args, task_vars):
        results_dir = Path(args["results_dir"])
        if not results_dir.is_dir():
            return {
                "failed": True,
                "msg": f"results directory {results_dir} does not exist: run "
                "'ansible-playbook playbooks/benchmark.yml -e backend=virtio' first",
            }
        output_dir = Path(args["output_dir"] or results_dir)
        hosts = fleet_hosts(results_dir) if not args["run_id"] and not args["output_dir"] else []
        if hosts:
            return self._fleet(results_dir, hosts, args)
        store_host = args["store_host"] or task_vars.get("inventory_hostname", LOCAL_HOST)
        if args["sweep"]:
            if not args["run_id"]:
                return {"failed": True, "msg": "report: sweep needs the sweep's run_id"}
            result = self._sweep(results_dir, args, store_host)
            if result.get("failed"):
                return result
            return self._closing(result, results_dir, args)
        try:
            model = build_report(
                results_dir, baseline=args["baseline"], run_ids=args["run_ids"] or None, display_dir=args["display_dir"],
                persist_index=not self._task.check_mode, store=args["store"], store_host=store_host,
            )
            if args["store"] and not self._task.check_mode:
                keep_change_points(args["store"], store_host, model["history"])
        except ResultsError as err:
            return {"failed": True, "msg": str(err)}
        md_path, json_path = output_dir / "REPORT.md", output_dir / "report.json"
        changed = not _same_report(json_path, model)
        if changed and not self._task.check_mode:
            try:
                write_report(model, output_dir)
            except OSError as err:
                return {"failed": True, "msg": f"report: {write_problem(err, output_dir)}"}
        result = {
            "changed": changed,
            "report": str(md_path),
            "report_json": str(json_path),
            "report_html": str(output_dir / "REPORT.html"),
            "summary_csv": str(output_dir / "summary.csv"),
            "charts": [str(output_dir / c["svg"]) for c in model["charts"]],
            "measured": model["measured"],
            "runs": {b["name"]: b["run_id"] for b in model["backends"] if b["run_id"]},
            "ranking": [{"backend": r["backend"], "rank": r["rank"], "score": r["score"]} for r in model["hierarchy"]],
            "ranking_text": model["ranking_text"],
            "recommendations": model["recommendations"],
            "anomalies": model["anomalies"],
            "figures": _figures(model),
            # each backend's mean as a percentage of the native reference's, per row (empty without it)
            "of_native": {
                b["name"]: {row["label"]: row["of_native"][b["name"]]["text"] for table in model["tables"]
                            for row in table["rows"] if b["name"] in row["of_native"]}
                for b in model["backends"] if model["reference"]["measured"] and b["measured"]
            },
        }
        if self._task.diff and changed:
            result["diff"] = {"after_header": str(md_path), "after": render_markdown(model)}
        return self._closing(result, results_dir, args)

    @staticmethod
    def _closing(result: dict, results_dir: Path, args: dict) -> dict:
        if args["run_id"]:
            # the run that just ended: its outcomes, the closing summary and AWX's data
            ran, not_run = outcomes(results_dir, args["run_id"])
            result.update(summary=summary_text(result, ran, not_run), stats=stats(result, ran, not_run),
                          failures=failures(ran))
            result["stats_data"] = stats_data(result["stats"], args["fleet_host"])
        return result

    def _sweep(self, results_dir: Path, args: dict, store_host: str) -> dict:
        """A sweep's report (report/sweep.py): every point's report and SWEEP.md under sweeps/<run id>/."""
        from ansible_collections.volt.netbench.plugins.plugin_utils.report.sweep import (  # pylint: disable=import-outside-toplevel
            SWEEP_DIR, build_sweep, write_sweep)

        try:
            model = build_sweep(results_dir, args["run_id"], baseline=args["baseline"], display_dir=args["display_dir"],
                                persist_index=not self._task.check_mode, store=args["store"], store_host=store_host)
            if args["store"] and not self._task.check_mode:
                for point_model in model["point_models"].values():
                    keep_change_points(args["store"], store_host, point_model["history"])
        except ResultsError as err:
            return {"failed": True, "msg": str(err)}
        out = results_dir / SWEEP_DIR / model["run_id"]
        if not self._task.check_mode:
            try:
                write_sweep(model, results_dir)
            except OSError as err:
                return {"failed": True, "msg": f"report: {write_problem(err, out)}"}
        models = model["point_models"]
        suffix = {p["key"]: "+" + p["dir"] for p in model["points"]}
        return {
            "changed": not self._task.check_mode,
            "sweep": True,
            "report": str(out / "SWEEP.md"),
            "report_json": str(out / "sweep.json"),
            "reports": {p["key"]: str(out / p["dir"] / "REPORT.md") for p in model["points"]},
            "measured": sorted({n for m in models.values() for n in m["measured"]}),
            "runs": {b["name"] + suffix[key]: b["run_id"] for key, m in models.items() for b in m["backends"]
                     if b["run_id"]},
            "ranking": [],
            "ranking_text": "; ".join(f"at {p['key']}: {p['ranking_text']}" for p in model["points"]),
            "recommendations": {"default": "; ".join(f"at {key}: {m['recommendations']['default']}"
                                                     for key, m in models.items())},
            "interactions": [i["text"] for i in model["interactions_supported"]],
            "anomalies": model["anomalies"],
            "figures": {name: cells for key, m in models.items() for name, cells in _figures(m, suffix[key]).items()},
            "of_native": {},
        }

    def _fleet(self, results_dir: Path, hosts: list[str], args: dict) -> dict:
        """A fleet's tree (only <host>/ directories): every host's report again, then the fleet report."""
        from ansible_collections.volt.netbench.plugins.plugin_utils.report.fleet import build_fleet, write_fleet  # pylint: disable=import-outside-toplevel

        shown = args["display_dir"] or str(results_dir)
        reports, problems, models = {}, {}, {}
        for host in hosts:
            try:
                model = build_report(results_dir / host, baseline=args["baseline"], display_dir=f"{shown}/{host}",
                                     persist_index=not self._task.check_mode, store=args["store"],
                                     store_host=host)
                if args["store"] and not self._task.check_mode:
                    keep_change_points(args["store"], host, model["history"])
                if not self._task.check_mode:
                    write_report(model, results_dir / host)
                models[host], reports[host] = model, str(results_dir / host / "REPORT.md")
            except ResultsError as err:
                problems[host] = str(err)
            except OSError as err:
                return {"failed": True, "msg": f"report: {write_problem(err, results_dir / host)}"}
        # each host's report once: the fleet is built from the models just written
        fleet = build_fleet(results_dir, hosts, failures=problems, baseline=args["baseline"], display_dir=shown,
                            models=models)
        if not self._task.check_mode:
            try:
                write_fleet(fleet, results_dir)
            except OSError as err:
                return {"failed": True, "msg": f"report: {write_problem(err, results_dir)}"}
        claims = [f"{c['label']}: {c['verdict']}" for c in fleet["claims"]]
        return {
            "changed": not self._task.check_mode,
            "fleet": True,
            "report": str(results_dir / "REPORT.md"),
            "report_html": str(results_dir / "REPORT.html"),
            "hosts": reports,
            "missing": fleet["missing"],
            "measured": fleet["columns"],
            "ranking_text": "; ".join(claims) or "no difference between backends across the fleet",
            "claims": claims,
            "outliers": fleet["outliers"],
        }


def _figures(model: dict, suffix: str = "") -> dict:
    """Every cell as the report shows it, by path (and a sweep point's SUFFIX: virtio+mtu-9000) and row."""
    return {name + suffix: {row["label"]: f"{row['cells'][name]} {row['unit']}" for table in model["tables"]
                            for row in table["rows"]}
            for name in model["columns"]}


def _same_report(json_path: Path, model: dict) -> bool:
    """True when report.json already holds this model (the generation time aside). The shown model (its history's
    window, report.shown_model) is made once here: report_files takes it as it is."""
    try:
        old = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    public = shown_model(model)
    new = json.loads(json.dumps(public))
    old.pop("generated", None)
    new.pop("generated", None)
    return old == new and all((json_path.parent / name).is_file() for name in report_files(public))
