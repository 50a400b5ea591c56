r"""Decoupled label propagation of ERASE: structural denoising before training and semantic pseudo-labels per epoch.

Implements section 4.1 of Chen et al., "ERASE: Error-Resilient Representation Learning on Graphs for Label Noise
Tolerance", CIKM 2024 (https://arxiv.org/abs/2312.08852) -- 4.1.1 label denoising propagation before training and
4.1.2 label semantic propagation during training -- as the reference code computes them (`shared/papers/erase.md`
sections 1.3 and 1.4), with a sparse adjacency instead of the reference's dense ``N x N`` matrix.

Both steps use the lazy walk with a residual to the current iterate (``alpha`` weights the residual, unlike PyG's
``LabelPropagation``) on the column-normalised adjacency :math:`\hat A = A D^{-1}`:

.. math::

    Y \leftarrow (1-\alpha)\,\hat A\,Y + \alpha\,Y \qquad (T \text{ steps}).

* Structural denoising: :math:`Y_0` holds the one-hot noisy labels on training rows (zeros elsewhere) and the walk
  runs on the **train-train** subgraph only, giving :math:`Y_s` once, before training.
* Semantic labels, every epoch: prototypes :math:`\mu_c` are the means of the training embeddings grouped by
  :math:`\arg\max Y_s`, and

  .. math:: S = \operatorname{softmax}\big(\beta\,Y_s + (1-\beta)\,|\cos(Z, \mu)|\big)

  for all nodes (non-training rows of :math:`Y_s` are zero), propagated on the **full** graph; the pseudo-labels are
  :math:`\arg\max` of the result. Nothing here carries a gradient.

A class that loses all its training nodes in :math:`\arg\max Y_s` gets a zero prototype (cosine 0 with every node)
instead of the reference code's crash; :class:`~graphdiff.erase.ERASE` rejects noisy labels that miss a class.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from graphdiff.data.validation import check_edge_index, check_features, check_int, check_labels, check_mask, check_rate
from graphdiff.nn.propagation import lazy_propagation, normalized_adjacency

__all__ = ["structural_denoise", "class_prototypes", "semantic_scores", "PseudoLabeler"]


def structural_denoise(
    edge_index: Tensor,
    y_noisy: Tensor,
    train_mask: Tensor,
    num_classes: int,
    alpha: float,
    steps: int,
    num_nodes: int | None = None,
) -> Tensor:
    """Denoised soft labels :math:`Y_s`: lazy propagation of the noisy one-hot training labels on the train-train
    subgraph (section 4.1.1).

    Parameters
    ----------
    edge_index : Tensor of shape (2, E)
        Graph edges (both directions for an undirected graph).
    y_noisy : Tensor of shape (N,)
        Noisy labels, one per node (only training entries are read).
    train_mask : Tensor
        Training nodes: a boolean mask of ``N`` entries or int64 node ids.
    num_classes : int
        ``K``.
    alpha : float
        Residual weight of the lazy walk, in ``[0, 1]``.
    steps : int
        Propagation steps ``T`` (``>= 0``).
    num_nodes : int, optional
        ``N``; ``y_noisy.numel()`` by default.

    Returns
    -------
    Tensor of shape (N, K)
        Non-training rows are zero; a training node without training neighbours keeps its one-hot row scaled by
        ``alpha ** steps``.

    Examples
    --------
    >>> import torch
    >>> edge_index = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])
    >>> structural_denoise(edge_index, torch.tensor([0, 1, 1]), torch.tensor([True, True, False]), 2, 0.5, 1)
    tensor([[0.5000, 0.5000],
            [0.5000, 0.5000],
            [0.0000, 0.0000]])
    """
    num_nodes = check_int(num_nodes if num_nodes is not None else y_noisy.numel(), "num_nodes", minimum=0)
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    edge_index = check_edge_index(edge_index, num_nodes)
    y_noisy = check_labels(y_noisy, num_classes=num_classes, name="y_noisy", length=num_nodes)
    train_mask = check_mask(train_mask, num_nodes, name="train_mask").to(edge_index.device)
    alpha = check_rate(alpha, name="alpha", upper_inclusive=True)
    steps = check_int(steps, "steps", minimum=0)
    y0 = torch.zeros(num_nodes, num_classes, device=edge_index.device)
    idx = train_mask.nonzero().flatten()
    y0[idx, y_noisy[idx].to(edge_index.device)] = 1.0
    keep = train_mask[edge_index[0]] & train_mask[edge_index[1]]
    adj = normalized_adjacency(edge_index[:, keep], num_nodes, norm="col")
    return lazy_propagation(adj, y0, alpha, steps)


def class_prototypes(z: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Class means of the rows of ``z``; a class without rows gets a zero prototype.

    Parameters
    ----------
    z : Tensor of shape (m, p)
        Embeddings (floating).
    labels : Tensor of shape (m,)
        Class of each row, in ``[0, num_classes)``.
    num_classes : int
        ``K``.

    Returns
    -------
    Tensor of shape (K, p)

    Examples
    --------
    >>> import torch
    >>> class_prototypes(torch.tensor([[1.0, 0.0], [3.0, 2.0], [0.0, 5.0]]), torch.tensor([0, 0, 2]), 3)
    tensor([[2., 1.],
            [0., 0.],
            [0., 5.]])
    """
    z = check_features(z, name="z")
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    labels = check_labels(labels, num_classes=num_classes, name="labels", length=z.size(0)).to(z.device)
    counts = torch.bincount(labels, minlength=num_classes).clamp_min(1).to(z.dtype)
    sums = torch.zeros(num_classes, z.size(1), dtype=z.dtype, device=z.device).index_add_(0, labels, z)
    return sums / counts.unsqueeze(1)


