"""graphdiff.nn.knn_graph: invariants of the covariate-similarity graph of BP-LLP (no self-loops, undirected
de-duplicated pairs, weights in (0, 1], degree >= k), faiss exact search equal to brute force, the approximate
indexes' recall measured against exact search (not assumed)."""

import numpy as np
import pytest
import torch

from graphdiff.nn.knn_graph import knn_graph


def _data(n=300, d=6, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("method", ["exact", "blocked"])
def test_knn_graph_invariants(metric, method):
    x = _data()
    k = 5
    ei, w = knn_graph(x, k, metric=metric, method=method)
    n = x.size(0)
    assert bool((ei[0] < ei[1]).all())  # no self-loops, each undirected pair once as i < j
    key = ei[0] * n + ei[1]
    assert torch.unique(key).numel() == key.numel()
    assert bool((w > 0).all()) and bool((w <= 1).all())
    deg = torch.bincount(ei.flatten(), minlength=n)
    assert int(deg.min()) >= k
    d = (x[ei[0]] - x[ei[1]]).norm(dim=1).double()
    assert torch.allclose(w, torch.exp(-d), atol=1e-6)  # Matern-1/2, length scale 1, Euclidean


def test_knn_methods_agree_and_cosine_matches_sklearn():
    from sklearn.neighbors import NearestNeighbors

    x = _data(200, 5, 1)
    a, _ = knn_graph(x, 4, metric="cosine", method="exact")
    b, _ = knn_graph(x, 4, metric="cosine", method="blocked")
    assert torch.equal(a, b)
    nn = NearestNeighbors(n_neighbors=4, metric="cosine", algorithm="brute").fit(x.numpy())
    nbr = nn.kneighbors(return_distance=False)
    ref = {(min(i, int(j)), max(i, int(j))) for i in range(200) for j in nbr[i]}
    assert ref == {tuple(p) for p in a.T.tolist()}


def test_faiss_exact_equals_brute_force_neighbours():
    from graphdiff.nn.knn_graph import knn_search

    x = _data(500, 12, 4).double()
    d = torch.cdist(x, x)
    d.fill_diagonal_(float("inf"))
    ref = torch.topk(d, 6, dim=1, largest=False).indices
    nbr, info = knn_search(x.float(), 6, method="exact")
    assert info["method"] == "exact" and info["recall"] == 1.0
    assert torch.equal(nbr.sort(1).values, ref.sort(1).values)
    with pytest.warns(DeprecationWarning, match="kdtree"):
        old, _ = knn_search(x.float(), 6, method="kdtree")
    assert torch.equal(old, nbr)


@pytest.mark.parametrize("method", ["hnsw", "ivf"])
def test_approximate_recall_is_measured_not_assumed(method):
    from graphdiff.nn.knn_graph import knn_search

    x = torch.cat([_data(3000, 8, 2), _data(3000, 8, 3) + 2.0])
    exact, _ = knn_search(x, 5, method="exact")
    approx, info = knn_search(x, 5, method=method, recall_queries=600, seed=1)
    hits = (approx[:, :, None] == exact[:, None, :]).any(1).float().mean()
    assert info["method"] == method and info["recall_queries"] == 600
    # the reported sampled estimate reaches the target and tracks the recall over all rows
    assert info["recall"] >= 0.9
    assert abs(float(hits) - info["recall"]) < 0.05
    assert bool((approx != torch.arange(x.size(0))[:, None]).all())  # self excluded
    # a target that the cheapest setting misses makes the search widen (the knob grows)
    _, lo = knn_search(x, 5, method=method, target_recall=0.05, recall_queries=600, seed=1)
    _, hi = knn_search(x, 5, method=method, target_recall=0.999, recall_queries=600, seed=1)
    knob = "ef_search" if method == "hnsw" else "n_probe"
    assert hi[knob] > lo[knob] and hi["recall"] >= lo["recall"]
    ei, _w, ginfo = knn_graph(x, 5, metric="euclidean", method=method, return_info=True)
    assert bool((ei[0] < ei[1]).all()) and int(torch.bincount(ei.flatten(), minlength=x.size(0)).min()) >= 5
    assert ginfo["method"] == method


def test_auto_is_exact_below_the_threshold_and_approximate_above():
    from graphdiff.nn.knn_graph import knn_search

    x = _data(400, 4, 5)
    assert knn_search(x, 3)[1]["method"] == "exact"
    assert knn_search(x, 3, exact_max_rows=100)[1]["method"] == "ivf"


def test_weighting_options_and_bad_input():
    x = _data(50, 3)
    _, wu = knn_graph(x, 3, weighting="unit")
    assert bool((wu == 1).all())
    _, wm = knn_graph(x, 3, weighting="median_matern")
    assert abs(float(wm.median()) - np.exp(-1.0)) < 0.05
    with pytest.raises(ValueError, match="k"):
        knn_graph(x, 0)
    with pytest.raises(ValueError, match="metric"):
        knn_graph(x, 3, metric="manhattan")
    bad = x.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        knn_graph(bad, 3)
    with pytest.raises(ValueError, match="all-zero"):
        knn_graph(torch.zeros(10, 2), 3)


@pytest.mark.parametrize("method", ["hnsw", "ivf"])
def test_blocked_search_and_weights_equal_one_block(method, monkeypatch):
    # the approximate search and the edge weights run in blocks to bound memory at 10^7 rows; blocks that do not
    # divide N (a short last block) give exactly the neighbours and weights of a single block
    import graphdiff.nn.knn_graph as kg

    x = _data(1000, 6, 7)
    one_nbr, _ = kg.knn_search(x, 4, method=method, seed=0)
    one_ei = kg.undirected_edges(one_nbr)
    one_w = kg.edge_weights(x, one_ei)
    monkeypatch.setattr(kg, "_SEARCH_BLOCK", 333)
    monkeypatch.setattr(kg, "_EDGE_BLOCK", 97)
    nbr, _ = kg.knn_search(x, 4, method=method, seed=0)
    assert torch.equal(nbr, one_nbr)
    w = kg.edge_weights(x, one_ei)
    assert one_ei.size(1) % 97 != 0 and torch.equal(w, one_w)
    assert torch.equal(kg.edge_weights(x, one_ei, "median_matern"), _median_matern_reference(x, one_ei))


def _median_matern_reference(x, ei):
    dist = (x[ei[0]].double() - x[ei[1]].double()).norm(dim=1)
    return torch.exp(-dist / dist.median())
