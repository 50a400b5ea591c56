"""Label noise: uniform (symmetric), pair (flip) and binary class-conditional flips.

Implements the noise models of the label-noise literature as used by the graphdiff methods:

* **uniform** -- transition ``T = (1 - r) I + r / (K - 1) (11^T - I)``: a label is kept with probability ``1 - r`` and
  otherwise replaced by one of the other ``K - 1`` classes uniformly (ERASE's "symm", paper notes section 2).
* **pair** -- ``T = (1 - r) I + r P`` where ``P`` maps each class to one target class: the cyclic convention
  ``i -> i + 1 mod K`` of most label-noise papers, or one random other class per class as the ERASE code draws it
  ("asymm"; two classes may share a target).
* **binary flips** ``(a0, a1)`` for local clustering (Back de Luca et al., ICLR 2024, section 2): a node of the target
  cluster keeps label 1 with probability ``a1``, any other node keeps label 0 with probability ``a0``.

Noise is applied only where ``mask`` is true (e.g. the training and validation nodes) and is deterministic given
``seed``. ``legacy=True`` reproduces the ERASE reference code's draw exactly: the global numpy ``RandomState`` seeded
with ``seed``, for pair noise first one target draw per class in class order, then one categorical draw per masked
node in node-index order (a categorical draw of numpy's ``choice`` is one uniform number compared with the row's
cumulative sum, so drawing the uniforms in one call gives the very same labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from graphdiff.data.validation import check_labels, check_mask, check_rate

__all__ = [
    "NoisyLabels",
    "uniform_transition",
    "pair_transition",
    "uniform_noise",
    "pair_noise",
    "corrupt_labels",
    "binary_flip_noise",
]


@dataclass
class NoisyLabels:
    """Result of a label corruption.

    Attributes:
        y_noisy: corrupted labels (LongTensor, same shape and device as the input; unmasked entries unchanged).
        transition: ``K x K`` row-stochastic matrix, ``transition[i, j] = P(noisy = j | clean = i)``.
        realised_rate: fraction of the masked labels that actually changed.
        flipped: boolean mask of the nodes whose label changed.
        pair_targets: for pair noise, the target class of each class; ``None`` otherwise.
    """

    y_noisy: torch.Tensor
    transition: torch.Tensor
    realised_rate: float
    flipped: torch.Tensor
    pair_targets: torch.Tensor | None = None


def uniform_transition(num_classes: int, rate: float) -> torch.Tensor:
    """``(1 - r) I + r / (K - 1) (11^T - I)`` as a float64 tensor."""
    rate = check_rate(rate)
    if num_classes < 2:
        raise ValueError(f"`num_classes` must be at least 2 for label noise, got {num_classes}")
    t = torch.full((num_classes, num_classes), rate / (num_classes - 1), dtype=torch.float64)
    t.fill_diagonal_(1.0 - rate)
    return t


def pair_transition(targets, rate: float) -> torch.Tensor:
    """``(1 - r) I + r P`` where row ``i`` of ``P`` is one-hot at ``targets[i] != i``."""
    rate = check_rate(rate)
    targets = torch.as_tensor(targets, dtype=torch.long)
    k = targets.numel()
    if k < 2:
        raise ValueError(f"pair noise needs at least 2 classes, got {k}")
    if (targets == torch.arange(k)).any() or targets.min() < 0 or targets.max() >= k:
        raise ValueError("`targets` must map every class to a different class in [0, num_classes)")
    t = torch.eye(k, dtype=torch.float64) * (1.0 - rate)
    t[torch.arange(k), targets] += rate
    return t


def _prepare(y, num_classes, mask):
    y = check_labels(y, name="y")
    if num_classes is None:
        num_classes = int(y.max()) + 1 if y.numel() else 0
    y = check_labels(y, num_classes=num_classes, name="y")
    mask = torch.ones_like(y, dtype=torch.bool) if mask is None else check_mask(mask, y.numel(), name="mask")
    return y, int(num_classes), mask.to(y.device)


def _draw(transition: torch.Tensor, y_masked: np.ndarray, uniforms: np.ndarray) -> np.ndarray:
    """Categorical draws from the rows ``transition[y_masked]`` with the given uniforms (numpy ``choice`` rule)."""
    cdf = np.cumsum(transition.numpy(), axis=1)
    cdf /= cdf[:, -1:]
    rows = cdf[y_masked]
    # numpy's choice returns searchsorted(cdf, u, side="right"): the number of cdf entries <= u.
    out = (rows <= uniforms[:, None]).sum(axis=1)
    return np.minimum(out, transition.size(0) - 1)


def _apply(y, mask, transition, uniforms, targets=None) -> NoisyLabels:
    idx = mask.nonzero().flatten()
    y_np = y[idx].cpu().numpy()
    new = torch.from_numpy(_draw(transition, y_np, uniforms)).to(y.device)
    y_noisy = y.clone()
    y_noisy[idx] = new
    flipped = y_noisy != y
    n = idx.numel()
    realised = float(flipped[idx].float().mean()) if n else 0.0
    return NoisyLabels(y_noisy, transition, realised, flipped, targets)


def uniform_noise(
    y, rate: float, num_classes: int | None = None, mask=None, seed: int = 0, legacy: bool = False
) -> NoisyLabels:
    """Uniform (symmetric) label noise on the masked nodes.

    Args:
        y: clean labels, shape ``(N,)``.
        rate: per-label corruption probability ``r`` in ``[0, 1)``.
        num_classes: ``K``; defaults to ``max(y) + 1``.
        mask: boolean mask (or index tensor) of the nodes to corrupt; all nodes when ``None``.
        seed: random seed.
        legacy: reproduce the ERASE reference code's draw (numpy ``RandomState``) exactly.
    """
    y, k, mask = _prepare(y, num_classes, mask)
    transition = uniform_transition(k, rate)
    n = int(mask.sum())
    uniforms = np.random.RandomState(seed).random_sample(n) if legacy else np.random.default_rng(seed).random(n)
    return _apply(y, mask, transition, uniforms)


def pair_noise(
    y,
    rate: float,
    num_classes: int | None = None,
    mask=None,
    seed: int = 0,
    target: str = "cyclic",
    legacy: bool = False,
) -> NoisyLabels:
    """Pair (flip) label noise on the masked nodes.

    Args:
        target: ``"cyclic"`` (class ``i`` flips to ``i + 1 mod K``) or ``"random"`` (one random other class per
            class, drawn with the same seed; the ERASE code's convention). ``legacy=True`` implies ``"random"``
            drawn exactly as the reference code draws it.
    """
    y, k, mask = _prepare(y, num_classes, mask)
    check_rate(rate)
    if k < 2:
        raise ValueError(f"pair noise needs at least 2 classes, got num_classes={k}")
    if target not in ("cyclic", "random"):
        raise ValueError(f"`target` must be 'cyclic' or 'random', got {target!r}")
    if legacy and target != "random":
        raise ValueError("`legacy=True` reproduces the reference draw, whose targets are random: use target='random'")
    n = int(mask.sum())
    classes = np.arange(k)
    if legacy:
        rs = np.random.RandomState(seed)
        targets = np.array([rs.choice(classes[classes != i]) for i in range(k)])  # K draws, class order
        uniforms = rs.random_sample(n)
    else:
        rng = np.random.default_rng(seed)
        if target == "cyclic":
            targets = (classes + 1) % k
        else:
            # one uniform draw among the K - 1 other classes: offset in [1, K)
            targets = (classes + rng.integers(1, k, size=k)) % k
        uniforms = rng.random(n)
    targets = torch.from_numpy(np.asarray(targets, dtype=np.int64))
    transition = pair_transition(targets, rate)
    return _apply(y, mask, transition, uniforms, targets)


def corrupt_labels(y, kind: str, rate: float, **kwargs) -> NoisyLabels:
    """Dispatch to :func:`uniform_noise` (``kind="uniform"``) or :func:`pair_noise` (``kind="pair"``)."""
    if kind == "uniform":
        return uniform_noise(y, rate, **kwargs)
    if kind == "pair":
        return pair_noise(y, rate, **kwargs)
    raise ValueError(f"`kind` must be 'uniform' or 'pair', got {kind!r}")


def binary_flip_noise(in_target, a0: float, a1: float, seed: int = 0) -> torch.Tensor:
    """Noisy binary labels for local clustering with label accuracies ``(a0, a1)``.

    ``P(label = 1 | node in target) = a1`` and ``P(label = 0 | node not in target) = a0``.

    Args:
        in_target: boolean tensor, true on the nodes of the target cluster.
        a0, a1: accuracies in ``[0, 1]``.
        seed: random seed.

    Returns:
        Boolean tensor of noisy labels.
    """
    in_target = torch.as_tensor(in_target)
    if in_target.dtype != torch.bool or in_target.dim() != 1:
        raise ValueError("`in_target` must be a 1-D boolean tensor (true on the target cluster)")
    a0 = check_rate(a0, name="a0", upper_inclusive=True)
    a1 = check_rate(a1, name="a1", upper_inclusive=True)
    u = torch.from_numpy(np.random.default_rng(seed).random(in_target.numel())).to(in_target.device)
    keep = torch.where(in_target, u < a1, u < a0)
    return torch.where(keep, in_target, ~in_target)
