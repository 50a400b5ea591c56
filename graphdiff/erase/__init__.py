r"""ERASE: error-resilient node representations under label noise (Chen et al., CIKM 2024,
https://arxiv.org/abs/2312.08852), with GCN / GAT / GCE baselines trained on the same noisy labels.

Sections 4.1 (decoupled label propagation, :class:`PseudoLabeler`, module ``graphdiff.erase.pseudo_labels``), 4.2
(encoder and MCR\ :sup:`2` objective, :class:`ERASEEncoder`, :mod:`graphdiff.nn.coding_rate`) and the training and
evaluation protocol (:class:`ERASE`, module ``graphdiff.erase.model``) of the paper; `shared/papers/erase.md`
describes what the reference code does.

>>> from graphdiff.data import noise, synthetic
>>> from graphdiff.erase import ERASE, GCN
>>> data = synthetic.contextual_sbm(120, 3, num_features=8, num_train_per_class=10, num_val_per_class=10)
>>> y_noisy = noise.pair_noise(data.y, 0.3, mask=data.train_mask | data.val_mask, seed=0).y_noisy
>>> erase = ERASE.from_preset("cora", hidden_channels=16, out_channels=16, heads=2, epochs=5, verbose=False)
>>> erase = erase.fit(data, y_noisy, data.train_mask, data.val_mask)  # selection on the noisy validation labels
>>> gcn = GCN(epochs=20, verbose=False).fit(data, y_noisy, data.train_mask, data.val_mask)
>>> erase.predict().shape, gcn.predict().shape, erase.embed().shape
(torch.Size([120]), torch.Size([120]), torch.Size([120, 16]))
"""

# graphdiff.erase.distributed (data-parallel fits, the torchrun entry point) is not imported here, so that
# `python -m graphdiff.erase.distributed` runs a module the package has not loaded; `from graphdiff.erase import *`
# and the API reference import it
from graphdiff.erase import minibatch
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
    "minibatch",
    "distributed",
]
