"""Dataset loaders: raw files of the data root -> :class:`torch_geometric.data.Data`.

Implements the "Loaders" part of issue 2 (the shared graph data layer). Every dataset is described by one entry of
``datasets/manifest.json`` (shipped as ``graphdiff/data/manifest.json``): its folder under the data root, its files
with the canonical URL and checksum of each accepted form, licence, citation and the counts a correct load must
reproduce. The data root is laid out as ``<root>/<folder>/raw/<original file name>`` and resolved as

1. the ``root`` argument, else
2. the ``GRAPHDIFF_DATA`` environment variable, else
3. the user cache directory ``$XDG_CACHE_HOME/graphdiff`` (default ``~/.cache/graphdiff``).

Every graph is returned in one canonical form: ``edge_index`` int64, undirected (both directions stored),
coalesced (sorted, no duplicates) and without self-loops; ``x`` float32 raw features (no normalisation unless
``normalize_features=True``, the row normalisation :math:`x_i \\leftarrow x_i / \\max(1, \\sum_j x_{ij})` that PyG's
``NormalizeFeatures`` applies to non-negative features); ``y`` int64 with ``data.num_classes``; the Planetoid
public split as ``train_mask``/``val_mask``/``test_mask``; weighted graphs carry ``edge_weight`` (float32; when the
two directions of an edge have different weights the larger one is kept); graphs with overlapping ground-truth
communities carry ``data.communities`` (a list of LongTensors of node indices).

Files are checksum-verified before they are read (see :mod:`graphdiff.data.download`); a missing file raises
:class:`~graphdiff.data.download.MissingDataError` naming the file, the directory it belongs in and its URL, unless
``download=True`` fetches it.

Example::

    >>> import graphdiff.data as gd
    >>> data = gd.load("cora")                      # doctest: +SKIP
    >>> data.num_nodes, data.num_edges, data.num_classes, int(data.train_mask.sum())  # doctest: +SKIP
    (2708, 10556, 7, 140)
"""

from __future__ import annotations

import copy
import functools
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch_geometric.data import Data
from torch_geometric.utils import remove_self_loops, to_undirected

from graphdiff.data import _formats as fmt
from graphdiff.data.download import MissingDataError, download_form, find_form, open_form
from graphdiff.data.validation import check_edge_index, check_labels

__all__ = ["load", "available", "data_root", "dataset_info", "datasets_status", "MANIFEST_PATH"]

MANIFEST_PATH = Path(__file__).with_name("manifest.json")


# --------------------------------------------------------------------------------------------------- manifest
@functools.lru_cache(maxsize=1)
def _manifest() -> dict:
    with open(MANIFEST_PATH, encoding="utf-8") as f:
        return json.load(f)["datasets"]


def available(kind: str | None = None) -> list[str]:
    """Names of the datasets in the manifest, in manifest order.

    Parameters
    ----------
    kind : {"graph", "tabular"} or None
        Only graph datasets (for :func:`load`) or only tabular ones (for :func:`graphdiff.data.load_tabular`);
        ``None`` lists both.
    """
    if kind not in (None, "graph", "tabular"):
        raise ValueError(f"`kind` must be None, 'graph' or 'tabular', got {kind!r}")
    return [name for name, e in _manifest().items() if kind is None or e["kind"] == kind]


def dataset_info(name: str) -> dict:
    """A copy of the manifest entry of ``name`` (folder, files with URLs and checksums, licence, expected counts)."""
    return copy.deepcopy(_entry(name))


def _entry(name: str) -> dict:
    if not isinstance(name, str):
        raise ValueError(f"`name` must be a dataset name (str), got {type(name).__name__}")
    key = name.lower()
    manifest = _manifest()
    if key not in manifest:
        raise ValueError(f"unknown dataset {name!r}; available: {', '.join(manifest)}")
    return manifest[key]


