r"""Noisy binary labels for local clustering: how they are made, checked and turned into edge weights.

Sections 2-4 of Back de Luca, Fountoulakis & Yang, *Local Graph Clustering with Noisy Labels* (ICLR 2024,
https://arxiv.org/abs/2310.08031); the label settings are those of ``shared/papers/lgc.md`` §1.6.

* **Independent flips** with accuracies :math:`a_1 = P(\tilde y_i = 1 \mid i \in K)` and
  :math:`a_0 = P(\tilde y_i = 0 \mid i \notin K)`: :func:`flip_labels`, a thin wrapper of the data layer's
  :func:`graphdiff.data.noise.binary_flip_noise` returning an ``int8`` array the kernels read without copying.
* **"Reliable labels from a few samples"**: :class:`LogisticLabelOracle` trains a logistic regression
  :math:`\tilde y_i = [\,w^\top x_i + b > 0\,]` on the attributes of ``m`` sampled nodes of the target and ``m``
  sampled other nodes, and predicts *lazily*: the flow diffusion solver asks only for the nodes it touches, so the
  pipeline stays strongly local (``predicted`` counts the nodes ever predicted).
* **Label schemes** (the weights of :math:`G_w`, Section 2): ``"agree"`` gives an edge weight 1 when the labels of
  its endpoints agree and :math:`\varepsilon` otherwise, ``"both_one"`` gives 1 only when both are 1.
  ``label_factor()`` is the compiled rule the kernels call edge by edge, ``label_edge_weights()`` its
  vectorised twin.
* ``prepare_labels()`` is the one entry point of every label argument of the package: a full array (``bool``,
  0/1 integers or floats, a tensor) becomes an ``int8`` array, a lazy oracle (an object with an ``int8`` ``cache``,
  ``-1`` for unknown, and ``fill(nodes)``) is passed through, and anything else is refused with the reason.
"""

from __future__ import annotations

import numba
import numpy as np
import torch

from graphdiff.data.noise import binary_flip_noise
from graphdiff.data.validation import check_choice, check_features, check_float, check_int, check_mask, check_seed

__all__ = [
    "SCHEMES",
    "flip_labels",
    "LogisticLabelOracle",
    "label_factor",
    "label_edge_weights",
    "prepare_labels",
    "check_binary",
    "check_scheme",
    "check_eps",
]

#: The label schemes and the integer codes the compiled kernels receive.
SCHEMES = {"agree": 0, "both_one": 1}

#: Values of a lazy oracle's cache: not predicted yet, and asked for by a running kernel.
LABEL_UNKNOWN = -1
LABEL_REQUESTED = -2


def check_scheme(scheme) -> int:
    """The kernel code of a label scheme (``"agree"`` or ``"both_one"``); ValueError otherwise."""
    return SCHEMES[check_choice(scheme, "scheme", tuple(SCHEMES))]


def check_eps(eps, name: str = "eps") -> float:
    r"""The weight :math:`\varepsilon \in [0, 1]` of the edges a label scheme does not favour."""
    return check_float(eps, name, minimum=0.0, maximum=1.0)


@numba.njit(cache=True, inline="always")
def label_factor(li, lj, eps, scheme):
    """Multiplier of an edge's weight under the label scheme (0 = "agree", 1 = "both_one"): 1 or ``eps``.

    The one compiled copy of the rule; ``label_edge_weights()`` is its vectorised twin.
    """
    if scheme == 0:
        return 1.0 if li == lj else eps
    return 1.0 if (li == 1 and lj == 1) else eps


def _is_oracle(labels) -> bool:
    return hasattr(labels, "cache") and hasattr(labels, "fill")


def check_binary(labels: np.ndarray, nodes=None, name: str = "labels") -> None:
    """Raise :class:`ValueError` unless ``labels`` (at ``nodes``, default everywhere) are all 0 or 1."""
    values = labels if nodes is None else labels[nodes]
    bad = (values != 0) & (values != 1)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        node = first if nodes is None else int(np.asarray(nodes)[first])
        raise ValueError(
            f"`{name}` must be binary (0/1 or bool): node {node} has label {labels[node].item()!r} "
            f"({int(bad.sum())} entries are not 0/1)"
        )


