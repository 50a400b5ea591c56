"""The Geom-GCN files (Pei et al., "Geom-GCN: Geometric Graph Convolutional Networks", ICLR 2020,
https://arxiv.org/abs/2002.05287): ``out1_node_feature_label.txt``, ``out1_graph_edges.txt`` and 10 fixed splits
``*_split_0.6_0.2_<k>.npz`` (film, and the WebKB graphs cornell, texas, wisconsin)."""

from __future__ import annotations

import io

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphdiff.data.download import open_form
from graphdiff.data.formats._common import dense_x, parsing, read_text, select_split, undirected
from graphdiff.data.formats._registry import register_format
from graphdiff.data.formats._text import parse_int_pairs
from graphdiff.data.formats.npz import SPLIT_OPTION

__all__ = ["read_geom_gcn_features", "read_geom_gcn"]

NUM_SPLITS = 10


def read_geom_gcn_features(text: str, name: str = "out1_node_feature_label.txt"):
    """Geom-GCN ``out1_node_feature_label.txt`` -> (node ids, feature rows, feature cols, labels, num_features).

    The feature field is either a dense comma-separated 0/1 vector (WebKB) or, when the header says
    ``feature_amount``, a list of active feature indices (film).

    Examples
    --------
    >>> text = "node_id\\tfeature\\tlabel\\n1\\t0,1,1\\t2\\n0\\t1,0,0\\t0\\n"
    >>> ids, rows, cols, labels, k = read_geom_gcn_features(text)
    >>> ids.tolist(), rows.tolist(), cols.tolist(), labels.tolist(), k
    ([1, 0], [1, 1, 0], [1, 2, 0], [2, 0], 3)
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


@register_format("geom_gcn", options=SPLIT_OPTION, features=True)
def read_geom_gcn(name: str, files: dict, split=None) -> Data:
    """Geom-GCN files -> ``Data`` with binary ``x``, ``y`` and the 10 fixed splits (or split ``split``)."""
    text = read_text(files["features"])
    ids, rows, cols, labels, num_features = read_geom_gcn_features(text, files["features"][1]["name"])
    num_nodes = ids.size
    if not np.array_equal(np.sort(ids), np.arange(num_nodes)):
        raise ValueError(f"{name}: node ids must be 0..{num_nodes - 1}, each once")
    attr = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(num_nodes, num_features))
    attr.sum_duplicates()
    attr.data[:] = 1.0
    y = np.empty(num_nodes, dtype=np.int64)
    y[ids] = labels
    body = read_text(files["edges"]).split("\n", 1)[1]
    edges = parse_int_pairs(body.encode(), files["edges"][1]["name"])
    masks = {"train_mask": [], "val_mask": [], "test_mask": []}
    for k in range(NUM_SPLITS):
        with parsing(files[f"split_{k}"], "Geom-GCN split npz"), open_form(*files[f"split_{k}"]) as f:
            with np.load(io.BytesIO(f.read()), allow_pickle=False) as npz:
                for key in masks:
                    masks[key].append(torch.from_numpy(npz[key].astype(bool)))
    masks = {key: torch.stack(v, dim=1) for key, v in masks.items()}
    data = Data(num_nodes=num_nodes)
    data.x = dense_x(attr)
    data.edge_index, _ = undirected(edges, num_nodes)
    data.y = torch.from_numpy(y)
    data.num_classes = int(y.max()) + 1
    for key, v in select_split(masks, split, NUM_SPLITS).items():
        setattr(data, key, v)
    return data
