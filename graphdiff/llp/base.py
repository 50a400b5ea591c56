"""Shared scikit-learn-style plumbing of the LLP estimators (BP-LLP, DLLP, EasyLLP): argument checks, bag
validation split, model selection, ``predict_proba`` / ``predict``.

Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 4 (protocol: learners are MLPs scored by
test AUC; model selection on held-out bags by default, see :mod:`graphdiff.llp.selection`).
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

from graphdiff.data.bags import Bags, as_bags
from graphdiff.data.validation import check_features, check_labels
from graphdiff.llp.mlp import PAPER_HIDDEN, predict_proba
from graphdiff.llp.selection import auc_score_fn, bag_score_fn, split_bags

__all__ = ["LLPEstimator"]

_VALIDATION = ("bags", "instances", "none")


class LLPEstimator:
    """Base class: parameters live in ``__init__``; :meth:`fit` validates them up front."""

    def __init__(
        self,
        *,
        hidden=PAPER_HIDDEN,
        embed_layer: int = -2,
        epochs: int = 100,
        batch_size: int = 1024,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        patience: int = 4,
        min_delta: float = 1e-4,
        validation: str = "bags",
        val_fraction: float = 0.1,
        standardize: bool = True,
        seed: int = 0,
        device=None,
        verbose: bool = True,
    ):
        self.hidden = hidden
        self.embed_layer = embed_layer
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.patience = patience
        self.min_delta = min_delta
        self.validation = validation
        self.val_fraction = val_fraction
        self.standardize = standardize
        self.seed = seed
        self.device = device
        self.verbose = verbose

    # -- helpers ---------------------------------------------------------------------------------------------
    def get_params(self) -> dict:
        import inspect

        names = []
        for cls in type(self).__mro__:
            if cls is object:
                continue
            for p in inspect.signature(cls.__init__).parameters.values():
                if p.name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name not in names:
                    names.append(p.name)
        return {n: getattr(self, n) for n in names}

    def _check_common(self) -> None:
        def pos_int(name):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"`{name}` must be a positive integer, got {v!r}")

        for name in ("epochs", "batch_size", "patience"):
            pos_int(name)
        for name in ("lr",):
            v = getattr(self, name)
            if not isinstance(v, numbers.Real) or not v > 0:
                raise ValueError(f"`{name}` must be a positive number, got {v!r}")
        if not isinstance(self.weight_decay, numbers.Real) or self.weight_decay < 0:
            raise ValueError(f"`weight_decay` must be non-negative, got {self.weight_decay!r}")
        if self.validation not in _VALIDATION:
            raise ValueError(f"`validation` must be one of {_VALIDATION}, got {self.validation!r}")
        if not isinstance(self.val_fraction, numbers.Real) or not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"`val_fraction` must lie in [0, 1), got {self.val_fraction!r}")
        try:
            h = tuple(int(w) for w in self.hidden)
        except TypeError as exc:
            raise ValueError(f"`hidden` must be a sequence of widths, got {self.hidden!r}") from exc
        if not h or min(h) < 1:
            raise ValueError(f"`hidden` must hold positive widths, got {self.hidden!r}")

    def _device(self) -> torch.device:
        return torch.device(self.device) if self.device is not None else torch.device("cpu")

    def _scale(self, X: torch.Tensor) -> torch.Tensor:
        """The learner's input: features standardised with the training mean / std (constant columns -> 0)."""
        if not self.standardize:
            return X
        return (X - self.mean_.to(X.device)) / self.scale_.to(X.device)

    def _prepare(self, X, bags, counts, X_val, y_val):
        """Validate, split off validation bags and build the model-selection score.

        Returns ``(X, Xs, bags, train_bags, val_bags, score_fn)`` with ``Xs`` the standardised learner input."""
        self._check_common()
        X = check_features(X, name="X").float()
        bags = as_bags(bags, counts, X.size(0))
        self.mean_ = X.mean(0)
        std = X.std(0)
        self.scale_ = torch.where(std > 0, std, torch.ones_like(std))
        Xs = self._scale(X)
        if self.validation == "instances":
            if X_val is None or y_val is None:
                raise ValueError(
                    "validation='instances' needs `X_val` and `y_val` (instance-labelled validation "
                    "is opt-in; the default validation='bags' uses held-out bags)"
                )
            X_val = check_features(X_val, name="X_val").float()
            if X_val.size(1) != X.size(1):
                raise ValueError(f"`X_val` has {X_val.size(1)} features, X has {X.size(1)}")
            y_val = check_labels(y_val, num_classes=2, name="y_val", length=X_val.size(0))
            score_fn = auc_score_fn(self._scale(X_val).to(self._device()), y_val)
            train_bags, val_bags = bags, None
        else:
            if X_val is not None or y_val is not None:
                raise ValueError(
                    f"`X_val`/`y_val` given but validation={self.validation!r}; "
                    "pass validation='instances' to select models on instance labels"
                )
            if self.validation == "bags":
                train_bags, val_bags = split_bags(bags, self.val_fraction, self.seed)
            else:
                train_bags, val_bags = bags, None
            score_fn = bag_score_fn(Xs.to(self._device()), val_bags) if val_bags is not None else None
        self.n_features_in_ = X.size(1)
        return X, Xs, bags, train_bags, val_bags, score_fn

    def _check_fitted(self, X):
        if not hasattr(self, "model_"):
            raise ValueError(f"this {type(self).__name__} is not fitted yet; call fit(X, bags, counts) first")
        X = check_features(X, name="X").float()
        if X.size(1) != self.n_features_in_:
            raise ValueError(f"`X` has {X.size(1)} features, the model was fitted on {self.n_features_in_}")
        return X

    def predict_proba(self, X) -> np.ndarray:
        """``(N, 2)`` array of class probabilities (column 1 = positive)."""
        X = self._check_fitted(X)
        p = predict_proba(self.model_, self._scale(X).to(self._device())).double().cpu().numpy()
        return np.stack([1 - p, p], 1)

    def predict(self, X) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.get_params().items())})"


def bag_batches(bags: Bags, bags_per_batch: int, seed: int):
    """Epoch -> list of bag-id batches (seeded shuffles)."""

    def batches(epoch: int):
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        perm = torch.randperm(bags.num_bags, generator=g)
        return [perm[s : s + bags_per_batch] for s in range(0, bags.num_bags, bags_per_batch)]

    return batches