def data_root(root=None) -> Path:
    """The data root: ``root`` if given, else ``$GRAPHDIFF_DATA``, else ``$XDG_CACHE_HOME/graphdiff``
    (``~/.cache/graphdiff`` when ``XDG_CACHE_HOME`` is unset)."""
    if root is not None:
        if not isinstance(root, (str, os.PathLike)):
            raise ValueError(f"`root` must be a path, got {type(root).__name__}")
        return Path(root).expanduser()
    env = os.environ.get("GRAPHDIFF_DATA")
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "graphdiff"


def raw_dir(name: str, root=None) -> Path:
    """Directory that holds the raw files of ``name``: ``<root>/<folder>/raw``."""
    return data_root(root) / _entry(name)["folder"] / "raw"


def datasets_status(root=None) -> list[dict]:
    """One dict per dataset for ``graphdiff datasets``: name, kind, folder, present, complete, size_bytes,
    source (also as ``url``), licence, files.

    ``present`` is True when every required file is in the data root in one of its accepted forms (checksums are
    not computed here; :func:`load` verifies them); ``complete`` also counts optional files (PubMed's
    ``ind.pubmed.allx``: present but not complete means structure and labels only). ``size_bytes`` sums the files
    found; ``source`` is the dataset's source page and ``files`` lists each file with its presence.
    """
    out = []
    base = data_root(root)
    for name, entry in _manifest().items():
        directory = base / entry["folder"] / "raw"
        present, complete, size, files = True, True, 0, []
        for role, forms in entry["files"].items():
            found = next((directory / f["name"] for f in forms if (directory / f["name"]).is_file()), None)
            optional = all(f.get("optional") for f in forms)
            if found is not None:
                size += found.stat().st_size
            else:
                complete = False
                present = present and optional
            files.append({"role": role, "name": forms[0]["name"], "present": found is not None, "optional": optional})
        out.append(
            {
                "name": name,
                "kind": entry["kind"],
                "folder": entry["folder"],
                "present": present,
                "complete": complete,
                "size_bytes": size,
                "source": entry["source"],
                "url": entry["source"],
                "licence": entry["licence"],
                "files": files,
            }
        )
    return out


def _resolve(name: str, entry: dict, root, roles, download: bool, verify: bool, verbose: bool) -> dict:
    """Map each requested file role to ``(path, form)``, verifying checksums; download or report what is missing."""
    directory = data_root(root) / entry["folder"] / "raw"
    found, missing = {}, []
    for role in roles:
        forms = entry["files"][role]
        hit = find_form(directory, forms, verify=verify)
        if hit is None and download:
            errors = []
            for form in (f for f in forms if f.get("url")):
                try:
                    download_form(directory, form, verbose=verbose)
                    hit = (directory / form["name"], form)
                    break
                except MissingDataError as exc:
                    errors.append(str(exc))
            if hit is None:
                raise MissingDataError(f"{name}: could not download {forms[0]['name']}: " + "; ".join(errors))
        if hit is None:
            missing.append(forms)
        else:
            found[role] = hit
    if missing:
        lines = []
        for forms in missing:
            names = " or ".join(f["name"] for f in forms)
            urls = ", ".join(f["url"] for f in forms if f.get("url"))
            lines.append(f"  {names}  (download: {urls})")
        raise MissingDataError(
            f"dataset {name!r}: missing file(s) in {directory}:\n" + "\n".join(lines) + "\n"
            f"Put them there (data root: `root` argument > $GRAPHDIFF_DATA > user cache), "
            f"or call graphdiff.data.load({name!r}, download=True) with network access."
        )
    return found


def _read_bytes(hit) -> bytes:
    path, form = hit
    with open_form(path, form) as f:
        return f.read()


