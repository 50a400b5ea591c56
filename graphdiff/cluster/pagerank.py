r"""Approximate personalised PageRank by the ACL push, with a sweep cut: the PageRank baselines of Section 4 of
Back de Luca, Fountoulakis & Yang, *Local Graph Clustering with Noisy Labels* (ICLR 2024,
https://arxiv.org/abs/2310.08031) -- PageRank on the original graph and "label-based PageRank" on :math:`G_w`.

The push of Andersen, Chung & Lang (FOCS 2006) on the lazy walk :math:`W = \tfrac12 (I + D^{-1} A)` approximates
:math:`\mathrm{pr}_\alpha(s) = \alpha s + (1 - \alpha)\,\mathrm{pr}_\alpha(s) W`. With residual :math:`r` (initially
the seed indicator) and estimate :math:`p = 0`, a FIFO queue holds the nodes with :math:`r_u \ge \rho\, d_u`; popping
:math:`u` sets :math:`p_u \mathrel{+}= \alpha r_u`, :math:`r_u \leftarrow \tfrac{1-\alpha}{2} r_u` and gives each
neighbour :math:`v` the share :math:`\tfrac{1-\alpha}{2} r_u\, w_{uv}/d_u`. The invariant
:math:`p + \mathrm{pr}_\alpha(r) = \mathrm{pr}_\alpha(s)` holds throughout, :math:`\sum p + \sum r = 1`, and the
work is at most :math:`1/(\alpha\rho)` edge visits. The weighted variant uses weighted degrees :math:`d_u = w_u`
(the C++ code of the localgraphclustering package re-queues against the unweighted degree, see
``shared/papers/lgc.md`` §3; we use the weighted one consistently).

The sweep cut orders the nodes with :math:`p_u > 0` by :math:`p_u / d_u` (descending) and returns the prefix of
least conductance. Both kernels are compiled with numba (sequential queue work, as in
``graphdiff.cluster.flow_diffusion``) and read only the adjacency of touched nodes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from graphdiff.cluster._graph import as_local_graph, check_seed_nodes
from graphdiff.cluster._legacy import renamed_arguments
from graphdiff.cluster._workspace import ACLWorkspace
from graphdiff.cluster.labels import check_binary, check_eps, check_scheme, prepare_labels
from graphdiff.cluster.metrics import edge_weight_at, label_weighted_volume, neighbours, sweep_kernel
from graphdiff.data.validation import check_float, check_int

__all__ = ["acl_pagerank", "weighted_acl_pagerank", "sweep_cut", "PageRankResult"]

_TOUCHED = np.int8(1)
_QUEUED = np.int8(2)


_w = edge_weight_at  # the one edge-weight rule of the sweep and of the push


@numba.njit(cache=True)
def _wdeg(i, indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed_node):
    li = 1 if (i == seed_node or not use_labels) else labels[i]
    d = 0.0
    for e in range(indptr[i], indptr[i + 1]):
        d += _w(e, li, indices[e], ew, has_ew, labels, use_labels, eps, scheme, seed_node)
    return d


@numba.njit(cache=True)
def _acl_kernel(
    indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed_node, alpha, rho, max_pushes,
    p, r, wdeg, flags, touched, queue, state,
):  # fmt: skip
    # state (out): [number of touched nodes, pushes, edge visits, converged (queue empty)]
    cap = p.shape[0] + 1  # the queue is a ring buffer; a node is in it at most once
    touched[0] = seed_node
    ns = 1
    flags[seed_node] = _TOUCHED
    wdeg[seed_node] = _wdeg(seed_node, indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed_node)
    r[seed_node] = 1.0
    head = 0
    tail = 0
    if wdeg[seed_node] > 0 and r[seed_node] >= rho * wdeg[seed_node]:
        queue[tail] = seed_node
        tail = (tail + 1) % cap
        flags[seed_node] |= _QUEUED
    pushes = 0
    visits = 0
    while head != tail and pushes < max_pushes:
        u = queue[head]
        head = (head + 1) % cap
        flags[u] &= ~_QUEUED
        ru = r[u]
        du = wdeg[u]
        p[u] += alpha * ru
        r[u] = 0.5 * (1.0 - alpha) * ru
        share = 0.5 * (1.0 - alpha) * ru / du
        lu = 1 if (u == seed_node or not use_labels) else labels[u]
        pushes += 1
        visits += indptr[u + 1] - indptr[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            w = _w(e, lu, v, ew, has_ew, labels, use_labels, eps, scheme, seed_node)
            if (flags[v] & _TOUCHED) == 0:
                touched[ns] = v
                ns += 1
                flags[v] |= _TOUCHED
                wdeg[v] = _wdeg(v, indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed_node)
            if w > 0.0:
                r[v] += share * w
                if (flags[v] & _QUEUED) == 0 and wdeg[v] > 0 and r[v] >= rho * wdeg[v]:
                    queue[tail] = v
                    tail = (tail + 1) % cap
                    flags[v] |= _QUEUED
        if (flags[u] & _QUEUED) == 0 and r[u] >= rho * du:
            queue[tail] = u
            tail = (tail + 1) % cap
            flags[u] |= _QUEUED
    state[0] = ns
    state[1] = pushes
    state[2] = visits
    state[3] = 1 if head == tail else 0


@dataclass
class PageRankResult:
    """Output of :func:`acl_pagerank` / :func:`weighted_acl_pagerank`: the sparse estimate and residual on the
    touched nodes, and the sweep cut.

    Parameters
    ----------
    nodes : numpy.ndarray of int64, shape (t,)
        Touched node ids, in the order they were first touched.
    p, r : numpy.ndarray of float64, shape (t,)
        The PageRank estimate and the residual on ``nodes``.
    degree : numpy.ndarray of float64, shape (t,)
        The (weighted) degree of ``nodes``.
    cluster : numpy.ndarray of int64
        The sorted sweep-cut cluster.
    conductance : float
        Its (weighted) conductance.
    num_pushes, work : int
        Pushes and edge visits.
    converged : bool
        Every residual is below the threshold (``max_pushes`` not reached).
    residual : float
        :math:`\\max_u r_u / d_u` over the touched nodes with positive degree (below ``rho`` when converged).
    touched_nodes : int
        Number of touched nodes.
    num_nodes : int
        Number of nodes of the graph.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> import numpy as np
    >>> two_triangles = sp.block_diag([np.ones((3, 3)) - np.eye(3)] * 2, format="lil")
    >>> two_triangles[2, 3] = two_triangles[3, 2] = 1.0  # joined by one edge
    >>> res = acl_pagerank(two_triangles.tocsr(), 0, alpha=0.1, rho=1e-6)
    >>> res.cluster, round(res.conductance, 3)
    (array([0, 1, 2]), 0.143)
    """

    nodes: np.ndarray
    p: np.ndarray
    r: np.ndarray
    degree: np.ndarray
    cluster: np.ndarray
    conductance: float
    num_pushes: int
    work: int
    converged: bool
    touched_nodes: int
    num_nodes: int
    residual: float = 0.0

    def dense_p(self) -> np.ndarray:
        """The estimate as a dense vector of length ``num_nodes``."""
        out = np.zeros(self.num_nodes)
        out[self.nodes] = self.p
        return out


def _run_acl(g, seed_node, alpha, rho, labels, eps, scheme, total_volume, max_pushes):
    n = g.num_nodes
    s = int(check_seed_nodes(seed_node, n, name="seed_node", single=True)[0])
    alpha = check_float(alpha, "alpha", minimum=0.0, maximum=1.0, low_open=True, high_open=True)
    rho = check_float(rho, "rho", minimum=0.0, low_open=True)
    max_pushes = check_int(max_pushes, "max_pushes", minimum=1)
    total_volume = check_float(total_volume, "total_volume", minimum=0.0, low_open=True, allow_none=True)
    use_labels = labels is not None
    scheme_code = check_scheme(scheme)
    if use_labels:
        lab, _ = prepare_labels(labels, n, name="noisy_labels", oracle=False, check="read")
        eps = check_eps(eps)
    else:
        lab = np.empty(0, np.int8)
    ws = g.acl_workspace()
    if ws.busy:
        ws = ACLWorkspace(n)
    ws.busy = True
    try:
        state = np.zeros(4, dtype=np.int64)
        args = (g.indptr, g.indices, g.weights_or_empty, g.weights is not None, lab, use_labels,
                eps if use_labels else 1.0, scheme_code, s)  # fmt: skip
        _acl_kernel(*args, alpha, rho, max_pushes, ws.p, ws.r, ws.wdeg, ws.flags, ws.touched, ws.queue, state)
        ns = int(state[0])
        nodes = ws.touched[:ns].copy()
        p = ws.p[nodes].copy()
        r = ws.r[nodes].copy()
        deg = ws.wdeg[nodes].copy()
        ws.p[nodes] = 0.0
        ws.r[nodes] = 0.0
        ws.wdeg[nodes] = 0.0
        ws.flags[nodes] = 0
        if use_labels:  # the labels the kernel read: touched nodes and their neighbours (the seed counts as 1)
            read = np.concatenate([nodes, neighbours(g, nodes)])
            check_binary(lab, read[read != s], name="noisy_labels")
        pos = p > 0
        if pos.any():
            cand, cdeg = nodes[pos], deg[pos]
            order = np.lexsort((cand, -p[pos] / cdeg))
            if total_volume is None:  # vol(V) in the weights of the sweep (labels: with the seed node labelled 1)
                if use_labels:
                    total_volume = label_weighted_volume(g, lab, eps, scheme, seed_nodes=[s])
                else:
                    total_volume = g.weighted_volume if g.weights is not None else g.volume
            k, phi = sweep_kernel(*args, cand[order], float(total_volume), ws.rank)
            cluster = np.sort(cand[order][:k])
        else:
            cluster, phi = np.array([s], dtype=np.int64), 1.0
    finally:
        ws.busy = False
    return PageRankResult(
        nodes=nodes,
        p=p,
        r=r,
        degree=deg,
        cluster=cluster.astype(np.int64, copy=False),
        conductance=float(phi),
        num_pushes=int(state[1]),
        work=int(state[2]),
        converged=bool(state[3]),
        touched_nodes=ns,
        num_nodes=n,
        residual=float((r[deg > 0] / deg[deg > 0]).max()) if np.any(deg > 0) else 0.0,
    )


@renamed_arguments(node="seed_node")
def acl_pagerank(
    graph,
    seed_node,
    alpha: float = 0.05,
    rho: float = 1e-4,
    *,
    total_volume: float | None = None,
    max_pushes: int = 10**9,
) -> PageRankResult:
    r"""ACL push for approximate personalised PageRank from one seed node, then a sweep cut.

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
        Its weights, if any, are used.
    seed_node : int
        The seed node id.
    alpha : float
        Teleportation probability in (0, 1).
    rho : float
        Push threshold (positive): nodes with residual :math:`r_u \ge \rho\, d_u` are pushed; the work is at most
        :math:`1/(\alpha \rho)` edge visits.
    total_volume : float, optional
        Graph volume for the sweep's conductance (default: the graph's, weighted where the graph is weighted).
    max_pushes : int
        Cap on the number of pushes (``converged=False`` when reached).

    Returns
    -------
    PageRankResult
    """
    g = as_local_graph(graph)
    return _run_acl(g, seed_node, alpha, rho, None, None, "agree", total_volume, max_pushes)


@renamed_arguments(node="seed_node")
def weighted_acl_pagerank(
    graph,
    seed_node,
    noisy_labels,
    eps: float = 0.05,
    scheme: str = "agree",
    alpha: float = 0.05,
    rho: float = 1e-4,
    *,
    total_volume: float | None = None,
    max_pushes: int = 10**9,
) -> PageRankResult:
    r"""ACL push and sweep cut on the label-weighted graph :math:`G_w` ("label-based PageRank").

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
    seed_node : int
        The seed node id (counted as labelled 1).
    noisy_labels : array-like of shape (num_nodes,)
        Binary labels (a full array; weights are computed as edges are read).
    eps : float
        Weight of the edges the scheme does not favour, in ``[0, 1]``.
    scheme : {"agree", "both_one"}
    alpha, rho, max_pushes
        As in :func:`acl_pagerank`.
    total_volume : float, optional
        The volume of :math:`G_w` (seed node labelled 1) for the sweep's conductance; ``None`` computes it
        (:func:`~graphdiff.cluster.label_weighted_volume`, one ``O(m)`` pass).

    Returns
    -------
    PageRankResult
    """
    g = as_local_graph(graph)
    if noisy_labels is None:
        raise ValueError("`noisy_labels` is required for weighted_acl_pagerank")
    return _run_acl(g, seed_node, alpha, rho, noisy_labels, eps, scheme, total_volume, max_pushes)


def sweep_cut(graph, scores, *, total_volume: float | None = None) -> tuple[np.ndarray, float]:
    """Sweep cut of a dense score vector: the prefix of least conductance of the nodes with positive scores,
    ordered by ``scores / degree`` (descending).

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
    scores : array-like of float, shape (num_nodes,)
        Finite scores (e.g. ``PageRankResult.dense_p()``).
    total_volume : float, optional
        Graph volume for the conductance (default: the graph's).

    Returns
    -------
    cluster : numpy.ndarray of int64
        Sorted node ids (empty when no score is positive).
    conductance : float
    """
    g = as_local_graph(graph)
    total_volume = check_float(total_volume, "total_volume", minimum=0.0, low_open=True, allow_none=True)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.shape != (g.num_nodes,):
        raise ValueError(f"`scores` must have one entry per node ({g.num_nodes}), got shape {scores.shape}")
    if not np.all(np.isfinite(scores)):
        raise ValueError("`scores` contains NaN or infinite values")
    deg = g.weighted_degree if g.weights is not None else g.degree
    cand = np.flatnonzero((scores > 0) & (deg > 0))
    if cand.size == 0:
        return np.empty(0, np.int64), 1.0
    order = cand[np.lexsort((cand, -scores[cand] / deg[cand]))]
    if total_volume is None:
        total_volume = g.weighted_volume if g.weights is not None else g.volume
    ws = g.acl_workspace()
    k, phi = sweep_kernel(
        g.indptr, g.indices, g.weights_or_empty, g.weights is not None, np.empty(0, np.int8), False, 1.0, 0, -1,
        order, float(total_volume), ws.rank,
    )  # fmt: skip
    return np.sort(order[:k]).astype(np.int64, copy=False), float(phi)
