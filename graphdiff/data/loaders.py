"""Dataset loaders: raw files of the data root -> :class:`torch_geometric.data.Data` (or a tabular dataset).

Every dataset is described by one entry of ``datasets/manifest.json`` (shipped as ``graphdiff/data/manifest.json``):
its ``format``, its folder under the data root, its files with the canonical URL and checksum of each accepted form,
licence, citation and the counts a correct load must reproduce. The data root is laid out as
``<root>/<folder>/raw/<original file name>`` and resolved as

1. the ``root`` argument, else
2. the ``GRAPHDIFF_DATA`` environment variable, else
3. the user cache directory ``$XDG_CACHE_HOME/graphdiff`` (default ``~/.cache/graphdiff``).

:func:`load` and :func:`load_tabular` share one path: the manifest entry names a format of the registry in
:mod:`graphdiff.data.formats`, whose declared options are validated before any file is touched; the files the
format needs are located and checksum-verified (:mod:`graphdiff.data.download`), a missing file raising
:class:`~graphdiff.data.download.MissingDataError` that names the file, the directory it belongs in and its URL
(unless ``download=True`` fetches it); then the format's reader builds the result.

Every graph is returned in one canonical form: ``edge_index`` int64, undirected (both directions stored),
coalesced (sorted, no duplicates) and without self-loops; ``x`` float32 raw features (no normalisation unless
``normalize_features=True``, the row normalisation :math:`x_i \\leftarrow x_i / \\max(1, \\sum_j x_{ij})` that PyG's
``NormalizeFeatures`` applies to non-negative features); ``y`` int64 with ``data.num_classes``; the Planetoid
public split as ``train_mask``/``val_mask``/``test_mask``; weighted graphs carry ``edge_weight`` (float32; when the
two directions of an edge have different weights the larger one is kept); graphs with overlapping ground-truth
communities carry ``data.communities`` (a list of LongTensors of node indices).

Examples
--------
>>> import graphdiff.data as gd
>>> gd.available("graph")[:3]
['cora', 'citeseer', 'pubmed']
>>> gd.dataset_info("cora")["expected"]["num_nodes"]
2708
"""

from __future__ import annotations

import copy
import functools
import json
import os
from pathlib import Path
from typing import Any

from torch_geometric.data import Data

from graphdiff.data.download import MissingDataError, download_form, find_form
from graphdiff.data.formats import Format, get_format
from graphdiff.data.formats._common import normalize_rows
from graphdiff.data.tabular import TabularDataset
from graphdiff.data.validation import check_bool, check_choice, check_device, check_edge_index, check_labels

