r"""Metrics of a local cluster: precision, recall and F1 against the target, and (weighted) conductance.

Section 4 (experiments) of Back de Luca, Fountoulakis & Yang, *Local Graph Clustering with Noisy Labels*
(ICLR 2024, https://arxiv.org/abs/2310.08031), following the protocol of Weighted Flow Diffusion (Yang &
Fountoulakis, ICML 2023):

* precision :math:`|C \cap K| / |C|`, recall :math:`|C \cap K| / |K|`, :math:`F_1 = 2PR/(P + R)`;
* conductance :math:`\phi(C) = \mathrm{cut}(C) / \min(\mathrm{vol}(C), \mathrm{vol}(V) - \mathrm{vol}(C))`, on the
  original graph or on the label-weighted graph (weights computed on the fly from the labels).

**One definition of volume.** Every conductance of the package -- :func:`conductance`, the sweep cuts of
:func:`~graphdiff.cluster.sweep_cut`, :func:`~graphdiff.cluster.acl_pagerank` and the ``readout="sweep"`` of
:func:`~graphdiff.cluster.local_cluster`, and the lowest-conductance selection -- uses the same weights for the cut,
for :math:`\mathrm{vol}(C)` and for :math:`\mathrm{vol}(V)`: the graph's edge weights where it is weighted, times
the label factor where labels weight it (with the seed nodes labelled 1). The degree of a node is the sum of its
stored row (a self-loop counts once and is never cut), :math:`\mathrm{vol}(C)` the sum of those degrees, and
:math:`\mathrm{vol}(V)` that of every node. The sweep kernels compute the degrees from the edges they read, not from
an array another function prepared, and ``phi_from_cut`` turns ``(cut, vol, total)`` into a conductance in
``[0, 1]`` in one place: ``1.0`` for an empty cluster or one whose complement has no volume (up to rounding,
:math:`\mathrm{vol}(V) - \mathrm{vol}(C) \le 10^{-9}\,\mathrm{vol}(V)`).

Conductance is computed by a numba kernel that reads only the adjacency of the cluster's nodes (strongly local);
the total volume is given or taken from the graph (for full label arrays: :func:`label_weighted_volume`). For label
weights from a lazy oracle the total weighted volume is unknown without reading every label; then
``total_volume=None`` uses :math:`\mathrm{vol}(C)` as the denominator, exact whenever
:math:`\mathrm{vol}_w(C) \le \mathrm{vol}_w(V)/2`.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from graphdiff.cluster._graph import as_local_graph, check_seed_nodes
from graphdiff.cluster._legacy import renamed_arguments
from graphdiff.cluster.labels import check_binary, check_eps, check_scheme, label_factor, prepare_labels
from graphdiff.data.validation import check_float

__all__ = [
    "neighbours",
    "precision_recall_f1",
    "conductance",
    "cut_and_volume",
    "label_weighted_volume",
    "phi_from_cut",
    "edge_weight_at",
    "sweep_kernel",
]

#: Relative size below which ``vol(V) - vol(C)`` counts as zero (rounding of the sums).
_EMPTY_COMPLEMENT = 1e-9


def _as_ids(nodes, name: str, num_nodes: int | None = None) -> np.ndarray:
    """Sorted distinct node ids from ids or a boolean mask (empty allowed)."""
    if isinstance(nodes, torch.Tensor):
        nodes = nodes.detach().cpu().numpy()
    arr = np.asarray(nodes)
    if arr.dtype == np.bool_:
        if num_nodes is not None and arr.shape != (num_nodes,):
            raise ValueError(f"`{name}` as a boolean mask must have one entry per node ({num_nodes}), got {arr.shape}")
        return np.flatnonzero(arr)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"`{name}` must be node ids or a boolean mask, got dtype {arr.dtype}")
    ids = np.unique(arr.astype(np.int64).ravel())
    if ids.size and ids[0] < 0:
        raise ValueError(f"`{name}` contains a negative node id ({int(ids[0])})")
    if num_nodes is not None and ids.size and ids[-1] >= num_nodes:
        raise ValueError(f"`{name}` contains node id {int(ids[-1])}, out of range for num_nodes={num_nodes}")
    return ids


def neighbours(graph, nodes) -> np.ndarray:
    """All CSR neighbour entries of ``nodes`` (with repetitions), gathered without a Python loop.

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
    nodes : int or array-like of int
        Node ids in ``[0, num_nodes)`` (repetitions allowed; an empty list gives an empty result).

    Returns
    -------
    numpy.ndarray of int64
        The concatenated rows of ``nodes``.
    """
    g = as_local_graph(graph)
    arr = np.atleast_1d(np.asarray(nodes.detach().cpu().numpy() if isinstance(nodes, torch.Tensor) else nodes))
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    nodes = check_seed_nodes(arr, g.num_nodes, "nodes", allow_duplicates=True)
    starts = g.indptr[nodes].astype(np.int64)
    lens = g.indptr[nodes + 1].astype(np.int64) - starts
    total = int(lens.sum())
    offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
    return g.indices[offsets + np.arange(total)].astype(np.int64)


def precision_recall_f1(cluster, target) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``cluster`` against ``target``.

    Parameters
    ----------
    cluster, target : array-like of int (node ids) or of bool (masks)
        Repetitions are ignored. An empty cluster has precision 0 (and F1 0).

    Returns
    -------
    (float, float, float)

    Raises
    ------
    ValueError
        For an empty ``target`` or negative ids.

    Examples
    --------
    >>> precision_recall_f1([1, 2, 3, 4], [3, 4, 5])
    (0.5, 0.6666666666666666, 0.5714285714285715)
    """
    c = _as_ids(cluster, "cluster")
    k = _as_ids(target, "target")
    if k.size == 0:
        raise ValueError("`target` is empty")
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


