"""Execute every notebook in its fast setting (``GRAPHDIFF_FAST=1``) and check what it printed and drew."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.slow, pytest.mark.notebook]


def _execute(name: str):
    """Run ``notebooks/<name>.ipynb`` with nbclient; return its code-cell outputs and their concatenated text."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    path = ROOT / "notebooks" / f"{name}.ipynb"
    nb = nbformat.read(path, as_version=4)
    env_backup = dict(os.environ)
    os.environ.update(GRAPHDIFF_FAST="1", OMP_NUM_THREADS="1")
    os.environ.pop("MPLBACKEND", None)  # the kernel's inline backend must produce the figures
    # the kernel imports graphdiff from this checkout even when it is not pip-installed
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env_backup.get("PYTHONPATH")) if p)
    try:
        client = nbclient.NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
        )
        client.execute()
    finally:
        os.environ.clear()
        os.environ.update(env_backup)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    assert not errors, errors
    text = "".join(o.get("text", "") for o in outputs)
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    return text, images


def test_erase_notebook():
    text, images = _execute("erase")
    assert "trained 6 models" in text
    assert images == 2  # accuracy against noise rate, embedding projection


def test_local_clustering_notebook():
    text, images = _execute("local_clustering")
    assert "fast setting" in text
    assert "weighted_flow_diffusion" in text and "F1" in text
    assert images == 2  # the recovered cluster, F1 against noise


def test_label_proportions_notebook():
    text, images = _execute("label_proportions")
    assert "fast setting" in text
    assert text.count("test AUC BP-LLP") == 2  # two bag sizes in the fast setting
    assert "calibration plotted for 2 bag sizes" in text
    assert images == 2  # AUC against bag size, calibration


def test_scene_generation_notebook():
    text, images = _execute("scene_generation")
    assert "trained" in text
    assert images >= 4  # the top-down drawings before and after the edit