# --------------------------------------------------------------------------------------------------- building
def _undirected(edges: np.ndarray, num_nodes: int, weight: np.ndarray | None = None):
    """Canonical edge set: drop self-loops, add reverse edges, coalesce (weights: max over duplicates)."""
    edge_index = torch.from_numpy(np.ascontiguousarray(edges, dtype=np.int64))
    w = None if weight is None else torch.from_numpy(np.ascontiguousarray(weight, dtype=np.float32))
    edge_index, w = remove_self_loops(edge_index, w)
    if w is None:
        return to_undirected(edge_index, num_nodes=num_nodes), None
    return to_undirected(edge_index, w, num_nodes=num_nodes, reduce="max")


def _edges_of(adj: sp.spmatrix) -> tuple[np.ndarray, np.ndarray]:
    adj = adj.tocsr(copy=True)
    adj.eliminate_zeros()  # an explicitly stored 0 is not an edge
    coo = adj.tocoo()
    return np.stack([coo.row.astype(np.int64), coo.col.astype(np.int64)]), coo.data


def _dense_x(attr) -> torch.Tensor:
    """Dense float32 features; finiteness is checked on the stored (sparse) values, before densifying."""
    values = attr.data if sp.issparse(attr) else np.asarray(attr)
    if not np.isfinite(values).all():
        raise ValueError(f"the raw features contain {int((~np.isfinite(values)).sum())} NaN or infinite value(s)")
    arr = attr.toarray() if sp.issparse(attr) else np.asarray(attr)
    return torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))


def _normalize_rows(x: torch.Tensor) -> torch.Tensor:
    if x.numel() and float(x.min()) < 0:
        raise ValueError("normalize_features=True needs non-negative features")
    return x / x.sum(dim=1, keepdim=True).clamp(min=1.0)


def _mask(num_nodes: int, index) -> torch.Tensor:
    mask = torch.zeros(num_nodes, dtype=torch.bool)
    mask[torch.as_tensor(index, dtype=torch.long)] = True
    return mask


def _contiguous_labels(values) -> tuple[np.ndarray, list]:
    uniq, inv = np.unique(np.asarray(values), return_inverse=True)
    return inv.astype(np.int64).reshape(-1), uniq.tolist()


def _communities_from(members: np.ndarray, owner: np.ndarray, num: int) -> list[torch.Tensor]:
    order = np.argsort(owner, kind="stable")
    members, owner = members[order], owner[order]
    bounds = np.searchsorted(owner, np.arange(num + 1))
    flat = torch.from_numpy(members.astype(np.int64))
    return [flat[bounds[i] : bounds[i + 1]].sort().values for i in range(num)]


# --------------------------------------------------------------------------------------------------- formats
def _load_planetoid(name, files, features: bool = True, normalize_features: bool = False):
    """Planetoid split format (Yang, Cohen & Salakhutdinov, ICML 2016, https://arxiv.org/abs/1603.08861).

    Nodes are ordered as ``allx`` (labelled + unlabelled training pool) followed by the test rows; ``tx``/``ty``
    list the test nodes in sorted-id order and ``test.index`` gives each node's id, so the stacked rows are
    permuted to put test node ``test_index[k]`` at its id. Public split: the first ``len(y)`` nodes train, the next
    500 validate, ``test.index`` tests (the GCN / PyG convention).
    """
    with open_form(*files["test.index"]) as f:
        test_index = fmt.read_test_index(f)
    objs = {}
    for ext in ("y", "ty", "ally", "graph") + (("x", "tx", "allx") if features else ()):
        with open_form(*files[ext]) as f:
            objs[ext] = fmt.read_planetoid_pickle(f)
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
        x = _dense_x(sp.vstack([allx, tx]).tocsr()[perm])
        data.x = _normalize_rows(x) if normalize_features else x
    edges = fmt.planetoid_edges(objs["graph"])
    data.edge_index, _ = _undirected(edges, num_nodes)
    data.y = torch.from_numpy(y)
    num_train = np.asarray(objs["y"]).shape[0]
    data.train_mask = _mask(num_nodes, np.arange(num_train))
    data.val_mask = _mask(num_nodes, np.arange(num_train, num_train + 500))
    data.test_mask = _mask(num_nodes, test_index)
    data.num_nodes = num_nodes
    data.num_classes = int(ally.shape[1])
    return data


