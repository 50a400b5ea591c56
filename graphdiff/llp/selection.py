"""Model selection without instance labels: held-out bags and a bag-level criterion.

Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 4 (experimental protocol). The reference code
(https://github.com/google-deepmind/llp_bp) early-stops on instance-labelled validation AUC; here the default
criterion uses bags only: a fraction of the bags is
held out, and a model is scored by the DLLP loss on them (binary cross-entropy between each bag's label proportion
:math:`\\alpha_S = k_S / |S|` and the mean predicted probability of its members) after the best global shift of the
logits, negated so that higher is better. The shift makes the criterion about ranking bags, not about matching the
overall positive rate.
Instance-labelled validation AUC is available only when asked for explicitly. :func:`bag_folds` splits the bags into
folds for cross-fitting, so that every bag is held out once (the selection of ``BPLabelProportions()``; beyond the
paper).
"""

from __future__ import annotations

import numpy as np
import torch
from torch_geometric.utils import scatter

from graphdiff.data.bags import Bags
from graphdiff.data.validation import check_float, check_int, check_seed
from graphdiff.nn.mlp import predict_proba

__all__ = [
    "split_bags",
    "bag_folds",
    "bag_proportion_loss",
    "calibrated_bag_losses",
    "bag_score_fn",
    "auc_score_fn",
    "roc_auc",
]


def split_bags(bags: Bags, val_fraction: float, seed: int = 0) -> tuple[Bags, Bags | None]:
    """Hold out ``round(val_fraction * m)`` random bags for model selection.

    Parameters
    ----------
    bags : Bags
        The ``m`` bags.
    val_fraction : float
        In ``[0, 1)``. With ``m >= 2`` and ``val_fraction > 0`` at least one bag is held out and at least one is
        kept for training.
    seed : int
        Seed of the draw.

    Returns
    -------
    train_bags : Bags
    val_bags : Bags or None
        ``None`` when no bag is held out (``val_fraction = 0``, or so small that it rounds to 0 bags of 1).

    Raises
    ------
    ValueError
        When ``val_fraction > 0`` would leave no bag to train on (a single bag).

    Examples
    --------
    >>> import torch
    >>> from graphdiff.data.bags import random_bags
    >>> from graphdiff.llp.selection import split_bags
    >>> bags = random_bags(torch.tensor([0, 1] * 20), bag_size=4, seed=0)
    >>> train, val = split_bags(bags, 0.2, seed=0)
    >>> train.num_bags, val.num_bags
    (8, 2)
    """
    if not isinstance(bags, Bags):
        raise ValueError(f"`bags` must be a Bags object (see graphdiff.data.bags.as_bags), got {type(bags).__name__}")
    val_fraction = check_float(val_fraction, "val_fraction", minimum=0.0, maximum=1.0, high_open=True)
    seed = check_seed(seed)
    m = bags.num_bags
    n_val = int(round(val_fraction * m))
    if val_fraction > 0 and m >= 2:
        n_val = min(max(n_val, 1), m - 1)
    if n_val >= m:
        raise ValueError(
            f"`val_fraction`={val_fraction} holds out {n_val} of {m} bag(s) and leaves none to train on; "
            "use val_fraction=0 (or validation='none' in an estimator) when there is a single bag"
        )
    if n_val == 0:
        return bags, None
    perm = torch.randperm(m, generator=torch.Generator().manual_seed(seed + 7919))
    return bags.subset(perm[n_val:].sort().values), bags.subset(perm[:n_val].sort().values)


