"""The covariate-similarity graph of LLP-BP: k nearest neighbours with kernel weights.

Havaldar et al., "Learning from Label Proportions: Bootstrapping Supervised Learners via Belief Propagation",
ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 3 (the similarity term of the Gibbs distribution), as the
reference code (https://github.com/google-deepmind/llp_bp) builds it: every instance is joined to its ``k`` nearest
neighbours (self excluded; cosine distance in the reference), the directed lists are symmetrised into undirected,
de-duplicated pairs ``i < j``, and each pair gets the Matérn-1/2 weight

.. math:: s_{ij} = \\exp(-\\lVert x_i - x_j \\rVert_2 / \\ell), \\qquad \\ell = 1 \\text{ in the reference.}

Neighbour search uses faiss (https://github.com/facebookresearch/faiss) on (for ``metric="cosine"``,
row-normalised) features, which gives the same neighbour sets as cosine distance because
:math:`\\lVert u - v \\rVert^2 = 2 - 2\\cos(u, v)` for unit vectors:

* ``method="exact"``: brute force, ``faiss.IndexFlatL2`` on CPU tensors and blocked torch matrix products on CUDA
  tensors (``"blocked"``, exact on any device);
* ``method="ivf"`` (approximate, the ``"auto"`` choice above ``exact_max_rows`` rows): faiss
  ``IVF{2 sqrt(N)},PQ{m}x4fs,RFlat``, k-means cells whose members are scanned with 4-bit fast-scan product-quantised
  codes and the ``10 k`` best candidates re-ranked by exact distance;
* ``method="hnsw"`` (approximate): ``faiss.IndexHNSWFlat`` (M = 16, efConstruction = 40).

An approximate search measures its recall@k on ``recall_queries`` sampled rows against exact search and widens the
search (doubling HNSW's ``efSearch`` or IVF's ``nprobe``) until the estimate reaches ``target_recall``, then
searches every row; the estimate is returned by ``return_info=True``.

Notes
-----
``x`` ``(N, d)`` -> ``edge_index`` ``(2, E)`` (int64, ``edge_index[0] < edge_index[1]``) and ``weight`` ``(E,)``
(float64), with ``N k / 2 <= E <= N k``.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from graphdiff.data.validation import check_choice, check_device, check_features, check_float, check_int, check_seed

__all__ = ["knn_graph", "edge_weights", "knn_search", "undirected_edges", "KNN_METHODS"]

_METRICS = ("cosine", "euclidean")
_WEIGHTS = ("matern", "unit", "median_matern")
#: Neighbour-search methods of :func:`knn_graph`.
KNN_METHODS = ("auto", "exact", "blocked", "hnsw", "ivf")
#: Query rows per faiss search call of an approximate search (bounds its working memory).
_SEARCH_BLOCK = 65_536
#: Edges per block of :func:`edge_weights` (bounds its float64 gathers).
_EDGE_BLOCK = 1 << 18


def _knn_blocked(x: torch.Tensor, k: int, block: int = 4096) -> torch.Tensor:
    """Exact k nearest neighbours (self excluded) by blocked torch matrix products, on ``x``'s device."""
    n = x.size(0)
    sq = (x * x).sum(1)
    out = torch.empty(n, k, dtype=torch.long, device=x.device)
    for start in range(0, n, block):  # loop over row blocks, vectorised inside
        xb = x[start : start + block]
        d = sq[start : start + block, None] - 2.0 * xb @ x.T + sq[None, :]
        rows = torch.arange(xb.size(0), device=x.device)
        d[rows, rows + start] = float("inf")
        out[start : start + block] = torch.topk(d, k, dim=1, largest=False).indices
    return out


def _drop_self(ids: np.ndarray, query_ids: np.ndarray, k: int) -> np.ndarray:
    """From ``k + 1`` neighbours per query, drop the query itself (or, if absent, the farthest) and ``-1`` slots.

    Rows with fewer than ``k`` valid neighbours repeat their last valid one (duplicates vanish in the graph).
    """
    bad = (ids == query_ids[:, None]) | (ids < 0)
    # keep the first k entries that are not bad: stable sort of the bad flags moves them to the end
    order = np.argsort(bad, axis=1, kind="stable")
    ids = np.take_along_axis(ids, order, 1)[:, :k]
    bad = np.take_along_axis(bad, order, 1)[:, :k]
    if bad.any():
        first = ids[:, :1]
        ids = np.where(bad, first, ids)
    return ids


