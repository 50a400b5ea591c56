r"""Baselines for node classification under label noise: GCN and GAT with cross-entropy, and generalised
cross-entropy (GCE).

The comparison rows of the ERASE benchmark (Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852, section 5):

* GCN (Kipf & Welling, ICLR 2017, https://arxiv.org/abs/1609.02907): 2 layers, hidden 64, dropout 0.5, Adam lr 0.01,
  weight decay 5e-4, 200 epochs -- the fixed GCN baseline of ``benchmarks/erase_label_noise.py``.
* GAT (Velickovic et al., ICLR 2018, https://arxiv.org/abs/1710.10903): 8 heads x 8 channels, ELU, one output head,
  dropout 0.6 on features and attention, Adam lr 0.005, weight decay 5e-4.
* GCE (Zhang & Sabuncu, NeurIPS 2018, https://arxiv.org/abs/1805.07836), the noise-robust loss

  .. math:: \mathcal{L}_q(f(x), y) = \frac{1 - f_y(x)^q}{q}, \qquad q \in (0, 1],

  which interpolates between cross-entropy (:math:`q \to 0`) and the mean absolute error (:math:`q = 1`); here on the
  same GCN.

All train on the noisy labels of the training nodes and select the epoch with the best validation accuracy against
the noisy validation labels (clean ones only when passed as ``y_val_clean``), like :class:`~graphdiff.erase.ERASE`,
through the same loop (:func:`graphdiff.erase.training.train_with_selection`).
"""

from __future__ import annotations

import copy
import time

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv, GCNConv

from graphdiff.base import Estimator, deprecated_alias, torch_seed
from graphdiff.data.validation import check_choice, check_float, check_int, check_labels
from graphdiff.erase._common import accuracy, prepare_inputs, use_sparse_features
from graphdiff.erase.encoder import _SparseInputLinear, sparse_dropout
from graphdiff.erase.training import EpochOutcome, train_with_selection

__all__ = ["GCNNet", "GATNet", "generalized_cross_entropy", "NoisyLabelGNN", "GCN", "GAT", "GCE"]


class GCNNet(torch.nn.Module):
    """Two-layer GCN: ``dropout -> GCNConv -> ReLU -> dropout -> GCNConv`` (logits).

    Parameters
    ----------
    in_channels, hidden_channels, out_channels : int
        Input, hidden and output (number of classes) widths.
    dropout : float, default 0.5
        Dropout on the input and hidden features.

    Examples
    --------
    >>> import torch
    >>> net = GCNNet(4, 8, 3).eval()
    >>> net(torch.rand(5, 4), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
    torch.Size([5, 3])
    """

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
    """Two-layer GAT: ``heads`` heads of ``hidden_channels`` (ELU), then one output head (logits).

    Parameters
    ----------
    in_channels, hidden_channels, out_channels : int
        Input width, width per head of the first layer, output width (number of classes).
    heads : int, default 8
        Heads of the first layer (concatenated).
    dropout : float, default 0.6
        Dropout on the features and the attention coefficients.

    Examples
    --------
    >>> import torch
    >>> net = GATNet(4, 8, 3, heads=2).eval()
    >>> net(torch.rand(5, 4), torch.tensor([[0, 1, 2], [1, 2, 3]])).shape
    torch.Size([5, 3])
    """

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
    r"""Generalised cross-entropy, the mean of :math:`(1 - p_y^q) / q` over the rows (Zhang & Sabuncu, 2018).

    Parameters
    ----------
    logits : Tensor of shape (n, K)
        Unnormalised class scores (softmax is applied here).
    target : Tensor of shape (n,)
        Class ids in ``[0, K)``.
    q : float, default 0.7
        Exponent in ``(0, 1]``: cross-entropy as :math:`q \to 0`, mean absolute error at :math:`q = 1`.

    Returns
    -------
    Tensor
        A scalar, differentiable in ``logits``.

    Examples
    --------
    >>> import torch
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    >>> generalized_cross_entropy(logits, torch.tensor([0, 1]), q=1.0)  # 1 - p_y, averaged
    tensor(0.3096)
    """
    q = check_float(q, "q", minimum=0.0, maximum=1.0, low_open=True)
    if not isinstance(logits, Tensor) or logits.dim() != 2 or not logits.is_floating_point():
        shape = tuple(logits.shape) if isinstance(logits, Tensor) else type(logits).__name__
        raise ValueError(f"`logits` must be a 2-D floating tensor (n, num_classes), got {shape}")
    if isinstance(target, Tensor) and (target.is_floating_point() or target.dtype == torch.bool):
        raise ValueError(f"`target` must hold integer class ids, got dtype {target.dtype}")
    target = check_labels(target, num_classes=logits.size(1), name="target", length=logits.size(0))
    p_y = torch.softmax(logits, dim=1).gather(1, target.to(logits.device).view(-1, 1)).squeeze(1)
    return ((1.0 - p_y.clamp_min(1e-12).pow(q)) / q).mean()


