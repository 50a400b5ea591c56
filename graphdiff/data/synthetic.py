"""Embedded synthetic graphs that need no files, deterministic by seed.

* :func:`contextual_sbm` -- the contextual stochastic block model (Deshpande et al., "Contextual Stochastic Block
  Models", NeurIPS 2018, https://arxiv.org/abs/1807.09596), the standard synthetic node-classification benchmark: a
  block-model graph whose edges are intra-class with probability ``homophily``, and Gaussian features centred on a
  class mean.
* :func:`planted_partition` / :func:`planted_partition_csr` -- a sparse background graph with one planted target
  cluster (the "local random model" of Ha, Fountoulakis & Mahoney, JMLR 2021, used by the local clustering papers):
  every cluster node has about ``internal_degree`` neighbours inside and ``external_degree`` outside the cluster.
  The CSR variant builds graphs of 10^7 nodes as int32 arrays without any Python edge list.
* :func:`logistic_data` -- tabular rows with labels from a logistic model, for the label-proportion scale runs of
  Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 4 ("million samples"): rows
  :math:`x \\sim \\mathcal N(0, I_d)` and labels
  :math:`y \\sim \\mathrm{Bernoulli}(\\sigma(a\\, w^\\top x / \\lVert w \\rVert + b))` whose intercept ``b`` is
  solved (by bisection on the expected rate) so that about ``positive_rate`` of the rows are positive.

All edge sets are undirected, without self-loops and without duplicates.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphdiff.data.splits import random_split
from graphdiff.data.validation import MAX_SEED, check_float, check_int, check_seed

__all__ = ["contextual_sbm", "planted_partition", "planted_partition_csr", "logistic_data"]


_FEATURE_BLOCK_ROWS = 65_536  # rows of contextual_sbm's features drawn at a time


def _symmetric_csr(rows: np.ndarray, cols: np.ndarray, n: int, index_dtype=np.int32) -> sp.csr_matrix:
    """Undirected, de-duplicated, loop-free CSR pattern from directed (row, col) pairs."""
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    r = np.concatenate([rows, cols]).astype(index_dtype, copy=False)
    c = np.concatenate([cols, rows]).astype(index_dtype, copy=False)
    data = np.ones(r.size, dtype=np.float32)
    mat = sp.csr_matrix((data, (r, c)), shape=(n, n))
    mat.sum_duplicates()
    mat.data[:] = 1.0
    return mat


def contextual_sbm(
    num_nodes: int = 1000,
    num_classes: int = 4,
    avg_degree: float = 10.0,
    homophily: float = 0.8,
    num_features: int = 32,
    feature_signal: float = 1.0,
    num_train_per_class: int = 20,
    num_val_per_class: int = 30,
    seed: int = 0,
) -> Data:
    """Contextual stochastic block model with ``num_classes`` balanced classes.

    Edges: ``num_nodes * avg_degree / 2`` draws of a uniform source node; with probability ``homophily`` the other
    endpoint is uniform in the source's class, otherwise uniform in another class (duplicates and self-loops are
    dropped, so the realised average degree is slightly below ``avg_degree``). Features:
    :math:`x_i = \\mu_{y_i} + g_i` with :math:`g_i \\sim \\mathcal N(0, I / d)` and class means of norm
    ``feature_signal`` in random directions.

    Parameters
    ----------
    num_nodes : int, default 1000
        ``N >= max(2, num_classes)``.
    num_classes : int, default 4
        ``K >= 2``; node ``i`` gets class ``i mod K`` before a random permutation.
    avg_degree : float, default 10.0
        Target average degree (> 0).
    homophily : float, default 0.8
        Probability in ``[0, 1]`` that an edge joins two nodes of one class.
    num_features : int, default 32
        Feature dimension ``d``.
    feature_signal : float, default 1.0
        Norm (>= 0) of the class means; 0 gives uninformative features.
    num_train_per_class, num_val_per_class : int, default 20, 30
        Sizes of the random split (the rest tests).
    seed : int, default 0
        Random seed; the split uses ``seed + 1``.

    Returns
    -------
    torch_geometric.data.Data
        ``x`` (float32, ``(N, d)``), ``edge_index`` (int64, undirected, coalesced), ``y`` (int64, ``(N,)``),
        ``num_classes`` and random ``train_mask`` / ``val_mask`` / ``test_mask``.

    Examples
    --------
    >>> data = contextual_sbm(num_nodes=200, num_classes=2, avg_degree=6, homophily=0.9, seed=0)
    >>> data.num_nodes, data.x.shape, data.is_undirected(), int(data.train_mask.sum())
    (200, torch.Size([200, 32]), True, 40)
    >>> same = data.y[data.edge_index[0]] == data.y[data.edge_index[1]]
    >>> round(same.float().mean().item(), 1)
    0.9
    """
    num_nodes = check_int(num_nodes, "num_nodes", minimum=2)
    num_classes = check_int(num_classes, "num_classes", minimum=2)
    if num_classes > num_nodes:
        raise ValueError(
            f"`num_classes` ({num_classes}) must not exceed `num_nodes` ({num_nodes}): a class without nodes"
        )
    num_features = check_int(num_features, "num_features", minimum=1)
    avg_degree = check_float(avg_degree, "avg_degree", minimum=0.0, low_open=True)
    homophily = check_float(homophily, "homophily", minimum=0.0, maximum=1.0)
    feature_signal = check_float(feature_signal, "feature_signal", minimum=0.0)
    num_train_per_class = check_int(num_train_per_class, "num_train_per_class", minimum=0)
    num_val_per_class = check_int(num_val_per_class, "num_val_per_class", minimum=0)
    seed = check_seed(seed)
    rng = np.random.default_rng(seed)
    y = np.arange(num_nodes) % num_classes
    rng.shuffle(y)
    members = np.argsort(y, kind="stable")  # nodes grouped by class
    sizes = np.bincount(y, minlength=num_classes)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])

    m = int(round(num_nodes * avg_degree / 2))
    src = rng.integers(0, num_nodes, size=m)
    same = rng.random(m) < homophily
    other = (y[src] + rng.integers(1, num_classes, size=m)) % num_classes
    dst_class = np.where(same, y[src], other)
    dst = members[starts[dst_class] + (rng.random(m) * sizes[dst_class]).astype(np.int64)]
    del same, other  # the per-draw temporaries, before the symmetric pattern's own
    adj = _symmetric_csr(src, dst, num_nodes, np.int64)
    del src, dst, dst_class
    edge_index = np.empty((2, adj.nnz), dtype=np.int64)
    edge_index[0] = np.repeat(np.arange(num_nodes, dtype=np.int64), np.diff(adj.indptr))  # COO rows of the CSR
    edge_index[1] = adj.indices
    del adj

    directions = rng.standard_normal((num_classes, num_features))
    means = feature_signal * directions / np.linalg.norm(directions, axis=1, keepdims=True)
    # x = means[y] + g / sqrt(d), g standard normal, in blocks of rows straight into float32: the generator fills
    # the same values in the same order as one (N, d) draw, without several float64 N x d temporaries (15 GB at
    # 1e7 nodes x 64 features)
    x = np.empty((num_nodes, num_features), dtype=np.float32)
    scale = np.sqrt(num_features)
    for start in range(0, num_nodes, _FEATURE_BLOCK_ROWS):
        stop = min(start + _FEATURE_BLOCK_ROWS, num_nodes)
        noise = rng.standard_normal((stop - start, num_features))
        noise /= scale
        x[start:stop] = means[y[start:stop]] + noise

    y_t = torch.from_numpy(y.astype(np.int64))
    data = Data(x=torch.from_numpy(x), edge_index=torch.from_numpy(edge_index), y=y_t, num_nodes=num_nodes)
    data.num_classes = num_classes
    data.train_mask, data.val_mask, data.test_mask = random_split(
        y_t,
        num_train_per_class,
        num_val_per_class=num_val_per_class,
        num_classes=num_classes,
        seed=(seed + 1) % (MAX_SEED + 1),
    )
    return data


def _planted_pairs(num_nodes, cluster_size, internal_degree, external_degree, background_degree, rng):
    """Directed (row, col) endpoint arrays of the planted-partition model, and the cluster's node ids."""
    num_nodes = check_int(num_nodes, "num_nodes", minimum=2)
    cluster_size = check_int(cluster_size, "cluster_size", minimum=2)
    if cluster_size >= num_nodes:
        raise ValueError(f"`cluster_size` ({cluster_size}) must be smaller than `num_nodes` ({num_nodes})")
    internal_degree = check_float(internal_degree, "internal_degree", minimum=0.0)
    external_degree = check_float(external_degree, "external_degree", minimum=0.0)
    background_degree = check_float(background_degree, "background_degree", minimum=0.0)
    # The cluster is a random set of node ids so that nothing depends on index order.
    target = np.sort(rng.choice(num_nodes, size=cluster_size, replace=False))
    in_target = np.zeros(num_nodes, dtype=bool)
    in_target[target] = True
    outside = np.flatnonzero(~in_target)
    k = cluster_size
    # Each undirected edge is drawn once, so draw half the wanted degree per endpoint for symmetric blocks.
    m_int = int(round(k * internal_degree / 2))
    m_ext = int(round(k * external_degree))
    m_bg = int(round((num_nodes - k) * background_degree / 2))
    rows = [
        target[rng.integers(0, k, m_int)],
        target[rng.integers(0, k, m_ext)],
        outside[rng.integers(0, outside.size, m_bg)],
    ]
    cols = [
        target[rng.integers(0, k, m_int)],
        outside[rng.integers(0, outside.size, m_ext)],
        outside[rng.integers(0, outside.size, m_bg)],
    ]
    return np.concatenate(rows), np.concatenate(cols), target


