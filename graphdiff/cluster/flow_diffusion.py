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
few neighbours at a time; vectorised tensor code cannot express it without ``O(n)`` work per step, and a pure-Python
push needed 0.12-0.20 s per seed for about 10^5 edge visits (``shared/papers/lgc.md`` §3.5). The numba kernel below
runs the same loop compiled, on CPU: in ``benchmarks/local_clustering.py --part locality`` it takes 3.6-5.7 ms of
CPU per seed for about 5.5 * 10^5 edge visits on graphs of 10^4 to 10^7 nodes. The first push of a node copies its
adjacency (local ids and weights) into a compact per-call buffer, so repeated pushes never touch arrays of length
``n`` again. The many-seed entry point (:func:`graphdiff.cluster.batched_flow_diffusion`) also has a vectorised
torch solver that runs on CUDA.

**Label weights on the fly.** With ``labels`` and ``eps`` the kernel weights each edge as it reads it:
``scheme="agree"`` gives :math:`w_{ij} = 1` if :math:`\tilde y_i = \tilde y_j` and :math:`\varepsilon` otherwise;
``scheme="both_one"`` gives 1 only if both labels are 1. Labels may come from a lazy oracle (an object with a
``cache`` int8 array, ``-1`` for unknown, and ``fill(nodes)``): the kernel pauses when it needs unknown labels,
the oracle predicts exactly those nodes, and the kernel resumes.

**Infeasibility.** At :math:`\varepsilon = 0` (or a seed without neighbours) the primal problem is infeasible when
the source mass exceeds the total sink of the seed's positive-weight component; the kernel detects this once that
component is exhausted and returns with ``status="infeasible"`` instead of looping. Hitting ``max_passes`` returns
``status="max_passes"``. Neither raises. Every result carries its ``status``, its number of ``passes`` and the final
``residual`` of the optimality conditions.

**The pass cap (issue 16).** The stopping rule is the tolerance: a run stops when no node has excess above ``tol``
(absolute, default ``1e-4``: the maximum primal infeasibility, as in WFD). Until 0.2 the default cap was WFD's 50
passes, which real graphs never reach the tolerance within: on 20 seeds of Cora (4 classes, alpha in {1.5, 3, 5},
flips a = 0.8) flow diffusion needed a median of 344 passes (max 1935) and weighted flow diffusion 1317 (max 3435);
Coauthor CS 126 / 362, Amazon Photo 434-624 / 826-1073, Coauthor Physics up to 4586 / 7145 passes, the longest
runs being source masses just below the sink capacity of the seed's component (near infeasibility: the dual
solution grows without bound as the mass approaches it). The push order is not the cause: appending the nodes that
gain excess during a pass to that pass cut the passes 1.5x at the same work (edge visits within 10%), so the
randomised permutation of the paper is kept. The cost is the linear rate of exact coordinate descent on a large,
well-separated support (a small Dirichlet eigenvalue), with a tolerance that is 1e-9 of the mass. The default cap is
now :data:`DEFAULT_MAX_PASSES` (20,000), a safety net rather than the stopping rule.

**Support solves (0.2.x, beyond the paper).** With the cap at 20,000 passes, 0.4-1.7 % of the benchmark's runs still
ended there: all at source masses within a few percent below the sink capacity of the seed's component (e.g. Cora
class 3 at alpha = 3.5, 0.98 of the capacity: weighted flow diffusion at 20,000 passes with residual 3-4e-3;
Amazon Photo class 6, Coauthor CS class 13 and Coauthor Physics class 2 are the other classes whose alpha grid
crosses 0.9-1.0 of the capacity). There the support is nearly the whole component, :math:`L_{SS}` is nearly
singular and coordinate descent converges in about its condition number of passes. ``accelerate=True`` (the
default) therefore interleaves *support solves* with the passes: every so often it solves
:math:`L_{SS}\, x_S = \Delta_S - T_S` on the current support :math:`S` (the pushed nodes with :math:`x_i > 0`) by
Jacobi-preconditioned conjugate gradients warm-started at :math:`x_S` (about the square root of the condition number
of iterations instead of the condition number of passes), keeps the result where it lowers the dual objective
(clipped at 0) and recomputes :math:`m` exactly; the passes then continue from there. Because the push grows
:math:`x` monotonically from 0, :math:`S` is inside the optimal support and the exact solve would land between the
current :math:`x` and the optimum; a truncated solve can leave small deficits :math:`m_i < T_i` on the support,
so a pass also pushes nodes with :math:`x_i > 0` and :math:`m_i < T_i - \mathrm{tol}` (projected: :math:`x_i` never
goes below 0). The problem, the tolerance (``1e-4``, its meaning) and the stopping rule are unchanged: a run
stops when no node violates the optimality conditions by more than ``tol``; the reported ``residual`` is checked
against it. The solves read only the local adjacency copy of :math:`S` (strongly local) and their edge visits count
in ``work``. On the cases above the runs converge in 300-1,000 passes (Cora: 1.2e7 edge visits instead of 1.5e8
capped), and on the other alphas of Cora class 3 the runs need 1.8-5x fewer edge visits than the push alone.
``accelerate=False`` is the paper's push alone (the locality benchmark measures that, with WFD's 50 passes).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numba
import numpy as np
import torch

