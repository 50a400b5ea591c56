"""NumPy ``.npz`` graph formats, read with ``allow_pickle=False``.

* ``gnn_benchmark_npz`` -- the gnn-benchmark files of Shchur et al., "Pitfalls of Graph Neural Network Evaluation"
  (2018, https://arxiv.org/abs/1811.05868): ``adj_*`` / ``attr_*`` CSR parts and ``labels`` (Amazon, Coauthor,
  Cora-ML, the npz Cora / CiteSeer), plain or as a zip member.
* ``sparse_graph_npz`` -- the "SparseGraph" layout of the APPNP code (``adj_matrix.data`` ...).
* ``adj_npz`` -- an adjacency and labels only (the polblogs file of the graph-attack literature).
* ``nocd_npz`` -- the NOCD "SparseGraph" files (Shchur & Günnemann, 2019, https://arxiv.org/abs/1909.12201) with a
  node x community membership matrix (the ego-Facebook circles).
* ``heterophilous_npz`` -- the files of Platonov et al., "A critical look at the evaluation of GNNs under
  heterophily" (ICLR 2023, https://arxiv.org/abs/2302.11640): ``node_features``, ``node_labels``, ``edges``
  ``[E, 2]`` and 10 fixed splits.
"""

from __future__ import annotations

import io
from functools import partial

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphdiff.data.download import open_form
from graphdiff.data.formats._common import communities_from, dense_x, edges_of, parsing, select_split, undirected
from graphdiff.data.formats._registry import register_format
from graphdiff.data.validation import check_int

__all__ = [
    "read_gnn_benchmark_npz",
    "read_sparse_graph_npz",
    "read_adj_npz",
    "read_nocd_npz",
    "read_heterophilous_npz",
]

#: The ``split`` option of the formats with fixed splits: ``None`` (all of them) or a split index.
SPLIT_OPTION = {"split": partial(check_int, minimum=0, allow_none=True)}


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


# --------------------------------------------------------------------------------------------------- parsers
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


def read_heterophilous_npz(stream) -> dict:
    """Platonov et al. (2023) npz: ``node_features``, ``node_labels``, ``edges`` [E, 2] and 10 split masks."""
    with _npz(stream) as npz:
        return {k: np.asarray(npz[k]) for k in
                ("node_features", "node_labels", "edges", "train_masks", "val_masks", "test_masks")}  # fmt: skip


# --------------------------------------------------------------------------------------------------- readers
def _labelled_graph(parsed) -> Data:
    adj, labels = parsed["adj"], parsed["labels"]
    if labels.ndim == 2:  # one-hot labels
        labels = labels.argmax(axis=1)
    num_nodes = adj.shape[0]
    edges, _ = edges_of(adj)
    data = Data()
    if parsed.get("attr") is not None:
        data.x = dense_x(parsed["attr"])
    data.edge_index, _ = undirected(edges, num_nodes)
    data.y = torch.from_numpy(labels.astype(np.int64))
    data.num_nodes = num_nodes
    names = parsed.get("class_names")
    data.num_classes = len(names) if names else int(labels.max()) + 1
    if names:
        data.class_names = names
    return data


@register_format("gnn_benchmark_npz", features=True)
def read_gnn_benchmark(name: str, files: dict) -> Data:
    """gnn-benchmark npz -> ``Data`` with ``x``, ``y`` (and ``class_names`` when the file has them)."""
    with parsing(files["graph"], "gnn-benchmark npz"), open_form(*files["graph"]) as f:
        parsed = read_gnn_benchmark_npz(f)
    return _labelled_graph(parsed)


@register_format("sparse_graph_npz", features=True)
def read_sparse_graph(name: str, files: dict) -> Data:
    """APPNP "SparseGraph" npz -> ``Data`` with ``x`` and ``y``."""
    with parsing(files["graph"], "SparseGraph npz"), open_form(*files["graph"]) as f:
        parsed = read_sparse_graph_npz(f)
    return _labelled_graph(parsed)


@register_format("adj_npz")
def read_adjacency(name: str, files: dict) -> Data:
    """Adjacency-only npz -> ``Data`` with ``y`` and no ``x``."""
    with parsing(files["graph"], "adjacency npz"), open_form(*files["graph"]) as f:
        parsed = read_adj_npz(f)
    return _labelled_graph(parsed)


@register_format("nocd_npz", features=True)
def read_nocd(name: str, files: dict) -> Data:
    """NOCD npz -> ``Data`` with ``x`` (when stored) and overlapping ``communities``, no ``y``."""
    with parsing(files["graph"], "NOCD npz"), open_form(*files["graph"]) as f:
        raw = read_nocd_npz(f)
    num_nodes = raw["adj"].shape[0]
    edges, _ = edges_of(raw["adj"])
    data = Data(num_nodes=num_nodes)
    if raw["attr"] is not None:
        data.x = dense_x(raw["attr"])
    data.edge_index, _ = undirected(edges, num_nodes)
    member = raw["membership"].tocoo()
    keep = member.data != 0
    data.communities = communities_from(
        member.row[keep].astype(np.int64), member.col[keep].astype(np.int64), member.shape[1]
    )
    return data


@register_format("heterophilous_npz", options=SPLIT_OPTION, features=True)
def read_heterophilous(name: str, files: dict, split=None) -> Data:
    """Platonov et al. npz -> ``Data`` with ``x``, ``y`` and the 10 fixed splits (or split ``split``)."""
    with parsing(files["graph"], "heterophilous-graph npz"), open_form(*files["graph"]) as f:
        raw = read_heterophilous_npz(f)
    x = raw["node_features"]
    num_nodes = x.shape[0]
    edges = raw["edges"].astype(np.int64)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"{name}: `edges` must have shape (num_edges, 2), got {edges.shape}")
    masks = {
        k: torch.from_numpy(raw[f"{k}s"].astype(bool)).T.contiguous() for k in ("train_mask", "val_mask", "test_mask")
    }
    masks = select_split(masks, split, masks["train_mask"].size(1))
    data = Data(num_nodes=num_nodes)
    data.x = dense_x(x)
    data.edge_index, _ = undirected(edges.T, num_nodes)
    data.y = torch.from_numpy(raw["node_labels"].astype(np.int64))
    data.num_classes = int(data.y.max()) + 1
    for k, v in masks.items():
        setattr(data, k, v)
    return data
