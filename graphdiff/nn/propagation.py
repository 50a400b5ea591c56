"""Sparse normalised adjacency and label propagation, on CPU and CUDA tensors alike.

* :func:`normalized_adjacency` -- ``D^-1/2 A D^-1/2`` (``"sym"``), ``D^-1 A`` (``"row"``, rows sum to one: averaging
  over neighbours) and ``A D^-1`` (``"col"``, columns sum to one: mass-preserving). The ERASE reference code
  (https://github.com/eraseai/erase, ``utils.preprocess``) uses ``A D^-1`` although it calls it row normalisation.
* :func:`lazy_propagation` -- ``Y <- (1 - alpha) A Y + alpha Y`` for ``steps`` steps: the lazy walk with a residual
  to the current iterate that ERASE uses for structural denoising and semantic label propagation (Chen et al.,
  CIKM 2024, https://arxiv.org/abs/2312.08852, section 4.1; ``alpha`` weights the residual).
* :func:`personalized_propagation` -- ``Y <- alpha A Y + (1 - alpha) Y0``: personalised label propagation
  (Zhou et al., "Learning with Local and Global Consistency", NeurIPS 2003; PyG's ``LabelPropagation``;
  ``alpha`` weights the propagated term -- the opposite role of ERASE's dense code).

The adjacency is a coalesced ``torch.sparse_coo_tensor`` with ``A[i, j]`` the weight of edge ``(i, j)``
(``edge_index[0] = i``); for an undirected graph both directions are present. No dense ``N x N`` matrix is formed.
"""

from __future__ import annotations

import torch

from graphdiff.data.validation import (
    check_bool,
    check_choice,
    check_edge_index,
    check_edge_weight,
    check_int,
    check_mask,
    check_rate,
)

__all__ = ["normalized_adjacency", "lazy_propagation", "personalized_propagation"]


def normalized_adjacency(
    edge_index: torch.Tensor,
    num_nodes: int,
    norm: str = "sym",
    edge_weight: torch.Tensor | None = None,
    add_self_loops: bool = False,
) -> torch.Tensor:
    """Normalised sparse adjacency.

    Parameters
    ----------
    edge_index : torch.Tensor, shape (2, E)
        Integer node ids; ``A[edge_index[0], edge_index[1]] = edge_weight`` (duplicate entries are summed).
    num_nodes : int
        Number of nodes ``N``.
    norm : {"sym", "row", "col", "none"}, default "sym"
        ``D^-1/2 A D^-1/2``, ``D^-1 A``, ``A D^-1`` or ``A`` itself. Degrees are row sums for ``"sym"``/``"row"``
        and column sums for ``"col"``; a zero degree gives zero.
    edge_weight : torch.Tensor, shape (E,), optional
        Finite, non-negative weights; ones by default.
    add_self_loops : bool, default False
        Add ``I`` (weight 1) before normalising.

    Returns
    -------
    torch.Tensor
        A coalesced sparse COO tensor of shape ``(N, N)`` on ``edge_index``'s device.

    Examples
    --------
    >>> import torch
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> normalized_adjacency(edge_index, 3, norm="row").to_dense()
    tensor([[0.0000, 1.0000, 0.0000],
            [0.5000, 0.0000, 0.5000],
            [0.0000, 1.0000, 0.0000]])
    """
    norm = check_choice(norm, "norm", ("sym", "row", "col", "none"))
    num_nodes = check_int(num_nodes, "num_nodes", minimum=0)
    add_self_loops = check_bool(add_self_loops, "add_self_loops")
    edge_index = check_edge_index(edge_index, num_nodes)
    device = edge_index.device
    if edge_weight is None:
        edge_weight = torch.ones(edge_index.size(1), device=device)
    else:
        edge_weight = check_edge_weight(edge_weight, edge_index.size(1), non_negative=True).to(device)
    if add_self_loops:
        loops = torch.arange(num_nodes, device=device)
        edge_index = torch.cat([edge_index, loops.unsqueeze(0).repeat(2, 1)], dim=1)
        edge_weight = torch.cat([edge_weight, edge_weight.new_ones(num_nodes)])
    adj = torch.sparse_coo_tensor(edge_index, edge_weight, (num_nodes, num_nodes), check_invariants=False).coalesce()
    row, col = adj.indices()
    w = adj.values()
    if norm == "none":
        return adj
    deg_index = col if norm == "col" else row
    deg = torch.zeros(num_nodes, dtype=w.dtype, device=device).index_add_(0, deg_index, w)
    if norm == "sym":
        inv = deg.pow(-0.5)
        inv[torch.isinf(inv)] = 0.0
        w = inv[row] * w * inv[col]
    else:
        inv = deg.reciprocal()
        inv[torch.isinf(inv)] = 0.0
        w = w * inv[deg_index]
    return torch.sparse_coo_tensor(adj.indices(), w, (num_nodes, num_nodes), is_coalesced=True, check_invariants=False)