def semantic_scores(z: Tensor, y_struct: Tensor, train_mask: Tensor, beta: float) -> Tensor:
    r""":math:`\operatorname{softmax}(\beta Y_s + (1-\beta)|\cos(Z, \mu)|)` for all nodes, before propagation
    (section 4.1.2).

    Prototypes :math:`\mu` come from the training rows of ``z`` grouped by :math:`\arg\max Y_s`.

    Parameters
    ----------
    z : Tensor of shape (N, p)
        Embeddings.
    y_struct : Tensor of shape (N, K)
        Denoised labels :math:`Y_s` (:func:`structural_denoise`).
    train_mask : Tensor
        Training nodes (boolean mask of ``N`` entries or int64 node ids).
    beta : float
        Weight of :math:`Y_s` against the prototype cosines, in ``[0, 1]``.

    Returns
    -------
    Tensor of shape (N, K)
        Rows sum to one.

    Examples
    --------
    >>> import torch
    >>> y_struct = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    >>> s = semantic_scores(torch.rand(3, 4), y_struct, torch.tensor([True, True, False]), beta=1.0)
    >>> torch.allclose(s, torch.softmax(y_struct, dim=1))
    True
    """
    y_struct = check_features(y_struct, name="y_struct")
    z = check_features(z, name="z", num_nodes=y_struct.size(0))
    train_mask = check_mask(train_mask, y_struct.size(0), name="train_mask").to(z.device)
    beta = check_rate(beta, name="beta", upper_inclusive=True)
    return _semantic_scores(z, y_struct, train_mask.nonzero().flatten(), beta)


def _semantic_scores(z: Tensor, y_struct: Tensor, train_idx: Tensor, beta: float, row_norms=None) -> Tensor:
    """:func:`semantic_scores` of checked inputs. The cosines are ``(z @ mu_hat.T) / |z|``: no normalised copy of
    ``z`` (``N x p``) is formed, and the row norms can be passed when the caller has them already."""
    mu = _prototype_directions(z[train_idx], y_struct[train_idx], y_struct.size(1))
    return _scores_with(z, y_struct, mu, beta, row_norms)


def _prototype_directions(z_train: Tensor, y_struct_train: Tensor, num_classes: int) -> Tensor:
    """Unit class prototypes of the training embeddings grouped by ``argmax Y_s`` (``K x p``)."""
    labels = y_struct_train.argmax(dim=1)
    counts = torch.bincount(labels, minlength=num_classes).clamp_min(1).to(z_train.dtype)
    sums = torch.zeros(num_classes, z_train.size(1), dtype=z_train.dtype, device=z_train.device)
    sums.index_add_(0, labels, z_train)
    return F.normalize(sums / counts.unsqueeze(1), dim=1)


def _scores_with(z: Tensor, y_struct: Tensor, mu: Tensor, beta: float, row_norms=None) -> Tensor:
    """Semantic scores of the rows of ``z`` (with their rows of ``Y_s``) against the unit prototypes ``mu``."""
    if row_norms is None:
        row_norms = torch.linalg.vector_norm(z, dim=1)
    cos = (z @ mu.T).div_(row_norms.clamp_min(1e-12).unsqueeze(1)).abs_()
    return torch.softmax(beta * y_struct + (1.0 - beta) * cos, dim=1)