def _npz_graph(parsed, normalize_features: bool = False):
    adj, labels = parsed["adj"], parsed["labels"]
    if labels.ndim == 2:  # one-hot labels
        labels = labels.argmax(axis=1)
    num_nodes = adj.shape[0]
    edges, _ = _edges_of(adj)
    data = Data()
    if parsed.get("attr") is not None:
        x = _dense_x(parsed["attr"])
        data.x = _normalize_rows(x) if normalize_features else x
    data.edge_index, _ = _undirected(edges, num_nodes)
    data.y = torch.from_numpy(labels.astype(np.int64))
    data.num_nodes = num_nodes
    names = parsed.get("class_names")
    data.num_classes = len(names) if names else int(labels.max()) + 1
    if names:
        data.class_names = names
    return data


def _load_gnn_benchmark_npz(name, files, normalize_features: bool = False):
    with open_form(*files["graph"]) as f:
        return _npz_graph(fmt.read_gnn_benchmark_npz(f), normalize_features)


def _load_sparse_graph_npz(name, files, normalize_features: bool = False):
    with open_form(*files["graph"]) as f:
        return _npz_graph(fmt.read_sparse_graph_npz(f), normalize_features)


def _load_adj_npz(name, files):
    with open_form(*files["graph"]) as f:
        return _npz_graph(fmt.read_adj_npz(f))


def _load_snap_email(name, files):
    edges = fmt.parse_int_pairs(_read_bytes(files["edges"]), "email-Eu-core.txt")
    pairs = fmt.parse_int_pairs(_read_bytes(files["labels"]), "email-Eu-core-department-labels.txt")
    nodes, dept = pairs
    num_nodes = int(max(edges.max(), nodes.max())) + 1
    if np.unique(nodes).size != nodes.size or nodes.size != num_nodes:
        raise ValueError(f"{name}: the department file must list every node 0..{num_nodes - 1} exactly once")
    y = np.empty(num_nodes, dtype=np.int64)
    y[nodes] = dept
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = _undirected(edges, num_nodes)
    data.y = torch.from_numpy(y)
    data.num_classes = int(y.max()) + 1
    return data


def _load_snap_communities(name, files):
    edges = fmt.parse_int_pairs(_read_bytes(files["edges"]), files["edges"][1]["name"])
    members, owner = fmt.parse_communities(_read_bytes(files["communities"]), files["communities"][1]["name"])
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
    data.edge_index, _ = _undirected(edges, num_nodes)
    data.node_ids = torch.from_numpy(node_ids.astype(np.int64))
    data.communities = _communities_from(pos, owner, int(owner.max()) + 1 if owner.size else 0)
    return data


def _inf_weights(weight: np.ndarray, name: str, inf_weight) -> np.ndarray:
    bad = ~np.isfinite(weight)
    if not bad.any():
        return weight
    if np.isnan(weight).any():
        raise ValueError(f"{name}: {int(np.isnan(weight).sum())} edge weight(s) are NaN")
    if inf_weight == "error":
        raise ValueError(f"{name}: {int(bad.sum())} edge weight(s) are infinite (pass inf_weight='max' or a number)")
    if inf_weight == "max":
        value = float(weight[~bad].max())
    elif isinstance(inf_weight, (int, float)) and np.isfinite(inf_weight) and inf_weight > 0:
        value = float(inf_weight)
    else:
        raise ValueError(f"`inf_weight` must be 'max', 'error' or a positive finite number, got {inf_weight!r}")
    warnings.warn(
        f"{name}: {int(bad.sum())} infinite edge weight(s) replaced by {value:g} (inf_weight={inf_weight!r})",
        stacklevel=2,
    )
    weight = weight.copy()
    weight[bad] = value
    return weight