from graphdiff.cluster._graph import as_local_graph, check_seed_nodes
from graphdiff.cluster._legacy import renamed_arguments
from graphdiff.cluster._workspace import PushWorkspace
from graphdiff.cluster.labels import (
    LABEL_REQUESTED,
    LABEL_UNKNOWN,
    SCHEMES,  # noqa: F401 (lived here before 0.2; see graphdiff.cluster.labels)
    check_eps,
    check_scheme,
    label_factor,
    prepare_labels,
)
from graphdiff.data.validation import check_bool, check_float, check_int, check_seed

__all__ = ["flow_diffusion", "FlowDiffusionResult", "DEFAULT_MAX_PASSES", "kkt_residual"]

_FIRST_SOLVE = 16  # accelerate: the first support solve after this many passes, with this many CG iterations

#: Default pass cap of the push (a safety net: the tolerance is the stopping rule).
DEFAULT_MAX_PASSES = 20_000

# ------------------------------------------------------------------------------------------------ kernel state
# Node flags in the workspace (bits of ``flags``).
_TOUCHED = np.int8(1)  # has a local id: its label and sink are known
_REACHED = np.int8(2)  # has received positive mass (or is a seed)
_EXPLORED = np.int8(4)  # pushed at least once: its adjacency has been copied into the workspace
_SEED = np.int8(8)
_STUCK = np.int8(16)  # explored, but all its edges have weight zero: it can never push

# Kernel status codes: the first four end a call, the last three ask Python for something and resume.
_RUNNING, _CONVERGED, _MAX_PASSES, _INFEASIBLE, _NEED_LABELS, _BAD_LABEL, _GROW = 0, 1, 2, 3, 4, 5, 6
_STATUS_NAMES = {_CONVERGED: "converged", _MAX_PASSES: "max_passes", _INFEASIBLE: "infeasible"}

# The kernel's scalar state, one record kept between resumptions (fields read as ``state.<name>`` in the kernel).
_STATE = np.dtype(
    [
        ("status", np.int64),  # one of the status codes above
        ("initialised", np.int64),  # the seeds have been placed
        ("passes", np.int64),  # passes started
        ("pass_length", np.int64),  # nodes in the current pass (``order[:pass_length]``)
        ("pass_position", np.int64),  # next position in the current pass
        ("num_touched", np.int64),  # nodes with a local id (``gid[:num_touched]``)
        ("num_unexplored", np.int64),  # reached nodes not explored yet (0: the reached component is exhausted)
        ("num_pushes", np.int64),
        ("edge_visits", np.int64),  # local edges read by pushes (the work)
        ("explored_edges", np.int64),  # CSR entries copied (sum of the degrees of explored nodes)
        ("num_local_edges", np.int64),  # entries of the compact adjacency in use
        ("num_requested", np.int64),  # _NEED_LABELS: node ids in ``need[:num_requested]``
        ("bad_label_node", np.int64),  # _BAD_LABEL: the node whose label is not 0/1
        ("grow_nodes", np.int64),  # _GROW: node and edge capacities needed
        ("grow_edges", np.int64),
        ("total_mass", np.float64),  # sum of the source mass
        ("reached_sink", np.float64),  # sum of the sinks of reached nodes
        ("pushed_sink", np.float64),  # sum of the sinks of explored nodes
        ("rng", np.uint64),  # splitmix64 state of the pass permutations
        ("next_solve", np.int64),  # the pass count at which the next support solve is tried (accelerate)
        ("solve_budget", np.int64),  # conjugate-gradient iterations allowed to the next support solve
        ("solves", np.int64),  # support solves accepted
        ("cg_iterations", np.int64),  # conjugate-gradient iterations over all support solves
    ]
)


@numba.njit(cache=True, inline="always")
def _sink_of(g, indptr, sink, has_sink):
    """Sink capacity of global node ``g``: the given one, or its unweighted degree."""
    if has_sink:
        return sink[g]
    return float(indptr[g + 1] - indptr[g])


@numba.njit(cache=True, inline="always")
def _next_random(state):
    # splitmix64: a small, seedable, resumable generator kept in the kernel state
    state.rng += np.uint64(0x9E3779B97F4A7C15)
    z = state.rng
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True, inline="always")
def _is_binary(value):
    return value == 0 or value == 1


