"""SNAP edge lists and community files (Leskovec & Krevl, https://snap.stanford.edu/data), plain or gzip.

* ``snap_email`` -- email-Eu-core with its department labels (node ids 0..n-1 as they are).
* ``snap_communities`` -- an ``*.ungraph.txt`` edge list and a ``*.cmty.txt`` community file (com-DBLP): node ids
  are remapped to 0..n-1 in sorted order, the original ids kept as ``data.node_ids``.
* ``seal_communities`` -- the com-Amazon subgraph released with SEAL (Zhang et al., "SEAL: Learning Heuristics for
  Community Detection with Generative Adversarial Networks", KDD 2020, https://github.com/yzhang1918/kdd2020seal):
  an edge list and a community file inside one archive.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.data import Data

from graphdiff.data.formats._common import communities_from, read_bytes, undirected
from graphdiff.data.formats._registry import register_format
from graphdiff.data.formats._text import parse_communities, parse_int_pairs

__all__ = ["read_snap_email", "read_snap_communities", "read_seal_communities"]


@register_format("snap_email")
def read_snap_email(name: str, files: dict) -> Data:
    """email-Eu-core -> ``Data`` with ``y`` (department of each node)."""
    edges = parse_int_pairs(read_bytes(files["edges"]), "email-Eu-core.txt")
    pairs = parse_int_pairs(read_bytes(files["labels"]), "email-Eu-core-department-labels.txt")
    nodes, dept = pairs
    num_nodes = int(max(edges.max(), nodes.max())) + 1
    if np.unique(nodes).size != nodes.size or nodes.size != num_nodes:
        raise ValueError(f"{name}: the department file must list every node 0..{num_nodes - 1} exactly once")
    y = np.empty(num_nodes, dtype=np.int64)
    y[nodes] = dept
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = undirected(edges, num_nodes)
    data.y = torch.from_numpy(y)
    data.num_classes = int(y.max()) + 1
    return data


@register_format("snap_communities")
def read_snap_communities(name: str, files: dict) -> Data:
    """SNAP edge list + community file -> ``Data`` with ``node_ids`` and ``communities``."""
    edges = parse_int_pairs(read_bytes(files["edges"]), files["edges"][1]["name"])
    members, owner = parse_communities(read_bytes(files["communities"]), files["communities"][1]["name"])
    node_ids, inverse = np.unique(edges, return_inverse=True)
    edges = inverse.reshape(2, -1).astype(np.int64)
    pos = np.searchsorted(node_ids, members)
    pos_clipped = np.minimum(pos, node_ids.size - 1)
    unknown = node_ids[pos_clipped] != members
    if unknown.any():
        raise ValueError(
            f"{name}: {int(unknown.sum())} community member(s) are not nodes of the graph "
            f"(first id {int(members[unknown][0])})"
        )
    num_nodes = int(node_ids.size)
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = undirected(edges, num_nodes)
    data.node_ids = torch.from_numpy(node_ids.astype(np.int64))
    data.communities = communities_from(pos, owner, int(owner.max()) + 1 if owner.size else 0)
    return data


@register_format("seal_communities")
def read_seal_communities(name: str, files: dict) -> Data:
    """SEAL's edge and community texts -> ``Data`` with ``communities`` (node ids as stored)."""
    edges = parse_int_pairs(read_bytes(files["edges"]), files["edges"][1]["member"])
    members, owner = parse_communities(read_bytes(files["communities"]), files["communities"][1]["member"])
    num_nodes = int(max(edges.max(), members.max())) + 1
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = undirected(edges, num_nodes)
    data.communities = communities_from(members, owner, int(owner.max()) + 1)
    return data
