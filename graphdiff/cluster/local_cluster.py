r"""One-seed and many-seed local clustering with noisy labels, with the paper's parameter selection.

Sections 2 and 4 of Back de Luca, Fountoulakis & Yang, *Local Graph Clustering with Noisy Labels* (ICLR 2024,
https://arxiv.org/abs/2310.08031), with the real-data protocol of Weighted Flow Diffusion (Yang & Fountoulakis, ICML
2023): the source mass is a multiple of the target volume, :math:`\Delta_s = \alpha\,\mathrm{vol}(K)`, and for each
seed the :math:`\alpha` of the grid :math:`\{1.5, 1.75, \dots, 5\}` whose output has the **lowest conductance** is
kept -- conductance on :math:`G` for flow diffusion on :math:`G`, on :math:`G_w` for the weighted variant.

Methods (names as in ``shared/CONVENTIONS.md``):

* ``"weighted_flow_diffusion"``: flow diffusion on the label-weighted graph (labels weighted on the fly);
* ``"flow_diffusion"``: flow diffusion on the original graph;
* ``"labels_only"``: the nodes labelled 1 (a global read-out, not local);
* ``"acl_pagerank"`` / ``"weighted_acl_pagerank"``: ACL push + sweep cut on :math:`G` / :math:`G_w`, with
  :math:`(\alpha, \rho)` chosen from a grid by the lowest (weighted) conductance of the sweep.

:func:`local_cluster` handles one seed; :func:`batch_local_cluster` many (a progress bar unless
``verbose=False``); on a CUDA device the flow-diffusion methods use :func:`batched_flow_diffusion`, a vectorised
accelerated projected-gradient solver of the same dual problem for all seeds and all :math:`\alpha` at once.
:class:`LocalClustering` is the estimator form.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from graphdiff.cluster._graph import as_local_graph, check_seeds
from graphdiff.cluster.flow_diffusion import SCHEMES, _prepare_labels, flow_diffusion
from graphdiff.cluster.metrics import conductance, label_weighted_volume
from graphdiff.cluster.pagerank import _sweep_kernel, acl_pagerank, weighted_acl_pagerank
from graphdiff.cluster.weights import label_edge_weights

__all__ = [
    "METHODS",
    "DEFAULT_ALPHAS",
    "LocalClusterResult",
    "local_cluster",
    "batch_local_cluster",
    "batched_flow_diffusion",
    "LocalClustering",
]

METHODS = ("weighted_flow_diffusion", "flow_diffusion", "labels_only", "acl_pagerank", "weighted_acl_pagerank")
DEFAULT_ALPHAS = tuple(float(a) for a in np.linspace(1.5, 5.0, 15))
DEFAULT_PR_ALPHAS = (0.1, 0.05, 0.01)
DEFAULT_RHOS = (1e-3, 1e-4, 1e-5)
_LABEL_METHODS = ("weighted_flow_diffusion", "labels_only", "weighted_acl_pagerank")


@dataclass
class LocalClusterResult:
    """The selected cluster of one seed.

    ``param`` is the selected :math:`\\alpha` (flow diffusion) or ``(alpha, rho)`` (PageRank); ``candidates`` lists
    ``(param, conductance, cluster size, status)`` over the grid; ``touched_nodes`` and ``work`` are summed over it.
    """

    seed: int
    method: str
    cluster: np.ndarray
    param: Any
    conductance: float
    candidates: list = field(default_factory=list)
    status: str = "converged"
    touched_nodes: int = 0
    work: int = 0


def _validate_common(method, alphas, eps, scheme, readout, tol, max_passes, pagerank_alphas, rhos):
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}, got {method!r}")
    alphas = tuple(float(a) for a in np.atleast_1d(np.asarray(alphas, dtype=np.float64)))
    if not alphas or not all(math.isfinite(a) and a > 0 for a in alphas):
        raise ValueError(f"`alphas` must be a non-empty list of positive numbers, got {alphas}")
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not (0 <= eps <= 1):
        raise ValueError(f"`eps` must lie in [0, 1], got {eps!r}")
    if scheme not in SCHEMES:
        raise ValueError(f"`scheme` must be one of {sorted(SCHEMES)}, got {scheme!r}")
    if readout not in ("support", "sweep"):
        raise ValueError(f"`readout` must be 'support' or 'sweep', got {readout!r}")
    if not (isinstance(tol, (int, float)) and tol >= 0):
        raise ValueError(f"`tol` must be non-negative, got {tol!r}")
    if not isinstance(max_passes, (int, np.integer)) or max_passes < 1:
        raise ValueError(f"`max_passes` must be a positive integer, got {max_passes!r}")
    for a in pagerank_alphas:
        if not 0 < a < 1:
            raise ValueError(f"`pagerank_alphas` must lie in (0, 1), got {a}")
    for r in rhos:
        if not r > 0:
            raise ValueError(f"`rhos` must be positive, got {r}")
    return alphas


def _sweep_of_x(g, res, labels_arr, use_labels, eps, scheme, seed, total_volume):
    pos = res.x > 0
    cand = res.nodes[pos]
    if cand.size == 0:
        return res.cluster, 1.0
    deg = res.weighted_degree[pos] if use_labels or g.weights is not None else g.degree[cand]
    order = np.lexsort((cand, -res.x[pos]))
    ws = g.acl_workspace()
    k, phi = _sweep_kernel(
        g.indptr,
        g.indices,
        g.weights_or_empty,
        g.weights is not None,
        labels_arr,
        use_labels,
        float(eps),
        SCHEMES[scheme],
        int(seed),
        cand[order],
        deg[order],
        float(total_volume if total_volume is not None else -1.0),
        ws.rank,
    )
    return np.sort(cand[order][:k]), float(phi)


def local_cluster(
    graph,
    seed,
    *,
    method: str = "weighted_flow_diffusion",
    labels=None,
    eps: float = 0.05,
    scheme: str = "agree",
    target_volume: float | None = None,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    readout: str = "support",
    tol: float = 1e-4,
    max_passes: int = 50,
    pagerank_alphas: Sequence[float] = DEFAULT_PR_ALPHAS,
    rhos: Sequence[float] = DEFAULT_RHOS,
    total_volume: float | None = None,
    rng_seed: int = 0,
) -> LocalClusterResult:
    r"""Local cluster of one ``seed`` by ``method``, with the parameter of lowest conductance.

    Parameters
    ----------
    graph: anything :func:`~graphdiff.cluster.as_local_graph` accepts; pass a ``LocalGraph`` to reuse it.
    seed: the seed node (known to lie in the target; counted as labelled 1).
    method: one of :data:`METHODS`.
    labels: noisy binary labels (array or lazy oracle); required by the label methods.
    eps, scheme: the label weighting (see :func:`~graphdiff.cluster.label_weighted_graph`).
    target_volume: :math:`\mathrm{vol}(K)`; the source mass is :math:`\alpha\,\mathrm{vol}(K)` (flow diffusion).
    alphas: the grid of source-mass multiples (default 1.5, 1.75, ..., 5).
    readout: ``"support"`` (the paper's :math:`\mathrm{supp}(x)`) or ``"sweep"`` (sweep cut on :math:`x`).
    tol, max_passes: push tolerance and pass cap (WFD's real-data settings are 1e-4 and 50).
    pagerank_alphas, rhos: the PageRank grid.
    total_volume: volume of the (weighted) graph for conductance; computed when ``None`` (for label weights from an
        oracle the cluster's own volume is used as the denominator).
    rng_seed: seed of the push order.
    """
    alphas = _validate_common(method, alphas, eps, scheme, readout, tol, max_passes, pagerank_alphas, rhos)
    g = as_local_graph(graph)
    s = int(check_seeds(seed, g.num_nodes, name="seed")[0])
    use_labels = method in _LABEL_METHODS
    if use_labels and labels is None:
        raise ValueError(f"method {method!r} needs `labels`")
    lab, oracle = _prepare_labels(labels, g.num_nodes) if use_labels else (np.empty(0, np.int8), None)
    if use_labels and total_volume is None and oracle is None and method != "labels_only":
        total_volume = label_weighted_volume(g, lab, eps, scheme, seeds=[s])
    if method == "labels_only":
        full = oracle.predict_all() if oracle is not None else lab
        cluster = np.union1d(np.flatnonzero(full == 1), [s]).astype(np.int64)
        phi = conductance(g, cluster)
        return LocalClusterResult(s, method, cluster, None, phi, status="global", touched_nodes=g.num_nodes)
    if method in ("acl_pagerank", "weighted_acl_pagerank"):
        best, cands, touched, work = None, [], 0, 0
        for a in pagerank_alphas:
            for r in rhos:
                if method == "acl_pagerank":
                    res = acl_pagerank(g, s, a, r, total_volume=total_volume)
                else:
                    res = weighted_acl_pagerank(g, s, lab, eps, scheme, a, r, total_volume=total_volume)
                cands.append(((a, r), res.conductance, int(res.cluster.size), "converged"))
                touched += res.touched_nodes
                work += res.work
                if best is None or res.conductance < best[1]:
                    best = ((a, r), res.conductance, res.cluster)
        return LocalClusterResult(s, method, best[2], best[0], best[1], cands, "converged", touched, work)
    # flow diffusion
    if target_volume is None:
        raise ValueError("`target_volume` (vol(K), the scale of the source mass) is required for flow diffusion")
    if not (isinstance(target_volume, (int, float, np.floating, np.integer)) and target_volume > 0):
        raise ValueError(f"`target_volume` must be positive, got {target_volume!r}")
    best, cands, touched, work = None, [], 0, 0
    for a in alphas:
        kw = dict(labels=labels, eps=float(eps), scheme=scheme) if use_labels else {}
        res = flow_diffusion(g, s, a * float(target_volume), tol=tol, max_passes=max_passes, seed=rng_seed, **kw)
        touched += res.touched_nodes
        work += res.work
        if readout == "sweep":
            tv = total_volume if use_labels else (g.weighted_volume if g.weights is not None else g.volume)
            cluster, phi = _sweep_of_x(g, res, lab, use_labels, eps, scheme, s, tv)
        else:
            cluster = res.cluster
            if use_labels:
                phi = conductance(
                    g, cluster, labels=labels, eps=eps, scheme=scheme, seeds=[s], total_volume=total_volume
                )
            else:
                phi = conductance(g, cluster, total_volume=total_volume)
        cands.append((a, phi, int(cluster.size), res.status))
        if best is None or phi < best[1]:
            best = (a, phi, cluster, res.status)
    return LocalClusterResult(s, method, best[2], best[0], best[1], cands, best[3], touched, work)


# ---------------------------------------------------------------------------------------------------- batched
def batched_flow_diffusion(
    graph,
    seeds,
    source_mass,
    *,
    sink=None,
    labels=None,
    eps: float | None = None,
    scheme: str = "agree",
    tol: float = 1e-4,
    max_iters: int = 20000,
    check_every: int = 25,
    device: str | torch.device = "cpu",
    dtype: torch.dtype = torch.float64,
):
    r"""Flow diffusion for many seeds at once, vectorised in torch (runs on CUDA).

    Solves the same dual problem as :func:`~graphdiff.cluster.flow_diffusion` for each column :math:`b` (one seed
    and one source mass each) by accelerated projected gradient in the :math:`D_w` metric,

    .. math:: x \leftarrow \max\!\big(0,\; y - \tfrac12 D_w^{-1}(L_w y + T - \Delta)\big)

    with Nesterov momentum and adaptive restart (step 1/2 because the spectrum of :math:`D_w^{-1} L_w` lies in
    :math:`[0, 2]`). This is not strongly local -- every iteration is a sparse-dense product with the whole graph --
    but it solves all columns in parallel on an accelerator. With ``labels`` the weights are those of
    :func:`label_weighted_graph` with **every** seed of the batch labelled 1.

    Returns ``(x, mass, converged)``: ``(n, B)`` tensors on ``device`` and a boolean tensor of length ``B``.
    """
    g = as_local_graph(graph)
    n = g.num_nodes
    seeds_arr = check_seeds(seeds, n) if np.ndim(seeds) == 0 else np.asarray(seeds, dtype=np.int64)
    if seeds_arr.size == 0 or seeds_arr.min() < 0 or seeds_arr.max() >= n:
        raise ValueError(f"`seeds` must be node ids in [0, {n})")
    mass = np.broadcast_to(np.asarray(source_mass, dtype=np.float64), seeds_arr.shape).copy()
    if not np.all(np.isfinite(mass)) or np.any(mass < 0):
        raise ValueError("`source_mass` must be finite and non-negative")
    device = torch.device(device)
    w = g.weights_or_empty if g.weights is not None else None
    if labels is not None:
        if eps is None:
            raise ValueError("`eps` is required with `labels`")
        lab, oracle = _prepare_labels(labels, n)
        lab = (oracle.predict_all() if oracle is not None else lab).astype(bool).copy()
        lab[seeds_arr] = True
        row = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
        w = label_edge_weights(row, g.indices, lab, eps, scheme, w)
    vals = torch.from_numpy(np.ones(g.num_edges) if w is None else np.asarray(w, dtype=np.float64))
    row = torch.from_numpy(np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr)))
    col = torch.from_numpy(g.indices.astype(np.int64))
    adj = torch.sparse_coo_tensor(
        torch.stack([row, col]), vals.to(dtype), size=(n, n), is_coalesced=True, check_invariants=False
    ).to(device)
    wdeg = torch.from_numpy(
        np.diff(g.indptr).astype(np.float64)
        if w is None
        else np.add.reduceat(np.append(w, 0.0), g.indptr[:-1]) * (np.diff(g.indptr) > 0)
    )
    wdeg = wdeg.to(device=device, dtype=dtype)
    if sink is None:
        t = torch.from_numpy(g.degree).to(device=device, dtype=dtype)
    else:
        t = torch.as_tensor(
            np.broadcast_to(np.asarray(sink, dtype=np.float64), (n,)).copy(), dtype=dtype, device=device
        )
    b = seeds_arr.size
    delta = torch.zeros(n, b, dtype=dtype, device=device)
    delta[torch.from_numpy(seeds_arr).to(device), torch.arange(b, device=device)] = torch.from_numpy(mass).to(
        device=device, dtype=dtype
    )
    inv = torch.where(wdeg > 0, 0.5 / wdeg.clamp_min(1e-300), torch.zeros_like(wdeg)).unsqueeze(1)
    tcol = t.unsqueeze(1)

    def masses(z):
        return delta - (wdeg.unsqueeze(1) * z - adj @ z)

    x = torch.zeros(n, b, dtype=dtype, device=device)
    y = x.clone()
    k = 1.0
    converged = torch.zeros(b, dtype=torch.bool, device=device)
    for it in range(max_iters):
        my = masses(y)
        x_new = torch.clamp(y + inv * (my - tcol), min=0.0)
        # adaptive restart (O'Donoghue & Candes) when the momentum points uphill
        if torch.sum((y - x_new) * (x_new - x)) > 0:
            k = 1.0
            y = x_new
        else:
            k_next = 0.5 * (1 + math.sqrt(1 + 4 * k * k))
            y = x_new + ((k - 1) / k_next) * (x_new - x)
            k = k_next
        x = x_new
        if (it + 1) % check_every == 0:
            m = masses(x)
            excess = m - tcol
            viol = torch.where(x > 0, excess.abs(), excess.clamp_min(0.0))
            viol = torch.where((wdeg > 0).unsqueeze(1), viol, torch.zeros_like(viol))
            converged = viol.amax(dim=0) <= tol
            if bool(converged.all()):
                break
    return x, masses(x), converged


def batch_local_cluster(
    graph,
    seeds,
    *,
    method: str = "weighted_flow_diffusion",
    labels=None,
    eps: float = 0.05,
    scheme: str = "agree",
    target_volume: float | None = None,
    alphas: Sequence[float] = DEFAULT_ALPHAS,
    readout: str = "support",
    tol: float = 1e-4,
    max_passes: int = 50,
    pagerank_alphas: Sequence[float] = DEFAULT_PR_ALPHAS,
    rhos: Sequence[float] = DEFAULT_RHOS,
    device: str | torch.device = "cpu",
    verbose: bool = True,
    rng_seed: int = 0,
) -> list[LocalClusterResult]:
    """:func:`local_cluster` for many seeds (one result each, in order).

    On CPU each seed runs the strongly local push. On another device (CUDA) the two flow-diffusion methods solve
    all seeds and all :math:`\\alpha` of the grid at once with :func:`batched_flow_diffusion` (cluster =
    support, conductance computed locally on CPU); the other methods run on CPU.
    """
    alphas = _validate_common(method, alphas, eps, scheme, readout, tol, max_passes, pagerank_alphas, rhos)
    g = as_local_graph(graph)
    seeds_arr = check_seeds(seeds, g.num_nodes)
    use_labels = method in _LABEL_METHODS
    if use_labels and labels is None:
        raise ValueError(f"method {method!r} needs `labels`")
    total_volume = None
    if use_labels and method != "labels_only":
        lab, oracle = _prepare_labels(labels, g.num_nodes)
        if oracle is None:
            total_volume = label_weighted_volume(g, lab, eps, scheme)
    device = torch.device(device)
    if device.type != "cpu" and method in ("flow_diffusion", "weighted_flow_diffusion"):
        return _batch_on_device(
            g, seeds_arr, method, labels, eps, scheme, target_volume, alphas, tol, device, verbose, total_volume
        )
    out = []
    for s in tqdm(seeds_arr, desc=f"local clustering ({method})", disable=not verbose):
        out.append(
            local_cluster(
                g,
                int(s),
                method=method,
                labels=labels,
                eps=eps,
                scheme=scheme,
                target_volume=target_volume,
                alphas=alphas,
                readout=readout,
                tol=tol,
                max_passes=max_passes,
                pagerank_alphas=pagerank_alphas,
                rhos=rhos,
                total_volume=total_volume,
                rng_seed=rng_seed,
            )
        )
    return out


def _batch_on_device(
    g, seeds_arr, method, labels, eps, scheme, target_volume, alphas, tol, device, verbose, total_volume
):
    if target_volume is None or not target_volume > 0:
        raise ValueError("`target_volume` (vol(K)) is required and must be positive for flow diffusion")
    use_labels = method == "weighted_flow_diffusion"
    cols_seed = np.repeat(seeds_arr, len(alphas))
    cols_mass = np.tile(np.asarray(alphas) * float(target_volume), seeds_arr.size)
    x, _, conv = batched_flow_diffusion(
        g,
        cols_seed,
        cols_mass,
        labels=labels if use_labels else None,
        eps=eps if use_labels else None,
        scheme=scheme,
        tol=tol,
        device=device,
    )
    support = (x > 0).cpu()
    conv = conv.cpu().numpy()
    out = []
    for i in tqdm(range(seeds_arr.size), desc=f"local clustering ({method}, {device})", disable=not verbose):
        s = int(seeds_arr[i])
        best, cands = None, []
        for j, a in enumerate(alphas):
            col = i * len(alphas) + j
            cluster = torch.nonzero(support[:, col]).flatten().numpy()
            if use_labels:
                phi = conductance(
                    g, cluster, labels=labels, eps=eps, scheme=scheme, seeds=[s], total_volume=total_volume
                )
            else:
                phi = conductance(g, cluster)
            status = "converged" if conv[col] else "max_iters"
            cands.append((a, phi, int(cluster.size), status))
            if best is None or phi < best[1]:
                best = (a, phi, cluster, status)
        out.append(LocalClusterResult(s, method, best[2], best[0], best[1], cands, best[3], g.num_nodes, 0))
    return out


class LocalClustering:
    """Estimator form of :func:`batch_local_cluster`: parameters in ``__init__`` (validated there), data in
    :meth:`fit`.

    >>> est = LocalClustering(method="weighted_flow_diffusion", eps=0.05, verbose=False)
    >>> est.fit(graph, seeds, labels=noisy, target_volume=vol_k).clusters_   # doctest: +SKIP
    """

    def __init__(
        self,
        method: str = "weighted_flow_diffusion",
        *,
        eps: float = 0.05,
        scheme: str = "agree",
        alphas: Sequence[float] = DEFAULT_ALPHAS,
        readout: str = "support",
        tol: float = 1e-4,
        max_passes: int = 50,
        pagerank_alphas: Sequence[float] = DEFAULT_PR_ALPHAS,
        rhos: Sequence[float] = DEFAULT_RHOS,
        device: str = "cpu",
        verbose: bool = True,
        rng_seed: int = 0,
    ):
        _validate_common(method, alphas, eps, scheme, readout, tol, max_passes, pagerank_alphas, rhos)
        self.method, self.eps, self.scheme, self.alphas, self.readout = method, eps, scheme, tuple(alphas), readout
        self.tol, self.max_passes, self.pagerank_alphas, self.rhos = (
            tol,
            max_passes,
            tuple(pagerank_alphas),
            tuple(rhos),
        )
        self.device, self.verbose, self.rng_seed = device, verbose, rng_seed

    def get_params(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "method",
                "eps",
                "scheme",
                "alphas",
                "readout",
                "tol",
                "max_passes",
                "pagerank_alphas",
                "rhos",
                "device",
                "verbose",
                "rng_seed",
            )
        }

    def fit(self, graph, seeds, labels=None, target_volume: float | None = None) -> LocalClustering:
        self.results_ = batch_local_cluster(
            graph,
            seeds,
            method=self.method,
            labels=labels,
            eps=self.eps,
            scheme=self.scheme,
            target_volume=target_volume,
            alphas=self.alphas,
            readout=self.readout,
            tol=self.tol,
            max_passes=self.max_passes,
            pagerank_alphas=self.pagerank_alphas,
            rhos=self.rhos,
            device=self.device,
            verbose=self.verbose,
            rng_seed=self.rng_seed,
        )
        self.clusters_ = [r.cluster for r in self.results_]
        self.params_ = [r.param for r in self.results_]
        self.conductances_ = np.array([r.conductance for r in self.results_])
        return self

    def fit_predict(self, graph, seeds, labels=None, target_volume: float | None = None) -> list[np.ndarray]:
        return self.fit(graph, seeds, labels=labels, target_volume=target_volume).clusters_
