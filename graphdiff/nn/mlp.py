"""A ReLU MLP with one logit and an embedding tap, and the small training loop the tabular learners share.

The architecture is the learner of Havaldar et al., "Learning from Label Proportions: Bootstrapping Supervised
Learners via Belief Propagation", ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 3.3 (embedding refinement)
and of its reference code (https://github.com/google-deepmind/llp_bp): Dense 5040 -> 1280 -> 320 -> 128 -> 64 (ReLU)
-> 1 (sigmoid), AdamW (lr 1e-3, no weight decay), batch 1024, early stopping with patience 4 and ``min_delta`` 1e-4
with the best weights restored. The instance embedding handed to the next BP round is the output of the 128-d
(second-to-last) hidden layer. Any other widths can be given.

* :class:`MLP` -- the network; ``forward`` gives one logit per row, :meth:`MLP.embed` a hidden layer.
* :func:`train_model` -- AdamW over caller-defined batches and loss, with early stopping on a score.
* :func:`fit_mlp` -- a fresh :class:`MLP` trained with binary cross-entropy on per-row (hard, soft or surrogate)
  targets, deterministic given ``seed`` and without touching torch's global random state.
* :func:`predict_proba` -- sigmoid outputs in batches.

Shapes: inputs ``(N, in_features)`` float32; logits and probabilities ``(N,)``; embeddings ``(N, hidden[embed_layer])``.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Sequence

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from graphdiff.base import torch_seed
from graphdiff.data.validation import check_bool, check_float, check_int, check_seed

__all__ = [
    "MLP",
    "train_model",
    "fit_mlp",
    "predict_proba",
    "PAPER_HIDDEN",
    "check_hidden",
    "init_output_bias",
    "prior_logit",
]

#: Hidden widths of the LLP-BP reference learner (the 128-d layer is the embedding).
PAPER_HIDDEN = (5040, 1280, 320, 128, 64)


def check_hidden(hidden, name: str = "hidden") -> tuple[int, ...]:
    """Hidden widths: a non-empty sequence of positive integers (``2.5`` or ``0`` refused), as a tuple.

    Parameters
    ----------
    hidden : sequence of int
        The layer widths to check.
    name : str, default "hidden"
        The argument's name, used in the error message.

    Returns
    -------
    tuple of int
    """
    if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Iterable):
        raise ValueError(f"`{name}` must be a sequence of layer widths, got {type(hidden).__name__} {hidden!r}")
    widths = tuple(hidden)
    if not widths:
        raise ValueError(f"`{name}` must hold at least one layer width, got {hidden!r}")
    return tuple(check_int(w, f"{name}[{i}]", minimum=1) for i, w in enumerate(widths))


class MLP(nn.Module):
    """ReLU MLP with one logit output and an embedding tap.

    ``forward(x)`` is :math:`W_{out}\\,\\mathrm{relu}(W_L \\cdots \\mathrm{relu}(W_1 x))`; :meth:`embed` returns the
    activations of hidden layer ``embed_layer`` (default ``-2``: the 128-d layer of :data:`PAPER_HIDDEN`).

    Parameters
    ----------
    in_features : int
        Number of input columns.
    hidden : sequence of int, default :data:`PAPER_HIDDEN`
        Widths of the hidden layers.
    embed_layer : int, default -2
        Index into ``hidden`` of the layer :meth:`embed` returns (negative counts from the end).
    device, dtype
        Where and in which precision the parameters are created.

    Notes
    -----
    Shapes: ``x`` ``(N, in_features)`` -> logits ``(N,)``; ``embed(x)`` ``(N, hidden[embed_layer])``.

    Examples
    --------
    >>> import torch
    >>> from graphdiff.nn.mlp import MLP
    >>> net = MLP(4, hidden=(8, 6, 3))
    >>> x = torch.zeros(5, 4)
    >>> net(x).shape, net.embed(x).shape
    (torch.Size([5]), torch.Size([5, 6]))
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = PAPER_HIDDEN,
        embed_layer: int = -2,
        device=None,
        dtype=torch.float32,
    ):
        super().__init__()
        in_features = check_int(in_features, "in_features", minimum=1)
        hidden = check_hidden(hidden)
        embed_layer = check_int(embed_layer, "embed_layer", minimum=-len(hidden), maximum=len(hidden) - 1)
        widths = (in_features,) + hidden
        self.hidden = nn.ModuleList(nn.Linear(a, b, device=device, dtype=dtype) for a, b in itertools.pairwise(widths))
        self.out = nn.Linear(widths[-1], 1, device=device, dtype=dtype)
        self.embed_layer = embed_layer % len(hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Re-draw every layer (PyTorch's default initialisation, from torch's global generator)."""
        for lin in list(self.hidden) + [self.out]:
            lin.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """One logit per row.

        Parameters
        ----------
        x : torch.Tensor, shape (N, in_features)
            Input rows.

        Returns
        -------
        torch.Tensor, shape (N,)
        """
        for lin in self.hidden:
            x = torch.relu(lin(x))
        return self.out(x).squeeze(-1)

    def embed_with_grad(self, x: torch.Tensor) -> torch.Tensor:
        """Activations of hidden layer ``embed_layer`` (differentiable; for losses on the embeddings).

        Parameters
        ----------
        x : torch.Tensor, shape (N, in_features)
            Input rows.

        Returns
        -------
        torch.Tensor, shape (N, hidden[embed_layer])
        """
        for i, lin in enumerate(self.hidden):
            x = torch.relu(lin(x))
            if i == self.embed_layer:
                break
        return x

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch_size: int = 65536) -> torch.Tensor:
        """Activations of hidden layer ``embed_layer``, without gradients, in batches of ``batch_size`` rows.

        Parameters
        ----------
        x : torch.Tensor, shape (N, in_features)
            Input rows.
        batch_size : int, default 65536
            Rows per forward pass.

        Returns
        -------
        torch.Tensor, shape (N, hidden[embed_layer])
        """
        return torch.cat([self.embed_with_grad(x[s : s + batch_size]) for s in range(0, x.size(0), batch_size)])


@torch.no_grad()
def predict_proba(model: nn.Module, x: torch.Tensor, batch_size: int = 65536) -> torch.Tensor:
    """``sigmoid(model(x))`` in eval mode, in batches of ``batch_size`` rows.

    Parameters
    ----------
    model : torch.nn.Module
        A model with one logit per row (such as :class:`MLP`); it is left in eval mode.
    x : torch.Tensor, shape (N, in_features)
        Input rows.
    batch_size : int, default 65536
        Rows per forward pass.

    Returns
    -------
    torch.Tensor, shape (N,)
        Probabilities of the positive class.
    """
    model.eval()
    return torch.cat([torch.sigmoid(model(x[s : s + batch_size])) for s in range(0, x.size(0), batch_size)])


def train_model(
    model: nn.Module,
    loss_on_batch: Callable[[nn.Module, torch.Tensor], torch.Tensor],
    batches: Callable[[int], Iterable[torch.Tensor]],
    *,
    epochs: int,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    score_fn: Callable[[nn.Module], float] | None = None,
    patience: int = 4,
    min_delta: float = 1e-4,
    verbose: bool = True,
    desc: str = "train",
    callback: Callable[[nn.Module, int], None] | None = None,
) -> dict:
    """AdamW loop with early stopping on ``score_fn`` (higher is better), restoring the best weights.

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place.
    loss_on_batch : callable ``(model, batch) -> scalar tensor``
        The loss of one batch (``batch`` is whatever ``batches`` yields).
    batches : callable ``epoch -> iterable``
        The batches of one epoch (seeded by the caller, so that training is deterministic).
    epochs : int
        Maximum number of epochs.
    lr, weight_decay : float
        AdamW settings.
    score_fn : callable ``model -> float``, optional
        Model-selection score after every epoch; without it all ``epochs`` run and the last weights are kept.
    patience : int
        Epochs without an improvement of more than ``min_delta`` before stopping.
    min_delta : float
        Smallest score increase that counts as an improvement.
    verbose : bool
        Show a progress bar.
    desc : str
        Label of the progress bar.
    callback : callable ``(model, epoch) -> None``, optional
        Called after every epoch (before ``score_fn``), in eval mode and without gradients; it must not change the
        model. For recording held-out losses per epoch without stopping (a cross-fitted epoch choice).

    Returns
    -------
    dict
        ``{"loss": [mean batch loss per epoch], "score": [score per epoch], "best_epoch": int}``.
    """
    epochs = check_int(epochs, "epochs", minimum=1)
    patience = check_int(patience, "patience", minimum=1)
    lr = check_float(lr, "lr", minimum=0.0, low_open=True)
    weight_decay = check_float(weight_decay, "weight_decay", minimum=0.0)
    min_delta = check_float(min_delta, "min_delta", minimum=0.0)
    verbose = check_bool(verbose, "verbose")
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    best, best_state, best_epoch, wait = -float("inf"), None, -1, 0
    hist = {"loss": [], "score": [], "best_epoch": None}
    bar = tqdm(range(epochs), desc=desc, disable=not verbose, leave=False)
    for epoch in bar:
        model.train()
        tot, nb = 0.0, 0
        for batch in batches(epoch):
            opt.zero_grad()
            loss = loss_on_batch(model, batch)
            loss.backward()
            opt.step()
            tot += float(loss.detach())
            nb += 1
        if nb == 0:
            raise ValueError(f"{desc}: epoch {epoch} has no batch to train on (no training rows)")
        hist["loss"].append(tot / nb)
        if callback is not None:
            model.eval()
            with torch.no_grad():
                callback(model, epoch)
        if score_fn is not None:
            score = float(score_fn(model))
            hist["score"].append(score)
            bar.set_postfix(loss=f"{hist['loss'][-1]:.4f}", score=f"{score:.4f}")
            if score > best + min_delta:
                best, best_epoch, wait = score, epoch, 0
                best_state = copy.deepcopy(model.state_dict())
            else:
                wait += 1
                if wait >= patience:
                    break
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
    hist["best_epoch"] = best_epoch if score_fn is not None else epochs - 1
    model.eval()
    return hist


def init_output_bias(model: MLP, value: float) -> MLP:
    """Set the output layer's bias of ``model`` to ``value`` in place (weights untouched) and return it.

    Parameters
    ----------
    model : MLP
        The network.
    value : float
        Finite bias, e.g. :func:`prior_logit` of the positive rate.

    Returns
    -------
    MLP
        ``model``.
    """
    value = check_float(value, "output_bias")
    with torch.no_grad():
        model.out.bias.fill_(value)
    return model


def prior_logit(rate: float, eps: float = 1e-4) -> float:
    """``log(p / (1 - p))`` of a positive rate ``p`` clipped to ``[eps, 1 - eps]``.

    Parameters
    ----------
    rate : float
        Positive rate in ``[0, 1]``.
    eps : float
        Clip away from 0 and 1.

    Returns
    -------
    float
    """
    p = min(max(float(rate), eps), 1.0 - eps)
    return float(np.log(p / (1.0 - p)))


def instance_batches(n: int, batch_size: int, seed: int, device=None) -> Callable[[int], list[torch.Tensor]]:
    """``epoch -> list of row-index batches``: a permutation of ``range(n)`` seeded by ``(seed, epoch)``, cut into
    batches of ``batch_size`` (the last one smaller)."""

    def batches(epoch: int):
        g = torch.Generator().manual_seed(seed * 100_003 + epoch)
        perm = torch.randperm(n, generator=g).to(device)
        return [perm[s : s + batch_size] for s in range(0, n, batch_size)]

    return batches


def fit_mlp(
    X: torch.Tensor,
    target: torch.Tensor,
    *,
    hidden: Sequence[int] = PAPER_HIDDEN,
    embed_layer: int = -2,
    epochs: int = 100,
    batch_size: int = 1024,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    score_fn: Callable[[nn.Module], float] | None = None,
    patience: int = 4,
    min_delta: float = 1e-4,
    seed: int = 0,
    device=None,
    verbose: bool = True,
    desc: str = "MLP",
    output_bias: float | None = None,
) -> tuple[MLP, dict]:
    """Train a fresh :class:`MLP` on per-row targets with binary cross-entropy.

    The loss ``-t log s - (1 - t) log(1 - s)`` (``s`` the sigmoid output) is linear in ``t``, so ``target`` may
    be hard labels, soft labels in ``[0, 1]`` or unbiased surrogate targets outside ``[0, 1]`` (EasyLLP).
    Initialisation and batch order come from ``seed`` alone; torch's global random state is left as it was.

    Parameters
    ----------
    X : Tensor ``(N, d)``
        Inputs (cast to float32).
    target : Tensor ``(N,)``
        Finite per-row targets.
    hidden, embed_layer
        The :class:`MLP`.
    epochs, batch_size, lr, weight_decay, score_fn, patience, min_delta, verbose, desc
        As in :func:`train_model`; batches are random rows of ``batch_size``.
    seed : int
        Seed of the initialisation and of the batch order.
    device : str or torch.device, optional
        Where to train (default: ``X``'s device).
    output_bias : float, optional
        Start value of the output layer's bias (e.g. the logit of the positive rate, so that training starts from
        the prior); default: PyTorch's initialisation.

    Returns
    -------
    model : MLP
        The trained network (best weights when ``score_fn`` is given), in eval mode.
    history : dict
        As returned by :func:`train_model`.

    Examples
    --------
    >>> import torch
    >>> from graphdiff.nn.mlp import fit_mlp, predict_proba
    >>> X = torch.randn(64, 3, generator=torch.Generator().manual_seed(0))
    >>> model, hist = fit_mlp(X, (X[:, 0] > 0).float(), hidden=(8, 4), epochs=3, verbose=False)
    >>> len(hist["loss"]), predict_proba(model, X).shape
    (3, torch.Size([64]))
    """
    seed = check_seed(seed)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    device = torch.device(device) if device is not None else X.device
    X = X.to(device=device, dtype=torch.float32)
    t = target.to(device=device, dtype=torch.float32)
    if X.dim() != 2 or t.shape != (X.size(0),):
        raise ValueError(f"`X` must be (N, d) and `target` (N,), got {tuple(X.shape)} and {tuple(t.shape)}")
    if X.size(0) == 0:
        raise ValueError("`X` has no rows to train on")
    if not bool(torch.isfinite(t).all()):
        raise ValueError("`target` contains NaN or infinite values")
    with torch_seed(seed, device):
        model = MLP(X.size(1), hidden, embed_layer, device=device)
    if output_bias is not None:
        init_output_bias(model, output_bias)

    def loss(m, idx):
        logit = m(X[idx])
        return (t[idx] * nn.functional.softplus(-logit) + (1 - t[idx]) * nn.functional.softplus(logit)).mean()

    hist = train_model(
        model,
        loss,
        instance_batches(X.size(0), batch_size, seed, device),
        epochs=epochs,
        lr=lr,
        weight_decay=weight_decay,
        score_fn=score_fn,
        patience=patience,
        min_delta=min_delta,
        verbose=verbose,
        desc=desc,
    )
    return model, hist
