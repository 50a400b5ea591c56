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
(the reference C++ code re-queues against the unweighted degree; we use the weighted one consistently).

The sweep cut orders the nodes with :math:`p_u > 0` by :math:`p_u / d_u` (descending) and returns the prefix of
least conductance. Both kernels are compiled with numba (sequential queue work, as in
:mod:`graphdiff.cluster.flow_diffusion`) and read only the adjacency of touched nodes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

from graphdiff.cluster._graph import as_local_graph, check_seeds
from graphdiff.cluster.flow_diffusion import SCHEMES, _prepare_labels, label_factor

__all__ = ["acl_pagerank", "weighted_acl_pagerank", "sweep_cut", "PageRankResult"]


class _ACLWorkspace:
    def __init__(self, n: int):
        self.p = np.zeros(n, dtype=np.float64)
        self.r = np.zeros(n, dtype=np.float64)
        self.wdeg = np.zeros(n, dtype=np.float64)
        self.flags = np.zeros(n, dtype=np.int8)  # 1 touched, 2 in queue
        self.touched = np.zeros(n, dtype=np.int64)
        self.queue = np.zeros(n + 1, dtype=np.int64)
        self.rank = np.zeros(n, dtype=np.int64)
        self.busy = False


@numba.njit(cache=True, inline="always")
def _w(e, li, j, ew, has_ew, labels, use_labels, eps, scheme, seed):
    w = ew[e] if has_ew else 1.0
    if use_labels:
        w *= label_factor(li, 1 if j == seed else labels[j], eps, scheme)
    return w


@numba.njit(cache=True)
def _wdeg(i, indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed):
    li = 1 if (i == seed or not use_labels) else labels[i]
    d = 0.0
    for e in range(indptr[i], indptr[i + 1]):
        d += _w(e, li, indices[e], ew, has_ew, labels, use_labels, eps, scheme, seed)
    return d


@numba.njit(cache=True)
def _acl_kernel(
    indptr,
    indices,
    ew,
    has_ew,
    labels,
    use_labels,
    eps,
    scheme,
    seed,
    alpha,
    rho,
    max_pushes,
    p,
    r,
    wdeg,
    flags,
    touched,
    queue,
    state,
):
    n = p.shape[0]
    cap = n + 1
    ns = 0
    touched[0] = seed
    ns = 1
    flags[seed] = 1
    wdeg[seed] = _wdeg(seed, indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed)
    r[seed] = 1.0
    head = 0
    tail = 0
    if wdeg[seed] > 0 and r[seed] >= rho * wdeg[seed]:
        queue[tail] = seed
        tail = (tail + 1) % cap
        flags[seed] |= 2
    pushes = 0
    visits = 0
    while head != tail and pushes < max_pushes:
        u = queue[head]
        head = (head + 1) % cap
        flags[u] &= ~np.int8(2)
        ru = r[u]
        du = wdeg[u]
        p[u] += alpha * ru
        r[u] = 0.5 * (1.0 - alpha) * ru
        share = 0.5 * (1.0 - alpha) * ru / du
        lu = 1 if (u == seed or not use_labels) else labels[u]
        pushes += 1
        visits += indptr[u + 1] - indptr[u]
        for e in range(indptr[u], indptr[u + 1]):
            v = indices[e]
            w = _w(e, lu, v, ew, has_ew, labels, use_labels, eps, scheme, seed)
            if (flags[v] & 1) == 0:
                touched[ns] = v
                ns += 1
                flags[v] |= 1
                wdeg[v] = _wdeg(v, indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed)
            if w > 0.0:
                r[v] += share * w
                if (flags[v] & 2) == 0 and wdeg[v] > 0 and r[v] >= rho * wdeg[v]:
                    queue[tail] = v
                    tail = (tail + 1) % cap
                    flags[v] |= 2
        if (flags[u] & 2) == 0 and r[u] >= rho * du:
            queue[tail] = u
            tail = (tail + 1) % cap
            flags[u] |= 2
    state[0] = ns
    state[1] = pushes
    state[2] = visits
    state[3] = 1 if head == tail else 0


@numba.njit(cache=True)
def _sweep_kernel(indptr, indices, ew, has_ew, labels, use_labels, eps, scheme, seed, order, deg, total, rank):
    # rank[v] = position + 1 of v in the order (0: not swept yet)
    best = np.inf
    best_k = 0
    vol = 0.0
    cut = 0.0
    for k in range(order.shape[0]):
        v = order[k]
        lv = 1 if (v == seed or not use_labels) else labels[v]
        inside = 0.0
        for e in range(indptr[v], indptr[v + 1]):
            j = indices[e]
            if rank[j] != 0:
                inside += _w(e, lv, j, ew, has_ew, labels, use_labels, eps, scheme, seed)
        rank[v] = k + 1
        vol += deg[k]
        cut += deg[k] - 2.0 * inside
        denom = min(vol, total - vol) if total > 0 else vol
        phi = cut / denom if denom > 0 else 1.0
        if phi < best:
            best = phi
            best_k = k + 1
    for k in range(order.shape[0]):
        rank[order[k]] = 0
    return best_k, best


