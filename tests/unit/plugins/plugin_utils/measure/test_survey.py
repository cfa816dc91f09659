"""The AWX survey shipped in meta/awx/ is what the benchmark role's argument spec makes of it."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import yaml

from ansible_collections.volt.netbench.plugins.plugin_utils.measure.survey import SURVEY_FILE, render, survey_spec

ROOT = Path(__file__).resolve().parents[5]
SPEC = yaml.safe_load((ROOT / "roles/benchmark/meta/argument_specs.yml").read_text())
# the question types of an AWX survey spec (awx/api/templates/api/job_template_survey_spec.md)
AWX_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def test_the_shipped_survey_is_generated_from_the_argument_spec():
    assert (ROOT / SURVEY_FILE).read_text() == render(SPEC), "run scripts/survey.py and commit the result"


def test_a_choice_added_to_the_spec_shows_up_in_the_survey():
    spec = copy.deepcopy(SPEC)
    spec["argument_specs"]["main"]["options"]["benchmark_backend"]["choices"].append("vdpa")
    backend = next(q for q in survey_spec(spec)["spec"] if q["variable"] == "backend")
    assert backend["choices"][-1] == "vdpa"
    assert render(spec) != (ROOT / SURVEY_FILE).read_text()


def test_every_question_is_a_valid_awx_question_the_playbook_reads():
    survey = json.loads((ROOT / SURVEY_FILE).read_text())
    # the playbook maps the short extra vars onto the role variables in its vars file
    playbook = (ROOT / "playbooks/vars/benchmark.yml").read_text()
    options = SPEC["argument_specs"]["main"]["options"]
    variables = [q["variable"] for q in survey["spec"]]
    assert variables == ["backend", "profile", "repeat", "native", "topology", "tests", "sweep", "against",
                         "tolerance", "results_dir"]
    for question in survey["spec"]:
        assert question["type"] in AWX_TYPES
        assert {"question_name", "variable", "required", "type", "default"} <= set(question)
        # the playbook maps the short extra var onto the role variable
        assert re.search(rf"\b{question['variable']} \| default\(", playbook), question["variable"]
        if question["type"] in ("multiplechoice", "multiselect"):
            assert question["choices"] and all(isinstance(c, str) for c in question["choices"])
    by_var = {q["variable"]: q for q in survey["spec"]}
    assert by_var["backend"]["choices"] == options["benchmark_backend"]["choices"]
    assert by_var["backend"]["default"] == options["benchmark_backend"]["default"]
    assert by_var["profile"]["choices"] == options["benchmark_profile"]["choices"]
    assert by_var["topology"]["choices"] == ["same_host", "cross_host"] and by_var["topology"]["default"] == "same_host"
    assert by_var["tests"]["choices"][:2] == ["iperf3_tcp_single", "iperf3_tcp_multi"]
    assert len(by_var["tests"]["choices"]) == 15
    assert (by_var["repeat"]["min"], by_var["repeat"]["max"]) == (1, 50)
    # the regression gate: an empty baseline is no gate; the tolerance's default is the role's
    assert by_var["against"]["default"] == "" and not by_var["against"]["required"]
    assert by_var["tolerance"]["type"] == "float" and by_var["tolerance"]["default"] == 5
    # a sweep as the JSON text a survey answers with (the role reads a mapping or its text: sweep.parse)
    assert by_var["sweep"]["type"] == "text" and by_var["sweep"]["default"] == ""
    # AWX sends the choice as a string: the role's bool argument spec takes "true"/"false"
    assert by_var["native"]["choices"] == ["true", "false"] and by_var["native"]["default"] == "true"
