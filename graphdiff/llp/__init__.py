"""Learning from label proportions by belief propagation (Havaldar et al., ICLR 2024, arXiv:2310.08056).

``BPLabelProportions`` (the method), ``DLLP`` and ``EasyLLP`` (baselines), all ``fit(X, bags, counts)`` /
``predict_proba(X)`` / ``predict(X)``; ``loopy_bp`` / ``llp_marginals`` (vectorised BP), ``knn_graph``.
"""

from graphdiff.llp.baselines import DLLP, EasyLLP
from graphdiff.llp.bp import BPResult, llp_marginals, loopy_bp
from graphdiff.llp.knn_graph import knn_graph
from graphdiff.llp.mlp import MLP, fit_mlp
from graphdiff.llp.model import PRESETS, BPLabelProportions

__all__ = [
    "BPLabelProportions",
    "DLLP",
    "EasyLLP",
    "BPResult",
    "llp_marginals",
    "loopy_bp",
    "knn_graph",
    "MLP",
    "fit_mlp",
    "PRESETS",
]