def _load_lgc_graphml(name, files, inf_weight="max", weight_key="weight"):
    if not isinstance(weight_key, str):
        raise ValueError(f"`weight_key` must be a str naming a GraphML edge attribute, got {weight_key!r}")
    names, edges, weight, _ = fmt.read_graphml(files["graph"][0], weight_key)
    num_nodes = len(names)
    raw = np.loadtxt(files["class"][0], dtype=np.float64, ndmin=1)
    if raw.size != num_nodes or not np.array_equal(raw, np.round(raw)):
        raise ValueError(f"{name}: the .class file must hold one integer cluster id per graph node ({num_nodes})")
    y, class_values = _contiguous_labels(raw.astype(np.int64))
    data = Data(num_nodes=num_nodes)
    if weight is not None:
        weight = _inf_weights(weight, name, inf_weight)
    data.edge_index, w = _undirected(edges, num_nodes, weight)
    if w is not None and not bool((w == 1).all()):
        data.edge_weight = w
    data.y = torch.from_numpy(y)
    data.num_classes = len(class_values)
    data.class_values = class_values
    data.node_names = names
    truth = fmt.read_name_labels(_read_bytes(files["ground_truth"]).decode("utf-8"))
    labels, owner = np.unique(np.array([lab for _, lab in truth], dtype=str), return_inverse=True)
    labels = labels.tolist()
    members = fmt.names_to_index([n for n, _ in truth], names, f"{name}: ground-truth rows naming unknown nodes")
    data.communities = _communities_from(members, owner, len(labels))
    data.community_names = labels
    return data


def _load_lgc_csv(name, files, inf_weight="max"):
    truth = fmt.read_name_labels(_read_bytes(files["ground_truth"]).decode("utf-8"))
    names = [n for n, _ in truth]
    if len(set(names)) != len(names):
        raise ValueError(f"{name}: the ground-truth file lists a node twice")
    src, dst, weight = fmt.read_name_edges(_read_bytes(files["edges"]).decode("utf-8"), files["edges"][1]["name"])
    what = f"{name}: edge endpoints not in the ground-truth file"
    edges = np.stack([fmt.names_to_index(src, names, what), fmt.names_to_index(dst, names, what)])
    weight = _inf_weights(weight, name, inf_weight)
    num_nodes = len(names)
    y, class_values = _contiguous_labels([lab for _, lab in truth])
    data = Data(num_nodes=num_nodes)
    data.edge_index, data.edge_weight = _undirected(edges, num_nodes, weight)
    data.y = torch.from_numpy(y)
    data.num_classes = len(class_values)
    data.class_names = class_values
    data.node_names = names
    return data


def _load_gml(name, files):
    names, edges, values = fmt.read_gml(files["graph"][0])
    y, class_values = _contiguous_labels(values)
    num_nodes = len(names)
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = _undirected(edges, num_nodes)
    data.y = torch.from_numpy(y)
    data.num_classes = len(class_values)
    data.class_values = class_values
    data.node_names = names
    return data


def _load_heterophilous_npz(name, files, split=None, normalize_features: bool = False):
    with open_form(*files["graph"]) as f:
        raw = fmt.read_heterophilous_npz(f)
    x = raw["node_features"]
    num_nodes = x.shape[0]
    edges = raw["edges"].astype(np.int64)
    if edges.ndim != 2 or edges.shape[1] != 2:
        raise ValueError(f"{name}: `edges` must have shape (num_edges, 2), got {edges.shape}")
    masks = {
        k: torch.from_numpy(raw[f"{k}s"].astype(bool)).T.contiguous() for k in ("train_mask", "val_mask", "test_mask")
    }
    masks = _select_split(masks, split, masks["train_mask"].size(1))
    data = Data(num_nodes=num_nodes)
    x = _dense_x(x)
    data.x = _normalize_rows(x) if normalize_features else x
    data.edge_index, _ = _undirected(edges.T, num_nodes)
    data.y = torch.from_numpy(raw["node_labels"].astype(np.int64))
    data.num_classes = int(data.y.max()) + 1
    for k, v in masks.items():
        setattr(data, k, v)
    return data


