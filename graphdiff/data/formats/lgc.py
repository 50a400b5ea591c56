"""Graphs read through networkx or by node name: the LocalGraphClustering sets and the GML community graphs.

* ``lgc_graphml`` -- a GraphML graph with a ``.class`` file of one integer cluster id per node and a name-based
  ground truth of (overlapping) communities (``ppi_mips``, ``sfld``), as distributed with the LocalGraphClustering
  package (Fountoulakis, Gleich & Mahoney, https://arxiv.org/abs/1810.07324).
* ``lgc_csv`` -- a tab-separated weighted edge list between node names and a ``name \\t label`` ground truth
  (``astral``).
* ``gml`` -- GML graphs whose nodes carry their ground-truth community in a ``gt`` attribute (karate, football,
  polbooks, dolphins).

Infinite edge weights (12 in ``astral``) are handled by the ``inf_weight`` option: ``"max"`` (default) replaces
them by the largest finite weight with a warning, ``"error"`` refuses them, a positive number replaces them by it.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from torch_geometric.data import Data

from graphdiff.data.formats._common import communities_from, contiguous_labels, parsing, read_text, undirected
from graphdiff.data.formats._registry import register_format
from graphdiff.data.validation import check_choice, check_float, check_str

__all__ = [
    "read_graphml",
    "read_gml",
    "read_name_edges",
    "read_name_labels",
    "names_to_index",
    "check_inf_weight",
    "read_lgc_graphml",
    "read_lgc_csv",
    "read_gml_graph",
]


def check_inf_weight(value, name: str = "inf_weight"):
    """The ``inf_weight`` option: ``"max"``, ``"error"`` or a positive finite number (returned as a float)."""
    if isinstance(value, str):
        return check_choice(value, name, ("max", "error"))
    try:
        return check_float(value, name, minimum=0.0, low_open=True)
    except ValueError as exc:
        raise ValueError(f"{exc} (`{name}` must be 'max', 'error' or a positive finite number)") from None


INF_WEIGHT_OPTION = {"inf_weight": check_inf_weight}


# --------------------------------------------------------------------------------------------------- parsers
def read_graphml(path, weight_key: str = "weight"):
    """GraphML -> (node names in file order, (2, E) int64 edges, weights or None, directed flag).

    The adjacency is taken with :func:`networkx.to_scipy_sparse_array` in the file's node order (an undirected
    graph yields both directions); ``weights`` is ``None`` when no edge carries ``weight_key``.
    """
    import networkx as nx

    g = nx.read_graphml(path)
    names = list(g.nodes())
    has_weight = any(weight_key in d for _, _, d in g.edges(data=True))
    adj = nx.to_scipy_sparse_array(g, nodelist=names, weight=weight_key if has_weight else None, format="coo")
    edges = np.stack([adj.row.astype(np.int64), adj.col.astype(np.int64)])
    weights = adj.data.astype(np.float64) if has_weight else None
    return names, edges, weights, g.is_directed()


def _edge_attribute_names(path) -> set:
    """Names of the edge attributes declared in a GraphML file (its ``<key for="edge">`` elements)."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    return {k.get("attr.name") for k in root.iter() if k.tag.endswith("key") and k.get("for") == "edge"}


def read_gml(path, attribute: str = "gt"):
    """GML with a ground-truth node attribute -> (names, (2, E) int64 edges, raw attribute values)."""
    import networkx as nx

    with parsing(path, "GML"):
        g = nx.read_gml(path, label=None)
    nodes = list(g.nodes())
    index = {n: i for i, n in enumerate(nodes)}
    edges = np.array([(index[u], index[v]) for u, v in g.edges()], dtype=np.int64).reshape(-1, 2).T
    missing = [n for n in nodes if attribute not in g.nodes[n]]
    if missing:
        raise ValueError(f"{path}: {len(missing)} node(s) lack the {attribute!r} attribute (first: {missing[0]!r})")
    values = [g.nodes[n][attribute] for n in nodes]
    names = [str(g.nodes[n].get("label", n)) for n in nodes]
    return names, edges, values


def read_name_edges(text: str, name: str = "edge list") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tab-separated ``source target weight`` rows with a header line -> (sources, targets, weights float64).

    Examples
    --------
    >>> src, dst, w = read_name_edges("s\\tt\\tw\\nb\\ta\\t2.5\\nc\\tb\\tinf\\n")
    >>> src.tolist(), dst.tolist(), w.tolist()
    (['b', 'c'], ['a', 'b'], [2.5, inf])
    """
    rows = [line.split("\t") for line in text.splitlines()[1:] if line.strip()]
    bad = [i + 2 for i, r in enumerate(rows) if len(r) != 3]
    if bad:
        raise ValueError(f"{name}: line {bad[0]} does not have three tab-separated fields")
    arr = np.array(rows, dtype=object)
    src = arr[:, 0].astype(str)
    dst = arr[:, 1].astype(str)
    weight = arr[:, 2].astype(np.float64)
    return src, dst, weight


def names_to_index(names: np.ndarray, vocabulary, what: str) -> np.ndarray:
    """Vectorised lookup of each of ``names`` in ``vocabulary`` (a list of distinct strings) -> int64 positions.

    Raises ``ValueError`` naming the first unknown name.

    Examples
    --------
    >>> names_to_index(["b", "c"], ["c", "a", "b"], "edge endpoints").tolist()
    [2, 0]
    """
    vocab = np.asarray(vocabulary, dtype=str)
    order = np.argsort(vocab, kind="stable")
    ordered = vocab[order]
    names = np.asarray(names, dtype=str)
    pos = np.minimum(np.searchsorted(ordered, names), max(ordered.size - 1, 0))
    known = ordered[pos] == names if ordered.size else np.zeros(names.shape, dtype=bool)
    if not known.all():
        raise ValueError(f"{what}: {int((~known).sum())} name(s) are unknown (first {names[~known][0]!r})")
    return order[pos].astype(np.int64)


def read_name_labels(text: str) -> list[tuple[str, str]]:
    """Tab-separated ``node_name \\t label`` rows (no header) -> list of pairs (label stripped of spaces)."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, label = line.partition("\t")
        out.append((name.strip(), label.strip()))
    return out


