"""Social and web graphs in their original packaging.

* ``blogcatalog_mat`` -- BlogCatalog (Tang & Liu, "Relational Learning via Latent Social Dimensions", KDD 2009) as
  a MATLAB v5 ``.mat``: ``network`` (sparse adjacency) and ``group`` (sparse node x interest-group matrix), read as
  overlapping ``communities``.
* ``musae`` -- the MUSAE graphs (Rozemberczki, Allen & Sarkar, "Multi-scale Attributed Node Embedding", Journal of
  Complex Networks 2021, https://github.com/benedekrozemberczki/MUSAE): an edge CSV, a JSON of active binary
  attributes per node and a target CSV (Facebook page types as ``y``; the Wikipedia graphs' monthly traffic as
  the regression ``target``).
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphdiff.data.download import open_form
from graphdiff.data.formats._common import (
    communities_from,
    contiguous_labels,
    dense_x,
    edges_of,
    parsing,
    read_text,
    undirected,
)
from graphdiff.data.formats._registry import register_format
from graphdiff.data.formats._text import parse_int_pairs

__all__ = ["read_blogcatalog_mat", "read_musae", "read_blogcatalog", "read_musae_graph"]


def read_blogcatalog_mat(stream) -> dict:
    """BlogCatalog ``.mat`` (MATLAB v5): ``network`` sparse adjacency and ``group`` sparse node-to-group matrix."""
    from scipy.io import loadmat

    mat = loadmat(io.BytesIO(stream.read()))
    return {"network": sp.csr_matrix(mat["network"]), "group": sp.csr_matrix(mat["group"])}


def read_musae(edges_text: str, features_json: str, target_text: str, name: str = "musae") -> dict:
    """MUSAE graph: edge CSV (one header line), JSON ``{node: [feature ids]}``, target CSV (``id`` first, target
    last: ``page_type`` for Facebook, monthly ``target`` traffic for the Wikipedia graphs)."""
    body = edges_text.split("\n", 1)[1] if "\n" in edges_text else ""
    edges = parse_int_pairs(body.replace(",", " ").encode(), f"{name}_edges.csv")
    with parsing(f"{name}_features.json", "JSON"):
        feats = json.loads(features_json)
    nodes = np.fromiter((int(k) for k in feats), dtype=np.int64, count=len(feats))
    counts = np.fromiter((len(v) for v in feats.values()), dtype=np.int64, count=len(feats))
    cols = np.fromiter((c for v in feats.values() for c in v), dtype=np.int64, count=int(counts.sum()))
    rows = np.repeat(nodes, counts)
    reader = csv.reader(io.StringIO(target_text))
    header = next(reader, [""])
    if header[0] != "id":
        raise ValueError(f"{name}_target.csv: unexpected header {header}")
    with parsing(f"{name}_target.csv", "CSV (integer node id first)"):
        table = [(int(r[0]), r[-1]) for r in reader if r]
    ids = np.array([t[0] for t in table], dtype=np.int64)
    values = np.array([t[1] for t in table])
    return {"edges": edges, "feature_rows": rows, "feature_cols": cols, "target_ids": ids, "target": values,
            "target_name": header[-1]}  # fmt: skip


@register_format("blogcatalog_mat")
def read_blogcatalog(name: str, files: dict) -> Data:
    """BlogCatalog ``.mat`` -> ``Data`` with overlapping ``communities`` (interest groups), no ``x`` or ``y``."""
    with parsing(files["graph"], "MATLAB .mat"), open_form(*files["graph"]) as f:
        raw = read_blogcatalog_mat(f)
    num_nodes = raw["network"].shape[0]
    edges, _ = edges_of(raw["network"])
    group = raw["group"].tocoo()
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = undirected(edges, num_nodes)
    data.communities = communities_from(group.row.astype(np.int64), group.col.astype(np.int64), group.shape[1])
    return data


@register_format("musae", features=True)
def read_musae_graph(name: str, files: dict) -> Data:
    """MUSAE files -> ``Data`` with binary ``x`` and ``y`` (Facebook page types) or ``target`` (float32 traffic)."""
    prefix = files["edges"][1]["name"].rsplit("_edges", 1)[0]
    raw = read_musae(read_text(files["edges"]), read_text(files["features"]), read_text(files["target"]), prefix)
    ids = raw["target_ids"]
    num_nodes = ids.size
    if not np.array_equal(np.sort(ids), np.arange(num_nodes)):
        raise ValueError(f"{name}: {prefix}_target.csv must list the node ids 0..n-1 once each")
    target = np.empty(num_nodes, dtype=raw["target"].dtype)
    target[ids] = raw["target"]
    attr = sp.csr_matrix(
        (np.ones(raw["feature_rows"].size, dtype=np.float32), (raw["feature_rows"], raw["feature_cols"])),
        shape=(num_nodes, int(raw["feature_cols"].max()) + 1),
    )
    attr.sum_duplicates()
    attr.data[:] = 1.0  # binary attributes
    data = Data(num_nodes=num_nodes)
    data.x = dense_x(attr)
    data.edge_index, _ = undirected(raw["edges"], num_nodes)
    if raw["target_name"] == "page_type":
        y, class_names = contiguous_labels(target)
        data.y = torch.from_numpy(y)
        data.num_classes = len(class_names)
        data.class_names = class_names
    else:
        try:
            data.target = torch.from_numpy(target.astype(np.float32))
        except ValueError:
            raise ValueError(f"{name}: the {raw['target_name']!r} column is not numeric") from None
    return data