def _select_split(masks: dict, split, num_splits: int) -> dict:
    if split is None:
        return masks
    if isinstance(split, bool) or not isinstance(split, (int, np.integer)) or not 0 <= split < num_splits:
        raise ValueError(f"`split` must be None or an int in [0, {num_splits}), got {split!r}")
    return {k: v[:, int(split)].clone() for k, v in masks.items()}


def _load_geom_gcn(name, files, split=None, normalize_features: bool = False):
    text = _read_bytes(files["features"]).decode("utf-8")
    ids, rows, cols, labels, num_features = fmt.read_geom_gcn_features(text, files["features"][1]["name"])
    num_nodes = ids.size
    if not np.array_equal(np.sort(ids), np.arange(num_nodes)):
        raise ValueError(f"{name}: node ids must be 0..{num_nodes - 1}, each once")
    attr = sp.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(num_nodes, num_features))
    attr.sum_duplicates()
    attr.data[:] = 1.0
    y = np.empty(num_nodes, dtype=np.int64)
    y[ids] = labels
    body = _read_bytes(files["edges"]).decode("utf-8").split("\n", 1)[1]
    edges = fmt.parse_int_pairs(body.encode(), files["edges"][1]["name"])
    masks = {"train_mask": [], "val_mask": [], "test_mask": []}
    for k in range(10):
        with open_form(*files[f"split_{k}"]) as f:
            with np.load(io.BytesIO(f.read()), allow_pickle=False) as npz:
                for key in masks:
                    masks[key].append(torch.from_numpy(npz[key].astype(bool)))
    masks = {key: torch.stack(v, dim=1) for key, v in masks.items()}
    data = Data(num_nodes=num_nodes)
    x = _dense_x(attr)
    data.x = _normalize_rows(x) if normalize_features else x
    data.edge_index, _ = _undirected(edges, num_nodes)
    data.y = torch.from_numpy(y)
    data.num_classes = int(y.max()) + 1
    for key, v in _select_split(masks, split, 10).items():
        setattr(data, key, v)
    return data


def _load_blogcatalog_mat(name, files):
    with open_form(*files["graph"]) as f:
        raw = fmt.read_blogcatalog_mat(f)
    num_nodes = raw["network"].shape[0]
    edges, _ = _edges_of(raw["network"])
    group = raw["group"].tocoo()
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = _undirected(edges, num_nodes)
    data.communities = _communities_from(group.row.astype(np.int64), group.col.astype(np.int64), group.shape[1])
    return data


def _load_nocd_npz(name, files, normalize_features: bool = False):
    with open_form(*files["graph"]) as f:
        raw = fmt.read_nocd_npz(f)
    num_nodes = raw["adj"].shape[0]
    edges, _ = _edges_of(raw["adj"])
    data = Data(num_nodes=num_nodes)
    if raw["attr"] is not None:
        x = _dense_x(raw["attr"])
        data.x = _normalize_rows(x) if normalize_features else x
    data.edge_index, _ = _undirected(edges, num_nodes)
    member = raw["membership"].tocoo()
    keep = member.data != 0
    data.communities = _communities_from(
        member.row[keep].astype(np.int64), member.col[keep].astype(np.int64), member.shape[1]
    )
    return data


