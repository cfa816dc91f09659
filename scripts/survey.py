"""Regenerates meta/awx/benchmark-survey.json (the AWX job-template survey) from the benchmark role's
argument spec. Run after changing roles/benchmark/meta/argument_specs.yml: .venv/bin/python scripts/survey.py"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / ".collections"))

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.survey import SURVEY_FILE, render  # noqa: E402

spec = yaml.safe_load((ROOT / "roles/benchmark/meta/argument_specs.yml").read_text(encoding="utf-8"))
(ROOT / SURVEY_FILE).write_text(render(spec), encoding="utf-8")
print(f"wrote {SURVEY_FILE}")
