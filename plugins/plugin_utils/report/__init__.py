# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The files people read: the comparison report (REPORT.md, REPORT.html, report.json, summary.csv, charts) from
recorded runs, a sweep's report and a fleet's. Imports every group below it (core, statistics, parsers, measure,
analysis, history), never ``run``.

Every number, percentage, ranking and recommendation is computed from the runs' samples; the Jinja2
templates only lay the model out in the seed's shape. The group, by what each part decides:

- ``model``: which runs count and the whole model (``build_report``), the analysis lines;
- ``anomalies``: what could not be measured or looks wrong, and why;
- ``context``: the environment, test configuration, method and reproducibility sections;
- ``render``: Markdown, HTML, CSV and writing the files;
- ``sweep``: a sweep's report - each point's report, SWEEP.md and the interactions, all points' comparisons in
  one family;
- ``fleet``: a fleet's REPORT.md and fleet.csv, the backends compared with the hosts as blocks;
- ``charts``: every chart (matplotlib), drawn from what the model holds.

Each row's cells (``analysis.cells``), significance (``statistics.stats``, ``analysis.verdicts``) and its prose
(``analysis.claims``) are decided below this group; raw files are read by ``measure.results``.
"""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.plugin_utils.analysis.cells import NA, fmt
from ansible_collections.volt.netbench.plugins.plugin_utils.report.model import build_report
from ansible_collections.volt.netbench.plugins.plugin_utils.report.render import (
    render_csv, render_html, render_markdown, report_files, shown_model, summary_rows, write_report)

__all__ = ["NA", "build_report", "fmt", "render_csv", "render_html", "render_markdown", "report_files",
           "shown_model", "summary_rows", "write_report"]
