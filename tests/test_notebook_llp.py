"""Execute notebooks/label_proportions.ipynb in its fast setting (GRAPHDIFF_FAST=1)."""

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "label_proportions.ipynb"


@pytest.mark.slow
@pytest.mark.notebook
def test_label_proportions_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_backup = dict(os.environ)
    os.environ["GRAPHDIFF_FAST"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    root = str(NOTEBOOK.parent.parent)  # the kernel imports graphdiff from this checkout
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, env_backup.get("PYTHONPATH")) if p)
    try:
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(NOTEBOOK.parent)}})
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "fast setting" in text
    assert text.count("test AUC BP-LLP") == 2  # two bag sizes in the fast setting
    assert "calibration plotted for 2 bag sizes" in text
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2  # AUC plot and calibration plot
