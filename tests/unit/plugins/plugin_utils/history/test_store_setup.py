"""The results store's set-up pieces that need no database: the AWX credential type injects the DSN where the
playbooks read it, the role keeps it out of the log, and a DSN is told from a file and shown without its password."""

from __future__ import annotations

from pathlib import Path

import yaml

from ansible_collections.volt.netbench.plugins.plugin_utils.history import store

ROOT = Path(__file__).resolve().parents[5]


def test_the_credential_type_injects_the_dsn_as_the_variable_the_playbooks_read():
    cred = yaml.safe_load((ROOT / "meta/awx/store-credential-type.yml").read_text())
    (field,) = cred["inputs"]["fields"]
    assert field["secret"] is True and cred["inputs"]["required"] == [field["id"]]
    (variable, value), = cred["injectors"]["env"].items()
    assert value == "{{ " + field["id"] + " }}" and "extra_vars" not in cred["injectors"]
    for playbook in ("playbooks/vars/benchmark.yml", "playbooks/compare.yml"):
        assert f"lookup('ansible.builtin.env', '{variable}', default='')" in (ROOT / playbook).read_text()


def test_the_store_never_reaches_the_log():
    spec = yaml.safe_load((ROOT / "roles/benchmark/meta/argument_specs.yml").read_text())
    assert spec["argument_specs"]["main"]["options"]["benchmark_store"]["no_log"] is True
    for action in ("record_run", "compare_runs", "results_store"):
        text = (ROOT / f"plugins/action/{action}.py").read_text()
        assert '"store": {"type": "str"' in text and '"no_log": True' in text.split('"store":')[1].split("}")[0] + "}"


def test_a_dsn_is_told_from_a_file_and_shown_without_its_password():
    assert store.is_dsn("postgresql://volt:s3cret@db.example/vnb") and store.is_dsn("host=/run/pg dbname=vnb")
    assert store.is_dsn("postgres://db/vnb") and store.is_dsn("dbname = vnb")
    for path in ("/var/lib/volt-netbench/store.sqlite", "results/.store.sqlite", "./x=1.sqlite"):
        assert not store.is_dsn(path)
    assert store._redacted("postgresql://volt:s3cret@db/vnb") == "postgresql://volt:***@db/vnb"  # pylint: disable=protected-access
    assert store._redacted("host=db password=s3cret user=v") == "host=db password=*** user=v"  # pylint: disable=protected-access
    assert store._redacted("host=db password='a b' user=v") == "host=db password=*** user=v"  # pylint: disable=protected-access