@numba.njit(cache=True)
def _place_seeds(indptr, sink, has_sink, seeds, seed_mass, use_labels, force_seed_label, loc, gid, m, node_sink, lab,
                 flags, state):  # fmt: skip
    """Give the seeds local ids ``0..k-1`` and their source mass; False (state: _GROW, undone) if they do not fit."""
    state.initialised = 1
    for k in range(seeds.shape[0]):
        g = seeds[k]
        if loc[g] == 0:
            if state.num_touched >= gid.shape[0]:
                # undo the partial initialisation; Python grows the workspace and calls again
                state.grow_nodes = state.num_touched + 1
                state.status = _GROW
                state.initialised = 0
                for q in range(state.num_touched):
                    loc[gid[q]] = 0
                    m[q] = 0.0
                    flags[q] = 0
                state.num_touched = 0
                state.num_unexplored = 0
                state.total_mass = 0.0
                state.reached_sink = 0.0
                return False
            i = state.num_touched
            loc[g] = i + 1
            gid[i] = g
            node_sink[i] = _sink_of(g, indptr, sink, has_sink)
            lab[i] = 1 if (force_seed_label or not use_labels) else LABEL_UNKNOWN
            flags[i] = _TOUCHED | _REACHED | _SEED
            state.num_touched += 1
            state.num_unexplored += 1
            state.reached_sink += node_sink[i]
        i = loc[g] - 1
        m[i] += seed_mass[k]
        state.total_mass += seed_mass[k]
    state.pass_length = 0
    state.pass_position = 0
    return True


@numba.njit(cache=True, inline="always")
def _start_pass(x, m, node_sink, flags, order, tol, max_passes, state):
    """Collect the nodes that violate the optimality conditions by more than ``tol`` (an excess, or a deficit where
    :math:`x_i > 0`) into ``order`` and shuffle them; False (state: why) when the solve ends."""
    pass_length = 0
    stuck_excess = False
    for q in range(state.num_touched):
        if m[q] > node_sink[q] + tol:
            if (flags[q] & _STUCK) == 0:
                order[pass_length] = q
                pass_length += 1
            else:
                stuck_excess = True
        elif x[q] > 0.0 and m[q] < node_sink[q] - tol:  # a deficit on the support (only after a support solve)
            order[pass_length] = q
            pass_length += 1
    if pass_length == 0 and not stuck_excess:
        state.status = _CONVERGED
        return False
    # the reached component is exhausted and its sinks cannot absorb the source mass
    if state.num_unexplored == 0 and state.total_mass > state.reached_sink * (1.0 + 1e-12) + tol:
        state.status = _INFEASIBLE
        return False
    if pass_length == 0:  # only stuck nodes hold excess; nothing can move
        state.status = _INFEASIBLE
        return False
    if state.passes >= max_passes:
        state.status = _MAX_PASSES
        return False
    for k in range(pass_length - 1, 0, -1):  # Fisher-Yates
        r = np.int64(_next_random(state) % np.uint64(k + 1))
        tmp = order[k]
        order[k] = order[r]
        order[r] = tmp
    state.pass_length = pass_length
    state.pass_position = 0
    state.passes += 1
    return True


@numba.njit(cache=True, inline="always")
def _labels_known(i, g, indptr, indices, labels, loc, lab):
    """Whether the labels of node ``i`` (global ``g``) and of its untouched neighbours are all 0/1 already."""
    if lab[i] < 0:
        if not _is_binary(labels[g]):
            return False
        lab[i] = labels[g]
    for e in range(indptr[g], indptr[g + 1]):
        j = indices[e]
        if loc[j] == 0 and not _is_binary(labels[j]):
            return False
    return True


@numba.njit(cache=True)
def _request_labels(indptr, indices, labels, lazy, loc, gid, lab, flags, order, need, state):
    """Ask for the unknown labels of every node still to be explored in this pass (and of its untouched
    neighbours), in one batch: state _NEED_LABELS with the node ids in ``need``, or _BAD_LABEL for a label that is
    neither 0/1 nor (with a lazy oracle) unknown."""
    count = 0
    for q in range(state.pass_position, state.pass_length):
        u = order[q]
        if (flags[u] & _EXPLORED) != 0:
            continue
        gu = gid[u]
        for t in range(-1, indptr[gu + 1] - indptr[gu]):
            if t < 0:  # the node itself, then its neighbours
                if lab[u] >= 0:
                    continue
                v = gu
            else:
                v = indices[indptr[gu] + t]
                if loc[v] != 0:
                    continue
            value = labels[v]
            if _is_binary(value) or (value == LABEL_REQUESTED and lazy):
                continue
            if value == LABEL_UNKNOWN and lazy:
                if count < need.shape[0]:
                    labels[v] = LABEL_REQUESTED
                    need[count] = v
                    count += 1
            else:
                state.status = _BAD_LABEL
                state.bad_label_node = v
                return
        if count >= need.shape[0]:
            break
    state.num_requested = count
    state.status = _NEED_LABELS