def _load_seal_communities(name, files):
    edges = fmt.parse_int_pairs(_read_bytes(files["edges"]), files["edges"][1]["member"])
    members, owner = fmt.parse_communities(_read_bytes(files["communities"]), files["communities"][1]["member"])
    num_nodes = int(max(edges.max(), members.max())) + 1
    data = Data(num_nodes=num_nodes)
    data.edge_index, _ = _undirected(edges, num_nodes)
    data.communities = _communities_from(members, owner, int(owner.max()) + 1)
    return data


def _load_musae(name, files, normalize_features: bool = False):
    """MUSAE graphs (Rozemberczki et al. 2021): Facebook page types as ``y``; the Wikipedia graphs carry their
    monthly-traffic regression target as ``data.target`` (float32) and no ``y``."""
    prefix = files["edges"][1]["name"].rsplit("_edges", 1)[0]
    raw = fmt.read_musae(
        _read_bytes(files["edges"]).decode("utf-8"),
        _read_bytes(files["features"]).decode("utf-8"),
        _read_bytes(files["target"]).decode("utf-8"),
        prefix,
    )
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
    x = _dense_x(attr)
    data.x = _normalize_rows(x) if normalize_features else x
    data.edge_index, _ = _undirected(raw["edges"], num_nodes)
    if raw["target_name"] == "page_type":
        y, class_names = _contiguous_labels(target)
        data.y = torch.from_numpy(y)
        data.num_classes = len(class_names)
        data.class_names = class_names
    else:
        try:
            data.target = torch.from_numpy(target.astype(np.float32))
        except ValueError:
            raise ValueError(f"{name}: the {raw['target_name']!r} column is not numeric") from None
    return data


_FORMATS = {
    "planetoid": _load_planetoid,
    "gnn_benchmark_npz": _load_gnn_benchmark_npz,
    "sparse_graph_npz": _load_sparse_graph_npz,
    "adj_npz": _load_adj_npz,
    "snap_email": _load_snap_email,
    "snap_communities": _load_snap_communities,
    "lgc_graphml": _load_lgc_graphml,
    "lgc_csv": _load_lgc_csv,
    "gml": _load_gml,
    "heterophilous_npz": _load_heterophilous_npz,
    "blogcatalog_mat": _load_blogcatalog_mat,
    "musae": _load_musae,
    "nocd_npz": _load_nocd_npz,
    "seal_communities": _load_seal_communities,
    "geom_gcn": _load_geom_gcn,
}

# Options each format accepts (besides root/download/verify/verbose).
_OPTIONS = {
    "planetoid": {"features", "normalize_features"},
    "gnn_benchmark_npz": {"normalize_features"},
    "sparse_graph_npz": {"normalize_features"},
    "lgc_graphml": {"inf_weight", "weight_key"},
    "lgc_csv": {"inf_weight"},
    "heterophilous_npz": {"split", "normalize_features"},
    "musae": {"normalize_features"},
    "nocd_npz": {"normalize_features"},
    "geom_gcn": {"split", "normalize_features"},
}


