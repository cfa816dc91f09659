"""The layout shows the design: plugin_utils is grouped by responsibility, and every import between its groups
points down LAYERS (core -> statistics -> parsers -> measure -> analysis -> history -> report -> run) - an import
that points back up fails here, naming the module and the import. Read from the source (ast), not by importing."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ansible_collections.volt.netbench.plugins import plugin_utils

PU = Path(plugin_utils.__file__).resolve().parent
PREFIX = "ansible_collections.volt.netbench.plugins.plugin_utils"


def group_imports(path: Path) -> list[tuple[int, str]]:
    """(line, group) of every import of a plugin_utils group in the module at PATH."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: a relative import - name the group")
        names = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names] \
            if isinstance(node, ast.Import) else []
        for name in names:
            if name == PREFIX and isinstance(node, ast.ImportFrom):
                out += [(node.lineno, a.name) for a in node.names]
            elif name and name.startswith(PREFIX + "."):
                out.append((node.lineno, name[len(PREFIX) + 1:].split(".")[0]))
    return out


def violations(root: Path, layers: tuple[str, ...]) -> list[str]:
    """Every import in the groups under ROOT that points to a later group in LAYERS, or to something outside them."""
    rank = {group: i for i, group in enumerate(layers)}
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if len(rel.parts) == 1:
            continue  # plugin_utils/__init__.py: the layers' own definition
        group = rel.parts[0]
        if group not in rank:
            found.append(f"{rel}: in no group of {', '.join(layers)}")
            continue
        for line, target in group_imports(path):
            if target not in rank:
                found.append(f"{rel}:{line}: imports {target}, which is in no group")
            elif rank[target] > rank[group]:
                found.append(f"{rel}:{line}: {group} imports {target}, which comes after it")
    return found


def test_every_module_is_in_a_group_and_every_import_points_down_the_layers():
    assert sorted(p.name for p in PU.iterdir() if p.is_dir() and p.name != "__pycache__") == sorted(plugin_utils.LAYERS)
    assert [p.name for p in PU.glob("*.py")] == ["__init__.py"]
    assert violations(PU, plugin_utils.LAYERS) == []


def test_each_group_says_what_it_owns():
    for group in plugin_utils.LAYERS:
        doc = ast.get_docstring(ast.parse((PU / group / "__init__.py").read_text(encoding="utf-8")))
        assert doc and len(doc) > 100, f"{group}/__init__.py needs a docstring saying what the group owns"


def test_an_import_that_points_back_up_is_found(tmp_path):
    """The check itself: a low group importing a higher one, and a module outside the groups, are reported."""
    for group, text in (("core", f"from {PREFIX}.report.model import build_report\n"),
                        ("report", f"from {PREFIX}.core import files\nfrom {PREFIX} import run\n"),
                        ("run", "")):
        (tmp_path / group).mkdir()
        (tmp_path / group / "__init__.py").write_text("")
        (tmp_path / group / "mod.py").write_text(text)
    (tmp_path / "stray").mkdir()
    (tmp_path / "stray" / "x.py").write_text("")
    found = violations(tmp_path, ("core", "report", "run"))
    assert found == ["core/mod.py:1: core imports report, which comes after it",
                     "report/mod.py:2: report imports run, which comes after it",
                     "stray/x.py: in no group of core, report, run"]
    (tmp_path / "core" / "rel.py").write_text("from . import mod\n")
    with pytest.raises(AssertionError, match="relative import"):
        violations(tmp_path, ("core", "report", "run"))
