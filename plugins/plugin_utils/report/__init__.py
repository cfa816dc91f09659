# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The comparison report (REPORT.md, REPORT.html, report.json, summary.csv, charts) from recorded runs.

Every number, percentage, ranking and recommendation is computed from the runs' samples; the Jinja2
templates only lay the model out in the seed's shape. The package, by what each part decides:

- ``model``: which runs count and the whole model (``build_report``), the analysis lines;
- ``cells``: each row's cell per backend (mean ± interval of the per-repetition values), the tables'
  rows, % of native, the latency curves and where the host CPU went;
- ``anomalies``: what could not be measured or looks wrong, and why;
- ``context``: the environment, test configuration, method and reproducibility sections;
- ``render``: Markdown, HTML, CSV and writing the files;
- ``sweep``: a sweep's report - each point's report, SWEEP.md and the interactions, all points' comparisons in
  one family.

Significance is decided in one place, the statistics layer (plugin_utils/stats.py, verdicts.py), and
its prose in claims.py; raw files are read by results.py.
"""

from __future__ import annotations

from ansible_collections.volt.netbench.plugins.plugin_utils.report.cells import NA, fmt
from ansible_collections.volt.netbench.plugins.plugin_utils.report.model import build_report
from ansible_collections.volt.netbench.plugins.plugin_utils.report.render import (
    render_csv, render_html, render_markdown, report_files, shown_model, summary_rows, write_report)

__all__ = ["NA", "build_report", "fmt", "render_csv", "render_html", "render_markdown", "report_files",
           "shown_model", "summary_rows", "write_report"]
