"""Tests of graphdiff.cluster: optimality and locality of the push, label weights, PageRank, metrics, errors."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
import torch

import graphdiff.cluster as gc
from graphdiff.cluster import (
    LocalGraph,
    acl_pagerank,
    as_local_graph,
    flow_diffusion,
    label_weighted_graph,
    local_cluster,
    precision_recall_f1,
    weighted_acl_pagerank,
)
from graphdiff.data import synthetic


def _random_graph(n, p, seed, weighted=False):
    rng = np.random.default_rng(seed)
    a = sp.random(n, n, density=p, random_state=rng, format="csr")
    a = sp.triu(a, k=1)
    a = (a + a.T).tocsr()
    if weighted:
        a.data = rng.uniform(0.2, 3.0, a.data.size)
        a = sp.triu(a, k=1)
        a = (a + a.T).tocsr()
    else:
        a.data[:] = 1.0
    a.sort_indices()
    return a


def _dense_laplacian(g: LocalGraph, weights=None):
    w = weights if weights is not None else (g.weights if g.weights is not None else np.ones(g.num_edges))
    a = sp.csr_matrix((w, g.indices, g.indptr), shape=(g.num_nodes, g.num_nodes)).toarray()
    return np.diag(a.sum(1)) - a


@pytest.fixture(scope="module")
def planted():
    data = synthetic.planted_partition(3000, 150, 20.0, 15.0, 20.0, seed=3)
    g = as_local_graph(data)
    target = data.target.numpy()
    in_target = np.zeros(g.num_nodes, dtype=bool)
    in_target[target] = True
    return g, target, in_target


# ---------------------------------------------------------------------------------------------- optimality
@pytest.mark.parametrize("weighted", [False, True])
def test_kkt_conditions_and_mass_conservation(weighted):
    a = _random_graph(300, 0.04, seed=1, weighted=weighted)
    g = as_local_graph(a)
    tol = 1e-6
    delta = 0.3 * g.volume
    res = flow_diffusion(g, [5, 17], [delta / 2, delta / 2], tol=tol, max_passes=100000, seed=2)
    assert res.status == "converged"
    x, m = res.dense_x(), res.dense_mass()
    t = g.degree  # sink=None: the unweighted degree, also on a weighted graph
    assert np.all(m <= t + tol)
    assert np.all(x >= 0)
    on = x > 0
    assert on.any()
    assert np.all(np.abs(m[on] - t[on]) <= tol)
    big_delta = np.zeros(g.num_nodes)
    big_delta[[5, 17]] = delta / 2
    lx = _dense_laplacian(g) @ x
    np.testing.assert_allclose(m, big_delta - lx, rtol=0, atol=1e-9 * delta)
    assert abs(m.sum() - delta) <= 1e-9 * delta
    assert res.max_excess <= tol


@pytest.mark.parametrize("weighted", [False, True])
def test_agrees_with_bound_constrained_dual_solver(weighted):
    a = _random_graph(120, 0.06, seed=4, weighted=weighted)
    g = as_local_graph(a)
    lap = _dense_laplacian(g)
    t = g.degree.copy()
    delta = np.zeros(g.num_nodes)
    delta[3] = 0.4 * g.volume
    res = flow_diffusion(g, 3, delta[3], tol=1e-9, max_passes=10**6)
    assert res.converged

    def f(x):
        return 0.5 * x @ lap @ x + x @ (t - delta), lap @ x + t - delta

    sol = scipy.optimize.minimize(
        f,
        np.zeros(g.num_nodes),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0, None)] * g.num_nodes,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 100000},
    )
    f_push, f_ref = f(res.dense_x())[0], sol.fun
    assert f_push <= f_ref + 1e-6 * abs(f_ref)
    assert abs(f_push - f_ref) <= 1e-6 * abs(f_ref)
    # supports agree away from ties
    clear = np.abs(sol.x) > 1e-4 * sol.x.max()
    assert set(np.flatnonzero(clear)) <= set(res.cluster.tolist())


def test_volume_bound_and_locality_counters(planted):
    g, target, _ = planted
    vol_k = g.degree[target].sum()
    res = flow_diffusion(g, int(target[0]), 2.0 * vol_k, tol=1e-6, max_passes=10000)
    # the sinks of pushed nodes never exceed the source mass: vol(supp x) <= alpha vol(K)
    assert res.pushed_sink <= res.total_mass + 1e-9
    assert g.degree[res.cluster].sum() <= 2.0 * vol_k + 1e-9
    assert res.touched_edges <= res.work
    assert res.touched_nodes == res.nodes.size < g.num_nodes


def test_strong_locality_unchanged_when_graph_grows():
    data = synthetic.planted_partition(8000, 100, 20.0, 5.0, 10.0, seed=5)
    g = as_local_graph(data)
    target = data.target.numpy()
    vol_k = g.degree[target].sum()
    seed = int(target[0])
    res1 = flow_diffusion(g, seed, 1.5 * vol_k, tol=1e-4, max_passes=50, seed=7)
    # append a large random graph attached only to nodes far from the touched set
    extra = 20000
    rng = np.random.default_rng(0)
    # untouched nodes are not neighbours of any pushed node, so new edges there are never read
    far = np.setdiff1d(np.arange(g.num_nodes), res1.nodes)
    assert far.size > 10
    a = g.to_scipy()
    n2 = g.num_nodes + extra
    rows = rng.integers(g.num_nodes, n2, 5 * extra)
    cols = rng.integers(g.num_nodes, n2, 5 * extra)
    bridge_r = rng.choice(far, 50)
    bridge_c = rng.integers(g.num_nodes, n2, 50)
    r = np.concatenate([a.tocoo().row, rows, cols, bridge_r, bridge_c])
    c = np.concatenate([a.tocoo().col, cols, rows, bridge_c, bridge_r])
    big = sp.csr_matrix((np.ones(r.size), (r, c)), shape=(n2, n2))
    big.data[:] = 1.0
    big.setdiag(0)
    big.eliminate_zeros()
    g2 = as_local_graph(big)
    res2 = flow_diffusion(g2, seed, 1.5 * vol_k, tol=1e-4, max_passes=50, seed=7)
    assert res2.touched_nodes == res1.touched_nodes
    assert res2.work == res1.work
    np.testing.assert_array_equal(res2.cluster, res1.cluster)
    np.testing.assert_allclose(res2.x, res1.x)


class _CountingOracle:
    """Lazy labels that record which nodes were asked for."""

    def __init__(self, labels):
        self._labels = np.asarray(labels, dtype=np.int8)
        self.cache = np.full(self._labels.size, -1, dtype=np.int8)
        self.asked = []

    def fill(self, nodes):
        self.asked.extend(np.asarray(nodes).tolist())
        self.cache[nodes] = self._labels[nodes]


def test_lazy_labels_are_read_only_for_touched_nodes(planted):
    g, target, in_target = planted
    labels = gc.flip_labels(in_target, 0.9, 0.9, seed=1)
    oracle = _CountingOracle(labels)
    vol_k = g.degree[target].sum()
    seed = int(target[0])
    res_lazy = flow_diffusion(g, seed, 2 * vol_k, labels=oracle, eps=0.05, seed=3)
    res_full = flow_diffusion(g, seed, 2 * vol_k, labels=labels, eps=0.05, seed=3)
    asked = np.asarray(oracle.asked)
    assert asked.size == np.unique(asked).size  # each node predicted once
    assert set(asked.tolist()) <= set(res_lazy.nodes.tolist())
    assert asked.size < g.num_nodes
    assert res_lazy.labels_requested == asked.size
    np.testing.assert_array_equal(res_lazy.cluster, res_full.cluster)
    np.testing.assert_allclose(res_lazy.x, res_full.x)


# ---------------------------------------------------------------------------------------------- label weights
def test_eps_one_equals_original_graph(planted):
    g, target, in_target = planted
    labels = gc.flip_labels(in_target, 0.7, 0.7, seed=2)
    vol_k = g.degree[target].sum()
    a = flow_diffusion(g, int(target[1]), 2 * vol_k, labels=labels, eps=1.0, seed=5)
    b = flow_diffusion(g, int(target[1]), 2 * vol_k, seed=5)
    np.testing.assert_array_equal(a.cluster, b.cluster)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-12)


@pytest.mark.parametrize("scheme", ["agree", "both_one"])
def test_on_the_fly_weights_match_weighted_graph(planted, scheme):
    g, target, in_target = planted
    labels = gc.flip_labels(in_target, 0.8, 0.8, seed=3)
    seed = int(target[np.flatnonzero(labels[target] == 1)[0]])
    gw = label_weighted_graph(g, labels, eps=0.1, scheme=scheme)
    lab = labels.astype(bool)
    row = np.repeat(np.arange(g.num_nodes), np.diff(g.indptr))
    fav = (lab[row] == lab[g.indices]) if scheme == "agree" else (lab[row] & lab[g.indices])
    np.testing.assert_array_equal(gw.weights, np.where(fav, 1.0, 0.1))
    vol_k = g.degree[target].sum()
    a = flow_diffusion(gw, seed, 2 * vol_k, seed=1)
    b = flow_diffusion(g, seed, 2 * vol_k, labels=labels, eps=0.1, scheme=scheme, seed=1)
    np.testing.assert_array_equal(a.cluster, b.cluster)
    np.testing.assert_allclose(a.x, b.x, rtol=1e-9)
    # the Data form carries the same weights as edge_weight
    data = synthetic.planted_partition(200, 20, 8.0, 2.0, 5.0, seed=0)
    lab2 = np.zeros(200, dtype=bool)
    lab2[:100] = True
    dw = label_weighted_graph(data, lab2, eps=0.2, scheme=scheme)
    ei = data.edge_index.numpy()
    fav2 = (lab2[ei[0]] == lab2[ei[1]]) if scheme == "agree" else (lab2[ei[0]] & lab2[ei[1]])
    np.testing.assert_allclose(dw.edge_weight.numpy(), np.where(fav2, 1.0, 0.2))


def test_eps_zero_confinement_and_infeasibility(planted):
    g, target, in_target = planted
    labels = in_target.astype(np.int8)  # perfect labels
    vol_k = g.degree[target].sum()
    seed = int(target[0])
    # alpha < 1: feasible, confined to the label-1 component, precision 1
    res = flow_diffusion(g, seed, 0.9 * vol_k, labels=labels, eps=0.0, tol=1e-4, max_passes=10000)
    assert res.converged
    assert np.all(in_target[res.cluster])
    p, r, _ = precision_recall_f1(res.cluster, target)
    assert p == 1.0 and r > 0.5
    # alpha > 1: the label-1 component cannot absorb the mass -> reported, not looped
    res = flow_diffusion(g, seed, 1.5 * vol_k, labels=labels, eps=0.0, tol=1e-4, max_passes=10**7)
    assert res.status == "infeasible"
    assert res.passes < 10**7
    assert np.all(in_target[res.cluster])
    # with noisy labels and both schemes the support stays in the seed's label-1 component
    noisy = gc.flip_labels(in_target, 0.9, 0.9, seed=4)
    noisy[seed] = 1
    lab_b = noisy.astype(bool)
    a = g.to_scipy()
    sub = a[lab_b][:, lab_b]
    _, comp = sp.csgraph.connected_components(sub, directed=False)
    ids = np.flatnonzero(lab_b)
    component = set(ids[comp == comp[np.searchsorted(ids, seed)]].tolist())
    for scheme in ("agree", "both_one"):
        res = flow_diffusion(g, seed, 3 * vol_k, labels=noisy, eps=0.0, scheme=scheme, max_passes=200)
        assert set(res.cluster.tolist()) <= component


def test_perfect_labels_recover_the_cluster(planted):
    g, target, in_target = planted
    labels = in_target.astype(np.int8)
    vol_k = g.degree[target].sum()
    res = flow_diffusion(g, int(target[0]), 1.5 * vol_k, labels=labels, eps=0.05, max_passes=1000)
    assert precision_recall_f1(res.cluster, target)[2] >= 0.9


def test_noisy_label_benefit_on_planted_partition():
    data = synthetic.planted_partition(5000, 250, 20.0, 19.0, 20.0, seed=0)
    g = as_local_graph(data)
    target = data.target.numpy()
    in_target = np.zeros(g.num_nodes, dtype=bool)
    in_target[target] = True
    vol_k = g.degree[target].sum()
    alphas = np.arange(1.5, 5.01, 0.5)

    def mean_f1(acc):
        labels = gc.flip_labels(in_target, acc, acc, seed=1)
        seeds = target[np.flatnonzero(labels[target] == 1)][:5]
        f = {"wfd": [], "fd": [], "lab": []}
        for s in seeds:
            w = local_cluster(
                g, int(s), method="weighted_flow_diffusion", labels=labels, eps=0.05, target_volume=vol_k, alphas=alphas
            )
            d = local_cluster(g, int(s), method="flow_diffusion", target_volume=vol_k, alphas=alphas)
            lo = local_cluster(g, int(s), method="labels_only", labels=labels)
            f["wfd"].append(precision_recall_f1(w.cluster, target)[2])
            f["fd"].append(precision_recall_f1(d.cluster, target)[2])
            f["lab"].append(precision_recall_f1(lo.cluster, target)[2])
            # selection rule: the kept alpha has the least (weighted) conductance of the grid
            assert w.conductance == min(c[1] for c in w.candidates)
            assert w.param == alphas[int(np.argmin([c[1] for c in w.candidates]))]
        return {k: float(np.mean(v)) for k, v in f.items()}

    good = mean_f1(0.9)
    assert good["wfd"] >= good["fd"] + 0.15
    assert good["wfd"] >= good["lab"] + 0.05
    # uninformative labels: the gain over flow diffusion on G shrinks
    weak = mean_f1(0.55)
    assert weak["wfd"] - weak["fd"] < good["wfd"] - good["fd"]


def test_sweep_readout_and_estimator(planted):
    g, target, in_target = planted
    labels = gc.flip_labels(in_target, 0.9, 0.9, seed=0)
    vol_k = g.degree[target].sum()
    seeds = target[np.flatnonzero(labels[target] == 1)][:2]
    est = gc.LocalClustering(method="weighted_flow_diffusion", alphas=(1.5, 2.5), readout="sweep", verbose=False)
    clusters = est.fit_predict(g, seeds, labels=labels, target_volume=vol_k)
    assert len(clusters) == 2
    for c, r in zip(clusters, est.results_):
        assert c.size > 0 and c.dtype == np.int64
        total = gc.label_weighted_volume(g, labels, 0.05)
        phi = gc.conductance(g, c, labels=labels, eps=0.05, seed_nodes=[r.seed_node], total_volume=total)
        assert r.conductance == pytest.approx(phi, rel=1e-2)
    # settings are validated by fit, naming the setting
    with pytest.raises(ValueError, match="`method`"):
        gc.LocalClustering(method="spectral").fit(g, seeds, labels=labels, target_volume=vol_k)
    with pytest.raises(ValueError, match="`eps`"):
        gc.LocalClustering(eps=2.0).fit(g, seeds, labels=labels, target_volume=vol_k)


def test_batched_torch_solver_matches_push():
    a = _random_graph(150, 0.05, seed=8)
    g = as_local_graph(a)
    lap = _dense_laplacian(g)
    seeds = np.array([0, 7, 30])
    mass = 0.2 * g.volume
    x, m, conv = gc.batched_flow_diffusion(g, seeds, mass, tol=1e-6, device="cpu")
    assert bool(conv.all())
    for j, s in enumerate(seeds):
        ref = flow_diffusion(g, int(s), mass, tol=1e-9, max_passes=10**6)
        delta = np.zeros(g.num_nodes)
        delta[s] = mass
        obj = lambda z: 0.5 * z @ lap @ z + z @ (g.degree - delta)  # noqa: E731, B023  (used in this iteration)
        assert obj(x[:, j].numpy()) == pytest.approx(obj(ref.dense_x()), rel=1e-5)
        np.testing.assert_allclose(m[:, j].numpy(), ref.dense_mass(), atol=1e-3)


# ---------------------------------------------------------------------------------------------- PageRank
@pytest.mark.parametrize("weighted", [False, True])
def test_acl_matches_dense_pagerank(weighted):
    a = _random_graph(100, 0.08, seed=11)
    g = as_local_graph(a)
    alpha, rho = 0.1, 1e-10
    if weighted:
        labels = (np.arange(100) % 3 == 0).astype(np.int8)
        res = weighted_acl_pagerank(g, 3, labels, eps=0.2, alpha=alpha, rho=rho)
        gw = label_weighted_graph(g, np.where(np.arange(100) == 3, 1, labels), eps=0.2)
        w = gw.weights
    else:
        res = acl_pagerank(g, 3, alpha=alpha, rho=rho)
        w = None
    adj = sp.csr_matrix((w if w is not None else np.ones(g.num_edges), g.indices, g.indptr), shape=(100, 100)).toarray()
    d = adj.sum(1)
    walk = 0.5 * (np.eye(100) + adj / d[:, None])
    s = np.zeros(100)
    s[3] = 1.0
    pr = alpha * s @ np.linalg.inv(np.eye(100) - (1 - alpha) * walk)
    np.testing.assert_allclose(res.dense_p(), pr, atol=1e-7)
    assert res.p.sum() + res.r.sum() == pytest.approx(1.0, abs=1e-12)


def test_acl_work_bound_and_sweep(planted):
    g, target, _ = planted
    alpha, rho = 0.05, 1e-4
    res = acl_pagerank(g, int(target[0]), alpha=alpha, rho=rho)
    assert res.converged
    assert res.work <= 1.0 / (alpha * rho)
    assert res.p.sum() + res.r.sum() == pytest.approx(1.0)
    assert np.all(res.r <= rho * res.degree + 1e-15)
    # the sweep returns the least-conductance prefix of p/d
    cluster, phi = gc.sweep_cut(g, res.dense_p())
    np.testing.assert_array_equal(cluster, res.cluster)
    assert phi == pytest.approx(gc.conductance(g, cluster))
    order = np.argsort(-res.dense_p() / g.degree)
    for k in (1, 5, cluster.size + 3):
        assert gc.conductance(g, order[:k]) >= phi - 1e-12


# ---------------------------------------------------------------------------------------------- metrics
def test_precision_recall_f1_and_conductance():
    p, r, f = precision_recall_f1([1, 2, 3, 4], [3, 4, 5])
    assert (p, r) == (0.5, 2 / 3)
    assert f == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert precision_recall_f1([], [1]) == (0.0, 0.0, 0.0)
    G = nx.karate_club_graph()
    a = nx.to_scipy_sparse_array(G, weight=None, format="csr")
    g = as_local_graph(sp.csr_matrix(a))
    s = [0, 1, 2, 3, 7, 11, 12, 13]
    assert gc.conductance(g, s) == pytest.approx(nx.conductance(G, s))
    with pytest.raises(ValueError, match="target"):
        precision_recall_f1([1], [])


def test_logistic_oracle_is_lazy_and_consistent():
    data = synthetic.contextual_sbm(
        num_nodes=600, num_classes=2, avg_degree=8.0, homophily=0.8, num_features=16, feature_signal=2.0, seed=0
    )
    in_target = (data.y == 1).numpy()
    oracle = gc.LogisticLabelOracle(data.x, in_target, num_samples=10, seed=0)
    assert oracle.train_nodes.size == 20
    assert oracle.predicted == 0 and np.all(oracle.cache == -1)
    part = oracle.predict([5, 9, 5])
    assert oracle.predicted == 2
    full = oracle.predict_all()
    assert oracle.predicted == 600
    assert np.array_equal(full[[5, 9, 5]], part)
    acc = (full.astype(bool) == in_target).mean()
    assert acc > 0.7
    with pytest.raises(ValueError, match="num_samples"):
        gc.LogisticLabelOracle(data.x, in_target, num_samples=10**4)


# ---------------------------------------------------------------------------------------------- errors
def test_clear_errors():
    a = _random_graph(50, 0.1, seed=0)
    g = as_local_graph(a)
    with pytest.raises(ValueError, match="out of range"):
        flow_diffusion(g, 50, 10.0)
    with pytest.raises(ValueError, match="out of range"):
        flow_diffusion(g, -1, 10.0)
    bad = a.copy()
    bad.data[3] = -1.0
    with pytest.raises(ValueError, match="negative"):
        as_local_graph(bad)
    bad.data[3] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        flow_diffusion(bad, 0, 10.0)
    with pytest.raises(ValueError, match="weights"):
        flow_diffusion(g, 0, 10.0, weights=np.full(g.num_edges, -0.5))
    with pytest.raises(ValueError, match="one entry per node"):
        flow_diffusion(g, 0, 10.0, labels=np.ones(49, dtype=np.int8), eps=0.1)
    with pytest.raises(ValueError, match="binary"):
        flow_diffusion(g, 0, 10.0, labels=np.full(50, 2), eps=0.1)
    with pytest.raises(ValueError, match="eps"):
        flow_diffusion(g, 0, 10.0, labels=np.ones(50, dtype=np.int8), eps=-0.1)
    with pytest.raises(ValueError, match="source_mass"):
        flow_diffusion(g, 0, -1.0)
    with pytest.raises(ValueError, match="labels"):
        local_cluster(g, 0, method="weighted_flow_diffusion", target_volume=10.0)
    with pytest.raises(ValueError, match="target_volume"):
        local_cluster(g, 0, method="flow_diffusion")
    with pytest.raises(ValueError, match="one entry per node"):
        gc.label_weighted_graph(g, np.ones(10), eps=0.1)
    with pytest.raises(ValueError, match="out of range"):
        acl_pagerank(g, 99)
    with pytest.raises(ValueError, match="graph"):
        as_local_graph("not a graph")


def test_isolated_seed_returns_itself():
    a = _random_graph(40, 0.2, seed=1).tolil()
    a[0, :] = 0
    a[:, 0] = 0
    g = as_local_graph(a.tocsr())
    assert g.degree[0] == 0
    with pytest.warns(RuntimeWarning, match="no positive-weight edges"):
        res = flow_diffusion(g, 0, 5.0)
    np.testing.assert_array_equal(res.cluster, [0])
    assert res.status == "infeasible"
    with pytest.warns(RuntimeWarning):
        lc = local_cluster(g, 0, method="flow_diffusion", target_volume=3.0, alphas=(1.5,))
    np.testing.assert_array_equal(lc.cluster, [0])
    pr = acl_pagerank(g, 0)
    np.testing.assert_array_equal(pr.cluster, [0])
    # a seed whose neighbours all carry label 0 at eps = 0 is stuck too, but returns without error
    labels = np.zeros(40, dtype=np.int8)
    with pytest.warns(RuntimeWarning):
        res = flow_diffusion(g, 5, 100.0, labels=labels, eps=0.0)
    assert 5 in res.cluster.tolist()


def test_inputs_in_every_form_agree():
    data = synthetic.planted_partition(400, 40, 10.0, 3.0, 6.0, seed=2)
    g = as_local_graph(data)
    a = g.to_scipy()
    s = int(data.target[0])
    outs = [flow_diffusion(x, s, 200.0, seed=1) for x in (data, a, (a.indptr, a.indices), g)]
    for o in outs[1:]:
        np.testing.assert_array_equal(o.cluster, outs[0].cluster)
    t = torch.zeros(400, dtype=torch.bool)
    assert flow_diffusion(g, torch.tensor([s]), 200.0, labels=t, eps=0.5).touched_nodes > 1


def test_device_path_of_batch_entry_point_matches_push():
    # the CUDA path of batch_local_cluster, exercised on CPU torch
    from graphdiff.cluster.local_cluster import _batch_on_device

    data = synthetic.planted_partition(600, 60, 12.0, 3.0, 8.0, seed=1)
    g = as_local_graph(data)
    target = data.target.numpy()
    vol_k = g.degree[target].sum()
    seeds = target[:3]
    alphas = (1.5, 3.0)
    push = gc.batch_local_cluster(
        g, seeds, method="flow_diffusion", target_volume=vol_k, alphas=alphas, tol=1e-7, max_passes=10**5, verbose=False
    )
    config = gc.LocalClusterConfig(method="flow_diffusion", alphas=alphas, tol=1e-7)
    dev = _batch_on_device(g, seeds, config, None, vol_k, None, torch.device("cpu"), False)
    for a, b in zip(push, dev):
        assert a.param == b.param
        inter = np.intersect1d(a.cluster, b.cluster).size
        assert inter / np.union1d(a.cluster, b.cluster).size > 0.95


def test_failing_oracle_leaves_workspace_clean(planted):
    g, target, in_target = planted
    labels = gc.flip_labels(in_target, 0.9, 0.9, seed=1)

    class Failing(_CountingOracle):
        def fill(self, nodes):
            raise RuntimeError("classifier unavailable")

    bad = Failing(labels)
    vol_k = g.degree[target].sum()
    with pytest.raises(RuntimeError, match="unavailable"):
        flow_diffusion(g, int(target[0]), 2 * vol_k, labels=bad, eps=0.05)
    assert np.all(bad.cache == -1)  # no request markers left behind
    assert not g.workspace().loc.any()
    good = _CountingOracle(labels)
    a = flow_diffusion(g, int(target[0]), 2 * vol_k, labels=good, eps=0.05, seed=3)
    b = flow_diffusion(g, int(target[0]), 2 * vol_k, labels=labels, eps=0.05, seed=3)
    np.testing.assert_array_equal(a.cluster, b.cluster)
