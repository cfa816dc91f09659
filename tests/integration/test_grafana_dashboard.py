"""The shipped Grafana dashboard (meta/grafana/volt-netbench.json) against a real PostgreSQL results store: every
SQL query in it - its variables', its panels' and its annotations' - runs, with Grafana's macros and variables
expanded as Grafana expands them for PostgreSQL, on a store holding two hosts' nightly histories (one with a 20 %
drop: change points), and returns rows. The provisioning files name the data source the dashboard uses."""

from __future__ import annotations

import datetime as dt
import json
import re
import sys

import pytest
import yaml

from helpers import ROOT
from pgserver import PgServer

sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.volt.netbench.plugins.plugin_utils.history import store as vstore  # noqa: E402
from test_history import nightly  # noqa: E402  pylint: disable=import-error

DASHBOARD = ROOT / "meta" / "grafana" / "volt-netbench.json"
PROVISIONING = ROOT / "meta" / "grafana" / "provisioning"


def expand(sql: str, values: dict[str, list[str]], multi: dict[str, bool], start: dt.datetime, end: dt.datetime) -> str:
    """SQL as Grafana's PostgreSQL data source sends it: $__timeFilter(col) a BETWEEN of the dashboard's range,
    a multi-value (or include-all) variable each value quoted and comma-joined, a single value as it is, its
    quotes doubled."""
    sql = re.sub(r"\$__timeFilter\(([^)]+)\)",
                 lambda m: f"{m.group(1)} BETWEEN '{start.isoformat()}' AND '{end.isoformat()}'", sql)
    assert "$__" not in sql, f"a macro this test does not expand: {sql}"

    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        chosen = values[name]
        if multi[name]:
            return ",".join("'" + v.replace("'", "''") + "'" for v in chosen)
        return chosen[0].replace("'", "''")

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, sql)


def queries(dashboard: dict) -> list[tuple[str, str]]:
    """Every SQL query of the dashboard (where, SQL), panels and annotations."""
    out = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            out.append((f"panel {panel['title']!r}", target["rawSql"]))
    for annotation in dashboard["annotations"]["list"]:
        out.append((f"annotation {annotation['name']!r}", annotation["target"]["rawSql"]))
    return out


@pytest.fixture(scope="module", name="dsn")
def fixture_dsn(tmp_path_factory):
    server = PgServer().start()
    try:
        dsn = server.createdb("vnb_grafana")
        with vstore.open_store(dsn) as store:
            for host, seed in (("hv01", 5), ("hv02", 9)):
                root = tmp_path_factory.mktemp(host)
                nightly(root, 12, drop_at=7 if host == "hv01" else None, seed=seed)
                vstore.import_tree(store, root, host=host)
                runs = [r["run_id"] for r in store.runs(host, "virtio")]
                store.put_verdict(host, runs[-1], runs[-2], tolerance=5, verdict="no detectable change",
                                  regressions=0, detail={"regressions": []})
            store.put_verdict("hv01", runs[7], runs[6], tolerance=5, verdict="regression", regressions=1,
                              detail={"regressions": ["virtio TCP Single Stream"]})
        yield dsn
    finally:
        server.stop()


def test_every_query_of_the_dashboard_returns_rows_from_the_store(dsn):
    import psycopg  # pylint: disable=import-outside-toplevel

    dashboard = json.loads(DASHBOARD.read_text())
    now = dt.datetime.now(dt.timezone.utc)
    start, end = now - dt.timedelta(days=90), now + dt.timedelta(minutes=5)
    values: dict[str, list[str]] = {}
    multi = {v["name"]: bool(v.get("multi") or v.get("includeAll")) for v in dashboard["templating"]["list"]}
    ran = []
    with psycopg.connect(dsn) as conn:
        # the variables in order, each from the ones before it (include-all: every value the query gave)
        for variable in dashboard["templating"]["list"]:
            rows = conn.execute(expand(variable["query"], values, multi, start, end)).fetchall()
            assert rows, f"variable {variable['name']} has no values"
            found = [str(r[0]) for r in rows]
            if variable["name"] == "metric":
                # the metric the nightly drop moved: its change points are what the annotations draw
                assert "TCP Single Stream" in found
                found = ["TCP Single Stream"]
            values[variable["name"]] = found
            ran.append(variable["name"])
        assert values["host"] == ["hv01", "hv02"] and values["backend"] == ["macvtap", "virtio"]
        for where, sql in queries(dashboard):
            rows = conn.execute(expand(sql, values, multi, start, end)).fetchall()
            assert rows, f"{where} returned no rows"
            ran.append(where)
        # the annotations name the drop, on the run it happened
        (annotation,) = [sql for where, sql in queries(dashboard) if where.startswith("annotation")]
        texts = [r[1] for r in conn.execute(expand(annotation, values, multi, start, end)).fetchall()]
        assert any(re.fullmatch(r"hv01 virtio: TCP Single Stream -(19|20|21)\.\d % \(2\.\d+ -> 1\.\d+ Gbps\)", t)
                   for t in texts), texts
    assert len(ran) == 3 + 6


def test_the_dashboard_and_its_provisioning_agree_on_the_data_source():
    dashboard = json.loads(DASHBOARD.read_text())
    (source,) = yaml.safe_load((PROVISIONING / "datasources" / "volt-netbench.yml").read_text())["datasources"]
    used = {json.dumps(p["datasource"], sort_keys=True) for p in dashboard["panels"]}
    used |= {json.dumps(v["datasource"], sort_keys=True) for v in dashboard["templating"]["list"]}
    used |= {json.dumps(a["datasource"], sort_keys=True) for a in dashboard["annotations"]["list"]}
    assert used == {json.dumps({"type": source["type"], "uid": source["uid"]}, sort_keys=True)}
    assert "password" not in source and source["secureJsonData"]["password"].startswith("$")
    (provider,) = yaml.safe_load((PROVISIONING / "dashboards" / "volt-netbench.yml").read_text())["providers"]
    assert provider["type"] == "file" and dashboard["uid"] == "volt-netbench"
