"""benchmarks/device_check.py (issue 19): the quick CPU run, its rows and verdicts, and the clear errors."""

import importlib
import json
import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
device_check = importlib.import_module("device_check")

#: the comparison metrics every full set of checks writes, per method
EXPECTED = {
    "erase": {"abs_diff_test_accuracy", "max_abs_diff_embedding", "rel_diff_encoder_grad", "embed_on_device"},
    "gcn": {"abs_diff_test_accuracy"},
    "mcr2_loss": {"rel_diff_loss", "rel_diff_grad"},
    "bp_exact": {"max_abs_diff_marginals", "abs_diff_iterations"},
    "bp_gaussian": {"max_abs_diff_marginals", "abs_diff_iterations"},
    "flow_diffusion": {"mean_support_jaccard"},
    "echo": {"loss_curve_rel_diff", "max_abs_diff_boxes"},
}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("device_check")
    code = device_check.main(["--device", "cpu", "--quick", "--out", str(out)])
    return code, json.loads((out / "device_check.quick.json").read_text())


def test_quick_cpu_run_passes_and_writes_one_row_per_comparison(quick_run):
    code, doc = quick_run
    assert code == 0
    assert doc["benchmark"] == "device_check" and doc["environment"]["device"] == "cpu"
    compared = {}
    for row in doc["rows"]:
        if "tolerance" in row:
            compared.setdefault(row["method"], set()).add(row["metric"])
            assert row["passed"] is True, row
            assert row["time_s"] > 0 and row["cpu_time_s"] > 0 and row["peak_mem_mb"] > 0
            assert row["setting"]["device"] == "cpu" and row["setting"]["reference"] == "cpu"
    assert compared == EXPECTED


def test_cpu_against_cpu_is_exact(quick_run):
    """Both sides are the same computation on CPU: every difference is zero up to float32 round-off (with several
    threads, CPU scatter/index_add reductions may sum in another order: 2e-8 seen on the scene loss curve), the
    supports identical."""
    _, doc = quick_run
    for row in doc["rows"]:
        if "tolerance" not in row:
            continue
        if row["metric"] in ("embed_on_device", "mean_support_jaccard"):
            assert row["mean"] == 1.0, row  # batched flow diffusion on CPU gives the push's supports here
        else:
            assert 0.0 <= row["mean"] <= 1e-6, row
    jac = next(r for r in doc["rows"] if r["metric"] == "mean_support_jaccard")
    assert jac["explained_by_tolerance"] and jac["batched_converged"] and jac["push_converged"]


def test_throughput_rows_of_both_sides(quick_run):
    _, doc = quick_run
    roles = {(r["method"], r["metric"], r["setting"]["role"]) for r in doc["rows"] if "role" in r["setting"]}
    for method, metric in [
        ("erase", "test_accuracy"),
        ("gcn", "test_accuracy"),
        ("bp_exact", "bp_time_s"),
        ("bp_gaussian", "bp_iterations"),
        ("flow_diffusion", "seeds_per_s"),
        ("echo", "scenes_per_s"),
    ]:
        assert {(method, metric, "checked"), (method, metric, "reference")} <= roles
    acc = [r["mean"] for r in doc["rows"] if r["method"] == "erase" and r["metric"] == "test_accuracy"]
    assert min(acc) > 0.5  # a real fit on the 4-class SBM, not a stub


def test_minibatch_erase_is_reported_as_skipped_until_erase_has_batch_size(quick_run):
    _, doc = quick_run
    from graphdiff.erase import ERASE

    skipped = [r for r in doc["rows"] if r["metric"] == "check_skipped"]
    if "batch_size" in ERASE().get_params():
        assert not skipped
    else:
        assert len(skipped) == 1 and "batch_size" in skipped[0]["skipped"]
        assert skipped[0]["setting"]["training"] == "minibatch"


def test_a_comparison_outside_its_tolerance_fails_the_run(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(device_check.TOLERANCES, "rel_diff_loss", (-1.0, "max"))  # nothing can pass
    code = device_check.main(["--device", "cpu", "--quick", "--out", str(tmp_path), "--checks", "coding_rate"])
    assert code == 1
    assert "FAILED" in capsys.readouterr().err
    row = next(r for r in json.loads((tmp_path / "device_check.quick.json").read_text())["rows"])
    assert row["metric"] == "rel_diff_loss" and row["passed"] is False


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_an_unavailable_device_is_a_clear_error(tmp_path, capsys):
    code = device_check.main(["--device", "cuda", "--quick", "--out", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 2
    assert "`--device`='cuda', but" in err and "--device cpu" in err
    assert not list(tmp_path.iterdir())  # nothing written
    assert device_check.main(["--device", "banana", "--out", str(tmp_path)]) == 2
    assert "not a valid torch device" in capsys.readouterr().err


def test_the_tables_list_every_comparison_and_the_skipped_checks(quick_run):
    make_tables = importlib.import_module("make_tables")
    _, doc = quick_run
    doc = json.loads(json.dumps(doc))
    compared = [r for r in doc["rows"] if "tolerance" in r]
    skipped = [r for r in doc["rows"] if "skipped" in r]
    compared[0]["passed"] = False  # a failed comparison is shown as such
    page = make_tables.render_device_table(doc, "device_check.quick.json")  # the full page: one line per row
    lines = [line for line in page.splitlines() if line.startswith("| ") and "`" in line]
    assert len(lines) == len(compared)
    assert lines[0].count("**no**") == 1 and all("| yes |" in line for line in lines[1:])
    assert page.count("Skipped:") == len(skipped)
    readme = make_tables.render_device_table(doc, "device_check.quick.json", "docs/results/device_check.md")
    body = [line for line in readme.splitlines() if line.startswith("| ") and not line.startswith("| method")]
    assert len(body) == len({(r["method"], r["dataset"]) for r in compared}) + len(skipped)
    first = compared[0]
    n_first = sum(1 for r in compared if (r["method"], r["dataset"]) == (first["method"], first["dataset"]))
    assert f"| **{n_first - 1} of {n_first}** |" in body[0]
    assert sum("| skipped |" in line for line in body) == len(skipped)