__all__ = [
    "load",
    "load_tabular",
    "available",
    "data_root",
    "dataset_info",
    "datasets_status",
    "raw_dir",
    "MANIFEST_PATH",
]

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
    kind : {"graph", "tabular"} or None, default None
        Only graph datasets (for :func:`load`) or only tabular ones (for :func:`load_tabular`); ``None`` lists
        both.

    Returns
    -------
    list of str
        Loader names, lower case.

    Examples
    --------
    >>> available("tabular")
    ['bank_marketing', 'adult']
    >>> "amazon_photo" in available("graph")
    True
    """
    check_choice(kind, "kind", (None, "graph", "tabular"))
    return [name for name, e in _manifest().items() if kind is None or e["kind"] == kind]


def dataset_info(name: str) -> dict:
    """The manifest entry of a dataset.

    Parameters
    ----------
    name : str
        A name from :func:`available` (case-insensitive).

    Returns
    -------
    dict
        A copy (changing it changes nothing): ``kind``, ``format``, ``folder``, ``files`` (per file role, the
        accepted forms with name, URL and checksum), ``licence``, ``citation``, ``source`` and ``expected`` (the
        counts a correct load reproduces).

    Examples
    --------
    >>> info = dataset_info("karate")
    >>> info["folder"], info["format"], info["expected"]["num_nodes"]
    ('community_graphs', 'gml', 34)
    """
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
    """The data root that the loaders read.

    Parameters
    ----------
    root : str or os.PathLike, optional
        Returned as a :class:`~pathlib.Path` (``~`` expanded) when given.

    Returns
    -------
    pathlib.Path
        ``root`` if given, else ``$GRAPHDIFF_DATA``, else ``$XDG_CACHE_HOME/graphdiff`` (``~/.cache/graphdiff``
        when ``XDG_CACHE_HOME`` is unset). The directory need not exist.

    Examples
    --------
    >>> data_root("/data/graphs")
    PosixPath('/data/graphs')
    """
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
    """Directory that holds the raw files of dataset ``name``: ``<data root>/<folder>/raw``.

    Examples
    --------
    >>> raw_dir("cora", "/data")
    PosixPath('/data/planetoid/raw')
    """
    return data_root(root) / _entry(name)["folder"] / "raw"


def datasets_status(root=None) -> list[dict]:
    """Which datasets are present under the data root (what ``graphdiff datasets`` prints).

    Parameters
    ----------
    root : str or os.PathLike, optional
        The data root (see :func:`data_root`).

    Returns
    -------
    list of dict
        One dict per dataset, in manifest order: ``name``, ``kind``, ``folder``, ``present`` (every required
        file is there in one of its accepted forms; checksums are not computed here, :func:`load` verifies
        them), ``complete`` (optional files too, e.g. PubMed's ``ind.pubmed.allx``: present but not complete means
        structure and labels only), ``size_bytes`` (of the files found), ``source`` (also as ``url``), ``licence``
        and ``files`` (each file role with its ``name``, ``present`` and ``optional``).

    Examples
    --------
    >>> import tempfile
    >>> rows = datasets_status(tempfile.mkdtemp())
    >>> rows[0]["name"], rows[0]["present"], rows[0]["size_bytes"]
    ('cora', False, 0)
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


# --------------------------------------------------------------------------------------------------- files
def _blocking_path(directory: Path) -> tuple[Path, str] | None:
    """The first component of ``directory`` that exists but is not a directory, and what it is; ``None`` if none.

    A data root (or a dataset folder) that is a regular file makes every file of it "missing": this says why.
    """
    for path in [*reversed(directory.parents), directory]:
        if path.is_dir():
            continue
        if path.is_symlink() and not path.exists():
            return path, f"a broken symbolic link (to {os.readlink(path)})"
        if path.exists():
            return path, "a regular file" if path.is_file() else "not a directory"
        return None
    return None


def _resolve(
    name: str, entry: dict, root, roles, download: bool, verify: bool, verbose: bool, fmt: Format, loader: str
) -> dict:
    """Map each requested file role to ``(path, form)``, verifying checksums; download or report what is missing."""
    directory = data_root(root) / entry["folder"] / "raw"
    blocked = _blocking_path(directory)
    if blocked is not None:
        path, what = blocked
        which = "the data root" if path == data_root(root) else "a folder under the data root"
        raise MissingDataError(
            f"dataset {name!r}: {path} ({which}) is {what}, not a directory, so no file of {directory} can be "
            f"there. Point the data root (`root` argument > $GRAPHDIFF_DATA > user cache) at the folder that "
            f"holds {entry['folder']}/raw/."
        )
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
            missing.append((role, forms))
        else:
            found[role] = hit
    if missing:
        lines = []
        for _, forms in missing:
            names = " or ".join(f["name"] for f in forms)
            urls = ", ".join(f["url"] for f in forms if f.get("url"))
            lines.append(f"  {names}  (download: {urls})")
        message = (
            f"dataset {name!r}: missing file(s) in {directory}:\n" + "\n".join(lines) + "\n"
            f"Put them there (data root: `root` argument > $GRAPHDIFF_DATA > user cache), "
            f"or call graphdiff.data.{loader}({name!r}, download=True) with network access."
        )
        feature_files = [forms[0]["name"] for role, forms in missing if role in fmt.feature_roles]
        if feature_files and len(feature_files) == len(missing):
            message += (
                f"\n{', '.join(feature_files)} hold(s) the node features only: "
                f"graphdiff.data.{loader}({name!r}, features=False) loads the graph and labels without node features."
            )
        raise MissingDataError(message)
    return found


