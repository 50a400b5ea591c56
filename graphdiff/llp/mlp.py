"""The MLP learner of LLP-BP and a small training loop shared by BP-LLP, DLLP, EasyLLP and the supervised ceiling.

Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 3.3 (embedding refinement) and the reference
code: Dense 5040 -> 1280 -> 320 -> 128 -> 64 (ReLU) -> 1 (sigmoid), AdamW (lr 1e-3, no weight decay), batch 1024,
early stopping with patience 4 and min_delta 1e-4, best weights restored. The instance embedding handed to the next
BP round is the output of the 128-d (second-to-last) hidden layer. Smaller ``hidden`` widths are an option.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Sequence

import torch
from torch import nn
from tqdm.auto import tqdm

__all__ = ["MLP", "train_model", "fit_mlp", "predict_proba", "PAPER_HIDDEN"]

PAPER_HIDDEN = (5040, 1280, 320, 128, 64)


class MLP(nn.Module):
    """ReLU MLP with one logit output; :meth:`embed` returns hidden layer ``embed_layer`` (default: the 128-d one,
    second to last)."""

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int] = PAPER_HIDDEN,
        embed_layer: int = -2,
        device=None,
        dtype=torch.float32,
    ):
        super().__init__()
        if in_features < 1:
            raise ValueError(f"`in_features` must be positive, got {in_features}")
        hidden = tuple(int(h) for h in hidden)
        if not hidden or min(hidden) < 1:
            raise ValueError(f"`hidden` must be a non-empty sequence of positive widths, got {hidden}")
        if not -len(hidden) <= embed_layer < len(hidden):
            raise ValueError(f"`embed_layer`={embed_layer} is out of range for {len(hidden)} hidden layers")
        widths = (in_features,) + hidden
        self.hidden = nn.ModuleList(nn.Linear(a, b, device=device, dtype=dtype) for a, b in itertools.pairwise(widths))
        self.out = nn.Linear(widths[-1], 1, device=device, dtype=dtype)
        self.embed_layer = embed_layer % len(hidden)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for lin in list(self.hidden) + [self.out]:
            lin.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for lin in self.hidden:
            x = torch.relu(lin(x))
        return self.out(x).squeeze(-1)

    @torch.no_grad()
    def embed(self, x: torch.Tensor, batch_size: int = 65536) -> torch.Tensor:
        outs = []
        for start in range(0, x.size(0), batch_size):
            z = x[start : start + batch_size]
            for i, lin in enumerate(self.hidden):
                z = torch.relu(lin(z))
                if i == self.embed_layer:
                    break
            outs.append(z)
        return torch.cat(outs)


@torch.no_grad()
def predict_proba(model: nn.Module, x: torch.Tensor, batch_size: int = 65536) -> torch.Tensor:
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
) -> dict:
    """AdamW loop with early stopping on ``score_fn`` (higher is better), restoring the best weights.

    Without ``score_fn`` it runs all ``epochs``. Returns a history dict (``loss``, ``score``, ``best_epoch``).
    """
    if epochs < 1:
        raise ValueError(f"`epochs` must be at least 1, got {epochs}")
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
        hist["loss"].append(tot / max(nb, 1))
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


def _instance_batches(n: int, batch_size: int, seed: int, device):
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
) -> tuple[MLP, dict]:
    """Train a fresh :class:`MLP` on per-instance targets with binary cross-entropy.

    ``target`` may be hard labels, soft labels in ``[0, 1]`` or (EasyLLP) unbiased surrogate targets outside
    ``[0, 1]``; the loss ``-t log s - (1 - t) log (1 - s)`` is linear in ``t``. Deterministic given ``seed``.
    """
    device = torch.device(device) if device is not None else X.device
    X = X.to(device=device, dtype=torch.float32)
    t = target.to(device=device, dtype=torch.float32)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MLP(X.size(1), hidden, embed_layer, device=device)

    def loss(m, idx):
        logit = m(X[idx])
        return (t[idx] * nn.functional.softplus(-logit) + (1 - t[idx]) * nn.functional.softplus(logit)).mean()

    hist = train_model(
        model,
        loss,
        _instance_batches(X.size(0), batch_size, seed, device),
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
