r"""The ERASE estimator: error-resilient node representations under label noise.

Chen et al., "ERASE: Error-Resilient Representation Learning on Graphs for Label Noise Tolerance", CIKM 2024
(https://arxiv.org/abs/2312.08852). This module implements the training procedure of section 4 (4.1 decoupled label
propagation, 4.2 training objective and node classification) as the reference code runs it (`shared/papers/erase.md`
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
with ``selection="direct"``. The epoch loop with selection and early stopping is
:func:`graphdiff.erase.training.train_with_selection`, shared with the baselines.
"""

from __future__ import annotations

import copy
import os
import time

import torch

from graphdiff.base import Estimator, deprecated_alias, torch_seed
from graphdiff.data.validation import check_bool, check_choice, check_float, check_int
from graphdiff.erase import minibatch as _mb
from graphdiff.erase._common import (
    accuracy,
    fit_probe,
    linear_probe,
    prepare_inputs,
    probe_predict,
    use_sparse_features,
)
from graphdiff.erase.encoder import ERASEEncoder
from graphdiff.erase.presets import get_preset
from graphdiff.erase.pseudo_labels import PseudoLabeler
from graphdiff.erase.training import EpochOutcome, SelectionState, train_with_selection
from graphdiff.nn import checkpoint as _ckpt
from graphdiff.nn.coding_rate import distributed_mcr2_loss, mcr2_loss
from graphdiff.nn.sparse_attention import CSRGraph

__all__ = ["ERASE"]

PREDICTION_KINDS = ("probe", "direct")

#: Format name and version of ERASE training checkpoints (:mod:`graphdiff.nn.checkpoint`).
CHECKPOINT_FORMAT = "graphdiff.erase.ERASE"
CHECKPOINT_VERSION = 1
#: Parameters that may differ between a checkpoint and the fit that resumes from it.
RESUMABLE_CHANGES = ("verbose",)


def _inputs_fingerprint(inp) -> dict:
    """Sizes and a SHA-256 of everything a fit reads, to recognise a checkpoint written for other inputs."""
    tensors = {
        "x": inp.x.to_dense() if inp.x.is_sparse else inp.x,
        "edge_index": inp.edge_index,
        "y_noisy": inp.y_noisy,
        "train_mask": inp.train_mask,
        "val_idx": inp.val_idx,
        "y_val": inp.y_val,
        "monitors": {name: list(pair) for name, pair in inp.monitors.items()},
    }
    return {
        "num_nodes": inp.num_nodes,
        "num_edges": int(inp.edge_index.size(1)),
        "num_features": int(inp.x.size(1)),
        "num_classes": inp.num_classes,
        "sha256": _ckpt.payload_checksum(tensors),
    }


def _check_num_neighbors(value) -> tuple:
    """``num_neighbors``: ``None`` (all, both layers) or two entries, each an int ``>= 1`` or ``None`` (all)."""
    if value is None:
        return (None, None)
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2:
        raise ValueError(f"`num_neighbors` must be None or two entries (one per layer), got {value!r}")
    return tuple(check_int(v, "num_neighbors", minimum=1, allow_none=True) for v in value)


def _check_full_batch_memory(hp, inp, device) -> None:
    """Fail before any work when a full-batch fit would not fit in the memory left on ``device``."""
    need = _mb.full_batch_memory_estimate(
        inp.num_nodes,
        int(inp.edge_index.size(1)),
        int(inp.x.size(1)),
        hp["hidden_channels"],
        hp["out_channels"],
        hp["heads"] if hp["encoder"] == "gat" else 1,
    )
    have = _mb.available_memory_bytes(device)
    if have is not None and need > have:
        raise MemoryError(
            f"a full-batch ERASE fit of this graph ({inp.num_nodes} nodes, {int(inp.edge_index.size(1))} edges, "
            f"{hp['hidden_channels']} -> {hp['out_channels']} channels) needs about {need / 2**30:.1f} GiB but "
            f"{have / 2**30:.1f} GiB are available on {device}: train on mini-batches with ERASE(batch_size=...) "
            "(for example 4096)"
        )


