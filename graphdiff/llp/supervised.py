"""The supervised reference of the LLP benchmarks: the same MLP trained on instance labels.

Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 4 compares LLP learners with the learner
trained on the instance labels the bags hide; this is that ceiling, with the MLP, standardisation and training loop
of :class:`~graphdiff.llp.BPLabelProportions`, :class:`~graphdiff.llp.DLLP` and :class:`~graphdiff.llp.EasyLLP`.
"""

from __future__ import annotations

import torch

from graphdiff.data.validation import check_features, check_labels
from graphdiff.llp.base import DEFAULT_HIDDEN, MLPEstimator
from graphdiff.llp.selection import auc_score_fn
from graphdiff.nn.mlp import fit_mlp

__all__ = ["SupervisedMLP"]


class SupervisedMLP(MLPEstimator):
    """The LLP learners' MLP trained on instance labels (binary cross-entropy): the supervised ceiling.

    Parameters
    ----------
    hidden : sequence of int, default (5040, 1280, 320, 128, 64)
        Hidden widths of the MLP.
    embed_layer : int, default -2
        Hidden layer returned by ``model_.embed`` (see :class:`~graphdiff.nn.mlp.MLP`).
    epochs : int, default 30
        Maximum number of epochs.
    batch_size : int, default 1024
        Rows per batch.
    lr : float, default 1e-3
        AdamW learning rate.
    weight_decay : float, default 0.0
        AdamW weight decay.
    patience : int, default 10
        Early-stopping patience (epochs without an improvement of the validation AUC).
    min_delta : float, default 1e-4
        Smallest AUC increase that counts as an improvement.
    validation : {"holdout", "instances", "none"}, default "holdout"
        Early stopping on validation AUC: of a stratified random ``val_fraction`` of the training rows, held out
        from training (``"holdout"``), or of ``X_val, y_val`` passed to :meth:`fit` (``"instances"``, training on
        every row); ``"none"`` trains all epochs.
    val_fraction : float, default 0.1
        Fraction of each class held out with ``validation="holdout"``, in ``[0, 1)``.
    standardize : bool, default True
        Standardise the input with the training mean / std.
    seed : int, default 0
        Seed of the initialisation, the batch order and the holdout split.
    device : str or torch.device, default "cpu"
        Where to train.
    verbose : bool, default True
        Progress bar.

    Attributes
    ----------
    model_ : graphdiff.nn.mlp.MLP
        The trained network (best validation epoch).
    history_ : dict
        ``{"loss": [...], "score": [...], "best_epoch": int}`` per epoch, as :attr:`DLLP.history_
        <graphdiff.llp.DLLP>`.
    mean_, scale_ : Tensor ``(n_features_in_,)``
        Standardisation of the input.
    n_features_in_ : int
        Number of feature columns seen in ``fit``.

    Examples
    --------
    >>> from graphdiff.data.synthetic import logistic_data
    >>> from graphdiff.llp import SupervisedMLP
    >>> X, y = logistic_data(400, num_features=4, seed=0)
    >>> est = SupervisedMLP(hidden=(16, 8), epochs=5, verbose=False).fit(X, y)
    >>> est.predict_proba(X[:3]).shape, est.predict(X[:3]).shape
    ((3, 2), (3,))
    """

    _VALIDATION = ("holdout", "instances", "none")

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
        validation: str = "holdout",
        val_fraction: float = 0.1,
        standardize: bool = True,
        seed: int = 0,
        device="cpu",
        verbose: bool = True,
    ):
        super().__init__(
            hidden=hidden,
            embed_layer=embed_layer,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            patience=patience,
            min_delta=min_delta,
            validation=validation,
            val_fraction=val_fraction,
            standardize=standardize,
            seed=seed,
            device=device,
            verbose=verbose,
        )

    def fit(self, X, y, *, X_val=None, y_val=None) -> SupervisedMLP:
        """Fit on features and binary instance labels.

        Parameters
        ----------
        X : Tensor or ndarray ``(N, d)``
            Finite features.
        y : Tensor or ndarray ``(N,)``
            Labels 0 / 1, both classes present.
        X_val : Tensor or ndarray ``(M, d)``, optional
            Validation rows of ``validation="instances"`` (refused otherwise).
        y_val : Tensor or ndarray ``(M,)``, optional
            Their labels.

        Returns
        -------
        SupervisedMLP
            ``self``.
        """
        self._check_params()
        X = check_features(X, name="X").float()
        y = check_labels(y, num_classes=2, name="y", length=X.size(0)).cpu()
        if y.unique().numel() < 2:
            raise ValueError("`y` must hold both classes 0 and 1")
        if self.validation == "instances":
            if X_val is None or y_val is None:
                raise ValueError("validation='instances' needs `X_val` and `y_val`")
        elif X_val is not None or y_val is not None:
            raise ValueError(
                f"`X_val`/`y_val` given but validation={self.validation!r}; pass validation='instances' to use them"
            )
        train = torch.arange(X.size(0))
        val = None
        if self.validation == "holdout" and self.val_fraction > 0:
            train, val = _stratified_holdout(y, float(self.val_fraction), int(self.seed))
        Xs = self._fit_scaler(X[train])
        if self.validation == "instances":
            score_fn = self._instance_score_fn(X_val, y_val)
        elif val is not None:
            score_fn = auc_score_fn(self._scale(X[val]).to(self._device()), y[val])
        else:
            score_fn = None
        self.model_, self.history_ = fit_mlp(
            Xs,
            y[train].float(),
            score_fn=score_fn,
            seed=self.seed,
            device=self._device(),
            desc="supervised MLP",
            **self._mlp_kwargs(),
        )
        return self


def _stratified_holdout(y: torch.Tensor, val_fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Row ids ``(train, val)``: ``round(val_fraction * n_c)`` random rows of each class ``c`` (at least one, and
    at least one left for training), drawn with a generator seeded by ``seed``."""
    g = torch.Generator().manual_seed(seed)
    train, val = [], []
    for c in (0, 1):
        rows = (y == c).nonzero().flatten()
        if rows.numel() < 2:
            raise ValueError(
                f"validation='holdout' needs at least 2 rows of class {c}, got {rows.numel()}; "
                "use validation='none' or pass X_val, y_val with validation='instances'"
            )
        rows = rows[torch.randperm(rows.numel(), generator=g)]
        k = min(max(int(round(val_fraction * rows.numel())), 1), rows.numel() - 1)
        val.append(rows[:k])
        train.append(rows[k:])
    return torch.cat(train).sort().values, torch.cat(val).sort().values
