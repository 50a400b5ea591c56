"""batch_local_cluster across processes: identical to the sequential path whatever the chunking, errors name the
seed node, bad `executor` / `n_jobs` are refused (issue 16). Spawns at most 2 worker processes."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import numpy as np
import pytest
import scipy.sparse as sp

import graphdiff.cluster as gc
from graphdiff.data.synthetic import planted_partition


@pytest.fixture(scope="module")
def problem():
    data = planted_partition(600, 60, 8.0, 2.0, 6.0, seed=1)
    g = gc.as_local_graph(data)
    target = data.target.numpy()
    labels = gc.flip_labels(data.y.bool(), 0.85, 0.85, seed=2)
    return g, target, labels, float(g.degree[target].sum())


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.seed_node == y.seed_node
        np.testing.assert_array_equal(x.cluster, y.cluster)
        assert (x.param, x.conductance, x.status, x.passes, x.residual) == (
            y.param,
            y.conductance,
            y.status,
            y.passes,
            y.residual,
        )
        assert x.candidates == y.candidates


def test_executor_and_n_jobs_equal_sequential_for_two_chunkings(problem):
    g, target, labels, vol_k = problem
    seeds = target[:7]
    kw = dict(labels=labels, target_volume=vol_k, alphas=(1.5, 3.0), verbose=False)
    ref = gc.batch_local_cluster(g, seeds, **kw)
    with ProcessPoolExecutor(2) as ex:
        _same(gc.batch_local_cluster(g, seeds, executor=ex, chunk_size=1, **kw), ref)
        _same(gc.batch_local_cluster(g, seeds, executor=ex, chunk_size=4, **kw), ref)
    _same(gc.batch_local_cluster(g, seeds, n_jobs=2, chunk_size=3, **kw), ref)  # shared-memory path
    pr_kw = dict(method="weighted_acl_pagerank", labels=labels, verbose=False)
    with ThreadPoolExecutor(2) as ex:
        _same(
            gc.batch_local_cluster(g, seeds, executor=ex, chunk_size=2, **pr_kw),
            gc.batch_local_cluster(g, seeds, **pr_kw),
        )


def test_kept_n_jobs_pool_serves_a_second_graph(problem):
    """The n_jobs pool outlives a call: a later call on another graph (and other labels) must not see the first."""
    g, target, labels, vol_k = problem
    kw = dict(target_volume=vol_k, alphas=(1.5, 3.0), verbose=False)
    first = gc.batch_local_cluster(g, target[:4], labels=labels, n_jobs=2, chunk_size=2, **kw)
    _same(first, gc.batch_local_cluster(g, target[:4], labels=labels, **kw))
    other = planted_partition(400, 50, 7.0, 2.0, 5.0, seed=5)
    g2 = gc.as_local_graph(other)
    labels2 = gc.flip_labels(other.y.bool(), 0.9, 0.9, seed=6)
    seeds2 = other.target.numpy()[:4]
    kw2 = dict(kw, target_volume=float(g2.degree[other.target.numpy()].sum()))
    _same(
        gc.batch_local_cluster(g2, seeds2, labels=labels2, n_jobs=2, chunk_size=2, **kw2),
        gc.batch_local_cluster(g2, seeds2, labels=labels2, **kw2),
    )


def test_dask_executor_scatters_the_graph_and_equals_sequential(problem):
    """The Dask path: ``Client.get_executor()`` gets the graph scattered once (an in-process cluster, no spawn)."""
    distributed = pytest.importorskip("distributed")
    g, target, labels, vol_k = problem
    seeds = target[:5]
    kw = dict(labels=labels, target_volume=vol_k, alphas=(1.5, 3.0), verbose=False)
    ref = gc.batch_local_cluster(g, seeds, **kw)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        scatter, calls = client.scatter, []

        def counting_scatter(data, **kwargs):
            calls.append(kwargs)
            return scatter(data, **kwargs)

        client.scatter = counting_scatter
        got = gc.batch_local_cluster(g, seeds, executor=client.get_executor(), chunk_size=2, **kw)
    assert calls == [{"broadcast": True}]  # once for the three chunks
    _same(got, ref)


def test_worker_error_names_the_seed_node(problem):
    g, target, labels, vol_k = problem
    # a separate triangle 600-601-602 whose node 601 has an invalid label: only the seed node 600 reads it
    tri = sp.csr_matrix(np.ones((3, 3)) - np.eye(3))
    g2 = gc.as_local_graph(sp.block_diag([g.to_scipy(), tri], format="csr"))
    bad = np.concatenate([labels, [1, 5, 0]]).astype(np.int8)
    seeds = np.concatenate([target[:3], [600]])
    kw = dict(labels=bad, target_volume=vol_k, alphas=(1.5,), verbose=False)
    with pytest.raises(ValueError, match="node 601"):
        gc.batch_local_cluster(g2, seeds, **kw)
    with ProcessPoolExecutor(2) as ex, pytest.raises(RuntimeError, match="seed node 600 failed: ValueError.*node 601"):
        gc.batch_local_cluster(g2, seeds, executor=ex, chunk_size=2, **kw)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"executor": 2}, "`executor` must be a concurrent.futures.Executor"),
        ({"executor": "processes"}, "`executor`"),
        ({"n_jobs": 0}, "`n_jobs`"),
        ({"n_jobs": -2}, "`n_jobs`"),
        ({"n_jobs": 1.5}, "`n_jobs`"),
        ({"n_jobs": True}, "`n_jobs`"),
        ({"n_jobs": 2, "executor": ThreadPoolExecutor(1)}, "either `executor` or `n_jobs`"),
        ({"n_jobs": 2, "chunk_size": 0}, "`chunk_size`"),
    ],
)
def test_bad_executor_or_n_jobs(problem, kwargs, match):
    g, target, _, vol_k = problem
    with pytest.raises(ValueError, match=match):
        gc.batch_local_cluster(g, target[:2], method="flow_diffusion", target_volume=vol_k, verbose=False, **kwargs)
