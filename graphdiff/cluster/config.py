r"""The settings of the local clustering pipeline, written once: :class:`LocalClusterConfig`.

Section 4 of Back de Luca, Fountoulakis & Yang, *Local Graph Clustering with Noisy Labels* (ICLR 2024,
https://arxiv.org/abs/2310.08031), with the parameter selection of Weighted Flow Diffusion (``shared/papers/lgc.md``
§1.5): the source mass is :math:`\alpha\,\mathrm{vol}(K)` for each :math:`\alpha` of a grid, and the output of lowest
conductance is kept. :func:`~graphdiff.cluster.local_cluster`, :func:`~graphdiff.cluster.batch_local_cluster` and
:class:`~graphdiff.cluster.LocalClustering` all read their method settings from one validated, frozen
:class:`LocalClusterConfig`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from graphdiff.cluster.flow_diffusion import DEFAULT_MAX_PASSES
from graphdiff.cluster.labels import SCHEMES, check_eps
from graphdiff.data.validation import check_choice, check_float, check_int, check_seed

__all__ = [
    "METHODS",
    "LABEL_METHODS",
    "READOUTS",
    "DEFAULT_ALPHAS",
    "DEFAULT_PAGERANK_ALPHAS",
    "DEFAULT_RHOS",
    "DEFAULT_MAX_PASSES",
    "LocalClusterConfig",
]

#: The methods (names as in the benchmark results).
METHODS = ("weighted_flow_diffusion", "flow_diffusion", "labels_only", "acl_pagerank", "weighted_acl_pagerank")
#: The methods that read noisy labels.
LABEL_METHODS = ("weighted_flow_diffusion", "labels_only", "weighted_acl_pagerank")
READOUTS = ("support", "sweep")
#: The grid of source-mass multiples :math:`\alpha` (1.5, 1.75, ..., 5).
DEFAULT_ALPHAS = tuple(float(a) for a in np.linspace(1.5, 5.0, 15))
#: The PageRank grid: teleportation probabilities and push thresholds.
DEFAULT_PAGERANK_ALPHAS = (0.1, 0.05, 0.01)
DEFAULT_RHOS = (1e-3, 1e-4, 1e-5)


def _grid(values, name: str, **bounds) -> tuple[float, ...]:
    try:
        arr = np.atleast_1d(np.asarray(values))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"`{name}` must be a non-empty list of numbers, got {values!r}") from exc
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"`{name}` must be a non-empty 1-D list of numbers, got {values!r}")
    return tuple(check_float(v.item() if isinstance(v, np.generic) else v, name, **bounds) for v in arr)


@dataclass(frozen=True)
class LocalClusterConfig:
    r"""The method settings of :func:`~graphdiff.cluster.local_cluster` (validated at construction).

    Parameters
    ----------
    method : str
        One of :data:`METHODS`: ``"weighted_flow_diffusion"`` (flow diffusion on the label-weighted graph, labels
        weighted on the fly), ``"flow_diffusion"`` (on the original graph), ``"labels_only"`` (the nodes labelled 1,
        a global read-out), ``"acl_pagerank"`` / ``"weighted_acl_pagerank"`` (ACL push and sweep cut on
        :math:`G` / :math:`G_w`).
    eps : float
        Weight :math:`\varepsilon \in [0, 1]` of the edges the label scheme does not favour.
    scheme : {"agree", "both_one"}
        The label scheme (see :func:`~graphdiff.cluster.label_weighted_graph`).
    alphas : sequence of float
        The grid of source-mass multiples (positive) for flow diffusion: the source mass is
        :math:`\alpha\,\mathrm{vol}(K)`.
    readout : {"support", "sweep"}
        The cluster of a flow diffusion: the support of :math:`x` (the paper's) or a sweep cut on :math:`x`.
    tol : float
        Push tolerance (non-negative): the largest excess :math:`m_i - T_i` a converged run leaves (WFD's 1e-4).
    max_passes : int
        Pass cap of the push, a safety net (default 20,000; WFD's real-data runs used 50, which real graphs never
        converge within, see :func:`~graphdiff.cluster.flow_diffusion`).
    pagerank_alphas : sequence of float
        PageRank teleportation probabilities in (0, 1).
    rhos : sequence of float
        PageRank push thresholds (positive).
    seed : int
        Random seed of the push order.

    Raises
    ------
    ValueError
        Naming the first invalid setting.

    Examples
    --------
    >>> cfg = LocalClusterConfig(method="flow_diffusion", alphas=[2, 3])
    >>> cfg.alphas, cfg.uses_labels
    ((2.0, 3.0), False)
    >>> LocalClusterConfig(eps=float("nan"))
    Traceback (most recent call last):
    ...
    ValueError: `eps` must be a number, got NaN
    """

    method: str = "weighted_flow_diffusion"
    eps: float = 0.05
    scheme: str = "agree"
    alphas: tuple[float, ...] = DEFAULT_ALPHAS
    readout: str = "support"
    tol: float = 1e-4
    max_passes: int = DEFAULT_MAX_PASSES
    pagerank_alphas: tuple[float, ...] = DEFAULT_PAGERANK_ALPHAS
    rhos: tuple[float, ...] = DEFAULT_RHOS
    seed: int = 0

    def __post_init__(self):
        checked = {
            "method": check_choice(self.method, "method", METHODS),
            "eps": check_eps(self.eps),
            "scheme": check_choice(self.scheme, "scheme", tuple(SCHEMES)),
            "alphas": _grid(self.alphas, "alphas", minimum=0.0, low_open=True),
            "readout": check_choice(self.readout, "readout", READOUTS),
            "tol": check_float(self.tol, "tol", minimum=0.0),
            "max_passes": check_int(self.max_passes, "max_passes", minimum=1),
            "pagerank_alphas": _grid(
                self.pagerank_alphas, "pagerank_alphas", minimum=0.0, maximum=1.0, low_open=True, high_open=True
            ),
            "rhos": _grid(self.rhos, "rhos", minimum=0.0, low_open=True),
            "seed": check_seed(self.seed),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)

    @property
    def uses_labels(self) -> bool:
        """Whether ``method`` reads noisy labels."""
        return self.method in LABEL_METHODS

    @property
    def is_flow_diffusion(self) -> bool:
        """Whether ``method`` is one of the two flow diffusions (which need ``target_volume``)."""
        return self.method in ("weighted_flow_diffusion", "flow_diffusion")

    @classmethod
    def from_settings(cls, config: LocalClusterConfig | None = None, **settings) -> LocalClusterConfig:
        """``config`` (default: the defaults) with the keyword ``settings`` replaced; unknown names are a
        :class:`TypeError` listing the valid ones.

        Parameters
        ----------
        config : LocalClusterConfig, optional
            The starting settings.
        **settings
            Fields to replace.

        Returns
        -------
        LocalClusterConfig
        """
        names = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(settings) - set(names))
        if unknown:
            raise TypeError(f"unknown setting(s) {unknown}; the settings of local clustering are {names}")
        if config is None:
            return cls(**settings)
        if not isinstance(config, cls):
            raise ValueError(f"`config` must be a {cls.__name__}, got {type(config).__name__}")
        return dataclasses.replace(config, **settings) if settings else config
