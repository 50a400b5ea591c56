"""Check what every notebook printed and drew in its fast setting (``GRAPHDIFF_FAST=1``).

The notebooks are not executed here: the documentation build (``docs_build`` in conftest.py, shared with
tests/test_docs.py on one xdist worker) executes each of them once with myst-nb and writes the executed copies to
``<build>/jupyter_execute/notebooks/``; these tests read those copies. A notebook that raised fails here with its
error, and the printed numbers are parsed and checked, not only looked for.
"""

import ast
import re

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.notebook, pytest.mark.xdist_group("docs")]


def _outputs(docs_build, name: str):
    """The executed copy of ``notebooks/<name>.ipynb``: its printed text and its number of PNG figures."""
    nbformat = pytest.importorskip("nbformat")
    path = docs_build.executed / f"{name}.ipynb"
    assert path.is_file(), f"the docs build wrote no executed copy of {name}.ipynb:\n{docs_build.log[-3000:]}"
    nb = nbformat.read(path, as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
    assert not errors, errors
    unexecuted = [c.source[:60] for c in nb.cells if c.cell_type == "code" and c.get("execution_count") is None]
    assert not unexecuted, f"cells of {name}.ipynb that did not run: {unexecuted}"
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    text += "".join(o.get("data", {}).get("text/plain", "") for o in outputs if o.output_type == "execute_result")
    images = sum("image/png" in o.get("data", {}) for o in outputs)
    return text, images


def _fraction(value: str) -> float:
    x = float(value)
    assert 0.0 <= x <= 1.0, value
    return x


def test_erase_notebook(docs_build):
    text, images = _outputs(docs_build, "erase")
    assert "fast setting: True" in text
    # one line per (rate, seed): realised rate close to the nominal one, two test accuracies
    runs = re.findall(r"rate (\d\.\d) seed 0: realised (\d\.\d+)\s+ERASE (\d\.\d+)\s+GCN (\d\.\d+)", text)
    assert [r[0] for r in runs] == ["0.1", "0.3", "0.5"]
    for rate, realised, erase, gcn in runs:
        assert abs(float(realised) - float(rate)) < 0.1
        _fraction(erase), _fraction(gcn)
    summary = re.search(r"trained (\d+) models; mean test accuracy over rates: ERASE (\S+), GCN (\S+)", text)
    assert summary and int(summary.group(1)) == 6
    # better than chance (at most 7 classes on Cora, 5 on the synthetic fallback) at every rate, on average
    assert _fraction(summary.group(2)) > 0.3 and _fraction(summary.group(3)) > 0.3
    assert images == 2  # accuracy against noise rate, embedding projection


def test_local_clustering_notebook(docs_build):
    text, images = _outputs(docs_build, "local_clustering")
    assert "fast setting - seeds per method: 3" in text
    table = dict(re.findall(r"^(\w+)\s+\d\.\d{3}\s+\d\.\d{3}\s+(\d\.\d{3})\s+\d+\.\d$", text, re.M))
    assert set(table) == {"weighted_flow_diffusion", "flow_diffusion", "labels_only"}, text
    for f1 in table.values():
        _fraction(f1)
    curve = re.findall(r"a = (\d\.\d\d): weighted FD (\d\.\d+), labels alone (\d\.\d+), FD on G (\d\.\d+)", text)
    assert [a for a, *_ in curve] == ["0.60", "0.80", "1.00"]
    # with perfect labels, the weighted diffusion recovers the cluster at least as well as the labels-blind one
    a1 = curve[-1]
    assert float(a1[1]) >= float(a1[3])
    assert images == 2  # the recovered cluster, F1 against noise


def test_label_proportions_notebook(docs_build):
    text, images = _outputs(docs_build, "label_proportions")
    assert "fast setting - bag sizes [8, 256]" in text
    runs = re.findall(r"B=\s*(\d+): BP (\d+) it, converged=(True|False).*test AUC BP-LLP (\S+)\s+DLLP (\S+)", text)
    assert [int(b) for b, *_ in runs] == [8, 256]
    for _, iterations, _, bp_auc, dllp_auc in runs:
        assert int(iterations) >= 1
        assert _fraction(bp_auc) > 0.5  # better than chance from bag counts alone
        _fraction(dllp_auc)
    assert "calibration plotted for 2 bag sizes" in text
    assert images == 2  # AUC against bag size, calibration


def test_scene_generation_notebook(docs_build):
    text, images = _outputs(docs_build, "scene_generation")
    assert "fast setting" in text
    steps = re.search(r"trained (\d+) steps in (\d+) s", text)
    assert steps and 0 < int(steps.group(1)) <= 300  # the fast model: at most 300 steps
    accuracy = ast.literal_eval(re.search(r"^(\{'.*\})$", text, re.M).group(1))
    assert {"left_right", "front_behind"} <= set(accuracy)
    for value in accuracy.values():
        _fraction(str(value))
    assert "edited triple:" in text and "largest change per node in clamp mode:" in text
    satisfied = re.search(r"edited relation satisfied \(clamp, all\): \[(True|False), (True|False)\]", text)
    assert satisfied, text
    assert "constraints on the new node:" in text
    # training loss, four samples, decoded shapes, the edit, the added node
    assert images == 5
