"""Parsers for the raw file formats of the data root (private; used by :mod:`graphdiff.data.loaders`).

Each parser takes already checksum-verified file paths (or open binary streams) and returns numpy / scipy
objects; turning them into a :class:`torch_geometric.data.Data` (symmetrising, removing self-loops, coalescing)
is left to the loaders. Formats:

* Planetoid ``ind.<name>.*`` Python-2 pickles (Yang et al., ICML 2016), read by a restricted unpickler that only
  admits the scipy / numpy / ``defaultdict`` classes these files contain.
* gnn-benchmark ``.npz`` (Shchur et al. 2018) with ``adj_*`` / ``attr_*`` CSR parts, plain or as a zip member;
  the "SparseGraph" npz layout of APPNP (``adj_matrix.data`` ...); adjacency-only npz (polblogs).
* SNAP edge lists and community files (plain or gzip), parsed with vectorised numpy.
* LocalGraphClustering GraphML + ``.class`` files and tab-separated weighted edge lists with a name-based ground truth.
* GML graphs with a ``gt`` node attribute (networkx).
* NOCD "SparseGraph" npz with a node x community membership matrix (ego-Facebook), SEAL's edge/community texts.
* The heterophilous-graph npz of Platonov et al. (2023) (``node_features``, ``edges``, 10 split masks), the
  BlogCatalog ``.mat`` (zip member) and the MUSAE CSV/JSON files (Facebook Page-Page, Wikipedia graphs).
"""

from __future__ import annotations

import io
import pickle
from collections import defaultdict

import numpy as np
import scipy.sparse as sp

__all__ = [
    "read_planetoid_pickle",
    "read_test_index",
    "planetoid_edges",
    "read_gnn_benchmark_npz",
    "read_sparse_graph_npz",
    "read_adj_npz",
    "read_heterophilous_npz",
    "read_nocd_npz",
    "read_geom_gcn_features",
    "read_blogcatalog_mat",
    "read_musae",
    "parse_int_pairs",
    "parse_int_lines",
    "parse_communities",
    "read_name_edges",
    "read_name_labels",
    "names_to_index",
    "read_graphml",
    "read_gml",
]


# --------------------------------------------------------------------------------------------------- Planetoid
class _PlanetoidUnpickler(pickle.Unpickler):
    """Unpickler for the Planetoid files that refuses any class outside a small allow-list."""

    def find_class(self, module, name):
        if module.startswith("scipy.sparse") and name in {"csr_matrix", "csc_matrix", "coo_matrix"}:
            return getattr(sp, name)
        if module in {"numpy.core.multiarray", "numpy._core.multiarray"} and name in {"_reconstruct", "scalar"}:
            from numpy._core import multiarray

            return getattr(multiarray, name)
        if module == "numpy" and name in {"ndarray", "dtype"}:
            return getattr(np, name)
        if module == "collections" and name == "defaultdict":
            return defaultdict
        if module in {"__builtin__", "builtins"} and name in {"list", "set", "int", "object"}:
            import builtins

            return getattr(builtins, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} from a Planetoid file")


def read_planetoid_pickle(stream):
    """Read one Planetoid pickle (``x``, ``y``, ``tx``, ``ty``, ``allx``, ``ally``, ``graph``)."""
    return _PlanetoidUnpickler(stream, encoding="latin1").load()


def read_test_index(stream) -> np.ndarray:
    """Read ``ind.<name>.test.index``: one node id per line."""
    return parse_int_lines(stream.read())


def planetoid_edges(graph: dict) -> np.ndarray:
    """Edge array ``(2, E)`` from the Planetoid adjacency dict ``{node: [neighbours]}`` (duplicates kept).

    The dict is the one raw format that forces a Python loop (over nodes, to concatenate their lists).
    """
    keys = np.fromiter(graph.keys(), dtype=np.int64, count=len(graph))
    lists = [np.asarray(v, dtype=np.int64).reshape(-1) for v in graph.values()]
    counts = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(lists))
    dst = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    src = np.repeat(keys, counts)
    return np.stack([src, dst])


# --------------------------------------------------------------------------------------------------- npz
def _csr(npz, prefix: str, sep: str = "_") -> sp.csr_matrix:
    return sp.csr_matrix(
        (npz[f"{prefix}{sep}data"], npz[f"{prefix}{sep}indices"], npz[f"{prefix}{sep}indptr"]),
        shape=tuple(int(s) for s in npz[f"{prefix}{sep}shape"]),
    )