def load(
    name: str,
    root=None,
    *,
    download: bool = False,
    verify: bool = True,
    verbose: bool = True,
    device=None,
    **options: Any,
) -> Data:
    """Load a graph dataset as a :class:`torch_geometric.data.Data`.

    Parameters
    ----------
    name : str
        A name from :func:`available` (``"cora"``, ``"citeseer"``, ``"pubmed"``, ``"amazon_photo"``, ...).
    root : path, optional
        Data root (else ``$GRAPHDIFF_DATA``, else the user cache directory); files are read from
        ``<root>/<folder>/raw/``.
    download : bool
        Fetch missing files from their canonical URL (checksum-verified, renamed into place only when it matches).
        Off by default: a missing file raises :class:`MissingDataError` naming the file and its directory.
    verify : bool
        Check each file's checksum before reading it (once per process per unchanged file).
    verbose : bool
        Show a progress bar while downloading (loading itself takes seconds and shows none).
    device : torch.device or str, optional
        Move every tensor of the result there (default: CPU).
    **options
        ``normalize_features`` (bool, feature datasets): row-normalise ``x`` as PyG ``NormalizeFeatures`` does.
        ``features`` (bool, Planetoid): ``False`` loads structure and labels only, without ``x``; required for
        ``"pubmed"`` when ``ind.pubmed.allx`` is absent. ``inf_weight`` (LocalGraphClustering sets): what to do
        with infinite edge weights: ``"max"`` (default, replace by the largest finite weight, with a warning),
        ``"error"`` or a positive number. ``weight_key`` (GraphML sets ``ppi_mips``, ``sfld``): the edge attribute
        read as ``edge_weight`` (default ``"weight"``; ``sfld`` keeps its similarities in ``"weights"``).
        ``split`` (heterophilous sets: ``chameleon``, ``squirrel``, ``actor``, ``cornell``, ``texas``,
        ``wisconsin``, ``*_filtered``, ``minesweeper``, ``tolokers``; Geom-GCN ``geom_film``, ``geom_cornell``,
        ``geom_texas``, ``geom_wisconsin``): ``None`` (default) keeps the 10 fixed splits
        as masks of shape ``[num_nodes, 10]`` (as PyG does), an int ``k`` returns the 1-D masks of split ``k``.

    Returns
    -------
    torch_geometric.data.Data
        ``edge_index`` (int64, undirected, coalesced, no self-loops), ``x`` (float32) where the dataset has
        features, ``y`` (int64) and ``num_classes`` where it has one label per node, ``train_mask``/``val_mask``/
        ``test_mask`` for the Planetoid public split and the fixed splits of the heterophilous sets,
        ``edge_weight`` for weighted graphs, ``communities`` for overlapping ground-truth communities,
        ``node_ids`` for SNAP graphs (the original id of each node).
    """
    entry = _entry(name)
    key = name.lower()
    if entry["kind"] != "graph":
        raise ValueError(f"{name!r} is a tabular dataset: use graphdiff.data.load_tabular({key!r})")
    fmt_name = entry["format"]
    allowed = _OPTIONS.get(fmt_name, set())
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(
            f"unknown option(s) {sorted(unknown)} for dataset {key!r}; it accepts {sorted(allowed) or 'none'}"
        )
    for flag in ("features", "normalize_features"):
        if flag in options and not isinstance(options[flag], bool):
            raise ValueError(f"`{flag}` must be a bool, got {options[flag]!r}")
    roles = list(entry["files"])
    if fmt_name == "planetoid":
        if not options.get("features", True):
            if options.get("normalize_features"):
                raise ValueError("`normalize_features=True` needs `features=True`")
            roles = [r for r in roles if r not in ("x", "tx", "allx")]
        if options.get("features", True) and not download:
            directory = data_root(root) / entry["folder"] / "raw"
            for role in ("x", "tx", "allx"):
                forms = entry["files"][role]
                if not any((directory / f["name"]).is_file() for f in forms):
                    raise MissingDataError(
                        f"dataset {key!r}: node features need {forms[0]['name']}, which is missing in {directory} "
                        f"(download: {forms[0]['url']}). Put the file there, call load({key!r}, download=True) "
                        f"with network access, or call load({key!r}, features=False) for the graph and labels "
                        f"without node features."
                    )
    files = _resolve(key, entry, root, roles, download=download, verify=verify, verbose=verbose)
    data = _FORMATS[fmt_name](key, files, **options)
    data.name = key
    # Features were checked for NaN/inf before densifying (_dense_x); edges and labels are checked here.
    check_edge_index(data.edge_index, data.num_nodes, name=f"{key}: edge_index")
    if getattr(data, "y", None) is not None:
        check_labels(data.y, num_classes=data.num_classes, name=f"{key}: y", length=data.num_nodes)
    if device is not None:
        data = data.to(device)
        if getattr(data, "communities", None) is not None:
            data.communities = [c.to(device) for c in data.communities]
    return data