def _parameters_doc(heads: str | None = None) -> str:
    """The numpydoc entries of the parameters the baselines share (``heads`` described as given, if any)."""
    heads_doc = (
        f"""
    heads : int, default 8
        {heads}"""
        if heads
        else ""
    )
    return f"""hidden_channels : int or None, default None
        Hidden width (per head for GAT); ``None``: the model's default, 64 (GCN) or 8 (GAT).{heads_doc}
    dropout : float or None, default None
        Dropout, in ``[0, 1)``; ``None``: 0.5 (GCN) or 0.6 (GAT).
    lr : float or None, default None
        Adam learning rate, ``> 0``; ``None``: 0.01 (GCN) or 0.005 (GAT).
    weight_decay : float, default 5e-4
        Adam weight decay, ``>= 0``.
    epochs : int, default 200
        Training epochs (all are run; the best validation epoch is kept).
    sparse_features : {{"auto", True, False}}, default "auto"
        Feed the features as a sparse tensor (``"auto"``: when at most 10% of the entries are non-zero).
    seed : int, default 0
        Seed of the initialisation and dropout (the caller's global random state is left untouched).
    device : str or torch.device, default "cpu"
        Torch device, checked to exist when ``fit`` starts.
    verbose : bool, default True
        Show a progress bar."""


_ATTRIBUTES = """Attributes
    ----------
    model_ : torch.nn.Module
        The network with the selected weights.
    history_ : list of dict
        One record per epoch: ``loss``, ``train_acc_noisy``, with validation nodes ``val_acc`` (the selection score)
        and ``val_acc_noisy``, and ``<name>_acc`` per ``monitor`` set.
    best_epoch_ : int
        The selected epoch.
    best_val_acc_ : float or None
        Its validation score (``None`` without validation nodes).
    num_classes_ : int
        ``K``.
    validation_labels_ : str
        ``"noisy"``, ``"clean"`` or ``"none"``.
    fit_time_s_ : float
        Wall time of the training loop.
    history
        Deprecated alias of ``history_``."""

#: Defaults of the parameters given as ``None``: (hidden_channels, dropout, lr) per architecture.
MODEL_DEFAULTS = {"gcn": (64, 0.5, 0.01), "gat": (8, 0.6, 0.005)}


