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

import numpy as np
import torch

from graphdiff.cluster._graph import LocalGraph, as_local_graph, check_seed_nodes
from graphdiff.cluster._legacy import renamed_arguments
from graphdiff.cluster.labels import check_eps, check_scheme, label_edge_weights, prepare_labels
from graphdiff.data.validation import check_edge_index

__all__ = ["label_weighted_graph", "label_edge_weights"]


@renamed_arguments(seeds="seed_nodes")
def label_weighted_graph(graph, noisy_labels, eps: float = 0.05, scheme: str = "agree", seed_nodes=None):
    """The label-weighted graph :math:`G_w`.

    Parameters
    ----------
    graph : torch_geometric.data.Data or anything :func:`~graphdiff.cluster.as_local_graph` accepts
        A ``Data`` is returned as a shallow copy with ``edge_weight`` (times its own ``edge_weight``, if any);
        anything else as a weighted :class:`~graphdiff.cluster.LocalGraph`.
    noisy_labels : array-like or torch.Tensor, shape (num_nodes,)
        Binary labels (``bool`` or 0/1), one per node.
    eps : float
        Weight of the edges the scheme does not favour, in ``[0, 1]``.
    scheme : {"agree", "both_one"}
        The label scheme.
    seed_nodes : array-like of int, optional
        Nodes whose label is set to 1 first (a seed node is known to lie in the target).

    Returns
    -------
    torch_geometric.data.Data or LocalGraph

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> path = sp.diags([1.0, 1.0], [-1, 1], shape=(3, 3), format="csr")  # 0 - 1 - 2
    >>> label_weighted_graph(path, [1, 1, 0], eps=0.1).weights
    array([1. , 1. , 0.1, 0.1])
    """
    eps = check_eps(eps)
    check_scheme(scheme)
    is_data = hasattr(graph, "edge_index") and not isinstance(graph, LocalGraph)
    g = None if is_data else as_local_graph(graph)
    n = int(graph.num_nodes) if is_data else g.num_nodes
    lab, _ = prepare_labels(noisy_labels, n, name="noisy_labels", oracle=False)
    lab = lab.astype(bool)
    if seed_nodes is not None:
        lab = lab.copy()
        lab[check_seed_nodes(seed_nodes, n)] = True
    if is_data:
        ei = check_edge_index(graph.edge_index, n).cpu().numpy()
        base = getattr(graph, "edge_weight", None)
        if base is not None:
            base = base.detach().cpu().numpy() if isinstance(base, torch.Tensor) else np.asarray(base)
            if base.shape != (ei.shape[1],):
                raise ValueError(f"`edge_weight` must have one entry per edge ({ei.shape[1]}), got shape {base.shape}")
        w = label_edge_weights(ei[0], ei[1], lab, eps, scheme, base)
        out = graph.clone()
        out.edge_weight = torch.from_numpy(w).to(graph.edge_index.device)
        return out
    row = np.repeat(np.arange(n, dtype=np.int64), np.diff(g.indptr))
    w = label_edge_weights(row, g.indices, lab, eps, scheme, g.weights)
    return LocalGraph(g.indptr, g.indices, w, validate=False)
