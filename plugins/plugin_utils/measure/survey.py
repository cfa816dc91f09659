# Copyright: volt.netbench contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX / Automation Controller job-template survey for playbooks/benchmark.yml, generated from the
benchmark role's argument spec, so a choice added to the spec shows up in the survey (and a test fails
when the shipped survey file was not regenerated: ``scripts/survey.py``)."""

from __future__ import annotations

import json
import re
from typing import Any

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.matrix import MAX_REPEAT, PPS_SIZES, plan_tests

SURVEY_FILE = "meta/awx/benchmark-survey.json"


def _first_line(option: dict[str, Any]) -> str:
    """The option's first description paragraph, without ansible-doc markup (C(x) -> x)."""
    text = option.get("description") or ""
    if isinstance(text, list):
        text = text[0] if text else ""
    return re.sub(r"\b[CIOVM]\(([^()]*)\)", r"\1", " ".join(str(text).split()))


def survey_spec(argument_specs: dict[str, Any]) -> dict[str, Any]:
    """The survey: backend and profile as multiple choice, repeat, the native reference (true/false), the topology
    (same_host, cross_host), the tests
    as a multiselect, a sweep (its JSON text), the regression gate's baseline and tolerance, results_dir.
    Each question's variable is the playbook's short extra var; its choices and description come from the
    role's ``main`` argument spec."""
    options = argument_specs["argument_specs"]["main"]["options"]
    backend, profile = options["benchmark_backend"], options["benchmark_profile"]
    tests = [t["name"] for t in plan_tests("198.18.0.1", duration=1, ping_count=1, ping_interval=0.01,
                                           streams=8, pps_sizes=list(PPS_SIZES))]
    return {
        "name": "volt.netbench benchmark",
        "description": "Which QEMU network backend, and by how much: playbooks/benchmark.yml",
        "spec": [
            {"question_name": "Backend", "question_description": _first_line(backend), "required": True,
             "type": "multiplechoice", "variable": "backend", "choices": list(backend["choices"]),
             "default": backend["default"]},
            {"question_name": "Profile", "question_description": _first_line(profile), "required": True,
             "type": "multiplechoice", "variable": "profile", "choices": list(profile["choices"]),
             "default": profile["default"]},
            {"question_name": "Repetitions", "question_description":
                f"{_first_line(options['benchmark_repeat'])} Empty: the profile's.", "required": False,
             "type": "integer", "variable": "repeat", "min": 1, "max": MAX_REPEAT, "default": ""},
            {"question_name": "Native reference", "question_description": _first_line(options["benchmark_native"]),
             "required": True, "type": "multiplechoice", "variable": "native", "choices": ["true", "false"],
             "default": str(options["benchmark_native"]["default"]).lower()},
            {"question_name": "Topology", "question_description": _first_line(options["benchmark_topology"]),
             "required": True, "type": "multiplechoice", "variable": "topology",
             "choices": list(options["benchmark_topology"]["choices"]),
             "default": options["benchmark_topology"]["default"]},
            {"question_name": "Tests", "question_description": _first_line(options["benchmark_tests"]),
             "required": False, "type": "multiselect", "variable": "tests", "choices": tests, "default": ""},
            {"question_name": "Sweep (JSON)", "question_description":
                f"{_first_line(options['benchmark_sweep'])} Empty: one configuration.", "required": False,
             "type": "text", "variable": "sweep", "min": 0, "max": 1024, "default": ""},
            {"question_name": "Baseline run (regression gate)", "question_description":
                f"{_first_line(options['benchmark_against'])}", "required": False, "type": "text",
             "variable": "against", "min": 0, "max": 1024, "default": ""},
            {"question_name": "Tolerance (%)", "question_description": _first_line(options["benchmark_tolerance"]),
             "required": False, "type": "float", "variable": "tolerance", "min": 0, "max": 99,
             "default": options["benchmark_tolerance"]["default"]},
            {"question_name": "Results directory", "question_description":
                f"{_first_line(options['benchmark_results_dir'])} Empty: results/ in the project; inside the job "
                "template's results_base when it sets one.",
             "required": False, "type": "text", "variable": "results_dir", "min": 0, "max": 1024, "default": ""},
        ],
    }


def render(argument_specs: dict[str, Any]) -> str:
    return json.dumps(survey_spec(argument_specs), indent=2) + "\n"
