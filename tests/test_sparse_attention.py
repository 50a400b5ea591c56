"""graphdiff.nn.sparse_attention: attention aggregation as sparse products equals PyG's GATConv."""

import pytest
import torch
from torch_geometric.nn import GATConv

from graphdiff.nn.sparse_attention import CSRGraph, attention_aggregate, gat_conv_csr


@pytest.fixture
def graph_edges():
    gen = torch.Generator().manual_seed(0)
    edges = torch.randint(0, 40, (2, 200), generator=gen)
    # a repeated edge and two existing self-loops: GATConv keeps the repeat and replaces the loops by one per node
    edges = torch.cat([edges, edges[:, :3], torch.tensor([[5, 7], [5, 7]])], dim=1)
    return edges, 40


@pytest.mark.parametrize("heads,channels,concat", [(4, 8, True), (3, 5, False), (1, 20, True), (1, 6, True)])
def test_gat_conv_csr_matches_gatconv(graph_edges, heads, channels, concat):
    edges, n = graph_edges
    torch.manual_seed(1)
    conv = GATConv(12, channels, heads=heads, concat=concat)
    graph = CSRGraph.from_edge_index(edges, n, self_loops=True)
    x_ref = torch.randn(n, 12, requires_grad=True)
    x_csr = x_ref.detach().clone().requires_grad_()
    ref, out = conv(x_ref, edges), gat_conv_csr(conv, x_csr, graph)
    assert torch.allclose(out, ref, atol=1e-6)
    weight = torch.randn_like(ref)
    grads_ref = torch.autograd.grad((ref * weight).sum(), [x_ref, *conv.parameters()])
    grads_csr = torch.autograd.grad((out * weight).sum(), [x_csr, *conv.parameters()])
    for a, b in zip(grads_ref, grads_csr):
        assert torch.allclose(a, b, atol=1e-5)


def test_gat_conv_csr_attention_dropout(graph_edges):
    edges, n = graph_edges
    conv = GATConv(12, 4, heads=2, dropout=0.5)
    graph = CSRGraph.from_edge_index(edges, n, self_loops=True)
    x = torch.randn(n, 12)
    conv.eval()  # attention dropout is off in eval mode: same output as GATConv
    assert torch.allclose(gat_conv_csr(conv, x, graph), conv(x, edges), atol=1e-6)
    conv.train()
    torch.manual_seed(0)
    dropped = gat_conv_csr(conv, x, graph)
    assert not torch.allclose(dropped, conv.eval()(x, edges), atol=1e-3)


@pytest.mark.parametrize("heads,feature_heads", [(2, 2), (3, 1)])
def test_attention_aggregate_gradcheck_and_definition(graph_edges, heads, feature_heads):
    # feature_heads=1: one feature set under several heads (the inputs of an aggregate-first layer), each head's
    # product of the same features and the features' gradient summed over the heads
    edges, n = graph_edges
    graph = CSRGraph.from_edge_index(edges, n)
    gen = torch.Generator().manual_seed(2)
    alpha = torch.rand(graph.num_edges, heads, dtype=torch.float64, generator=gen, requires_grad=True)
    h = torch.randn(n, feature_heads, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, f: attention_aggregate(a, f, graph), (alpha, h))
    # definition: a scatter-sum of alpha-weighted source features into the targets
    expected = torch.zeros(n, heads, 3, dtype=torch.float64).index_add_(0, graph.dst, alpha[:, :, None] * h[graph.src])
    assert torch.allclose(attention_aggregate(alpha, h, graph), expected)


def test_csr_graph_structure(graph_edges):
    edges, n = graph_edges
    graph = CSRGraph.from_edge_index(edges, n, self_loops=True)
    assert graph.num_edges == int((edges[0] != edges[1]).sum()) + n  # loops replaced by exactly one per node
    assert bool((graph.dst[1:] >= graph.dst[:-1]).all())
    assert torch.equal(graph.crow[-1], torch.tensor(graph.num_edges))
    # the transposed structure lists the same edges grouped by source
    assert torch.equal(graph.col_t, graph.dst[graph.perm_t])
    assert bool((graph.src[graph.perm_t][1:] >= graph.src[graph.perm_t][:-1]).all())


def test_bad_shapes_are_rejected(graph_edges):
    edges, n = graph_edges
    graph = CSRGraph.from_edge_index(edges, n)
    with pytest.raises(ValueError, match="`h` must have shape"):
        attention_aggregate(torch.rand(graph.num_edges, 2), torch.rand(n + 1, 2, 3), graph)
    with pytest.raises(ValueError, match="`alpha` must have shape"):
        attention_aggregate(torch.rand(graph.num_edges - 1, 2), torch.rand(n, 2, 3), graph)
    with pytest.raises(ValueError, match="outside|out of range|\\[0"):
        CSRGraph.from_edge_index(torch.tensor([[0, n], [1, 2]]), n)
    looped = CSRGraph.from_edge_index(edges, n, self_loops=True)
    with pytest.raises(ValueError, match="rows but the graph has"):
        gat_conv_csr(GATConv(12, 4), torch.rand(n + 2, 12), looped)


