"""Synthetic tabular data for LLP scale runs and the offline demo.

Used for the "million samples" claim of Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 4:
rows :math:`x \\sim \\mathcal N(0, I_d)` (standardised features) and labels
:math:`y \\sim \\mathrm{Bernoulli}(\\sigma(a\\, w^\\top x / \\lVert w \\rVert + b))` from a logistic model
whose intercept
``b`` is solved (by bisection on the expected rate) so that about ``positive_rate`` of the rows are positive.
"""

from __future__ import annotations

import torch

__all__ = ["logistic_data"]


def logistic_data(
    num_samples: int, num_features: int = 16, positive_rate: float = 0.3, signal: float = 3.0, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(X float32 (n, d), y int64 (n,))`` from a logistic model; deterministic given ``seed``."""
    if num_samples < 2 or num_features < 1:
        raise ValueError(f"need `num_samples` >= 2 and `num_features` >= 1, got {num_samples}, {num_features}")
    if not 0.0 < positive_rate < 1.0:
        raise ValueError(f"`positive_rate` must lie in (0, 1), got {positive_rate}")
    g = torch.Generator().manual_seed(int(seed))
    X = torch.randn(num_samples, num_features, generator=g)
    w = torch.randn(num_features, generator=g)
    score = signal * (X @ w) / w.norm()
    lo, hi = -20.0, 20.0
    probe = score[: min(num_samples, 200_000)]
    for _ in range(60):  # bisection on the intercept: mean sigmoid is increasing in b
        mid = 0.5 * (lo + hi)
        if float(torch.sigmoid(probe + mid).mean()) < positive_rate:
            lo = mid
        else:
            hi = mid
    p = torch.sigmoid(score + 0.5 * (lo + hi))
    y = (torch.rand(num_samples, generator=g) < p).long()
    return X, y
