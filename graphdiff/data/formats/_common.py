"""What every reader shares: reading a verified file and building the canonical :class:`~torch_geometric.data.Data`.

The canonical form (see :func:`graphdiff.data.load`): ``edge_index`` int64, undirected, coalesced, without
self-loops; ``x`` float32 with finite values; ``y`` int64 class ids ``0..K-1``; boolean masks; communities as
sorted LongTensors of node indices.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.utils import remove_self_loops, to_undirected

from graphdiff.data.download import open_form
from graphdiff.data.validation import check_int

__all__ = [
    "describe",
    "parsing",
    "read_bytes",
    "read_text",
    "undirected",
    "edges_of",
    "dense_x",
    "normalize_rows",
    "index_mask",
    "contiguous_labels",
    "communities_from",
    "select_split",
]


def describe(hit) -> str:
    """The file of a ``(path, form)`` hit (or a bare path) as an error message names it."""
    if isinstance(hit, tuple):
        path, form = hit
        member = form.get("member")
        return f"{path} (member {member})" if member else str(path)
    return str(hit)


@contextlib.contextmanager
def parsing(hit, kind: str):
    """Re-raise any error of the parser run inside the block as a ``ValueError`` naming the file and its format.

    The files are checksum-verified before they are read, so this fires only for files loaded with
    ``verify=False`` (or for a form whose bytes the manifest vouches for wrongly): networkx, numpy, scipy and
    pickle errors then name the file instead of surfacing bare.

    Examples
    --------
    >>> with parsing("/data/x.npz", "npz"):
    ...     raise KeyError("adj_data")
    Traceback (most recent call last):
    ...
    ValueError: /data/x.npz is not a readable npz file (KeyError: 'adj_data')
    """
    try:
        yield
    except Exception as exc:
        raise ValueError(f"{describe(hit)} is not a readable {kind} file ({type(exc).__name__}: {exc})") from exc


def read_bytes(hit) -> bytes:
    """All bytes of a verified ``(path, form)`` (the archive member for archive forms)."""
    path, form = hit
    if not form.get("archive"):
        return Path(path).read_bytes()
    with parsing(hit, form["archive"]), open_form(path, form) as f:
        return f.read()


def read_text(hit) -> str:
    """:func:`read_bytes` decoded as UTF-8; a file that is not UTF-8 text raises ``ValueError`` naming it."""
    with parsing(hit, "UTF-8 text"):
        return read_bytes(hit).decode("utf-8")


def undirected(edges: np.ndarray, num_nodes: int, weight: np.ndarray | None = None):
    """Canonical edge set: drop self-loops, add reverse edges, coalesce (weights: max over duplicates)."""
    edge_index = torch.from_numpy(np.ascontiguousarray(edges, dtype=np.int64))
    w = None if weight is None else torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
    edge_index, w = remove_self_loops(edge_index, w)
    if w is None:
        return to_undirected(edge_index, num_nodes=num_nodes), None
    return to_undirected(edge_index, w, num_nodes=num_nodes, reduce="max")


def edges_of(adj: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    """``(2, E)`` int64 endpoints and values of the stored non-zero entries of a sparse adjacency."""
    adj = adj.tocsr(copy=True)
    adj.eliminate_zeros()  # an explicitly stored 0 is not an edge
    coo = adj.tocoo()
    return np.stack([coo.row.astype(np.int64), coo.col.astype(np.int64)]), coo.data


def dense_x(attr) -> torch.Tensor:
    """Dense float32 features; finiteness is checked on the stored (sparse) values, before densifying."""
    values = attr.data if sp.issparse(attr) else np.asarray(attr)
    if not np.isfinite(values).all():
        raise ValueError(f"the raw features contain {int((~np.isfinite(values)).sum())} NaN or infinite value(s)")
    arr = attr.toarray() if sp.issparse(attr) else np.asarray(attr)
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))


def normalize_rows(x: torch.Tensor) -> torch.Tensor:
    """:math:`x_i / \\max(1, \\sum_j x_{ij})`, PyG's ``NormalizeFeatures`` on non-negative features."""
    if x.numel() and float(x.min()) < 0:
        raise ValueError("normalize_features=True needs non-negative features")
    return x / x.sum(dim=1, keepdim=True).clamp(min=1.0)


def index_mask(num_nodes: int, index) -> torch.Tensor:
    """Boolean mask of ``num_nodes`` entries, true at ``index``."""
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    mask[torch.as_tensor(index, dtype=torch.long)] = True
    return mask


def contiguous_labels(values) -> tuple[np.ndarray, list]:
    """Raw label values -> (int64 ids ``0..K-1`` in sorted value order, the K distinct values)."""
    uniq, inv = np.unique(np.asarray(values), return_inverse=True)
    return inv.astype(np.int64).reshape(-1), uniq.tolist()


def communities_from(members: np.ndarray, owner: np.ndarray, num: int) -> list[torch.Tensor]:
    """``num`` sorted LongTensors; community ``c`` holds the ``members`` whose ``owner`` is ``c``."""
    order = np.argsort(owner, kind="stable")
    members, owner = members[order], owner[order]
    bounds = np.searchsorted(owner, np.arange(num + 1))
    flat = torch.from_numpy(members.astype(np.int64))
    return [flat[bounds[i] : bounds[i + 1]].sort().values for i in range(num)]


def select_split(masks: dict, split, num_splits: int) -> dict:
    """``masks`` of shape ``[num_nodes, num_splits]`` as they are (``split=None``) or column ``split``, 1-D."""
    if split is None:
        return masks
    split = check_int(split, "split", minimum=0)
    if split >= num_splits:
        raise ValueError(f"`split` must be None or an int in [0, {num_splits}), got {split!r}")
    return {k: v[:, split].clone() for k, v in masks.items()}
