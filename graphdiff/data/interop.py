"""Conversion between ``torch_geometric.data.Data`` and networkx, scipy.sparse and (optionally) DGL graphs.

networkx and scipy conversions wrap ``torch_geometric.utils``; DGL is an optional extra (``pip install
graphdiff[dgl]``; its wheels stop at torch 2.2), so :func:`to_dgl` / :func:`from_dgl` import it lazily and say how to
install it when it is missing.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, to_undirected
from torch_geometric.utils import from_networkx as _pyg_from_networkx
from torch_geometric.utils import to_networkx as _pyg_to_networkx

from graphdiff.data.validation import check_edge_index

__all__ = ["to_networkx", "from_networkx", "to_scipy", "from_scipy", "to_dgl", "from_dgl"]


def to_networkx(data: Data, node_attrs=("y",), undirected: bool = True):
    """``Data`` -> ``networkx.Graph`` (``DiGraph`` with ``undirected=False``).

    Parameters
    ----------
    data : torch_geometric.data.Data
        The graph; ``edge_weight`` is copied as the ``edge_weight`` edge attribute when present.
    node_attrs : sequence of str, default ("y",)
        Node attributes copied when the graph has them.
    undirected : bool, default True
        Return an undirected ``Graph`` (each edge once) instead of a ``DiGraph`` of the stored directions.

    Returns
    -------
    networkx.Graph or networkx.DiGraph
        Nodes ``0..N-1``.

    Examples
    --------
    >>> import torch
    >>> from torch_geometric.data import Data
    >>> g = to_networkx(Data(edge_index=torch.tensor([[0, 1], [1, 0]]), y=torch.tensor([3, 4]), num_nodes=2))
    >>> g.number_of_edges(), g.nodes[1]["y"]
    (1, 4)
    """
    attrs = [a for a in (node_attrs or ()) if getattr(data, a, None) is not None]
    edge_attrs = ["edge_weight"] if getattr(data, "edge_weight", None) is not None else None
    return _pyg_to_networkx(
        data, node_attrs=attrs or None, edge_attrs=edge_attrs, to_undirected=undirected, remove_self_loops=False
    )


def from_networkx(graph, group_node_attrs=None) -> Data:
    """``networkx`` graph -> ``Data`` with a coalesced ``edge_index`` (both directions for an undirected graph).

    Parameters
    ----------
    graph : networkx.Graph or networkx.DiGraph
        Nodes are relabelled ``0..n-1`` in ``graph.nodes`` order; the original labels are kept in
        ``data.node_ids`` when they are not already ``0..n-1``.
    group_node_attrs : list of str, optional
        Node attributes stacked into ``data.x`` (as in :func:`torch_geometric.utils.from_networkx`).

    Returns
    -------
    torch_geometric.data.Data

    Examples
    --------
    >>> import networkx as nx
    >>> data = from_networkx(nx.Graph([("a", "b"), ("b", "c")]))
    >>> data.edge_index.tolist(), data.node_ids
    ([[0, 1, 1, 2], [1, 0, 2, 1]], ['a', 'b', 'c'])
    """
    import networkx as nx

    nodes = list(graph.nodes)
    relabel = nodes != list(range(len(nodes)))
    g = nx.convert_node_labels_to_integers(graph, ordering="default") if relabel else graph
    data = _pyg_from_networkx(g, group_node_attrs=group_node_attrs)
    data.edge_index = (
        to_undirected(data.edge_index, num_nodes=len(nodes))
        if not graph.is_directed()
        else coalesce(data.edge_index, num_nodes=len(nodes))
    )
    data.num_nodes = len(nodes)
    if relabel:
        data.node_ids = nodes
    return data


def to_scipy(data_or_edge_index, num_nodes: int | None = None, edge_weight=None) -> sp.csr_matrix:
    """``Data`` (or an ``edge_index``) -> ``scipy.sparse.csr_matrix`` adjacency, with ``edge_weight`` if present.

    Parameters
    ----------
    data_or_edge_index : torch_geometric.data.Data or torch.Tensor of shape (2, E)
        The graph, or its ``edge_index``.
    num_nodes : int, optional
        Required with a bare ``edge_index``.
    edge_weight : torch.Tensor or numpy.ndarray, shape (E,), optional
        Entry values (default: the graph's ``edge_weight``, else ones); duplicate edges are summed.

    Returns
    -------
    scipy.sparse.csr_matrix, shape (N, N)

    Examples
    --------
    >>> import torch
    >>> to_scipy(torch.tensor([[0, 1], [1, 0]]), num_nodes=3).toarray()
    array([[0., 1., 0.],
           [1., 0., 0.],
           [0., 0., 0.]], dtype=float32)
    """
    if isinstance(data_or_edge_index, Data):
        data = data_or_edge_index
        edge_index, num_nodes = data.edge_index, data.num_nodes
        edge_weight = getattr(data, "edge_weight", None) if edge_weight is None else edge_weight
    else:
        edge_index = data_or_edge_index
        if num_nodes is None:
            raise ValueError("`num_nodes` is required when converting a bare edge_index")
    edge_index = check_edge_index(edge_index, num_nodes).cpu().numpy()
    w = (
        np.ones(edge_index.shape[1], dtype=np.float32)
        if edge_weight is None
        else (torch.as_tensor(edge_weight).detach().cpu().numpy())
    )
    mat = sp.csr_matrix((w, (edge_index[0], edge_index[1])), shape=(num_nodes, num_nodes))
    mat.sum_duplicates()
    return mat


def from_scipy(matrix, **attrs) -> Data:
    """Sparse adjacency -> ``Data``; non-unit weights become ``edge_weight``.

    Parameters
    ----------
    matrix : scipy.sparse matrix or array, shape (N, N)
        Entry ``(i, j)`` is the edge ``i -> j``; duplicate entries are summed.
    **attrs
        Extra attributes of the result (e.g. ``x=``, ``y=``).

    Returns
    -------
    torch_geometric.data.Data
        ``edge_index`` in row-major order; ``edge_weight`` (float32) unless every weight is 1.

    Examples
    --------
    >>> import scipy.sparse as sp
    >>> data = from_scipy(sp.csr_matrix([[0, 2.0], [2.0, 0]]))
    >>> data.edge_index.tolist(), data.edge_weight.tolist()
    ([[0, 1], [1, 0]], [2.0, 2.0])
    """
    if not sp.issparse(matrix):
        raise ValueError(f"`matrix` must be a scipy.sparse matrix, got {type(matrix).__name__}")
    if matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"`matrix` must be square, got shape {matrix.shape}")
    coo = sp.coo_matrix(matrix)
    coo.sum_duplicates()
    edge_index = torch.from_numpy(np.vstack([coo.row, coo.col]).astype(np.int64))
    weight = torch.from_numpy(coo.data.astype(np.float32))
    data = Data(edge_index=edge_index, num_nodes=matrix.shape[0], **attrs)
    if not torch.all(weight == 1):
        data.edge_weight = weight
    return data


def _import_dgl():
    try:
        import dgl
    except Exception as exc:  # ImportError, or a DGL build incompatible with this torch
        raise ImportError(
            "DGL interop needs the optional `dgl` package (pip install 'graphdiff[dgl]'); DGL's PyPI wheels "
            f"support torch <= 2.2, so it may not import beside this torch ({exc})"
        ) from exc
    return dgl


def to_dgl(data: Data):
    """``Data`` -> ``dgl.DGLGraph`` with node data ``x``, ``y`` and the masks, and edge data ``edge_weight``.

    Needs the optional ``dgl`` package; without it, an ``ImportError`` says how to install it.
    """
    dgl = _import_dgl()
    g = dgl.graph((data.edge_index[0], data.edge_index[1]), num_nodes=data.num_nodes)
    for key in ("x", "y", "train_mask", "val_mask", "test_mask"):
        if getattr(data, key, None) is not None:
            g.ndata[key] = getattr(data, key)
    if getattr(data, "edge_weight", None) is not None:
        g.edata["edge_weight"] = data.edge_weight
    return g


def from_dgl(graph) -> Data:
    """``dgl.DGLGraph`` -> ``Data`` (every node data field, and edge data ``edge_weight``).

    Needs the optional ``dgl`` package; without it, an ``ImportError`` says how to install it.
    """
    _import_dgl()
    src, dst = graph.edges()
    data = Data(edge_index=torch.stack([src, dst]).long(), num_nodes=graph.num_nodes())
    for key, value in graph.ndata.items():
        data[key] = value
    if "edge_weight" in graph.edata:
        data.edge_weight = graph.edata["edge_weight"]
    return data