@numba.njit(cache=True, inline="always")
def _explore(i, g, indptr, indices, edge_weight, has_edge_weight, labels, use_labels, eps, scheme, sink, has_sink,
             loc, gid, node_sink, wdeg, lab, flags, astart, alen, nbr, wbuf, state):  # fmt: skip
    """First push of node ``i`` (global ``g``): copy its adjacency (local ids, label weights) into the workspace,
    touching its new neighbours, and compute its weighted degree."""
    li = lab[i] if use_labels else 1
    d = 0.0
    ne = state.num_local_edges
    astart[i] = ne
    for e in range(indptr[g], indptr[g + 1]):
        j = indices[e]
        lj = loc[j] - 1
        if lj < 0:
            lj = state.num_touched
            loc[j] = lj + 1
            gid[lj] = j
            node_sink[lj] = _sink_of(j, indptr, sink, has_sink)
            lab[lj] = labels[j] if use_labels else 1
            flags[lj] = _TOUCHED
            state.num_touched += 1
        w = edge_weight[e] if has_edge_weight else 1.0
        if use_labels:
            w *= label_factor(li, lab[lj], eps, scheme)
        nbr[ne] = lj
        wbuf[ne] = w
        ne += 1
        d += w
    alen[i] = ne - astart[i]
    state.num_local_edges = ne
    wdeg[i] = d
    flags[i] |= _EXPLORED
    state.num_unexplored -= 1
    state.explored_edges += indptr[g + 1] - indptr[g]
    state.pushed_sink += node_sink[i]


@numba.njit(cache=True)
def _exact_mass(seeds, seed_mass, loc, x, m, node_sink, wdeg, flags, astart, alen, nbr, wbuf, state):
    r"""Recompute :math:`m = \Delta - L_w x` on the touched nodes from ``x`` alone (``O(local edges)``) and mark
    every node that receives positive mass as reached."""
    nt = state.num_touched
    for q in range(nt):
        m[q] = 0.0
    for k in range(seeds.shape[0]):
        m[loc[seeds[k]] - 1] += seed_mass[k]
    for q in range(nt):
        xq = x[q]
        if xq == 0.0 or (flags[q] & _EXPLORED) == 0:
            continue
        m[q] -= wdeg[q] * xq
        for e in range(astart[q], astart[q] + alen[q]):
            w = wbuf[e]
            if w > 0.0:
                j = nbr[e]
                m[j] += w * xq
                if (flags[j] & _REACHED) == 0:
                    flags[j] |= _REACHED
                    state.num_unexplored += 1
                    state.reached_sink += node_sink[j]


@numba.njit(cache=True)
def _dual_objective(x, m, node_sink, seeds, seed_mass, loc, num_touched):
    r"""The dual objective :math:`\tfrac12 x^\top L_w x + x^\top (T - \Delta)`, computed as
    :math:`x^\top (T - \tfrac12 \Delta - \tfrac12 m)` (``m`` exact)."""
    f = 0.0
    for q in range(num_touched):
        f += x[q] * (node_sink[q] - 0.5 * m[q])
    for k in range(seeds.shape[0]):
        q = loc[seeds[k]] - 1
        f -= 0.5 * x[q] * seed_mass[k]
    return f


@numba.njit(cache=True)
def _support_solve(seeds, seed_mass, loc, x, m, node_sink, wdeg, flags, astart, alen, nbr, wbuf, tol, state):
    r"""The support solve (``accelerate=True``, beyond the paper): solve :math:`L_{SS}\, z = \Delta_S - T_S` on the
    current support :math:`S = \{i\ \text{pushed} : x_i > 0\}` by Jacobi-preconditioned conjugate gradients, warm
    started at :math:`x_S` (the initial residual is :math:`m_S - T_S`), take :math:`x_S = \max(z, 0)` if that lowers
    the dual objective and recompute :math:`m` exactly. ``O(iterations * local edges of S)``, strongly local.

    The first solve is tried after 16 passes with a budget of 16 iterations; a solve that uses up its budget
    doubles it, and the next one is tried after as many passes as the budget, so the solves cost about as much
    work as the passes between them."""
    nt = state.num_touched
    budget = state.solve_budget
    state.next_solve = state.passes + budget
    _exact_mass(seeds, seed_mass, loc, x, m, node_sink, wdeg, flags, astart, alen, nbr, wbuf, state)
    ns = 0
    support = np.empty(nt, dtype=np.int64)
    for q in range(nt):
        if x[q] > 0.0 and (flags[q] & _EXPLORED) != 0 and wdeg[q] > 0.0:
            support[ns] = q
            ns += 1
    if ns == 0:
        return
    r = np.zeros(nt)
    p = np.zeros(nt)  # zero outside S: the products below then read L_SS only
    ap = np.zeros(nt)
    y = np.empty(ns)
    rz = 0.0
    rmax = 0.0
    for k in range(ns):
        q = support[k]
        y[k] = x[q]
        r[q] = m[q] - node_sink[q]
        p[q] = r[q] / wdeg[q]
        rz += r[q] * p[q]
        rmax = max(rmax, abs(r[q]))
    if rmax <= 0.5 * tol:
        return  # the support is already solved; what is left (excess outside S) is the passes' work
    visits = 0
    for q in support[:ns]:
        visits += alen[q]
    it = 0
    while it < budget:
        pap = 0.0
        for k in range(ns):
            q = support[k]
            s = wdeg[q] * p[q]
            for e in range(astart[q], astart[q] + alen[q]):
                s -= wbuf[e] * p[nbr[e]]
            ap[q] = s
            pap += p[q] * s
        it += 1
        if not pap > 0.0:  # L_SS is singular (S a whole component) or the iteration broke down
            break
        a = rz / pap
        rmax = 0.0
        rz_new = 0.0
        for k in range(ns):
            q = support[k]
            y[k] += a * p[q]
            r[q] -= a * ap[q]
            rmax = max(rmax, abs(r[q]))
            rz_new += r[q] * r[q] / wdeg[q]
        if rmax <= 0.25 * tol:
            break
        beta = rz_new / rz
        rz = rz_new
        for k in range(ns):
            q = support[k]
            p[q] = r[q] / wdeg[q] + beta * p[q]
    state.cg_iterations += it
    state.edge_visits += it * visits
    if it >= budget:
        state.solve_budget = 2 * budget
        state.next_solve = state.passes + 2 * budget
    f_old = _dual_objective(x, m, node_sink, seeds, seed_mass, loc, nt)
    x_old = x[:nt].copy()
    m_old = m[:nt].copy()
    for k in range(ns):
        x[support[k]] = max(y[k], 0.0)
    _exact_mass(seeds, seed_mass, loc, x, m, node_sink, wdeg, flags, astart, alen, nbr, wbuf, state)
    if _dual_objective(x, m, node_sink, seeds, seed_mass, loc, nt) < f_old:
        state.solves += 1
    else:  # no progress: keep the passes' iterate
        x[:nt] = x_old
        m[:nt] = m_old


