# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build the comparison report (REPORT.md + report.json) from recorded runs.

Every number, percentage, ranking and recommendation is computed here from the runs'
samples; the Jinja2 template only lays the model out in the seed's shape.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import shlex
import statistics
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ansible_collections.volt.netbench.plugins.plugin_utils.matrix import BACKENDS, ROWS, SECTIONS, Row
from ansible_collections.volt.netbench.plugins.plugin_utils.results import ResultsError, load_runs, select_runs

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "templates"
TEMPLATE = "REPORT.md.j2"
NA = "n/a"
# Differences smaller than this (in percent) are called "within noise" in the findings.
NOISE_PERCENT = 5.0
ENV_ROWS = (
    ("Date", "date"),
    ("Host CPU", "host_cpu"),
    ("Host RAM", "host_ram"),
    ("Host NIC", "host_nic"),
    ("Host Kernel", "host_kernel"),
    ("VM vCPUs", "vm_vcpus"),
    ("VM RAM", "vm_ram"),
    ("Guest Kernel", "guest_kernel"),
    ("QEMU Version", "qemu_version"),
)
# Configuration that must match for runs to be compared fairly.
COMPARED_CONFIG = ("duration_s", "ping_count", "ping_interval_s", "parallel_streams", "pps_sizes", "profile")
COMPARED_ENV = ("host_cpu", "host_kernel", "vm_vcpus", "vm_ram", "guest_kernel", "qemu_version", "accelerator")
CATEGORY_TITLES = {
    "throughput": "Highest throughput",
    "latency": "Lowest latency",
    "pps": "Highest packet rate (lowest per-packet overhead)",
    "transactions": "Highest transaction rate",
}
# Properties of the backends themselves (not measurements): what each one costs to deploy.
TRADE_OFFS = {
    "virtio": "runs wherever QEMU and a tap device do: no vhost-net module, no dedicated NIC",
    "vhost-net": "keeps the bridge (multi-tenant, guests reach their host) but needs /dev/vhost-net",
    "macvtap": "bypasses the bridge: needs a lower NIC, and guests cannot reach their own host through it",
}
BRIDGE_BACKENDS = ("virtio", "vhost-net")


def fmt(value: float | None, digits: int) -> str:
    """Table cell text: thousands separators, fixed digits, n/a for a missing value."""
    if value is None:
        return NA
    return f"{value:,.{digits}f}"


def pct_change(value: float | None, base: float | None, higher_is_better: bool) -> float | None:
    """Improvement over ``base`` in percent: positive is better, whichever way 'better' points."""
    if value is None or base is None or base == 0:
        return None
    change = (value - base) / base * 100.0
    return change if higher_is_better else -change


def change_words(change: float | None) -> str:
    if change is None:
        return "no baseline to compare"
    if abs(change) < 0.05:
        return "no change"
    return f"{abs(change):.1f}% {'improvement' if change > 0 else 'regression'}"