def _optional_names(npz, key):
    if key not in npz.files:
        return None
    try:
        arr = npz[key]
    except ValueError:  # an object array: needs allow_pickle, which we do not grant
        return None
    if arr.dtype.kind in "US":
        return [str(s) for s in arr.tolist()]
    return None


def _npz(stream_or_bytes):
    data = stream_or_bytes.read() if hasattr(stream_or_bytes, "read") else stream_or_bytes
    return np.load(io.BytesIO(data), allow_pickle=False)


def read_gnn_benchmark_npz(stream) -> dict:
    """gnn-benchmark npz: ``adj_*``, ``attr_*`` CSR parts and ``labels`` (Shchur et al. 2018)."""
    with _npz(stream) as npz:
        out = {"adj": _csr(npz, "adj"), "labels": np.asarray(npz["labels"]).astype(np.int64)}
        out["attr"] = _csr(npz, "attr") if "attr_data" in npz.files else None
        out["class_names"] = _optional_names(npz, "class_names")
    return out


def read_sparse_graph_npz(stream) -> dict:
    """APPNP "SparseGraph" npz: ``adj_matrix.*``, ``attr_matrix.*``, ``labels`` (pickled ``None`` keys skipped)."""
    with _npz(stream) as npz:
        out = {
            "adj": _csr(npz, "adj_matrix", "."),
            "attr": _csr(npz, "attr_matrix", "."),
            "labels": np.asarray(npz["labels"]).astype(np.int64),
            "class_names": _optional_names(npz, "class_names"),
        }
    return out


def read_adj_npz(stream) -> dict:
    """Adjacency-only npz (``adj_*`` CSR parts and ``labels``), as the polblogs file of the attack literature."""
    with _npz(stream) as npz:
        return {"adj": _csr(npz, "adj"), "labels": np.asarray(npz["labels"]).astype(np.int64)}


def read_nocd_npz(stream) -> dict:
    """NOCD "SparseGraph" npz: ``adj_matrix.*``, ``attr_matrix.*`` and ``labels.*`` (node x community CSR)."""
    with _npz(stream) as npz:
        return {
            "adj": _csr(npz, "adj_matrix", "."),
            "attr": _csr(npz, "attr_matrix", ".") if "attr_matrix.data" in npz.files else None,
            "membership": _csr(npz, "labels", "."),
        }


def read_geom_gcn_features(text: str, name: str = "out1_node_feature_label.txt"):
    """Geom-GCN ``out1_node_feature_label.txt`` -> (node ids, feature rows, feature cols, labels, num_features).

    The feature field is either a dense comma-separated 0/1 vector (WebKB) or, when the header says
    ``feature_amount``, a list of active feature indices (film).
    """
    lines = text.splitlines()
    sparse = "feature_amount" in lines[0]
    rows = [line.split("\t") for line in lines[1:] if line.strip()]
    bad = next((i for i, r in enumerate(rows) if len(r) != 3), None)
    if bad is not None:
        raise ValueError(f"{name}: line {bad + 2} does not have three tab-separated fields")
    ids = np.array([r[0] for r in rows], dtype=np.int64)
    labels = np.array([r[2] for r in rows], dtype=np.int64)
    fields = [r[1].split(",") if r[1] else [] for r in rows]
    counts = np.fromiter((len(f) for f in fields), dtype=np.int64, count=len(fields))
    values = np.array([v for f in fields for v in f], dtype=np.int64)
    owner = np.repeat(ids, counts)
    if sparse:  # film: indices reach 931 although the header announces 931 features; 932 columns as in PyG
        return ids, owner, values, labels, int(values.max()) + 1
    if counts.min() != counts.max():
        raise ValueError(f"{name}: dense feature vectors of different lengths")
    pos = np.tile(np.arange(counts[0]), ids.size)
    keep = values != 0
    return ids, owner[keep], pos[keep], labels, int(counts[0])


def read_heterophilous_npz(stream) -> dict:
    """Platonov et al. (2023) npz: ``node_features``, ``node_labels``, ``edges`` [E, 2] and 10 split masks."""
    with _npz(stream) as npz:
        return {k: np.asarray(npz[k]) for k in
                ("node_features", "node_labels", "edges", "train_masks", "val_masks", "test_masks")}  # fmt: skip