def _check_propagation_args(adj: torch.Tensor, y: torch.Tensor, alpha: float, steps: int, name: str):
    """The checks both propagations share; returns ``(alpha, steps)`` as Python numbers."""
    if not isinstance(adj, torch.Tensor) or not adj.is_sparse or adj.dim() != 2 or adj.size(0) != adj.size(1):
        raise ValueError("`adj` must be a square sparse tensor (see normalized_adjacency)")
    if not isinstance(y, torch.Tensor):
        raise ValueError(f"`{name}` must be a torch.Tensor, got {type(y).__name__}")
    if y.dim() not in (1, 2):
        raise ValueError(f"`{name}` must be 1-D (N,) or 2-D (N, C), got shape {tuple(y.shape)}")
    if y.size(0) != adj.size(0):
        raise ValueError(f"`{name}` has {y.size(0)} rows but `adj` has {adj.size(0)} nodes")
    if y.device != adj.device:
        raise ValueError(f"`{name}` is on {y.device} but `adj` on {adj.device}: move one of them")
    if y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"`{name}` must hold real numbers, got dtype {y.dtype}")
    if y.is_floating_point() and y.dtype != adj.dtype:
        raise ValueError(f"`{name}` is {y.dtype} but `adj` is {adj.dtype}: pass both in one floating dtype")
    if y.is_floating_point() and not bool(torch.isfinite(y).all()):
        bad = ~torch.isfinite(y)
        rows = bad.nonzero()[:, 0]
        raise ValueError(
            f"`{name}` holds {int(bad.sum())} NaN or infinite value(s) (first in row {int(rows[0])}): propagation "
            "would spread them over the graph"
        )
    alpha = check_rate(alpha, name="alpha", upper_inclusive=True)
    steps = check_int(steps, "steps", minimum=0)
    return alpha, steps


def _spmm(adj: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    squeeze = y.dim() == 1
    out = torch.sparse.mm(adj, y.unsqueeze(1) if squeeze else y)
    return out.squeeze(1) if squeeze else out


def lazy_propagation(adj: torch.Tensor, y: torch.Tensor, alpha: float, steps: int) -> torch.Tensor:
    """``steps`` iterations of ``Y <- (1 - alpha) A Y + alpha Y`` (``alpha`` = residual weight).

    Parameters
    ----------
    adj : torch.Tensor, sparse, shape (N, N)
        The propagation matrix, e.g. :func:`normalized_adjacency` with ``norm="col"`` as ERASE uses it.
    y : torch.Tensor, shape (N,) or (N, C)
        Initial values (integer tensors are cast to ``adj``'s dtype).
    alpha : float
        Residual weight in ``[0, 1]``.
    steps : int
        Number of iterations (>= 0).

    Returns
    -------
    torch.Tensor
        Same shape as ``y``. ``alpha = 1`` or ``steps = 0`` return ``y`` unchanged; with ``A D^-1`` and no
        isolated node the column mass ``1^T Y`` is preserved.

    Examples
    --------
    >>> import torch
    >>> adj = normalized_adjacency(torch.tensor([[0, 1], [1, 0]]), 2, norm="col")
    >>> lazy_propagation(adj, torch.tensor([[1.0, 0.0], [0.0, 1.0]]), alpha=0.5, steps=1)
    tensor([[0.5000, 0.5000],
            [0.5000, 0.5000]])
    """
    alpha, steps = _check_propagation_args(adj, y, alpha, steps, "y")
    y = y.to(adj.dtype) if not y.is_floating_point() else y
    for _ in range(steps):
        y = (1.0 - alpha) * _spmm(adj, y) + alpha * y
    return y


def personalized_propagation(
    adj: torch.Tensor, y0: torch.Tensor, alpha: float, steps: int, clamp: bool = False, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """``steps`` iterations of ``Y <- alpha A Y + (1 - alpha) Y0`` starting from ``Y0``.

    Parameters
    ----------
    adj : torch.Tensor, sparse, shape (N, N)
        The propagation matrix, e.g. :func:`normalized_adjacency` with ``norm="sym"`` as PyG's
        ``LabelPropagation`` uses it.
    y0 : torch.Tensor, shape (N,) or (N, C)
        Initial values, e.g. one-hot labels.
    alpha : float
        Weight of the propagated term, in ``[0, 1]``.
    steps : int
        Number of iterations (>= 0).
    clamp : bool, default False
        Clamp to ``[0, 1]`` after every step (as PyG's ``LabelPropagation`` does).
    mask : torch.Tensor, optional
        Boolean mask (or int64 node ids) of the labelled nodes: rows of ``Y0`` outside it are zeroed first, so
        only labelled nodes inject mass.

    Returns
    -------
    torch.Tensor
        Same shape as ``y0``.

    Examples
    --------
    >>> import torch
    >>> edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])  # the path 0 - 1 - 2 - 3
    >>> adj = normalized_adjacency(edge_index, 4, norm="sym", add_self_loops=True)
    >>> y0 = torch.tensor([[1.0, 0.0], [0.0, 0.0], [0.0, 0.0], [0.0, 1.0]])  # nodes 0 and 3 labelled
    >>> personalized_propagation(adj, y0, alpha=0.9, steps=10, mask=torch.tensor([0, 3])).argmax(1).tolist()
    [0, 0, 1, 1]
    """
    alpha, steps = _check_propagation_args(adj, y0, alpha, steps, "y0")
    clamp = check_bool(clamp, "clamp")
    y0 = y0.to(adj.dtype) if not y0.is_floating_point() else y0
    if mask is not None:
        mask = check_mask(mask, y0.size(0), name="mask").to(y0.device)
        y0 = y0 * mask.view(-1, *([1] * (y0.dim() - 1))).to(y0.dtype)
    y = y0
    for _ in range(steps):
        y = alpha * _spmm(adj, y) + (1.0 - alpha) * y0
        if clamp:
            y = y.clamp(0.0, 1.0)
    return y
