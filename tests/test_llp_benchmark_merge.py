"""The label-proportions benchmark's ``--merge --update``: new seeds pooled exactly into an existing results file."""

import importlib
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from graphdiff.bench import Results


def _bench():
    return importlib.import_module("label_proportions")


def _row(values, seeds, **extra):
    res = Results("label_proportions", command="x")
    return res.add("adult", "dllp", {"bag_size": 8}, "test_auc", values, seeds=seeds, **extra)


def test_pooled_row_equals_the_row_of_all_seeds():
    bench = _bench()
    old = _row([0.61, 0.70, 0.66], [0, 1, 2], time_s=4.0, peak_mem_mb=100.0)  # no per-seed values: an old file
    new = _row([0.52, 0.75], [3, 4], time_s=6.0, peak_mem_mb=120.0, per_seed=[0.52, 0.75])
    pooled = bench._pool_rows(old, new)
    union = _row([0.61, 0.70, 0.66, 0.52, 0.75], [0, 1, 2, 3, 4])
    assert pooled["n"] == 5 and pooled["seeds"] == [0, 1, 2, 3, 4]
    assert pooled["mean"] == pytest.approx(union["mean"], abs=1e-12)
    assert pooled["std"] == pytest.approx(union["std"], abs=1e-12)
    assert pooled["time_s"] == pytest.approx(4.8) and pooled["peak_mem_mb"] == 120.0
    assert "per_seed" not in pooled  # the old row's per-seed values are unknown


def _write_old(tmp_path, rows):
    res = Results("label_proportions", command="python benchmarks/label_proportions.py --merge")
    res.rows = rows
    return res.write(tmp_path)


def test_update_keeps_replaces_pools_and_refuses(tmp_path):
    bench = _bench()
    other = Results("label_proportions").add("bank_marketing", "dllp", {"bag_size": 8}, "test_auc", [0.8], seeds=[0])
    replaced = _row([0.1, 0.2], [0, 1])
    path = _write_old(tmp_path, [other, replaced])

    res = Results("label_proportions", command="python benchmarks/label_proportions.py --merge --update")
    res.add("adult", "dllp", {"bag_size": 8}, "test_auc", [0.5, 0.6, 0.7], seeds=[0, 1, 2], per_seed=[0.5, 0.6, 0.7])
    res.add("adult", "dllp", {"bag_size": 64}, "test_auc", [0.9], seeds=[5], per_seed=[0.9])
    bench._update_existing(res, path)
    by = {(r["dataset"], json.dumps(r["setting"])): r for r in res.rows}
    assert by[("bank_marketing", '{"bag_size": 8}')]["mean"] == 0.8  # kept as it was
    assert by[("adult", '{"bag_size": 8}')]["seeds"] == [0, 1, 2]  # the rerun replaced seeds 0, 1 (and adds 2)
    assert by[("adult", '{"bag_size": 8}')]["mean"] == pytest.approx(0.6)
    assert by[("adult", '{"bag_size": 64}')]["seeds"] == [5] and len(res.rows) == 3  # new row added
    assert res.command.startswith("python benchmarks/label_proportions.py --merge && ")

    # pooling: an old row on seed 0 and a new one on seed 3
    path = _write_old(tmp_path, [_row([0.6], [0])])
    res = Results("label_proportions", command="new")
    res.add("adult", "dllp", {"bag_size": 8}, "test_auc", [0.8], seeds=[3], per_seed=[0.8])
    bench._update_existing(res, path)
    assert len(res.rows) == 1 and res.rows[0]["seeds"] == [0, 3] and res.rows[0]["mean"] == pytest.approx(0.7)

    # seeds overlapping only partly cannot be pooled without the old per-seed values
    path = _write_old(tmp_path, [_row([0.1, 0.2], [0, 1])])
    res = Results("label_proportions", command="new")
    res.add("adult", "dllp", {"bag_size": 8}, "test_auc", [0.8, 0.9], seeds=[1, 2], per_seed=[0.8, 0.9])
    with pytest.raises(ValueError, match="overlap only partly"):
        bench._update_existing(res, path)


def test_merge_update_folds_partials_once(tmp_path, monkeypatch):
    # the command-line path: partials folded into the existing file move to folded/, so a second --update run
    # does not pool the same seeds again
    import graphdiff.bench

    bench = _bench()
    results = tmp_path / "results"
    monkeypatch.setattr(graphdiff.bench, "results_dir", lambda: results)
    monkeypatch.setattr(bench, "results_dir", lambda: results)
    _write_old(results, [_row([0.6], [0])])
    partials = tmp_path / "partials"
    partials.mkdir()
    row = dict(dataset="adult", method="dllp", setting={"bag_size": 8}, metric="test_auc", value=0.8, time_s=1.0)
    (partials / "part_bank_adult_seed3.json").write_text(json.dumps({"seed": 3, "command": "run", "rows": [row]}))
    for _ in range(2):
        bench.main(["--merge", "--update", "--partial-dir", str(partials)])
        doc = json.loads((results / "label_proportions.json").read_text())
        assert len(doc["rows"]) == 1
        assert doc["rows"][0]["seeds"] == [0, 3] and doc["rows"][0]["mean"] == pytest.approx(0.7)
    assert not list(partials.glob("part_*.json")) and (partials / "folded" / "part_bank_adult_seed3.json").exists()
