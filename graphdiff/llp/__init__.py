"""Learning from label proportions by belief propagation (Havaldar et al., ICLR 2024, arXiv:2310.08056).

Estimators (scikit-learn style, :mod:`graphdiff.base`), all ``fit`` / ``predict_proba(X)`` / ``predict(X)``:
``BPLabelProportions`` (the method), ``DLLP`` and ``EasyLLP`` (baselines on the same MLP), each
``fit(X, bags, counts)``, and ``SupervisedMLP`` (the same MLP on instance labels, ``fit(X, y)``: the ceiling).
Functions: ``loopy_bp`` / ``llp_marginals`` (vectorised BP, returning a ``BPResult``).

The generic pieces live in :mod:`graphdiff.nn` (``graphdiff.nn.mlp``, ``graphdiff.nn.knn_graph``) and bags in
:mod:`graphdiff.data.bags`; ``graphdiff.llp.MLP``, ``fit_mlp`` and ``knn_graph`` still resolve to them, with a
:class:`DeprecationWarning`, until 0.3.0.
"""

from graphdiff.llp.baselines import DLLP, EasyLLP
from graphdiff.llp.bp import BPResult, llp_marginals, loopy_bp
from graphdiff.llp.model import PRESETS, BPLabelProportions
from graphdiff.llp.supervised import SupervisedMLP

__all__ = [
    "BPLabelProportions",
    "DLLP",
    "EasyLLP",
    "SupervisedMLP",
    "BPResult",
    "llp_marginals",
    "loopy_bp",
    "PRESETS",
]

_MOVED = {
    "MLP": ("graphdiff.nn.mlp", "MLP"),
    "fit_mlp": ("graphdiff.nn.mlp", "fit_mlp"),
    "knn_graph": ("graphdiff.nn.knn_graph", "knn_graph"),
}


def __getattr__(name: str):
    if name in _MOVED:
        import importlib

        from graphdiff.base import warn_deprecated

        module, attr = _MOVED[name]
        warn_deprecated(f"graphdiff.llp.{name}", f"{module}.{attr}", stacklevel=3)
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'graphdiff.llp' has no attribute {name!r}")
