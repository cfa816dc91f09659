"""Every role's defaults pass its own argument spec (a default the spec refuses breaks every run that keeps it:
benchmark_pps_mode's null once did)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROLES = sorted(p.parent.parent for p in (Path(__file__).resolve().parents[2] / "roles").glob("*/meta/argument_specs.yml"))


@pytest.mark.parametrize("role", ROLES, ids=lambda p: p.name)
def test_the_defaults_pass_the_argument_spec(role):
    spec = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    defaults_file = role / "defaults" / "main.yml"
    defaults = yaml.safe_load(defaults_file.read_text()) if defaults_file.exists() else {}
    # templated defaults are resolved by Ansible at run time; the rest are checked as written
    given = {k: v for k, v in (defaults or {}).items() if k in spec and not (isinstance(v, str) and "{{" in v)}
    options = {k: {key: value for key, value in v.items() if key != "description"} for k, v in spec.items()}
    result = ArgumentSpecValidator(options).validate(given)
    assert not result.error_messages, result.error_messages
    undocumented = sorted(k for k in (defaults or {}) if k not in spec and not k.startswith("__"))
    assert not undocumented, f"{role.name}: defaults without an argument spec: {undocumented}"
