r"""One-seed and many-seed local clustering with noisy labels, with the paper's parameter selection.

Sections 2 and 4 of Back de Luca, Fountoulakis & Yang, *Local Graph Clustering with Noisy Labels* (ICLR 2024,
https://arxiv.org/abs/2310.08031), with the real-data protocol of Weighted Flow Diffusion (Yang & Fountoulakis, ICML
2023; ``shared/papers/lgc.md`` §1.5): the source mass is a multiple of the target volume,
:math:`\Delta_s = \alpha\,\mathrm{vol}(K)`, and for each seed node the :math:`\alpha` of the grid
:math:`\{1.5, 1.75, \dots, 5\}` whose output has the **lowest conductance** is kept -- conductance on :math:`G` for
flow diffusion on :math:`G`, on :math:`G_w` for the weighted variant. The PageRank baselines choose
:math:`(\alpha, \rho)` from a grid by the lowest (weighted) conductance of the sweep. The methods and their settings
are those of :class:`~graphdiff.cluster.LocalClusterConfig`.

:func:`local_cluster` handles one seed node; :func:`batch_local_cluster` many (a progress bar unless
``verbose=False``); on a CUDA device the flow-diffusion methods use
:func:`~graphdiff.cluster.batched_flow_diffusion`, a vectorised solver of the same dual problem for all seed nodes
and all :math:`\alpha` at once. :class:`~graphdiff.cluster.LocalClustering` is the estimator form.
"""

from __future__ import annotations

import atexit
import os
import pickle
from concurrent.futures import Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from gc import collect as _collect_garbage
from multiprocessing import get_context, shared_memory
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from graphdiff.base import deprecated_alias
from graphdiff.cluster._graph import LocalGraph, as_local_graph, check_seed_nodes
from graphdiff.cluster._legacy import renamed_arguments
from graphdiff.cluster.batched import batched_flow_diffusion
from graphdiff.cluster.config import DEFAULT_ALPHAS, DEFAULT_PAGERANK_ALPHAS, DEFAULT_RHOS, METHODS, LocalClusterConfig  # noqa: F401 (imported from here before 0.2)
from graphdiff.cluster.flow_diffusion import FlowDiffusionResult, flow_diffusion
from graphdiff.cluster.labels import SCHEMES, check_binary, prepare_labels
from graphdiff.cluster.metrics import conductance, label_weighted_volume, seed_volume_totals, sweep_kernel
from graphdiff.cluster.pagerank import acl_pagerank, weighted_acl_pagerank
from graphdiff.data.validation import check_bool, check_device, check_float, check_int

__all__ = ["LocalClusterResult", "local_cluster", "batch_local_cluster"]

DEFAULT_PR_ALPHAS = DEFAULT_PAGERANK_ALPHAS  # the pre-0.2 name


def __getattr__(name: str):
    # LocalClustering lived here before 0.2 (it is in graphdiff.cluster.estimator now, which imports this module)
    if name == "LocalClustering":
        from graphdiff.cluster.estimator import LocalClustering

        return LocalClustering
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass
class LocalClusterResult:
    """The selected cluster of one seed node.

    Parameters
    ----------
    seed_node : int
        The seed node.
    method : str
        The method (see :data:`~graphdiff.cluster.METHODS`).
    cluster : numpy.ndarray of int64
        The sorted node ids of the selected cluster.
    param : float, tuple or None
        The selected :math:`\\alpha` (flow diffusion), ``(alpha, rho)`` (PageRank) or ``None`` (labels only).
    conductance : float
        The (weighted) conductance of the selected cluster, the selection criterion.
    candidates : list of tuple
        ``(param, conductance, cluster size, status)`` for every point of the grid.
    status : str
        The solver status of the selected point: ``"converged"``, ``"max_passes"`` (the pass cap was hit before
        the tolerance), ``"infeasible"`` (the source mass exceeds the total sink capacity reachable from the seed
        node: an isolated seed, a small component; the cluster is what the run returns), ``"max_iters"`` on a
        device, ``"max_pushes"`` for a capped PageRank push, ``"global"`` for labels only.
    touched_nodes, work : int
        Touched nodes and edge visits, summed over the grid.
    passes : int
        Passes of the selected flow diffusion (0 for the other methods).
    residual : float
        Final residual of the selected run: the optimality conditions of flow diffusion
        (:func:`~graphdiff.cluster.kkt_residual`; at most ``tol`` when converged), :math:`\\max_u r_u / d_u` for
        PageRank (below ``rho`` when converged), 0.0 for labels only.

    Examples
    --------
    >>> from graphdiff.data.synthetic import planted_partition
    >>> data = planted_partition(300, 30, 8.0, 2.0, 4.0, seed=0)
    >>> res = local_cluster(data, int(data.target[0]), method="acl_pagerank")
    >>> res.seed_node, res.param, res.cluster.dtype
    (0, (0.01, 0.0001), dtype('int64'))
    """

    seed_node: int
    method: str
    cluster: np.ndarray
    param: Any
    conductance: float
    candidates: list = field(default_factory=list)
    status: str = "converged"
    touched_nodes: int = 0
    work: int = 0
    passes: int = 0
    residual: float = 0.0

    seed = deprecated_alias("seed_node")


