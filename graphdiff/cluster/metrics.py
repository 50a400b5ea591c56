r"""Metrics of a local cluster: precision, recall and F1 against the target, and (weighted) conductance.

Section 4 (experiments) of Back de Luca, Fountoulakis & Yang, *Local Graph Clustering with Noisy Labels*
(ICLR 2024, https://arxiv.org/abs/2310.08031), following the protocol of Weighted Flow Diffusion (Yang &
Fountoulakis, ICML 2023):

* precision :math:`|C \cap K| / |C|`, recall :math:`|C \cap K| / |K|`, :math:`F_1 = 2PR/(P + R)`;
* conductance :math:`\phi(C) = \mathrm{cut}(C) / \min(\mathrm{vol}(C), \mathrm{vol}(V) - \mathrm{vol}(C))`, on the
  original graph or on the label-weighted graph (weights computed on the fly from the labels).

Conductance is computed by a numba kernel that reads only the adjacency of the cluster's nodes (strongly local);
the total volume is given or taken from the graph. For label weights from a lazy oracle the total weighted volume
is unknown without reading every label; then ``total_volume=None`` uses :math:`\mathrm{vol}(C)` as the denominator,
exact whenever :math:`\mathrm{vol}_w(C) \le \mathrm{vol}_w(V)/2`.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from graphdiff.cluster._graph import as_local_graph, check_seeds
from graphdiff.cluster.flow_diffusion import SCHEMES, _prepare_labels, label_factor

__all__ = ["neighbours", "precision_recall_f1", "conductance", "cut_and_volume", "label_weighted_volume"]


def _as_ids(nodes, name: str) -> np.ndarray:
    if isinstance(nodes, torch.Tensor):
        nodes = nodes.detach().cpu().numpy()
    arr = np.asarray(nodes)
    if arr.dtype == np.bool_:
        return np.flatnonzero(arr)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"`{name}` must be node ids or a boolean mask, got dtype {arr.dtype}")
    return np.unique(arr.astype(np.int64).ravel())


def neighbours(graph, nodes) -> np.ndarray:
    """All CSR neighbour entries of ``nodes`` (with repetitions), gathered without a Python loop."""
    g = as_local_graph(graph)
    nodes = np.asarray(nodes, dtype=np.int64)
    starts = g.indptr[nodes].astype(np.int64)
    lens = g.indptr[nodes + 1].astype(np.int64) - starts
    total = int(lens.sum())
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return g.indices[offsets + np.arange(total)].astype(np.int64)


def precision_recall_f1(cluster, target) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``cluster`` against ``target`` (node ids or boolean masks).

    An empty cluster has precision 0 (and F1 0); an empty target raises ``ValueError``.
    """
    c = _as_ids(cluster, "cluster")
    k = _as_ids(target, "target")
    if k.size == 0:
        raise ValueError("`target` is empty")
    if c.size and c.min() < 0:
        raise ValueError("`cluster` contains a negative node id")
    tp = int(np.intersect1d(c, k, assume_unique=True).size)
    p = tp / c.size if c.size else 0.0
    r = tp / k.size
    f1 = 2 * p * r / (p + r) if p + r > 0 else 0.0
    return p, r, f1


@numba.njit(cache=True)
def _cut_volume_kernel(indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, nodes, mark):
    for k in range(nodes.shape[0]):
        mark[nodes[k]] = 1
    vol = 0.0
    inside = 0.0
    for k in range(nodes.shape[0]):
        i = nodes[k]
        li = labels[i] if use_labels else 1
        for e in range(indptr[i], indptr[i + 1]):
            j = indices[e]
            w = ew[e] if has_ew else 1.0
            if use_labels:
                w *= label_factor(li, labels[j], eps, scheme)
            vol += w
            if mark[j] != 0:
                inside += w
    for k in range(nodes.shape[0]):
        mark[nodes[k]] = 0
    return vol - inside, vol