@numba.njit(cache=True)
def _push_kernel(
    indptr, indices, edge_weight, has_edge_weight, labels, use_labels, lazy, eps, scheme, force_seed_label,
    sink, has_sink, seeds, seed_mass, tol, max_passes, accelerate,
    loc, gid, x, m, node_sink, wdeg, lab, flags, astart, alen, order, nbr, wbuf, need, state_record,
):  # fmt: skip
    """Passes of pushes until convergence, the pass cap or infeasibility, or until Python must act (_GROW,
    _NEED_LABELS, _BAD_LABEL): then it returns and is called again with the same state and workspace."""
    state = state_record[0]
    if state.initialised == 0:
        ok = _place_seeds(
            indptr, sink, has_sink, seeds, seed_mass, use_labels, force_seed_label, loc, gid, m, node_sink, lab,
            flags, state,
        )  # fmt: skip
        if not ok:
            return
    while True:
        if state.pass_position >= state.pass_length:
            if accelerate and state.passes >= state.next_solve:
                _support_solve(seeds, seed_mass, loc, x, m, node_sink, wdeg, flags, astart, alen, nbr, wbuf, tol,
                               state)  # fmt: skip
            if not _start_pass(x, m, node_sink, flags, order, tol, max_passes, state):
                return
        i = order[state.pass_position]
        if (flags[i] & _EXPLORED) == 0:
            g = gid[i]
            degree = indptr[g + 1] - indptr[g]
            if state.num_touched + degree > gid.shape[0] or state.num_local_edges + degree > nbr.shape[0]:
                state.grow_nodes = state.num_touched + degree
                state.grow_edges = state.num_local_edges + degree
                state.status = _GROW
                return
            if use_labels and not _labels_known(i, g, indptr, indices, labels, loc, lab):
                _request_labels(indptr, indices, labels, lazy, loc, gid, lab, flags, order, need, state)
                return
            _explore(
                i, g, indptr, indices, edge_weight, has_edge_weight, labels, use_labels, eps, scheme, sink, has_sink,
                loc, gid, node_sink, wdeg, lab, flags, astart, alen, nbr, wbuf, state,
            )  # fmt: skip
            if wdeg[i] <= 0.0:
                flags[i] |= _STUCK
                state.pass_position += 1
                continue
        # the push: exact coordinate minimisation at i, its excess moves to the neighbours in proportion to the
        # weights (kept in this loop body: as a numba function, inlined or called, it ran about 25% slower)
        step = (m[i] - node_sink[i]) / wdeg[i]
        if step < -x[i]:  # a deficit larger than x_i can correct: x_i = 0 (projected coordinate minimisation)
            step = -x[i]
            x[i] = 0.0
            m[i] -= wdeg[i] * step
        else:
            x[i] += step
            m[i] = node_sink[i]
        state.num_pushes += 1
        a0 = astart[i]
        a1 = a0 + alen[i]
        state.edge_visits += a1 - a0
        for e in range(a0, a1):
            w = wbuf[e]
            if w > 0.0:
                j = nbr[e]
                m[j] += w * step
                if (flags[j] & _REACHED) == 0:
                    flags[j] |= _REACHED
                    state.num_unexplored += 1
                    state.reached_sink += node_sink[j]
        state.pass_position += 1


