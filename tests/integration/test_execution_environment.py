"""The execution environment for AWX / Automation Controller: the definition builds a context with
ansible-builder (no container engine needed), and its Python requirements are the collection's runtime
requirements - one list, the same one `ansible-builder introspect` reads from the installed collection."""

from __future__ import annotations

import yaml

from helpers import ROOT, run


def requirement_lines(text: str) -> list[str]:
    return [line.split("#", 1)[0].strip() for line in text.splitlines()
            if line.split("#", 1)[0].strip() and not line.startswith("-r")]


RUNTIME = requirement_lines((ROOT / "requirements.txt").read_text())


def test_one_list_of_python_requirements():
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    metadata = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert definition["dependencies"]["python"] == "requirements.txt"
    assert definition["dependencies"]["system"] == "bindep.txt"
    assert metadata["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    # the checkout's venv installs the same list (and pins the same controller the EE gets)
    controller = (ROOT / "requirements-controller.txt").read_text()
    assert "-r requirements.txt" in controller.splitlines()
    for package in ("ansible_core", "ansible_runner"):
        pin = definition["dependencies"][package]["package_pip"]
        assert pin in requirement_lines(controller), pin
    assert {"numpy", "scipy"} <= {line.split("==")[0] for line in RUNTIME}


def test_ansible_builder_creates_the_build_context(tmp_path, ansible_bin):
    context = tmp_path / "context"
    proc = run([ansible_bin / "ansible-builder", "create", "-f", ROOT / "execution-environment.yml",
                "--context", context, "-v", "3"])
    assert "Complete! The build context can be found at" in proc.stdout
    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.is_file())
    text = containerfile.read_text()
    assert "quay.io/ansible/awx-ee:latest" in text
    assert "ansible-core==2.19.14" in text and "ansible-runner==2.4.3" in text
    assert requirement_lines((context / "_build" / "requirements.txt").read_text()) == RUNTIME
    assert (context / "_build" / "bindep.txt").read_text() == (ROOT / "bindep.txt").read_text()


def test_introspect_of_the_installed_collection_agrees(tmp_path, ansible_bin):
    run([ansible_bin / "ansible-galaxy", "collection", "build", "--output-path", tmp_path / "dist", ROOT])
    tarball = next((tmp_path / "dist").glob("volt-netbench-*.tar.gz"))
    run([ansible_bin / "ansible-galaxy", "collection", "install", "--force", tarball, "-p", tmp_path / "colls"])
    proc = run([ansible_bin / "ansible-builder", "introspect", tmp_path / "colls"])
    found = yaml.safe_load(proc.stdout.split("---", 1)[1])
    ours = [line.split("#", 1)[0].strip() for line in found["python"] if "from collection volt.netbench" in line]
    assert ours == RUNTIME
    system = [line.split("#", 1)[0].strip() for line in found["system"] if "from collection volt.netbench" in line]
    assert system == requirement_lines((ROOT / "bindep.txt").read_text())