class NoisyLabelGNN(Estimator):
    __doc__ = f"""A GNN classifier trained on noisy labels with cross-entropy or GCE, selected on validation accuracy.

    :class:`GCN`, :class:`GAT` and :class:`GCE` fix ``model`` and ``loss``; this class exposes both.

    Parameters
    ----------
    model : {{"gcn", "gat"}}, default "gcn"
        The architecture (``graphdiff.erase.baselines.GCNNet`` or ``GATNet``).
    loss : {{"ce", "gce"}}, default "ce"
        Cross-entropy or the generalised cross-entropy with exponent ``q``.
    {_parameters_doc(heads="GAT attention heads (ignored by the GCN).")}
    q : float, default 0.7
        GCE exponent, in ``(0, 1]`` (used with ``loss="gce"``).

    {_ATTRIBUTES}

    Examples
    --------
    >>> from graphdiff.data import synthetic
    >>> data = synthetic.contextual_sbm(120, 3, num_features=8, num_train_per_class=10, num_val_per_class=10)
    >>> model = NoisyLabelGNN(model="gat", loss="gce", epochs=20, verbose=False)
    >>> model.fit(data, data.y, data.train_mask, data.val_mask).predict().shape
    torch.Size([120])
    """

    method = "gnn"
    history = deprecated_alias("history_")

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
        self.model = model
        self.loss = loss
        self.hidden_channels = hidden_channels
        self.heads = heads
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.q = q
        self.sparse_features = sparse_features
        self.seed = seed
        self.device = device
        self.verbose = verbose

    def _architecture(self) -> tuple[str, str]:
        """``(model, loss)``: parameters here, fixed by the subclasses."""
        return self.model, self.loss

    def _check_params(self) -> dict:
        """Validate every parameter (``ValueError`` naming the bad one) and return the resolved values, the
        ``None`` defaults replaced by the architecture's."""
        super()._check_params()
        params = self.get_params(deep=False)
        model, loss = self._architecture()
        model = check_choice(model, "model", tuple(MODEL_DEFAULTS))
        loss = check_choice(loss, "loss", ("ce", "gce"))
        hidden, dropout, lr = MODEL_DEFAULTS[model]
        hp = {
            "model": model,
            "loss": loss,
            "hidden_channels": check_int(params["hidden_channels"], "hidden_channels", minimum=1, allow_none=True),
            "dropout": check_float(
                params["dropout"], "dropout", minimum=0.0, maximum=1.0, high_open=True, allow_none=True
            ),
            "lr": check_float(params["lr"], "lr", minimum=0.0, low_open=True, allow_none=True),
            "heads": check_int(params.get("heads", 8), "heads", minimum=1),
            "weight_decay": check_float(params["weight_decay"], "weight_decay", minimum=0.0),
            "epochs": check_int(params["epochs"], "epochs", minimum=1),
            "q": check_float(params.get("q", 0.7), "q", minimum=0.0, maximum=1.0, low_open=True),
            "sparse_features": check_choice(params["sparse_features"], "sparse_features", ("auto", True, False)),
        }
        for name, default in (("hidden_channels", hidden), ("dropout", dropout), ("lr", lr)):
            if hp[name] is None:
                hp[name] = default
        return hp

    @staticmethod
    def _build(hp: dict, in_channels: int, num_classes: int) -> torch.nn.Module:
        if hp["model"] == "gcn":
            return GCNNet(in_channels, hp["hidden_channels"], num_classes, hp["dropout"])
        return GATNet(in_channels, hp["hidden_channels"], num_classes, hp["heads"], hp["dropout"])

    @staticmethod
    def _loss(hp: dict, logits: Tensor, target: Tensor) -> Tensor:
        if hp["loss"] == "ce":
            return F.cross_entropy(logits, target)
        return generalized_cross_entropy(logits, target, hp["q"])

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
        """Train on ``y_noisy[train_mask]`` and keep the epoch with the best validation accuracy.

        Parameters
        ----------
        data, y_noisy, train_mask, val_mask, y_val_clean, monitor, num_classes
            As in :meth:`graphdiff.erase.ERASE.fit`.

        Returns
        -------
        NoisyLabelGNN
            ``self``, fitted.
        """
        hp = self._check_params()
        device = self._device()
        sparse = use_sparse_features(data, hp["sparse_features"])
        inp = prepare_inputs(
            data, y_noisy, train_mask, val_mask, y_val_clean, monitor, num_classes, device, sparse_features=sparse
        )
        train_idx = inp.train_idx
        target = inp.y_noisy[train_idx]
        start = time.perf_counter()
        with torch_seed(self.seed, device):
            net = self._build(hp, inp.x.size(1), inp.num_classes).to(device)
            optimizer = torch.optim.Adam(net.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])

            def run_epoch(epoch: int, last: bool) -> EpochOutcome:
                net.train()
                logits = net(inp.x, inp.edge_index)
                loss = self._loss(hp, logits[train_idx], target)
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
                return EpochOutcome(record, score, lambda: copy.deepcopy(net.state_dict()))

            selected = train_with_selection(
                run_epoch,
                hp["epochs"],
                validation=inp.val_idx is not None,
                desc=type(self).__name__,
                verbose=self.verbose,
                loss_format=".3f",
            )
        net.load_state_dict(selected.best)
        net.eval()
        self.fit_time_s_ = time.perf_counter() - start
        self.model_ = net
        self.history_ = selected.history
        self.best_epoch_ = selected.best_epoch
        self.best_val_acc_ = selected.best_score
        self.num_classes_ = inp.num_classes
        self.validation_labels_ = inp.val_labels
        self._x, self._edge_index = inp.x, inp.edge_index
        return self

    @torch.no_grad()
    def predict_logits(self) -> Tensor:
        """Logits of every node with the selected weights.

        Returns
        -------
        Tensor of shape (N, K)
        """
        self._check_fitted()
        self.model_.eval()
        return self.model_(self._x, self._edge_index)

    def predict(self) -> Tensor:
        """Predicted class of every node with the selected weights.

        Returns
        -------
        Tensor of shape (N,)
            int64 class ids.
        """
        return self.predict_logits().argmax(dim=1)


