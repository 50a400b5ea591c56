r"""Edge weights from noisy binary labels (the graph :math:`G_w` of Section 2 of Back de Luca, Fountoulakis & Yang,
*Local Graph Clustering with Noisy Labels*, ICLR 2024, https://arxiv.org/abs/2310.08031).

Given noisy labels :math:`\tilde y \in \{0, 1\}^n` and :math:`\varepsilon \in [0, 1]`:

* ``scheme="agree"``: :math:`w_{ij} = 1` if :math:`\tilde y_i = \tilde y_j`, else :math:`\varepsilon`;
* ``scheme="both_one"``: :math:`w_{ij} = 1` if :math:`\tilde y_i = \tilde y_j = 1`, else :math:`\varepsilon`.

:math:`\varepsilon = 1` recovers the original graph; as :math:`\varepsilon \to 0` a diffusion from a label-1 seed is
confined to the label-1 component around it (both schemes then give the same diffusion). Existing edge weights are
multiplied by the label factor. This builds the whole weighted graph (``O(m)``, vectorised); the flow diffusion solver
can instead take ``labels`` and ``eps`` and weight only the edges it reads (:func:`~graphdiff.cluster.flow_diffusion`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from graphdiff.cluster._graph import LocalGraph, as_local_graph
from graphdiff.cluster.flow_diffusion import SCHEMES, _prepare_labels

__all__ = ["label_weighted_graph", "label_edge_weights"]


def _check_eps(eps) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float)) or not math.isfinite(eps) or not 0 <= eps <= 1:
        raise ValueError(f"`eps` must be a number in [0, 1], got {eps!r}")
    return float(eps)


def label_edge_weights(row, col, noisy_labels, eps: float, scheme: str = "agree", base=None) -> np.ndarray:
    """Weights of the edges ``(row[k], col[k])`` under the label scheme (vectorised)."""
    eps = _check_eps(eps)
    if scheme not in SCHEMES:
        raise ValueError(f"`scheme` must be one of {sorted(SCHEMES)}, got {scheme!r}")
    lab = np.asarray(noisy_labels).astype(bool)
    a, b = lab[row], lab[col]
    favoured = (a == b) if scheme == "agree" else (a & b)
    w = np.where(favoured, 1.0, eps)
    if base is not None:
        w = w * np.asarray(base, dtype=np.float64)
    return w


def label_weighted_graph(graph, noisy_labels, eps: float = 0.05, scheme: str = "agree", seeds=None):
    """The label-weighted graph :math:`G_w`.

    Parameters
    ----------
    graph:
        A ``Data`` (returned as a shallow copy with ``edge_weight``), or anything :func:`as_local_graph` accepts
        (returned as a weighted :class:`~graphdiff.cluster.LocalGraph`).
    noisy_labels:
        Binary labels, one per node (bool, 0/1 ints, a tensor or an array).
    eps:
        Weight of the edges the scheme does not favour, in ``[0, 1]``.
    scheme:
        ``"agree"`` or ``"both_one"``.
    seeds:
        Optional node ids whose label is set to 1 first (a seed is known to lie in the target).
    """
    eps = _check_eps(eps)
    if scheme not in SCHEMES:
        raise ValueError(f"`scheme` must be one of {sorted(SCHEMES)}, got {scheme!r}")
    is_data = hasattr(graph, "edge_index") and not isinstance(graph, LocalGraph)
    n = int(graph.num_nodes)
    lab, oracle = _prepare_labels(noisy_labels, n)
    if oracle is not None:
        raise ValueError("`noisy_labels` must be a full label array here; pass an oracle to flow_diffusion instead")
    lab = lab.astype(bool)
    if seeds is not None:
        from graphdiff.cluster._graph import check_seeds

        lab = lab.copy()
        lab[check_seeds(seeds, n)] = True
    if is_data:
        from graphdiff.data.validation import check_edge_index

        ei = check_edge_index(graph.edge_index, n).cpu().numpy()
        base = getattr(graph, "edge_weight", None)
        if base is not None:
            base = base.detach().cpu().numpy()
        w = label_edge_weights(ei[0], ei[1], lab, eps, scheme, base)
        out = graph.clone()
        out.edge_weight = torch.from_numpy(w).to(graph.edge_index.device)
        return out
    g = as_local_graph(graph)
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
    w = label_edge_weights(row, g.indices, lab, eps, scheme, g.weights)
    return LocalGraph(g.indptr, g.indices, w, validate=False)