@dataclass
class PageRankResult:
    """Output of :func:`acl_pagerank`: the sparse estimate and residual on the touched nodes, and the sweep cut."""

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

    def dense_p(self) -> np.ndarray:
        out = np.zeros(self.num_nodes)
        out[self.nodes] = self.p
        return out


def _check_unit(value, name, lo_open=True):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"`{name}` must be a finite number, got {value!r}")
    if not (0 < value < 1 if lo_open else 0 <= value <= 1):
        raise ValueError(f"`{name}` must lie in (0, 1), got {value}")
    return float(value)


def _run_acl(g, seed, alpha, rho, labels, eps, scheme, total_volume, max_pushes):
    n = g.num_nodes
    seed_arr = check_seeds(seed, n, name="seed")
    if seed_arr.size != 1:
        raise ValueError(f"`seed` must be a single node id, got {seed_arr.size}")
    s = int(seed_arr[0])
    alpha = _check_unit(alpha, "alpha")
    if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not (rho > 0 and math.isfinite(rho)):
        raise ValueError(f"`rho` must be a positive number, got {rho!r}")
    use_labels = labels is not None
    if use_labels:
        lab, oracle = _prepare_labels(labels, n)
        if oracle is not None:
            raise ValueError("`labels` must be a full label array for weighted_acl_pagerank")
        if scheme not in SCHEMES:
            raise ValueError(f"`scheme` must be one of {sorted(SCHEMES)}, got {scheme!r}")
        if eps is None or isinstance(eps, bool) or not (0 <= eps <= 1):
            raise ValueError(f"`eps` must lie in [0, 1], got {eps!r}")
    else:
        lab = np.empty(0, np.int8)
    ws = g.acl_workspace()
    if ws.busy:
        ws = _ACLWorkspace(n)
    ws.busy = True
    try:
        state = np.zeros(4, dtype=np.int64)
        args = (
            g.indptr,
            g.indices,
            g.weights_or_empty,
            g.weights is not None,
            lab,
            use_labels,
            float(eps) if use_labels else 1.0,
            SCHEMES.get(scheme, 0),
            s,
        )
        _acl_kernel(
            *args, float(alpha), float(rho), int(max_pushes), ws.p, ws.r, ws.wdeg, ws.flags, ws.touched, ws.queue, state
        )
        ns = int(state[0])
        nodes = ws.touched[:ns].copy()
        p = ws.p[nodes].copy()
        r = ws.r[nodes].copy()
        deg = ws.wdeg[nodes].copy()
        ws.p[nodes] = 0.0
        ws.r[nodes] = 0.0
        ws.wdeg[nodes] = 0.0
        ws.flags[nodes] = 0
        pos = p > 0
        if pos.any():
            cand, cdeg = nodes[pos], deg[pos]
            order = np.lexsort((cand, -p[pos] / cdeg))
            if total_volume is None:
                total_volume = (
                    g.weighted_volume
                    if (g.weights is not None and not use_labels)
                    else (g.volume if not use_labels else -1.0)
                )
            k, phi = _sweep_kernel(*args, cand[order], cdeg[order], float(total_volume), ws.rank)
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
        cluster=cluster,
        conductance=float(phi),
        num_pushes=int(state[1]),
        work=int(state[2]),
        converged=bool(state[3]),
        touched_nodes=ns,
        num_nodes=n,
    )


def acl_pagerank(
    graph, seed, alpha: float = 0.05, rho: float = 1e-4, *, total_volume: float | None = None, max_pushes: int = 10**9
) -> PageRankResult:
    r"""ACL push for approximate personalised PageRank from one ``seed``, then a sweep cut.

    Parameters
    ----------
    graph: anything :func:`~graphdiff.cluster.as_local_graph` accepts (its weights, if any, are used).
    seed: the seed node id.
    alpha: teleportation probability in (0, 1).
    rho: push threshold: nodes with residual :math:`r_u \ge \rho d_u` are pushed.
    total_volume: graph volume for the sweep's conductance (default: the graph's).
    """
    g = as_local_graph(graph)
    return _run_acl(g, seed, alpha, rho, None, None, "agree", total_volume, max_pushes)


def weighted_acl_pagerank(
    graph,
    seed,
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

    Weights are computed as edges are read (the seed counts as labelled 1). ``total_volume`` is the weighted
    volume of :math:`G_w` for the sweep's conductance; ``None`` uses :math:`\mathrm{vol}_w(C)` as the denominator.
    """
    g = as_local_graph(graph)
    if noisy_labels is None:
        raise ValueError("`noisy_labels` is required for weighted_acl_pagerank")
    return _run_acl(g, seed, alpha, rho, noisy_labels, eps, scheme, total_volume, max_pushes)


def sweep_cut(graph, scores, *, total_volume: float | None = None) -> tuple[np.ndarray, float]:
    """Sweep cut of a dense score vector: order nodes with positive ``scores / degree`` and keep the prefix of least
    conductance. Returns ``(cluster, conductance)``."""
    g = as_local_graph(graph)
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
    k, phi = _sweep_kernel(
        g.indptr,
        g.indices,
        g.weights_or_empty,
        g.weights is not None,
        np.empty(0, np.int8),
        False,
        1.0,
        0,
        -1,
        order,
        deg[order],
        float(total_volume),
        ws.rank,
    )
    return np.sort(order[:k]), float(phi)