@numba.njit(cache=True)
def phi_from_cut(cut, vol, total):
    """Conductance from ``cut(C)``, ``vol(C)`` and ``vol(V)`` (``total <= 0``: unknown, ``vol(C)`` is the
    denominator); 1.0 when the denominator vanishes, clipped to ``[0, 1]`` against rounding."""
    if cut < 0.0:
        cut = 0.0
    denom = vol
    if total > 0.0:
        rest = total - vol
        if rest <= _EMPTY_COMPLEMENT * total:
            return 1.0
        if rest < denom:
            denom = rest
    if denom <= 0.0:
        return 1.0
    phi = cut / denom
    return phi if phi < 1.0 else 1.0


@numba.njit(cache=True, inline="always")
def edge_weight_at(e, li, j, ew, has_ew, labels, use_labels, eps, scheme, seed_node):
    """Weight of stored edge ``e`` (to node ``j``) leaving a node labelled ``li``: the graph's weight times the
    label factor (``seed_node`` counts as labelled 1)."""
    w = ew[e] if has_ew else 1.0
    if use_labels:
        w *= label_factor(li, 1 if j == seed_node else labels[j], eps, scheme)
    return w


@numba.njit(cache=True)
def sweep_kernel(indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed_node, order, total, rank):
    """Prefix of ``order`` of least conductance: ``(length, conductance)``.

    The degrees, the cut and the volume come from the same edge weights (``edge_weight_at()``); a self-loop is
    never cut. ``rank`` (length ``n``, zero) marks the swept nodes and is zero again on return.
    """
    best = np.inf
    best_k = 0
    vol = 0.0
    cut = 0.0
    for k in range(order.shape[0]):
        v = order[k]
        lv = 1 if (v == seed_node or not use_labels) else labels[v]
        inside = 0.0
        deg = 0.0
        for e in range(indptr[v], indptr[v + 1]):
            j = indices[e]
            w = edge_weight_at(e, lv, j, ew, has_ew, labels, use_labels, eps, scheme, seed_node)
            deg += w
            if j == v:
                inside += 0.5 * w  # a self-loop adds to the volume, never to the cut
            elif rank[j] != 0:
                inside += w
        rank[v] = k + 1
        vol += deg
        cut += deg - 2.0 * inside
        phi = phi_from_cut(cut, vol, total)
        if phi < best:
            best = phi
            best_k = k + 1
    for k in range(order.shape[0]):
        rank[order[k]] = 0
    return best_k, best


