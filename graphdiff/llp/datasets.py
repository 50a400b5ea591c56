"""Deprecated location of :func:`graphdiff.data.synthetic.logistic_data` (moved to the data layer in 0.2.0)."""

import warnings

from graphdiff.data.synthetic import logistic_data

__all__ = ["logistic_data"]

warnings.warn(
    "graphdiff.llp.datasets is deprecated since graphdiff 0.2.0 and will be removed in 0.3.0; "
    "use graphdiff.data.synthetic.logistic_data",
    DeprecationWarning,
    stacklevel=2,
)
