"""Train / validation / test splits: the public Planetoid split and seeded random per-class splits.

The random split follows Shchur et al., "Pitfalls of Graph Neural Network Evaluation" (2018,
https://arxiv.org/abs/1811.05868): ``k`` nodes per class for training, then a validation set (per class or of a
fixed size), the rest (or a fixed number) for testing.
"""

from __future__ import annotations

import numpy as np
import torch

from graphdiff.data.validation import check_int, check_labels, check_seed

__all__ = ["public_split", "random_split"]


def public_split(data) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The standard split a loader attached to ``data`` (Planetoid: 20 per class / 500 / 1000).

    Parameters
    ----------
    data : torch_geometric.data.Data
        A graph with ``train_mask``, ``val_mask`` and ``test_mask``.

    Returns
    -------
    tuple of torch.BoolTensor
        ``(train_mask, val_mask, test_mask)``, the graph's own tensors.

    Examples
    --------
    >>> from graphdiff.data import synthetic
    >>> train, val, test = public_split(synthetic.contextual_sbm(num_nodes=100, num_classes=2, seed=0))
    >>> int(train.sum()), int(val.sum()), int(test.sum())
    (40, 60, 0)
    """
    masks = [getattr(data, name, None) for name in ("train_mask", "val_mask", "test_mask")]
    if any(m is None for m in masks):
        raise ValueError("this graph has no standard split (no train/val/test masks); use random_split()")
    return tuple(masks)  # type: ignore[return-value]


def _per_class_take(perm_y: np.ndarray, per_class: int, num_classes: int) -> np.ndarray:
    """Positions (into the permuted order) of the first ``per_class`` nodes of each class."""
    order = np.argsort(perm_y, kind="stable")
    sorted_y = perm_y[order]
    starts = np.searchsorted(sorted_y, np.arange(num_classes))
    rank = np.arange(sorted_y.size) - starts[sorted_y]
    return order[rank < per_class]


def random_split(
    y,
    num_train_per_class: int,
    num_val_per_class: int | None = None,
    num_val: int | None = None,
    num_test: int | None = None,
    num_classes: int | None = None,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Seeded random split with ``num_train_per_class`` training nodes per class.

    Parameters
    ----------
    y : torch.Tensor, shape (N,)
        Integer class ids.
    num_train_per_class : int
        Training nodes drawn from each class.
    num_val_per_class : int, optional
        Validation nodes drawn from each class among the rest.
    num_val : int, optional
        Validation nodes drawn from the rest regardless of class (at most one of ``num_val_per_class`` and
        ``num_val``; neither means no validation set).
    num_test : int, optional
        Test nodes drawn from the remainder; the whole remainder when ``None``.
    num_classes : int, optional
        ``K``; defaults to ``max(y) + 1``.
    seed : int, default 0
        Random seed.

    Returns
    -------
    tuple of torch.BoolTensor
        ``(train_mask, val_mask, test_mask)``, disjoint, each of shape ``(N,)``, on ``y``'s device.

    Examples
    --------
    >>> import torch
    >>> y = torch.tensor([0, 1] * 50)
    >>> train, val, test = random_split(y, 5, num_val=20, seed=0)
    >>> int(train.sum()), int(val.sum()), int(test.sum()), torch.bincount(y[train]).tolist()
    (10, 20, 70, [5, 5])
    """
    num_classes = check_int(num_classes, "num_classes", minimum=1, allow_none=True)
    y = check_labels(y, num_classes=num_classes, name="y")
    if y.numel() == 0:
        raise ValueError("`y` is empty: there are no nodes to split")
    k = num_classes if num_classes is not None else int(y.max()) + 1
    num_train_per_class = check_int(num_train_per_class, "num_train_per_class", minimum=0)
    num_val_per_class = check_int(num_val_per_class, "num_val_per_class", minimum=0, allow_none=True)
    num_val = check_int(num_val, "num_val", minimum=0, allow_none=True)
    num_test = check_int(num_test, "num_test", minimum=0, allow_none=True)
    if num_val_per_class is not None and num_val is not None:
        raise ValueError("give at most one of `num_val_per_class` and `num_val`")
    seed = check_seed(seed)
    y_np = y.cpu().numpy()
    counts = np.bincount(y_np, minlength=k)
    need = num_train_per_class + (num_val_per_class or 0)
    short = np.nonzero(counts < need)[0]
    if short.size:
        c = int(short[0])
        raise ValueError(
            f"class {c} has {counts[c]} nodes, fewer than the {need} the split needs per class "
            f"(num_train_per_class={num_train_per_class}, num_val_per_class={num_val_per_class})"
        )
    rng = np.random.default_rng(seed)
    perm = rng.permutation(y_np.size)
    n = y_np.size
    train = np.zeros(n, dtype=bool)
    train[perm[_per_class_take(y_np[perm], num_train_per_class, k)]] = True
    rest = perm[~train[perm]]
    val = np.zeros(n, dtype=bool)
    if num_val_per_class is not None:
        val[rest[_per_class_take(y_np[rest], num_val_per_class, k)]] = True
    elif num_val is not None:
        if num_val > rest.size:
            raise ValueError(f"`num_val`={num_val} exceeds the {rest.size} nodes left after training")
        val[rest[:num_val]] = True
    rest = rest[~val[rest]]
    if num_test is not None:
        if num_test > rest.size:
            raise ValueError(f"`num_test`={num_test} exceeds the {rest.size} nodes left after training/validation")
        rest = rest[:num_test]
    test = np.zeros(n, dtype=bool)
    test[rest] = True
    dev = y.device
    return (torch.from_numpy(train).to(dev), torch.from_numpy(val).to(dev), torch.from_numpy(test).to(dev))
