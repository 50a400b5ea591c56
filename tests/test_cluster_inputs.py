"""Bad input at graphdiff.cluster's public boundary: a ValueError naming the argument and the problem, never a
silently wrong answer or an error from deep inside numpy, torch or numba (issue #18)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

import graphdiff.cluster as gc
from graphdiff.cluster.metrics import neighbours
from graphdiff.data import synthetic

NAN, INF = float("nan"), float("inf")


@pytest.fixture(scope="module")
def small():
    data = synthetic.planted_partition(400, 40, 10.0, 2.0, 5.0, seed=0)
    g = gc.as_local_graph(data)
    target = data.target.numpy()
    in_target = np.zeros(400, dtype=bool)
    in_target[target] = True
    labels = gc.flip_labels(in_target, 0.9, 0.9, seed=0)
    return data, g, target, labels, float(g.degree[target].sum())


# ---------------------------------------------------------------------------------------------- graphs
def test_one_directional_edge_index_is_refused():
    data = Data(edge_index=torch.tensor([[0, 1, 2], [1, 2, 3]]), num_nodes=4)  # a directed path
    with pytest.raises(ValueError, match=r"undirected.*edge \(0, 1\) is stored but \(1, 0\) is not"):
        gc.flow_diffusion(data, 0, 3.0)
    with pytest.raises(ValueError, match="undirected"):
        gc.as_local_graph(sp.csr_matrix(np.triu(np.ones((4, 4)), 1)))
    # both directions, different weights
    both = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_weight=torch.tensor([1.0, 2.0]), num_nodes=2)
    with pytest.raises(ValueError, match=r"`weights` must be symmetric: edge \(0, 1\) has weight 1.0"):
        gc.as_local_graph(both)
    # a symmetric multigraph (parallel edges with different weights) is fine
    multi = gc.LocalGraph([0, 2, 4], [1, 1, 0, 0], [1.0, 3.0, 3.0, 1.0])
    assert multi.weighted_degree.tolist() == [4.0, 4.0]


def test_graph_inputs():
    with pytest.raises(ValueError, match="integer"):
        gc.LocalGraph(np.array([0.0, 1.0, 2.0]), [1, 0])
    with pytest.raises(ValueError, match="one entry per stored edge"):
        gc.LocalGraph([0, 1, 2], [1, 0], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        gc.LocalGraph([0, 1, 2], [1, 0], [NAN, NAN])
    with pytest.raises(ValueError, match="negative"):
        gc.LocalGraph([0, 1, 2], [1, 0], [-1.0, -1.0])
    with pytest.raises(ValueError, match="real numbers"):
        gc.LocalGraph([0, 1, 2], [1, 0], ["a", "b"])
    with pytest.raises(ValueError, match="`validate`"):
        gc.LocalGraph([0, 1, 2], [1, 0], validate=1)
    assert gc.LocalGraph([0, 1, 2], [1, 0], torch.tensor([2.0, 2.0])).weighted_volume == 4.0
    with pytest.raises(ValueError, match="square"):
        gc.as_local_graph(sp.csr_matrix(np.ones((2, 3))))
    with pytest.raises(ValueError, match="CSR tuple"):
        gc.as_local_graph(([0, 1],))
    bad = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_weight=torch.ones(2, 1), num_nodes=2)
    with pytest.raises(ValueError, match="edge_weight"):
        gc.as_local_graph(bad)
    # explicitly stored zeros are not edges (as in the data loaders): the sinks (degrees) do not count them
    # the path 0 - 1 - 2 with (0, 2) and (2, 0) stored as explicit zeros
    with_zeros = sp.csr_matrix(([1.0, 0.0, 1.0, 1.0, 0.0, 1.0], [1, 2, 0, 2, 0, 1], [0, 2, 4, 6]), shape=(3, 3))
    assert with_zeros.nnz == 6
    assert gc.as_local_graph(with_zeros).degree.tolist() == [1.0, 2.0, 1.0]


def test_neighbours_node_ids(small):
    _, g, *_ = small
    with pytest.raises(ValueError, match="out of range"):
        neighbours(g, [-1])
    with pytest.raises(ValueError, match="out of range"):
        neighbours(g, [500])
    with pytest.raises(ValueError, match="integer"):
        neighbours(g, [1.5])
    assert neighbours(g, []).size == 0
    np.testing.assert_array_equal(neighbours(g, [3, 3]), np.tile(g.indices[g.indptr[3] : g.indptr[4]], 2))


# ---------------------------------------------------------------------------------------------- labels
@pytest.mark.parametrize("value", [5, -1])
def test_int8_labels_outside_0_1_are_refused_everywhere(small, value):
    data, g, target, labels, vol = small
    bad = labels.copy()
    node = int(np.flatnonzero(bad == 1)[0])  # a node every reader reads
    bad[node] = value
    match = rf"binary.*node {node} has label {value}"
    with pytest.raises(ValueError, match=match):
        gc.local_cluster(g, target[0], method="labels_only", labels=bad)
    with pytest.raises(ValueError, match=match):
        gc.label_weighted_graph(g, bad, eps=0.1)
    with pytest.raises(ValueError, match=match):
        gc.label_weighted_graph(data, bad, eps=0.1)
    with pytest.raises(ValueError, match=match):
        gc.label_weighted_volume(g, bad, 0.1)
    with pytest.raises(ValueError, match=match):
        gc.batched_flow_diffusion(g, target[:1], vol, labels=bad, eps=0.1)
    with pytest.raises(ValueError, match=match):
        gc.local_cluster(g, target[0], labels=bad, target_volume=vol)
    # the strongly local readers check the labels they read
    seed = int(g.indices[g.indptr[node]])  # a neighbour of the bad node: its label is read at the first push
    with pytest.raises(ValueError, match=match):
        gc.flow_diffusion(g, seed, 10 * vol, labels=bad, eps=0.1)
    with pytest.raises(ValueError, match=match):
        gc.weighted_acl_pagerank(g, seed, bad, eps=0.1)
    with pytest.raises(ValueError, match=match):
        gc.conductance(g, [seed], labels=bad, eps=0.1)
    assert labels[node] == 1  # the caller's array is never modified


def test_label_inputs(small):
    _, g, target, labels, vol = small
    with pytest.raises(ValueError, match="one entry per node"):
        gc.local_cluster(g, target[0], labels=labels[:-1], target_volume=vol)
    with pytest.raises(ValueError, match="NaN"):
        gc.flow_diffusion(g, target[0], vol, labels=np.full(400, NAN), eps=0.1)
    with pytest.raises(ValueError, match="binary"):
        gc.flow_diffusion(g, target[0], vol, labels=np.full(400, 0.5), eps=0.1)
    with pytest.raises(ValueError, match="dtype"):
        gc.flow_diffusion(g, target[0], vol, labels=np.full(400, "a"), eps=0.1)
    with pytest.raises(ValueError, match="`eps` is required"):
        gc.flow_diffusion(g, target[0], vol, labels=labels)
    with pytest.raises(ValueError, match="without `labels`"):
        gc.flow_diffusion(g, target[0], vol, eps=0.1)
    with pytest.raises(ValueError, match="needs `labels`"):
        gc.local_cluster(g, target[0], target_volume=vol)

    class WrongCache:
        cache = np.zeros(400, dtype=np.int64)

        def fill(self, nodes):
            pass

    with pytest.raises(ValueError, match="int8"):
        gc.flow_diffusion(g, target[0], vol, labels=WrongCache(), eps=0.1)
    oracle = gc.LogisticLabelOracle(np.eye(400, 4), labels.astype(bool), num_samples=2)
    with pytest.raises(ValueError, match="full label array"):
        gc.weighted_acl_pagerank(g, target[0], oracle)
    with pytest.raises(ValueError, match="`nodes`"):
        oracle.predict([400])
    with pytest.raises(ValueError, match="`C`"):
        gc.LogisticLabelOracle(np.eye(400, 4), labels.astype(bool), C=NAN)
    with pytest.raises(ValueError, match="`seed`"):
        gc.LogisticLabelOracle(np.eye(400, 4), labels.astype(bool), seed=-1)
    with pytest.raises(ValueError, match="in_target"):
        gc.LogisticLabelOracle(np.eye(400, 4), labels)  # int8: ambiguous mask


# ---------------------------------------------------------------------------------------------- knobs
@pytest.mark.parametrize(
    ("settings", "name"),
    [
        ({"eps": NAN}, "eps"),
        ({"eps": 1.5}, "eps"),
        ({"alphas": [2.0, NAN]}, "alphas"),
        ({"alphas": []}, "alphas"),
        ({"alphas": [-1.0]}, "alphas"),
        ({"pagerank_alphas": [1.5]}, "pagerank_alphas"),
        ({"rhos": [INF]}, "rhos"),
        ({"tol": NAN}, "tol"),
        ({"max_passes": 2.5}, "max_passes"),
        ({"seed": -1}, "seed"),
        ({"method": "spectral"}, "method"),
        ({"scheme": "or"}, "scheme"),
        ({"readout": "best"}, "readout"),
    ],
)
def test_settings_are_validated_by_name(small, settings, name):
    _, g, target, labels, vol = small
    with pytest.raises(ValueError, match=f"`{name}`"):
        gc.local_cluster(g, target[0], labels=labels, target_volume=vol, **settings)
    with pytest.raises(ValueError, match=f"`{name}`"):
        gc.batch_local_cluster(g, target[:2], labels=labels, target_volume=vol, verbose=False, **settings)
    with pytest.raises(ValueError, match=f"`{name}`"):
        gc.LocalClustering(verbose=False, **settings).fit(g, target[:2], labels=labels, target_volume=vol)


def test_volumes_and_seed_nodes(small):
    _, g, target, labels, vol = small
    with pytest.raises(ValueError, match="`target_volume`"):
        gc.local_cluster(g, target[0], labels=labels, target_volume=INF)
    with pytest.raises(ValueError, match="`target_volume`"):
        gc.local_cluster(g, target[0], labels=labels, target_volume=0.0)
    with pytest.raises(ValueError, match="`target_volume` .* is required"):
        gc.local_cluster(g, target[0], labels=labels)
    with pytest.raises(ValueError, match="`total_volume`"):
        gc.local_cluster(g, target[0], labels=labels, target_volume=vol, total_volume=NAN)
    with pytest.raises(ValueError, match="`seed_node` must be a single node"):
        gc.local_cluster(g, target[:2], labels=labels, target_volume=vol)
    with pytest.raises(ValueError, match="at least one node"):
        gc.batch_local_cluster(g, [], labels=labels, target_volume=vol, verbose=False)
    with pytest.raises(ValueError, match="duplicate"):
        gc.batch_local_cluster(g, [3, 3], labels=labels, target_volume=vol, verbose=False)
    with pytest.raises(ValueError, match="at least one node"):
        gc.flow_diffusion(g, [], 1.0)
    with pytest.raises(ValueError, match="booleans"):
        gc.flow_diffusion(g, np.ones(400, dtype=bool), 1.0)
    with pytest.raises(ValueError, match="`source_mass`"):
        gc.flow_diffusion(g, [1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="`source_mass`"):
        gc.flow_diffusion(g, 1, NAN)
    with pytest.raises(ValueError, match="`max_passes`"):
        gc.flow_diffusion(g, 1, 1.0, max_passes=True)
    with pytest.raises(ValueError, match="`rho`"):
        gc.acl_pagerank(g, 1, rho=INF)
    with pytest.raises(ValueError, match="`alpha`"):
        gc.acl_pagerank(g, 1, alpha=NAN)
    with pytest.raises(ValueError, match="`max_pushes`"):
        gc.acl_pagerank(g, 1, max_pushes=0)
    with pytest.raises(ValueError, match="`eps`"):
        gc.conductance(g, [1, 2], labels=labels, eps=NAN)
    with pytest.raises(ValueError, match="`eps`"):
        gc.label_weighted_graph(g, labels, eps=NAN)
    with pytest.raises(ValueError, match="`total_volume`"):
        gc.conductance(g, [1, 2], total_volume=-1.0)
    with pytest.raises(ValueError, match="`cluster`.*out of range"):
        gc.conductance(g, [1, 400])
    with pytest.raises(ValueError, match="negative"):
        gc.precision_recall_f1([1], [-1, 2])


def test_sink_scalar_is_the_documented_form(small):
    _, g, target, _, vol = small
    dense = gc.flow_diffusion(g, target[0], vol, sink=np.full(g.num_nodes, 3.0))
    for scalar in (3.0, 3, np.float64(3.0), torch.tensor(3.0)):
        res = gc.flow_diffusion(g, target[0], vol, sink=scalar)
        np.testing.assert_array_equal(res.x, dense.x)
    assert np.all(dense.sink == 3.0)
    with pytest.raises(ValueError, match="`sink`.*node 2"):
        gc.flow_diffusion(g, target[0], vol, sink=np.r_[1.0, 1.0, -1.0, np.ones(397)])
    with pytest.raises(ValueError, match="`sink`.*shape"):
        gc.flow_diffusion(g, target[0], vol, sink=np.ones(3))
    x, _, _ = gc.batched_flow_diffusion(g, target[:1], vol, sink=3.0, tol=1e-6)
    assert torch.all(x >= 0)


def test_batched_knobs(small):
    _, g, _, _, vol = small
    with pytest.raises(ValueError, match=r"integer node ids, got 1.7"):
        gc.batched_flow_diffusion(g, [1.7], vol)
    with pytest.raises(ValueError, match="`check_every`"):
        gc.batched_flow_diffusion(g, [1], vol, check_every=0)
    with pytest.raises(ValueError, match="`tol`"):
        gc.batched_flow_diffusion(g, [1], vol, tol=NAN)
    with pytest.raises(ValueError, match="`max_iters`"):
        gc.batched_flow_diffusion(g, [1], vol, max_iters=2.5)
    with pytest.raises(ValueError, match="`dtype`"):
        gc.batched_flow_diffusion(g, [1], vol, dtype=torch.int64)
    with pytest.raises(ValueError, match="`device`"):
        gc.batched_flow_diffusion(g, [1], vol, device="banana")
    out = gc.batched_flow_diffusion(g, [1, 1], [vol, 2 * vol], max_iters=3, check_every=1)  # repeated seed nodes
    assert out.iterations == 3 and out.x.shape == (400, 2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_refused_where_there_is_none(small):
    _, g, target, labels, vol = small
    with pytest.raises(ValueError, match="`device`='cuda'"):
        gc.batch_local_cluster(g, target[:2], labels=labels, target_volume=vol, device="cuda", verbose=False)
    with pytest.raises(ValueError, match="`device`"):
        gc.batched_flow_diffusion(g, [1], vol, device="cuda")
    with pytest.raises(ValueError, match="`device`"):
        gc.LocalClustering(device="cuda", verbose=False).fit(g, target[:2], labels=labels, target_volume=vol)
    with pytest.raises(ValueError, match="`verbose`"):
        gc.batch_local_cluster(g, target[:2], labels=labels, target_volume=vol, verbose="no")