def _sweep_of_x(g: LocalGraph, res: FlowDiffusionResult, labels_arr, use_labels, eps, scheme, seed_node, total_volume):
    pos = res.x > 0
    cand = res.nodes[pos]
    if cand.size == 0:
        return res.cluster, 1.0
    order = np.lexsort((cand, -res.x[pos]))
    ws = g.acl_workspace()
    k, phi = sweep_kernel(
        g.indptr, g.indices, g.weights_or_empty, g.weights is not None, labels_arr, use_labels, float(eps),
        SCHEMES[scheme], int(seed_node), cand[order], float(total_volume if total_volume is not None else -1.0),
        ws.rank,
    )  # fmt: skip
    return np.sort(cand[order][:k]), float(phi)


def _cluster_one(g: LocalGraph, s: int, cfg: LocalClusterConfig, labels, target_volume, total_volume):
    """:func:`local_cluster` on validated arguments (``labels`` as given: an array or an oracle)."""
    method = cfg.method
    use_labels = cfg.uses_labels
    if use_labels and labels is None:
        raise ValueError(f"method {method!r} needs `labels`")
    lab, oracle = prepare_labels(labels, g.num_nodes, check="read") if use_labels else (np.empty(0, np.int8), None)
    if use_labels and total_volume is None and oracle is None and method != "labels_only":
        total_volume = label_weighted_volume(g, lab, cfg.eps, cfg.scheme, seed_nodes=[s])
    if method == "labels_only":
        full = oracle.predict_all() if oracle is not None else lab
        check_binary(full)
        cluster = np.union1d(np.flatnonzero(full == 1), [s]).astype(np.int64)
        phi = conductance(g, cluster)
        return LocalClusterResult(s, method, cluster, None, phi, status="global", touched_nodes=g.num_nodes)
    if method in ("acl_pagerank", "weighted_acl_pagerank"):
        if oracle is not None:  # the push reads labels everywhere it goes: predict them all first
            lab = oracle.predict_all()
        best, cands, touched, work = None, [], 0, 0
        for a in cfg.pagerank_alphas:
            for r in cfg.rhos:
                if method == "acl_pagerank":
                    res = acl_pagerank(g, s, a, r, total_volume=total_volume)
                else:
                    res = weighted_acl_pagerank(g, s, lab, cfg.eps, cfg.scheme, a, r, total_volume=total_volume)
                status = "converged" if res.converged else "max_pushes"
                cands.append(((a, r), res.conductance, int(res.cluster.size), status))
                touched += res.touched_nodes
                work += res.work
                if best is None or res.conductance < best[1]:
                    best = ((a, r), res.conductance, res.cluster, status, res.residual)
        return LocalClusterResult(
            s, method, best[2], best[0], best[1], cands, best[3], touched, work, passes=0, residual=best[4]
        )
    # flow diffusion
    if target_volume is None:
        raise ValueError("`target_volume` (vol(K), the scale of the source mass) is required for flow diffusion")
    diffusion_labels = (oracle if oracle is not None else lab) if use_labels else None
    best, cands, touched, work = None, [], 0, 0
    for a in cfg.alphas:
        kw = dict(labels=diffusion_labels, eps=cfg.eps, scheme=cfg.scheme) if use_labels else {}
        res = flow_diffusion(g, s, a * target_volume, tol=cfg.tol, max_passes=cfg.max_passes, seed=cfg.seed, **kw)
        touched += res.touched_nodes
        work += res.work
        if cfg.readout == "sweep":
            tv = total_volume
            if tv is None and not use_labels:
                tv = g.weighted_volume if g.weights is not None else g.volume
            cluster, phi = _sweep_of_x(g, res, lab, use_labels, cfg.eps, cfg.scheme, s, tv)
        else:
            cluster = res.cluster
            if use_labels:
                phi = conductance(
                    g,
                    cluster,
                    labels=diffusion_labels,
                    eps=cfg.eps,
                    scheme=cfg.scheme,
                    seed_nodes=[s],
                    total_volume=total_volume,
                )
            else:
                phi = conductance(g, cluster, total_volume=total_volume)
        cands.append((a, phi, int(cluster.size), res.status))
        if best is None or phi < best[1]:
            best = (a, phi, cluster, res.status, res.passes, res.residual)
    return LocalClusterResult(
        s, method, best[2], best[0], best[1], cands, best[3], touched, work, passes=best[4], residual=best[5]
    )