def bag_folds(bags: Bags, n_folds: int, seed: int = 0) -> list[tuple[Bags, Bags]]:
    """Split the bags into ``n_folds`` folds for cross-fitting: each bag is held out in exactly one fold.

    Parameters
    ----------
    bags : Bags
        The ``m >= 2`` bags.
    n_folds : int
        Number of folds, ``2 <= n_folds``; with fewer bags than folds every bag is its own fold.
    seed : int
        Seed of the assignment (a random permutation of the bags, dealt round-robin).

    Returns
    -------
    list of (train_bags, held_out_bags)
        One pair per fold; the held-out bags of the folds partition the bags.

    Raises
    ------
    ValueError
        For a single bag (nothing to train on when it is held out) or ``n_folds < 2``.

    Examples
    --------
    >>> import torch
    >>> from graphdiff.data.bags import random_bags
    >>> from graphdiff.llp.selection import bag_folds
    >>> bags = random_bags(torch.tensor([0, 1] * 20), bag_size=4, seed=0)
    >>> [(tr.num_bags, va.num_bags) for tr, va in bag_folds(bags, 3)]
    [(6, 4), (7, 3), (7, 3)]
    """
    if not isinstance(bags, Bags):
        raise ValueError(f"`bags` must be a Bags object (see graphdiff.data.bags.as_bags), got {type(bags).__name__}")
    n_folds = check_int(n_folds, "n_folds", minimum=2)
    seed = check_seed(seed)
    m = bags.num_bags
    if m < 2:
        raise ValueError(f"cross-fitting needs at least 2 bags, got {m} (use validation='none' for a single bag)")
    k = min(n_folds, m)
    fold_of = torch.empty(m, dtype=torch.long)
    fold_of[torch.randperm(m, generator=torch.Generator().manual_seed(seed + 7919))] = torch.arange(m) % k
    return [
        (bags.subset(torch.nonzero(fold_of != f).flatten()), bags.subset(torch.nonzero(fold_of == f).flatten()))
        for f in range(k)
    ]


def bag_proportion_loss(proba: torch.Tensor, bags: Bags, eps: float = 1e-7) -> torch.Tensor:
    """The DLLP loss: mean over bags of ``BCE(alpha_S, mean_{i in S} proba_i)``, differentiable in ``proba``.

    Parameters
    ----------
    proba : Tensor ``(N,)``
        Predicted ``P(y_i = 1)`` of every instance ``bags`` refers to.
    bags : Bags
    eps : float
        Clamp of the bag means away from 0 and 1.

    Returns
    -------
    Tensor (scalar)
    """
    bag = bags.bag_of_member.to(proba.device)
    mean = scatter(proba[bags.index.to(proba.device)], bag, 0, dim_size=bags.num_bags, reduce="mean")
    mean = mean.clamp(eps, 1 - eps)
    alpha = bags.proportions.to(device=proba.device, dtype=proba.dtype)
    return -(alpha * torch.log(mean) + (1 - alpha) * torch.log(1 - mean)).mean()


def calibrated_bag_losses(logit: torch.Tensor, bags: Bags, grid: int = 41, scales=None) -> torch.Tensor:
    """Per-bag DLLP loss ``BCE(alpha_S, mean_{i in S} sigmoid(a logit_i + b))`` at the best global shift ``b``
    (and, with ``scales``, the best temperature ``a`` among them).

    Parameters
    ----------
    logit : Tensor ``(N,)``
        Logits of every instance ``bags`` refers to.
    bags : Bags
        The (held-out) bags.
    grid : int
        Points of each of the two grid searches for ``b``.
    scales : sequence of float, optional
        Candidate temperatures ``a >= 0`` (``0`` is the best constant predictor); default: ``a = 1`` only. A
        confident model (trained on hard pseudo-labels) that ranks the bags well is then not penalised for its
        scale.

    Returns
    -------
    Tensor ``(num_bags,)``, float64
        Each bag's loss (their mean is the score :func:`bag_score_fn` compares with the best constant).
    """
    logit = logit.double()
    best, best_ab = float("inf"), (1.0, 0.0)
    for a in scales if scales is not None else (1.0,):
        b = _calibrated_shift(a * logit, bags, grid)
        val = float(bag_proportion_loss(torch.sigmoid(a * logit + b), bags))
        if val < best:
            best, best_ab = val, (a, b)
    a, b = best_ab
    p = torch.sigmoid(a * logit + b)
    bag = bags.bag_of_member.to(p.device)
    mean = scatter(p[bags.index.to(p.device)], bag, 0, dim_size=bags.num_bags, reduce="mean").clamp(1e-7, 1 - 1e-7)
    alpha = bags.proportions.to(device=p.device, dtype=p.dtype)
    return -(alpha * torch.log(mean) + (1 - alpha) * torch.log(1 - mean))


#: Largest ``N x block`` probability matrix the shift search builds at once (float64: 32 MB).
_SHIFT_BLOCK_ELEMENTS = 4_000_000