def cut_and_volume(graph, cluster, *, labels=None, eps=None, scheme: str = "agree", seeds=None):
    """``(cut(C), vol(C))`` on the graph or on the label-weighted graph (strongly local).

    With ``labels`` (an array or an oracle whose labels of the cluster and its neighbours are known) the weights are
    those of :func:`label_weighted_graph`; ``seeds`` are treated as labelled 1.
    """
    g = as_local_graph(graph)
    nodes = _as_ids(cluster, "cluster")
    if nodes.size and (nodes[0] < 0 or nodes[-1] >= g.num_nodes):
        raise ValueError(f"`cluster` contains node ids outside [0, {g.num_nodes})")
    use_labels = labels is not None
    if use_labels:
        if eps is None:
            raise ValueError("`eps` is required with `labels`")
        lab, oracle = _prepare_labels(labels, g.num_nodes)
        seed_ids = check_seeds(seeds, g.num_nodes) if seeds is not None else np.empty(0, np.int64)
        saved = lab[seed_ids].copy()
        lab[seed_ids] = 1  # restored below: the array is shared with the caller
        try:
            if oracle is not None:
                # neighbours of the cluster must be labelled: ask the oracle for any that are not
                idx = np.concatenate([neighbours(g, nodes), nodes])
                unknown = np.unique(idx[lab[idx] < 0])
                if unknown.size:
                    oracle.fill(unknown)
            mark = g.workspace().loc if not g.workspace().busy else np.zeros(g.num_nodes, np.int32)
            cut, vol = _cut_volume_kernel(
                g.indptr,
                g.indices,
                g.weights_or_empty,
                g.weights is not None,
                lab,
                True,
                float(eps),
                SCHEMES[scheme],
                nodes,
                mark,
            )
        finally:
            lab[seed_ids] = saved
        return cut, vol
    cut, vol = _cut_volume_kernel(
        g.indptr,
        g.indices,
        g.weights_or_empty,
        g.weights is not None,
        np.empty(0, np.int8),
        False,
        1.0,
        0,
        nodes,
        g.workspace().loc,
    )
    return cut, vol


def label_weighted_volume(graph, labels, eps: float, scheme: str = "agree", seeds=None) -> float:
    """Total volume of the label-weighted graph (one vectorised ``O(m)`` pass; needs every label)."""
    g = as_local_graph(graph)
    lab, oracle = _prepare_labels(labels, g.num_nodes)
    if oracle is not None:
        raise ValueError("the total weighted volume needs every label: pass a full label array, not an oracle")
    lab = lab.astype(bool)
    if seeds is not None:
        lab = lab.copy()
        lab[check_seeds(seeds, g.num_nodes)] = True
    deg = np.diff(g.indptr)
    row_lab = np.repeat(lab, deg)
    col_lab = lab[g.indices]
    fav = (row_lab == col_lab) if scheme == "agree" else (row_lab & col_lab)
    w = np.where(fav, 1.0, float(eps))
    if g.weights is not None:
        w = w * g.weights
    return float(w.sum())


def conductance(
    graph, cluster, *, labels=None, eps=None, scheme: str = "agree", seeds=None, total_volume: float | None = None
) -> float:
    """Conductance of ``cluster``; 1.0 for an empty cluster or one whose complement has no volume.

    ``total_volume`` defaults to the graph's (weighted) volume; with label weights and no ``total_volume`` the
    denominator is :math:`\\mathrm{vol}_w(C)` (see the module docstring).
    """
    g = as_local_graph(graph)
    cut, vol = cut_and_volume(g, cluster, labels=labels, eps=eps, scheme=scheme, seeds=seeds)
    if total_volume is None and labels is None:
        total_volume = g.weighted_volume if g.weights is not None else g.volume
    denom = vol if total_volume is None else min(vol, total_volume - vol)
    if denom <= 0:
        return 1.0
    return float(cut / denom)
