r"""Flow diffusion for many seed nodes at once, vectorised in torch (the accelerator path of
:func:`~graphdiff.cluster.batch_local_cluster`).

Solves the dual problem of Section 2 of Back de Luca, Fountoulakis & Yang, *Local Graph Clustering with Noisy
Labels* (ICLR 2024, https://arxiv.org/abs/2310.08031) -- the one :func:`~graphdiff.cluster.flow_diffusion` solves by
the push -- for each column :math:`b` (one seed node and one source mass each) by accelerated projected gradient in
the :math:`D_w` metric,

.. math:: x \leftarrow \max\!\big(0,\; y - \tfrac12 D_w^{-1}(L_w y + T - \Delta)\big)

with Nesterov momentum and adaptive restart (O'Donoghue & Candes, 2015; step 1/2 because the spectrum of
:math:`D_w^{-1} L_w` lies in :math:`[0, 2]`). This is not strongly local -- every iteration is a sparse-dense product
with the whole graph -- but it solves all columns in parallel on an accelerator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from graphdiff.cluster._graph import as_local_graph, check_seed_nodes
from graphdiff.cluster._legacy import renamed_arguments
from graphdiff.cluster.flow_diffusion import check_sink, check_source_mass
from graphdiff.cluster.labels import check_eps, check_scheme, label_edge_weights, prepare_labels
from graphdiff.data.validation import check_device, check_float, check_int

__all__ = ["batched_flow_diffusion", "BatchedFlowDiffusionResult"]


@dataclass(frozen=True)
class BatchedFlowDiffusionResult:
    """Output of :func:`batched_flow_diffusion`; unpacks as ``x, mass, converged = result`` (the pre-0.2 tuple).

    Parameters
    ----------
    x : torch.Tensor, shape (num_nodes, B)
        The dual embedding of each column, on the solver's device.
    mass : torch.Tensor, shape (num_nodes, B)
        The node masses :math:`m = \\Delta - L_w x`.
    converged : torch.Tensor of bool, shape (B,)
        Whether each column met ``tol`` at the last check.
    iterations : int
        Iterations run.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> path = sp.diags([1.0, 1.0], [-1, 1], shape=(5, 5), format="csr")  # 0 - 1 - 2 - 3 - 4
    >>> x, mass, converged = batched_flow_diffusion(path, [0, 4], 4.0, tol=1e-8)
    >>> x[:, 0].round(decimals=3), converged
    (tensor([4., 1., 0., 0., 0.], dtype=torch.float64), tensor([True, True]))
    """

    x: torch.Tensor
    mass: torch.Tensor
    converged: torch.Tensor
    iterations: int

    def __iter__(self):
        return iter((self.x, self.mass, self.converged))

    def clusters(self) -> list[np.ndarray]:
        """The support of each column, as sorted ``int64`` node ids (on CPU)."""
        support = (self.x > 0).cpu()
        return [torch.nonzero(support[:, b]).flatten().numpy() for b in range(support.size(1))]


@renamed_arguments(seeds="seed_nodes")
def batched_flow_diffusion(
    graph,
    seed_nodes,
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
) -> BatchedFlowDiffusionResult:
    r"""Flow diffusion for many columns (seed node, source mass) at once, vectorised in torch (runs on CUDA).

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
    seed_nodes : array-like of int, shape (B,)
        The seed node of each column (repetitions allowed: e.g. one seed node with several masses).
    source_mass : float or array-like of float, shape (B,)
        :math:`\Delta` of each column (non-negative).
    sink : float or array-like of float, shape (num_nodes,), optional
        Capacities :math:`T` (default: the unweighted degree).
    labels : array-like of shape (num_nodes,) or lazy oracle, optional
        Noisy binary labels; the weights are those of :func:`~graphdiff.cluster.label_weighted_graph` with
        **every** seed node of the batch labelled 1 (an oracle predicts every node).
    eps : float, optional
        In ``[0, 1]``; required with ``labels``.
    scheme : {"agree", "both_one"}
    tol : float
        Largest KKT violation accepted (non-negative).
    max_iters : int
        Iteration cap (positive).
    check_every : int
        Check convergence every ``check_every`` iterations (positive).
    device : str or torch.device
        Where to solve (checked by :func:`~graphdiff.data.validation.check_device`).
    dtype : torch.dtype
        A floating dtype (``torch.float64`` by default; ``torch.float32`` is faster on GPUs, less accurate).

    Returns
    -------
    BatchedFlowDiffusionResult
        ``(x, mass, converged)`` tensors on ``device`` and the iteration count.
    """
    g = as_local_graph(graph)
    n = g.num_nodes
    seeds_arr = check_seed_nodes(seed_nodes, n, allow_duplicates=True)
    mass = check_source_mass(source_mass, seeds_arr.size)
    tol = check_float(tol, "tol", minimum=0.0)
    max_iters = check_int(max_iters, "max_iters", minimum=1)
    check_every = check_int(check_every, "check_every", minimum=1)
    device = check_device(device)
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"`dtype` must be a floating torch dtype (torch.float64 or torch.float32), got {dtype!r}")
    check_scheme(scheme)
    sink_arr, has_sink = check_sink(sink, n)
    w = g.weights_or_empty if g.weights is not None else None
    if labels is not None:
        if eps is None:
            raise ValueError("`eps` is required with `labels`")
        eps = check_eps(eps)
        lab, oracle = prepare_labels(labels, n)
        lab = (oracle.predict_all() if oracle is not None else lab).astype(bool).copy()
        lab[seeds_arr] = True
        row = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
        w = label_edge_weights(row, g.indices, lab, eps, scheme, w)
    elif eps is not None:
        raise ValueError("`eps` was given without `labels`")
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
    t = torch.from_numpy(sink_arr if has_sink else g.degree).to(device=device, dtype=dtype)
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
    iterations = 0
    for it in range(max_iters):
        iterations = it + 1
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
    return BatchedFlowDiffusionResult(x, masses(x), converged, iterations)