_EXAMPLE = """Examples
    --------
    >>> from graphdiff.data import synthetic
    >>> data = synthetic.contextual_sbm(120, 3, num_features=8, num_train_per_class=10, num_val_per_class=10)
    >>> model = {cls}(epochs=20, verbose=False).fit(data, data.y, data.train_mask, data.val_mask)
    >>> model.predict().shape, model.best_epoch_ < 20
    (torch.Size([120]), True)"""


class GCN(NoisyLabelGNN):
    __doc__ = f"""GCN with cross-entropy (the benchmark's fixed baseline: hidden 64, dropout 0.5, lr 0.01, 200 epochs).

    Parameters
    ----------
    {_parameters_doc()}

    {_ATTRIBUTES}

    {_EXAMPLE.format(cls="GCN")}
    """

    method = "gcn"

    def __init__(
        self,
        hidden_channels: int | None = None,
        dropout: float | None = None,
        lr: float | None = None,
        weight_decay: float = 5e-4,
        epochs: int = 200,
        sparse_features="auto",
        seed: int = 0,
        device="cpu",
        verbose: bool = True,
    ):
        self.hidden_channels = hidden_channels
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.sparse_features = sparse_features
        self.seed = seed
        self.device = device
        self.verbose = verbose

    def _architecture(self) -> tuple[str, str]:
        return "gcn", "ce"


class GAT(NoisyLabelGNN):
    __doc__ = f"""GAT with cross-entropy (8 heads x 8 channels, dropout 0.6, lr 0.005).

    Parameters
    ----------
    {_parameters_doc(heads="Attention heads of the first layer.")}

    {_ATTRIBUTES}

    {_EXAMPLE.format(cls="GAT")}
    """

    method = "gat"

    def __init__(
        self,
        hidden_channels: int | None = None,
        heads: int = 8,
        dropout: float | None = None,
        lr: float | None = None,
        weight_decay: float = 5e-4,
        epochs: int = 200,
        sparse_features="auto",
        seed: int = 0,
        device="cpu",
        verbose: bool = True,
    ):
        self.hidden_channels = hidden_channels
        self.heads = heads
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.sparse_features = sparse_features
        self.seed = seed
        self.device = device
        self.verbose = verbose

    def _architecture(self) -> tuple[str, str]:
        return "gat", "ce"


class GCE(NoisyLabelGNN):
    __doc__ = f"""A GCN (or GAT) trained with the generalised cross-entropy (``q = 0.7``).

    Parameters
    ----------
    model : {{"gcn", "gat"}}, default "gcn"
        The architecture.
    q : float, default 0.7
        GCE exponent, in ``(0, 1]``.
    {_parameters_doc(heads="GAT attention heads (ignored by the GCN).")}

    {_ATTRIBUTES}

    {_EXAMPLE.format(cls="GCE")}
    """

    method = "gce"

    def __init__(
        self,
        model: str = "gcn",
        q: float = 0.7,
        hidden_channels: int | None = None,
        heads: int = 8,
        dropout: float | None = None,
        lr: float | None = None,
        weight_decay: float = 5e-4,
        epochs: int = 200,
        sparse_features="auto",
        seed: int = 0,
        device="cpu",
        verbose: bool = True,
    ):
        self.model = model
        self.q = q
        self.hidden_channels = hidden_channels
        self.heads = heads
        self.dropout = dropout
        self.lr = lr
        self.weight_decay = weight_decay
        self.epochs = epochs
        self.sparse_features = sparse_features
        self.seed = seed
        self.device = device
        self.verbose = verbose

    def _architecture(self) -> tuple[str, str]:
        return self.model, "gce"
