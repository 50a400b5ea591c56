"""Graph containers for the local clustering kernels (the CSR input of the Section 2 push solver of Back de Luca,
Fountoulakis & Yang, ICLR 2024, https://arxiv.org/abs/2310.08031; shared by every module of :mod:`graphdiff.cluster`).

The push kernels of flow diffusion and ACL PageRank read the graph as compressed sparse rows (CSR): ``indptr``
(``n + 1`` offsets), ``indices`` (neighbour ids) and optional non-negative ``weights``. :class:`LocalGraph` holds
those arrays once per graph together with the unweighted degree, the total volume and reusable per-graph workspaces
(``graphdiff.cluster._workspace``), so that a call touches only the entries it needs (no ``O(n)`` pass per call;
a workspace is reset entry by entry).

:func:`as_local_graph` accepts a :class:`torch_geometric.data.Data`, a scipy sparse matrix, an
``(indptr, indices[, weights])`` tuple or a :class:`LocalGraph`; it validates the input once (ids in range,
non-negative finite weights, a symmetric adjacency: every edge stored in both directions with the same weight) and
raises :class:`ValueError` naming the problem. ``check_seed_nodes()`` validates node-id arguments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from graphdiff.cluster._workspace import ACLWorkspace, PushWorkspace
from graphdiff.data.validation import check_bool, check_edge_index

__all__ = ["LocalGraph", "as_local_graph", "check_seed_nodes"]


def _check_symmetric(indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray | None, n: int) -> None:
    """Raise unless every stored entry (i, j) has a stored reverse (j, i), as often and with the same weight."""
    if indices.size == 0:
        return
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(indptr))
    col = indices.astype(np.int64)
    forward = row * n + col
    backward = col * n + row
    # pair the entries of each (i, j) with those of (j, i) in weight order, so that parallel edges match too
    w = weights if weights is not None else np.zeros(indices.size)
    order_f = np.lexsort((w, forward))
    order_b = np.lexsort((w, backward))
    f, b = forward[order_f], backward[order_b]
    if not np.array_equal(f, b):
        p = int(np.flatnonzero(f != b)[0])
        key = f[p] if f[p] < b[p] else b[p]
        i, j = (int(key // n), int(key % n)) if f[p] < b[p] else (int(key % n), int(key // n))
        raise ValueError(
            f"`graph` must be undirected, with both directions of every edge stored: edge ({i}, {j}) is stored but "
            f"({j}, {i}) is not. Symmetrise it first (e.g. torch_geometric.utils.to_undirected, or A + A.T)"
        )
    if weights is not None:
        wf, wb = weights[order_f], weights[order_b]
        close = np.isclose(wf, wb, rtol=1e-9, atol=0.0)
        if not close.all():
            p = int(np.flatnonzero(~close)[0])
            i, j = int(f[p] // n), int(f[p] % n)
            raise ValueError(
                f"`weights` must be symmetric: edge ({i}, {j}) has weight {wf[p].item()!r} but ({j}, {i}) has "
                f"{wb[p].item()!r}"
            )


class LocalGraph:
    """An undirected graph in CSR form with reusable workspaces for strongly local kernels.

    Parameters
    ----------
    indptr : array-like of int, shape (num_nodes + 1,)
        CSR offsets (``int32`` or ``int64``; other integer types are converted).
    indices : array-like of int, shape (num_edges,)
        Neighbour ids; row ``i`` (``indices[indptr[i]:indptr[i + 1]]``) lists the neighbours of node ``i``. Both
        directions of every undirected edge must be stored.
    weights : array-like of float, shape (num_edges,), optional
        Non-negative edge weights aligned with ``indices`` (stored as ``float64``); ``None`` means unit weights.
    validate : bool
        Check ids, weights and symmetry (``O(m log m)`` once, at construction, never per call). Pass ``False`` only
        for arrays known to be valid (e.g. from :func:`graphdiff.data.synthetic.planted_partition_csr`).

    Attributes
    ----------
    num_nodes : int
    degree : numpy.ndarray of float64, shape (num_nodes,)
        Unweighted degree (number of stored entries per row).
    volume : float
        Sum of the unweighted degrees.
    weighted_degree, weighted_volume : numpy.ndarray, float or None
        The same with the weights (``None`` for an unweighted graph).

    Examples
    --------
    >>> g = LocalGraph([0, 1, 3, 4], [1, 0, 2, 1])  # the path 0 - 1 - 2
    >>> g
    LocalGraph(num_nodes=3, num_edges=2, unweighted)
    >>> g.degree
    array([1., 2., 1.])
    >>> LocalGraph([0, 1, 1], [1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `graph` must be undirected, ...: edge (0, 1) is stored but (1, 0) is not. ...
    """

    def __init__(self, indptr, indices, weights=None, *, validate: bool = True):
        validate = check_bool(validate, "validate")
        indptr = np.asarray(indptr)
        indices = np.asarray(indices)
        if indptr.ndim != 1 or indptr.size < 1:
            raise ValueError(f"`indptr` must be a 1-D array of length num_nodes + 1, got shape {indptr.shape}")
        if indices.ndim != 1:
            raise ValueError(f"`indices` must be 1-D, got shape {indices.shape}")
        if indices.size == 0 and indices.dtype == np.float64:
            indices = indices.astype(np.int64)  # np.asarray([]) is float64: an edgeless graph
        if not np.issubdtype(indptr.dtype, np.integer) or not np.issubdtype(indices.dtype, np.integer):
            raise ValueError(f"`indptr` and `indices` must be integer arrays, got {indptr.dtype} and {indices.dtype}")
        if indptr.dtype not in (np.int32, np.int64):
            indptr = indptr.astype(np.int64)
        if indices.dtype not in (np.int32, np.int64):
            indices = indices.astype(np.int64)
        n = indptr.size - 1
        if validate:
            if int(indptr[0]) != 0 or int(indptr[-1]) != indices.size:
                raise ValueError(
                    f"`indptr` must start at 0 and end at len(indices)={indices.size}, "
                    f"got {int(indptr[0])} and {int(indptr[-1])}"
                )
            if n > 0 and np.any(np.diff(indptr) < 0):
                raise ValueError("`indptr` must be non-decreasing")
            if indices.size:
                lo, hi = int(indices.min()), int(indices.max())
                if lo < 0:
                    raise ValueError(f"`indices` contains a negative node id ({lo})")
                if hi >= n:
                    raise ValueError(f"`indices` contains node id {hi}, out of range for num_nodes={n}")
        if weights is not None:
            if isinstance(weights, torch.Tensor):
                weights = weights.detach().cpu().numpy()
            weights = np.asarray(weights)
            if not (np.issubdtype(weights.dtype, np.floating) or np.issubdtype(weights.dtype, np.integer)):
                raise ValueError(f"`weights` must be real numbers, got dtype {weights.dtype}")
            weights = np.ascontiguousarray(weights, dtype=np.float64)
            if weights.shape != indices.shape:
                raise ValueError(
                    f"`weights` must have one entry per stored edge ({indices.size}), got shape {weights.shape}"
                )
            if validate and weights.size:
                if not np.all(np.isfinite(weights)):
                    bad = int(np.flatnonzero(~np.isfinite(weights))[0])
                    raise ValueError(f"`weights` contains NaN or infinite values (first at stored edge {bad})")
                if np.any(weights < 0):
                    bad = int(np.flatnonzero(weights < 0)[0])
                    raise ValueError(f"`weights` contains negative values (first {weights[bad]} at stored edge {bad})")
        if validate:
            _check_symmetric(indptr, indices, weights, n)
        self.indptr = np.ascontiguousarray(indptr)
        self.indices = np.ascontiguousarray(indices)
        self.weights = weights
        self.num_nodes = int(n)
        self.degree = np.diff(self.indptr).astype(np.float64)
        self.volume = float(self.indices.size)
        self.weighted_degree = None
        self.weighted_volume = None
        if weights is not None:
            self.weighted_degree = np.add.reduceat(weights, self.indptr[:-1]) if weights.size else np.zeros(n)
            # reduceat returns the value at the offset for empty rows: zero them explicitly.
            self.weighted_degree[self.degree == 0] = 0.0
            self.weighted_volume = float(weights.sum())
        self._workspace = None
        self._acl_workspace = None

    @property
    def num_edges(self) -> int:
        """Number of stored (directed) CSR entries, i.e. twice the number of undirected edges."""
        return int(self.indices.size)

    @property
    def weights_or_empty(self) -> np.ndarray:
        """The weights, or an empty ``float64`` array for an unweighted graph (what the kernels receive)."""
        return self.weights if self.weights is not None else np.empty(0, dtype=np.float64)

    def workspace(self) -> PushWorkspace:
        """The flow-diffusion workspace of this graph (allocated once, reset entry by entry after each call)."""
        if self._workspace is None:
            self._workspace = PushWorkspace(self.num_nodes)
        return self._workspace

    def acl_workspace(self) -> ACLWorkspace:
        """The ACL PageRank and sweep-cut workspace of this graph (allocated once)."""
        if self._acl_workspace is None:
            self._acl_workspace = ACLWorkspace(self.num_nodes)
        return self._acl_workspace

    def with_weights(self, weights) -> LocalGraph:
        """The same structure with new edge weights (the CSR arrays are shared, not copied; weights validated).

        Parameters
        ----------
        weights : array-like of float, shape (num_edges,)
            Non-negative edge weights aligned with ``indices``.

        Returns
        -------
        LocalGraph
        """
        return LocalGraph(self.indptr, self.indices, weights, validate=True)

    def to_scipy(self):
        """The adjacency as a :class:`scipy.sparse.csr_matrix` (unit entries for an unweighted graph)."""
        import scipy.sparse as sp

        data = self.weights if self.weights is not None else np.ones(self.indices.size)
        return sp.csr_matrix((data, self.indices, self.indptr), shape=(self.num_nodes, self.num_nodes))

    def __getstate__(self) -> dict:
        # the workspaces are per-process scratch space: a pickled graph (sent to a worker) travels without them
        state = dict(self.__dict__)
        state["_workspace"] = None
        state["_acl_workspace"] = None
        return state

    def __repr__(self) -> str:
        w = "weighted" if self.weights is not None else "unweighted"
        return f"LocalGraph(num_nodes={self.num_nodes}, num_edges={self.num_edges // 2}, {w})"


def _from_edge_index(edge_index: torch.Tensor, num_nodes: int, edge_weight=None) -> LocalGraph:
    edge_index = check_edge_index(edge_index, num_nodes)
    row = edge_index[0].cpu().numpy()
    col = edge_index[1].cpu().numpy()
    order = np.lexsort((col, row))
    row, col = row[order], col[order]
    counts = np.bincount(row, minlength=num_nodes)
    indptr = np.zeros(num_nodes + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    weights = None
    if edge_weight is not None:
        ew = edge_weight.detach().cpu().numpy() if isinstance(edge_weight, torch.Tensor) else np.asarray(edge_weight)
        if ew.shape != (edge_index.size(1),):
            raise ValueError(f"`edge_weight` must have one entry per edge ({edge_index.size(1)}), got shape {ew.shape}")
        if not (np.issubdtype(ew.dtype, np.floating) or np.issubdtype(ew.dtype, np.integer)):
            raise ValueError(f"`edge_weight` must be real numbers, got dtype {ew.dtype}")
        weights = ew.astype(np.float64)[order]
    return LocalGraph(indptr, col.astype(np.int64), weights)


def as_local_graph(graph: Any, weights=None) -> LocalGraph:
    """Coerce ``graph`` to a :class:`LocalGraph` (convert once, reuse the result: conversion is ``O(m log m)``,
    the kernels are strongly local).

    Parameters
    ----------
    graph : LocalGraph, torch_geometric.data.Data, scipy sparse matrix or tuple
        A :class:`LocalGraph` (returned as is unless ``weights`` is given); a ``Data`` (``edge_index``, optional
        ``edge_weight``); a square scipy sparse matrix (its stored values become weights unless they are all ones;
        explicitly stored zeros are dropped, as the data loaders do); or ``(indptr, indices[, weights])``.
    weights : array-like of float, shape (num_edges,), optional
        Edge weights replacing the graph's own, aligned with the CSR ``indices`` (for a ``Data``: with
        ``edge_index``).

    Returns
    -------
    LocalGraph

    Raises
    ------
    ValueError
        For anything else, or an invalid graph: ids out of range, negative or non-finite weights, or an adjacency
        that is not symmetric.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> as_local_graph(sp.csr_matrix([[0, 2.0], [2.0, 0]]))
    LocalGraph(num_nodes=2, num_edges=1, weighted)
    """
    if isinstance(graph, LocalGraph):
        if weights is None:
            return graph
        return graph.with_weights(weights)
    if isinstance(graph, tuple):
        if len(graph) not in (2, 3):
            raise ValueError(f"a CSR tuple must be (indptr, indices[, weights]), got {len(graph)} entries")
        w = graph[2] if len(graph) == 3 else None
        return LocalGraph(graph[0], graph[1], weights if weights is not None else w)
    import scipy.sparse as sp

    if sp.issparse(graph):
        if graph.shape[0] != graph.shape[1]:
            raise ValueError(f"the adjacency matrix must be square, got shape {graph.shape}")
        mat = sp.csr_matrix(graph, copy=True)
        mat.sum_duplicates()
        mat.eliminate_zeros()
        mat.sort_indices()
        w = None
        if mat.data.size and not np.all(mat.data == 1):
            w = mat.data
        return LocalGraph(mat.indptr, mat.indices, weights if weights is not None else w)
    if hasattr(graph, "edge_index") and hasattr(graph, "num_nodes"):
        ew = weights if weights is not None else getattr(graph, "edge_weight", None)
        return _from_edge_index(graph.edge_index, int(graph.num_nodes), ew)
    raise ValueError(
        "`graph` must be a LocalGraph, a torch_geometric Data, a scipy sparse matrix or an "
        f"(indptr, indices[, weights]) tuple, got {type(graph).__name__}"
    )


def check_seed_nodes(
    nodes, num_nodes: int, name: str = "seed_nodes", *, allow_duplicates: bool = False, single: bool = False
) -> np.ndarray:
    """Node ids as a non-empty ``int64`` array of ids in ``[0, num_nodes)``.

    Parameters
    ----------
    nodes : int, array-like of int or torch.Tensor
        One node id or a 1-D list of them. Integral floats (``3.0``) are accepted; ``1.7``, booleans, NaN and
        strings are refused.
    num_nodes : int
        Number of nodes of the graph.
    name : str
        The argument's name in error messages.
    allow_duplicates : bool
        Accept repeated ids (else an error).
    single : bool
        Require exactly one node id.

    Returns
    -------
    numpy.ndarray of int64, shape (k,)
    """
    if isinstance(nodes, torch.Tensor):
        nodes = nodes.detach().cpu().numpy()
    try:
        arr = np.atleast_1d(np.asarray(nodes))
    except (TypeError, ValueError) as exc:  # e.g. a ragged list
        raise ValueError(f"`{name}` must be a node id or a 1-D list of node ids, got {nodes!r}") from exc
    if arr.size == 0:
        raise ValueError(f"`{name}` must name at least one node, got an empty list")
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be a node id or a 1-D list of node ids, got shape {arr.shape}")
    if arr.dtype == np.bool_:
        raise ValueError(f"`{name}` must hold integer node ids, got booleans (for a mask use np.flatnonzero(mask))")
    if not np.issubdtype(arr.dtype, np.integer):
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(f"`{name}` must hold integer node ids, got dtype {arr.dtype}")
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            raise ValueError(f"`{name}` must hold integer node ids, got {arr[bad][0].item()!r}")
    arr = arr.astype(np.int64)
    if single and arr.size != 1:
        raise ValueError(f"`{name}` must be a single node id, got {arr.size}")
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= num_nodes:
        bad = lo if lo < 0 else hi
        raise ValueError(f"`{name}` contains node id {bad}, out of range for a graph with num_nodes={num_nodes}")
    if not allow_duplicates and np.unique(arr).size != arr.size:
        raise ValueError(f"`{name}` contains duplicate node ids")
    return arr