# --------------------------------------------------------------------------------------------------- loading
def _accepted_options(fmt: Format) -> dict:
    """The options a format accepts, each with its validator: its own and the feature options every loader adds."""
    accepted = dict(fmt.options)
    if fmt.features:
        accepted["normalize_features"] = check_bool
    if fmt.feature_roles:
        accepted["features"] = check_bool
    return accepted


def _read(name: str, kind: str, root, download: bool, verify: bool, verbose: bool, options: dict):
    """The path :func:`load` and :func:`load_tabular` share: entry -> format -> options -> files -> reader."""
    entry = _entry(name)
    key = name.lower()
    loader = "load" if kind == "graph" else "load_tabular"
    if entry["kind"] != kind:
        other = "load_tabular" if entry["kind"] == "tabular" else "load"
        raise ValueError(f"{name!r} is a {entry['kind']} dataset: use graphdiff.data.{other}({key!r})")
    download = check_bool(download, "download")
    verify = check_bool(verify, "verify")
    verbose = check_bool(verbose, "verbose")
    fmt = get_format(entry["format"])
    accepted = _accepted_options(fmt)
    unknown = set(options) - set(accepted)
    if unknown:
        raise ValueError(
            f"unknown option(s) {sorted(unknown)} for dataset {key!r}; it accepts {sorted(accepted) or 'none'}"
        )
    options = {opt: accepted[opt](value, opt) for opt, value in options.items()}
    normalize = options.pop("normalize_features", False)
    roles = list(entry["files"])
    if not options.get("features", True):
        if normalize:
            raise ValueError("`normalize_features=True` needs `features=True`")
        roles = [r for r in roles if r not in fmt.feature_roles]
    files = _resolve(key, entry, root, roles, download, verify, verbose, fmt, loader)
    out = fmt.read(key, files, **options)
    if normalize:
        if getattr(out, "x", None) is None:
            raise ValueError(f"`normalize_features=True`, but dataset {key!r} has no node features")
        out.x = normalize_rows(out.x)
    return key, out


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
        A name from :func:`available` (``"cora"``, ``"citeseer"``, ``"pubmed"``, ``"amazon_photo"``, ...),
        case-insensitive.
    root : str or os.PathLike, optional
        Data root (else ``$GRAPHDIFF_DATA``, else the user cache directory); files are read from
        ``<root>/<folder>/raw/``.
    download : bool, default False
        Fetch missing files from their canonical URL (checksum-verified, renamed into place only when it matches).
        Off by default: a missing file raises :class:`~graphdiff.data.MissingDataError` naming the file and its
        directory.
    verify : bool, default True
        Check each file's checksum before reading it (once per process per unchanged file).
    verbose : bool, default True
        Show a progress bar while downloading (loading itself takes seconds and shows none).
    device : str or torch.device, optional
        Move every tensor of the result there (default: CPU).
    **options
        ``normalize_features`` (bool, datasets with node features): row-normalise ``x`` as PyG
        ``NormalizeFeatures`` does. ``features`` (bool, Planetoid): ``False`` loads structure and labels only,
        without ``x``; required for ``"pubmed"`` when ``ind.pubmed.allx`` is absent. ``inf_weight``
        (LocalGraphClustering sets): what to do with infinite edge weights: ``"max"`` (default, replace by the
        largest finite weight, with a warning), ``"error"`` or a positive number. ``weight_key`` (GraphML sets
        ``ppi_mips``, ``sfld``): the edge attribute read as ``edge_weight`` (default ``"weight"``; ``sfld`` keeps its
        similarities in ``"weights"``). ``split`` (heterophilous sets: ``chameleon``, ``squirrel``, ``actor``,
        ``cornell``, ``texas``, ``wisconsin``, ``*_filtered``, ``minesweeper``, ``tolokers``; Geom-GCN
        ``geom_film``, ``geom_cornell``, ``geom_texas``, ``geom_wisconsin``): ``None`` (default) keeps the 10 fixed
        splits as masks of shape ``[num_nodes, 10]`` (as PyG does), an int ``k`` returns the 1-D masks of split
        ``k``. Each dataset accepts only the options of its format; any other raises ``ValueError``.

    Returns
    -------
    torch_geometric.data.Data
        ``edge_index`` (int64, shape ``(2, E)``, undirected, coalesced, no self-loops), ``x`` (float32,
        ``(N, F)``) where the dataset has features, ``y`` (int64, ``(N,)``) and ``num_classes`` where it has one
        label per node, ``train_mask``/``val_mask``/``test_mask`` for the Planetoid public split and the fixed
        splits of the heterophilous sets, ``edge_weight`` (float32, ``(E,)``) for weighted graphs,
        ``communities`` for overlapping ground-truth communities, ``node_ids`` for SNAP graphs (the original id
        of each node), ``name``.

    Raises
    ------
    MissingDataError
        A file is not under the data root (and ``download`` is off or failed).
    ChecksumError
        A file is present but its bytes match none of its accepted checksums.
    ValueError
        An unknown dataset or option, a bad option value, or a file whose content is malformed.

    Examples
    --------
    A missing file is reported with its directory and URL (here: an empty data root):

    >>> import tempfile
    >>> try:
    ...     load("karate", root=tempfile.mkdtemp())
    ... except MissingDataError as exc:
    ...     print(str(exc).splitlines()[1].split()[0])
    karate.gml

    With the files in place, ``load("cora")`` returns 2,708 nodes, 10,556 directed edges, 1,433 features, 7 classes
    and the public split 140 / 500 / 1000.
    """
    device = None if device is None else check_device(device)
    key, data = _read(name, "graph", root, download, verify, verbose, options)
    data.name = key
    # Features were checked for NaN/inf before densifying (dense_x); edges and labels are checked here.
    check_edge_index(data.edge_index, data.num_nodes, name=f"{key}: edge_index")
    if getattr(data, "y", None) is not None:
        check_labels(data.y, num_classes=data.num_classes, name=f"{key}: y", length=data.num_nodes)
    if device is not None:
        data = data.to(device)
        if getattr(data, "communities", None) is not None:
            data.communities = [c.to(device) for c in data.communities]
    return data


def load_tabular(name: str, root=None, *, download: bool = False, verify: bool = True, **options) -> TabularDataset:
    """Load a tabular dataset with its train / validation / test split.

    Parameters
    ----------
    name : {"bank_marketing", "adult"}
        A name from ``available("tabular")``; see the module ``graphdiff.data.tabular`` for what each holds.
    root : str or os.PathLike, optional
        Data root (else ``$GRAPHDIFF_DATA``, else the user cache directory).
    download, verify : bool
        As in :func:`load`.
    **options
        ``adult`` only: ``val_fraction`` (float in (0, 1), default 0.2) and ``seed`` (int, default 0) of the
        stratified validation split carved from ``adult.data``.

    Returns
    -------
    TabularDataset
        float32 feature matrices and int64 0/1 label vectors per split, plus ``feature_names``.

    Raises
    ------
    MissingDataError, ChecksumError, ValueError
        As for :func:`load`.

    Examples
    --------
    >>> try:
    ...     load_tabular("cora")
    ... except ValueError as exc:
    ...     print(exc)
    'cora' is a graph dataset: use graphdiff.data.load('cora')

    With the files in place, ``load_tabular("bank_marketing")`` has 27,126 / 9,042 / 9,043 rows of 16 features.
    """
    return _read(name, "tabular", root, download, verify, False, options)[1]
