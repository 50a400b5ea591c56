"""The covariate-similarity graph of LLP-BP: k nearest neighbours with kernel weights.

Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 3 (the Gibbs distribution's similarity term)
and the reference code: every instance is joined to its ``k`` nearest neighbours (self excluded; cosine distance in
the reference), the directed lists are symmetrised into undirected, de-duplicated pairs ``i < j``, and each pair gets
the Matérn-1/2 weight

.. math:: s_{ij} = \\exp(-\\lVert x_i - x_j \\rVert_2 / \\ell), \\qquad \\ell = 1 \\text{ in the reference.}

Neighbour search is exact: scikit-learn's kd-tree on (for ``metric="cosine"``, row-normalised) features, which
returns the same neighbour sets as cosine distance because :math:`\\lVert u - v \\rVert^2 = 2 - 2\\cos(u, v)` for unit
vectors. ``method="blocked"`` computes the same exact top-k with blocked torch matrix products (GPU-friendly).
"""

from __future__ import annotations

import numpy as np
import torch

from graphdiff.data.validation import check_features

__all__ = ["knn_graph", "edge_weights"]

_METRICS = ("cosine", "euclidean")
_WEIGHTS = ("matern", "unit", "median_matern")


def _knn_blocked(x: torch.Tensor, k: int, block: int = 4096) -> torch.Tensor:
    n = x.size(0)
    sq = (x * x).sum(1)
    out = torch.empty(n, k, dtype=torch.long, device=x.device)
    for start in range(0, n, block):  # loop over row blocks, vectorised inside
        xb = x[start:start + block]
        d = sq[start:start + block, None] - 2.0 * xb @ x.T + sq[None, :]
        rows = torch.arange(xb.size(0), device=x.device)
        d[rows, rows + start] = float("inf")
        out[start:start + block] = torch.topk(d, k, dim=1, largest=False).indices
    return out


def edge_weights(x: torch.Tensor, edge_index: torch.Tensor, weighting: str = "matern",
                 length_scale: float = 1.0) -> torch.Tensor:
    """Kernel weights of undirected edges: Matérn-1/2 ``exp(-||x_i - x_j|| / length_scale)``, ``"unit"`` (all 1)
    or ``"median_matern"`` (length scale = median edge length)."""
    if weighting not in _WEIGHTS:
        raise ValueError(f"`weighting` must be one of {_WEIGHTS}, got {weighting!r}")
    if weighting == "unit":
        return torch.ones(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
    dist = (x[edge_index[0]].double() - x[edge_index[1]].double()).norm(dim=1)
    if weighting == "median_matern":
        med = float(dist.median()) if dist.numel() else 1.0
        length_scale = med if med > 0 else 1.0
    if not length_scale > 0:
        raise ValueError(f"`length_scale` must be positive, got {length_scale}")
    return torch.exp(-dist / length_scale)


def knn_graph(x, k: int = 5, *, metric: str = "cosine", weighting: str = "matern", length_scale: float = 1.0,
              method: str = "auto", device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Undirected kNN similarity graph.

    Parameters
    ----------
    x : (N, d) features.
    k : neighbours per instance (self excluded).
    metric : ``"cosine"`` (reference) or ``"euclidean"`` — which neighbours are chosen.
    weighting : ``"matern"`` (reference, Euclidean distance on ``x``), ``"unit"`` or ``"median_matern"``.
    method : ``"kdtree"`` (scikit-learn, CPU), ``"blocked"`` (torch matmul top-k, any device) or ``"auto"``
        (blocked on CUDA, kd-tree otherwise).

    Returns
    -------
    edge_index : LongTensor ``(2, E)`` with ``edge_index[0] < edge_index[1]``, sorted, no duplicates or self-loops.
    weight : float64 tensor ``(E,)`` in ``(0, 1]``.
    """
    x = check_features(x, name="X")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"`k` must be a positive integer, got {k!r}")
    n = x.size(0)
    if k >= n:
        raise ValueError(f"`k`={k} needs more than k instances, got {n}")
    if metric not in _METRICS:
        raise ValueError(f"`metric` must be one of {_METRICS}, got {metric!r}")
    if method not in ("auto", "kdtree", "blocked"):
        raise ValueError(f"`method` must be 'auto', 'kdtree' or 'blocked', got {method!r}")
    device = torch.device(device) if device is not None else x.device
    xs = x.to(device)
    if metric == "cosine":
        norms = xs.norm(dim=1, keepdim=True)
        if bool((norms == 0).any()):
            raise ValueError("`X` has an all-zero row; cosine similarity is undefined (use metric='euclidean')")
        xs = xs / norms
    if method == "auto":
        method = "blocked" if device.type == "cuda" else "kdtree"
    if method == "kdtree":
        from sklearn.neighbors import NearestNeighbors

        arr = xs.detach().cpu().numpy().astype(np.float64)
        nbrs = NearestNeighbors(n_neighbors=k, algorithm="kd_tree").fit(arr)
        nbr = torch.from_numpy(nbrs.kneighbors(return_distance=False)).long().to(device)
    else:
        nbr = _knn_blocked(xs.double() if device.type == "cpu" else xs, k)
    src = torch.arange(n, device=device).repeat_interleave(k)
    dst = nbr.reshape(-1)
    keep = src != dst
    lo = torch.minimum(src[keep], dst[keep])
    hi = torch.maximum(src[keep], dst[keep])
    key = torch.unique(lo * n + hi)  # sorted, de-duplicated undirected pairs
    edge_index = torch.stack([key // n, key % n])
    weight = edge_weights(x.to(device), edge_index, weighting, length_scale)
    return edge_index, weight
