"""Conversion between ``torch_geometric.data.Data`` and networkx, scipy.sparse and (optionally) DGL graphs.

networkx and scipy conversions wrap ``torch_geometric.utils``; DGL is an optional extra (``pip install
graphdiff[dgl]``; its wheels stop at torch 2.2), so :func:`to_dgl` / :func:`from_dgl` import it lazily and say how to
install it when it is missing.

Conventions, the same in both directions:

* edge ids are validated against ``num_nodes`` (an out-of-range id is an error, never a new node);
* edge weights must be finite: NaN or infinite weights are refused with the position of the first one;
* duplicate edges are merged and their weights summed (the adjacency-matrix convention of scipy and of
  :func:`networkx.to_scipy_sparse_array`); the parallel edges of a networkx multigraph likewise;
* a scipy matrix's explicitly stored zero is no edge (as in the loaders); a networkx edge is an edge whatever its
  weight, zero included.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data
from torch_geometric.utils import coalesce
from torch_geometric.utils import from_networkx as _pyg_from_networkx
from torch_geometric.utils import to_networkx as _pyg_to_networkx

from graphdiff.data.validation import check_bool, check_edge_index, check_edge_weight, check_int

__all__ = ["to_networkx", "from_networkx", "to_scipy", "from_scipy", "to_dgl", "from_dgl"]


#: Edge attributes read as weights: checked for NaN / infinity in both directions.
WEIGHT_KEYS = ("edge_weight", "weight")


def _first_asymmetric(edge_index: torch.Tensor, weight: torch.Tensor, num_nodes: int):
    """The first edge ``(u, v)`` whose reverse ``(v, u)`` is stored with another weight, or ``None``.

    ``edge_index`` must be coalesced (sorted, no duplicates).
    """
    key = edge_index[0] * num_nodes + edge_index[1]
    reverse = edge_index[1] * num_nodes + edge_index[0]
    pos = torch.searchsorted(key, reverse).clamp(max=max(key.numel() - 1, 0))
    has_reverse = key[pos] == reverse
    differs = has_reverse & (weight[pos] != weight)
    if bool(differs.any()):
        i = int(differs.nonzero()[0, 0])
        return int(edge_index[0, i]), int(edge_index[1, i]), float(weight[i]), float(weight[pos[i]])
    return None


def to_networkx(data: Data, node_attrs=("y",), undirected: bool = True):
    """``Data`` -> ``networkx.Graph`` (``DiGraph`` with ``undirected=False``).

    Parameters
    ----------
    data : torch_geometric.data.Data
        The graph. ``edge_index`` is validated against ``data.num_nodes``; ``edge_weight`` (when present) must be
        finite, is summed over duplicate edges and is copied as the ``edge_weight`` edge attribute.
    node_attrs : sequence of str, default ("y",)
        Node attributes copied when the graph has them.
    undirected : bool, default True
        Return an undirected ``Graph`` (each edge once; an edge stored in one direction only becomes an undirected
        edge) instead of a ``DiGraph`` of the stored directions. The two directions of a weighted edge must carry
        the same weight (``ValueError`` otherwise: one of them would be dropped).

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
    if not isinstance(data, Data):
        raise ValueError(f"`data` must be a torch_geometric.data.Data, got {type(data).__name__}")
    undirected = check_bool(undirected, "undirected")
    num_nodes = check_int(data.num_nodes, "data.num_nodes", minimum=0)
    edge_index = check_edge_index(data.edge_index, num_nodes, name="data.edge_index")
    attrs = [a for a in (node_attrs or ()) if getattr(data, a, None) is not None]
    view = Data(edge_index=edge_index, num_nodes=num_nodes)
    for a in attrs:
        view[a] = data[a]
    edge_attrs = None
    if getattr(data, "edge_weight", None) is not None:
        weight = check_edge_weight(data.edge_weight, edge_index.size(1), "data.edge_weight")
        edge_index, weight = coalesce(edge_index, weight, num_nodes=num_nodes, reduce="sum")
        if undirected:
            clash = _first_asymmetric(edge_index, weight, num_nodes)
            if clash is not None:
                u, v, w_uv, w_vu = clash
                raise ValueError(
                    f"edge ({u}, {v}) has weight {w_uv} but ({v}, {u}) has {w_vu}: an undirected networkx graph "
                    "keeps one weight per edge; pass undirected=False for a DiGraph"
                )
        view.edge_index, view.edge_weight, edge_attrs = edge_index, weight, ["edge_weight"]
    return _pyg_to_networkx(
        view, node_attrs=attrs or None, edge_attrs=edge_attrs, to_undirected=undirected, remove_self_loops=False
    )


