"""graphdiff.nn.knn_graph: invariants of the covariate-similarity graph of BP-LLP (no self-loops, undirected
de-duplicated pairs, weights in (0, 1], degree >= k), exact methods agreeing, the approximate one's recall."""

import numpy as np
import pytest
import torch

from graphdiff.nn.knn_graph import knn_graph


def _data(n=300, d=6, seed=0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
@pytest.mark.parametrize("method", ["kdtree", "blocked"])
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
    a, _ = knn_graph(x, 4, metric="cosine", method="kdtree")
    b, _ = knn_graph(x, 4, metric="cosine", method="blocked")
    assert torch.equal(a, b)
    nn = NearestNeighbors(n_neighbors=4, metric="cosine", algorithm="brute").fit(x.numpy())
    nbr = nn.kneighbors(return_distance=False)
    ref = {(min(i, int(j)), max(i, int(j))) for i in range(200) for j in nbr[i]}
    assert ref == {tuple(p) for p in a.T.tolist()}


def test_ivf_is_approximate_with_reasonable_recall():
    x = torch.cat([_data(1500, 4, 2), _data(1500, 4, 3) + 4.0])
    exact, _ = knn_graph(x, 5, metric="euclidean", method="blocked")
    approx, _w = knn_graph(x, 5, metric="euclidean", method="ivf", cell_size=200, n_probe=4)
    n = x.size(0)
    s1 = set((exact[0] * n + exact[1]).tolist())
    s2 = set((approx[0] * n + approx[1]).tolist())
    assert len(s1 & s2) / len(s1) > 0.7
    assert bool((approx[0] < approx[1]).all()) and int(torch.bincount(approx.flatten(), minlength=n).min()) >= 5


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
