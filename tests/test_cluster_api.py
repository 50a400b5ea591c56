"""graphdiff.cluster's structure and API: the import chain, one settings object, result types, the kernel's
workspace growth, and the pre-0.2 argument names (DeprecationWarning, same result)."""

from __future__ import annotations

import ast
import dataclasses
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import graphdiff.cluster as gc
from graphdiff.cluster._workspace import PushWorkspace
from graphdiff.data import synthetic

PACKAGE = Path(gc.__file__).parent
# the documented import order of graphdiff/cluster/__init__.py: each module imports only modules before it
ORDER = [
    "_workspace",
    "_legacy",
    "_graph",
    "labels",
    "metrics",
    "weights",
    "flow_diffusion",
    "pagerank",
    "batched",
    "config",
    "local_cluster",
    "estimator",
]


def _sibling_imports(module: str) -> dict[str, set[str]]:
    """The package modules a module imports (also inside functions), and the names it takes from each."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text())
    out: dict[str, set[str]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("graphdiff.cluster."):
            out.setdefault(node.module.split(".")[2], set()).update(a.name for a in node.names)
    return out


@pytest.fixture(scope="module")
def small():
    data = synthetic.planted_partition(400, 40, 10.0, 2.0, 5.0, seed=0)
    g = gc.as_local_graph(data)
    target = data.target.numpy()
    in_target = np.zeros(400, dtype=bool)
    in_target[target] = True
    labels = gc.flip_labels(in_target, 0.9, 0.9, seed=0)
    return g, target, labels, float(g.degree[target].sum())


# ---------------------------------------------------------------------------------------------- structure
def test_import_chain_is_straight():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem not in ("__init__", "demo"))
    assert sorted(ORDER) == modules, "a new module must get a place in the import order"
    for position, module in enumerate(ORDER):
        for imported, names in _sibling_imports(module).items():
            if module == "local_cluster" and imported == "estimator":
                continue  # the lazy pre-0.2 alias `local_cluster.LocalClustering` (module __getattr__)
            assert imported in ORDER[:position], f"{module} imports {imported}, which comes after it"
            if imported in ("flow_diffusion", "pagerank"):
                private = {n for n in names if n.startswith("_")}
                assert not private, f"{module} imports private {private} from {imported}"
    assert not ({"flow_diffusion", "pagerank"} & set(_sibling_imports("_graph")))
    assert set(_sibling_imports("labels")) <= {"_graph", "_workspace"}


def test_one_settings_object(small):
    g, target, labels, vol = small
    cfg = gc.LocalClusterConfig(alphas=np.array([1.5, 2.0]), tol=1e-4)
    assert cfg.alphas == (1.5, 2.0) and isinstance(cfg.alphas[0], float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.eps = 0.5
    by_config = gc.local_cluster(g, target[0], labels=labels, target_volume=vol, config=cfg)
    by_keywords = gc.local_cluster(g, target[0], labels=labels, target_volume=vol, alphas=(1.5, 2.0))
    np.testing.assert_array_equal(by_config.cluster, by_keywords.cluster)
    assert by_config.candidates == by_keywords.candidates
    # keywords override a config; unknown names list the valid ones
    mixed = gc.LocalClusterConfig.from_settings(cfg, method="flow_diffusion")
    assert mixed.method == "flow_diffusion" and mixed.alphas == (1.5, 2.0)
    with pytest.raises(TypeError, match="unknown setting.*alpha"):
        gc.local_cluster(g, target[0], labels=labels, target_volume=vol, alpha=2.0)
    # the estimator's parameters are exactly the settings, plus device and verbose
    fields = {f.name for f in dataclasses.fields(gc.LocalClusterConfig)}
    assert set(gc.LocalClustering().get_params()) == fields | {"device", "verbose"}
    est = gc.LocalClustering(alphas=(1.5, 2.0), verbose=False).fit(g, target[:1], labels=labels, target_volume=vol)
    assert est.config_ == cfg
    np.testing.assert_array_equal(est.clusters_[0], by_config.cluster)


def test_result_types(small):
    g, target, labels, vol = small
    res = gc.local_cluster(g, target[0], method="labels_only", labels=labels)
    assert res.cluster.dtype == np.int64 and res.seed_node == target[0]
    for method in ("acl_pagerank", "weighted_acl_pagerank", "flow_diffusion"):
        r = gc.local_cluster(g, target[0], method=method, labels=labels, target_volume=vol, alphas=(2.0,))
        assert r.cluster.dtype == np.int64, method
    cluster, _ = gc.sweep_cut(g, gc.acl_pagerank(g, target[0]).dense_p())
    assert cluster.dtype == np.int64
    out = gc.batched_flow_diffusion(g, target[:2], 2 * vol, tol=1e-6)
    assert isinstance(out, gc.BatchedFlowDiffusionResult)
    x, mass, converged = out  # the pre-0.2 tuple
    assert x is out.x and mass is out.mass and converged is out.converged
    assert out.iterations >= 1 and out.x.shape == (g.num_nodes, 2)
    supports = out.clusters()
    assert len(supports) == 2 and all(c.dtype == np.int64 for c in supports)
    np.testing.assert_array_equal(supports[1], torch.nonzero(out.x[:, 1] > 0).flatten().numpy())


def test_workspace_growth_gives_the_same_solution(small):
    """The kernel pauses for more room (nodes, edges, seeds) and resumes: the result must not depend on it."""
    g, target, labels, vol = small
    fresh = gc.flow_diffusion(g, target[:3], 2 * vol, labels=labels, eps=0.05, seed=4)
    tiny = gc.as_local_graph(g.to_scipy())
    tiny._workspace = PushWorkspace(g.num_nodes, node_capacity=2, edge_capacity=2)
    grown = gc.flow_diffusion(tiny, target[:3], 2 * vol, labels=labels, eps=0.05, seed=4)
    assert tiny.workspace().node_capacity > 2
    np.testing.assert_array_equal(grown.nodes, fresh.nodes)
    np.testing.assert_array_equal(grown.x, fresh.x)
    assert (grown.work, grown.passes, grown.status) == (fresh.work, fresh.passes, fresh.status)
    assert not tiny.workspace().loc.any() and not g.workspace().loc.any()  # reset after the call
    # more seed nodes than the initial node capacity: the seed placement is undone and redone
    many = np.flatnonzero(g.degree > 0)[::2]  # no isolated seed node
    tiny._workspace = PushWorkspace(g.num_nodes, node_capacity=8)
    a = gc.flow_diffusion(tiny, many, 1.0)
    b = gc.flow_diffusion(g, many, 1.0)
    np.testing.assert_array_equal(a.x, b.x)
    assert a.total_mass == pytest.approx(many.size)


# ---------------------------------------------------------------------------------------------- renames
def _same(a, b):
    np.testing.assert_array_equal(a.cluster, b.cluster)


def test_seed_is_the_random_seed_and_nodes_are_seed_nodes(small):
    g, target, labels, vol = small
    s = int(target[0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the new spellings warn about nothing
        new = gc.local_cluster(g, s, labels=labels, target_volume=vol, seed=3, alphas=(2.0,))
        pr = gc.acl_pagerank(g, seed_node=s)
        fd = gc.flow_diffusion(g, seed_nodes=[s], source_mass=vol, seed=3)
        batch = gc.batch_local_cluster(g, seed_nodes=[s], labels=labels, target_volume=vol, verbose=False, seed=3)
    with pytest.warns(DeprecationWarning, match="seed_node"), pytest.warns(DeprecationWarning, match="rng_seed"):
        old = gc.local_cluster(g, seed=s, labels=labels, target_volume=vol, rng_seed=3, alphas=(2.0,))
    _same(old, new)
    with pytest.warns(DeprecationWarning, match="rng_seed"):
        _same(gc.local_cluster(g, s, labels=labels, target_volume=vol, rng_seed=3, alphas=(2.0,)), new)
    with pytest.warns(DeprecationWarning, match="seed_node"):
        _same(gc.acl_pagerank(g, seed=s), pr)
    with pytest.warns(DeprecationWarning, match="seed_nodes"):
        _same(gc.flow_diffusion(g, seeds=[s], source_mass=vol, seed=3), fd)
    with pytest.warns(DeprecationWarning, match="seed_nodes"):
        (old_batch,) = gc.batch_local_cluster(g, seeds=[s], labels=labels, target_volume=vol, verbose=False, seed=3)
    _same(old_batch, batch[0])
    with pytest.warns(DeprecationWarning, match="seed_node"):
        assert new.seed == s  # the result's old field name
    with pytest.raises(TypeError, match="both"):
        gc.local_cluster(g, s, target_volume=vol, seed=1, rng_seed=2)
    with pytest.raises(TypeError, match="both"):
        gc.flow_diffusion(g, [s], vol, seeds=[s])


def test_estimator_old_names(small):
    g, target, labels, vol = small
    with pytest.warns(DeprecationWarning, match="rng_seed"):
        est = gc.LocalClustering(rng_seed=5, verbose=False)
    assert est.seed == 5 and "rng_seed" not in est.get_params()
    with pytest.warns(DeprecationWarning, match="rng_seed"):
        assert est.rng_seed == 5
    with pytest.warns(DeprecationWarning, match="seed_nodes"):
        est.fit(g, seeds=target[:1], labels=labels, target_volume=vol)
    assert len(est.clusters_) == 1
    with pytest.raises(TypeError, match="unexpected"):
        gc.LocalClustering(alpha=2.0)
    from graphdiff.cluster.local_cluster import LocalClustering  # its pre-0.2 home

    assert LocalClustering is gc.LocalClustering