def read_blogcatalog_mat(stream) -> dict:
    """BlogCatalog ``.mat`` (MATLAB v5): ``network`` sparse adjacency and ``group`` sparse node-to-group matrix."""
    from scipy.io import loadmat

    mat = loadmat(io.BytesIO(stream.read()))
    return {"network": sp.csr_matrix(mat["network"]), "group": sp.csr_matrix(mat["group"])}


def read_musae(edges_text: str, features_json: str, target_text: str, name: str = "musae") -> dict:
    """MUSAE graph: edge CSV (one header line), JSON ``{node: [feature ids]}``, target CSV (``id`` first, target
    last: ``page_type`` for Facebook, monthly ``target`` traffic for the Wikipedia graphs)."""
    import csv
    import json

    body = edges_text.split("\n", 1)[1] if "\n" in edges_text else ""
    edges = parse_int_pairs(body.replace(",", " ").encode(), f"{name}_edges.csv")
    feats = json.loads(features_json)
    nodes = np.fromiter((int(k) for k in feats), dtype=np.int64, count=len(feats))
    counts = np.fromiter((len(v) for v in feats.values()), dtype=np.int64, count=len(feats))
    cols = np.fromiter((c for v in feats.values() for c in v), dtype=np.int64, count=int(counts.sum()))
    rows = np.repeat(nodes, counts)
    reader = csv.reader(io.StringIO(target_text))
    header = next(reader)
    if header[0] != "id":
        raise ValueError(f"{name}_target.csv: unexpected header {header}")
    table = [(int(r[0]), r[-1]) for r in reader if r]
    ids = np.array([t[0] for t in table], dtype=np.int64)
    values = np.array([t[1] for t in table])
    return {"edges": edges, "feature_rows": rows, "feature_cols": cols, "target_ids": ids, "target": values,
            "target_name": header[-1]}  # fmt: skip


# --------------------------------------------------------------------------------------------------- text
def _strip_header(text: bytes) -> bytes:
    """Drop leading ``#`` comment lines (SNAP headers); only the header is scanned, the body stays one buffer."""
    while text.lstrip().startswith(b"#"):
        text = text.lstrip()
        newline = text.find(b"\n")
        text = b"" if newline < 0 else text[newline + 1 :]
    return text


def parse_int_lines(text: bytes, name: str = "file") -> np.ndarray:
    """All whitespace-separated integers of a text (leading ``#`` lines dropped), as int64.

    A token that is not an integer raises ``ValueError`` (never skipped).
    """
    tokens = _strip_header(text).split()
    if not tokens:
        return np.zeros(0, dtype=np.int64)
    try:
        return np.array(tokens, dtype=np.int64)
    except ValueError as exc:
        raise ValueError(f"{name}: expected whitespace-separated integers ({exc})") from None


def parse_int_pairs(text: bytes, name: str = "edge list") -> np.ndarray:
    """``(2, E)`` int64 array from a text with two integers per line (SNAP edge lists), vectorised."""
    flat = parse_int_lines(text, name)
    if flat.size % 2:
        raise ValueError(f"{name}: expected two integers per line, got {flat.size} integers in all")
    return flat.reshape(-1, 2).T.copy()


def parse_communities(text: bytes, name: str = "community file") -> tuple[np.ndarray, np.ndarray]:
    """SNAP community file (one community per line) -> (members, community id of each member)."""
    lines = [line for line in _strip_header(text).split(b"\n") if line.strip()]
    sizes = np.fromiter((len(line.split()) for line in lines), dtype=np.int64, count=len(lines))
    members = parse_int_lines(b" ".join(lines), name)
    owner = np.repeat(np.arange(len(lines), dtype=np.int64), sizes)
    return members, owner


def read_name_edges(text: str, name: str = "edge list") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tab-separated ``source target weight`` rows with a header line -> (sources, targets, weights float64)."""
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


# --------------------------------------------------------------------------------------------------- graphs
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


def read_gml(path, attribute: str = "gt"):
    """GML with a ground-truth node attribute -> (names, (2, E) int64 edges, raw attribute values)."""
    import networkx as nx

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