@renamed_arguments(node="seed_node", rng_seed="seed")
def local_cluster(
    graph,
    seed_node,
    *,
    labels=None,
    target_volume: float | None = None,
    total_volume: float | None = None,
    config: LocalClusterConfig | None = None,
    **settings,
) -> LocalClusterResult:
    r"""Local cluster of one seed node, with the parameter of lowest conductance.

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
        Pass a :class:`~graphdiff.cluster.LocalGraph` to reuse it across calls.
    seed_node : int
        The seed node (known to lie in the target; counted as labelled 1).
    labels : array-like of shape (num_nodes,) or lazy oracle, optional
        Noisy binary labels, required by the label methods (ignored by the others).
    target_volume : float, optional
        :math:`\mathrm{vol}(K)` (positive); the source mass is :math:`\alpha\,\mathrm{vol}(K)`. Required by the flow
        diffusion methods.
    total_volume : float, optional
        Volume of the graph for conductance, in the weights the conductance uses: the graph's (weighted where the
        graph is weighted) for the label-free methods, :math:`\mathrm{vol}(G_w)` with ``seed_node`` labelled 1
        (``label_weighted_volume(graph, labels, eps, scheme, seed_nodes=[seed_node])``) for the label methods.
        Computed when ``None`` (for label weights from an oracle the cluster's own volume is the denominator).
    config : LocalClusterConfig, optional
        The method settings; default ``LocalClusterConfig()``.
    **settings
        Fields of :class:`~graphdiff.cluster.LocalClusterConfig` (``method``, ``eps``, ``scheme``, ``alphas``,
        ``readout``, ``tol``, ``max_passes``, ``pagerank_alphas``, ``rhos``, ``seed``), replacing those of
        ``config``.

    Returns
    -------
    LocalClusterResult

    Examples
    --------
    >>> import graphdiff.cluster as gc
    >>> from graphdiff.data.synthetic import planted_partition
    >>> data = planted_partition(400, 40, 10.0, 2.0, 5.0, seed=0)
    >>> g = gc.as_local_graph(data)
    >>> target = data.target.numpy()
    >>> labels = gc.flip_labels(data.y.bool(), a0=0.9, a1=0.9, seed=0)
    >>> res = gc.local_cluster(g, target[0], labels=labels, target_volume=g.degree[target].sum(), max_passes=1000)
    >>> res.method, res.param, res.status
    ('weighted_flow_diffusion', 1.5, 'converged')
    >>> round(gc.precision_recall_f1(res.cluster, target)[2], 2)
    0.89
    """
    cfg = LocalClusterConfig.from_settings(config, **settings)
    g = as_local_graph(graph)
    s = int(check_seed_nodes(seed_node, g.num_nodes, name="seed_node", single=True)[0])
    target_volume = check_float(target_volume, "target_volume", minimum=0.0, low_open=True, allow_none=True)
    total_volume = check_float(total_volume, "total_volume", minimum=0.0, low_open=True, allow_none=True)
    return _cluster_one(g, s, cfg, labels, target_volume, total_volume)