def planted_partition(
    num_nodes: int = 2000,
    cluster_size: int = 100,
    internal_degree: float = 20.0,
    external_degree: float = 5.0,
    background_degree: float = 10.0,
    seed: int = 0,
) -> Data:
    """A sparse random graph with one planted target cluster.

    Cluster nodes get about ``internal_degree`` neighbours inside the cluster and ``external_degree`` outside;
    the other nodes form a uniform random graph of average degree about ``background_degree``.

    Parameters
    ----------
    num_nodes : int, default 2000
        ``N >= 2``.
    cluster_size : int, default 100
        Nodes of the planted cluster, ``2 <= k < N``, a random set of node ids.
    internal_degree, external_degree, background_degree : float, default 20.0, 5.0, 10.0
        Expected degrees (>= 0), before duplicate edges are merged.
    seed : int, default 0
        Random seed.

    Returns
    -------
    torch_geometric.data.Data
        ``edge_index`` (int64, undirected, coalesced), ``y`` (1 on the cluster, 0 elsewhere), ``num_classes = 2``
        and ``target`` (sorted LongTensor of the cluster's node ids).

    Examples
    --------
    >>> data = planted_partition(500, 50, internal_degree=10.0, external_degree=2.0, seed=0)
    >>> data.target.numel(), int(data.y.sum()), data.is_undirected()
    (50, 50, True)
    """
    rng = np.random.default_rng(check_seed(seed))
    rows, cols, target = _planted_pairs(
        num_nodes, cluster_size, internal_degree, external_degree, background_degree, rng
    )
    adj = _symmetric_csr(rows, cols, num_nodes, np.int64).tocoo()
    y = np.zeros(num_nodes, dtype=np.int64)
    y[target] = 1
    data = Data(
        edge_index=torch.from_numpy(np.vstack([adj.row, adj.col]).astype(np.int64)),
        y=torch.from_numpy(y),
        num_nodes=num_nodes,
    )
    data.num_classes = 2
    data.target = torch.from_numpy(target.astype(np.int64))
    return data


