r"""Baselines for node classification under label noise: GCN and GAT with cross-entropy, and generalised
cross-entropy (GCE).

The comparison rows of the ERASE benchmark (Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852, section 5):

* GCN (Kipf & Welling, ICLR 2017, https://arxiv.org/abs/1609.02907): 2 layers, hidden 64, dropout 0.5, Adam lr 0.01,
  weight decay 5e-4, 200 epochs -- the fixed baseline of the benchmark issue.
* GAT (Velickovic et al., ICLR 2018, https://arxiv.org/abs/1710.10903): 8 heads x 8 channels, ELU, one output head,
  dropout 0.6 on features and attention, Adam lr 0.005, weight decay 5e-4.
* GCE (Zhang & Sabuncu, NeurIPS 2018, https://arxiv.org/abs/1805.07836), the noise-robust loss

  .. math:: \mathcal{L}_q(f(x), y) = \frac{1 - f_y(x)^q}{q}, \qquad q \in (0, 1],

  which interpolates between cross-entropy (:math:`q \to 0`) and the mean absolute error (:math:`q = 1`); here on the
  same GCN.

All train on the noisy labels of the training nodes and select the epoch with the best validation accuracy against
the noisy validation labels (clean ones only when passed as ``y_val_clean``), like :class:`~graphdiff.erase.ERASE`.
"""

from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv, GCNConv
from tqdm.auto import tqdm

from graphdiff.data.validation import check_device
from graphdiff.erase._common import _cuda_devices, accuracy, begin_fit
from graphdiff.erase.encoder import _SparseInputLinear, sparse_dropout

__all__ = ["GCNNet", "GATNet", "generalized_cross_entropy", "NoisyLabelGNN", "GCN", "GAT", "GCE"]


