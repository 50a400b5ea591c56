"""Deprecated location of :mod:`graphdiff.nn.knn_graph` (moved to the shared building blocks in 0.2.0).

Importing this module warns; it re-exports :func:`~graphdiff.nn.knn_graph.knn_graph` and
:func:`~graphdiff.nn.knn_graph.edge_weights` unchanged and will be removed in 0.3.0.
"""

import warnings

from graphdiff.nn.knn_graph import edge_weights, knn_graph

__all__ = ["knn_graph", "edge_weights"]

warnings.warn(
    "graphdiff.llp.knn_graph is deprecated since graphdiff 0.2.0 and will be removed in 0.3.0; "
    "use graphdiff.nn.knn_graph",
    DeprecationWarning,
    stacklevel=2,
)
