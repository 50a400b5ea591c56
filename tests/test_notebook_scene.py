"""Execute notebooks/scene_generation.ipynb in its fast setting (GRAPHDIFF_FAST=1)."""

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "scene_generation.ipynb"


@pytest.mark.slow
@pytest.mark.notebook
def test_scene_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_backup = dict(os.environ)
    os.environ["GRAPHDIFF_FAST"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    # the kernel imports graphdiff from this checkout even when it is not pip-installed
    root = str(NOTEBOOK.parent.parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, env_backup.get("PYTHONPATH")) if p)
    try:
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(NOTEBOOK.parent)}})
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert any("trained" in "".join(o.get("text", "")) for o in outputs)
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 4      # the top-down drawings
