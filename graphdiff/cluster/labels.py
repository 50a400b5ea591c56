r"""Noisy binary labels for local clustering, two ways (Sections 3 and 4 of Back de Luca, Fountoulakis & Yang,
*Local Graph Clustering with Noisy Labels*, ICLR 2024, https://arxiv.org/abs/2310.08031).

* **Independent flips** with accuracies :math:`a_1 = P(\tilde y_i = 1 \mid i \in K)` and
  :math:`a_0 = P(\tilde y_i = 0 \mid i \notin K)`: :func:`flip_labels`, a thin wrapper of the data layer's
  :func:`graphdiff.data.noise.binary_flip_noise` returning an ``int8`` array the kernels read without copying.
* **"Reliable labels from a few samples"**: :class:`LogisticLabelOracle` trains a logistic regression
  :math:`\tilde y_i = [\,w^\top x_i + b > 0\,]` on the attributes of ``m`` sampled nodes of the target and ``m``
  sampled other nodes, and predicts *lazily*: the flow diffusion solver asks only for the nodes it touches, so the
  pipeline stays strongly local (``predicted`` counts the nodes ever predicted).
"""

from __future__ import annotations

import numpy as np
import torch

from graphdiff.data.noise import binary_flip_noise
from graphdiff.data.validation import check_features, check_mask

__all__ = ["flip_labels", "LogisticLabelOracle"]


def flip_labels(in_target, a0: float, a1: float, seed: int = 0) -> np.ndarray:
    """Noisy labels by independent flips (``int8`` 0/1 array); see :func:`graphdiff.data.noise.binary_flip_noise`."""
    if not isinstance(in_target, torch.Tensor):
        in_target = torch.from_numpy(np.asarray(in_target))
    noisy = binary_flip_noise(in_target, a0, a1, seed=seed)
    return noisy.cpu().numpy().view(np.int8)


class LogisticLabelOracle:
    """Binary labels predicted on demand by a logistic regression trained on ``2 m`` sampled nodes.

    Parameters
    ----------
    features:
        Node attributes, ``(n, f)`` tensor or array. Only sampled and requested rows are read.
    in_target:
        Boolean mask (length ``n``) of the target class, used only to draw the ``m`` positive and ``m`` negative
        training nodes (the "few samples" of the paper).
    num_samples:
        ``m``, the number of sampled nodes per side (the benchmark uses 10 and 50).
    C:
        Inverse regularisation strength of the logistic regression.
    seed:
        Seed of the sampling.

    Attributes
    ----------
    cache: ``int8`` array of length ``n``; ``-1`` for nodes not predicted yet, else the 0/1 prediction.
    train_nodes: the ``2 m`` sampled node ids; predicted: number of nodes predicted so far.
    """

    def __init__(self, features, in_target, num_samples: int = 10, *, C: float = 1.0, seed: int = 0):
        if isinstance(features, np.ndarray):
            features = torch.from_numpy(features)
        if not isinstance(features, torch.Tensor) or features.dim() != 2:
            raise ValueError("`features` must be a 2-D tensor or array (num_nodes, num_features)")
        n = features.size(0)
        mask = (
            check_mask(
                torch.as_tensor(np.asarray(in_target)) if not isinstance(in_target, torch.Tensor) else in_target,
                n,
                name="in_target",
            )
            .cpu()
            .numpy()
        )
        if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) or num_samples < 1:
            raise ValueError(f"`num_samples` must be a positive integer, got {num_samples!r}")
        pos, neg = np.flatnonzero(mask), np.flatnonzero(~mask)
        if pos.size < num_samples or neg.size < num_samples:
            raise ValueError(
                f"`num_samples`={num_samples} exceeds the available nodes ({pos.size} in the target, "
                f"{neg.size} outside)"
            )
        if not (isinstance(C, (int, float)) and C > 0):
            raise ValueError(f"`C` must be positive, got {C!r}")
        rng = np.random.default_rng(seed)
        self.train_nodes = np.concatenate(
            [rng.choice(pos, num_samples, replace=False), rng.choice(neg, num_samples, replace=False)]
        )
        y = np.concatenate([np.ones(num_samples), np.zeros(num_samples)])
        xs = check_features(features[torch.from_numpy(self.train_nodes)], name="features").double().numpy()
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(C=C, max_iter=1000)
        clf.fit(xs, y)
        self._features = features
        self.coef_ = torch.from_numpy(clf.coef_.ravel()).to(
            features.dtype if features.is_floating_point() else torch.float64
        )
        self.intercept_ = float(clf.intercept_[0])
        self.num_samples = int(num_samples)
        self.cache = np.full(n, -1, dtype=np.int8)
        self.predicted = 0

    @property
    def num_nodes(self) -> int:
        return self.cache.shape[0]

    def _predict(self, nodes: np.ndarray) -> np.ndarray:
        rows = self._features[torch.from_numpy(np.asarray(nodes, dtype=np.int64))]
        if not rows.is_floating_point():
            rows = rows.to(self.coef_.dtype)
        rows = check_features(rows, name="features")
        score = rows.to(self.coef_.dtype) @ self.coef_.to(rows.device) + self.intercept_
        return (score > 0).cpu().numpy().astype(np.int8)

    def fill(self, nodes) -> None:
        """Predict the labels of ``nodes`` not predicted yet and store them in :attr:`cache`."""
        nodes = np.asarray(nodes, dtype=np.int64)
        todo = np.unique(nodes[self.cache[nodes] < 0])
        if todo.size:
            self.cache[todo] = self._predict(todo)
            self.predicted += int(todo.size)

    def predict(self, nodes) -> np.ndarray:
        """0/1 labels of ``nodes`` (predicting those not cached yet)."""
        nodes = np.asarray(nodes, dtype=np.int64)
        self.fill(nodes)
        return self.cache[nodes].copy()

    def predict_all(self, batch_size: int = 8192) -> np.ndarray:
        """Labels of every node (a global read-out, used by the labels-alone baseline)."""
        todo = np.flatnonzero(self.cache < 0)
        for start in range(0, todo.size, batch_size):
            self.fill(todo[start : start + batch_size])
        return self.cache.copy()