def planted_partition_csr(
    num_nodes: int,
    cluster_size: int = 1000,
    internal_degree: float = 20.0,
    external_degree: float = 5.0,
    background_degree: float = 10.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`planted_partition` as int32 CSR arrays, for graphs of up to ~10^8 stored entries.

    Parameters
    ----------
    num_nodes, cluster_size, internal_degree, external_degree, background_degree, seed
        As in :func:`planted_partition` (the same seed gives the same graph).

    Returns
    -------
    indptr : numpy.ndarray of int32, shape (N + 1,)
    indices : numpy.ndarray of int32, shape (nnz,)
        CSR row pointers and column indices of the symmetric adjacency (sorted, no duplicates, no self-loops).
    target : numpy.ndarray of int64, shape (cluster_size,)
        Sorted node ids of the planted cluster.

    Examples
    --------
    >>> indptr, indices, target = planted_partition_csr(1000, 50, seed=0)
    >>> indptr.dtype, indptr.size, int(indptr[-1]) == indices.size, target.size
    (dtype('int32'), 1001, True, 50)
    """
    rng = np.random.default_rng(check_seed(seed))
    rows, cols, target = _planted_pairs(
        num_nodes, cluster_size, internal_degree, external_degree, background_degree, rng
    )
    if 2 * rows.size >= np.iinfo(np.int32).max:
        raise ValueError("graph too large for int32 CSR indices")
    mat = _symmetric_csr(rows.astype(np.int32), cols.astype(np.int32), num_nodes, np.int32)
    mat.sort_indices()
    return mat.indptr.astype(np.int32, copy=False), mat.indices.astype(np.int32, copy=False), target.astype(np.int64)


def logistic_data(
    num_samples: int, num_features: int = 16, positive_rate: float = 0.3, signal: float = 3.0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows and labels from a logistic model; deterministic given ``seed``.

    Parameters
    ----------
    num_samples : int
        ``n >= 2``.
    num_features : int, default 16
        ``d >= 1``.
    positive_rate : float, default 0.3
        Target fraction of positive labels, in ``(0, 1)`` (met by the intercept ``b``, bisected on the first
        200,000 rows).
    signal : float, default 3.0
        Scale ``a`` of the linear score; larger is easier.
    seed : int, default 0
        Random seed (a private :class:`torch.Generator`).

    Returns
    -------
    X : torch.Tensor of float32, shape (n, d)
    y : torch.Tensor of int64, shape (n,)

    Examples
    --------
    >>> X, y = logistic_data(20_000, num_features=4, positive_rate=0.2, seed=0)
    >>> X.shape, round(y.float().mean().item(), 1)
    (torch.Size([20000, 4]), 0.2)
    """
    num_samples = check_int(num_samples, "num_samples", minimum=2)
    num_features = check_int(num_features, "num_features", minimum=1)
    positive_rate = check_float(positive_rate, "positive_rate", minimum=0.0, maximum=1.0, low_open=True, high_open=True)
    signal = check_float(signal, "signal")
    g = torch.Generator().manual_seed(check_seed(seed))
    X = torch.randn(num_samples, num_features, generator=g)
    w = torch.randn(num_features, generator=g)
    score = signal * (X @ w) / w.norm()
    lo, hi = -20.0, 20.0
    probe = score[: min(num_samples, 200_000)]
    for _ in range(60):  # bisection on the intercept: mean sigmoid is increasing in b
        mid = 0.5 * (lo + hi)
        if float(torch.sigmoid(probe + mid).mean()) < positive_rate:
            lo = mid
        else:
            hi = mid
    p = torch.sigmoid(score + 0.5 * (lo + hi))
    y = (torch.rand(num_samples, generator=g) < p).long()
    return X, y
