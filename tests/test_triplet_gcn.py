"""graphdiff.nn.triplet_gcn: shapes, pooling, isolated nodes, permutation equivariance, batch independence."""

import pytest
import torch

from graphdiff.nn.triplet_gcn import TripletGCN, TripletGraphConv


def _graph(n=6, e=9, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 8, generator=g)
    ei = torch.randint(0, n, (2, e), generator=g)
    pred = torch.randint(0, 5, (e,), generator=g)
    return x, ei, pred


def test_shapes_and_predicate_width():
    gcn = TripletGCN(8, edge_channels=4, out_channels=3, hidden_channels=16, num_layers=3, num_predicates=5)
    x, ei, pred = _graph()
    h, e = gcn(x, ei, pred)
    assert h.shape == (6, 3) and e.shape == (9, 4)
    assert [layer.out_channels for layer in gcn.layers] == [8, 8, 3]


def test_isolated_node_gets_net2_of_zero_plus_residual():
    torch.manual_seed(0)
    conv = TripletGraphConv(8, 4, 5, hidden_channels=16, norm=None, residual=True).eval()
    x = torch.randn(3, 8)
    ei = torch.tensor([[0], [1]])
    ea = torch.randn(1, 4)
    out, _ = conv(x, ei, ea)
    expected = conv.net2(torch.zeros(1, 16)) + conv.lin_node(x[2:3])
    torch.testing.assert_close(out[2:3], expected)


def test_average_counts_subject_and_object_roles():
    torch.manual_seed(1)
    conv = TripletGraphConv(4, 2, 4, hidden_channels=6, norm=None, residual=False).eval()
    x = torch.randn(3, 4)
    ei = torch.tensor([[0, 1], [1, 0]])  # node 0 is subject once and object once
    ea = torch.randn(2, 2)
    out, _ = conv(x, ei, ea)
    msg = conv.net1(torch.cat([x[ei[0]], ea, x[ei[1]]], dim=1))
    pooled0 = (msg[0, :6] + msg[1, 6 + 2 :]) / 2
    torch.testing.assert_close(out[0], conv.net2(pooled0[None])[0])


def test_permutation_equivariance():
    torch.manual_seed(2)
    gcn = TripletGCN(8, 4, 6, hidden_channels=16, num_layers=3, num_predicates=5).eval()
    x, ei, pred = _graph(n=7, e=12, seed=3)
    perm = torch.randperm(7)
    inv = torch.empty_like(perm)
    inv[perm] = torch.arange(7)
    h, e = gcn(x, ei, pred)
    eperm = torch.randperm(12)
    h2, e2 = gcn(x[perm], inv[ei][:, eperm], pred[eperm])
    torch.testing.assert_close(h2, h[perm], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(e2, e[eperm], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("norm", ["layer", None])
def test_scenes_in_a_batch_are_independent(norm):
    torch.manual_seed(4)
    gcn = TripletGCN(8, 4, 6, hidden_channels=16, num_layers=4, num_predicates=5, norm=norm)
    gcn.train()  # LayerNorm / no norm: independent even in training mode
    xa, eia, pa = _graph(n=5, e=7, seed=5)
    xb, eib, pb = _graph(n=4, e=6, seed=6)
    ha, _ = gcn(xa, eia, pa)
    hb, _ = gcn(xb, eib, pb)
    h, _ = gcn(torch.cat([xa, xb]), torch.cat([eia, eib + 5], dim=1), torch.cat([pa, pb]))
    torch.testing.assert_close(h, torch.cat([ha, hb]), atol=1e-5, rtol=1e-5)
    # changing scene b does not change scene a's output
    h_changed, _ = gcn(torch.cat([xa, xb * 3]), torch.cat([eia, eib + 5], dim=1), torch.cat([pa, pb]))
    torch.testing.assert_close(h_changed[:5], ha, atol=1e-5, rtol=1e-5)


def test_batchnorm_couples_scenes_in_training_mode():
    """The reference BatchNorm is not batch-invariant in train mode (documented pitfall)."""
    torch.manual_seed(5)
    gcn = TripletGCN(8, 4, 6, hidden_channels=16, num_layers=2, num_predicates=5, norm="batch").train()
    xa, eia, pa = _graph(n=5, e=7, seed=5)
    xb, eib, pb = _graph(n=4, e=6, seed=6)
    ha, _ = gcn(xa, eia, pa)
    h, _ = gcn(torch.cat([xa, xb]), torch.cat([eia, eib + 5], dim=1), torch.cat([pa, pb]))
    assert not torch.allclose(h[:5], ha, atol=1e-4)


def test_gradients_flow_and_reset():
    gcn = TripletGCN(8, 4, 6, hidden_channels=16, num_layers=2, num_predicates=5)
    x, ei, pred = _graph()
    x.requires_grad_(True)
    gcn(x, ei, pred)[0].sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    before = gcn.layers[0].net1[0].weight.clone()
    gcn.reset_parameters()
    assert not torch.equal(before, gcn.layers[0].net1[0].weight)


def test_bad_input():
    gcn = TripletGCN(8, 4, 6, num_layers=2, num_predicates=5)
    x, ei, pred = _graph()
    with pytest.raises(ValueError, match="num_predicates"):
        gcn(x, ei, torch.full_like(pred, 7))
    with pytest.raises(ValueError, match="node id 6, out of range"):
        gcn(x, torch.tensor([[0], [6]]), pred[:1])
    with pytest.raises(ValueError, match="shape"):
        gcn(x[:, :5], ei, pred)
    with pytest.raises(ValueError, match="norm"):
        TripletGCN(8, 4, norm="group")
    with pytest.raises(ValueError, match="num_layers"):
        TripletGCN(8, 4, num_layers=0)
    with pytest.raises(ValueError, match="no `num_predicates`"):
        TripletGCN(8, 4)(x, ei, pred)
