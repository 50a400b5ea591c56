"""Local graph clustering with noisy labels (Back de Luca, Fountoulakis & Yang, ICLR 2024,
https://arxiv.org/abs/2310.08031).

* :func:`flow_diffusion` -- strongly local l2 (weighted) flow diffusion, numba push kernel (Section 2);
* :func:`label_weighted_graph` -- edge weights from noisy labels (Section 2);
* :func:`flip_labels`, :class:`LogisticLabelOracle` -- noisy labels by flips or a lazily predicting classifier;
* :func:`acl_pagerank`, :func:`weighted_acl_pagerank`, :func:`sweep_cut` -- PageRank baselines (Section 4);
* :func:`local_cluster`, :func:`batch_local_cluster`, :class:`LocalClustering` -- the pipeline with the
  lowest-conductance parameter selection, its settings in one :class:`LocalClusterConfig`; ``batch_local_cluster``
  spreads seed chunks over local processes (``n_jobs``) or any :class:`concurrent.futures.Executor` (``executor``);
* :func:`kkt_residual`, :data:`DEFAULT_MAX_PASSES` -- the optimality residual every flow-diffusion result carries
  and the pass cap (a safety net: runs stop at the tolerance);
  :func:`batched_flow_diffusion` -- many seed nodes at once in torch (CUDA);
* :func:`precision_recall_f1`, :func:`conductance` -- metrics.

Modules, in import order (each imports only those before it): ``_workspace`` (kernel buffers), ``_graph``
(:class:`LocalGraph`), ``labels`` (label schemes, label preparation, noisy labels), ``metrics``, ``weights``,
``flow_diffusion``, ``pagerank``, ``batched``, ``config``, ``local_cluster``, ``estimator``.

Names: ``seed`` is always a random seed; node ids are ``seed_node`` / ``seed_nodes`` (the pre-0.2 spellings
``seed=<node>``, ``seeds=`` and ``rng_seed=`` still work, with a :class:`DeprecationWarning`).
"""

from graphdiff.cluster._graph import LocalGraph, as_local_graph
from graphdiff.cluster.batched import BatchedFlowDiffusionResult, batched_flow_diffusion
from graphdiff.cluster.config import DEFAULT_ALPHAS, DEFAULT_MAX_PASSES, METHODS, LocalClusterConfig
from graphdiff.cluster.estimator import LocalClustering
from graphdiff.cluster.flow_diffusion import FlowDiffusionResult, flow_diffusion, kkt_residual
from graphdiff.cluster.labels import LogisticLabelOracle, flip_labels
from graphdiff.cluster.local_cluster import LocalClusterResult, batch_local_cluster, local_cluster
from graphdiff.cluster.metrics import conductance, cut_and_volume, label_weighted_volume, precision_recall_f1
from graphdiff.cluster.pagerank import PageRankResult, acl_pagerank, sweep_cut, weighted_acl_pagerank
from graphdiff.cluster.weights import label_weighted_graph

__all__ = [
    "LocalGraph",
    "as_local_graph",
    "FlowDiffusionResult",
    "flow_diffusion",
    "kkt_residual",
    "DEFAULT_MAX_PASSES",
    "LogisticLabelOracle",
    "flip_labels",
    "DEFAULT_ALPHAS",
    "METHODS",
    "LocalClusterConfig",
    "LocalClustering",
    "LocalClusterResult",
    "batch_local_cluster",
    "BatchedFlowDiffusionResult",
    "batched_flow_diffusion",
    "local_cluster",
    "conductance",
    "cut_and_volume",
    "label_weighted_volume",
    "precision_recall_f1",
    "PageRankResult",
    "acl_pagerank",
    "sweep_cut",
    "weighted_acl_pagerank",
    "label_weighted_graph",
]
