import numpy as np
import pytest
import torch
from torch_geometric.utils import coalesce, is_undirected

from graphdiff.data import splits, synthetic


def _check_simple_undirected(edge_index, n):
    assert edge_index.dtype == torch.long
    assert is_undirected(edge_index, num_nodes=n)
    assert (edge_index[0] != edge_index[1]).all()
    assert edge_index.size(1) == coalesce(edge_index, num_nodes=n).size(1)  # no duplicates
    assert int(edge_index.max()) < n


def test_random_split_counts_disjoint_and_deterministic():
    y = torch.from_numpy(np.random.default_rng(0).integers(0, 5, 2000))
    tr, va, te = splits.random_split(y, 20, num_val_per_class=30, seed=3)
    assert torch.equal(torch.bincount(y[tr], minlength=5), torch.full((5,), 20))
    assert torch.equal(torch.bincount(y[va], minlength=5), torch.full((5,), 30))
    assert not (tr & va).any() and not (tr & te).any() and not (va & te).any()
    assert int((tr | va | te).sum()) == 2000
    again = splits.random_split(y, 20, num_val_per_class=30, seed=3)
    other = splits.random_split(y, 20, num_val_per_class=30, seed=4)
    assert all(torch.equal(a, b) for a, b in zip((tr, va, te), again))
    assert not torch.equal(tr, other[0])


def test_random_split_fixed_sizes_and_errors():
    y = torch.arange(300) % 3
    tr, va, te = splits.random_split(y, 10, num_val=50, num_test=100, seed=0)
    assert (int(tr.sum()), int(va.sum()), int(te.sum())) == (30, 50, 100)
    with pytest.raises(ValueError, match="class 2 has 1 nodes"):
        splits.random_split(torch.tensor([0, 0, 1, 1, 2]), 2)
    with pytest.raises(ValueError, match="at most one"):
        splits.random_split(y, 1, num_val_per_class=1, num_val=3)
    with pytest.raises(ValueError, match="num_test"):
        splits.random_split(y, 10, num_test=10_000)


def test_public_split_requires_masks():
    data = synthetic.planted_partition(num_nodes=100, cluster_size=10)
    with pytest.raises(ValueError, match="no standard split"):
        splits.public_split(data)


def test_contextual_sbm_is_deterministic_and_homophilous():
    a = synthetic.contextual_sbm(num_nodes=2000, num_classes=4, avg_degree=10, homophily=0.8, seed=5)
    b = synthetic.contextual_sbm(num_nodes=2000, num_classes=4, avg_degree=10, homophily=0.8, seed=5)
    c = synthetic.contextual_sbm(num_nodes=2000, num_classes=4, avg_degree=10, homophily=0.8, seed=6)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.x, b.x) and torch.equal(a.y, b.y)
    assert not torch.equal(a.edge_index, c.edge_index)
    _check_simple_undirected(a.edge_index, 2000)
    same = (a.y[a.edge_index[0]] == a.y[a.edge_index[1]]).float().mean()
    assert 0.75 < float(same) < 0.85
    assert 9.0 < a.edge_index.size(1) / 2000 < 10.5
    assert a.x.dtype == torch.float32 and a.x.shape == (2000, 32)
    # the class means carry the signal: nearest-mean classification beats chance clearly
    means = torch.stack([a.x[a.y == k].mean(0) for k in range(4)])
    acc = (torch.cdist(a.x, means).argmin(1) == a.y).float().mean()
    assert acc > 0.6
    assert int(a.train_mask.sum()) == 80


def test_contextual_sbm_features_drawn_in_blocks_equal_one_draw(monkeypatch):
    # the features are drawn in blocks of rows (memory at 1e7 nodes); the values must be those of one (N, d) draw
    one = synthetic.contextual_sbm(num_nodes=500, num_classes=3, num_features=8, feature_signal=2.0, seed=4)
    monkeypatch.setattr(synthetic, "_FEATURE_BLOCK_ROWS", 7)  # 72 blocks, the last of 3 rows
    blocks = synthetic.contextual_sbm(num_nodes=500, num_classes=3, num_features=8, feature_signal=2.0, seed=4)
    assert torch.equal(one.x, blocks.x) and torch.equal(one.edge_index, blocks.edge_index)
    assert torch.equal(one.y, blocks.y) and torch.equal(one.train_mask, blocks.train_mask)
    # and the formula: x_i = mu_{y_i} + g_i / sqrt(d), with means of norm feature_signal
    rng = np.random.default_rng(4)
    y = np.arange(500) % 3
    rng.shuffle(y)
    m = int(round(500 * 10.0 / 2))
    rng.integers(0, 500, size=m), rng.random(m), rng.integers(1, 3, size=m), rng.random(m)  # the edge draws
    directions = rng.standard_normal((3, 8))
    means = 2.0 * directions / np.linalg.norm(directions, axis=1, keepdims=True)
    expected = (means[y] + rng.standard_normal((500, 8)) / np.sqrt(8)).astype(np.float32)
    assert np.array_equal(one.x.numpy(), expected)


def test_planted_partition_degrees_and_csr_agree():
    data = synthetic.planted_partition(
        num_nodes=5000, cluster_size=200, internal_degree=20, external_degree=5, background_degree=10, seed=1
    )
    _check_simple_undirected(data.edge_index, 5000)
    in_t = data.y.bool()
    assert torch.equal(in_t.nonzero().flatten(), data.target)
    src, dst = data.edge_index
    internal = (in_t[src] & in_t[dst]).sum() / 200
    external = (in_t[src] & ~in_t[dst]).sum() / 200
    assert 18 < float(internal) < 21 and 4 < float(external) < 5.5
    indptr, indices, target = synthetic.planted_partition_csr(
        5000, cluster_size=200, internal_degree=20, external_degree=5, background_degree=10, seed=1
    )
    assert indptr.dtype == np.int32 and indices.dtype == np.int32
    assert np.array_equal(target, data.target.numpy())
    rows = np.repeat(np.arange(5000), np.diff(indptr))
    csr_edges = torch.from_numpy(np.vstack([rows, indices]).astype(np.int64))
    assert torch.equal(coalesce(csr_edges, num_nodes=5000), coalesce(data.edge_index, num_nodes=5000))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"num_nodes": 10, "cluster_size": 10}, "smaller"),
        ({"num_nodes": 100, "cluster_size": 10, "internal_degree": -1}, "internal_degree"),
        ({"num_nodes": 1.5, "cluster_size": 10}, "num_nodes"),
    ],
)
def test_planted_partition_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        synthetic.planted_partition(**kwargs)
