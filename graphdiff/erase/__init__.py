"""ERASE: error-resilient node representations under label noise (Chen et al., CIKM 2024,
https://arxiv.org/abs/2312.08852), with GCN / GAT / GCE baselines trained on the same noisy labels.

>>> from graphdiff.erase import ERASE                       # doctest: +SKIP
>>> model = ERASE.from_preset("cora").fit(data, y_noisy, train_mask, val_mask)   # doctest: +SKIP
>>> model.predict(), model.embed(), model.history           # doctest: +SKIP
"""

from graphdiff.erase.baselines import GAT, GCE, GCN, NoisyLabelGNN, generalized_cross_entropy
from graphdiff.erase.encoder import ERASEEncoder
from graphdiff.erase.model import ERASE
from graphdiff.erase.presets import PRESETS, get_preset
from graphdiff.erase.pseudo_labels import PseudoLabeler, class_prototypes, semantic_scores, structural_denoise

__all__ = [
    "ERASE",
    "ERASEEncoder",
    "PseudoLabeler",
    "structural_denoise",
    "semantic_scores",
    "class_prototypes",
    "PRESETS",
    "get_preset",
    "GCN",
    "GAT",
    "GCE",
    "NoisyLabelGNN",
    "generalized_cross_entropy",
]