def prepare_labels(labels, num_nodes: int, *, name: str = "labels", oracle: bool = True, check: str = "all"):
    """Validate a label argument; returns ``(int8 array, oracle or None)``.

    Parameters
    ----------
    labels : array-like of shape (num_nodes,), torch.Tensor, lazy oracle or None
        ``bool`` or 0/1 labels (integers or floats), or an object with an ``int8`` ``cache`` of length
        ``num_nodes`` (``-1`` for unknown) and a ``fill(nodes)`` method. ``None`` gives an empty array.
    num_nodes : int
        Number of nodes of the graph.
    name : str
        The argument's name in error messages.
    oracle : bool
        Whether a lazy oracle is accepted (else only a full label array).
    check : {"all", "read"}
        ``"all"`` checks that every label is 0 or 1. ``"read"`` skips that ``O(n)`` pass for ``int8`` arrays, which
        are then used as given (shared with the caller): for callers that check each label they read (the
        strongly local kernels). Other dtypes are always checked, since they are converted anyway.

    Returns
    -------
    labels : numpy.ndarray of int8, shape (num_nodes,)
        The labels (a view of the input for ``bool`` and ``int8`` arrays, else a converted copy); the oracle's
        cache for an oracle.
    oracle : object or None
        The oracle, or ``None`` for a full array.
    """
    if labels is None:
        return np.empty(0, dtype=np.int8), None
    if _is_oracle(labels):
        if not oracle:
            raise ValueError(
                f"`{name}` must be a full label array here, not a lazy oracle (call its predict_all() first, or "
                "pass the oracle to flow_diffusion / local_cluster, which ask it only for the nodes they touch)"
            )
        cache = labels.cache
        if not isinstance(cache, np.ndarray) or cache.dtype != np.int8 or cache.ndim != 1:
            raise ValueError(f"the `{name}` oracle must keep its labels in a 1-D int8 numpy array `cache`")
        if cache.shape != (num_nodes,):
            raise ValueError(f"the `{name}` oracle covers {cache.shape[0]} nodes, but the graph has {num_nodes}")
        return cache, labels
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    arr = np.asarray(labels)
    if arr.ndim != 1 or arr.shape[0] != num_nodes:
        raise ValueError(f"`{name}` must have one entry per node ({num_nodes}), got shape {arr.shape}")
    if arr.dtype == np.bool_:
        return arr.view(np.int8), None
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise ValueError(f"`{name}` must hold binary labels (bool or 0/1 numbers), got dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = int(np.flatnonzero(~np.isfinite(arr))[0])
        raise ValueError(f"`{name}` contains NaN or infinite values (first at node {bad})")
    check_choice(check, "check", ("all", "read"))
    if arr.dtype == np.int8:
        if check == "all":
            check_binary(arr, name=name)
        return arr, None
    check_binary(arr, name=name)
    return arr.astype(np.int8), None


def label_edge_weights(row, col, noisy_labels, eps: float, scheme: str = "agree", base=None) -> np.ndarray:
    """Weights of the edges ``(row[k], col[k])`` under the label scheme (vectorised).

    Parameters
    ----------
    row, col : numpy.ndarray of int, shape (num_edges,)
        The endpoints of each edge.
    noisy_labels : numpy.ndarray of shape (num_nodes,)
        Binary labels (``bool`` or 0/1).
    eps : float
        Weight of the edges the scheme does not favour, in ``[0, 1]``.
    scheme : {"agree", "both_one"}
        The label scheme.
    base : numpy.ndarray of float, shape (num_edges,), optional
        Existing edge weights, multiplied by the label factor.

    Returns
    -------
    numpy.ndarray of float64, shape (num_edges,)

    Examples
    --------
    >>> label_edge_weights([0, 1], [1, 2], [1, 1, 0], eps=0.1)
    array([1. , 0.1])
    """
    eps = check_eps(eps)
    check_scheme(scheme)
    lab = np.asarray(noisy_labels)
    if lab.dtype != np.bool_:
        check_binary(lab, name="noisy_labels")
        lab = lab.astype(bool)
    a, b = lab[row], lab[col]
    favoured = (a == b) if scheme == "agree" else (a & b)
    w = np.where(favoured, 1.0, eps)
    if base is not None:
        w = w * np.asarray(base, dtype=np.float64)
    return w


def flip_labels(in_target, a0: float, a1: float, seed: int = 0) -> np.ndarray:
    """Noisy binary labels by independent flips, as an ``int8`` 0/1 array the kernels read without copying.

    Parameters
    ----------
    in_target : array-like or torch.Tensor of bool, shape (num_nodes,)
        True on the target cluster.
    a0, a1 : float
        Label accuracies in ``[0, 1]``: a node outside the target keeps label 0 with probability ``a0``, a node of
        the target keeps label 1 with probability ``a1``.
    seed : int
        Random seed.

    Returns
    -------
    numpy.ndarray of int8, shape (num_nodes,)

    See Also
    --------
    graphdiff.data.noise.binary_flip_noise : the draw itself (returns a boolean tensor).

    Examples
    --------
    >>> labels = flip_labels([True, True, False, False], a0=1.0, a1=1.0)
    >>> labels
    array([1, 1, 0, 0], dtype=int8)
    """
    if not isinstance(in_target, torch.Tensor):
        in_target = torch.from_numpy(np.asarray(in_target))
    noisy = binary_flip_noise(in_target, a0, a1, seed=seed)
    return noisy.cpu().numpy().view(np.int8)


class LogisticLabelOracle:
    """Binary labels predicted on demand by a logistic regression trained on ``2 m`` sampled nodes.

    Parameters
    ----------
    features : torch.Tensor or numpy.ndarray, shape (num_nodes, num_features)
        Node attributes. Only sampled and requested rows are read.
    in_target : array-like or torch.Tensor of bool, shape (num_nodes,)
        Mask of the target class, used only to draw the ``m`` positive and ``m`` negative training nodes (the "few
        samples" of the paper).
    num_samples : int
        ``m``, the number of sampled nodes per side (the benchmark uses 10 and 50).
    C : float
        Inverse regularisation strength of the logistic regression (positive).
    seed : int
        Seed of the sampling.

    Attributes
    ----------
    cache : numpy.ndarray of int8, shape (num_nodes,)
        ``-1`` for nodes not predicted yet, else the 0/1 prediction. The kernels read it directly.
    train_nodes : numpy.ndarray of int64, shape (2 * num_samples,)
        The sampled node ids (positives first).
    predicted : int
        Number of nodes predicted so far.
    coef_, intercept_ : torch.Tensor, float
        The fitted linear classifier.

    Examples
    --------
    >>> import torch
    >>> x = torch.cat([torch.ones(5, 2), -torch.ones(5, 2)])
    >>> oracle = LogisticLabelOracle(x, torch.arange(10) < 5, num_samples=2, seed=0)
    >>> oracle.predict([0, 9])
    array([1, 0], dtype=int8)
    >>> oracle.predicted  # only the requested nodes were predicted
    2
    """

    def __init__(self, features, in_target, num_samples: int = 10, *, C: float = 1.0, seed: int = 0):
        if isinstance(features, np.ndarray):
            features = torch.from_numpy(features)
        if not isinstance(features, torch.Tensor) or features.dim() != 2:
            raise ValueError("`features` must be a 2-D tensor or array (num_nodes, num_features)")
        n = features.size(0)
        if not isinstance(in_target, torch.Tensor):
            in_target = torch.as_tensor(np.asarray(in_target))
        mask = check_mask(in_target, n, name="in_target").cpu().numpy()
        num_samples = check_int(num_samples, "num_samples", minimum=1)
        C = check_float(C, "C", minimum=0.0, low_open=True)
        seed = check_seed(seed)
        pos, neg = np.flatnonzero(mask), np.flatnonzero(~mask)
        if pos.size < num_samples or neg.size < num_samples:
            raise ValueError(
                f"`num_samples`={num_samples} exceeds the available nodes ({pos.size} in the target, "
                f"{neg.size} outside)"
            )
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
        self.num_samples = num_samples
        self.cache = np.full(n, LABEL_UNKNOWN, dtype=np.int8)
        self.predicted = 0

    @property
    def num_nodes(self) -> int:
        """Number of nodes the oracle labels."""
        return self.cache.shape[0]

    def _node_ids(self, nodes) -> np.ndarray:
        arr = np.atleast_1d(np.asarray(nodes))
        if arr.size == 0:
            return arr.astype(np.int64)
        if arr.ndim != 1 or not np.issubdtype(arr.dtype, np.integer):
            raise ValueError(f"`nodes` must be a 1-D array of integer node ids, got {arr.dtype} of shape {arr.shape}")
        if arr.min() < 0 or arr.max() >= self.num_nodes:
            bad = int(arr.min()) if arr.min() < 0 else int(arr.max())
            raise ValueError(f"`nodes` contains node id {bad}, outside [0, {self.num_nodes})")
        return arr.astype(np.int64)

    def _predict(self, nodes: np.ndarray) -> np.ndarray:
        rows = self._features[torch.from_numpy(nodes)]
        if not rows.is_floating_point():
            rows = rows.to(self.coef_.dtype)
        rows = check_features(rows, name="features")
        score = rows.to(self.coef_.dtype) @ self.coef_.to(rows.device) + self.intercept_
        return (score > 0).cpu().numpy().astype(np.int8)

    def fill(self, nodes) -> None:
        """Predict the labels of ``nodes`` not predicted yet and store them in ``cache``.

        Parameters
        ----------
        nodes : array-like of int
            Node ids in ``[0, num_nodes)``.
        """
        nodes = self._node_ids(nodes)
        todo = np.unique(nodes[self.cache[nodes] < 0])
        if todo.size:
            self.cache[todo] = self._predict(todo)
            self.predicted += int(todo.size)

    def predict(self, nodes) -> np.ndarray:
        """0/1 labels (``int8``) of ``nodes``, predicting those not cached yet.

        Parameters
        ----------
        nodes : array-like of int
            Node ids in ``[0, num_nodes)``.

        Returns
        -------
        numpy.ndarray of int8
        """
        nodes = self._node_ids(nodes)
        self.fill(nodes)
        return self.cache[nodes].copy()

    def predict_all(self, batch_size: int = 8192) -> np.ndarray:
        """Labels of every node (a global read-out, used by the labels-alone baseline).

        Parameters
        ----------
        batch_size : int
            Nodes predicted per batch (positive).

        Returns
        -------
        numpy.ndarray of int8, shape (num_nodes,)
        """
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        todo = np.flatnonzero(self.cache < 0)
        for start in range(0, todo.size, batch_size):
            self.fill(todo[start : start + batch_size])
        return self.cache.copy()