def test_gat_conv_csr_refuses_what_it_would_compute_wrongly(graph_edges):
    """Bad input at the boundary of gat_conv_csr / attention_aggregate: a clear ValueError, not a torch error or a
    silently different function."""
    from torch_geometric.nn import GCNConv

    edges, n = graph_edges
    looped = CSRGraph.from_edge_index(edges, n, self_loops=True)
    x = torch.rand(n, 12)
    # a structure without self-loops under a layer that adds them would silently compute another function
    with pytest.raises(ValueError, match="self_loops=False.*add_self_loops=True"):
        gat_conv_csr(GATConv(12, 4), x, CSRGraph.from_edge_index(edges, n))
    with pytest.raises(ValueError, match="self_loops=True.*add_self_loops=False"):
        gat_conv_csr(GATConv(12, 4, add_self_loops=False), x, looped)
    conv = GATConv(12, 4, add_self_loops=False)  # matching structures give GATConv's output
    assert torch.allclose(gat_conv_csr(conv, x, CSRGraph.from_edge_index(edges, n)), conv(x, edges), atol=1e-6)
    with pytest.raises(ValueError, match="`conv` must be a torch_geometric.nn.GATConv"):
        gat_conv_csr(GCNConv(12, 4), x, looped)
    with pytest.raises(ValueError, match="`graph` must be a CSRGraph"):
        gat_conv_csr(GATConv(12, 4), x, edges)
    with pytest.raises(ValueError, match="in_channels=12"):
        gat_conv_csr(GATConv(12, 4), torch.rand(n, 7), looped)
    with pytest.raises(ValueError, match="2-D"):
        gat_conv_csr(GATConv(12, 4), torch.rand(n), looped)
    with pytest.raises(ValueError, match="`graph` must be a CSRGraph"):
        attention_aggregate(torch.rand(edges.size(1), 2), torch.rand(n, 2, 3), edges)
    with pytest.raises(ValueError, match="`self_loops`"):
        CSRGraph.from_edge_index(edges, n, self_loops="yes")
    with pytest.raises(ValueError, match="num_nodes"):
        CSRGraph.from_edge_index(edges, 40.5)


def _random_block(num_sources: int, num_targets: int, num_edges: int, gen) -> CSRGraph:
    """A bipartite block of random edges plus one self-loop per target."""
    src = torch.randint(0, num_sources, (num_edges,), generator=gen)
    dst = torch.randint(0, num_targets, (num_edges,), generator=gen)
    loops = torch.arange(num_targets)
    return CSRGraph.block(torch.cat([src, loops]), torch.cat([dst, loops]), num_sources, num_targets, True)


@pytest.mark.parametrize("residual", [False, True])
def test_block_with_sparse_features_equals_dense(residual):
    # mini-batch ERASE on bag-of-words graphs (Coauthor CS) feeds sparse COO features to a bipartite block, whose
    # targets are the first rows of the input: they must be taken without slicing the sparse tensor
    gen = torch.Generator().manual_seed(3)
    num_sources, num_targets = 30, 9
    block = _random_block(num_sources, num_targets, 80, gen)
    x = torch.rand(num_sources, 12, generator=gen) * (torch.rand(num_sources, 12, generator=gen) < 0.3)
    torch.manual_seed(2)
    conv = GATConv(12, 5, heads=2, residual=residual).eval()
    dense = gat_conv_csr(conv, x, block)
    sparse = gat_conv_csr(conv, x.to_sparse(), block)
    assert dense.shape == (num_targets, 10)
    assert torch.allclose(sparse, dense, atol=1e-6)


def test_attention_aggregate_rejects_features_of_another_head_count(graph_edges):
    edges, n = graph_edges
    graph = CSRGraph.from_edge_index(edges, n)
    with pytest.raises(ValueError, match="heads=2"):
        attention_aggregate(torch.rand(graph.num_edges, 3), torch.rand(n, 2, 5), graph)


@pytest.mark.parametrize("heads,concat,residual", [(4, True, False), (3, False, False), (2, True, True)])
def test_gat_conv_csr_aggregate_first_on_a_block(heads, concat, residual):
    # a sampled block has many more sources than targets: the inputs are aggregated per head and mapped on the
    # targets only; the same function and gradients as mapping every source first
    gen = torch.Generator().manual_seed(5)
    num_sources, num_targets = 60, 7
    block = _random_block(num_sources, num_targets, 90, gen)
    torch.manual_seed(6)
    conv = GATConv(12, 5, heads=heads, concat=concat, residual=residual)
    x = torch.randn(num_sources, 12, generator=gen)
    outs, grads = [], []
    for first in (False, True, None):
        x_in = x.clone().requires_grad_()
        out = gat_conv_csr(conv, x_in, block, aggregate_first=first)
        weight = torch.linspace(-1, 1, out.numel()).view_as(out)
        grads.append(torch.autograd.grad((out * weight).sum(), [x_in, *conv.parameters()]))
        outs.append(out)
    assert outs[0].shape == (num_targets, heads * 5 if concat else 5)
    for out, grad in zip(outs[1:], grads[1:]):
        assert torch.allclose(out, outs[0], atol=1e-6)
        for a, b in zip(grad, grads[0]):
            assert torch.allclose(a, b, atol=1e-5)
    with pytest.raises(ValueError, match="`aggregate_first` needs dense inputs"):
        gat_conv_csr(conv, x.to_sparse(), block, aggregate_first=True)