def _mark_array(g) -> np.ndarray:
    ws = g.workspace()
    return ws.loc if not ws.busy else np.zeros(g.num_nodes, np.int32)


@renamed_arguments(seeds="seed_nodes")
def cut_and_volume(graph, cluster, *, labels=None, eps=None, scheme: str = "agree", seed_nodes=None):
    """``(cut(C), vol(C))`` on the graph or on the label-weighted graph (strongly local).

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
    cluster : array-like of int or bool
        The node set :math:`C` (ids or a mask).
    labels : array-like of shape (num_nodes,) or lazy oracle, optional
        With labels the weights are those of :func:`~graphdiff.cluster.label_weighted_graph`; an oracle is asked for
        the labels of the cluster and its neighbours that it has not predicted yet.
    eps : float, optional
        Required with ``labels``.
    scheme : {"agree", "both_one"}
    seed_nodes : array-like of int, optional
        Nodes treated as labelled 1.

    Returns
    -------
    (float, float)
    """
    g = as_local_graph(graph)
    nodes = _as_ids(cluster, "cluster", g.num_nodes)
    if labels is None:
        if eps is not None:
            raise ValueError("`eps` was given without `labels`")
        return _cut_volume_kernel(
            g.indptr, g.indices, g.weights_or_empty, g.weights is not None, np.empty(0, np.int8), False, 1.0, 0,
            nodes, _mark_array(g),
        )  # fmt: skip
    if eps is None:
        raise ValueError("`eps` is required with `labels`")
    eps = check_eps(eps)
    scheme_code = check_scheme(scheme)
    lab, oracle = prepare_labels(labels, g.num_nodes, check="read")
    seed_ids = check_seed_nodes(seed_nodes, g.num_nodes) if seed_nodes is not None else np.empty(0, np.int64)
    read = np.concatenate([neighbours(g, nodes), nodes])  # the labels the kernel reads
    saved = lab[seed_ids].copy()
    lab[seed_ids] = 1  # restored below: the array is shared with the caller
    try:
        if oracle is not None:
            unknown = np.unique(read[lab[read] < 0])
            if unknown.size:
                oracle.fill(unknown)
        check_binary(lab, read)
        return _cut_volume_kernel(
            g.indptr, g.indices, g.weights_or_empty, g.weights is not None, lab, True, eps, scheme_code, nodes,
            _mark_array(g),
        )  # fmt: skip
    finally:
        lab[seed_ids] = saved


@renamed_arguments(seeds="seed_nodes")
def label_weighted_volume(graph, labels, eps: float, scheme: str = "agree", seed_nodes=None) -> float:
    """Total volume of the label-weighted graph :math:`G_w` (one vectorised ``O(m)`` pass; needs every label).

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
    labels : array-like of shape (num_nodes,)
        Binary labels (not an oracle).
    eps : float
        In ``[0, 1]``.
    scheme : {"agree", "both_one"}
    seed_nodes : array-like of int, optional
        Nodes treated as labelled 1.

    Returns
    -------
    float
    """
    g = as_local_graph(graph)
    eps = check_eps(eps)
    check_scheme(scheme)
    lab, _ = prepare_labels(labels, g.num_nodes, oracle=False)
    lab = lab.astype(bool)
    if seed_nodes is not None:
        lab = lab.copy()
        lab[check_seed_nodes(seed_nodes, g.num_nodes)] = True
    deg = np.diff(g.indptr)
    row_lab = np.repeat(lab, deg)
    col_lab = lab[g.indices]
    fav = (row_lab == col_lab) if scheme == "agree" else (row_lab & col_lab)
    w = np.where(fav, 1.0, eps)
    if g.weights is not None:
        w = w * g.weights
    return float(w.sum())


def _scheme_factor(li, lj, eps: float, scheme: str) -> np.ndarray:
    fav = (li == lj) if scheme == "agree" else (li & lj)
    return np.where(fav, 1.0, eps)


