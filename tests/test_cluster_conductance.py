"""One definition of (weighted) volume and conductance in graphdiff.cluster: `conductance`, the sweep cuts and the
lowest-conductance selection agree with a dense computation and stay in [0, 1] (issue 16)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import graphdiff.cluster as gc
from graphdiff.cluster.metrics import seed_volume_totals


def _weighted_graph(n, p, seed, self_loops=True, isolated=2):
    """Symmetric random weighted adjacency with self-loops, isolated nodes and (usually) several components."""
    rng = np.random.default_rng(seed)
    a = sp.random(n, n, density=p, random_state=rng, format="csr")
    a.data = rng.uniform(0.1, 4.0, a.data.size)
    a = sp.triu(a, k=1)
    a = (a + a.T).tolil()
    if self_loops:
        for i in rng.choice(n, n // 5, replace=False):
            a[i, i] = rng.uniform(0.1, 2.0)
    for i in range(isolated):  # isolated nodes (one of them with a self-loop only)
        a[n - 1 - i, :] = 0
        a[:, n - 1 - i] = 0
    a[n - 1, n - 1] = 1.5
    a = a.tocsr()
    a.eliminate_zeros()
    a.sort_indices()
    return a


def _dense_phi(a: np.ndarray, cluster) -> float:
    """cut / min(vol, vol(V) - vol) with degree = row sum (a self-loop counts once, never cut)."""
    inside = np.zeros(a.shape[0], dtype=bool)
    inside[np.asarray(cluster, dtype=np.int64)] = True
    cut = a[np.ix_(inside, ~inside)].sum()
    vol = a[inside].sum()
    denom = min(vol, a.sum() - vol)
    return 1.0 if denom <= 1e-9 * a.sum() or inside.sum() == 0 else cut / denom


def _label_weighted_dense(a: np.ndarray, labels, eps, scheme, seed_node) -> np.ndarray:
    lab = np.asarray(labels).astype(bool).copy()
    lab[seed_node] = True
    fav = (lab[:, None] == lab[None, :]) if scheme == "agree" else (lab[:, None] & lab[None, :])
    return a * np.where(fav, 1.0, eps)


@pytest.mark.parametrize("seed", range(4))
def test_conductance_in_unit_interval_and_equal_to_dense(seed):
    a = _weighted_graph(40, 0.08, seed)
    g = gc.as_local_graph(a)
    assert g.weights is not None
    dense = a.toarray()
    rng = np.random.default_rng(100 + seed)
    labels = rng.random(40) < 0.5
    for _trial in range(25):
        size = int(rng.integers(0, 40))
        cluster = rng.choice(40, size, replace=False)
        phi = gc.conductance(g, cluster)
        assert 0.0 <= phi <= 1.0
        assert phi == pytest.approx(_dense_phi(dense, cluster), rel=1e-9, abs=1e-12)
        s = int(rng.integers(0, 40))
        for scheme in ("agree", "both_one"):
            aw = _label_weighted_dense(dense, labels, 0.05, scheme, s)
            phi_w = gc.conductance(g, cluster, labels=labels, eps=0.05, scheme=scheme, seed_nodes=[s])
            assert 0.0 <= phi_w <= 1.0
            assert phi_w == pytest.approx(_dense_phi(aw, cluster), rel=1e-9, abs=1e-12)


def test_whole_component_is_never_negative():
    # one component plus isolated nodes: the component's complement has no volume (conductance 1 by convention),
    # and with a self-loop-only node outside it the component is a cut of conductance exactly 0
    path = sp.diags([1.0, 1.0], [-1, 1], shape=(30, 30), format="lil")
    path[29, 28] = path[28, 29] = 0.0
    a = path.tocsr()
    a.eliminate_zeros()
    comp = np.arange(29)
    assert gc.conductance(a, comp) == 1.0
    loops = a.tolil()
    loops[29, 29] = 2.0
    assert gc.conductance(loops.tocsr(), comp) == 0.0


@pytest.mark.parametrize("seed", range(3))
def test_sweeps_report_the_conductance_of_their_cluster(seed):
    a = _weighted_graph(60, 0.06, seed)
    g = gc.as_local_graph(a)
    dense = a.toarray()
    labels = np.random.default_rng(seed).random(60) < 0.4
    for s in (0, 7, 13):
        if g.degree[s] == 0:
            continue
        pr = gc.acl_pagerank(g, s, alpha=0.05, rho=1e-6)
        assert 0.0 <= pr.conductance <= 1.0
        assert pr.conductance == pytest.approx(_dense_phi(dense, pr.cluster), rel=1e-9, abs=1e-12)
        assert pr.conductance == pytest.approx(gc.conductance(g, pr.cluster), rel=1e-9, abs=1e-12)
        wpr = gc.weighted_acl_pagerank(g, s, labels, eps=0.05, alpha=0.05, rho=1e-6)
        aw = _label_weighted_dense(dense, labels, 0.05, "agree", s)
        assert 0.0 <= wpr.conductance <= 1.0
        assert wpr.conductance == pytest.approx(_dense_phi(aw, wpr.cluster), rel=1e-9, abs=1e-12)
        # the selection of the pipeline and the sweep of the flow diffusion use the same numbers
        for method in ("weighted_acl_pagerank", "weighted_flow_diffusion"):
            res = gc.local_cluster(
                g, s, method=method, labels=labels, target_volume=10.0, alphas=(1.5, 3.0), readout="sweep"
            )
            assert 0.0 <= res.conductance <= 1.0
            assert res.conductance == pytest.approx(_dense_phi(aw, res.cluster), rel=1e-9, abs=1e-12)
            assert res.conductance == min(c[1] for c in res.candidates)


def test_batch_uses_the_per_seed_weighted_volume():
    a = _weighted_graph(50, 0.08, 7, isolated=0)
    g = gc.as_local_graph(a)
    labels = np.random.default_rng(7).random(50) < 0.5
    seeds = np.arange(0, 50, 3)
    for scheme in ("agree", "both_one"):
        totals = seed_volume_totals(g, labels.view(np.int8), 0.05, scheme, seeds)
        want = [gc.label_weighted_volume(g, labels, 0.05, scheme, seed_nodes=[s]) for s in seeds]
        np.testing.assert_allclose(totals, want, rtol=1e-12)
    batch = gc.batch_local_cluster(g, seeds, method="weighted_acl_pagerank", labels=labels, verbose=False)
    for s, res in zip(seeds, batch):
        one = gc.local_cluster(g, int(s), method="weighted_acl_pagerank", labels=labels)
        assert res.conductance == pytest.approx(one.conductance, rel=1e-9, abs=1e-12)
        np.testing.assert_array_equal(res.cluster, one.cluster)
        assert 0.0 <= res.conductance <= 1.0
