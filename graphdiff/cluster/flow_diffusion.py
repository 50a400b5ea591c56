r"""l2 (weighted) flow diffusion solved by the randomised coordinate push.

Implements Section 2 of *Local Graph Clustering with Noisy Labels* (Back de Luca, Fountoulakis & Yang, ICLR 2024,
https://arxiv.org/abs/2310.08031), whose solver is Algorithm 1 of *Weighted Flow Diffusion for Local Graph
Clustering with Node Attributes* (Yang & Fountoulakis, ICML 2023, https://arxiv.org/abs/2301.13187); with unit
weights it is the :math:`p = 2` member of p-norm flow diffusion (Fountoulakis, Wang & Yang, ICML 2020).

Given edge weights :math:`w_{ij} > 0`, weighted degrees :math:`w_i = \sum_j w_{ij}`, :math:`L_w = D_w - W`, a source
mass :math:`\Delta \ge 0` on the seeds and sink capacities :math:`T \ge 0` (default: the *unweighted* degree, also
on a weighted graph), the dual problem is

.. math::

    \min_{x \ge 0}\; \tfrac12 x^\top L_w x + x^\top (T - \Delta),

with node masses :math:`m = \Delta - L_w x` (so :math:`\sum_i m_i = \lVert\Delta\rVert_1`) and optimality conditions
:math:`m_i \le T_i`, :math:`x_i \ge 0`, :math:`x_i > 0 \Rightarrow m_i = T_i`. The push solves it by exact
coordinate minimisation: each pass shuffles the nodes with excess :math:`m_i > T_i + \text{tol}` and, for each,
sets :math:`x_i \mathrel{+}= (m_i - T_i)/w_i`, :math:`m_i = T_i` and :math:`m_j \mathrel{+}= w_{ij}(m_i - T_i)/w_i`
for the neighbours. The cluster is the support :math:`\{i : x_i > 0\}`.

**Strong locality.** Every pushed node keeps :math:`m_i \ge T_i`, so the sinks of pushed nodes never exceed the
source mass: :math:`\sum_{i\ \text{pushed}} T_i \le \lVert\Delta\rVert_1` (with :math:`T = d`, the volume of the
output is at most :math:`\alpha\,\mathrm{vol}(K)` for :math:`\Delta = \alpha\,\mathrm{vol}(K)`). The work is the sum
of the degrees of the pushed nodes, independent of the size of the graph. The solver reads the adjacency only of
pushed nodes and the labels only of touched nodes (the pushed nodes and their neighbours), keeps its state in a
per-graph workspace and resets only the touched entries afterwards, so a call costs no ``O(n)`` pass.

**Why numba.** The push is inherently sequential (each push changes the excess that decides the next) and touches a
few neighbours at a time; vectorised tensor code cannot express it without ``O(n)`` work per step, and the notes'
pure-Python reference push needed 0.12-0.20 s per seed for about 10^5 edge visits. The numba kernel below runs the
same loop compiled, on CPU: in ``benchmarks/local_clustering.py --part locality`` it takes 3.6-5.7 ms of CPU per seed
for about 5.5 * 10^5 edge visits on graphs of 10^4 to 10^7 nodes. The first push of a node copies its adjacency (local
ids and weights) into a compact per-call buffer, so repeated pushes never touch arrays of length ``n`` again. The
many-seed entry point (:func:`graphdiff.cluster.batched_flow_diffusion`) also has a vectorised torch solver that
runs on CUDA.

**Label weights on the fly.** With ``labels`` and ``eps`` the kernel weights each edge as it reads it:
``scheme="agree"`` gives :math:`w_{ij} = 1` if :math:`\tilde y_i = \tilde y_j` and :math:`\varepsilon` otherwise;
``scheme="both_one"`` gives 1 only if both labels are 1. Labels may come from a lazy oracle (an object with a
``cache`` int8 array, ``-1`` for unknown, and ``fill(nodes)``): the kernel pauses when it needs unknown labels,
the oracle predicts exactly those nodes, and the kernel resumes.

**Infeasibility.** At :math:`\varepsilon = 0` (or a seed without neighbours) the primal problem is infeasible when
the source mass exceeds the total sink of the seed's positive-weight component; the kernel detects this once that
component is exhausted and returns with ``status="infeasible"`` instead of looping. Hitting ``max_passes`` returns
``status="max_passes"``. Neither raises.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numba
import numpy as np

from graphdiff.cluster._graph import as_local_graph, check_seeds

__all__ = ["flow_diffusion", "FlowDiffusionResult", "SCHEMES"]

SCHEMES = {"agree": 0, "both_one": 1}

# node flags in the workspace
_TOUCHED = np.int8(1)  # in the touched list (label and membership known)
_REACHED = np.int8(2)  # has received positive mass (or is a seed)
_EXPLORED = np.int8(4)  # pushed at least once: its adjacency has been read
_SEED = np.int8(8)
_STUCK = np.int8(16)  # positive excess but zero weighted degree

# kernel status codes
_RUNNING, _CONVERGED, _MAX_PASSES, _INFEASIBLE, _NEED_LABELS, _BAD_LABEL, _GROW = 0, 1, 2, 3, 4, 5, 6
_STATUS_NAMES = {_CONVERGED: "converged", _MAX_PASSES: "max_passes", _INFEASIBLE: "infeasible"}

# integer state slots
_S_STATUS, _S_PASSES, _S_SPLEN, _S_SPPOS, _S_NS, _S_UNEXPL, _S_PUSHES, _S_VISITS, _S_NEED, _S_INIT, _S_ERR = range(11)
_S_EXPLORED_EDGES, _S_NE, _S_GROW_NODES, _S_GROW_EDGES = 11, 12, 13, 14
# float state slots
_F_TOTAL, _F_CAP, _F_PUSHED_SINK = 0, 1, 2


class _Workspace:
    """Per-graph state of the push kernel.

    ``loc`` maps a global node id to its local id + 1 (0: untouched) and is the only array of length ``n``; it is
    reset entry by entry after each call. Everything else is *compact*: per touched node (global id, x, mass, sink,
    weighted degree, label, flags) and per read edge (local neighbour id and weight, the local adjacency of pushed
    nodes). Repeated pushes of a node then read only this compact, cache-resident copy, so the cost per push does
    not grow with the graph (no scattered reads into arrays of length ``n``). The compact arrays grow on demand.
    """

    def __init__(self, n: int, node_capacity: int = 1024, edge_capacity: int = 8192):
        self.loc = np.zeros(n, dtype=np.int32 if n < 2**31 - 1 else np.int64)
        self._alloc_nodes(node_capacity)
        self._alloc_edges(edge_capacity)
        self.need = np.zeros(4096, dtype=np.int64)
        self.busy = False

    def _alloc_nodes(self, cap: int, old: _Workspace | None = None, keep: int = 0):
        names = {
            "gid": np.int64,
            "x": np.float64,
            "m": np.float64,
            "sink": np.float64,
            "wdeg": np.float64,
            "lab": np.int8,
            "flags": np.int8,
            "astart": np.int64,
            "alen": np.int64,
            "sp": np.int64,
        }
        for name, dt in names.items():
            arr = np.zeros(cap, dtype=dt)
            if old is not None and keep:
                arr[:keep] = getattr(old, name)[:keep]
            setattr(self, name, arr)
        self.node_capacity = cap

    def _alloc_edges(self, cap: int, keep: int = 0):
        nbr = np.zeros(cap, dtype=np.int64)
        w = np.zeros(cap, dtype=np.float64)
        if keep:
            nbr[:keep] = self.nbr[:keep]
            w[:keep] = self.w[:keep]
        self.nbr, self.w = nbr, w
        self.edge_capacity = cap

    def grow(self, nodes_needed: int, edges_needed: int, ns: int, ne: int) -> None:
        if nodes_needed > self.node_capacity:
            cap = max(2 * self.node_capacity, nodes_needed)
            # keep the full SP list too (it holds the current pass)
            old = _Snapshot(self)
            self._alloc_nodes(cap, old, keep=self.node_capacity)
        if edges_needed > self.edge_capacity:
            self._alloc_edges(max(2 * self.edge_capacity, edges_needed), keep=ne)


class _Snapshot:
    def __init__(self, ws):
        for name in ("gid", "x", "m", "sink", "wdeg", "lab", "flags", "astart", "alen", "sp"):
            setattr(self, name, getattr(ws, name))


@numba.njit(cache=True, inline="always")
def _gsink(g, indptr, sink, has_sink):
    if has_sink:
        return sink[g]
    return float(indptr[g + 1] - indptr[g])


@numba.njit(cache=True, inline="always")
def _next_rand(rng):
    # splitmix64: a small, seedable, resumable generator kept in the kernel state
    rng[0] += np.uint64(0x9E3779B97F4A7C15)
    z = rng[0]
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def label_factor(li, lj, eps, scheme):
    """Multiplier of an edge's weight under the label scheme (0 = "agree", 1 = "both_one"): 1 or ``eps``.
    The one compiled copy of the rule; :func:`graphdiff.cluster.label_edge_weights` is its vectorised twin."""
    if scheme == 0:
        return 1.0 if li == lj else eps
    return 1.0 if (li == 1 and lj == 1) else eps


@numba.njit(cache=True)
def _push_kernel(
    indptr, indices, ew, has_ew, labels, use_labels, lazy, eps, scheme, force_seed,
    sink, has_sink, seeds, seed_mass, tol, max_passes,
    loc, gid, x, m, tsink, wdeg, lab, flags, astart, alen, sp, nbr, wbuf, need, state, fstate, rng,
):  # fmt: skip
    ncap = gid.shape[0]
    ecap = nbr.shape[0]
    if state[9] == 0:  # initialise: seeds get local ids 0..k-1
        state[9] = 1
        for k in range(seeds.shape[0]):
            s = seeds[k]
            if loc[s] == 0:
                if state[4] >= ncap:
                    state[13] = state[4] + 1
                    state[0] = 6
                    state[9] = 0
                    # undo the partial initialisation; Python grows and calls again
                    for q in range(state[4]):
                        loc[gid[q]] = 0
                        m[q] = 0.0
                        flags[q] = 0
                    state[4] = 0
                    state[5] = 0
                    fstate[0] = 0.0
                    fstate[1] = 0.0
                    return
                ls = state[4]
                loc[s] = ls + 1
                gid[ls] = s
                tsink[ls] = _gsink(s, indptr, sink, has_sink)
                lab[ls] = 1 if (force_seed or not use_labels) else -1
                flags[ls] = 1 | 2 | 8
                state[4] += 1
                state[5] += 1
                fstate[1] += tsink[ls]
            ls = loc[s] - 1
            m[ls] += seed_mass[k]
            fstate[0] += seed_mass[k]
        state[2] = 0
        state[3] = 0
    while True:
        if state[3] >= state[2]:  # start a new pass
            ns = state[4]
            splen = 0
            stuck_excess = False
            for q in range(ns):
                if m[q] > tsink[q] + tol:
                    if (flags[q] & 16) == 0:
                        sp[splen] = q
                        splen += 1
                    else:
                        stuck_excess = True
            if splen == 0 and not stuck_excess:
                state[0] = 1
                return
            if state[5] == 0 and fstate[0] > fstate[1] * (1.0 + 1e-12) + tol:
                state[0] = 3
                return
            if splen == 0:  # only stuck nodes hold excess; nothing can move
                state[0] = 3
                return
            if state[1] >= max_passes:
                state[0] = 2
                return
            for k in range(splen - 1, 0, -1):
                r = np.int64(_next_rand(rng) % np.uint64(k + 1))
                tmp = sp[k]
                sp[k] = sp[r]
                sp[r] = tmp
            state[2] = splen
            state[3] = 0
            state[1] += 1
        i = sp[state[3]]
        if (flags[i] & 4) == 0:
            # first push of i: read its adjacency once into the compact local copy
            g = gid[i]
            deg = indptr[g + 1] - indptr[g]
            if state[4] + deg > ncap or state[12] + deg > ecap:
                state[13] = state[4] + deg
                state[14] = state[12] + deg
                state[0] = 6
                return
            if use_labels:
                missing = 0
                if lab[i] < 0:
                    lv = labels[g]
                    if lv == 0 or lv == 1:
                        lab[i] = lv
                    else:
                        missing = 1
                if missing == 0:
                    for e in range(indptr[g], indptr[g + 1]):
                        j = indices[e]
                        if loc[j] != 0:
                            continue
                        lv = labels[j]
                        if lv != 0 and lv != 1:
                            missing = 1
                            break
                if missing > 0:
                    # gather unknown labels of every node still to be pushed in this pass, in one batch
                    cnt = 0
                    cap = need.shape[0]
                    for q in range(state[3], state[2]):
                        u = sp[q]
                        if (flags[u] & 4) != 0:
                            continue
                        gu = gid[u]
                        for t in range(-1, indptr[gu + 1] - indptr[gu]):
                            if t < 0:
                                if lab[u] >= 0:
                                    continue
                                v = gu
                            else:
                                v = indices[indptr[gu] + t]
                                if loc[v] != 0:
                                    continue
                            lv = labels[v]
                            if lv == 0 or lv == 1 or (lv == -2 and lazy):
                                continue
                            if lv == -1 and lazy:
                                if cnt < cap:
                                    labels[v] = -2
                                    need[cnt] = v
                                    cnt += 1
                            else:
                                state[0] = 5
                                state[10] = v
                                return
                        if cnt >= cap:
                            break
                    state[8] = cnt
                    state[0] = 4
                    return
            li = lab[i] if use_labels else 1
            d = 0.0
            ne = state[12]
            astart[i] = ne
            for e in range(indptr[g], indptr[g + 1]):
                j = indices[e]
                lj_id = loc[j] - 1
                if lj_id < 0:
                    lj_id = state[4]
                    loc[j] = lj_id + 1
                    gid[lj_id] = j
                    tsink[lj_id] = _gsink(j, indptr, sink, has_sink)
                    lab[lj_id] = labels[j] if use_labels else 1
                    flags[lj_id] = 1
                    state[4] += 1
                w = ew[e] if has_ew else 1.0
                if use_labels:
                    w *= label_factor(li, lab[lj_id], eps, scheme)
                nbr[ne] = lj_id
                wbuf[ne] = w
                ne += 1
                d += w
            alen[i] = ne - astart[i]
            state[12] = ne
            wdeg[i] = d
            flags[i] |= 4
            state[5] -= 1
            state[11] += deg
            fstate[2] += tsink[i]
            if d <= 0.0:
                flags[i] |= 16
                state[3] += 1
                continue
        ti = tsink[i]
        step = (m[i] - ti) / wdeg[i]
        x[i] += step
        m[i] = ti
        state[6] += 1
        a0 = astart[i]
        a1 = a0 + alen[i]
        state[7] += a1 - a0
        for e in range(a0, a1):
            w = wbuf[e]
            if w > 0.0:
                j = nbr[e]
                m[j] += w * step
                if (flags[j] & 2) == 0:
                    flags[j] |= 2
                    state[5] += 1
                    fstate[1] += tsink[j]
        state[3] += 1


@dataclass
class FlowDiffusionResult:
    """Output of :func:`flow_diffusion`, stored sparsely on the touched nodes.

    Attributes
    ----------
    nodes: touched node ids (pushed nodes and their neighbours), in the order they were first touched.
    x: the dual embedding on ``nodes`` (zero elsewhere).
    mass: the node mass :math:`m = \\Delta - L_w x` on ``nodes`` (zero elsewhere).
    cluster: the sorted support ``{i : x_i > 0}`` (plus seeds stuck without positive-weight edges).
    status: ``"converged"``, ``"max_passes"`` or ``"infeasible"``.
    touched_nodes: ``len(nodes)``; touched_edges: stored CSR entries read (sum of degrees of pushed nodes);
    work: edge visits over all pushes; num_pushes, passes; max_excess: :math:`\\max_i (m_i - T_i)`.
    """

    nodes: np.ndarray
    x: np.ndarray
    mass: np.ndarray
    sink: np.ndarray
    cluster: np.ndarray
    status: str
    passes: int
    num_pushes: int
    touched_nodes: int
    touched_edges: int
    work: int
    max_excess: float
    total_mass: float
    pushed_sink: float
    num_nodes: int
    labels_requested: int = 0
    weighted_degree: np.ndarray = field(default=None, repr=False)

    @property
    def converged(self) -> bool:
        return self.status == "converged"

    def dense_x(self) -> np.ndarray:
        out = np.zeros(self.num_nodes)
        out[self.nodes] = self.x
        return out

    def dense_mass(self) -> np.ndarray:
        out = np.zeros(self.num_nodes)
        out[self.nodes] = self.mass
        return out


def _prepare_labels(labels, n: int):
    """Return (label array, oracle or None). Arrays are used without copying when already int8/bool."""
    if labels is None:
        return np.empty(0, dtype=np.int8), None
    if hasattr(labels, "cache") and hasattr(labels, "fill"):
        cache = labels.cache
        if cache.shape != (n,):
            raise ValueError(f"`labels` oracle covers {cache.shape[0]} nodes, but the graph has {n}")
        return cache, labels
    import torch

    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise ValueError(f"`labels` must have one entry per node ({n}), got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.view(np.int8), None
    if arr.dtype == np.int8:
        return arr, None
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        raise ValueError("`labels` contains NaN or infinite values")
    if not np.all((arr == 0) | (arr == 1)):
        raise ValueError("`labels` must be binary (0/1 or bool)")
    return arr.astype(np.int8), None


def _check_sink(sink, n):
    if sink is None:
        return np.empty(0, dtype=np.float64), False
    import torch

    if isinstance(sink, torch.Tensor):
        sink = sink.detach().cpu().numpy()
    arr = np.ascontiguousarray(np.asarray(sink, dtype=np.float64))
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"`sink` must be a scalar or have one entry per node ({n}), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError("`sink` must hold finite non-negative capacities")
    return arr, True


def flow_diffusion(
    graph,
    seeds,
    source_mass,
    sink=None,
    weights=None,
    *,
    labels=None,
    eps: float | None = None,
    scheme: str = "agree",
    force_seed_label: bool = True,
    tol: float = 1e-4,
    max_passes: int = 50,
    seed: int = 0,
) -> FlowDiffusionResult:
    r"""Solve l2 flow diffusion from ``seeds`` by the randomised coordinate push (strongly local).

    Parameters
    ----------
    graph:
        A :class:`~graphdiff.cluster.LocalGraph` (reuse it across calls), a ``Data``, a scipy sparse matrix or an
        ``(indptr, indices[, weights])`` tuple.
    seeds:
        A node id or a list of distinct node ids.
    source_mass:
        :math:`\Delta` on the seeds: a scalar (the same on every seed) or one value per seed, non-negative.
    sink:
        Capacities :math:`T`: ``None`` for the unweighted degree (also when the graph is weighted), a scalar or an
        array with one entry per node.
    weights:
        Optional positive edge weights aligned with the CSR ``indices`` (replaces the graph's own weights; this
        builds a new graph, so prefer a weighted :class:`LocalGraph` for repeated calls).
    labels, eps, scheme:
        Noisy binary labels (array of length ``n``, or a lazy oracle such as
        :class:`~graphdiff.cluster.LogisticLabelOracle`) and the weight :math:`\varepsilon \in [0, 1]` of edges the
        scheme does not favour; edges are weighted as they are read (times the graph's own weights, if any).
        ``force_seed_label`` treats the seeds as labelled 1 (the seed is known to lie in the target).
    tol:
        Maximum excess :math:`m_i - T_i` left at termination.
    max_passes:
        Cap on the number of passes; reaching it gives ``status="max_passes"``.
    seed:
        Seed of the pass permutations.
    """
    g = as_local_graph(graph, weights)
    n = g.num_nodes
    seeds_arr = check_seeds(seeds, n)
    mass = np.asarray(source_mass, dtype=np.float64)
    if mass.ndim == 0:
        mass = np.full(seeds_arr.size, float(mass))
    if mass.shape != (seeds_arr.size,):
        raise ValueError(
            f"`source_mass` must be a scalar or have one entry per seed ({seeds_arr.size}), got shape {mass.shape}"
        )
    if not np.all(np.isfinite(mass)) or np.any(mass < 0):
        raise ValueError(f"`source_mass` must be finite and non-negative, got {mass.tolist()[:5]}")
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol >= 0):
        raise ValueError(f"`tol` must be a finite non-negative number, got {tol!r}")
    if not isinstance(max_passes, (int, np.integer)) or max_passes < 1:
        raise ValueError(f"`max_passes` must be a positive integer, got {max_passes!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"`scheme` must be one of {sorted(SCHEMES)}, got {scheme!r}")
    label_arr, oracle = _prepare_labels(labels, n)
    use_labels = labels is not None
    if use_labels:
        if eps is None:
            raise ValueError("`eps` is required with `labels` (the weight of edges the label scheme disfavours)")
        if not (isinstance(eps, (int, float)) and math.isfinite(eps) and 0.0 <= eps <= 1.0):
            raise ValueError(f"`eps` must lie in [0, 1], got {eps!r}")
    elif eps is not None:
        raise ValueError("`eps` was given without `labels`")
    sink_arr, has_sink = _check_sink(sink, n)

    ws = g.workspace()
    if ws.busy:  # re-entrant use (e.g. from another thread): fall back to a private workspace
        ws = _Workspace(n)
    ws.busy = True
    state = np.zeros(15, dtype=np.int64)
    clean = False
    pending = None
    try:
        fstate = np.zeros(3, dtype=np.float64)
        rng = np.array([(int(seed) * 0x2545F4914F6CDD1D + 1) % (1 << 64)], dtype=np.uint64)
        requested = 0
        ew = g.weights_or_empty
        while True:
            _push_kernel(
                g.indptr, g.indices, ew, g.weights is not None, label_arr, use_labels, oracle is not None,
                float(eps) if use_labels else 1.0, SCHEMES[scheme], bool(force_seed_label),
                sink_arr, has_sink, seeds_arr, mass, float(tol), int(max_passes),
                ws.loc, ws.gid, ws.x, ws.m, ws.sink, ws.wdeg, ws.lab, ws.flags, ws.astart, ws.alen, ws.sp,
                ws.nbr, ws.w, ws.need, state, fstate, rng,
            )  # fmt: skip
            code = int(state[_S_STATUS])
            if code == _GROW:
                ws.grow(int(state[_S_GROW_NODES]), int(state[_S_GROW_EDGES]), int(state[_S_NS]), int(state[_S_NE]))
                state[_S_STATUS] = _RUNNING
                continue
            if code == _NEED_LABELS:
                nodes = ws.need[: state[_S_NEED]].copy()
                pending = nodes
                if nodes.size == 0:
                    raise ValueError("the `labels` oracle cache holds unfinished requests (-2 entries)")
                oracle.fill(nodes)
                filled = label_arr[nodes]
                if not np.all((filled == 0) | (filled == 1)):
                    raise ValueError("the `labels` oracle did not fill binary labels for the requested nodes")
                requested += nodes.size
                pending = None
                state[_S_STATUS] = _RUNNING
                continue
            if code == _BAD_LABEL:
                bad = int(state[_S_ERR])
                val = int(label_arr[bad])
                raise ValueError(f"`labels` must be binary (0/1); node {bad} has label {val}")
            break
        ns = int(state[_S_NS])
        nodes = ws.gid[:ns].copy()
        x = ws.x[:ns].copy()
        m = ws.m[:ns].copy()
        flags = ws.flags[:ns].copy()
        wdeg = ws.wdeg[:ns].copy()
        _reset(ws, ns)
        clean = True
    finally:
        if not clean:  # an error (e.g. raised by a label oracle): leave the workspace as clean as it was
            _reset(ws, int(state[_S_NS]))
            if pending is not None:  # un-mark the labels requested from the oracle
                sub = label_arr[pending]
                label_arr[pending] = np.where(sub == -2, -1, sub)
        ws.busy = False
    t = sink_arr[nodes] if has_sink else g.degree[nodes]
    stuck = (flags & _STUCK) != 0
    in_cluster = (x > 0) | (stuck & (m > t + tol))
    excess = m - t
    max_excess = float(excess[(flags & _REACHED) != 0].max()) if ns else 0.0
    status = _STATUS_NAMES[code]
    stuck_excess = stuck & (m > t + tol)
    if stuck_excess.any():
        warnings.warn(
            f"node(s) {nodes[stuck_excess].tolist()[:5]} hold excess mass but have no positive-weight edges "
            "(e.g. an isolated seed): they stay in the cluster and the problem is reported infeasible",
            RuntimeWarning,
            stacklevel=2,
        )
    return FlowDiffusionResult(
        nodes=nodes,
        x=x,
        mass=m,
        sink=t,
        cluster=np.sort(nodes[in_cluster]),
        status=status,
        passes=int(state[_S_PASSES]),
        num_pushes=int(state[_S_PUSHES]),
        touched_nodes=ns,
        touched_edges=int(state[_S_EXPLORED_EDGES]),
        work=int(state[_S_VISITS]),
        max_excess=max_excess,
        total_mass=float(fstate[_F_TOTAL]),
        pushed_sink=float(fstate[_F_PUSHED_SINK]),
        num_nodes=n,
        labels_requested=requested,
        weighted_degree=wdeg,
    )


def _reset(ws: _Workspace, ns: int) -> None:
    ws.loc[ws.gid[:ns]] = 0
    for name in ("x", "m", "wdeg", "flags", "lab", "alen", "astart"):
        getattr(ws, name)[:ns] = 0
