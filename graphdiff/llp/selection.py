"""Model selection without instance labels: held-out bags and a bag-level criterion.

Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 4 (experimental protocol). The reference code
early-stops on instance-labelled validation AUC; here the default criterion uses bags only: a fraction of the bags is
held out, and a model is scored by the DLLP loss on them (binary cross-entropy between each bag's label proportion
:math:`\\alpha_S = k_S / |S|` and the mean predicted probability of its members), negated so that higher is better.
Instance-labelled validation AUC is available only when asked for explicitly.
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.utils import scatter

from graphdiff.data.bags import Bags

__all__ = ["split_bags", "bag_proportion_loss", "bag_score_fn", "auc_score_fn", "roc_auc"]


def split_bags(bags: Bags, val_fraction: float, seed: int = 0) -> tuple[Bags, Bags | None]:
    """Hold out ``round(val_fraction * m)`` random bags (at least 1 when ``val_fraction > 0`` and m >= 2)."""
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"`val_fraction` must lie in [0, 1), got {val_fraction}")
    m = bags.num_bags
    n_val = int(round(val_fraction * m))
    if val_fraction > 0 and m >= 2:
        n_val = min(max(n_val, 1), m - 1)
    if n_val == 0:
        return bags, None
    perm = torch.randperm(m, generator=torch.Generator().manual_seed(int(seed) + 7919))
    return bags.subset(perm[n_val:].sort().values), bags.subset(perm[:n_val].sort().values)


def bag_proportion_loss(proba: torch.Tensor, bags: Bags, eps: float = 1e-7) -> torch.Tensor:
    """Mean over bags of BCE(alpha_S, mean_{i in S} proba_i) (the DLLP loss); differentiable in ``proba``."""
    bag = bags.bag_of_member.to(proba.device)
    mean = scatter(proba[bags.index.to(proba.device)], bag, 0, dim_size=bags.num_bags, reduce="mean")
    mean = mean.clamp(eps, 1 - eps)
    alpha = bags.proportions.to(device=proba.device, dtype=proba.dtype)
    return -(alpha * torch.log(mean) + (1 - alpha) * torch.log(1 - mean)).mean()


def bag_score_fn(X: torch.Tensor, val_bags: Bags):
    """Score for early stopping: minus the DLLP loss on held-out bags (instance labels never used)."""
    from graphdiff.llp.mlp import predict_proba

    def score(model) -> float:
        return -float(bag_proportion_loss(predict_proba(model, X).double(), val_bags))
    return score


def roc_auc(y, score) -> float:
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    s = np.asarray(score.detach().cpu() if isinstance(score, torch.Tensor) else score, dtype=np.float64)
    if len(np.unique(y)) < 2:
        raise ValueError("AUC needs both classes among the labels")
    return float(roc_auc_score(y, s))


def auc_score_fn(X_val: torch.Tensor, y_val: torch.Tensor):
    """Instance-labelled validation AUC (the reference protocol; opt-in only)."""
    from graphdiff.llp.mlp import predict_proba

    def score(model) -> float:
        return roc_auc(y_val, predict_proba(model, X_val))
    return score