class GCNNet(torch.nn.Module):
    """Two-layer GCN: ``dropout -> GCNConv -> ReLU -> dropout -> GCNConv`` (logits)."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, dropout: float = 0.5):
        super().__init__()
        self.dropout = dropout
        self.conv1 = GCNConv(in_channels, hidden_channels)
        self.conv2 = GCNConv(hidden_channels, out_channels)
        self.conv1.lin = _SparseInputLinear(in_channels, hidden_channels, bias=False, weight_initializer="glorot")
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = sparse_dropout(x, self.dropout, self.training)
        x = F.relu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


class GATNet(torch.nn.Module):
    """Two-layer GAT: ``heads`` heads of ``hidden_channels`` (ELU), then one output head (logits)."""

    def __init__(self, in_channels: int, hidden_channels: int, out_channels: int, heads: int = 8, dropout: float = 0.6):
        super().__init__()
        self.dropout = dropout
        self.conv1 = GATConv(in_channels, hidden_channels, heads=heads, dropout=dropout)
        self.conv2 = GATConv(hidden_channels * heads, out_channels, heads=1, dropout=dropout)
        self.conv1.lin = _SparseInputLinear(
            in_channels, hidden_channels * heads, bias=False, weight_initializer="glorot"
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:
        x = sparse_dropout(x, self.dropout, self.training)
        x = F.elu(self.conv1(x, edge_index))
        x = F.dropout(x, self.dropout, self.training)
        return self.conv2(x, edge_index)


def generalized_cross_entropy(logits: Tensor, target: Tensor, q: float = 0.7) -> Tensor:
    r"""Mean of :math:`(1 - p_y^q) / q` over the rows (Zhang & Sabuncu, 2018)."""
    if not 0.0 < q <= 1.0:
        raise ValueError(f"`q` must lie in (0, 1], got {q}")
    p_y = torch.softmax(logits, dim=1).gather(1, target.view(-1, 1)).squeeze(1)
    return ((1.0 - p_y.clamp_min(1e-12).pow(q)) / q).mean()


class NoisyLabelGNN:
    """A GNN classifier trained on noisy labels with cross-entropy or GCE, selected on validation accuracy.

    Args:
        model: ``"gcn"`` or ``"gat"``.
        loss: ``"ce"`` (cross-entropy) or ``"gce"`` (generalised cross-entropy with exponent ``q``).
        hidden_channels: hidden width (per head for GAT). Defaults: 64 (GCN), 8 (GAT).
        heads: GAT attention heads. Default 8.
        dropout: dropout. Defaults: 0.5 (GCN), 0.6 (GAT).
        lr: Adam learning rate. Defaults: 0.01 (GCN), 0.005 (GAT).
        weight_decay: Adam weight decay. Default 5e-4.
        epochs: training epochs (all are run). Default 200.
        q: GCE exponent. Default 0.7.
        sparse_features: feed the features as a sparse tensor (``"auto"``: when at most 10% are non-zero).
        seed: seed of the initialisation and dropout (the caller's global RNG state is left untouched).
        device: torch device.
        verbose: show a progress bar.

    After :meth:`fit`: ``history`` (per epoch ``loss``, ``train_acc_noisy``, ``val_acc``, ``val_acc_noisy``,
    ``<name>_acc`` per monitor set), ``best_epoch_``, ``model_`` (selected weights), ``fit_time_s_``.
    """

    method = "gnn"

    def __init__(
        self,
        model: str = "gcn",
        loss: str = "ce",
        hidden_channels: int | None = None,
        heads: int = 8,
        dropout: float | None = None,
        lr: float | None = None,
        weight_decay: float = 5e-4,
        epochs: int = 200,
        q: float = 0.7,
        sparse_features="auto",
        seed: int = 0,
        device="cpu",
        verbose: bool = True,
    ):
        if model not in ("gcn", "gat"):
            raise ValueError(f"`model` must be 'gcn' or 'gat', got {model!r}")
        if loss not in ("ce", "gce"):
            raise ValueError(f"`loss` must be 'ce' or 'gce', got {loss!r}")
        hidden_channels = hidden_channels if hidden_channels is not None else (64 if model == "gcn" else 8)
        dropout = dropout if dropout is not None else (0.5 if model == "gcn" else 0.6)
        lr = lr if lr is not None else (0.01 if model == "gcn" else 0.005)
        for name, value in (("hidden_channels", hidden_channels), ("heads", heads), ("epochs", epochs)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must lie in [0, 1), got {dropout}")
        if not lr > 0:
            raise ValueError(f"`lr` must be positive, got {lr}")
        if weight_decay < 0:
            raise ValueError(f"`weight_decay` must be non-negative, got {weight_decay}")
        if not 0.0 < q <= 1.0:
            raise ValueError(f"`q` must lie in (0, 1], got {q}")
        if sparse_features not in ("auto", True, False):
            raise ValueError(f"`sparse_features` must be 'auto', True or False, got {sparse_features!r}")
        check_device(device)
        self.model = model
        self.loss = loss
        self.hidden_channels = hidden_channels
        self.heads = heads
        self.dropout = float(dropout)
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.epochs = epochs
        self.q = float(q)
        self.sparse_features = sparse_features
        self.seed = seed
        self.device = device
        self.verbose = verbose
        self.history: list[dict] = []

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(model={self.model!r}, loss={self.loss!r}, hidden={self.hidden_channels}, "
            f"lr={self.lr}, epochs={self.epochs}, device={self.device!r})"
        )

    def _build(self, in_channels: int, num_classes: int) -> torch.nn.Module:
        if self.model == "gcn":
            return GCNNet(in_channels, self.hidden_channels, num_classes, self.dropout)
        return GATNet(in_channels, self.hidden_channels, num_classes, self.heads, self.dropout)

    def _loss(self, logits: Tensor, target: Tensor) -> Tensor:
        if self.loss == "ce":
            return F.cross_entropy(logits, target)
        return generalized_cross_entropy(logits, target, self.q)

    def fit(
        self,
        data,
        y_noisy,
        train_mask,
        val_mask=None,
        *,
        y_val_clean=None,
        monitor=None,
        num_classes: int | None = None,
    ):
        """Train on ``y_noisy[train_mask]``; arguments as :meth:`graphdiff.erase.ERASE.fit`."""
        device = torch.device(self.device)
        inp, train_idx = begin_fit(self, data, y_noisy, train_mask, val_mask, y_val_clean, monitor, num_classes)
        target = inp.y_noisy[train_idx]
        start = time.perf_counter()
        with torch.random.fork_rng(devices=_cuda_devices(device)):
            torch.manual_seed(self.seed)
            net = self._build(inp.x.size(1), inp.num_classes).to(device)
            optimizer = torch.optim.Adam(net.parameters(), lr=self.lr, weight_decay=self.weight_decay)
            self.history = []
            best_score, best_epoch, best_state = -1.0, -1, None
            bar = tqdm(range(self.epochs), desc=type(self).__name__, disable=not self.verbose, leave=False)
            for epoch in bar:
                net.train()
                logits = net(inp.x, inp.edge_index)
                loss = self._loss(logits[train_idx], target)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                net.eval()
                with torch.no_grad():
                    pred = net(inp.x, inp.edge_index).argmax(dim=1)
                record = {"epoch": epoch, "loss": loss.item(), "train_acc_noisy": accuracy(pred, train_idx, target)}
                score = None
                if inp.val_idx is not None:
                    score = accuracy(pred, inp.val_idx, inp.y_val)
                    record["val_acc"] = score
                    record["val_acc_noisy"] = accuracy(pred, inp.val_idx, inp.y_val_noisy)
                for name, (idx, labels) in inp.monitors.items():
                    record[f"{name}_acc"] = accuracy(pred, idx, labels)
                self.history.append(record)
                if (score is not None and score > best_score) or (inp.val_idx is None and epoch == self.epochs - 1):
                    best_score = score if score is not None else best_score
                    best_epoch = epoch
                    best_state = copy.deepcopy(net.state_dict())
                if self.verbose:
                    bar.set_postfix(loss=f"{record['loss']:.3f}", val=f"{best_score:.3f}")
            bar.close()
        net.load_state_dict(best_state)
        net.eval()
        self.model_ = net
        self.best_epoch_ = best_epoch
        self.best_val_acc_ = best_score if inp.val_idx is not None else None
        self.fit_time_s_ = time.perf_counter() - start
        return self

    @torch.no_grad()
    def predict_logits(self) -> Tensor:
        if not hasattr(self, "model_"):
            raise RuntimeError(f"this {type(self).__name__} instance is not fitted yet; call fit() first")
        self.model_.eval()
        return self.model_(self._x, self._edge_index)

    def predict(self) -> Tensor:
        """Predicted class of every node with the selected weights."""
        return self.predict_logits().argmax(dim=1)


class GCN(NoisyLabelGNN):
    """GCN with cross-entropy (the benchmark's fixed baseline: hidden 64, dropout 0.5, lr 0.01, 200 epochs)."""

    method = "gcn"

    def __init__(self, **kwargs):
        super().__init__(model="gcn", loss=kwargs.pop("loss", "ce"), **kwargs)


class GAT(NoisyLabelGNN):
    """GAT with cross-entropy (8 heads x 8, dropout 0.6, lr 0.005)."""

    method = "gat"

    def __init__(self, **kwargs):
        super().__init__(model="gat", loss=kwargs.pop("loss", "ce"), **kwargs)


class GCE(NoisyLabelGNN):
    """GCN trained with the generalised cross-entropy (``q = 0.7``)."""

    method = "gce"

    def __init__(self, **kwargs):
        super().__init__(model=kwargs.pop("model", "gcn"), loss="gce", **kwargs)