# ------------------------------------------------------------------------------------------------ Python side
@dataclass
class FlowDiffusionResult:
    r"""Output of :func:`flow_diffusion`, stored sparsely on the touched nodes.

    Parameters
    ----------
    nodes : numpy.ndarray of int64, shape (t,)
        Touched node ids (pushed nodes and their neighbours), in the order they were first touched.
    x : numpy.ndarray of float64, shape (t,)
        The dual embedding on ``nodes`` (zero elsewhere).
    mass : numpy.ndarray of float64, shape (t,)
        The node mass :math:`m = \Delta - L_w x` on ``nodes`` (zero elsewhere).
    sink : numpy.ndarray of float64, shape (t,)
        The sink capacities :math:`T` on ``nodes``.
    cluster : numpy.ndarray of int64, shape (c,)
        The sorted support :math:`\{i : x_i > 0\}` (plus seeds stuck without positive-weight edges).
    status : str
        ``"converged"``, ``"max_passes"`` or ``"infeasible"``.
    passes, num_pushes : int
        Passes started and pushes made.
    touched_nodes : int
        ``len(nodes)``.
    touched_edges : int
        Stored CSR entries read (the sum of the degrees of the pushed nodes).
    work : int
        Edge visits over all pushes.
    max_excess : float
        :math:`\max_i (m_i - T_i)` over the reached nodes (at most ``tol`` when converged).
    residual : float
        The final residual of the optimality conditions (:func:`kkt_residual`): the largest of
        :math:`\max_i (m_i - T_i)^+`, :math:`\max_{x_i > 0} |m_i - T_i|` and :math:`\max_i (-x_i)^+` (at most
        ``tol`` when converged; untouched nodes have :math:`x_i = 0` and :math:`m_i = 0 \le T_i`).
    total_mass : float
        :math:`\lVert\Delta\rVert_1`.
    pushed_sink : float
        The sum of the sinks of the pushed nodes (at most ``total_mass``: strong locality).
    num_nodes : int
        Number of nodes of the graph.
    labels_requested : int
        Labels asked from a lazy oracle.
    weighted_degree : numpy.ndarray of float64, shape (t,)
        Weighted (label-weighted) degree of the pushed nodes on ``nodes`` (zero for the others).
    solves, cg_iterations : int
        Support solves accepted and conjugate-gradient iterations spent (``accelerate=True``; their edge visits
        are counted in ``work``).

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> path = sp.diags([1.0, 1.0], [-1, 1], shape=(5, 5), format="csr")  # 0 - 1 - 2 - 3 - 4
    >>> res = flow_diffusion(path, 0, source_mass=4.0, tol=1e-9, max_passes=10**4)
    >>> res.status, res.cluster, res.dense_x().round(3)
    ('converged', array([0, 1]), array([4., 1., 0., 0., 0.]))
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
    residual: float = 0.0
    solves: int = 0
    cg_iterations: int = 0

    @property
    def converged(self) -> bool:
        """Whether ``status == "converged"``."""
        return self.status == "converged"

    def dense_x(self) -> np.ndarray:
        """:math:`x` as a dense vector of length ``num_nodes``."""
        out = np.zeros(self.num_nodes)
        out[self.nodes] = self.x
        return out

    def dense_mass(self) -> np.ndarray:
        """The node mass as a dense vector of length ``num_nodes``."""
        out = np.zeros(self.num_nodes)
        out[self.nodes] = self.mass
        return out


def kkt_residual(x: np.ndarray, mass: np.ndarray, sink: np.ndarray) -> float:
    r"""Largest violation of the optimality conditions of the flow-diffusion dual.

    :math:`m_i \le T_i` (primal feasibility), :math:`x_i \ge 0`, and :math:`x_i > 0 \Rightarrow m_i = T_i`
    (complementarity).

    Parameters
    ----------
    x, mass, sink : numpy.ndarray of float64, shape (t,)
        The dual embedding, the node masses :math:`m = \Delta - L_w x` and the sinks :math:`T` on the same nodes.

    Returns
    -------
    float
        0.0 for an empty input.
    """
    if x.size == 0:
        return 0.0
    gap = mass - sink
    worst = np.maximum(gap, 0.0)
    worst = np.where(x > 0, np.abs(gap), worst)
    return float(max(worst.max(), float(np.maximum(-x, 0.0).max())))


def check_sink(sink, n: int) -> tuple[np.ndarray, bool]:
    if sink is None:
        return np.empty(0, dtype=np.float64), False
    if isinstance(sink, torch.Tensor):
        sink = sink.detach().cpu().numpy()
    arr = np.asarray(sink)
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)) or arr.dtype == np.bool_:
        raise ValueError(f"`sink` must be a number or an array of numbers, got dtype {arr.dtype}")
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise ValueError(f"`sink` must be a scalar or have one entry per node ({n}), got shape {arr.shape}")
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        bad = int(np.flatnonzero(~np.isfinite(arr) | (arr < 0))[0])
        raise ValueError(f"`sink` must hold finite non-negative capacities; node {bad} has {arr[bad]!r}")
    return arr, True


def check_source_mass(source_mass, num_seeds: int) -> np.ndarray:
    if isinstance(source_mass, torch.Tensor):
        source_mass = source_mass.detach().cpu().numpy()
    mass = np.asarray(source_mass)
    if not (np.issubdtype(mass.dtype, np.floating) or np.issubdtype(mass.dtype, np.integer)) or mass.dtype == bool:
        raise ValueError(f"`source_mass` must be a number or one number per seed node, got dtype {mass.dtype}")
    mass = mass.astype(np.float64)
    if mass.ndim == 0:
        mass = np.full(num_seeds, float(mass))
    if mass.shape != (num_seeds,):
        raise ValueError(
            f"`source_mass` must be a scalar or have one entry per seed node ({num_seeds}), got shape {mass.shape}"
        )
    if not np.all(np.isfinite(mass)) or np.any(mass < 0):
        raise ValueError(f"`source_mass` must be finite and non-negative, got {mass.tolist()[:5]}")
    return mass


@renamed_arguments(seeds="seed_nodes")
def flow_diffusion(
    graph,
    seed_nodes,
    source_mass,
    sink=None,
    weights=None,
    *,
    labels=None,
    eps: float | None = None,
    scheme: str = "agree",
    force_seed_label: bool = True,
    tol: float = 1e-4,
    max_passes: int = DEFAULT_MAX_PASSES,
    seed: int = 0,
    accelerate: bool = True,
) -> FlowDiffusionResult:
    r"""Solve l2 flow diffusion from ``seed_nodes`` by the randomised coordinate push (strongly local).

    Parameters
    ----------
    graph : LocalGraph, torch_geometric.data.Data, scipy sparse matrix or tuple
        Anything :func:`~graphdiff.cluster.as_local_graph` accepts; pass a :class:`~graphdiff.cluster.LocalGraph`
        to reuse it across calls.
    seed_nodes : int or array-like of int
        A node id or a list of distinct node ids.
    source_mass : float or array-like of float, shape (k,)
        :math:`\Delta` on the seed nodes: a scalar (the same on every seed node) or one value per seed node,
        non-negative.
    sink : float or array-like of float, shape (num_nodes,), optional
        Capacities :math:`T`: ``None`` for the unweighted degree (also when the graph is weighted), a scalar (the
        same on every node) or one value per node.
    weights : array-like of float, shape (num_edges,), optional
        Non-negative edge weights aligned with the CSR ``indices``, replacing the graph's own (this builds and
        validates a new graph, so prefer a weighted :class:`~graphdiff.cluster.LocalGraph` for repeated calls).
    labels : array-like of shape (num_nodes,) or lazy oracle, optional
        Noisy binary labels (``bool`` or 0/1), or an oracle such as :class:`~graphdiff.cluster.LogisticLabelOracle`
        that predicts only the nodes the diffusion touches. Edges are weighted by the label scheme as they are read
        (times the graph's own weights, if any); an ``int8`` array is used without copying and checked only where
        it is read.
    eps : float, optional
        Weight :math:`\varepsilon \in [0, 1]` of the edges the scheme does not favour; required with ``labels``.
    scheme : {"agree", "both_one"}
        The label scheme (see :func:`~graphdiff.cluster.label_weighted_graph`).
    force_seed_label : bool
        Treat the seed nodes as labelled 1 (they are known to lie in the target).
    tol : float
        Maximum excess :math:`m_i - T_i` left at termination (non-negative): the stopping rule.
    max_passes : int
        Cap on the number of passes (a safety net, default 20,000); reaching it gives ``status="max_passes"``.
    seed : int
        Random seed of the pass permutations.
    accelerate : bool
        Interleave support solves with the passes (beyond the paper; see the module docstring): the same problem,
        tolerance and stopping rule, reached in far fewer passes near infeasibility. ``False`` runs the paper's
        push alone.

    Returns
    -------
    FlowDiffusionResult
        The sparse solution on the touched nodes, the cluster (the support of :math:`x`) and the cost counters.
        Infeasibility (e.g. at ``eps=0`` when the seed's label-1 component cannot absorb the mass) and the pass
        cap are reported in ``status``, not raised.

    Examples
    --------
    >>> import graphdiff.cluster as gc
    >>> from graphdiff.data.synthetic import planted_partition
    >>> data = planted_partition(400, 40, 10.0, 2.0, 5.0, seed=0)
    >>> g = gc.as_local_graph(data)
    >>> target = data.target.numpy()
    >>> vol_k = g.degree[target].sum()
    >>> res = gc.flow_diffusion(g, target[0], source_mass=2.0 * vol_k)
    >>> res.status, res.touched_nodes < g.num_nodes
    ('converged', True)
    >>> labels = gc.flip_labels(data.y.bool(), a0=0.9, a1=0.9, seed=0)
    >>> noisy = gc.flow_diffusion(g, target[0], 2.0 * vol_k, labels=labels, eps=0.05, max_passes=1000)
    >>> [round(gc.precision_recall_f1(r.cluster, target)[2], 2) for r in (res, noisy)]
    [0.67, 0.73]
    """
    g = as_local_graph(graph, weights)
    n = g.num_nodes
    seeds_arr = check_seed_nodes(seed_nodes, n)
    mass = check_source_mass(source_mass, seeds_arr.size)
    tol = check_float(tol, "tol", minimum=0.0)
    max_passes = check_int(max_passes, "max_passes", minimum=1)
    seed = check_seed(seed)
    force_seed_label = check_bool(force_seed_label, "force_seed_label")
    accelerate = check_bool(accelerate, "accelerate")
    scheme_code = check_scheme(scheme)
    label_arr, oracle = prepare_labels(labels, n, check="read")
    use_labels = labels is not None
    if use_labels:
        if eps is None:
            raise ValueError("`eps` is required with `labels` (the weight of edges the label scheme disfavours)")
        eps = check_eps(eps)
    elif eps is not None:
        raise ValueError("`eps` was given without `labels`")
    sink_arr, has_sink = check_sink(sink, n)

    ws = g.workspace()
    if ws.busy:  # re-entrant use (e.g. from another thread): fall back to a private workspace
        ws = PushWorkspace(n)
    ws.busy = True
    state_record = np.zeros(1, dtype=_STATE)
    state = state_record[0]
    state["rng"] = (seed * 0x2545F4914F6CDD1D + 1) % (1 << 64)
    state["next_solve"] = _FIRST_SOLVE
    state["solve_budget"] = _FIRST_SOLVE
    clean = False
    pending = None
    try:
        requested = 0
        ew = g.weights_or_empty
        while True:
            _push_kernel(
                g.indptr, g.indices, ew, g.weights is not None, label_arr, use_labels, oracle is not None,
                eps if use_labels else 1.0, scheme_code, force_seed_label,
                sink_arr, has_sink, seeds_arr, mass, tol, max_passes, accelerate,
                ws.loc, ws.gid, ws.x, ws.m, ws.sink, ws.wdeg, ws.lab, ws.flags, ws.astart, ws.alen, ws.order,
                ws.nbr, ws.w, ws.need, state_record,
            )  # fmt: skip
            code = int(state["status"])
            if code == _GROW:
                ws.grow(int(state["grow_nodes"]), int(state["grow_edges"]))
                state["status"] = _RUNNING
                continue
            if code == _NEED_LABELS:
                nodes = ws.need[: state["num_requested"]].copy()
                pending = nodes
                if nodes.size == 0:
                    raise ValueError("the `labels` oracle cache holds unfinished requests (-2 entries)")
                oracle.fill(nodes)
                filled = label_arr[nodes]
                if not np.all((filled == 0) | (filled == 1)):
                    raise ValueError("the `labels` oracle did not fill binary labels for the requested nodes")
                requested += nodes.size
                pending = None
                state["status"] = _RUNNING
                continue
            if code == _BAD_LABEL:
                bad = int(state["bad_label_node"])
                raise ValueError(f"`labels` must be binary (0/1 or bool): node {bad} has label {int(label_arr[bad])}")
            break
        ns = int(state["num_touched"])
        nodes = ws.gid[:ns].copy()
        x = ws.x[:ns].copy()
        m = ws.m[:ns].copy()
        flags = ws.flags[:ns].copy()
        wdeg = ws.wdeg[:ns].copy()
        ws.reset(ns)
        clean = True
    finally:
        if not clean:  # an error (e.g. raised by a label oracle): leave the workspace as clean as it was
            ws.reset(int(state["num_touched"]))
            if pending is not None:  # un-mark the labels requested from the oracle
                sub = label_arr[pending]
                label_arr[pending] = np.where(sub == LABEL_REQUESTED, LABEL_UNKNOWN, sub)
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
            stacklevel=3,
        )
    return FlowDiffusionResult(
        nodes=nodes,
        x=x,
        mass=m,
        sink=t,
        cluster=np.sort(nodes[in_cluster]),
        status=status,
        passes=int(state["passes"]),
        num_pushes=int(state["num_pushes"]),
        touched_nodes=ns,
        touched_edges=int(state["explored_edges"]),
        work=int(state["edge_visits"]),
        max_excess=max_excess,
        total_mass=float(state["total_mass"]),
        pushed_sink=float(state["pushed_sink"]),
        num_nodes=n,
        labels_requested=requested,
        weighted_degree=wdeg,
        residual=kkt_residual(x, m, t),
        solves=int(state["solves"]),
        cg_iterations=int(state["cg_iterations"]),
    )
