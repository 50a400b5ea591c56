r"""Decoupled label propagation of ERASE: structural denoising before training and semantic pseudo-labels per epoch.

Implements section 4.1 of Chen et al., "ERASE: Error-Resilient Representation Learning on Graphs for Label Noise
Tolerance", CIKM 2024 (https://arxiv.org/abs/2312.08852) -- 4.1.1 label denoising propagation before training and
4.1.2 label semantic propagation during training -- as the reference code computes them (paper notes ``erase.md``
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

from graphdiff.data.validation import check_edge_index, check_labels, check_mask, check_rate
from graphdiff.nn.propagation import lazy_propagation, normalized_adjacency

__all__ = ["structural_denoise", "class_prototypes", "semantic_scores", "PseudoLabeler"]


def _check_steps(steps) -> int:
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 0:
        raise ValueError(f"`steps` must be a non-negative integer, got {steps!r}")
    return steps


def structural_denoise(
    edge_index: Tensor,
    y_noisy: Tensor,
    train_mask: Tensor,
    num_classes: int,
    alpha: float,
    steps: int,
    num_nodes: int | None = None,
) -> Tensor:
    """Denoised soft labels :math:`Y_s` (``N x K``): lazy propagation of the noisy one-hot training labels on the
    train-train subgraph. Non-training rows are zero; a training node without training neighbours keeps its
    one-hot row scaled by ``alpha ** steps``.
    """
    num_nodes = int(num_nodes if num_nodes is not None else y_noisy.numel())
    edge_index = check_edge_index(edge_index, num_nodes)
    y_noisy = check_labels(y_noisy, num_classes=num_classes, name="y_noisy", length=num_nodes)
    train_mask = check_mask(train_mask, num_nodes, name="train_mask").to(edge_index.device)
    alpha = check_rate(alpha, name="alpha", upper_inclusive=True)
    steps = _check_steps(steps)
    y0 = torch.zeros(num_nodes, num_classes, device=edge_index.device)
    idx = train_mask.nonzero().flatten()
    y0[idx, y_noisy[idx].to(edge_index.device)] = 1.0
    keep = train_mask[edge_index[0]] & train_mask[edge_index[1]]
    adj = normalized_adjacency(edge_index[:, keep], num_nodes, norm="col")
    return lazy_propagation(adj, y0, alpha, steps)


def class_prototypes(z: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Class means of the rows of ``z`` (``K x p``); a class without rows gets a zero prototype."""
    counts = torch.bincount(labels, minlength=num_classes).clamp_min(1).to(z.dtype)
    sums = torch.zeros(num_classes, z.size(1), dtype=z.dtype, device=z.device).index_add_(0, labels, z)
    return sums / counts.unsqueeze(1)


def semantic_scores(z: Tensor, y_struct: Tensor, train_mask: Tensor, beta: float) -> Tensor:
    r""":math:`\operatorname{softmax}(\beta Y_s + (1-\beta)|\cos(Z, \mu)|)` for all nodes, before propagation.

    Prototypes come from the training rows of ``z`` grouped by :math:`\arg\max Y_s`.
    """
    num_classes = y_struct.size(1)
    train_idx = train_mask.nonzero().flatten()
    mu = class_prototypes(z[train_idx], y_struct[train_idx].argmax(dim=1), num_classes)
    cos = (F.normalize(z, dim=1) @ F.normalize(mu, dim=1).T).abs()
    return torch.softmax(beta * y_struct + (1.0 - beta) * cos, dim=1)


class PseudoLabeler:
    """Holds the fixed pieces (full-graph ``A D^-1``, :math:`Y_s`) and turns embeddings into pseudo-labels.

    Args:
        edge_index: graph edges (both directions for an undirected graph).
        y_noisy: noisy labels, one per node (only training entries are read).
        train_mask: training nodes.
        num_classes: ``K``.
        alpha: residual weight of the lazy walk, in ``[0, 1]``.
        beta: weight of the denoised labels against the prototype cosines, in ``[0, 1]``.
        steps: propagation steps ``T``.
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
        self.num_nodes = int(num_nodes if num_nodes is not None else y_noisy.numel())
        self.alpha = check_rate(alpha, name="alpha", upper_inclusive=True)
        self.beta = check_rate(beta, name="beta", upper_inclusive=True)
        self.steps = _check_steps(steps)
        self.num_classes = int(num_classes)
        self.train_mask = check_mask(train_mask, self.num_nodes, name="train_mask").to(edge_index.device)
        self.y_struct = structural_denoise(
            edge_index, y_noisy, self.train_mask, self.num_classes, self.alpha, self.steps, num_nodes=self.num_nodes
        )
        self.adj = normalized_adjacency(edge_index, self.num_nodes, norm="col")

    @property
    def denoised_train_labels(self) -> Tensor:
        """:math:`\\arg\\max Y_s` on the training nodes (in node order)."""
        return self.y_struct[self.train_mask].argmax(dim=1)

    @torch.no_grad()
    def scores(self, z: Tensor) -> Tensor:
        """Propagated semantic scores (``N x K``) for embeddings ``z``."""
        s = semantic_scores(z.detach().to(self.y_struct.dtype), self.y_struct, self.train_mask, self.beta)
        return lazy_propagation(self.adj, s, self.alpha, self.steps)

    def __call__(self, z: Tensor) -> Tensor:
        """Hard pseudo-labels (``N``) for embeddings ``z``."""
        return self.scores(z).argmax(dim=1)
