r"""The ERASE estimator: error-resilient node representations under label noise.

Chen et al., "ERASE: Error-Resilient Representation Learning on Graphs for Label Noise Tolerance", CIKM 2024
(https://arxiv.org/abs/2312.08852). This module implements the training procedure of section 4 (4.1 decoupled label
propagation, 4.2 training objective and node classification) as the reference code runs it (paper notes ``erase.md``
sections 1.0-1.6):

1. Before training, the noisy one-hot training labels are denoised by a lazy walk on the train-train subgraph
   (:func:`~graphdiff.erase.pseudo_labels.structural_denoise`).
2. Every epoch the encoder (:class:`~graphdiff.erase.encoder.ERASEEncoder`) embeds all nodes (training mode);
   prototype cosines are mixed with the denoised labels, propagated on the full graph and turned into hard
   pseudo-labels :math:`\Pi` for **all** nodes; one Adam step minimises the MCR\ :sup:`2` loss
   :math:`-\gamma_2 R(Z) + \gamma_1 R_c(Z \mid \Pi)` (:mod:`graphdiff.nn.coding_rate`).
3. Evaluation (eval-mode embeddings): the paper's linear probe -- logistic regression on the L2-normalised embeddings
   of the training nodes fitted on their pseudo-labels -- and a direct prediction, the argmax of the propagated
   pseudo-label scores.

Model selection uses the validation accuracy against the **noisy** validation labels by default, deliberately unlike
the reference code (which selects on clean validation labels a user does not have); clean labels are used only when
passed as ``y_val_clean``. The probe is refitted every ``probe_every`` epochs (1, the paper's protocol, by default:
with a sparse adjacency and 20 training nodes per class it costs a few per cent of an epoch), or only once at the end
with ``selection="direct"``.
"""

from __future__ import annotations

import copy
import time

import torch
from tqdm.auto import tqdm

from graphdiff.data.validation import check_device
from graphdiff.erase._common import _cuda_devices, accuracy, begin_fit, linear_probe
from graphdiff.erase.encoder import ERASEEncoder
from graphdiff.erase.presets import get_preset
from graphdiff.erase.pseudo_labels import PseudoLabeler
from graphdiff.nn.coding_rate import mcr2_loss
from graphdiff.nn.sparse_attention import CSRGraph

__all__ = ["ERASE"]


def _positive(name, value, integer=False, allow_zero=False):
    ok_type = isinstance(value, int) and not isinstance(value, bool) if integer else isinstance(value, (int, float))
    if not ok_type or isinstance(value, bool) or value < 0 or (value == 0 and not allow_zero):
        kind = "integer" if integer else "number"
        bound = "non-negative" if allow_zero else "positive"
        raise ValueError(f"`{name}` must be a {bound} {kind}, got {value!r}")
    return value


def _unit(name, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"`{name}` must lie in [0, 1], got {value!r}")
    return float(value)


