"""Deprecated location of :mod:`graphdiff.nn.mlp` (moved to the shared building blocks in 0.2.0).

Importing this module warns; it re-exports :class:`~graphdiff.nn.mlp.MLP`, :func:`~graphdiff.nn.mlp.fit_mlp`,
:func:`~graphdiff.nn.mlp.train_model`, :func:`~graphdiff.nn.mlp.predict_proba` and
:data:`~graphdiff.nn.mlp.PAPER_HIDDEN` unchanged and will be removed in 0.3.0.
"""

import warnings

from graphdiff.nn.mlp import MLP, PAPER_HIDDEN, fit_mlp, predict_proba, train_model

__all__ = ["MLP", "train_model", "fit_mlp", "predict_proba", "PAPER_HIDDEN"]

warnings.warn(
    "graphdiff.llp.mlp is deprecated since graphdiff 0.2.0 and will be removed in 0.3.0; use graphdiff.nn.mlp",
    DeprecationWarning,
    stacklevel=2,
)
