"""Shared scikit-learn-style plumbing of the tabular estimators (BP-LLP, DLLP, EasyLLP, the supervised MLP).

Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 4 (protocol: every learner is the same MLP,
scored by test AUC; model selection on held-out bags by default, see :mod:`graphdiff.llp.selection`).

* :class:`MLPEstimator` -- the parameters of the MLP and its training (validated in ``fit`` with
  :mod:`graphdiff.data.validation`), input standardisation, ``predict_proba`` / ``predict``.
* :class:`LLPEstimator` -- adds bags: ``fit(X, bags, counts)`` validates them (:func:`graphdiff.data.bags.as_bags`),
  holds out validation bags and builds the label-free model-selection score.
"""

from __future__ import annotations

import numpy as np
import torch

from graphdiff.base import Estimator
from graphdiff.data.bags import Bags, as_bags
from graphdiff.data.validation import (
    check_bool,
    check_choice,
    check_features,
    check_float,
    check_int,
    check_labels,
)
from graphdiff.llp.selection import auc_score_fn, bag_score_fn, split_bags
from graphdiff.nn.mlp import check_hidden, predict_proba

__all__ = ["MLPEstimator", "LLPEstimator", "DEFAULT_HIDDEN"]

#: Hidden widths of the library default MLP of every LLP estimator (fits Adult on one CPU core in seconds; the
#: reference's 5040-1280-320-128-64 is :data:`graphdiff.nn.mlp.PAPER_HIDDEN`, the ``"paper"`` preset).
DEFAULT_HIDDEN = (256, 128, 64)


