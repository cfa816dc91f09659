# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The report's files: Markdown and HTML from the Jinja2 templates (no numbers in them), summary.csv, and
writing them with the charts."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ansible_collections.volt.netbench.plugins.plugin_utils.report import charts
from ansible_collections.volt.netbench.plugins.plugin_utils.core.files import csv_row, ensure_dir, write_atomic
from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import row_name


TEMPLATE_DIR = Path(__file__).resolve().parents[3] / "templates"


TEMPLATE = "REPORT.md.j2"


HTML_TEMPLATE = "REPORT.html.j2"


class Verbatim(str):
    """Text a Markdown template puts inside a fenced code block or a code span, where it is shown as it is."""


# What Markdown (and the HTML a lenient viewer lets through) would read as structure: escaped in every value a
# Markdown template prints, so that a tool's or a guest's text (stderr, uname -r, a NIC's name) stays text.
_MD_ESCAPES = {"\\": "\\\\", "|": "\\|", "\n": " ", "\r": " "}
# what could open an HTML tag, comment or autolink: '<' before a letter, '/', '!' or '?' ("p < 0.05" stays)
_MD_TAG = re.compile(r"<(?=[A-Za-z/!?])")


def md_escape(value: Any) -> Any:
    """A Markdown template's finalize: every printed value escaped for Markdown text (``|`` and ``\\`` with a
    backslash; ``<`` that could open a tag or an autolink as ``&lt;``; ``](`` as ``]\\(``, so no link or image;
    line breaks as spaces); Verbatim values and non-strings as they are. Brackets, backticks and emphasis are left
    alone: the report's own sentences use them (intervals, commands), and they add no HTML, links or cells."""
    if isinstance(value, Verbatim) or not isinstance(value, str):
        return value
    text = "".join(_MD_ESCAPES.get(char, char) for char in value)
    return _MD_TAG.sub("&lt;", text).replace("](", "]\\(")


def verbatim(value: Any) -> Verbatim:
    """The ``verbatim`` filter: VALUE inside a fenced code block or code span - not escaped, but it cannot end the
    block (runs of three backticks are broken up) or the span (a backtick becomes a quote)."""
    return Verbatim(str(value).replace("```", "`\u200b``"))


def code(value: Any) -> Verbatim:
    """The ``code`` filter: VALUE inside a code span (`...`) - not escaped; a backtick, which would end the span,
    becomes a quote."""
    return Verbatim(str(value).replace("`", "'"))


def jinja_env(autoescape: bool) -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=autoescape,
        # HTML is autoescaped; Markdown escapes each value it prints
        finalize=None if autoescape else md_escape,
    )
    env.filters["verbatim"] = verbatim
    env.filters["code"] = code
    return env


def shown_model(model: dict[str, Any]) -> dict[str, Any]:
    """The model as the report's readers get it - REPORT.md, REPORT.html, report.json: its history is what a report
    shows of it (history.shown: a window of recent runs, the newest change points), whatever the history's length;
    the whole history goes to history.csv (and stays in the store)."""
    from ansible_collections.volt.netbench.plugins.plugin_utils.history.history import shown  # pylint: disable=import-outside-toplevel

    return {**model, "history": shown(model["history"])} if model.get("history") else model


def render_markdown(model: dict[str, Any]) -> str:
    return jinja_env(autoescape=False).get_template(TEMPLATE).render(report=shown_model(model))


def render_html(model: dict[str, Any], svgs: dict[str, str] | None = None) -> str:
    """REPORT.html from the same model as REPORT.md (not from the Markdown): one self-contained file,
    the charts inline as SVG (SVGS: chart key -> the SVG document), no external requests."""
    inline = {key: Markup(_svg_element(text)) for key, text in (svgs or {}).items()}
    return jinja_env(autoescape=True).get_template(HTML_TEMPLATE).render(report=shown_model(model), svgs=inline)


def _svg_element(text: str) -> str:
    """The <svg> element of an SVG document (without its XML declaration and doctype)."""
    start = text.find("<svg")
    return text[start:] if start >= 0 else ""


SUMMARY_FIELDS = ("backend", "section", "metric", "unit", "n", "mean", "interval_half_width", "low", "high",
                  "shown", "run_id")


def summary_rows(model: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per backend (and native) x metric of the report's tables: n, mean, interval, unit, run id."""
    run_ids = {b["name"]: b["run_id"] for b in model["backends"] + [model["reference"]]}
    out = []
    for table in model["tables"]:
        for row in table["rows"]:
            for name in model["columns"]:
                cell = row["statistics"].get(name)
                if not cell or not cell.get("n"):
                    continue
                out.append({
                    "backend": name, "section": table["key"], "metric": row_name(table["key"], row["label"]),
                    "unit": row["unit"],
                    "n": cell["n"], "mean": cell["mean"], "interval_half_width": cell["half"],
                    "low": cell["low"], "high": cell["high"], "shown": cell["value"], "run_id": run_ids.get(name),
                })
    return out


def render_csv(model: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=SUMMARY_FIELDS, lineterminator="\n")
    writer.writeheader()
    for row in summary_rows(model):
        writer.writerow(csv_row({k: ("" if v is None else v) for k, v in row.items()}))
    return buffer.getvalue()


def report_files(model: dict[str, Any]) -> list[str]:
    """Every file write_report writes, relative to its directory."""
    names = ["REPORT.md", "report.json", "REPORT.html", "summary.csv"]
    for chart in model.get("charts") or []:
        names += [chart["svg"], chart["png"]]
    history = shown_model(model).get("history") or {}
    if history.get("runs"):
        names.append("history.csv")
    for chart in history.get("charts") or []:
        names.append(chart["svg"])  # a trend chart is SVG only
    return names


def write_report(model: dict[str, Any], out_dir: str | os.PathLike) -> tuple[Path, Path]:
    """Write the charts, REPORT.md, report.json, REPORT.html and summary.csv atomically into ``out_dir`` - what the
    readers get of the history is bounded (shown_model), the whole of it goes to history.csv."""
    out = Path(out_dir)
    ensure_dir(out)
    svgs = charts.draw(model, out) if model.get("charts") else {}
    history = model.get("history") or {}
    public = shown_model(model)
    svgs.update(charts.draw_history(public.get("history") or {}, out))
    md_path, json_path = out / "REPORT.md", out / "report.json"
    texts = [(md_path, render_markdown(public)), (json_path, json.dumps(public, indent=2, sort_keys=True) + "\n"),
             (out / "REPORT.html", render_html(public, svgs)), (out / "summary.csv", render_csv(model))]
    if history.get("runs"):
        from ansible_collections.volt.netbench.plugins.plugin_utils.history.history import history_csv  # pylint: disable=import-outside-toplevel

        texts.append((out / "history.csv", history_csv(history)))
    for path, text in texts:
        write_atomic(path, text)
    return md_path, json_path