@renamed_arguments(seeds="seed_nodes", rng_seed="seed")
def batch_local_cluster(
    graph,
    seed_nodes,
    *,
    labels=None,
    target_volume: float | None = None,
    config: LocalClusterConfig | None = None,
    device: str | torch.device = "cpu",
    verbose: bool = True,
    executor: Executor | None = None,
    n_jobs: int | None = None,
    chunk_size: int | None = None,
    **settings,
) -> list[LocalClusterResult]:
    """:func:`local_cluster` for many seed nodes (one result each, in order), sequentially or spread over processes
    and machines.

    On CPU each seed node runs the strongly local push. On another device (CUDA) the two flow-diffusion methods
    solve all seed nodes and all :math:`\\alpha` of the grid at once with
    :func:`~graphdiff.cluster.batched_flow_diffusion` (cluster = support, conductance computed locally on CPU;
    ``readout="sweep"`` is refused there); the other methods run on CPU.

    **Many seeds across cores and machines.** With ``n_jobs`` (local worker processes) or ``executor`` (any
    :class:`concurrent.futures.Executor`: a :class:`~concurrent.futures.ProcessPoolExecutor`, a Dask
    ``distributed.Client.get_executor()``, ...) the seed nodes are split into chunks of consecutive seeds, one task
    each. With ``n_jobs`` the CSR arrays, labels and settings are put in shared memory once per call and every
    worker attaches to them once (on its first task of the call), so a task ships only its seed ids; the worker
    processes are started on the first call and kept for later calls with the same ``n_jobs`` (shut down at
    exit), so only the first call pays the process start-up; with a Dask client's executor the graph is
    ``scatter``-ed once to every worker (``broadcast=True``); with any other executor it travels with each chunk.
    The results come back in seed order and are identical to the sequential ones whatever the chunking: the push
    order of every seed node is drawn from ``seed`` alone, never from the chunk or the worker. A seed node whose
    clustering raises surfaces as a :class:`RuntimeError` naming it (the original error chained or in the
    message).

    Parameters
    ----------
    graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
    seed_nodes : array-like of int
        Distinct seed node ids.
    labels, target_volume, config, **settings
        As in :func:`local_cluster`. With full labels the weighted volume of :math:`G_w` is computed once.
    device : str or torch.device
        ``"cpu"`` or an available accelerator (checked by :func:`~graphdiff.data.validation.check_device`).
    verbose : bool
        Show a progress bar (per seed node, or per chunk with ``executor`` / ``n_jobs``).
    executor : concurrent.futures.Executor, optional
        Where to run the chunks (CPU methods only; not with ``n_jobs``). It is used, not shut down.
    n_jobs : int, optional
        Number of local worker processes (positive, or ``-1`` for every CPU); the pool is started on first use and
        kept for later calls, and the graph is shared with it once per worker and call.
    chunk_size : int, optional
        Seed nodes per task (positive); default: about four chunks per worker.

    Returns
    -------
    list of LocalClusterResult
    """
    cfg = LocalClusterConfig.from_settings(config, **settings)
    executor, n_jobs = _check_parallel(executor, n_jobs)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1, allow_none=True)
    device = check_device(device)
    verbose = check_bool(verbose, "verbose")
    g = as_local_graph(graph)
    seeds_arr = check_seed_nodes(seed_nodes, g.num_nodes)
    target_volume = check_float(target_volume, "target_volume", minimum=0.0, low_open=True, allow_none=True)
    if cfg.uses_labels and labels is None:
        raise ValueError(f"method {cfg.method!r} needs `labels`")
    lab, oracle = prepare_labels(labels, g.num_nodes, check="read") if cfg.uses_labels else (None, None)
    totals = [None] * seeds_arr.size
    if cfg.uses_labels and cfg.method != "labels_only" and oracle is None:
        # vol(G_w) with each seed node labelled 1: one O(m) pass, then O(deg) per seed node
        totals = seed_volume_totals(g, lab, cfg.eps, cfg.scheme, seeds_arr).tolist()
    labels_in = (oracle if oracle is not None else lab) if cfg.uses_labels else None
    if device.type != "cpu" and cfg.is_flow_diffusion:
        if executor is not None or n_jobs is not None:
            raise ValueError(f"`executor` / `n_jobs` run on CPU; the device path ({device}) solves all seeds at once")
        return _batch_on_device(g, seeds_arr, cfg, labels_in, target_volume, totals, device, verbose)
    if executor is not None or n_jobs is not None:
        return _batch_parallel(g, seeds_arr, cfg, labels_in, target_volume, totals, executor, n_jobs, chunk_size,
                               verbose)  # fmt: skip
    return [
        _cluster_one(g, int(s), cfg, labels_in, target_volume, totals[i])
        for i, s in enumerate(tqdm(seeds_arr, desc=f"local clustering ({cfg.method})", disable=not verbose))
    ]