def _calibrated_shift(logit: torch.Tensor, bags: Bags, grid: int = 41) -> float:
    """The shift ``b`` minimising the DLLP loss of ``sigmoid(logit + b)``: a grid on [-8, 8], then a finer one on
    ``best +- 0.4``; each grid is scored at once (``N x grid`` probabilities, in column blocks for large ``N``)."""
    best_b, best = 0.0, float("inf")
    logit = logit[bags.index.to(logit.device)]
    bag = bags.bag_of_member.to(logit.device)
    sizes = bags.sizes.to(device=logit.device, dtype=logit.dtype)
    alpha = bags.proportions.to(device=logit.device, dtype=logit.dtype)[:, None]
    block = max(1, _SHIFT_BLOCK_ELEMENTS // max(1, logit.numel()))
    for lo, hi in ((-8.0, 8.0), (-0.4, 0.4)):
        centre = best_b if lo > -1 else 0.0
        shifts = torch.linspace(centre + lo, centre + hi, grid, dtype=logit.dtype, device=logit.device)
        losses = []
        for j in range(0, grid, block):
            p = torch.sigmoid(logit[:, None] + shifts[None, j : j + block])
            mean = scatter(p, bag, 0, dim_size=bags.num_bags, reduce="sum") / sizes[:, None]
            mean = mean.clamp(1e-7, 1 - 1e-7)
            losses.append(-(alpha * torch.log(mean) + (1 - alpha) * torch.log(1 - mean)).mean(0))
        losses = torch.cat(losses)
        i = int(losses.argmin())
        if float(losses[i]) < best:
            best_b, best = float(shifts[i]), float(losses[i])
    return best_b


def _calibrated_bag_loss(logit: torch.Tensor, bags: Bags, grid: int = 41) -> float:
    """DLLP loss on ``bags`` after the best global logit shift ``b`` (:func:`_calibrated_shift`), so that the
    score measures how well bag-to-bag differences are ranked, not how well the overall rate is calibrated."""
    b = _calibrated_shift(logit, bags, grid)
    return float(bag_proportion_loss(torch.sigmoid(logit + b), bags))


def bag_score_fn(X: torch.Tensor, val_bags: Bags):
    """Score for early stopping on held-out bags (instance labels never used).

    The score is the relative reduction of the DLLP loss, after the best global logit shift, over the best
    constant predictor (0 = no better than a constant, higher is better). Ignoring the overall rate matters: the
    plain loss rewards an epoch whose mean prediction happens to match the prior, whatever its ranking.

    Parameters
    ----------
    X : Tensor ``(N, d)``
        Learner input of every instance (on the model's device).
    val_bags : Bags
        The held-out bags.

    Returns
    -------
    callable ``model -> float``
    """
    members = val_bags.index
    local = Bags(torch.arange(members.numel()), val_bags.ptr, val_bags.counts, members.numel())

    # reference: the best constant predictor; the score is the relative loss reduction over it (0 = no better)
    const = _calibrated_bag_loss(torch.zeros(members.numel(), dtype=torch.float64), local)

    def score(model) -> float:
        p = predict_proba(model, X[members.to(X.device)]).double().cpu().clamp(1e-12, 1 - 1e-12)
        return 1.0 - _calibrated_bag_loss(torch.log(p) - torch.log1p(-p), local) / const

    return score


def roc_auc(y, score) -> float:
    """ROC AUC of ``score`` against binary labels ``y`` (tensors or arrays); both classes must occur."""
    from sklearn.metrics import roc_auc_score

    y = np.asarray(y.cpu() if isinstance(y, torch.Tensor) else y)
    s = np.asarray(score.detach().cpu() if isinstance(score, torch.Tensor) else score, dtype=np.float64)
    if len(np.unique(y)) < 2:
        raise ValueError("AUC needs both classes among the labels")
    return float(roc_auc_score(y, s))


def auc_score_fn(X_val: torch.Tensor, y_val: torch.Tensor):
    """Instance-labelled validation AUC (the reference protocol; opt-in only).

    Returns a callable ``model -> float``: the ROC AUC of the model's outputs on ``X_val`` against ``y_val``.
    """

    def score(model) -> float:
        return roc_auc(y_val, predict_proba(model, X_val))

    return score