class ERASE:
    r"""ERASE node classifier trained on noisy labels.

    Args:
        encoder: ``"gat"`` (reference: 8 heads x 32 then 1 x ``out_channels``) or ``"gcn"``.
        hidden_channels: first-layer width. Default 256.
        out_channels: embedding dimension ``p``. Default 512.
        heads: attention heads of the first GAT layer. Default 8.
        dropout: input dropout. Default 0.5.
        gam1: weight of :math:`R_c` (and Gram scale of :math:`R`). Default 1.
        gam2: weight of :math:`R`. Default 2.
        eps: squared distortion :math:`\epsilon^2` (the reference's ``eps``). Default 0.05 (Cora).
        alpha: residual weight of the lazy label walk. Default 0.6.
        beta: weight of the denoised labels against prototype cosines. Default 0.6.
        steps: propagation steps ``T``. Default 5.
        lr, weight_decay, amsgrad: Adam settings. Defaults 1e-3, 5e-4, True.
        epochs: maximum number of epochs. Default 400.
        patience: stop after this many epochs without a strictly better validation score (``None``: never).
            Default 150.
        selection: ``"probe"`` (validation accuracy of the linear probe, the paper's protocol) or ``"direct"``
            (validation accuracy of the argmax of the propagated pseudo-labels; the probe is fitted once, at the
            selected epoch).
        probe_every: with ``selection="probe"``, fit the probe every this many epochs (and at the last epoch);
            only those epochs are candidates for selection. Default 1.
        sparse_features: feed the features as a sparse tensor (``"auto"``: when at most 10% of entries are
            non-zero, as for bag-of-words features).
        seed: seed of the initialisation and dropout (the caller's global RNG state is left untouched).
        device: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ... or a ``torch.device``.
        verbose: show a progress bar.

    Attributes (after :meth:`fit`):
        encoder_: the encoder with the selected weights. ``history``: one dict per epoch (``loss``, ``rate``,
        ``compress_rate``, ``val_acc`` -- the selection score --, ``val_acc_noisy``, ``val_acc_direct``,
        ``pseudo_agreement`` -- the fraction of training nodes whose pseudo-label equals the noisy label --, and
        ``<name>_acc`` / ``<name>_acc_direct`` for every ``monitor`` set). ``best_epoch_``, ``best_val_acc_`` (the
        selection score at that epoch, ``None`` without validation nodes: comparable across fits, e.g. to choose
        the encoder on noisy validation labels), ``fit_time_s_``, ``validation_labels_`` (``"noisy"``, ``"clean"``
        or ``"none"``).

    Example:
        >>> model = ERASE.from_preset("cora", epochs=200, verbose=False)           # doctest: +SKIP
        >>> model.fit(data, y_noisy, data.train_mask, data.val_mask)              # doctest: +SKIP
        >>> pred = model.predict()                                                 # doctest: +SKIP
    """

    def __init__(
        self,
        encoder: str = "gat",
        hidden_channels: int = 256,
        out_channels: int = 512,
        heads: int = 8,
        dropout: float = 0.5,
        gam1: float = 1.0,
        gam2: float = 2.0,
        eps: float = 0.05,
        alpha: float = 0.6,
        beta: float = 0.6,
        steps: int = 5,
        lr: float = 1e-3,
        weight_decay: float = 5e-4,
        amsgrad: bool = True,
        epochs: int = 400,
        patience: int | None = 150,
        selection: str = "probe",
        probe_every: int = 1,
        sparse_features="auto",
        seed: int = 0,
        device="cpu",
        verbose: bool = True,
    ):
        if encoder not in ("gat", "gcn"):
            raise ValueError(f"`encoder` must be 'gat' or 'gcn', got {encoder!r}")
        for name in ("hidden_channels", "out_channels", "heads", "epochs", "probe_every"):
            _positive(name, locals()[name], integer=True)
        _positive("steps", steps, integer=True, allow_zero=True)
        for name in ("eps", "lr"):
            _positive(name, locals()[name])
        for name in ("gam1", "gam2", "weight_decay"):
            _positive(name, locals()[name], allow_zero=True)
        for name in ("dropout", "alpha", "beta"):
            _unit(name, locals()[name])
        if dropout >= 1.0:
            raise ValueError(f"`dropout` must lie in [0, 1), got {dropout}")
        if patience is not None:
            _positive("patience", patience, integer=True)
        if selection not in ("probe", "direct"):
            raise ValueError(f"`selection` must be 'probe' or 'direct', got {selection!r}")
        if sparse_features not in ("auto", True, False):
            raise ValueError(f"`sparse_features` must be 'auto', True or False, got {sparse_features!r}")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ValueError(f"`seed` must be an integer, got {seed!r}")
        check_device(device)
        self.encoder = encoder
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.heads = heads
        self.dropout = float(dropout)
        self.gam1 = float(gam1)
        self.gam2 = float(gam2)
        self.eps = float(eps)
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.steps = steps
        self.lr = float(lr)
        self.weight_decay = float(weight_decay)
        self.amsgrad = bool(amsgrad)
        self.epochs = epochs
        self.patience = patience
        self.selection = selection
        self.probe_every = probe_every
        self.sparse_features = sparse_features
        self.seed = seed
        self.device = device
        self.verbose = verbose
        self.history: list[dict] = []

    @classmethod
    def from_preset(cls, dataset: str, **overrides) -> ERASE:
        """An estimator with the reference hyper-parameters of ``dataset`` (Cora's where none exist)."""
        params = get_preset(dataset)
        params.update(overrides)
        return cls(**params)

    def get_params(self) -> dict:
        names = (
            "encoder",
            "hidden_channels",
            "out_channels",
            "heads",
            "dropout",
            "gam1",
            "gam2",
            "eps",
            "alpha",
            "beta",
            "steps",
            "lr",
            "weight_decay",
            "amsgrad",
            "epochs",
            "patience",
            "selection",
            "probe_every",
            "sparse_features",
            "seed",
            "device",
            "verbose",
        )
        return {name: getattr(self, name) for name in names}

    def __repr__(self) -> str:
        return (
            f"ERASE(encoder={self.encoder!r}, eps={self.eps}, alpha={self.alpha}, beta={self.beta}, "
            f"steps={self.steps}, epochs={self.epochs}, selection={self.selection!r}, device={self.device!r})"
        )

    # ------------------------------------------------------------------------------------------------------------
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
    ) -> ERASE:
        """Train on the noisy labels of the training nodes.

        Args:
            data: a ``torch_geometric.data.Data`` with ``x`` and ``edge_index`` (``data.y`` is never read).
            y_noisy: (noisy) labels, one per node; those of ``train_mask`` train, those of ``val_mask`` select.
            train_mask: training nodes (boolean mask or index tensor).
            val_mask: validation nodes for model selection; without it the last epoch is kept.
            y_val_clean: clean validation labels (per node, or per validation node); when given, selection uses
                them instead of the noisy ones -- the reference code's (optimistic) protocol.
            monitor: ``{name: (mask, labels)}`` sets whose accuracy is recorded in ``history`` every epoch (never
                used for training or selection), e.g. a benchmark's test nodes.
            num_classes: ``K``; defaults to ``data.num_classes`` or ``max(y_noisy) + 1``.
        """
        device = torch.device(self.device)
        inp, train_idx = begin_fit(self, data, y_noisy, train_mask, val_mask, y_val_clean, monitor, num_classes)
        # the GAT encoder's edge structure (sorted, with self-loops), built once instead of on every forward pass
        self._graph = (
            CSRGraph.from_edge_index(inp.edge_index, inp.num_nodes, self_loops=True) if self.encoder == "gat" else None
        )
        noisy_train = inp.y_noisy[train_idx]
        start = time.perf_counter()
        with torch.random.fork_rng(devices=_cuda_devices(device)):
            torch.manual_seed(self.seed)
            encoder = ERASEEncoder(
                inp.x.size(1),
                self.hidden_channels,
                self.out_channels,
                heads=self.heads,
                dropout=self.dropout,
                conv=self.encoder,
            ).to(device)
            labeler = PseudoLabeler(
                inp.edge_index,
                inp.y_noisy,
                inp.train_mask,
                inp.num_classes,
                self.alpha,
                self.beta,
                self.steps,
                num_nodes=inp.num_nodes,
            )
            optimizer = torch.optim.Adam(
                encoder.parameters(), lr=self.lr, weight_decay=self.weight_decay, amsgrad=self.amsgrad
            )
            self.history = []
            best_score, best_epoch, best = -1.0, -1, None
            bar = tqdm(range(self.epochs), desc="ERASE", disable=not self.verbose, leave=False)
            for epoch in bar:
                encoder.train()
                z = encoder(inp.x, inp.edge_index, self._graph)
                pseudo = labeler(z)  # no gradient: labels only select rows of Z
                loss, rate, comp = mcr2_loss(
                    z, pseudo, inp.num_classes, eps=self.eps, gam1=self.gam1, gam2=self.gam2, return_parts=True
                )
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()

                encoder.eval()
                with torch.no_grad():
                    z_eval = encoder(inp.x, inp.edge_index, self._graph)
                    direct = labeler(z_eval)
                last = epoch == self.epochs - 1
                probe = None
                if self.selection == "probe" and (epoch % self.probe_every == 0 or last):
                    probe = linear_probe(z_eval, train_idx, pseudo[train_idx])
                record = {
                    "epoch": epoch,
                    "loss": loss.item(),
                    "rate": rate.item(),
                    "compress_rate": comp.item(),
                    "pseudo_agreement": float((pseudo[train_idx] == noisy_train).float().mean()),
                }
                candidate = probe if self.selection == "probe" else direct
                score = None
                if inp.val_idx is not None:
                    record["val_acc_direct"] = accuracy(direct, inp.val_idx, inp.y_val)
                    if probe is not None:
                        record["val_acc_probe"] = accuracy(probe, inp.val_idx, inp.y_val)
                    if candidate is not None:
                        score = accuracy(candidate, inp.val_idx, inp.y_val)
                        record["val_acc"] = score
                        record["val_acc_noisy"] = accuracy(candidate, inp.val_idx, inp.y_val_noisy)
                for name, (idx, labels) in inp.monitors.items():
                    record[f"{name}_acc_direct"] = accuracy(direct, idx, labels)
                    if probe is not None:
                        record[f"{name}_acc"] = accuracy(probe, idx, labels)
                self.history.append(record)

                improved = (score is not None and score > best_score) or (inp.val_idx is None and last)
                if improved:
                    best_score, best_epoch = (score if score is not None else best_score), epoch
                    best = {
                        "state": copy.deepcopy(encoder.state_dict()),
                        "pseudo": pseudo.clone(),
                        "direct": direct.clone(),
                        "probe": None if probe is None else probe.clone(),
                    }
                if self.verbose:
                    bar.set_postfix(loss=f"{record['loss']:.2f}", val=f"{best_score:.3f}")
                if (
                    self.patience is not None
                    and inp.val_idx is not None
                    and best_epoch >= 0
                    and epoch - best_epoch >= self.patience
                ):
                    break
            bar.close()
            if best is None:  # no validation epoch qualified (e.g. probe_every > epochs run): keep the last one
                best_epoch = len(self.history) - 1
                best = {
                    "state": copy.deepcopy(encoder.state_dict()),
                    "pseudo": pseudo.clone(),
                    "direct": direct.clone(),
                    "probe": probe,
                }
            encoder.load_state_dict(best["state"])
            encoder.eval()
            if best["probe"] is None:
                with torch.no_grad():
                    z_best = encoder(inp.x, inp.edge_index, self._graph)
                best["probe"] = linear_probe(z_best, train_idx, best["pseudo"][train_idx])
        self.encoder_ = encoder
        self.labeler_ = labeler
        self.best_epoch_ = best_epoch
        self.best_val_acc_ = best_score if inp.val_idx is not None else None
        self.pseudo_labels_ = best["pseudo"]
        self._pred = {"probe": best["probe"], "direct": best["direct"]}
        self.fit_time_s_ = time.perf_counter() - start
        return self

    def _check_fitted(self):
        if not hasattr(self, "encoder_"):
            raise RuntimeError("this ERASE instance is not fitted yet; call fit() first")

    def predict(self, kind: str | None = None) -> torch.Tensor:
        """Predicted class of every node at the selected epoch.

        Args:
            kind: ``"probe"`` (the paper's linear probe) or ``"direct"`` (argmax of the propagated pseudo-labels);
                defaults to the selection kind.
        """
        self._check_fitted()
        kind = kind or self.selection
        if kind not in ("probe", "direct"):
            raise ValueError(f"`kind` must be 'probe' or 'direct', got {kind!r}")
        return self._pred[kind]

    @torch.no_grad()
    def embed(self) -> torch.Tensor:
        """Eval-mode embeddings (``N x out_channels``, non-negative) of the selected encoder."""
        self._check_fitted()
        self.encoder_.eval()
        return self.encoder_(self._x, self._edge_index, self._graph)