def _faiss_exact(xs: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    import faiss

    index = faiss.IndexFlatL2(xs.shape[1])
    index.add(xs)
    _, ids = index.search(xs[queries], k + 1)
    return _drop_self(ids, queries, k)


def _recall(approx: np.ndarray, exact: np.ndarray) -> float:
    """Mean fraction of the exact neighbours found (recall@k), rows of ``approx`` and ``exact`` aligned."""
    n, k = exact.shape
    hits = (approx[:, :, None] == exact[:, None, :]).any(1).sum()
    return float(hits) / float(n * k)


def _faiss_approx(
    xs: np.ndarray, k: int, method: str, target_recall: float, recall_queries: int, seed: int, verbose: bool
) -> tuple[np.ndarray, dict]:
    import faiss

    n, d = xs.shape
    rng = np.random.default_rng(seed)
    sample = np.sort(rng.choice(n, size=min(n, recall_queries), replace=False))
    t0 = time.perf_counter()
    exact = _faiss_exact(xs, sample, k)
    t_exact = time.perf_counter() - t0
    if method == "hnsw":
        index = faiss.IndexHNSWFlat(d, 16)
        index.hnsw.efConstruction = 40
        index.add(xs)
        knob, value, cap = "ef_search", 16, 4096

        def set_knob(v):
            index.hnsw.efSearch = v
    else:
        # IVF cells + 4-bit fast-scan PQ codes, re-ranked exactly (refine): far cheaper per scanned row than flat
        # IVF at the same recall on low-dimensional data
        nlist = int(max(1, min(n // 39, round(2 * np.sqrt(n)))))
        m = min(64, d + (d % 2))
        d_pad = -(-d // m) * m
        if d_pad != d:  # zero columns change no distance; they make the PQ sub-vectors divide d
            xs = np.ascontiguousarray(np.pad(xs, ((0, 0), (0, d_pad - d))))
        index = faiss.index_factory(d_pad, f"IVF{nlist},PQ{m}x4fs,RFlat")
        ivf = faiss.extract_index_ivf(index)
        ivf.cp.seed = seed
        index.k_factor = 10
        train = xs[rng.choice(n, size=min(n, 50 * nlist), replace=False)]
        index.train(train)
        index.add(xs)
        knob, value, cap = "n_probe", 16, nlist

        def set_knob(v):
            ivf.nprobe = v

    while True:  # widen the search until the sampled recall reaches the target
        set_knob(value)
        _, ids = index.search(xs[sample], k + 1)
        recall = _recall(_drop_self(ids, sample, k), exact)
        if verbose:
            print(f"  kNN {method}: {knob}={value}, sampled recall@{k} {recall:.3f}")
        if recall >= target_recall or value >= cap:
            break
        value = min(2 * value, cap)
    # every row in blocks: one search call on all N rows would hold the fast-scan look-up tables (nprobe x m x 16
    # bytes per query) and the 10 k refine candidates of every query at once, gigabytes at 10^7 rows
    nbr = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, _SEARCH_BLOCK):
        stop = min(n, start + _SEARCH_BLOCK)
        _, ids = index.search(xs[start:stop], k + 1)
        nbr[start:stop] = _drop_self(ids, np.arange(start, stop), k)
    info = {
        "method": method,
        "recall": recall,
        "recall_queries": int(sample.size),
        knob: int(value),
        "exact_sample_time_s": t_exact,
    }
    return nbr, info


def knn_search(
    x,
    k: int = 5,
    *,
    metric: str = "euclidean",
    method: str = "auto",
    exact_max_rows: int = 50_000,
    target_recall: float = 0.9,
    recall_queries: int = 1000,
    seed: int = 0,
    device=None,
    verbose: bool = False,
) -> tuple[torch.Tensor, dict]:
    """The ``k`` nearest neighbours of every row (self excluded).

    Parameters
    ----------
    x : Tensor or ndarray ``(N, d)``
        Finite features.
    k : int
        Neighbours per row, ``1 <= k < N``.
    metric : {"euclidean", "cosine"}
        Distance (``"cosine"``: Euclidean on row-normalised ``x``; an all-zero row is refused).
    method : {"auto", "exact", "blocked", "hnsw", "ivf"}
        ``"exact"``: faiss ``IndexFlatL2`` (CPU) or blocked torch products (CUDA); ``"blocked"``: the torch path on
        any device; ``"hnsw"`` / ``"ivf"``: approximate faiss indexes, widened until the sampled recall reaches
        ``target_recall``; ``"auto"``: exact up to ``exact_max_rows`` rows, ``"ivf"`` above.
    exact_max_rows : int
        Largest ``N`` that ``"auto"`` searches exactly.
    target_recall : float
        Recall@k the approximate search is widened to reach (on the sampled queries), in ``(0, 1]``.
    recall_queries : int
        Rows sampled (with ``seed``) to estimate the approximate search's recall against exact search.
    seed : int
        Seed of the recall sample and of IVF's k-means.
    device : str or torch.device, optional
        Where the exact torch path runs and where the result is put (default: ``x``'s device).
    verbose : bool
        Print the widening steps of an approximate search.

    Returns
    -------
    neighbours : LongTensor ``(N, k)``
        Neighbour ids of every row.
    info : dict
        ``method`` (the one used), ``recall`` (sampled recall@k of an approximate search; ``1.0`` for exact ones),
        ``time_s``, and for approximate searches ``recall_queries`` and the final ``ef_search`` / ``n_probe``.

    Examples
    --------
    >>> import torch
    >>> from graphdiff.nn.knn_graph import knn_search
    >>> nbr, info = knn_search(torch.tensor([[0.0], [1.0], [3.0]]), k=1)
    >>> nbr.tolist(), info["method"]
    ([[1], [0], [1]], 'exact')
    """
    t0 = time.perf_counter()
    x = check_features(x, name="X")
    n = x.size(0)
    k = check_int(k, "k", minimum=1)
    if k >= n:
        raise ValueError(f"`k`={k} needs more than k instances, got {n}")
    check_choice(metric, "metric", _METRICS)
    method = check_choice(method, "method", KNN_METHODS + ("kdtree",))
    if method == "kdtree":
        from graphdiff.base import warn_deprecated

        warn_deprecated("method='kdtree'", "method='exact'")
        method = "exact"
    exact_max_rows = check_int(exact_max_rows, "exact_max_rows", minimum=1)
    target_recall = check_float(target_recall, "target_recall", minimum=0.0, maximum=1.0, low_open=True)
    recall_queries = check_int(recall_queries, "recall_queries", minimum=1)
    seed = check_seed(seed)
    device = check_device(device) if device is not None else x.device
    xs = x.to(device)
    if metric == "cosine":
        norms = xs.norm(dim=1, keepdim=True)
        if bool((norms == 0).any()):
            raise ValueError("`X` has an all-zero row; cosine similarity is undefined (use metric='euclidean')")
        xs = xs / norms
    if method == "auto":
        method = "exact" if n <= exact_max_rows else "ivf"
    if method == "exact" and device.type == "cuda":
        method = "blocked"
    if method == "blocked":
        nbr = _knn_blocked(xs.float(), k)
        info = {"method": "blocked", "recall": 1.0}
    else:
        arr = np.ascontiguousarray(xs.detach().cpu().numpy(), dtype=np.float32)
        if method == "exact":
            nbr = _faiss_exact(arr, np.arange(n), k)
            info = {"method": "exact", "recall": 1.0}
        else:
            nbr, info = _faiss_approx(arr, k, method, target_recall, recall_queries, seed, verbose)
        nbr = torch.from_numpy(np.ascontiguousarray(nbr)).long().to(device)
    info["time_s"] = time.perf_counter() - t0
    return nbr, info


def undirected_edges(nbr: torch.Tensor) -> torch.Tensor:
    """Symmetrise directed neighbour lists into sorted, de-duplicated undirected pairs ``i < j``.

    Parameters
    ----------
    nbr : LongTensor ``(N, k)``
        Neighbour ids of every row (as :func:`knn_search` returns them).

    Returns
    -------
    LongTensor ``(2, E)``
        ``edge_index[0] < edge_index[1]``, sorted, no duplicates or self-loops.
    """
    n, k = nbr.shape
    src = torch.arange(n, device=nbr.device).repeat_interleave(k)
    dst = nbr.reshape(-1)
    keep = src != dst
    lo = torch.minimum(src[keep], dst[keep])
    hi = torch.maximum(src[keep], dst[keep])
    key = torch.unique(lo * n + hi)  # sorted, de-duplicated undirected pairs
    return torch.stack([key // n, key % n])


def edge_weights(
    x: torch.Tensor, edge_index: torch.Tensor, weighting: str = "matern", length_scale: float = 1.0
) -> torch.Tensor:
    """Kernel weights of undirected edges.

    Parameters
    ----------
    x : Tensor ``(N, d)``
        Features; distances are Euclidean on ``x`` as given.
    edge_index : LongTensor ``(2, E)``
        The pairs to weight.
    weighting : {"matern", "unit", "median_matern"}
        Matérn-1/2 ``exp(-||x_i - x_j|| / length_scale)``, all ones, or Matérn-1/2 with the median edge length as
        the length scale.
    length_scale : float
        Positive length scale of ``"matern"``.

    Returns
    -------
    Tensor ``(E,)``, float64, in ``(0, 1]``.
    """
    check_choice(weighting, "weighting", _WEIGHTS)
    if weighting == "unit":
        return torch.ones(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
    # in blocks of edges: the gathered endpoint features of all E edges in float64 would be 2 E d doubles
    dist = torch.empty(edge_index.size(1), dtype=torch.float64, device=edge_index.device)
    for start in range(0, edge_index.size(1), _EDGE_BLOCK):
        src, dst = edge_index[:, start : start + _EDGE_BLOCK]
        dist[start : start + src.numel()] = (x[src].double() - x[dst].double()).norm(dim=1)
    if weighting == "median_matern":
        med = float(dist.median()) if dist.numel() else 1.0
        length_scale = med if med > 0 else 1.0
    length_scale = check_float(length_scale, "length_scale", minimum=0.0, low_open=True)
    return torch.exp(-dist / length_scale)


def knn_graph(
    x,
    k: int = 5,
    *,
    metric: str = "cosine",
    weighting: str = "matern",
    length_scale: float = 1.0,
    method: str = "auto",
    exact_max_rows: int = 50_000,
    target_recall: float = 0.9,
    recall_queries: int = 1000,
    seed: int = 0,
    device=None,
    verbose: bool = False,
    return_info: bool = False,
):
    """Undirected kNN similarity graph with kernel weights.

    Parameters
    ----------
    x : Tensor or ndarray ``(N, d)``
        Finite features.
    k : int
        Neighbours per instance (self excluded), ``1 <= k < N``.
    metric : {"cosine", "euclidean"}
        Which neighbours are chosen (``"cosine"`` as the reference; an all-zero row is refused then).
    weighting : {"matern", "unit", "median_matern"}
        Edge weights, see :func:`edge_weights` (Euclidean distance on ``x`` as given).
    length_scale : float
        Length scale of ``"matern"``.
    method : {"auto", "exact", "blocked", "hnsw", "ivf"}
        Neighbour search, see :func:`knn_search` (``"auto"``: exact up to ``exact_max_rows`` rows, IVF above).
    exact_max_rows : int
        Largest ``N`` that ``"auto"`` searches exactly.
    target_recall : float
        Sampled recall@k an approximate search is widened to reach.
    recall_queries : int
        Rows sampled to estimate the recall of an approximate search.
    seed : int
        Seed of the recall sample and of IVF's k-means.
    device : str or torch.device, optional
        Where to search (default: ``x``'s device).
    verbose : bool
        Print the widening steps of an approximate search.
    return_info : bool
        Also return the search's ``info`` dict (method used, recall, time; see :func:`knn_search`).

    Returns
    -------
    edge_index : LongTensor ``(2, E)``
        ``edge_index[0] < edge_index[1]``, sorted, no duplicates or self-loops.
    weight : Tensor ``(E,)``
        float64 in ``(0, 1]``.
    info : dict
        Only with ``return_info=True``: the :func:`knn_search` information.

    Examples
    --------
    >>> import torch
    >>> from graphdiff.nn.knn_graph import knn_graph
    >>> x = torch.tensor([[0.0, 1.0], [0.1, 1.0], [1.0, 0.0], [1.0, 0.1]])
    >>> edge_index, weight = knn_graph(x, k=1)
    >>> edge_index.tolist()
    [[0, 2], [1, 3]]
    >>> weight.round(decimals=4).tolist()
    [0.9048, 0.9048]
    """
    x = check_features(x, name="X")
    check_choice(weighting, "weighting", _WEIGHTS)
    length_scale = check_float(length_scale, "length_scale", minimum=0.0, low_open=True)
    nbr, info = knn_search(
        x,
        k,
        metric=metric,
        method=method,
        exact_max_rows=exact_max_rows,
        target_recall=target_recall,
        recall_queries=recall_queries,
        seed=seed,
        device=device,
        verbose=verbose,
    )
    edge_index = undirected_edges(nbr)
    weight = edge_weights(x.to(nbr.device), edge_index, weighting, length_scale)
    if return_info:
        return edge_index, weight, info
    return edge_index, weight
