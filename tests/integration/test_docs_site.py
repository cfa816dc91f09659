"""The collection's documentation site, built from the checkout by scripts/docs.sh (antsibull-docs and Sphinx, the
way the Ansible documentation site renders collections; warnings are errors) and opened in headless Chromium:
a page for every module, plugin and role, generated from their own documentation, and every guide listed in
docs/docsite/extra-docs.yml; a module's reference and a guide render."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import yaml
from PIL import Image

from helpers import ROOT, chrome, run

pytestmark = pytest.mark.skipif(os.geteuid() != 0 and not shutil.which("chromium"),
                                reason="needs Debian's chromium, or root to install it")


def reference_pages() -> set[str]:
    """The page antsibull-docs makes for each module, plugin and role of the checkout (action plugins are documented
    by their module's file)."""
    kinds = {"modules": "module", "filter": "filter", "test": "test", "callback": "callback"}
    pages = {f"{p.stem}_{kind}.html" for folder, kind in kinds.items()
             for p in (ROOT / "plugins" / folder).glob("*.py") if p.stem != "__init__"}
    pages |= {f"{p.name}_role.html" for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file()}
    return pages


def guest_test_doc() -> str:
    text = (ROOT / "plugins" / "modules" / "guest_test.py").read_text()
    return text.split('DOCUMENTATION = r"""', 1)[1].split('"""', 1)[0]


def ink(png) -> float:
    with Image.open(png) as image:
        pixels = np.asarray(image.convert("RGB"))
    return float((pixels.sum(axis=2) < 600).mean())


def test_the_docs_site_builds_and_its_reference_and_guides_render(tmp_path, chromium):
    site = tmp_path / "site"
    run(["bash", ROOT / "scripts" / "docs.sh", site], timeout=900)
    html = site / "build" / "html"
    built = {p.name for p in html.glob("*.html")}
    assert reference_pages() <= built, sorted(reference_pages() - built)
    assert len(reference_pages()) >= 40  # 19 modules, 14 filters, a test, 2 callbacks, 6 roles at 0.9.0
    sections = yaml.safe_load((ROOT / "docs" / "docsite" / "extra-docs.yml").read_text())["sections"]
    guides = [g for section in sections for g in section["toctree"]]
    assert {p.stem for p in (ROOT / "docs" / "docsite" / "rst").glob("*.rst")} == set(guides), "a guide not listed"
    for guide in guides:
        assert (html / "docsite" / f"{guide}.html").is_file(), guide
    # the index links every guide and the reference
    index = chrome(chromium, "--dump-dom", (html / "index.html").as_uri()).stdout
    assert "Using the roles in your own lab" in index and 'href="guest_test_module.html' in index
    # a module's reference, rendered from its DOCUMENTATION: its title, its options, its return values
    module = chrome(chromium, "--dump-dom", (html / "guest_test_module.html").as_uri()).stdout
    assert "volt.netbench.guest_test module" in module
    options = yaml.safe_load(guest_test_doc())["options"]
    assert all(f'id="parameter-{option}"' in module for option in options), options
    assert 'id="return-exit_status"' in module
    # a role's reference from its argument_specs, and a guide whose references resolved into links
    role = chrome(chromium, "--dump-dom", (html / "qemu_guest_role.html").as_uri()).stdout
    assert "qemu_guest_boot_timeout" in role
    guide = chrome(chromium, "--dump-dom", (html / "docsite" / "own_lab.html").as_uri()).stdout
    assert "Using the roles in your own lab" in guide and "volt.netbench.qemu_guest" in guide
    assert 'href="../qemu_guest_role.html' in guide
    # rendered, not only parsed: the theme's styles loaded and the page has ink where a blank page has none
    for page, name in ((html / "guest_test_module.html", "module"), (html / "docsite" / "own_lab.html", "guide")):
        png = tmp_path / f"{name}.png"
        chrome(chromium, f"--screenshot={png}", "--window-size=1280,1600", page.as_uri())
        assert ink(png) > 0.02, name
    blank = tmp_path / "blank.html"
    blank.write_text("<!DOCTYPE html><html><body></body></html>")
    chrome(chromium, f"--screenshot={tmp_path / 'blank.png'}", "--window-size=1280,1600", blank.as_uri())
    assert ink(tmp_path / "blank.png") < 0.02
