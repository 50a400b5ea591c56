"""The documentation site builds, every warning of the build is known, and the site holds what it promises.

The build (``docs_build`` in conftest.py) runs Sphinx nitpicky (``-n``) into a temporary folder, the way ``make docs``
does but without ``-W``, so that one run reports every warning. A warning fails ``test_no_new_warnings`` unless
``docs/known_warnings.txt`` lists it. That file holds the warnings of package docstrings that existed when the build
was introduced (issue 17, while the packages were being rewritten); it may only shrink: a listed warning that no
longer occurs fails ``test_known_warnings_still_occur`` until its line is deleted. ``make docs`` ignores the file and
fails on every warning.
"""

from __future__ import annotations

import importlib
import inspect
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KNOWN_WARNINGS = ROOT / "docs" / "known_warnings.txt"

sys.path.insert(0, str(ROOT / "docs" / "_ext"))
graphdiff_docs = importlib.import_module("graphdiff_docs")

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("docs")]


def known_warnings() -> set[str]:
    if not KNOWN_WARNINGS.exists():
        return set()
    return {
        line.strip() for line in KNOWN_WARNINGS.read_text().splitlines() if line.strip() and not line.startswith("#")
    }


def test_normalize_warnings_keys_are_stable():
    root = Path("/repo")
    text = (
        "/repo/graphdiff/a.py:docstring of graphdiff.a.f:12: WARNING: py:class reference target not found: X [ref]\n"
        "WARNING: [numpydoc] Validation warnings while processing docstring for 'graphdiff.a.g':\n"
        "  PR01: Parameters {'b', 'a'} not documented\n"
        "  PR02: Unknown parameters {'x: one, two', 'c'}\n"
        "\n"
        "/repo/docs/index.md:3: WARNING: undefined label: 'x'\n"
    )
    assert graphdiff_docs.normalize_warnings(text, root) == {
        "graphdiff/a.py:docstring of graphdiff.a.f: WARNING: py:class reference target not found: X [ref]",
        "WARNING: [numpydoc] Validation warnings while processing docstring for 'graphdiff.a.g': | "
        "PR01: Parameters {'a', 'b'} not documented | PR02: Unknown parameters {'c', 'x: one, two'}",
        "docs/index.md: WARNING: undefined label: 'x'",
    }
    moved = (
        text.replace(":12:", ":40:")
        .replace("{'b', 'a'}", "{'a', 'b'}")
        .replace("{'x: one, two', 'c'}", "{'c', 'x: one, two'}")
    )
    assert graphdiff_docs.normalize_warnings(moved, root) == graphdiff_docs.normalize_warnings(text, root)


def test_known_warnings_are_package_docstrings_only():
    """The allowance covers the packages' docstrings; a warning from docs/, the notebooks or the API page generator
    must be fixed, never listed."""
    for line in known_warnings():
        from_docstring = line.startswith("graphdiff/") or "docstring for 'graphdiff." in line
        # the first line of a docstring, shown in the summary table of its package page
        from_summary = line.startswith("docs/api/graphdiff.") and "<autosummary>" in line
        assert from_docstring or from_summary, line


def test_build_succeeds(docs_build):
    assert docs_build.returncode == 0, docs_build.log[-5000:]
    assert (docs_build.html / "index.html").is_file()


def _how_to_regenerate(docs_build) -> str:
    """The end of a failure message: where this build's warnings are and how to rewrite the list from them."""
    warnings_file = docs_build.html.parent / "warnings.txt"
    known = KNOWN_WARNINGS.relative_to(ROOT)
    return (
        f"\n\nThis build's warnings: {warnings_file} (`make docs` shows them in context). To rewrite {known} from "
        f"them, its # header kept (without --update: print the keys):\n"
        f"    python docs/_ext/graphdiff_docs.py {warnings_file} --update {known}\n"
        "Do that only for warnings of package docstrings that were already listed under another key (a rewritten "
        "docstring changes its key): the list may only shrink, and a warning from docs/, the notebooks or the API "
        "page generator is fixed, never listed (test_known_warnings_are_package_docstrings_only)."
    )


def test_no_new_warnings(docs_build):
    new = sorted(graphdiff_docs.normalize_warnings(docs_build.warnings) - known_warnings())
    assert not new, (
        f"{len(new)} new warning(s) in the docs build, not in {KNOWN_WARNINGS.name}; fix them:\n"
        + "\n".join(new)
        + _how_to_regenerate(docs_build)
    )


def test_known_warnings_still_occur(docs_build):
    fixed = sorted(known_warnings() - graphdiff_docs.normalize_warnings(docs_build.warnings))
    assert not fixed, (
        f"{len(fixed)} warning(s) of {KNOWN_WARNINGS.name} no longer occur; delete these lines:\n"
        + "\n".join(fixed)
        + _how_to_regenerate(docs_build)
    )


def _public_objects():
    """(public name, object) for every class and function the API reference promises a page for."""
    out = []
    for modname, _ in graphdiff_docs.PACKAGES:
        module = importlib.import_module(modname)
        for name in graphdiff_docs._public_members(module):
            obj = graphdiff_docs._member(module, name)
            if inspect.ismodule(obj):
                out += [
                    (f"{obj.__name__}.{n}", getattr(obj, n))
                    for n in graphdiff_docs._public_members(obj)
                    if inspect.isclass(getattr(obj, n, None)) or inspect.isfunction(getattr(obj, n, None))
                ]
            elif inspect.isclass(obj) or callable(obj):
                out.append((f"{modname}.{name}", obj))
    return out


def test_every_public_class_and_function_has_a_page(docs_build):
    generated = docs_build.html / "api" / "generated"
    documented = {}  # the id each page defines for its object -> the object
    for page in generated.glob("*.html"):
        name = page.stem
        assert f'id="{name}"' in page.read_text(), f"{page.name} does not document {name}"
        documented[name] = graphdiff_docs._lookup(name)
    objects = _public_objects()
    assert len(objects) > 50  # every package exports something
    # by identity: a documented constant may be an array, whose == is elementwise (an object re-exported elsewhere,
    # such as graphdiff.scene.CheckpointError from graphdiff.nn.checkpoint, is found by identity)
    pages = {id(obj) for obj in documented.values()}
    missing = [name for name, obj in objects if name not in documented and id(obj) not in pages]
    assert not missing, f"public names without an API page: {missing}"


def test_every_results_file_has_a_full_page(docs_build):
    for path in sorted((ROOT / "benchmarks" / "results").glob("*.json")):
        if path.name.endswith(".quick.json"):
            continue
        doc = json.loads(path.read_text())
        page = (docs_build.html / "results" / f"{path.stem}.html").read_text()
        metrics = {r["metric"] for r in doc["rows"]}
        assert page.count("<table") >= len(metrics), path.name  # one table per metric
        for metric in metrics:
            assert f'id="{metric.replace("_", "-")}"' in page, (path.name, metric)


def test_method_pages_and_notebooks_are_in_the_site(docs_build):
    for name in ("erase", "local_clustering", "label_proportions", "scene_generation", "datasets"):
        assert (docs_build.html / f"{name}.html").is_file(), name
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        if nb.name.endswith(".executed.ipynb"):
            continue
        html = (docs_build.html / "notebooks" / f"{nb.stem}.html").read_text()
        assert "<img" in html, f"{nb.name} is rendered without figures"
