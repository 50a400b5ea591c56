import json

import numpy as np
import pytest
import torch
from torch_geometric.data import Data

from graphdiff import bench
from graphdiff.data import interop, synthetic, validation


def _small():
    return synthetic.contextual_sbm(
        num_nodes=60, num_classes=3, avg_degree=4, num_features=5, num_train_per_class=2, num_val_per_class=2, seed=0
    )


def test_networkx_round_trip():
    data = _small()
    g = interop.to_networkx(data)
    assert g.number_of_nodes() == 60 and g.number_of_edges() == data.edge_index.size(1) // 2
    assert g.nodes[0]["y"] == int(data.y[0])
    back = interop.from_networkx(g)
    assert torch.equal(back.edge_index, data.edge_index)


def test_networkx_relabels_named_nodes():
    import networkx as nx

    g = nx.Graph([("a", "b"), ("b", "c")])
    data = interop.from_networkx(g)
    assert data.num_nodes == 3 and data.node_ids == ["a", "b", "c"]
    assert data.edge_index.size(1) == 4


def test_scipy_round_trip_with_weights():
    data = _small()
    data.edge_weight = torch.rand(data.edge_index.size(1))
    mat = interop.to_scipy(data)
    assert mat.shape == (60, 60) and mat.nnz == data.edge_index.size(1)
    back = interop.from_scipy(mat)
    assert torch.equal(back.edge_index, data.edge_index)
    assert torch.allclose(back.edge_weight, data.edge_weight)
    with pytest.raises(ValueError, match="square"):
        interop.from_scipy(mat[:10])


def test_dgl_missing_gives_install_hint():
    try:
        import dgl  # noqa: F401
    except Exception:
        with pytest.raises(ImportError, match="graphdiff\\[dgl\\]"):
            interop.to_dgl(_small())
    else:  # pragma: no cover - only where DGL is installed
        g = interop.to_dgl(_small())
        assert torch.equal(interop.from_dgl(g).edge_index, _small().edge_index)


def test_validation_messages():
    with pytest.raises(ValueError, match="shape \\(2, num_edges\\)"):
        validation.check_edge_index(torch.zeros(3, 4, dtype=torch.long), 5)
    with pytest.raises(ValueError, match="integer node ids"):
        validation.check_edge_index(torch.zeros(2, 4), 5)
    with pytest.raises(ValueError, match="NaN or infinite"):
        validation.check_features(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    with pytest.raises(ValueError, match="rows but the graph has"):
        validation.check_features(torch.zeros(3, 2), num_nodes=4)
    with pytest.raises(ValueError, match="outside \\[0, num_classes=2\\)"):
        validation.check_labels(torch.tensor([0, 2]), num_classes=2)
    with pytest.raises(ValueError, match="expected 3"):
        validation.check_labels(torch.tensor([0, 1]), length=3)
    data = Data(x=torch.zeros(3, 2), edge_index=torch.tensor([[0, 3], [3, 0]]), num_nodes=3)
    with pytest.raises(ValueError, match="data.edge_index"):
        validation.check_data(data)
    assert validation.check_mask(torch.tensor([0, 2]), 4).tolist() == [True, False, True, False]
    assert validation.check_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="`device` is not a valid torch device"):
        validation.check_device("gpu0")


def test_results_format(tmp_path):
    res = bench.Results("unit_test", quick=True, command="python x.py --quick")
    res.add(
        "cora",
        "erase",
        {"noise": "uniform", "rate": 0.3, "validation": "noisy"},
        "test_accuracy",
        [0.8, 0.82],
        seeds=[0, 1],
        time_s=1.5,
        peak_mem_mb=100.0,
    )
    with pytest.raises(ValueError, match="duplicate"):
        res.add("cora", "erase", {"rate": 0.3, "noise": "uniform", "validation": "noisy"}, "test_accuracy", [0.1])
    path = res.write(tmp_path)
    assert path.name == "unit_test.quick.json"
    doc = json.loads(path.read_text())
    assert set(doc) == {"benchmark", "created", "command", "environment", "rows"}
    assert {"python", "torch", "torch_geometric", "device", "threads", "git_commit"} <= set(doc["environment"])
    row = doc["rows"][0]
    assert row["mean"] == pytest.approx(0.81) and row["std"] == pytest.approx(0.01) and row["n"] == 2


def test_results_write_merge(tmp_path):
    first = bench.Results("unit_test", command="python x.py --a")
    first.add("cora", "erase", {"rate": 0.3}, "test_accuracy", [0.8])
    first.add("cora", "gcn", {"rate": 0.3}, "test_accuracy", [0.7])
    first.write(tmp_path)
    second = bench.Results("unit_test", command="python x.py --b")
    second.add("cora", "gcn", {"rate": 0.3}, "test_accuracy", [0.75])  # replaces the first file's gcn row
    second.add("citeseer", "gcn", {"rate": 0.3}, "test_accuracy", [0.6])
    doc = json.loads(second.write(tmp_path, merge=True).read_text())
    means = {(r["dataset"], r["method"]): r["mean"] for r in doc["rows"]}
    assert means == {("cora", "erase"): 0.8, ("cora", "gcn"): 0.75, ("citeseer", "gcn"): 0.6}
    assert doc["command"] == "python x.py --a ; python x.py --b"
    assert len(second.rows) == 2 and second.command == "python x.py --b"  # the object is not changed
    # the same invocation again: each command once; without merge the file holds this object's rows only
    assert json.loads(second.write(tmp_path, merge=True).read_text())["command"] == doc["command"]
    assert len(json.loads(second.write(tmp_path).read_text())["rows"]) == 2


def _allocate(mb):
    # random values: pages of identical content could be merged by the host and under-count the peak
    block = np.random.default_rng(0).random(mb * 1024 * 1024 // 8)
    return block.size


def test_run_isolated_measures_its_own_peak():
    # Allocate in this (parent) process first: the child's peak must not inherit it.
    ballast = np.random.default_rng(1).random(400 * 1024 * 1024 // 8)
    assert bench.peak_rss_mb() > 400
    _small, _, peak_small = bench.run_isolated(_allocate, 1)
    big, t, peak_big = bench.run_isolated(_allocate, 300)
    assert big == 300 * 1024 * 1024 // 8 and t >= 0
    assert peak_big - peak_small > 250
    assert peak_small < bench.peak_rss_mb() - 300  # the child does not report the parent's 400 MB
    del ballast
    with pytest.raises(RuntimeError, match="ValueError"):
        bench.run_isolated(int, "not a number")


def _pool_threads():
    import torch
    from threadpoolctl import threadpool_info

    return torch.get_num_threads(), sorted({pool["num_threads"] for pool in threadpool_info()})


def test_run_isolated_limits_every_thread_pool():
    # a one-thread benchmark run must not count a BLAS pool's extra threads in its process CPU time
    (torch_threads, pool_threads), _, _ = bench.run_isolated(_pool_threads, threads=1)
    assert torch_threads == 1
    assert pool_threads == [1]
