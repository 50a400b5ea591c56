"""Execute notebooks/local_clustering.ipynb in its fast setting (GRAPHDIFF_FAST=1)."""

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "local_clustering.ipynb"


@pytest.mark.slow
@pytest.mark.notebook
def test_local_clustering_notebook_runs():
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    env_backup = dict(os.environ)
    os.environ["GRAPHDIFF_FAST"] = "1"
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ["MPLBACKEND"] = "Agg"
    root = str(NOTEBOOK.parent.parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (root, env_backup.get("PYTHONPATH")) if p)
    try:
        client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                         resources={"metadata": {"path": str(NOTEBOOK.parent)}})
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    assert not errors, errors
    text = "".join(o.get("text", "") for o in outputs)
    assert "fast setting" in text
    assert "weighted_flow_diffusion" in text and "F1" in text
    # two figures: the recovered cluster and F1 against noise
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2