def build_report(
    results_dir: str | os.PathLike,
    *,
    baseline: str = "virtio",
    run_ids: list[str] | None = None,
    display_dir: str | None = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The report model for the latest run per backend (or the given run ids)."""
    if baseline not in BACKENDS:
        raise ResultsError(f"baseline {baseline!r} is not one of {', '.join(BACKENDS)}")
    runs = load_runs(results_dir)
    if not runs:
        raise ResultsError(
            f"no recorded runs under {results_dir}: run 'ansible-playbook playbooks/benchmark.yml -e backend=virtio' first"
        )
    chosen = select_runs(runs, run_ids)
    shown_dir = display_dir or str(results_dir)
    anomalies: list[str] = []

    backends = []
    for name in BACKENDS:
        run = chosen.get(name)
        measured = run is not None and run.get("status") != "not_run"
        backends.append(
            {
                "name": name,
                "run_id": run["run_id"] if run else None,
                "status": run.get("status") if run else "absent",
                "reason": (run.get("reason") or "") if run else "",
                "measured": measured,
                "path": f"{shown_dir}/{name}/{run['run_id']}/" if run else None,
            }
        )
        if run is None:
            anomalies.append(f"{name}: not run — no recorded run under {shown_dir}/{name}/.")
        elif not measured:
            anomalies.append(f"{name}: not run — {_sentence(run.get('reason'), 'no reason recorded')}")
    measured = [b["name"] for b in backends if b["measured"]]

    tables = _tables(chosen, measured, anomalies)
    values = {(r["row"].test, r["row"].metric): r["values"] for section in tables.values() for r in section}
    for name in measured:
        anomalies.extend(_test_anomalies(chosen[name]))
        anomalies.extend(_quality_anomalies(chosen[name]))
    anomalies.extend(_environment_anomalies(chosen, measured))

    ranking = _ranking(tables, measured)
    model = {
        "generated": (now or dt.datetime.now(dt.timezone.utc)).isoformat(timespec="seconds"),
        "results_dir": shown_dir,
        "baseline": baseline,
        "backends": backends,
        "measured": measured,
        "environment": _environment(chosen, measured),
        "test_config": _test_config(chosen, measured),
        "tables": [
            {
                "key": key,
                "title": title,
                "first_column": first,
                "rows": [
                    {
                        "label": r["row"].label,
                        "test": r["row"].test,
                        "metric": r["row"].metric,
                        "unit": r["row"].unit,
                        "higher_is_better": r["row"].higher_is_better,
                        "values": r["values"],
                        "cells": r["cells"],
                    }
                    for r in tables[key]
                ],
            }
            for key, title, first in SECTIONS
        ],
        "analysis": _analysis(values, measured, baseline),
        "hierarchy": ranking,
        "recommendations": _recommendations(ranking, measured),
        "anomalies": anomalies,
        "raw_data": [b["path"] or f"{shown_dir}/{b['name']}/ (no run)" for b in backends],
        "reproducibility": _reproducibility(chosen, measured, shown_dir),
    }
    return model


def _value(run: dict[str, Any], row: Row) -> float | None:
    for sample in run.get("samples", []):
        if sample.get("test") == row.test and sample.get("metric") == row.metric:
            value = sample.get("value")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
                return float(value) * row.scale
    return None


def _tables(chosen: dict[str, dict], measured: list[str], anomalies: list[str]) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {section[0]: [] for section in SECTIONS}
    for row in ROWS:
        values: dict[str, float | None] = {}
        for name in BACKENDS:
            values[name] = _value(chosen[name], row) if name in measured else None
            if name in measured and values[name] is None:
                test = _find_test(chosen[name], row.test)
                if test is None:
                    anomalies.append(f"{name}: {row.label} is n/a — test {row.test} was not part of the run.")
                elif test["status"] == "ok":
                    anomalies.append(f"{name}: {row.label} is n/a — {row.test} recorded no {row.metric} sample.")
                # failed/skipped tests are listed once, with their message, by _test_anomalies
        cells = {name: fmt(values[name], row.digits) for name in BACKENDS}
        tables[row.section].append({"row": row, "values": values, "cells": cells})
    return tables


def _find_test(run: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((t for t in run.get("tests", []) if t.get("name") == name), None)


def _test_anomalies(run: dict[str, Any]) -> list[str]:
    out = []
    for test in run.get("tests", []):
        if test.get("status") == "failed":
            out.append(f"{run['backend']}: {test['name']} failed — {_sentence(test.get('message'), 'no message recorded')}")
        elif test.get("status") == "skipped":
            out.append(f"{run['backend']}: {test['name']} skipped — {_sentence(test.get('message'), 'no reason recorded')}")
    return out


def _quality_anomalies(run: dict[str, Any]) -> list[str]:
    out = []
    backend = run["backend"]
    for test in run.get("tests", []):
        parsed = test.get("parsed") or {}
        name = test["name"]
        if parsed.get("lost_packets"):
            out.append(
                f"{backend}: {name} lost {parsed['lost_percent']:.2f}% of UDP datagrams "
                f"({parsed['lost_packets']:,} of {parsed['packets']:,}); rates are receiver-side."
            )
        if parsed.get("retransmits"):
            out.append(f"{backend}: {name} had {parsed['retransmits']:,} TCP retransmits.")
        if "transmitted" in parsed and parsed["received"] < parsed["transmitted"]:
            out.append(
                f"{backend}: {name} incomplete — {parsed['received']:,} of {parsed['transmitted']:,} "
                f"echo replies ({parsed['loss_percent']:.1f}% loss)."
            )
        if parsed.get("round_trip") is False:
            out.append(
                f"{backend}: {name} latency is one-way (sockperf without --full-rtt), not a round trip like ICMP."
            )
        if parsed.get("dropped"):
            out.append(f"{backend}: {name} dropped {parsed['dropped']:,} messages.")
    return out


def _environment_anomalies(chosen: dict[str, dict], measured: list[str]) -> list[str]:
    out = []
    tcg = [n for n in measured if str(chosen[n].get("environment", {}).get("accelerator", "")).lower() == "tcg"]
    if tcg:
        out.append(
            f"{', '.join(tcg)} ran under TCG (software emulation, no KVM): figures are not representative of "
            "KVM and only the relative comparison is meaningful."
        )
    unknown = [n for n in measured if not chosen[n].get("environment", {}).get("accelerator")]
    if unknown:
        out.append(f"{', '.join(unknown)}: accelerator not recorded.")
    for scope, keys in (("config", COMPARED_CONFIG), ("environment", COMPARED_ENV)):
        for key in keys:
            seen = {n: chosen[n].get(scope, {}).get(key) for n in measured}
            distinct = {json.dumps(v, sort_keys=True) for v in seen.values()}
            if len(distinct) > 1:
                parts = "; ".join(f"{n}: {_show(v)}" for n, v in seen.items())
                out.append(f"Mismatched {scope} between compared runs — {key} differs ({parts}).")
    return out


def _sentence(text: str | None, default: str) -> str:
    """One line of text that ends with exactly one full stop (or its own ? / !)."""
    text = " ".join(str(text or "").split()) or default
    return text if text[-1] in ".?!" else text + "."


def _show(value: Any) -> str:
    if value is None or value == "":
        return NA
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _environment(chosen: dict[str, dict], measured: list[str]) -> list[dict[str, str]]:
    rows = []
    names = measured or [n for n in BACKENDS if n in chosen]
    for label, key in ENV_ROWS:
        seen = {}
        for name in names:
            env = chosen[name].get("environment", {})
            value = env.get(key)
            if key == "date" and not value:
                value = str(chosen[name].get("started", ""))[:10]
            seen[name] = _show(value)
        distinct = sorted(set(seen.values()))
        if not seen:
            text = NA
        elif len(distinct) == 1:
            text = distinct[0]
        elif key == "date":
            text = " – ".join((distinct[0], distinct[-1]))
        else:
            text = "; ".join(f"{n}: {v}" for n, v in seen.items())
        rows.append({"label": label, "value": text})
    return rows


def _test_config(chosen: dict[str, dict], measured: list[str]) -> dict[str, str]:
    def agreed(key: str, unit: str = "") -> str:
        seen = {n: chosen[n].get("config", {}).get(key) for n in measured}
        known = {json.dumps(v) for v in seen.values() if v is not None}
        if not known:
            return NA
        if len(known) == 1:
            return f"{_show(next(v for v in seen.values() if v is not None))}{unit}"
        return "; ".join(f"{n}: {_show(v)}{unit}" for n, v in seen.items())

    accel = sorted({str(chosen[n].get("environment", {}).get("accelerator") or NA) for n in measured})
    return {
        "duration": agreed("duration_s", " seconds per test"),
        "ping_count": agreed("ping_count", " packets"),
        "ping_interval": agreed("ping_interval_s", " s"),
        "streams": agreed("parallel_streams"),
        "pps_sizes": agreed("pps_sizes"),
        "profile": agreed("profile"),
        "accelerator": ", ".join(accel) if accel else NA,
    }


def _analysis(values: dict[tuple[str, str], dict], measured: list[str], baseline: str) -> dict[str, Any]:
    single = ROWS[0]
    multi = ROWS[1]
    icmp_p50, icmp_p99 = _row("ping", "rtt_p50_us"), _row("ping", "rtt_p99_us")
    tcp_p50, tcp_p99 = _row("sockperf_tcp", "latency_p50_us"), _row("sockperf_tcp", "latency_p99_us")
    pps64 = _row("pps_64", "received_pps")

    def versus(row: Row) -> list[dict[str, Any]]:
        vals = values[(row.test, row.metric)]
        base = vals.get(baseline)
        lines = []
        for name in BACKENDS:
            value = vals.get(name)
            if name == baseline:
                note = "baseline" if value is not None else "baseline, not measured"
                change = None
            else:
                change = pct_change(value, base, row.higher_is_better)
                note = change_words(change) if value is not None else "not measured"
            text = f"{fmt(value, row.digits)} {row.unit}" if value is not None else NA
            lines.append({"backend": name, "value": value, "text": text, "change": change, "note": note})
        return lines

    def jitter(p50: Row, p99: Row) -> dict[str, float | None]:
        out = {}
        for name in BACKENDS:
            a, b = values[(p50.test, p50.metric)].get(name), values[(p99.test, p99.metric)].get(name)
            out[name] = b / a if a and b is not None else None
        return out

    icmp_jitter, tcp_jitter = jitter(icmp_p50, icmp_p99), jitter(tcp_p50, tcp_p99)
    latency_lines = []
    for name in BACKENDS:
        latency_lines.append(
            {
                "backend": name,
                "p99": f"{_us(values[(icmp_p99.test, icmp_p99.metric)].get(name))} ICMP, "
                f"{_us(values[(tcp_p99.test, tcp_p99.metric)].get(name))} TCP",
                "jitter": f"{_ratio(icmp_jitter[name])} ICMP, {_ratio(tcp_jitter[name])} TCP",
                "icmp_jitter": icmp_jitter[name],
                "tcp_jitter": tcp_jitter[name],
            }
        )
    return {
        "throughput": versus(single),
        "throughput_finding": _finding([single, multi, ROWS[2], ROWS[3]], values, measured, baseline),
        "latency": latency_lines,
        "latency_finding": _latency_finding(values, measured, icmp_jitter, tcp_jitter),
        "pps": versus(pps64),
        "pps_finding": _finding([pps64] + [_row(f"pps_{s}", "received_pps") for s in (128, 256, 512)],
                                values, measured, baseline),
    }


def _row(test: str, metric: str) -> Row:
    return next(r for r in ROWS if r.test == test and r.metric == metric)


def _us(value: float | None) -> str:
    return NA if value is None else f"{fmt(value, 1)} µs"


def _ratio(value: float | None) -> str:
    return NA if value is None else f"{value:.2f}x"


def _leader(vals: dict[str, float | None], higher_is_better: bool) -> tuple[str, float] | None:
    present = [(n, v) for n, v in vals.items() if v is not None]
    if not present:
        return None
    return (max if higher_is_better else min)(present, key=lambda item: item[1])


def _finding(rows: list[Row], values: dict, measured: list[str], baseline: str) -> str:
    """Sentences naming the leader of each row and how far the others are from the baseline."""
    if not measured:
        return "No backend was measured."
    sentences = []
    for row in rows:
        vals = values[(row.test, row.metric)]
        lead = _leader(vals, row.higher_is_better)
        if lead is None:
            sentences.append(f"{row.label}: no backend produced a value.")
            continue
        name, value = lead
        present = [n for n, v in vals.items() if v is not None]
        if len(present) == 1:
            sentences.append(f"{row.label}: only {name} was measured ({fmt(value, row.digits)} {row.unit}).")
            continue
        others = sorted((n for n in present if n != name), key=lambda n: vals[n], reverse=row.higher_is_better)
        runner = others[0]
        gap = pct_change(value, vals[runner], row.higher_is_better)
        verdict = (
            f"{gap:.1f}% ahead of {runner}"
            if gap is not None and gap >= NOISE_PERCENT
            else f"within {NOISE_PERCENT:.0f}% of {runner}, which a single run cannot separate"
        )
        base_value = vals.get(baseline)
        base_note = ""
        if name != baseline and base_value is not None:
            base_note = f"; {change_words(pct_change(value, base_value, row.higher_is_better))} over {baseline}"
        sentences.append(f"{row.label}: {name} leads with {fmt(value, row.digits)} {row.unit} ({verdict}{base_note}).")
    return " ".join(sentences)


def _latency_finding(values: dict, measured: list[str], icmp_jitter: dict, tcp_jitter: dict) -> str:
    if not measured:
        return "No backend was measured."
    parts = []
    for test, metric, label in (("ping", "rtt_p99_us", "ICMP P99"), ("sockperf_tcp", "latency_p99_us", "TCP P99")):
        vals = values[(test, metric)]
        lead = _leader(vals, False)
        worst = _leader(vals, True)
        if lead is None:
            parts.append(f"{label}: no backend produced a value.")
        elif sum(v is not None for v in vals.values()) == 1:
            parts.append(f"{label}: only {lead[0]} was measured ({fmt(lead[1], 1)} µs).")
        elif lead[1] == worst[1]:
            parts.append(f"{label}: equal on every measured backend ({fmt(lead[1], 1)} µs).")
        else:
            ratio = worst[1] / lead[1] if lead[1] else None
            parts.append(
                f"{label}: lowest on {lead[0]} ({fmt(lead[1], 1)} µs), highest on {worst[0]} "
                f"({fmt(worst[1], 1)} µs{', ' + _ratio(ratio) + ' of the lowest' if ratio else ''})."
            )
    for label, jit in (("ICMP", icmp_jitter), ("TCP", tcp_jitter)):
        lead = _leader(jit, False)
        worst = _leader(jit, True)
        if lead and worst and lead[1] != worst[1]:
            parts.append(
                f"Steadiest {label} tail (P99/P50): {lead[0]} at {_ratio(lead[1])}; widest: {worst[0]} at {_ratio(worst[1])}."
            )
        elif lead:
            parts.append(f"{label} P99/P50 jitter on {lead[0]}: {_ratio(lead[1])}.")
    return " ".join(parts)


def _ranking(tables: dict[str, list[dict]], measured: list[str]) -> list[dict[str, Any]]:
    """Rank measured backends by the geometric mean of their per-category scores.

    A row's score for a backend is value/best (higher is better) or best/value (lower is
    better), 1.0 for the leader. Only rows every measured backend has a value for count, so a
    failed test cannot lift or sink a backend. A category's score is the geometric mean of its
    rows; the composite is the geometric mean of the categories.
    """
    if not measured:
        return []
    categories: dict[str, dict[str, float]] = {}
    leaders: dict[str, list[str]] = {}
    for key in (section[0] for section in SECTIONS):
        row_scores: dict[str, list[float]] = {n: [] for n in measured}
        for item in tables[key]:
            row, vals = item["row"], item["values"]
            present = {n: vals[n] for n in measured if vals[n] is not None and vals[n] > 0}
            if len(present) != len(measured):
                continue
            best = max(present.values()) if row.higher_is_better else min(present.values())
            for name, value in present.items():
                row_scores[name].append(value / best if row.higher_is_better else best / value)
        if all(row_scores[n] for n in measured):
            categories[key] = {n: statistics.geometric_mean(row_scores[n]) for n in measured}
            top = max(categories[key].values())
            leaders[key] = [n for n in measured if categories[key][n] >= top - 1e-9]
    ranked = []
    for name in measured:
        scores = [categories[c][name] for c in categories]
        composite = statistics.geometric_mean(scores) if scores else None
        ranked.append({"backend": name, "score": composite, "categories": {c: categories[c][name] for c in categories}})
    ranked.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0)))
    top_score = ranked[0]["score"]
    for position, item in enumerate(ranked, start=1):
        item["rank"] = position
        item["score_text"] = f"{item['score']:.2f}" if item["score"] is not None else NA
        best_for = [
            f"{CATEGORY_TITLES[c]} ({_category_note(c, item['backend'], categories[c], leaders[c])})"
            for c in categories
            if item["backend"] in leaders[c]
        ]
        if not best_for:
            if item["score"] is not None and top_score:
                behind = (1 - item["score"] / top_score) * 100
                best_for.append(f"No category lead; composite score {behind:.1f}% behind {ranked[0]['backend']}")
            else:
                best_for.append("Not comparable: no test that every measured backend completed")
        best_for.append(f"Trade-off: {TRADE_OFFS[item['backend']]}")
        item["best_for"] = best_for
    return ranked


def _category_note(category: str, name: str, scores: dict[str, float], leaders: list[str]) -> str:
    others = {n: v for n, v in scores.items() if n not in leaders}
    if len(scores) == 1:
        return f"{category} category: only backend measured"
    if not others:
        return f"{category} category: tied at {scores[name]:.2f} with {', '.join(n for n in leaders if n != name)}"
    runner = max(others, key=others.get)
    return f"{category} category score {scores[name]:.2f} vs {others[runner]:.2f} for {runner}"


def _recommendations(ranking: list[dict[str, Any]], measured: list[str]) -> dict[str, str]:
    by_name = {r["backend"]: r for r in ranking}
    bridge = [r for r in ranking if r["backend"] in BRIDGE_BACKENDS and r["score"] is not None]
    out = {}
    if bridge:
        default = bridge[0]
        others = bridge[1:]
        why = f"ranked #{default['rank']} of {len(ranking)}, composite score {default['score_text']}"
        if others:
            why += f"; best bridge backend, {others[0]['backend']} scores {others[0]['score_text']}"
        out["default"] = f"`{default['backend']}` ({why})"
    else:
        default = None
        out["default"] = f"{NA} (no bridge backend — virtio or vhost-net — was measured)"
    mac = by_name.get("macvtap")
    if mac is None or mac["score"] is None:
        out["high_performance"] = f"`macvtap`: {NA} (not measured)"
    elif default is None or mac["score"] > default["score"]:
        gain = f", {(mac['score'] / default['score'] - 1) * 100:.1f}% above {default['backend']}" if default else ""
        out["high_performance"] = (
            f"`macvtap` (when a dedicated lower NIC is available; composite score {mac['score_text']}{gain})"
        )
    else:
        out["high_performance"] = (
            f"none measured above the default: macvtap scored {mac['score_text']}, "
            f"not above {default['backend']} ({default['score_text']})"
        )
    virtio = by_name.get("virtio")
    if virtio is None or virtio["score"] is None:
        out["fallback"] = f"`virtio`: {NA} (not measured)"
    elif default is not None and default["backend"] == "virtio":
        out["fallback"] = "`virtio` (it is also the default: no faster bridge backend was measured)"
    else:
        ref = default or ranking[0]
        out["fallback"] = (
            f"`virtio` (needs nothing beyond QEMU and tap; composite score {virtio['score_text']}, "
            f"{(1 - virtio['score'] / ref['score']) * 100:.1f}% below {ref['backend']})"
        )
    return out


def _reproducibility(chosen: dict[str, dict], measured: list[str], shown_dir: str) -> dict[str, Any]:
    commands = []
    server: list[str] = []
    for name in BACKENDS:
        run = chosen.get(name)
        if run is None:
            commands.append(f"ansible-playbook playbooks/benchmark.yml -e backend={name}")
            continue
        extra = dict(run.get("config", {}).get("extra_vars") or {})
        extra["backend"] = name
        args = " ".join(f"-e {shlex.quote(f'{k}={_evar(v)}')}" for k, v in sorted(extra.items()))
        commands.append(f"ansible-playbook playbooks/benchmark.yml {args}")
        for cmd in run.get("config", {}).get("server_commands") or []:
            text = cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)
            if text not in server:
                server.append(text)
    client = []
    for name in measured:
        for test in chosen[name].get("tests", []):
            cmd = test.get("command")
            if cmd:
                client.append(f"{test['name']}: {cmd if isinstance(cmd, str) else shlex.join(str(c) for c in cmd)}")
        break
    return {
        "benchmark": commands,
        "compare": f"ansible-playbook playbooks/compare.yml -e results_dir={shlex.quote(shown_dir)}",
        "server": server,
        "client": client,
    }


def _evar(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def render_markdown(model: dict[str, Any]) -> str:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    return env.get_template(TEMPLATE).render(report=model)


def write_report(model: dict[str, Any], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write REPORT.md and report.json atomically into ``out_dir``."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    md_path, json_path = out / "REPORT.md", out / "report.json"
    for path, text in ((md_path, render_markdown(model)), (json_path, json.dumps(model, indent=2, sort_keys=True) + "\n")):
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    return md_path, json_path
