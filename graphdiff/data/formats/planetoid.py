"""The Planetoid split format (Yang, Cohen & Salakhutdinov, ICML 2016, https://arxiv.org/abs/1603.08861).

``ind.<name>.{x,y,tx,ty,allx,ally,graph}`` are Python-2 pickles, read by a restricted unpickler that only admits
the scipy / numpy / ``defaultdict`` classes these files contain; ``ind.<name>.test.index`` lists one node id per
line. Nodes are ordered as ``allx`` (labelled + unlabelled training pool) followed by the test rows; ``tx``/``ty``
list the test nodes in sorted-id order and ``test.index`` gives each node's id, so the stacked rows are permuted to
put test node ``test_index[k]`` at its id. Public split: the first ``len(y)`` nodes train, the next 500 validate,
``test.index`` tests (the GCN / PyG convention).
"""

from __future__ import annotations

import builtins
import pickle
from collections import defaultdict

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

from graphdiff.data.download import open_form
from graphdiff.data.formats._common import dense_x, index_mask, parsing, undirected
from graphdiff.data.formats._registry import register_format
from graphdiff.data.formats._text import parse_int_lines

__all__ = ["read_planetoid_pickle", "read_test_index", "planetoid_edges", "read_planetoid"]

FEATURE_ROLES = ("x", "tx", "allx")


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

    Examples
    --------
    >>> planetoid_edges({0: [1, 2], 2: [0]}).tolist()
    [[0, 0, 2], [1, 2, 0]]
    """
    keys = np.fromiter(graph.keys(), dtype=np.int64, count=len(graph))
    lists = [np.asarray(v, dtype=np.int64).reshape(-1) for v in graph.values()]
    counts = np.fromiter((len(v) for v in lists), dtype=np.int64, count=len(lists))
    dst = np.concatenate(lists) if lists else np.zeros(0, dtype=np.int64)
    src = np.repeat(keys, counts)
    return np.stack([src, dst])


@register_format("planetoid", feature_roles=FEATURE_ROLES)
def read_planetoid(name: str, files: dict, features: bool = True) -> Data:
    """Planetoid files -> ``Data`` with ``x`` (unless ``features=False``), ``y`` and the public split masks."""
    with parsing(files["test.index"], "Planetoid test.index"), open_form(*files["test.index"]) as f:
        test_index = read_test_index(f)
    objs = {}
    for ext in ("y", "ty", "ally", "graph") + (FEATURE_ROLES if features else ()):
        with parsing(files[ext], "Planetoid pickle"), open_form(*files[ext]) as f:
            objs[ext] = read_planetoid_pickle(f)
    sorted_test = np.sort(test_index)
    lo, hi = int(sorted_test[0]), int(sorted_test[-1])
    num_test_slots = hi - lo + 1
    ally, ty = np.asarray(objs["ally"]), np.asarray(objs["ty"])
    num_labelled = ally.shape[0]
    if num_test_slots != ty.shape[0]:  # CiteSeer: isolated test ids without data -> zero rows, as PyG/GCN do
        ty_full = np.zeros((num_test_slots, ty.shape[1]), dtype=ty.dtype)
        ty_full[sorted_test - lo] = ty
        ty = ty_full
    num_nodes = num_labelled + num_test_slots
    # Row i of the stacked arrays belongs to node perm^-1(i): test rows are listed in sorted order, node test_index[k]
    # takes the row of sorted_test[k].
    perm = np.arange(num_nodes)
    perm[test_index] = sorted_test
    y = np.vstack([ally, ty])[perm].argmax(axis=1).astype(np.int64)
    data = Data()
    if features:
        allx, tx = objs["allx"].tocsr(), objs["tx"].tocsr()
        if tx.shape[0] != num_test_slots:
            rows = sp.coo_matrix(tx)
            tx = sp.csr_matrix((rows.data, (sorted_test[rows.row] - lo, rows.col)), shape=(num_test_slots, tx.shape[1]))
        data.x = dense_x(sp.vstack([allx, tx]).tocsr()[perm])
    edges = planetoid_edges(objs["graph"])
    data.edge_index, _ = undirected(edges, num_nodes)
    data.y = torch.from_numpy(y)
    num_train = np.asarray(objs["y"]).shape[0]
    data.train_mask = index_mask(num_nodes, np.arange(num_train))
    data.val_mask = index_mask(num_nodes, np.arange(num_train, num_train + 500))
    data.test_mask = index_mask(num_nodes, test_index)
    data.num_nodes = num_nodes
    data.num_classes = int(ally.shape[1])
    return data