def _batch_on_device(g, seeds_arr, cfg: LocalClusterConfig, labels, target_volume, totals, device, verbose):
    if target_volume is None:
        raise ValueError("`target_volume` (vol(K), the scale of the source mass) is required for flow diffusion")
    if cfg.readout != "support":
        raise ValueError(f"`readout`={cfg.readout!r} is not available on {device}: the device path reads the support")
    use_labels = cfg.method == "weighted_flow_diffusion"
    alphas = cfg.alphas
    cols_seed = np.repeat(seeds_arr, len(alphas))
    cols_mass = np.tile(np.asarray(alphas) * float(target_volume), seeds_arr.size)
    batch = batched_flow_diffusion(
        g,
        cols_seed,
        cols_mass,
        labels=labels if use_labels else None,
        eps=cfg.eps if use_labels else None,
        scheme=cfg.scheme,
        tol=cfg.tol,
        device=device,
    )
    support = (batch.x > 0).cpu()
    conv = batch.converged.cpu().numpy()
    out = []
    for i in tqdm(range(seeds_arr.size), desc=f"local clustering ({cfg.method}, {device})", disable=not verbose):
        s = int(seeds_arr[i])
        best, cands = None, []
        for j, a in enumerate(alphas):
            col = i * len(alphas) + j
            cluster = torch.nonzero(support[:, col]).flatten().numpy()
            if use_labels:
                phi = conductance(
                    g, cluster, labels=labels, eps=cfg.eps, scheme=cfg.scheme, seed_nodes=[s], total_volume=totals[i]
                )
            else:
                phi = conductance(g, cluster)
            status = "converged" if conv[col] else "max_iters"
            cands.append((a, phi, int(cluster.size), status))
            if best is None or phi < best[1]:
                best = (a, phi, cluster, status)
        out.append(LocalClusterResult(s, cfg.method, best[2], best[0], best[1], cands, best[3], g.num_nodes, 0))
    return out


# ------------------------------------------------------------------------------------------- many seeds in parallel
def _check_parallel(executor, n_jobs):
    if executor is not None and not isinstance(executor, Executor):
        raise ValueError(
            "`executor` must be a concurrent.futures.Executor (e.g. a ProcessPoolExecutor or a Dask "
            f"Client.get_executor()), got {type(executor).__name__}"
        )
    if n_jobs is not None:
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, (int, np.integer)):
            raise ValueError(f"`n_jobs` must be a positive integer or -1, got {n_jobs!r}")
        n_jobs = int(n_jobs)
        if n_jobs == -1:
            n_jobs = os.cpu_count() or 1
        if n_jobs < 1:
            raise ValueError(f"`n_jobs` must be a positive integer or -1, got {n_jobs}")
        if executor is not None:
            raise ValueError("pass either `executor` or `n_jobs`, not both")
    return executor, n_jobs


def _run_chunk(payload, seeds, totals):
    """One task: the seeds of a chunk, in order; ``payload`` is (graph, cfg, labels, target_volume)."""
    g, cfg, labels, target_volume = payload
    out = []
    for s, tv in zip(seeds, totals):
        try:
            out.append(_cluster_one(g, int(s), cfg, labels, target_volume, tv))
        except Exception as exc:
            raise RuntimeError(f"local clustering of seed node {int(s)} failed: {type(exc).__name__}: {exc}") from exc
    return out


_WORKER = {"token": None, "payload": None, "shm": []}  # in a worker: the graph of the latest call, attached once
_POOLS: dict[int, ProcessPoolExecutor] = {}  # in the caller: the local worker pools, kept across calls


