"""Label noise: uniform (symmetric), pair (flip) and binary class-conditional flips.

Implements the noise models of the label-noise literature as used by the graphdiff methods:

* **uniform** -- transition ``T = (1 - r) I + r / (K - 1) (11^T - I)``: a label is kept with probability ``1 - r`` and
  otherwise replaced by one of the other ``K - 1`` classes uniformly (the "symm" noise of ERASE, Chen et al.,
  CIKM 2024, https://arxiv.org/abs/2312.08852, and of its reference code https://github.com/eraseai/erase).
* **pair** -- ``T = (1 - r) I + r P`` where ``P`` maps each class to one target class: the cyclic convention
  ``i -> i + 1 mod K`` of most label-noise papers, or one random other class per class as the ERASE code draws it
  ("asymm"; two classes may share a target).
* **binary flips** ``(a0, a1)`` for local clustering (Back de Luca, Fountoulakis & Yang, "Local Graph Clustering
  with Noisy Labels", ICLR 2024, https://arxiv.org/abs/2310.08031, section 2): a node of the target cluster keeps
  label 1 with probability ``a1``, any other node keeps label 0 with probability ``a0``.

Noise is applied only where ``mask`` is true (e.g. the training and validation nodes) and is deterministic given
``seed``. ``legacy=True`` reproduces the ERASE reference code's draw exactly: a numpy ``RandomState`` seeded with
``seed`` (the reference seeds the global one), for pair noise first one target draw per class in class order, then
one categorical draw per masked node in node-index order (a categorical draw of numpy's ``choice`` is one uniform
number compared with the row's cumulative sum, so drawing the uniforms in one call gives the very same labels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from graphdiff.data.validation import (
    check_bool,
    check_choice,
    check_int,
    check_labels,
    check_mask,
    check_rate,
    check_seed,
)

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
    """Result of a label corruption (:func:`uniform_noise`, :func:`pair_noise`).

    Parameters
    ----------
    y_noisy : torch.LongTensor, shape (N,)
        Corrupted labels, on the device of the input; entries outside the mask are unchanged.
    transition : torch.Tensor of float64, shape (K, K)
        Row-stochastic matrix, ``transition[i, j] = P(noisy = j | clean = i)``.
    realised_rate : float
        Fraction of the masked labels that actually changed (0 when the mask is empty).
    flipped : torch.BoolTensor, shape (N,)
        True on the nodes whose label changed.
    pair_targets : torch.LongTensor of shape (K,) or None
        For pair noise, the target class of each class; ``None`` otherwise.

    Examples
    --------
    >>> import torch
    >>> noisy = uniform_noise(torch.tensor([0, 1, 2, 0, 1, 2]), 0.5, seed=0)
    >>> noisy.y_noisy.shape, noisy.transition.shape, noisy.realised_rate == noisy.flipped.float().mean().item()
    (torch.Size([6]), torch.Size([3, 3]), True)
    """

    y_noisy: torch.Tensor
    transition: torch.Tensor
    realised_rate: float
    flipped: torch.Tensor
    pair_targets: torch.Tensor | None = None


def uniform_transition(num_classes: int, rate: float) -> torch.Tensor:
    """The uniform noise transition ``(1 - r) I + r / (K - 1) (11^T - I)``.

    Parameters
    ----------
    num_classes : int
        ``K >= 2``.
    rate : float
        ``r`` in ``[0, 1)``.

    Returns
    -------
    torch.Tensor of float64, shape (K, K)

    Examples
    --------
    >>> uniform_transition(3, 0.3)
    tensor([[0.7000, 0.1500, 0.1500],
            [0.1500, 0.7000, 0.1500],
            [0.1500, 0.1500, 0.7000]], dtype=torch.float64)
    """
    rate = check_rate(rate)
    num_classes = check_int(num_classes, "num_classes", minimum=2)
    t = torch.full((num_classes, num_classes), rate / (num_classes - 1), dtype=torch.float64)
    t.fill_diagonal_(1.0 - rate)
    return t


def pair_transition(targets, rate: float) -> torch.Tensor:
    """The pair noise transition ``(1 - r) I + r P`` where row ``i`` of ``P`` is one-hot at ``targets[i] != i``.

    Parameters
    ----------
    targets : sequence of int or torch.Tensor, shape (K,)
        The class each class flips to, different from itself.
    rate : float
        ``r`` in ``[0, 1)``.

    Returns
    -------
    torch.Tensor of float64, shape (K, K)

    Examples
    --------
    >>> pair_transition([1, 2, 0], 0.25)
    tensor([[0.7500, 0.2500, 0.0000],
            [0.0000, 0.7500, 0.2500],
            [0.2500, 0.0000, 0.7500]], dtype=torch.float64)
    """
    rate = check_rate(rate)
    targets = check_labels(torch.as_tensor(targets), name="targets")
    k = targets.numel()
    if k < 2:
        raise ValueError(f"pair noise needs at least 2 classes, got {k}")
    if (targets == torch.arange(k, device=targets.device)).any() or targets.max() >= k:
        raise ValueError("`targets` must map every class to a different class in [0, num_classes)")
    targets = targets.cpu()
    t = torch.eye(k, dtype=torch.float64) * (1.0 - rate)
    t[torch.arange(k), targets] += rate
    return t


def _prepare(y, num_classes, mask):
    y = check_labels(y, name="y")
    num_classes = check_int(num_classes, "num_classes", minimum=0, allow_none=True)
    if num_classes is None:
        if not y.numel():
            raise ValueError("`y` is empty, so `num_classes` cannot be inferred from it: pass num_classes")
        num_classes = int(y.max()) + 1
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

    Parameters
    ----------
    y : torch.Tensor, shape (N,)
        Clean integer labels in ``[0, K)``.
    rate : float
        Per-label corruption probability ``r`` in ``[0, 1)``: a masked label is replaced by one of the other
        ``K - 1`` classes with probability ``r``.
    num_classes : int, optional
        ``K``; defaults to ``max(y) + 1``.
    mask : torch.Tensor, optional
        Boolean mask of shape ``(N,)`` or int64 node ids of the nodes to corrupt (see
        :func:`~graphdiff.data.validation.check_mask`; ``uint8`` is refused); all nodes when ``None``.
    seed : int, default 0
        Random seed in ``[0, 2**32 - 1]``.
    legacy : bool, default False
        Reproduce the ERASE reference code's draw (numpy ``RandomState``) exactly.

    Returns
    -------
    NoisyLabels

    Examples
    --------
    >>> import torch
    >>> y = torch.arange(1000) % 4
    >>> noisy = uniform_noise(y, 0.3, seed=0)
    >>> round(noisy.realised_rate, 2), bool(noisy.y_noisy[~noisy.flipped].eq(y[~noisy.flipped]).all())
    (0.31, True)
    """
    y, k, mask = _prepare(y, num_classes, mask)
    transition = uniform_transition(k, rate)
    seed, legacy = check_seed(seed), check_bool(legacy, "legacy")
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
    """Pair (flip) label noise on the masked nodes: a masked label of class ``i`` flips to ``targets[i]`` with
    probability ``rate``.

    Parameters
    ----------
    y, rate, num_classes, mask, seed
        As in :func:`uniform_noise`.
    target : {"cyclic", "random"}, default "cyclic"
        ``"cyclic"``: class ``i`` flips to ``i + 1 mod K``; ``"random"``: one random other class per class, drawn
        with the same seed (the ERASE code's convention; two classes may share a target).
    legacy : bool, default False
        Reproduce the ERASE reference code's draw exactly (needs ``target="random"``).

    Returns
    -------
    NoisyLabels
        With ``pair_targets`` set.

    Examples
    --------
    >>> import torch
    >>> noisy = pair_noise(torch.tensor([0, 1, 2] * 100), 0.4, seed=1)
    >>> noisy.pair_targets.tolist(), sorted(set(noisy.y_noisy[:3].tolist()) | {0, 1, 2})
    ([1, 2, 0], [0, 1, 2])
    """
    y, k, mask = _prepare(y, num_classes, mask)
    check_rate(rate)
    if k < 2:
        raise ValueError(f"pair noise needs at least 2 classes, got num_classes={k}")
    target = check_choice(target, "target", ("cyclic", "random"))
    seed, legacy = check_seed(seed), check_bool(legacy, "legacy")
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
    """Dispatch to :func:`uniform_noise` (``kind="uniform"``) or :func:`pair_noise` (``kind="pair"``).

    Parameters
    ----------
    y : torch.Tensor, shape (N,)
        Clean integer labels in ``[0, K)``.
    kind : {"uniform", "pair"}
        The noise model.
    rate : float
        Per-label corruption probability in ``[0, 1)``.
    **kwargs
        The other keyword arguments of the chosen function (``num_classes``, ``mask``, ``seed``, ``legacy``;
        ``target`` for pair noise).

    Returns
    -------
    NoisyLabels

    Examples
    --------
    >>> import torch
    >>> corrupt_labels(torch.tensor([0, 1, 0, 1]), "pair", 0.0).realised_rate
    0.0
    """
    kind = check_choice(kind, "kind", ("uniform", "pair"))
    return uniform_noise(y, rate, **kwargs) if kind == "uniform" else pair_noise(y, rate, **kwargs)


