import pytest
import torch
from torch_geometric.utils import coalesce

from graphdiff.data import synthetic
from graphdiff.nn import propagation as P

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def _graph(seed=0, n=40):
    g = torch.Generator().manual_seed(seed)
    ei = torch.randint(0, n, (2, 120), generator=g)
    ei = ei[:, ei[0] != ei[1]]
    ei = torch.cat([ei, ei.flip(0)], 1)
    # node n-1 made isolated on purpose
    ei = coalesce(ei[:, (ei != n - 1).all(0)], num_nodes=n)  # no duplicate edges
    dense = torch.zeros(n, n)
    dense[ei[0], ei[1]] = 1.0
    return ei, dense


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("norm", ["sym", "row", "col"])
def test_normalized_adjacency_equals_dense_formula(norm, device):
    ei, A = _graph()
    n = A.size(0)
    deg_r, deg_c = A.sum(1), A.sum(0)
    inv = lambda d, p: torch.where(d > 0, d.pow(p), torch.zeros_like(d))  # noqa: E731
    expected = {
        "sym": inv(deg_r, -0.5)[:, None] * A * inv(deg_r, -0.5)[None, :],
        "row": inv(deg_r, -1.0)[:, None] * A,
        "col": A * inv(deg_c, -1.0)[None, :],
    }[norm]
    got = P.normalized_adjacency(ei.to(device), n, norm=norm).to_dense().cpu()
    assert torch.allclose(got, expected, atol=1e-6)


def test_col_normalisation_columns_sum_to_one_and_isolated_is_zero():
    ei, A = _graph()
    adj = P.normalized_adjacency(ei, A.size(0), norm="col").to_dense()
    colsum = adj.sum(0)
    nonisolated = A.sum(0) > 0
    assert torch.allclose(colsum[nonisolated], torch.ones(int(nonisolated.sum())))
    assert colsum[-1] == 0


def test_weighted_and_self_loops():
    ei, A = _graph(1)
    n = A.size(0)
    w = torch.rand(ei.size(1))
    W = torch.zeros(n, n).index_put_((ei[0], ei[1]), w, accumulate=True) + torch.eye(n)
    got = P.normalized_adjacency(ei, n, norm="row", edge_weight=w, add_self_loops=True).to_dense()
    assert torch.allclose(got, W / W.sum(1, keepdim=True), atol=1e-6)


@pytest.mark.parametrize("device", DEVICES)
def test_lazy_propagation_matches_dense_and_invariants(device):
    ei, A = _graph(2)
    n = A.size(0)
    adj = P.normalized_adjacency(ei.to(device), n, norm="col")
    Y = torch.rand(n, 3, device=device)
    M = 0.4 * adj.to_dense() + 0.6 * torch.eye(n, device=device)
    assert torch.allclose(P.lazy_propagation(adj, Y, 0.6, 5), torch.linalg.matrix_power(M, 5) @ Y, atol=1e-5)
    assert torch.equal(P.lazy_propagation(adj, Y, 1.0, 5), Y)
    assert torch.equal(P.lazy_propagation(adj, Y, 0.3, 0), Y)
    # column mass is preserved on a graph without isolated nodes (A D^-1 is column-stochastic)
    data = synthetic.contextual_sbm(num_nodes=200, avg_degree=8, seed=0)
    deg = torch.bincount(data.edge_index[0], minlength=200)
    assert (deg > 0).all()
    adj2 = P.normalized_adjacency(data.edge_index.to(device), 200, norm="col")
    Y2 = torch.rand(200, 4, device=device)
    assert torch.allclose(P.lazy_propagation(adj2, Y2, 0.5, 7).sum(0), Y2.sum(0), rtol=1e-5)


def test_personalized_propagation_matches_dense_iteration():
    ei, A = _graph(3)
    n = A.size(0)
    adj = P.normalized_adjacency(ei, n, norm="sym")
    S = adj.to_dense()
    Y0 = torch.rand(n, 2)
    mask = torch.rand(n) < 0.5
    Y0m = Y0 * mask[:, None]
    Y = Y0m.clone()
    for _ in range(10):
        Y = (0.9 * S @ Y + 0.1 * Y0m).clamp(0, 1)
    got = P.personalized_propagation(adj, Y0, 0.9, 10, clamp=True, mask=mask)
    assert torch.allclose(got, Y, atol=1e-6)


def test_matches_torch_geometric_label_propagation():
    from torch_geometric.nn import LabelPropagation

    data = synthetic.contextual_sbm(num_nodes=150, num_classes=3, seed=4)
    mask = data.train_mask
    lp = LabelPropagation(num_layers=6, alpha=0.8)
    expected = lp(data.y, data.edge_index, mask=mask)
    adj = P.normalized_adjacency(data.edge_index, 150, norm="sym")
    y0 = torch.nn.functional.one_hot(data.y, 3).float()
    got = P.personalized_propagation(adj, y0, 0.8, 6, clamp=True, mask=mask)
    assert torch.allclose(got, expected, atol=1e-5)


def test_bad_inputs():
    ei, _A = _graph()
    with pytest.raises(ValueError, match="out of range"):
        P.normalized_adjacency(ei, 10)
    with pytest.raises(ValueError, match="negative"):
        P.normalized_adjacency(torch.tensor([[0, -1], [1, 0]]), 3)
    with pytest.raises(ValueError, match="norm"):
        P.normalized_adjacency(ei, 40, norm="left")
    with pytest.raises(ValueError, match="edge_weight"):
        P.normalized_adjacency(ei, 40, edge_weight=torch.full((ei.size(1),), float("nan")))
    adj = P.normalized_adjacency(ei, 40)
    with pytest.raises(ValueError, match="rows"):
        P.lazy_propagation(adj, torch.rand(39, 2), 0.5, 2)
    with pytest.raises(ValueError, match="alpha"):
        P.lazy_propagation(adj, torch.rand(40, 2), 1.5, 2)