def seed_volume_totals(
    graph, labels, eps: float, scheme: str, seed_nodes, base_total: float | None = None
) -> np.ndarray:
    """:func:`label_weighted_volume` with each of ``seed_nodes`` in turn labelled 1 (one total per seed node).

    One ``O(m)`` pass for the labels as given (or ``base_total``), then an ``O(deg)`` correction per seed node whose
    label is 0: its incident edges change weight in both stored directions (a self-loop once).

    Parameters
    ----------
    graph : LocalGraph
        The graph.
    labels : numpy.ndarray of int8, shape (num_nodes,)
        Binary labels (a full array).
    eps : float
        In ``[0, 1]``.
    scheme : {"agree", "both_one"}
        The label scheme.
    seed_nodes : numpy.ndarray of int64
        Valid node ids.
    base_total : float, optional
        ``label_weighted_volume(graph, labels, eps, scheme)`` if already known.

    Returns
    -------
    numpy.ndarray of float64, shape (len(seed_nodes),)
    """
    g = as_local_graph(graph)
    lab = np.asarray(labels).astype(bool)
    seeds = np.asarray(seed_nodes, dtype=np.int64)
    if base_total is None:
        base_total = label_weighted_volume(g, lab, eps, scheme)
    out = np.full(seeds.size, float(base_total))
    todo = np.flatnonzero(~lab[seeds])
    if todo.size == 0:
        return out
    s = seeds[todo]
    starts = g.indptr[s].astype(np.int64)
    lens = g.indptr[s + 1].astype(np.int64) - starts
    owner = np.repeat(np.arange(s.size), lens)
    entries = np.repeat(starts - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens) + np.arange(int(lens.sum()))
    j = g.indices[entries].astype(np.int64)
    base = g.weights[entries] if g.weights is not None else np.ones(entries.size)
    self_loop = j == s[owner]
    lj_new = np.where(self_loop, True, lab[j])
    lj_old = np.where(self_loop, False, lab[j])
    change = base * (_scheme_factor(True, lj_new, eps, scheme) - _scheme_factor(False, lj_old, eps, scheme))
    change = np.where(self_loop, change, 2.0 * change)
    out[todo] += np.bincount(owner, weights=change, minlength=s.size)
    return out


@renamed_arguments(seeds="seed_nodes")
def conductance(
    graph,
    cluster,
    *,
    labels=None,
    eps=None,
    scheme: str = "agree",
    seed_nodes=None,
    total_volume: float | None = None,
) -> float:
    r"""Conductance of ``cluster``, :math:`\mathrm{cut}(C) / \min(\mathrm{vol}(C), \mathrm{vol}(V) - \mathrm{vol}(C))`.

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
    cluster : array-like of int or bool
        The node set.
    labels, eps, scheme, seed_nodes
        Conductance on the label-weighted graph (see :func:`cut_and_volume`).
    total_volume : float, optional
        :math:`\mathrm{vol}(V)` in the same weights; defaults to the graph's (weighted) volume, or with a full label
        array to :func:`label_weighted_volume` (seed nodes labelled 1). With labels from a lazy oracle and no
        ``total_volume`` the denominator is :math:`\mathrm{vol}_w(C)` (see the module docstring).

    Returns
    -------
    float
        In ``[0, 1]``; 1.0 for an empty cluster or one whose complement has no volume (the complement's volume
        counts as zero below ``1e-9 * total_volume``, a rounding error).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> path = sp.diags([1.0, 1.0], [-1, 1], shape=(4, 4), format="csr")  # 0 - 1 - 2 - 3
    >>> conductance(path, [0, 1])  # one cut edge, volume 3
    0.3333333333333333
    """
    g = as_local_graph(graph)
    total_volume = check_float(total_volume, "total_volume", minimum=0.0, allow_none=True)
    cut, vol = cut_and_volume(g, cluster, labels=labels, eps=eps, scheme=scheme, seed_nodes=seed_nodes)
    if total_volume is None:
        if labels is None:
            total_volume = g.weighted_volume if g.weights is not None else g.volume
        elif not (hasattr(labels, "cache") and hasattr(labels, "fill")):  # a full array: vol(G_w) is known
            total_volume = label_weighted_volume(g, labels, eps, scheme, seed_nodes=seed_nodes)
    return float(phi_from_cut(float(cut), float(vol), -1.0 if total_volume is None else float(total_volume)))
