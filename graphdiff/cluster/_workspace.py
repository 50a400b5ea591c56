"""Reusable per-graph workspaces of the strongly local kernels of :mod:`graphdiff.cluster` (the push solver of
Section 2 and the ACL push of Section 4 of Back de Luca, Fountoulakis & Yang, ICLR 2024,
https://arxiv.org/abs/2310.08031).

A :class:`~graphdiff.cluster.LocalGraph` allocates each workspace once, on first use; a kernel call uses it and
resets only the entries it touched, so that no call makes an ``O(n)`` pass. This module holds plain numpy buffers
and imports nothing else of the package.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PushWorkspace", "ACLWorkspace"]

# Per touched node (compact, indexed by local id): global id, dual x, mass m, sink, weighted degree, label, flags,
# start and length of its local adjacency copy, and the pass order.
_NODE_ARRAYS = {
    "gid": np.int64,
    "x": np.float64,
    "m": np.float64,
    "sink": np.float64,
    "wdeg": np.float64,
    "lab": np.int8,
    "flags": np.int8,
    "astart": np.int64,
    "alen": np.int64,
    "order": np.int64,
}
# Per read edge (compact): local id of the neighbour and the edge's (label) weight.
_EDGE_ARRAYS = {"nbr": np.int64, "w": np.float64}


class PushWorkspace:
    """State of the flow-diffusion push kernel for one graph.

    ``loc`` maps a global node id to its local id + 1 (0: untouched) and is the only array of length ``n``; it is
    reset entry by entry after each call. Everything else is *compact*: per touched node (see ``_NODE_ARRAYS``) and
    per read edge (the local adjacency of pushed nodes). Repeated pushes of a node then read only this compact,
    cache-resident copy, so the cost per push does not grow with the graph (no scattered reads into arrays of
    length ``n``). The compact arrays grow on demand (``grow()``); ``need`` receives the node ids whose labels the
    kernel asks a lazy oracle for. ``busy`` marks a workspace in use, so that a re-entrant call allocates its own.
    """

    def __init__(self, n: int, node_capacity: int = 1024, edge_capacity: int = 8192):
        self.loc = np.zeros(n, dtype=np.int32 if n < 2**31 - 1 else np.int64)
        for name, dtype in _NODE_ARRAYS.items():
            setattr(self, name, np.zeros(node_capacity, dtype=dtype))
        for name, dtype in _EDGE_ARRAYS.items():
            setattr(self, name, np.zeros(edge_capacity, dtype=dtype))
        self.node_capacity = node_capacity
        self.edge_capacity = edge_capacity
        self.need = np.zeros(4096, dtype=np.int64)
        self.busy = False

    @staticmethod
    def _enlarge(owner, arrays: dict, capacity: int) -> None:
        for name, dtype in arrays.items():
            old = getattr(owner, name)
            new = np.zeros(capacity, dtype=dtype)
            new[: old.size] = old  # everything is kept: the order array holds the current pass
            setattr(owner, name, new)

    def grow(self, nodes_needed: int, edges_needed: int) -> None:
        """Enlarge the compact arrays (at least doubling) so that they hold ``nodes_needed`` / ``edges_needed``."""
        if nodes_needed > self.node_capacity:
            self.node_capacity = max(2 * self.node_capacity, nodes_needed)
            self._enlarge(self, _NODE_ARRAYS, self.node_capacity)
        if edges_needed > self.edge_capacity:
            self.edge_capacity = max(2 * self.edge_capacity, edges_needed)
            self._enlarge(self, _EDGE_ARRAYS, self.edge_capacity)

    def reset(self, num_touched: int) -> None:
        """Clear the entries of the first ``num_touched`` touched nodes (what one call used)."""
        self.loc[self.gid[:num_touched]] = 0
        for name in ("x", "m", "wdeg", "flags", "lab", "alen", "astart"):
            getattr(self, name)[:num_touched] = 0


class ACLWorkspace:
    """State of the ACL push and of the sweep cut for one graph (arrays of length ``n``, reset entry by entry)."""

    def __init__(self, n: int):
        self.p = np.zeros(n, dtype=np.float64)
        self.r = np.zeros(n, dtype=np.float64)
        self.wdeg = np.zeros(n, dtype=np.float64)
        self.flags = np.zeros(n, dtype=np.int8)  # 1 touched, 2 in queue
        self.touched = np.zeros(n, dtype=np.int64)
        self.queue = np.zeros(n + 1, dtype=np.int64)
        self.rank = np.zeros(n, dtype=np.int64)  # sweep: position + 1 of a node in the order, 0 elsewhere
        self.busy = False