class PseudoLabeler:
    """Holds the fixed pieces (full-graph ``A D^-1``, :math:`Y_s`) and turns embeddings into pseudo-labels.

    Parameters
    ----------
    edge_index : Tensor of shape (2, E)
        Graph edges (both directions for an undirected graph).
    y_noisy : Tensor of shape (N,)
        Noisy labels, one per node (only training entries are read).
    train_mask : Tensor
        Training nodes (boolean mask of ``N`` entries or int64 node ids).
    num_classes : int
        ``K``.
    alpha : float
        Residual weight of the lazy walk, in ``[0, 1]``.
    beta : float
        Weight of the denoised labels against the prototype cosines, in ``[0, 1]``.
    steps : int
        Propagation steps ``T``.
    num_nodes : int, optional
        ``N``; ``y_noisy.numel()`` by default.

    Attributes
    ----------
    y_struct : Tensor of shape (N, K)
        The denoised labels :math:`Y_s`.
    adj : Tensor
        The sparse column-normalised adjacency ``A D^-1`` of the full graph.

    Examples
    --------
    >>> import torch
    >>> edge_index = torch.tensor([[0, 1, 1, 2, 2, 3], [1, 0, 2, 1, 3, 2]])
    >>> labeler = PseudoLabeler(edge_index, torch.tensor([0, 0, 1, 1]), torch.tensor([0, 3]), 2, 0.6, 0.6, 2)
    >>> labeler(torch.rand(4, 8)).shape
    torch.Size([4])
    """

    def __init__(
        self,
        edge_index: Tensor,
        y_noisy: Tensor,
        train_mask: Tensor,
        num_classes: int,
        alpha: float,
        beta: float,
        steps: int,
        num_nodes: int | None = None,
    ):
        self.num_nodes = check_int(num_nodes if num_nodes is not None else y_noisy.numel(), "num_nodes", minimum=0)
        self.alpha = check_rate(alpha, name="alpha", upper_inclusive=True)
        self.beta = check_rate(beta, name="beta", upper_inclusive=True)
        self.steps = check_int(steps, "steps", minimum=0)
        self.num_classes = check_int(num_classes, "num_classes", minimum=1)
        self.train_mask = check_mask(train_mask, self.num_nodes, name="train_mask").to(edge_index.device)
        self.y_struct = structural_denoise(
            edge_index, y_noisy, self.train_mask, self.num_classes, self.alpha, self.steps, num_nodes=self.num_nodes
        )
        self.adj = normalized_adjacency(edge_index, self.num_nodes, norm="col")
        self._train_idx = self.train_mask.nonzero().flatten()

    @property
    def denoised_train_labels(self) -> Tensor:
        """:math:`\\arg\\max Y_s` on the training nodes (in node order)."""
        return self.y_struct[self.train_mask].argmax(dim=1)

    @torch.no_grad()
    def scores(self, z: Tensor, row_norms: Tensor | None = None) -> Tensor:
        """Propagated semantic scores of the nodes.

        Parameters
        ----------
        z : Tensor of shape (N, p)
            Node embeddings (no gradient is taken).
        row_norms : Tensor of shape (N,), optional
            The L2 norms of the rows of ``z``, when the caller has them (computed otherwise).

        Returns
        -------
        Tensor of shape (N, K)
            The semantic scores propagated over the graph; their row-wise argmax are the pseudo-labels.
        """
        if not isinstance(z, Tensor) or z.dim() != 2 or z.size(0) != self.num_nodes:
            shape = tuple(z.shape) if isinstance(z, Tensor) else type(z).__name__
            raise ValueError(f"`z` must have shape (num_nodes={self.num_nodes}, p), got {shape}")
        z = z.detach().to(self.y_struct.dtype)
        s = _semantic_scores(z, self.y_struct, self._train_idx, self.beta, row_norms)
        if not bool(torch.isfinite(s).all()):  # NaN / inf in ``z`` reach every score of its row: checked on N x K
            raise ValueError("`z` contains NaN or infinite values")
        return lazy_propagation(self.adj, s, self.alpha, self.steps)

    @torch.no_grad()
    def prototypes(self, z_train: Tensor) -> Tensor:
        """Unit class prototypes (``K x p``) from the embeddings of the training nodes (in node order), for
        :meth:`chunk_scores` when the embeddings of all nodes come in chunks.

        Parameters
        ----------
        z_train : Tensor of shape (num_train, p)
            Embeddings of the training nodes, in node order.

        Returns
        -------
        Tensor of shape (K, p)
        """
        return _prototype_directions(
            z_train.detach().to(self.y_struct.dtype), self.y_struct[self._train_idx], self.num_classes
        )

    @torch.no_grad()
    def chunk_scores(self, z: Tensor, ids: Tensor, mu: Tensor, row_norms: Tensor | None = None) -> Tensor:
        """Semantic scores (before propagation) of the nodes ``ids`` with embeddings ``z``, against the prototypes
        ``mu`` of :meth:`prototypes`.

        Parameters
        ----------
        z : Tensor of shape (len(ids), p)
            Their embeddings.
        ids : Tensor
            Node ids.
        mu : Tensor of shape (K, p)
            Unit prototypes.
        row_norms : Tensor, optional
            The L2 norms of the rows of ``z``.

        Returns
        -------
        Tensor of shape (len(ids), K)
        """
        s = _scores_with(z.detach().to(self.y_struct.dtype), self.y_struct[ids], mu, self.beta, row_norms)
        if not bool(torch.isfinite(s).all()):
            raise ValueError("`z` contains NaN or infinite values")
        return s

    @torch.no_grad()
    def propagate(self, s: Tensor) -> Tensor:
        """Hard pseudo-labels from the semantic scores of all nodes (``N x K``): propagation, then argmax.

        Parameters
        ----------
        s : Tensor of shape (N, K)
            Semantic scores of all nodes (:meth:`chunk_scores`).

        Returns
        -------
        Tensor of shape (N,)
        """
        return lazy_propagation(self.adj, s, self.alpha, self.steps).argmax(dim=1)

    def __call__(self, z: Tensor, row_norms: Tensor | None = None) -> Tensor:
        """Hard pseudo-labels (``N``, int64) for embeddings ``z`` of shape ``(N, p)`` (see :meth:`scores`)."""
        return self.scores(z, row_norms).argmax(dim=1)