class MLPEstimator(Estimator):
    """Base class of the MLP learners: parameters, their validation, standardisation and prediction.

    Subclasses set ``_VALIDATION`` (the accepted ``validation`` modes) and implement ``fit``; fitted state is
    ``model_`` (the :class:`~graphdiff.nn.mlp.MLP`), ``mean_`` / ``scale_`` (standardisation), ``n_features_in_``
    and ``history_``.
    """

    _VALIDATION: tuple[str, ...] = ("none",)

    def __init__(
        self,
        *,
        hidden=DEFAULT_HIDDEN,
        embed_layer: int = -2,
        epochs: int = 30,
        batch_size: int = 1024,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        patience: int = 10,
        min_delta: float = 1e-4,
        validation: str = "bags",
        val_fraction: float = 0.1,
        standardize: bool = True,
        seed: int = 0,
        device="cpu",
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

    # -- parameters --------------------------------------------------------------------------------------------
    def _check_params(self) -> None:
        """Validate every parameter (``ValueError`` naming the first bad one); called first in ``fit``."""
        super()._check_params()
        hidden = check_hidden(self.hidden)
        embed_layer = check_int(self.embed_layer, "embed_layer")
        if not -len(hidden) <= embed_layer < len(hidden):
            raise ValueError(
                f"`embed_layer`={embed_layer} is out of range for hidden={tuple(hidden)} ({len(hidden)} layer(s)): "
                f"use an index in [{-len(hidden)}, {len(hidden) - 1}]"
            )
        check_int(self.epochs, "epochs", minimum=1)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_float(self.lr, "lr", minimum=0.0, low_open=True)
        check_float(self.weight_decay, "weight_decay", minimum=0.0)
        check_int(self.patience, "patience", minimum=1)
        check_float(self.min_delta, "min_delta", minimum=0.0)
        check_choice(self.validation, "validation", self._VALIDATION)
        check_float(self.val_fraction, "val_fraction", minimum=0.0, maximum=1.0, high_open=True)
        check_bool(self.standardize, "standardize")

    def _mlp_kwargs(self) -> dict:
        """The validated MLP and training settings, as :func:`~graphdiff.nn.mlp.fit_mlp` takes them."""
        return dict(
            hidden=check_hidden(self.hidden),
            embed_layer=int(self.embed_layer),
            epochs=int(self.epochs),
            batch_size=int(self.batch_size),
            lr=float(self.lr),
            weight_decay=float(self.weight_decay),
            patience=int(self.patience),
            min_delta=float(self.min_delta),
            verbose=bool(self.verbose),
        )

    # -- inputs ------------------------------------------------------------------------------------------------
    def _fit_scaler(self, X: torch.Tensor) -> torch.Tensor:
        """Store the training mean / std (constant columns get scale 1) and return the standardised ``X``."""
        if X.size(1) == 0:
            raise ValueError("`X` has no feature columns")
        self.mean_ = X.mean(0)
        std = X.std(0) if X.size(0) > 1 else torch.zeros_like(self.mean_)
        self.scale_ = torch.where(std > 0, std, torch.ones_like(std))
        self.n_features_in_ = X.size(1)
        return self._scale(X)

    def _scale(self, X: torch.Tensor) -> torch.Tensor:
        """The learner's input: features standardised with the training mean / std."""
        if not self.standardize:
            return X
        return (X - self.mean_.to(X.device)) / self.scale_.to(X.device)

    def _check_X(self, X, name: str = "X") -> torch.Tensor:
        """Features of a fitted model: finite, 2-D, with the training number of columns (float32)."""
        X = check_features(X, name=name).float()
        if X.size(1) != self.n_features_in_:
            raise ValueError(f"`{name}` has {X.size(1)} features, the model was fitted on {self.n_features_in_}")
        return X

    def _instance_score_fn(self, X_val, y_val):
        """Validation AUC on instance-labelled ``X_val, y_val`` (both classes needed)."""
        X_val = self._check_X(X_val, "X_val")
        y_val = check_labels(y_val, num_classes=2, name="y_val", length=X_val.size(0))
        if y_val.unique().numel() < 2:
            raise ValueError("`y_val` must hold both classes (validation AUC is undefined otherwise)")
        return auc_score_fn(self._scale(X_val).to(self._device()), y_val)

    # -- prediction --------------------------------------------------------------------------------------------
    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : Tensor or ndarray ``(N, n_features_in_)``

        Returns
        -------
        ndarray ``(N, 2)``, float64; column 1 is ``P(y = 1)``.
        """
        self._check_fitted()
        X = self._check_X(X)
        p = predict_proba(self.model_, self._scale(X).to(self._device())).double().cpu().numpy()
        return np.stack([1 - p, p], 1)

    def predict(self, X) -> np.ndarray:
        """Hard labels ``1[P(y = 1) >= 0.5]``, ndarray ``(N,)`` of int64."""
        return (self.predict_proba(X)[:, 1] >= 0.5).astype(np.int64)


class LLPEstimator(MLPEstimator):
    """Base class of the LLP learners: ``fit(X, bags, counts)`` with bags in any form
    :func:`~graphdiff.data.bags.as_bags` accepts.

    ``validation``: ``"bags"`` (default; the bag-level criterion of :func:`~graphdiff.llp.selection.bag_score_fn`
    on ``val_fraction`` held-out bags), ``"instances"`` (opt-in: AUC on ``X_val, y_val`` passed to ``fit``) or
    ``"none"`` (all epochs).
    """

    _VALIDATION = ("bags", "instances", "none")

    def _prepare(self, X, bags, counts, X_val, y_val):
        """Validate the data, split off validation bags and build the model-selection score.

        Returns ``(X, Xs, bags, train_bags, val_bags, score_fn)`` with ``Xs`` the standardised learner input.
        """
        X = check_features(X, name="X").float()
        if X.size(0) < 2:
            raise ValueError(f"`X` must have at least 2 rows, got {X.size(0)}")
        bags = as_bags(bags, counts, X.size(0))
        if self.validation == "instances":
            if X_val is None or y_val is None:
                raise ValueError(
                    "validation='instances' needs `X_val` and `y_val` (instance-labelled validation "
                    "is opt-in; the default validation='bags' uses held-out bags)"
                )
        elif X_val is not None or y_val is not None:
            raise ValueError(
                f"`X_val`/`y_val` given but validation={self.validation!r}; "
                "pass validation='instances' to select models on instance labels"
            )
        if self.validation == "bags":
            train_bags, val_bags = split_bags(bags, self.val_fraction, self.seed)
        else:
            train_bags, val_bags = bags, None
        Xs = self._fit_scaler(X)
        if self.validation == "instances":
            score_fn = self._instance_score_fn(X_val, y_val)
        else:
            score_fn = bag_score_fn(Xs.to(self._device()), val_bags) if val_bags is not None else None
        return X, Xs, bags, train_bags, val_bags, score_fn


def bag_batches(bags: Bags, bags_per_batch: int, seed: int):
    """``epoch -> list of bag-id batches``: a permutation of the bags seeded by ``(seed, epoch)``, in chunks."""

    def batches(epoch: int):
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        perm = torch.randperm(bags.num_bags, generator=g)
        return [perm[s : s + bags_per_batch] for s in range(0, bags.num_bags, bags_per_batch)]

    return batches