def _edge_attr_keys(graph) -> list[str]:
    """The names :func:`torch_geometric.utils.from_networkx` gives the edge attributes of ``graph``."""
    node_keys = set(next(iter(graph.nodes(data=True)))[-1]) if graph.number_of_nodes() else set()
    edge_keys = list(next(iter(graph.edges(data=True)))[-1]) if graph.number_of_edges() else []
    return [f"edge_{k}" if k in node_keys else str(k) for k in edge_keys]


def from_networkx(graph, group_node_attrs=None) -> Data:
    """``networkx`` graph -> ``Data`` with a coalesced ``edge_index`` (both directions for an undirected graph).

    Parameters
    ----------
    graph : networkx.Graph, networkx.DiGraph, networkx.MultiGraph or networkx.MultiDiGraph
        Nodes are relabelled ``0..n-1`` in ``graph.nodes`` order; the original labels are kept in
        ``data.node_ids`` when they are not already ``0..n-1``. Edge attributes (``weight``, ...) follow their
        edges through the sorting. The parallel edges of a multigraph are merged into one edge whose numeric
        attributes are summed (a non-numeric attribute of parallel edges is an error). ``weight`` /
        ``edge_weight`` attributes must be finite.
    group_node_attrs : list of str, optional
        Node attributes stacked into ``data.x`` (as in :func:`torch_geometric.utils.from_networkx`).

    Returns
    -------
    torch_geometric.data.Data
        ``edge_index`` sorted by (source, target) without duplicates, each edge attribute (under its networkx
        name, as PyG names it) aligned with it, node attributes, ``num_nodes``.

    Examples
    --------
    >>> import networkx as nx
    >>> data = from_networkx(nx.Graph([("a", "b"), ("b", "c")]))
    >>> data.edge_index.tolist(), data.node_ids
    ([[0, 1, 1, 2], [1, 0, 2, 1]], ['a', 'b', 'c'])
    >>> g = nx.MultiGraph()
    >>> _ = g.add_weighted_edges_from([(0, 1, 1.0), (0, 1, 2.0), (1, 2, 5.0)])
    >>> data = from_networkx(g)
    >>> data.edge_index.tolist(), data.weight.tolist()
    ([[0, 1, 1, 2], [1, 0, 2, 1]], [3.0, 3.0, 5.0, 5.0])
    """
    import networkx as nx

    if not isinstance(graph, nx.Graph):
        raise ValueError(f"`graph` must be a networkx graph, got {type(graph).__name__}")
    nodes = list(graph.nodes)
    num_nodes = len(nodes)
    relabel = nodes != list(range(num_nodes))
    g = nx.convert_node_labels_to_integers(graph, ordering="default") if relabel else graph
    data = _pyg_from_networkx(g, group_node_attrs=group_node_attrs)
    num_edges = data.edge_index.size(1)
    edge_keys = [k for k in _edge_attr_keys(g) if k in data]
    for key in edge_keys:
        if key in WEIGHT_KEYS and isinstance(data[key], torch.Tensor):
            data[key] = check_edge_weight(data[key], num_edges, f"{key} (edge attribute)")
    # Sort the edges by (source, target) and merge duplicates (parallel edges), carrying every edge attribute.
    edge_index = data.edge_index
    order = torch.argsort(edge_index[0] * max(num_nodes, 1) + edge_index[1], stable=True)
    edge_index = edge_index[:, order]
    flat = edge_index[0] * max(num_nodes, 1) + edge_index[1]
    unique, group = torch.unique_consecutive(flat, return_inverse=True)
    merged = unique.numel() < num_edges
    for key in edge_keys:
        value = data[key]
        if isinstance(value, torch.Tensor) and value.dim() >= 1 and value.size(0) == num_edges:
            value = value[order]
            if merged:
                if value.dtype == torch.bool or value.is_complex():
                    raise ValueError(f"parallel edges: the edge attribute {key!r} ({value.dtype}) cannot be summed")
                summed = torch.zeros((unique.numel(), *value.shape[1:]), dtype=value.dtype)
                value = summed.index_add_(0, group, value)
            data[key] = value
        else:
            if merged:
                raise ValueError(
                    f"the multigraph has parallel edges and its edge attribute {key!r} is not numeric, so the parallel "
                    "edges cannot be merged into one; drop the attribute or convert to a simple graph first"
                )
            data[key] = [value[i] for i in order.tolist()]
    data.edge_index = torch.stack([unique // max(num_nodes, 1), unique % max(num_nodes, 1)]) if merged else edge_index
    data.num_nodes = num_nodes
    if relabel:
        data.node_ids = nodes
    return data


def to_scipy(data_or_edge_index, num_nodes: int | None = None, edge_weight=None) -> sp.csr_matrix:
    """``Data`` (or an ``edge_index``) -> ``scipy.sparse.csr_matrix`` adjacency, with ``edge_weight`` if present.

    Parameters
    ----------
    data_or_edge_index : torch_geometric.data.Data or torch.Tensor of shape (2, E)
        The graph, or its ``edge_index`` (validated against ``num_nodes``).
    num_nodes : int, optional
        Required with a bare ``edge_index``.
    edge_weight : torch.Tensor or numpy.ndarray, shape (E,), optional
        Finite entry values (default: the graph's ``edge_weight``, else ones); duplicate edges are summed. A zero
        weight is stored as an explicit zero.

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
    num_nodes = check_int(num_nodes, "num_nodes", minimum=0)
    edge_index = check_edge_index(edge_index, num_nodes).cpu().numpy()
    if edge_weight is None:
        w = np.ones(edge_index.shape[1], dtype=np.float32)
    else:
        w = check_edge_weight(edge_weight, edge_index.shape[1], "edge_weight").cpu().numpy()
    mat = sp.csr_matrix((w, (edge_index[0], edge_index[1])), shape=(num_nodes, num_nodes))
    mat.sum_duplicates()
    return mat


def from_scipy(matrix, **attrs) -> Data:
    """Sparse adjacency -> ``Data``; non-unit weights become ``edge_weight``.

    Parameters
    ----------
    matrix : scipy.sparse matrix or array, shape (N, N)
        Entry ``(i, j)`` is the edge ``i -> j``; duplicate entries are summed, explicitly stored zeros are no
        edges (as in the loaders), NaN or infinite entries are refused.
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
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"`matrix` must be square, got shape {matrix.shape}")
    if matrix.dtype.kind == "c":
        raise ValueError(f"`matrix` must be real, got dtype {matrix.dtype}")
    coo = sp.coo_matrix(matrix, copy=True)
    coo.sum_duplicates()
    bad = ~np.isfinite(coo.data) if coo.dtype.kind == "f" else np.zeros(coo.nnz, dtype=bool)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"`matrix` holds {int(bad.sum())} NaN or infinite entr(y/ies) (first at ({int(coo.row[i])}, "
            f"{int(coo.col[i])}): {coo.data[i]}); edge weights must be finite"
        )
    coo.eliminate_zeros()  # an explicitly stored 0 is not an edge, as in the loaders
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

    Parameters
    ----------
    data : torch_geometric.data.Data
        The graph.

    Returns
    -------
    dgl.DGLGraph
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

    Parameters
    ----------
    graph : dgl.DGLGraph
        The graph.

    Returns
    -------
    torch_geometric.data.Data
    """
    _import_dgl()
    src, dst = graph.edges()
    data = Data(edge_index=torch.stack([src, dst]).long(), num_nodes=graph.num_nodes())
    for key, value in graph.ndata.items():
        data[key] = value
    if "edge_weight" in graph.edata:
        data.edge_weight = graph.edata["edge_weight"]
    return data