@torch.no_grad()
def _minibatch_probe(encoder, inp, sampler, chunk: int, pseudo: torch.Tensor, parallel=None) -> torch.Tensor:
    """The linear probe on the training nodes' pseudo-labels, predicting every node chunk by chunk (sharded over
    the processes of a data-parallel fit)."""
    make = torch.empty if parallel is None else torch.zeros
    pred = make(inp.num_nodes, dtype=torch.long, device=pseudo.device)
    probe = []

    def on_chunk(ids, z):
        inv = _inverse_norms(z)
        if not probe:  # the first chunk holds the training nodes
            probe.append(fit_probe(z, inv, pseudo[ids]))
        pred[ids] = probe_predict(probe[0], z, inv)

    _mb.layerwise_inference(encoder, inp.x, sampler, chunk, on_chunk, first_ids=inp.train_idx, parallel=parallel)
    return pred if parallel is None else parallel.sum_rows(pred, inp.train_idx)


def _inverse_norms(z: torch.Tensor) -> torch.Tensor:
    norms = torch.linalg.vector_norm(z, dim=1)
    return torch.where(norms > 0, norms, torch.ones_like(norms)).reciprocal()


class _Checkpointer:
    """Writes and reads the training state of one :meth:`ERASE.fit` (see its ``checkpoint`` parameter)."""

    def __init__(self, estimator, path, every, callback, inp, encoder, optimizer, device, parallel=None):
        self.path = None if path is None else os.fspath(path)
        self.parallel = parallel  # data-parallel: rank 0 reads (and broadcasts) and writes the file
        self.every, self.callback = every, callback
        self.encoder, self.optimizer, self.device = encoder, optimizer, device
        params = estimator.get_params(deep=False)
        self.params = {
            k: (str(torch.device(v)) if k == "device" else v) for k, v in params.items() if k not in RESUMABLE_CHANGES
        }
        self.inputs = _inputs_fingerprint(inp) if self.path is not None else None
        self.extra_state = None  # set by the mini-batch loop: callables (get, set) of its own state

    def _rng(self) -> dict:
        rng = {"cpu": torch.get_rng_state()}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state(self.device)
        return rng

    def _load(self) -> dict | None:
        if self.path is None or not os.path.exists(self.path):
            return None
        return _ckpt.load_checkpoint(self.path, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, what="an ERASE checkpoint")

    def _load_on_rank0(self) -> dict | None:
        """Rank 0's checkpoint (tensors on the CPU) on every process, or rank 0's error raised on every process:
        the other processes need no access to the file, and none is left waiting in a collective."""
        loaded = None
        if self.parallel.rank == 0:
            try:
                loaded = {"state": self._load()}
            except Exception as error:  # re-raised on every process below
                loaded = {"error": error}
        loaded = self.parallel.broadcast_object(loaded)
        if "error" in loaded:
            raise loaded["error"]
        return loaded["state"]

    def resume(self) -> SelectionState | None:
        state = self._load() if self.parallel is None else self._load_on_rank0()
        if state is None:
            return None
        diffs = _ckpt.config_differences(state.get("params", {}), self.params)
        if diffs:
            raise _ckpt.CheckpointError(
                f"cannot resume from checkpoint {self.path}: it was written with other parameters "
                f"(checkpoint != this ERASE): {'; '.join(diffs)}"
            )
        diffs = _ckpt.config_differences(state.get("inputs", {}), self.inputs)
        if diffs:
            raise _ckpt.CheckpointError(
                f"cannot resume from checkpoint {self.path}: it was written for other inputs "
                f"(graph, features, labels, masks or monitor sets; checkpoint != this fit): {'; '.join(diffs)}"
            )
        _ckpt.check_finite_weights(state["encoder"], self.path, "encoder")
        self.encoder.load_state_dict(state["encoder"])
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["rng"]["cpu"])
        if "cuda" in state["rng"]:
            torch.cuda.set_rng_state(state["rng"]["cuda"], self.device)
        if self.extra_state is not None:
            self.extra_state[1](state["extra"])
        sel = state["selection"]
        best = sel["best"]
        if best is not None:
            best = {k: (v.to(self.device) if isinstance(v, torch.Tensor) else v) for k, v in best.items()}
            best["state"] = {k: v.to(self.device) for k, v in best["state"].items()}
        return SelectionState(
            history=list(sel["history"]),
            best_score=float(sel["best_score"]),
            best_epoch=int(sel["best_epoch"]),
            best=best,
            next_epoch=int(sel["next_epoch"]),
            finished=bool(sel["finished"]),
        )

    def on_epoch_end(self, state: SelectionState, outcome: EpochOutcome) -> None:
        writer = self.parallel is None or self.parallel.rank == 0
        if writer and self.path is not None and (state.next_epoch % self.every == 0 or state.finished):
            payload = {
                "params": self.params,
                "inputs": self.inputs,
                "encoder": self.encoder.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "rng": self._rng(),
                "selection": {
                    "history": state.history,
                    "best_score": state.best_score,
                    "best_epoch": state.best_epoch,
                    "best": state.best,
                    "next_epoch": state.next_epoch,
                    "finished": state.finished,
                },
            }
            if self.extra_state is not None:
                payload["extra"] = self.extra_state[0]()
            _ckpt.save_checkpoint(self.path, payload, CHECKPOINT_FORMAT, CHECKPOINT_VERSION)
        if self.callback is not None:
            self.callback(state.next_epoch - 1, outcome.record)