def _attach(specs):
    """The payload of the call ``specs`` describes (shared CSR arrays, labels and the pickled settings), attached
    once per worker and call; the previous call's mappings are released first."""
    token = specs["token"]
    if _WORKER["token"] == token:
        return _WORKER["payload"]
    _WORKER["token"] = _WORKER["payload"] = None
    for shm in _WORKER["shm"]:
        try:
            shm.close()
        except BufferError:  # an array of the previous graph is still referenced: collect it, else leave the mapping
            _collect_garbage()
            try:
                shm.close()
            except BufferError:
                pass
    _WORKER["shm"] = []
    arrays = {}
    for name, (shm_name, shape, dtype) in specs["arrays"].items():
        shm = shared_memory.SharedMemory(name=shm_name)
        _WORKER["shm"].append(shm)
        arrays[name] = np.ndarray(shape, dtype=dtype, buffer=shm.buf)
    cfg, oracle, target_volume = pickle.loads(arrays.pop("rest").tobytes())
    g = LocalGraph(arrays["indptr"], arrays["indices"], arrays.get("weights"), validate=False)
    labels = oracle if oracle is not None else arrays.get("labels")
    _WORKER["payload"] = (g, cfg, labels, target_volume)
    _WORKER["token"] = token
    return _WORKER["payload"]


def _run_shared_chunk(specs, seeds, totals):
    """One task of the ``n_jobs`` path: the graph is attached from shared memory (once per worker and call)."""
    return _run_chunk(_attach(specs), seeds, totals)


def _share(arrays: dict):
    specs, blocks = {}, []
    for name, arr in arrays.items():
        arr = np.ascontiguousarray(arr)
        shm = shared_memory.SharedMemory(create=True, size=max(arr.nbytes, 1))
        np.ndarray(arr.shape, dtype=arr.dtype, buffer=shm.buf)[...] = arr
        specs[name] = (shm.name, arr.shape, arr.dtype.str)
        blocks.append(shm)
    return specs, blocks


def _local_pool(n_jobs: int) -> ProcessPoolExecutor:
    """The pool of ``n_jobs`` spawned worker processes, started on first use and kept for later calls (shut down
    at exit), so that a call pays no process start-up after the first."""
    pool = _POOLS.get(n_jobs)
    if pool is None or getattr(pool, "_broken", False):
        pool = ProcessPoolExecutor(n_jobs, mp_context=get_context("spawn"))
        _POOLS[n_jobs] = pool
    return pool


@atexit.register
def _shutdown_pools() -> None:
    for pool in _POOLS.values():
        pool.shutdown(wait=True, cancel_futures=True)
    _POOLS.clear()


def _batch_parallel(g, seeds_arr, cfg, labels, target_volume, totals, executor, n_jobs, chunk_size, verbose):
    workers = n_jobs or getattr(executor, "_max_workers", None) or os.cpu_count() or 1
    if chunk_size is None:
        chunk_size = max(1, -(-seeds_arr.size // (4 * workers)))
    starts = range(0, seeds_arr.size, chunk_size)
    chunks = [(seeds_arr[i : i + chunk_size], totals[i : i + chunk_size]) for i in starts]
    is_oracle = labels is not None and not isinstance(labels, np.ndarray)
    blocks = []
    try:
        if n_jobs is not None:
            arrays = {"indptr": g.indptr, "indices": g.indices}
            if g.weights is not None:
                arrays["weights"] = g.weights
            if labels is not None and not is_oracle:
                arrays["labels"] = labels
            rest = (cfg, labels if is_oracle else None, target_volume)
            arrays["rest"] = np.frombuffer(pickle.dumps(rest, protocol=pickle.HIGHEST_PROTOCOL), dtype=np.uint8)
            specs, blocks = _share(arrays)
            specs = {"token": specs["indptr"][0], "arrays": specs}
            executor = _local_pool(n_jobs)
            futures = [executor.submit(_run_shared_chunk, specs, seeds, tv) for seeds, tv in chunks]
        else:
            payload = (g, cfg, labels, target_volume)
            client = getattr(executor, "_client", None)  # a Dask ClientExecutor: scatter the graph once
            if client is not None and hasattr(client, "scatter"):
                payload = client.scatter(payload, broadcast=True)
            futures = [executor.submit(_run_chunk, payload, seeds, tv) for seeds, tv in chunks]
        out = []
        try:
            for fut in tqdm(futures, desc=f"local clustering ({cfg.method}, chunks)", disable=not verbose):
                out.extend(fut.result())
        finally:
            for fut in futures:  # an error: the remaining chunks are not needed
                fut.cancel()
            if blocks:  # the shared blocks must outlive every task that may still read them
                wait(futures)
        return out
    finally:
        for shm in blocks:
            shm.close()
            shm.unlink()