def binary_flip_noise(in_target, a0: float, a1: float, seed: int = 0) -> torch.Tensor:
    """Noisy binary labels for local clustering with label accuracies ``(a0, a1)``.

    ``P(label = 1 | node in target) = a1`` and ``P(label = 0 | node not in target) = a0``.

    Parameters
    ----------
    in_target : torch.BoolTensor, shape (N,)
        True on the nodes of the target cluster.
    a0, a1 : float
        Accuracies in ``[0, 1]``.
    seed : int, default 0
        Random seed.

    Returns
    -------
    torch.BoolTensor, shape (N,)
        The noisy labels, on the device of ``in_target``.

    Examples
    --------
    >>> import torch
    >>> in_target = torch.arange(10_000) < 1000
    >>> labels = binary_flip_noise(in_target, a0=0.99, a1=0.8, seed=0)
    >>> round(labels[in_target].float().mean().item(), 1), round((~labels[~in_target]).float().mean().item(), 2)
    (0.8, 0.99)
    """
    in_target = torch.as_tensor(in_target)
    if in_target.dtype != torch.bool or in_target.dim() != 1:
        raise ValueError("`in_target` must be a 1-D boolean tensor (true on the target cluster)")
    a0 = check_rate(a0, name="a0", upper_inclusive=True)
    a1 = check_rate(a1, name="a1", upper_inclusive=True)
    u = torch.from_numpy(np.random.default_rng(check_seed(seed)).random(in_target.numel())).to(in_target.device)
    keep = torch.where(in_target, u < a1, u < a0)
    return torch.where(keep, in_target, ~in_target)
