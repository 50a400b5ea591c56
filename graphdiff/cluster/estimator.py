"""The estimator form of local clustering with noisy labels (Back de Luca, Fountoulakis & Yang, ICLR 2024,
https://arxiv.org/abs/2310.08031, Sections 2 and 4): :class:`LocalClustering`, on the protocol of
:mod:`graphdiff.base`, around :func:`~graphdiff.cluster.batch_local_cluster`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
import torch

from graphdiff.base import Estimator, deprecated_alias, warn_deprecated
from graphdiff.cluster._legacy import renamed_arguments
from graphdiff.cluster.config import (
    DEFAULT_ALPHAS,
    DEFAULT_MAX_PASSES,
    DEFAULT_PAGERANK_ALPHAS,
    DEFAULT_RHOS,
    LocalClusterConfig,
)
from graphdiff.cluster.local_cluster import batch_local_cluster

__all__ = ["LocalClustering"]


class LocalClustering(Estimator):
    r"""Local clustering of many seed nodes, as an estimator: settings in ``__init__``, data in ``fit()``.

    Parameters
    ----------
    method, eps, scheme, alphas, readout, tol, max_passes, pagerank_alphas, rhos, seed
        The method settings, stored as given and validated in ``fit()`` (see
        :class:`~graphdiff.cluster.LocalClusterConfig` for their meaning and ranges).
    device : str or torch.device
        ``"cpu"`` (the strongly local push) or an accelerator (the flow-diffusion methods then solve all seed nodes
        and all :math:`\alpha` at once with :func:`~graphdiff.cluster.batched_flow_diffusion`).
    verbose : bool
        Show a progress bar.
    **deprecated
        Only ``rng_seed``, the pre-0.2 name of ``seed`` (with a :class:`DeprecationWarning`).

    Attributes
    ----------
    config_ : LocalClusterConfig
        The validated settings.
    results_ : list of LocalClusterResult
        One per seed node, in order.
    clusters_ : list of numpy.ndarray of int64
        The selected cluster of each seed node.
    params_ : list
        The selected :math:`\alpha` (or ``(alpha, rho)``) of each seed node.
    conductances_ : numpy.ndarray of float64, shape (num_seed_nodes,)
        The conductance of each selected cluster.

    Examples
    --------
    >>> from graphdiff.cluster import LocalClustering, as_local_graph, flip_labels
    >>> from graphdiff.data.synthetic import planted_partition
    >>> data = planted_partition(400, 40, 10.0, 2.0, 5.0, seed=0)
    >>> target = data.target.numpy()
    >>> labels = flip_labels(data.y.bool(), a0=0.9, a1=0.9, seed=0)
    >>> vol_k = as_local_graph(data).degree[target].sum()
    >>> est = LocalClustering(alphas=(1.5, 2.5), verbose=False)
    >>> est.fit(data, target[:2], labels=labels, target_volume=vol_k)
    LocalClustering(alphas=(1.5, 2.5), verbose=False)
    >>> [c.size for c in est.clusters_], est.params_
    ([50, 50], [1.5, 1.5])
    """

    rng_seed = deprecated_alias("seed")

    def __init__(
        self,
        method: str = "weighted_flow_diffusion",
        *,
        eps: float = 0.05,
        scheme: str = "agree",
        alphas: Sequence[float] = DEFAULT_ALPHAS,
        readout: str = "support",
        tol: float = 1e-4,
        max_passes: int = DEFAULT_MAX_PASSES,
        pagerank_alphas: Sequence[float] = DEFAULT_PAGERANK_ALPHAS,
        rhos: Sequence[float] = DEFAULT_RHOS,
        seed: int = 0,
        device: str | torch.device = "cpu",
        verbose: bool = True,
        **deprecated,
    ):
        self.method = method
        self.eps = eps
        self.scheme = scheme
        self.alphas = alphas
        self.readout = readout
        self.tol = tol
        self.max_passes = max_passes
        self.pagerank_alphas = pagerank_alphas
        self.rhos = rhos
        self.seed = seed
        self.device = device
        self.verbose = verbose
        if "rng_seed" in deprecated:  # the pre-0.2 name of `seed`
            warn_deprecated("rng_seed", "seed")
            self.seed = deprecated.pop("rng_seed")
        if deprecated:
            raise TypeError(f"LocalClustering() got unexpected keyword argument(s) {sorted(deprecated)}")

    def _make_config(self) -> LocalClusterConfig:
        return LocalClusterConfig(**{f.name: getattr(self, f.name) for f in dataclasses.fields(LocalClusterConfig)})

    def _check_params(self) -> None:
        super()._check_params()
        self._make_config()  # raises ValueError naming the first invalid setting

    @renamed_arguments(seeds="seed_nodes")
    def fit(self, graph, seed_nodes, labels=None, target_volume: float | None = None) -> LocalClustering:
        """Cluster each of ``seed_nodes``.

        Parameters
        ----------
        graph : LocalGraph or anything :func:`~graphdiff.cluster.as_local_graph` accepts
        seed_nodes : array-like of int
            Distinct seed node ids.
        labels : array-like of shape (num_nodes,) or lazy oracle, optional
            Noisy binary labels (required by the label methods).
        target_volume : float, optional
            :math:`\\mathrm{vol}(K)`, the scale of the source mass (required by the flow-diffusion methods).

        Returns
        -------
        LocalClustering
            ``self``, fitted.
        """
        self._check_params()
        self.config_ = self._make_config()
        self.results_ = batch_local_cluster(
            graph,
            seed_nodes,
            labels=labels,
            target_volume=target_volume,
            config=self.config_,
            device=self._device(),
            verbose=self.verbose,
        )
        self.clusters_ = [r.cluster for r in self.results_]
        self.params_ = [r.param for r in self.results_]
        self.conductances_ = np.array([r.conductance for r in self.results_])
        return self

    @renamed_arguments(seeds="seed_nodes")
    def fit_predict(self, graph, seed_nodes, labels=None, target_volume: float | None = None) -> list[np.ndarray]:
        """Fit, then return the clusters (``clusters_``).

        Parameters
        ----------
        graph, seed_nodes, labels, target_volume
            As in ``fit``.

        Returns
        -------
        list of numpy.ndarray of int64
        """
        return self.fit(graph, seed_nodes, labels=labels, target_volume=target_volume).clusters_