def _inf_weights(weight: np.ndarray, name: str, inf_weight) -> np.ndarray:
    bad = ~np.isfinite(weight)
    if not bad.any():
        return weight
    if np.isnan(weight).any():
        raise ValueError(f"{name}: {int(np.isnan(weight).sum())} edge weight(s) are NaN")
    inf_weight = check_inf_weight(inf_weight)
    if inf_weight == "error":
        raise ValueError(f"{name}: {int(bad.sum())} edge weight(s) are infinite (pass inf_weight='max' or a number)")
    value = float(weight[~bad].max()) if inf_weight == "max" else float(inf_weight)
    warnings.warn(
        f"{name}: {int(bad.sum())} infinite edge weight(s) replaced by {value:g} (inf_weight={inf_weight!r})",
        stacklevel=2,
    )
    weight = weight.copy()
    weight[bad] = value
    return weight


# --------------------------------------------------------------------------------------------------- readers
@register_format("lgc_graphml", options={**INF_WEIGHT_OPTION, "weight_key": check_str})
def read_lgc_graphml(name: str, files: dict, inf_weight="max", weight_key: str | None = None) -> Data:
    """GraphML + ``.class`` + ground truth -> ``Data`` with ``y``, ``communities`` and ``edge_weight`` when the
    ``weight_key`` attribute (default ``"weight"``, when the edges have it) is not 1 everywhere; a ``weight_key``
    given explicitly must be an attribute of the edges."""
    with parsing(files["graph"], "GraphML"):
        names, edges, weight, _ = read_graphml(files["graph"][0], weight_key or "weight")
    if weight is None and weight_key is not None:
        with parsing(files["graph"], "GraphML"):
            keys = sorted(_edge_attribute_names(files["graph"][0]))
        raise ValueError(
            f"{name}: no edge carries the attribute weight_key={weight_key!r}; "
            f"the edge attributes are {', '.join(map(repr, keys)) or 'none'}"
        )
    num_nodes = len(names)
    with parsing(files["class"], ".class (one number per line)"):
        raw = np.loadtxt(files["class"][0], dtype=np.float64, ndmin=1)
    if raw.size != num_nodes or not np.array_equal(raw, np.round(raw)):
        raise ValueError(f"{name}: the .class file must hold one integer cluster id per graph node ({num_nodes})")
    y, class_values = contiguous_labels(raw.astype(np.int64))
    data = Data(num_nodes=num_nodes)
    if weight is not None:
        weight = _inf_weights(weight, name, inf_weight)
    data.edge_index, w = undirected(edges, num_nodes, weight)
    if w is not None and not bool((w == 1).all()):
        data.edge_weight = w
    data.y = torch.from_numpy(y)
    data.num_classes = len(class_values)
    data.class_values = class_values
    data.node_names = names
    truth = read_name_labels(read_text(files["ground_truth"]))
    labels, owner = np.unique(np.array([lab for _, lab in truth], dtype=str), return_inverse=True)
    labels = labels.tolist()
    members = names_to_index([n for n, _ in truth], names, f"{name}: ground-truth rows naming unknown nodes")
    data.communities = communities_from(members, owner, len(labels))
    data.community_names = labels
    return data


@register_format("lgc_csv", options=INF_WEIGHT_OPTION)
def read_lgc_csv(name: str, files: dict, inf_weight="max") -> Data:
    """Weighted name edge list + ground truth -> ``Data`` with ``edge_weight``, ``y`` and ``class_names``."""
    truth = read_name_labels(read_text(files["ground_truth"]))
    names = [n for n, _ in truth]
    if len(set(names)) != len(names):
        raise ValueError(f"{name}: the ground-truth file lists a node twice")
    src, dst, weight = read_name_edges(read_text(files["edges"]), files["edges"][1]["name"])
    what = f"{name}: edge endpoints not in the ground-truth file"
    edges = np.stack([names_to_index(src, names, what), names_to_index(dst, names, what)])
    weight = _inf_weights(weight, name, inf_weight)
    num_nodes = len(names)
    y, class_values = contiguous_labels([lab for _, lab in truth])
    data = Data(num_nodes=num_nodes)
    data.edge_index, data.edge_weight = undirected(edges, num_nodes, weight)
    data.y = torch.from_numpy(y)
    data.num_classes = len(class_values)
    data.class_names = class_values
    data.node_names = names
    return data


@register_format("gml")
def read_gml_graph(name: str, files: dict) -> Data:
    """GML with a ``gt`` node attribute -> ``Data`` with ``y`` (the ``gt`` values as class ids)."""
    names, edges, values = read_gml(files["graph"][0])
    y, class_values = contiguous_labels(values)
    num_nodes = len(names)
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = undirected(edges, num_nodes)
    data.y = torch.from_numpy(y)
    data.num_classes = len(class_values)
    data.class_values = class_values
    data.node_names = names
    return data