class ERASE(Estimator):
    r"""ERASE node classifier trained on noisy labels.

    Parameters
    ----------
    encoder : {"gat", "gcn"}, default "gat"
        ``"gat"`` (reference: 8 heads x 32 channels, then one head of ``out_channels``) or ``"gcn"``.
    hidden_channels : int, default 256
        First-layer width (all heads together for GAT).
    out_channels : int, default 512
        Embedding dimension ``p``.
    heads : int, default 8
        Attention heads of the first GAT layer; must divide ``hidden_channels``.
    dropout : float, default 0.5
        Input dropout, in ``[0, 1)``.
    gam1 : float, default 1.0
        Weight of :math:`R_c` (and Gram scale of :math:`R`), ``>= 0``.
    gam2 : float, default 2.0
        Weight of :math:`R`, ``>= 0``.
    eps : float, default 0.05
        Squared distortion :math:`\epsilon^2` (the reference's ``eps``; Cora's value), ``> 0``.
    alpha : float, default 0.6
        Residual weight of the lazy label walk, in ``[0, 1]``.
    beta : float, default 0.6
        Weight of the denoised labels against the prototype cosines, in ``[0, 1]``.
    steps : int, default 5
        Propagation steps ``T``, ``>= 0``.
    lr : float, default 1e-3
        Adam learning rate, ``> 0``.
    weight_decay : float, default 5e-4
        Adam weight decay, ``>= 0``.
    amsgrad : bool, default True
        Adam's AMSGrad variant.
    epochs : int, default 400
        Maximum number of epochs.
    patience : int or None, default 150
        Stop after this many epochs without a strictly better validation score (``None``: never).
    selection : {"probe", "direct"}, default "probe"
        ``"probe"``: validation accuracy of the linear probe (the paper's protocol); ``"direct"``: validation
        accuracy of the argmax of the propagated pseudo-labels (the probe is fitted once, at the selected epoch).
    probe_every : int, default 1
        With ``selection="probe"``, fit the probe every this many epochs (and at the last epoch); only those epochs
        are candidates for selection.
    sparse_features : {"auto", True, False}, default "auto"
        Feed the features as a sparse tensor (``"auto"``: when at most 10% of the entries are non-zero, as for
        bag-of-words features).
    batch_size : int or None, default None
        ``None``: full-batch training, one step per epoch on all nodes (the paper's). An integer: mini-batch
        training for graphs past memory (GAT encoder only; :mod:`graphdiff.erase.minibatch`): each epoch splits the
        shuffled nodes into ``ceil(N / batch_size)`` batches of near-equal size and takes one step per batch on the
        coding rate of its embeddings; pseudo-labels, prototypes and evaluation come from a full-graph inference
        pass in chunks of ``batch_size`` nodes once per epoch. In ``[1, N]``. Inside an initialised
        ``torch.distributed`` process group of ``W > 1`` processes (``torchrun``) it is the **global** batch size,
        which ``W`` must divide, and the fit is data-parallel: each process embeds its shard of every batch, the
        loss is that of the whole batch (:mod:`graphdiff.erase.distributed`); a full-batch fit is refused there.
    num_neighbors : sequence of (int or None) or None, default (10, 10)
        With ``batch_size``, the neighbours sampled per node and hop, from the batch outwards (PyG's order); ``None``
        (or a ``None`` entry): all of them.
    seed : int, default 0
        Seed of the initialisation and dropout (the caller's global random state is left untouched); with
        ``batch_size``, also of the node order and the sampled neighbours, hashed per epoch and step so that a
        node's draws do not depend on the batch it is in.
    device : str or torch.device, default "cpu"
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...; checked to exist when ``fit`` starts.
    verbose : bool, default True
        Show a progress bar.

    Attributes
    ----------
    encoder_ : ERASEEncoder
        The encoder with the selected weights.
    labeler_ : PseudoLabeler
        The pseudo-label machinery of the fit (denoised labels, adjacency).
    history_ : list of dict
        One record per epoch: ``loss``, ``rate``, ``compress_rate``, ``pseudo_agreement`` (the fraction of training
        nodes whose pseudo-label equals the noisy label), with validation nodes ``val_acc`` (the selection score),
        ``val_acc_noisy``, ``val_acc_direct``, ``val_acc_probe``, and ``<name>_acc`` / ``<name>_acc_direct`` for
        every ``monitor`` set.
    best_epoch_ : int
        The selected epoch.
    best_val_acc_ : float or None
        The selection score at that epoch (``None`` without validation nodes): comparable across fits, e.g. to
        choose the encoder on noisy validation labels.
    pseudo_labels_ : Tensor of shape (N,)
        The pseudo-labels of the selected epoch.
    num_classes_ : int
        ``K``.
    validation_labels_ : str
        ``"noisy"``, ``"clean"`` or ``"none"``.
    fit_time_s_ : float
        Wall time of the training loop.
    history
        Deprecated alias of ``history_``.

    Examples
    --------
    >>> from graphdiff.data import noise, synthetic
    >>> data = synthetic.contextual_sbm(120, 3, num_features=8, num_train_per_class=10, num_val_per_class=10)
    >>> y_noisy = noise.pair_noise(data.y, 0.2, mask=data.train_mask | data.val_mask, seed=0).y_noisy
    >>> model = ERASE(hidden_channels=16, out_channels=16, heads=2, epochs=5, verbose=False)
    >>> model = model.fit(data, y_noisy, data.train_mask, data.val_mask)
    >>> model.predict().shape, model.embed().shape, len(model.history_)
    (torch.Size([120]), torch.Size([120, 16]), 5)
    """

    history = deprecated_alias("history_")

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
        batch_size: int | None = None,
        num_neighbors=(10, 10),
        seed: int = 0,
        device="cpu",
        verbose: bool = True,
    ):
        self.encoder = encoder
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.heads = heads
        self.dropout = dropout
        self.gam1 = gam1
        self.gam2 = gam2
        self.eps = eps
        self.alpha = alpha
        self.beta = beta
        self.steps = steps
        self.lr = lr
        self.weight_decay = weight_decay
        self.amsgrad = amsgrad
        self.epochs = epochs
        self.patience = patience
        self.selection = selection
        self.probe_every = probe_every
        self.sparse_features = sparse_features
        self.batch_size = batch_size
        self.num_neighbors = num_neighbors
        self.seed = seed
        self.device = device
        self.verbose = verbose

    @classmethod
    def from_preset(cls, dataset: str, *, fallback: str | None = None, **overrides) -> ERASE:
        """An estimator with the reference hyper-parameters of ``dataset`` (:data:`graphdiff.erase.PRESETS`).

        Parameters
        ----------
        dataset : str
            A dataset with a preset (``"cora"``, ``"citeseer"``, ``"pubmed"``, ``"cora_full"``, ``"ogbn_arxiv"``).
        fallback : str, optional
            The dataset whose preset to take when ``dataset`` has none, e.g. ``fallback="cora"`` for Amazon or
            Coauthor graphs. Without it such a dataset is an error (it used to take Cora's values silently).
        **overrides
            Any other parameter of :class:`ERASE` (they win over the preset).

        Returns
        -------
        ERASE

        Examples
        --------
        >>> ERASE.from_preset("citeseer", epochs=100).get_params()["eps"]
        0.4
        >>> ERASE.from_preset("amazon_photo", fallback="cora").eps
        0.05
        """
        params = get_preset(dataset, fallback=fallback)
        params.update(overrides)
        return cls(**params)

    def _check_params(self) -> dict:
        """Validate every parameter (``ValueError`` naming the bad one) and return the resolved values."""
        super()._check_params()
        hp = {
            "encoder": check_choice(self.encoder, "encoder", ("gat", "gcn")),
            "hidden_channels": check_int(self.hidden_channels, "hidden_channels", minimum=1),
            "out_channels": check_int(self.out_channels, "out_channels", minimum=1),
            "heads": check_int(self.heads, "heads", minimum=1),
            "dropout": check_float(self.dropout, "dropout", minimum=0.0, maximum=1.0, high_open=True),
            "gam1": check_float(self.gam1, "gam1", minimum=0.0),
            "gam2": check_float(self.gam2, "gam2", minimum=0.0),
            "eps": check_float(self.eps, "eps", minimum=0.0, low_open=True),
            "alpha": check_float(self.alpha, "alpha", minimum=0.0, maximum=1.0),
            "beta": check_float(self.beta, "beta", minimum=0.0, maximum=1.0),
            "steps": check_int(self.steps, "steps", minimum=0),
            "lr": check_float(self.lr, "lr", minimum=0.0, low_open=True),
            "weight_decay": check_float(self.weight_decay, "weight_decay", minimum=0.0),
            "amsgrad": check_bool(self.amsgrad, "amsgrad"),
            "epochs": check_int(self.epochs, "epochs", minimum=1),
            "patience": check_int(self.patience, "patience", minimum=1, allow_none=True),
            "selection": check_choice(self.selection, "selection", PREDICTION_KINDS),
            "probe_every": check_int(self.probe_every, "probe_every", minimum=1),
            "sparse_features": check_choice(self.sparse_features, "sparse_features", ("auto", True, False)),
        }
        hp["batch_size"] = check_int(self.batch_size, "batch_size", minimum=1, allow_none=True)
        hp["num_neighbors"] = _check_num_neighbors(self.num_neighbors)
        if hp["batch_size"] is not None and hp["encoder"] != "gat":
            raise ValueError("`batch_size` (mini-batch training) needs encoder='gat'")
        if hp["encoder"] == "gat" and hp["hidden_channels"] % hp["heads"] != 0:
            raise ValueError(
                f"`heads` ({hp['heads']}) must divide `hidden_channels` ({hp['hidden_channels']}) for the GAT encoder"
            )
        return hp

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
        checkpoint=None,
        checkpoint_every: int = 1,
        callback=None,
    ) -> ERASE:
        """Train on the noisy labels of the training nodes.

        Parameters
        ----------
        data : torch_geometric.data.Data
            A graph with ``x`` (``N x F``, dense or sparse) and ``edge_index``; ``data.y`` is never read.
        y_noisy : Tensor of shape (N,)
            (Noisy) labels, one per node; those of ``train_mask`` train, those of ``val_mask`` select.
        train_mask : Tensor
            Training nodes: a boolean mask of ``N`` entries or an int64 tensor of node ids (``uint8``/``int8`` are
            refused as ambiguous).
        val_mask : Tensor, optional
            Validation nodes for model selection, disjoint from the training nodes; without it the last epoch is
            kept.
        y_val_clean : Tensor, optional
            Clean validation labels (one per node, or one per validation node); when given, selection uses them
            instead of the noisy ones -- the reference code's (optimistic) protocol.
        monitor : dict, optional
            ``{name: (mask, labels)}`` node sets whose accuracy is recorded in ``history_`` every epoch (never used
            for training or selection), e.g. a benchmark's test nodes. A set may not be empty nor contain training
            nodes; the name ``"val"`` is reserved.
        num_classes : int, optional
            ``K``; defaults to ``data.num_classes`` or ``max(y_noisy) + 1``.
        checkpoint : str or os.PathLike, optional
            A file for the training state (weights, optimiser, random generator, epoch, selection state, history),
            written every ``checkpoint_every`` epochs and after the last one (atomically, with a SHA-256 checksum,
            :mod:`graphdiff.nn.checkpoint`). When the file exists the fit resumes from it, with the same result as
            an uninterrupted fit; a checkpoint of a finished fit gives its result without training. A checkpoint
            written with other parameters (any but ``verbose``) or for other inputs is refused with a
            :class:`~graphdiff.nn.checkpoint.CheckpointError` (a ``ValueError``) listing the differences. In a
            data-parallel fit rank 0 alone writes the file, and reads it to resume (the other processes receive its
            content).
        checkpoint_every : int, default 1
            Epochs between checkpoints (``>= 1``).
        callback : callable, optional
            ``callback(epoch, record)`` after every epoch (after its checkpoint is written), with the epoch's entry
            of ``history_``. An exception it raises stops the fit (e.g. a time limit); with ``checkpoint`` a later
            fit continues from there. In a data-parallel fit it runs on every process, and an exception must be
            raised on all of them.

        Returns
        -------
        ERASE
            ``self``, fitted.
        """
        hp = self._check_params()
        checkpoint_every = check_int(checkpoint_every, "checkpoint_every", minimum=1)
        if checkpoint is not None and not isinstance(checkpoint, (str, os.PathLike)):
            kind = type(checkpoint).__name__
            raise ValueError(f"`checkpoint` must be a path (str or os.PathLike) or None, got {kind}")
        if callback is not None and not callable(callback):
            raise ValueError(f"`callback` must be callable or None, got {type(callback).__name__}")
        device = self._device()
        sparse = use_sparse_features(data, hp["sparse_features"])
        inp = prepare_inputs(
            data, y_noisy, train_mask, val_mask, y_val_clean, monitor, num_classes, device, sparse_features=sparse
        )
        train_idx = inp.train_idx
        minibatch = hp["batch_size"] is not None
        if minibatch and hp["batch_size"] > inp.num_nodes:
            raise ValueError(f"`batch_size` ({hp['batch_size']}) exceeds the number of nodes ({inp.num_nodes})")
        # inside a torch.distributed process group: data-parallel mini-batches (graphdiff.erase.distributed)
        parallel = _mb.data_parallel_group(hp["batch_size"], device)
        verbose = self.verbose and (parallel is None or parallel.rank == 0)
        if not minibatch:
            _check_full_batch_memory(hp, inp, device)
        # the GAT encoder's edge structure (sorted, with self-loops), built once instead of on every forward pass
        graph = (
            CSRGraph.from_edge_index(inp.edge_index, inp.num_nodes, self_loops=True)
            if hp["encoder"] == "gat" and not minibatch
            else None
        )
        sampler = _mb.NeighborSampler(inp.edge_index, inp.num_nodes) if minibatch else None
        noisy_train = inp.y_noisy[train_idx]
        probe_epochs = hp["selection"] == "probe"
        start = time.perf_counter()
        with torch_seed(self.seed, device):
            encoder = ERASEEncoder(
                inp.x.size(1),
                hp["hidden_channels"],
                hp["out_channels"],
                heads=hp["heads"],
                dropout=hp["dropout"],
                conv=hp["encoder"],
            ).to(device)
            labeler = PseudoLabeler(
                inp.edge_index,
                inp.y_noisy,
                inp.train_mask,
                inp.num_classes,
                hp["alpha"],
                hp["beta"],
                hp["steps"],
                num_nodes=inp.num_nodes,
            )
            optimizer = torch.optim.Adam(
                encoder.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"], amsgrad=hp["amsgrad"]
            )

            def run_epoch(epoch: int, last: bool) -> EpochOutcome:
                encoder.train()
                z = encoder(inp.x, inp.edge_index, graph)
                pseudo = labeler(z)  # no gradient: labels only select rows of Z
                # the encoder's own output and the labeler's int64 labels: no validation pass over N x p (a
                # non-finite z still fails in the factorisation)
                loss, rate, comp = mcr2_loss(
                    z,
                    pseudo,
                    inp.num_classes,
                    eps=hp["eps"],
                    gam1=hp["gam1"],
                    gam2=hp["gam2"],
                    return_parts=True,
                    check_input=False,
                )
                optimizer.zero_grad()
                loss.backward()
                del z  # the training graph's N x p output, before the evaluation pass allocates its own
                optimizer.step()

                encoder.eval()
                with torch.no_grad():
                    z_eval = encoder(inp.x, inp.edge_index, graph)
                    norms = torch.linalg.vector_norm(z_eval, dim=1)  # shared by the direct labels and the probe
                    direct = labeler(z_eval, norms)
                probe = None
                if probe_epochs and (epoch % hp["probe_every"] == 0 or last):
                    probe = linear_probe(z_eval, train_idx, pseudo[train_idx], row_norms=norms)
                del z_eval
                return finish(epoch, loss.item(), rate.item(), comp.item(), pseudo, direct, probe)

            def finish(epoch, loss, rate, comp, pseudo, direct, probe) -> EpochOutcome:
                record = {
                    "epoch": epoch,
                    "loss": loss,
                    "rate": rate,
                    "compress_rate": comp,
                    "pseudo_agreement": float((pseudo[train_idx] == noisy_train).float().mean()),
                }
                candidate = probe if probe_epochs else direct
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

                def snapshot() -> dict:
                    return {
                        "state": copy.deepcopy(encoder.state_dict()),
                        "pseudo": pseudo.clone(),
                        "direct": direct.clone(),
                        "probe": None if probe is None else probe.clone(),
                    }

                return EpochOutcome(record, score, snapshot)

            mb_state = {"pseudo": None}  # mini-batch: the pseudo-labels the next epoch's batches train on
            if minibatch:
                keep_idx = [train_idx] + ([inp.val_idx] if inp.val_idx is not None else [])
                keep_idx = torch.cat(keep_idx + [idx for idx, _ in inp.monitors.values()]).unique()
                keep_pos = torch.full((inp.num_nodes,), -1, dtype=torch.long, device=device)
                keep_pos[keep_idx] = torch.arange(keep_idx.numel(), device=device)
                train_pos = keep_pos[train_idx]
                num_batches = -(-inp.num_nodes // hp["batch_size"])

                def infer():
                    """Eval-mode pass in chunks: propagated pseudo-labels of all nodes, embeddings of the kept ones."""
                    encoder.eval()
                    # sharded over the processes of a data-parallel fit: zeros where another process fills in
                    make = torch.empty if parallel is None else torch.zeros
                    scores = make(inp.num_nodes, inp.num_classes, device=device)
                    z_keep = make(keep_idx.numel(), hp["out_channels"], device=device)
                    mu = []

                    def on_chunk(ids, z):
                        if not mu:  # the first chunk holds the training nodes
                            mu.append(labeler.prototypes(z))
                        scores[ids] = labeler.chunk_scores(z, ids, mu[0], torch.linalg.vector_norm(z, dim=1))
                        pos = keep_pos[ids]
                        kept = pos >= 0
                        z_keep[pos[kept]] = z[kept]

                    _mb.layerwise_inference(
                        encoder, inp.x, sampler, hp["batch_size"], on_chunk, first_ids=train_idx, parallel=parallel
                    )
                    if parallel is not None:
                        parallel.sum_rows(scores, train_idx)
                        parallel.sum_rows(z_keep, train_pos)
                    return labeler.propagate(scores), z_keep

                # the training forward with keyed dropout; DDP-wrapped when data-parallel
                batch_forward = _mb._BatchForward(encoder)
                batch_forward = batch_forward if parallel is None else parallel.wrap(batch_forward)

                def batch_loss(z, labels):
                    """The coding-rate loss of the global batch: of this process's rows, or of all processes' rows
                    through all-reduced Gram matrices."""
                    kw = dict(eps=hp["eps"], gam1=hp["gam1"], gam2=hp["gam2"], return_parts=True)
                    if parallel is None:
                        return mcr2_loss(z, labels, inp.num_classes, check_input=False, **kw)
                    return distributed_mcr2_loss(z, labels, inp.num_classes, group=parallel.group, **kw)

                def run_minibatch_epoch(epoch: int, last: bool) -> EpochOutcome:
                    if mb_state["pseudo"] is None:  # the first epoch's labels: a pass with the initial weights
                        mb_state["pseudo"] = infer()[0]
                    pseudo = mb_state["pseudo"]
                    encoder.train()
                    # every draw is keyed by (seed, epoch, step), never by a generator's position (see
                    # graphdiff.erase.minibatch): every process draws the same global batches, and a node's
                    # neighbours and dropout mask do not depend on the shard it is embedded in
                    order = torch.Generator().manual_seed(_mb.stream_key(self.seed, epoch))
                    perm = torch.randperm(inp.num_nodes, generator=order).to(device)
                    totals = torch.zeros(3, dtype=torch.float64)
                    for step, batch in enumerate(torch.tensor_split(perm, num_batches)):
                        key = _mb.stream_key(self.seed, epoch, step)
                        targets = batch if parallel is None else parallel.shard(batch)
                        nodes, blocks = sampler.sample(targets, hp["num_neighbors"], key=_mb.stream_key(key, 0))
                        x_batch = inp.x.index_select(0, nodes) if inp.x.is_sparse else inp.x[nodes]
                        z = batch_forward(x_batch, nodes, blocks, _mb.stream_key(key, 1))
                        loss, rate, comp = batch_loss(z, pseudo[targets])
                        optimizer.zero_grad()
                        loss.backward()
                        del z
                        optimizer.step()
                        totals += torch.stack([loss.detach(), rate.detach(), comp.detach()]).double().cpu()
                    direct, z_keep = infer()
                    mb_state["pseudo"] = direct
                    probe = None
                    if probe_epochs and (epoch % hp["probe_every"] == 0 or last):
                        norms = torch.linalg.vector_norm(z_keep, dim=1)
                        probe = torch.full((inp.num_nodes,), -1, dtype=torch.long, device=device)
                        probe[keep_idx] = linear_probe(z_keep, train_pos, pseudo[train_idx], row_norms=norms)
                    del z_keep
                    loss, rate, comp = (totals / num_batches).tolist()
                    outcome = finish(epoch, loss, rate, comp, pseudo, direct, probe)
                    if parallel is not None:
                        outcome.score = parallel.broadcast_score(outcome.score)
                    return outcome

            resume, on_epoch_end = None, None
            if checkpoint is not None or callback is not None:
                ckpt = _Checkpointer(
                    self, checkpoint, checkpoint_every, callback, inp, encoder, optimizer, device, parallel
                )
                if minibatch:
                    ckpt.extra_state = (
                        lambda: {"pseudo": mb_state["pseudo"]},
                        lambda extra: mb_state.update(pseudo=extra["pseudo"].to(device)),
                    )
                resume, on_epoch_end = ckpt.resume(), ckpt.on_epoch_end
            selected = train_with_selection(
                run_minibatch_epoch if minibatch else run_epoch,
                hp["epochs"],
                validation=inp.val_idx is not None,
                patience=hp["patience"],
                desc="ERASE",
                verbose=verbose,
                loss_format=".2f",
                state=resume,
                on_epoch_end=on_epoch_end,
            )
            best = selected.best
            encoder.load_state_dict(best["state"])
            encoder.eval()
            if minibatch:  # the probe's prediction of every node, chunk by chunk, with the selected weights
                best["probe"] = _minibatch_probe(encoder, inp, sampler, hp["batch_size"], best["pseudo"], parallel)
            elif best["probe"] is None:
                with torch.no_grad():
                    z_best = encoder(inp.x, inp.edge_index, graph)
                best["probe"] = linear_probe(z_best, train_idx, best["pseudo"][train_idx])
        self.fit_time_s_ = time.perf_counter() - start
        self.encoder_ = encoder
        self.labeler_ = labeler
        self.history_ = selected.history
        self.best_epoch_ = selected.best_epoch
        self.best_val_acc_ = selected.best_score
        self.pseudo_labels_ = best["pseudo"]
        self.num_classes_ = inp.num_classes
        self.validation_labels_ = inp.val_labels
        self._x, self._edge_index, self._graph = inp.x, inp.edge_index, graph
        self._sampler = (sampler, hp["batch_size"]) if minibatch else None
        self._pred = {"probe": best["probe"], "direct": best["direct"]}
        return self

    def predict(self, kind: str | None = None) -> torch.Tensor:
        """Predicted class of every node at the selected epoch.

        Parameters
        ----------
        kind : {"probe", "direct"}, optional
            ``"probe"`` (the paper's linear probe) or ``"direct"`` (argmax of the propagated pseudo-labels);
            defaults to the ``selection`` parameter.

        Returns
        -------
        Tensor of shape (N,)
            int64 class ids, on the estimator's device.
        """
        self._check_fitted()
        kind = self.selection if kind is None else check_choice(kind, "kind", PREDICTION_KINDS)
        return self._pred[kind]

    @torch.no_grad()
    def embed(self) -> torch.Tensor:
        """Eval-mode embeddings of the selected encoder.

        Returns
        -------
        Tensor of shape (N, out_channels)
            Non-negative, each row of L1 norm at most one.
        """
        self._check_fitted()
        self.encoder_.eval()
        if self._sampler is not None:  # mini-batch fit: layer-wise inference in chunks, stacked
            sampler, chunk = self._sampler
            out = torch.empty(self._x.size(0), self.encoder_.out_channels, device=self._x.device)
            _mb.layerwise_inference(self.encoder_, self._x, sampler, chunk, lambda ids, z: out.__setitem__(ids, z))
            return out
        return self.encoder_(self._x, self._edge_index, self._graph)
