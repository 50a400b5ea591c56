r"""Data-parallel ERASE on several processes and machines, launched with ``torchrun``.

ERASE (Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852) minimises the MCR\ :sup:`2` loss of section 4.2.
With ``ERASE(batch_size=B)`` inside an initialised ``torch.distributed`` process group of ``W > 1`` processes (issue
13), :meth:`ERASE.fit <graphdiff.erase.ERASE.fit>` trains data-parallel with the same code as on one process:

* **Global batches.** ``B`` is the global batch size (``W`` must divide it). Every process draws the same node order
  (a generator seeded with ``(seed, epoch)``) and the same global batches, and embeds its shard of each: the
  ``rank``-th of ``W`` near-equal parts (a shard may be one node smaller, or empty when a batch has fewer than ``W``
  nodes).
* **The loss of the union batch, exactly.** The coding rates depend on the embeddings only through the ``p x p``
  class Gram matrices and the class sizes, which are sums over nodes;
  :func:`~graphdiff.nn.coding_rate.distributed_mcr2_loss` all-reduces them, so every process computes the loss of
  the whole global batch, not an average of per-shard losses.
* **Gradients.** The all-reduce is differentiable and its backward pass all-reduces the Gram gradients too: the
  gradient a process gets for its rows is ``W`` times the partial derivative of the global loss with respect to
  them, and its parameter gradient ``W`` times its shard's share. The correct combination is the **sum** of the
  shares; ``DistributedDataParallel``'s average of the ``W``-fold shares is exactly that, so the encoder is wrapped
  in DDP as is, with no rescaling (``tests/test_erase_distributed.py`` checks that a gradient off by the factor
  ``W`` would be seen).
* **Same draws as one process.** The neighbours sampled for a node and its dropout mask are hashed from ``(seed,
  epoch, step, node)`` (:mod:`graphdiff.erase.minibatch`), not drawn from a generator whose position would depend
  on the shard, so a ``W``-process step computes what one process computes on the same global batch, up to the
  order of float sums: after 5 steps the weights agree to ``1e-5`` (tested with dropout on).
* **Full-graph inference, sharded.** The per-epoch eval-mode pass (prototypes, pseudo-labels, probe, selection)
  is split over the processes: each computes the first layer for every ``W``-th chunk of nodes, the ``N x 256``
  first-layer rows are summed over the processes (each row is computed by one process, zeros elsewhere, so the
  sum is exact), and each process embeds every ``W``-th chunk of the second layer; the ``N x K`` scores and the
  kept embeddings are summed the same way (:func:`graphdiff.erase.minibatch.layerwise_inference`). The training
  nodes' chunk, whose embeddings give the prototypes, is embedded by every process. Every process then holds the
  same pseudo-labels, as every process needs all ``N`` of them for the next epoch's shards. Only the selection
  score, which decides early stopping and with it how many collective steps follow, is rank 0's, broadcast (one
  number per epoch), so that processes whose floating-point results might differ (mixed hardware) cannot stop at
  different epochs and hang.
* **Rank 0 writes.** Checkpoints are written by rank 0 only; a resuming fit reads the file on rank 0 and broadcasts
  it (the other processes need no shared file system). The progress bar is rank 0's. ``callback`` runs on every
  process: an exception it raises must be raised on all of them.

What is exact and what is not. Exact: the loss, its value and its gradient, is that of the union of the shards, so
a step equals the one-process step on the same global batch; the result does not depend on the number of processes
beyond float rounding (a checkpoint written with ``W`` processes may be resumed with another number). Not exact:
float sums are taken in another order (agreement to about ``1e-5`` after a few steps, not bitwise), and mini-batch
training itself differs from the full-batch fit (the batch's coding rate, pseudo-labels of the previous epoch;
:mod:`graphdiff.erase.minibatch`).

Backends: ``gloo`` on CPUs, ``nccl`` on CUDA devices (one per process, ``cuda:LOCAL_RANK``).
:func:`init_process_group` sets the group up from ``torchrun``'s environment. The entry point::

    torchrun --nproc_per_node=2 -m graphdiff.erase.distributed --synthetic 100000 --batch-size 4096 \
        --epochs 20 --backend gloo --output result.json

loads a dataset (``--dataset coauthor_physics``, with ``GRAPHDIFF_DATA``) or a contextual SBM (``--synthetic N``),
adds pair noise to the training and validation labels, fits, and writes from rank 0 a JSON with the test accuracy,
the epochs run, the world size and the seconds taken. Several machines: the same command on each with
``--nnodes=M --node_rank=i --rdzv_backend=c10d --rdzv_endpoint=host:port`` (``docs/erase.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time

import torch

from graphdiff.data.validation import check_choice

__all__ = ["init_process_group", "main"]

BACKENDS = ("auto", "gloo", "nccl")


def init_process_group(backend: str = "auto", *, init_method: str | None = None, rank=None, world_size=None):
    """Initialise the default ``torch.distributed`` process group and return this process's device.

    Parameters
    ----------
    backend : {"auto", "gloo", "nccl"}, default "auto"
        ``"gloo"`` (CPU), ``"nccl"`` (CUDA; each process takes ``cuda:LOCAL_RANK``), or ``"auto"``: ``nccl`` when
        CUDA is available, else ``gloo``.
    init_method : str, optional
        Where the processes meet (``"env://"``, the default, reads ``torchrun``'s ``MASTER_ADDR``, ``MASTER_PORT``,
        ``RANK`` and ``WORLD_SIZE``; or ``"tcp://host:port"``, ``"file:///path"`` with ``rank`` and
        ``world_size``).
    rank, world_size : int, optional
        With an ``init_method`` other than ``env://``.

    Returns
    -------
    torch.device
        ``cpu`` for gloo, ``cuda:LOCAL_RANK`` (made the current device) for nccl: pass it to
        ``ERASE(device=...)``. If the default group is initialised already, the device that fits its backend.

    Raises
    ------
    ValueError
        For a backend name other than those above, or ``"nccl"`` without CUDA.
    RuntimeError
        Without ``init_method`` outside ``torchrun`` (no ``WORLD_SIZE`` in the environment).

    Examples
    --------
    >>> init_process_group("mpi")
    Traceback (most recent call last):
    ...
    ValueError: `backend` must be one of 'auto', 'gloo', 'nccl'; got 'mpi' (gloo on CPUs, nccl on CUDA devices)
    """
    dist = torch.distributed
    try:
        check_choice(backend, "backend", BACKENDS)
    except ValueError as error:
        raise ValueError(f"{error} (gloo on CPUs, nccl on CUDA devices)") from None
    if not dist.is_available():
        raise RuntimeError("torch.distributed is not available in this build of torch")
    if dist.is_initialized():
        backend = dist.get_backend()
    elif backend == "auto":
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl" and not torch.cuda.is_available():
        raise ValueError("`backend` 'nccl' needs CUDA devices, and none is available: use 'gloo' on CPUs")
    device = torch.device("cpu")
    if backend == "nccl":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        if init_method is None and "WORLD_SIZE" not in os.environ:
            raise RuntimeError(
                "no torchrun environment (WORLD_SIZE is not set): launch with `torchrun --nproc_per_node=K ...`, or "
                "pass init_method, rank and world_size"
            )
        kwargs = {} if init_method is None else {"init_method": init_method, "rank": rank, "world_size": world_size}
        if backend == "nccl":
            kwargs["device_id"] = device
        dist.init_process_group(backend, **kwargs)
    return device


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="torchrun --nproc_per_node=K -m graphdiff.erase.distributed",
        description="Data-parallel mini-batch ERASE on K processes (also runs as one plain process).",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--dataset", help="a graph dataset of graphdiff.data (e.g. coauthor_physics); GRAPHDIFF_DATA")
    source.add_argument("--synthetic", type=int, metavar="N", help="a contextual SBM of N nodes (no data needed)")
    parser.add_argument("--data-root", help="the data root (default: GRAPHDIFF_DATA)")
    parser.add_argument(
        "--raw-features", action="store_true", help="keep the dataset's features (default: rows L1-normalised)"
    )
    parser.add_argument("--batch-size", type=int, default=4096, help="global batch size (default 4096, capped at N)")
    parser.add_argument("--num-neighbors", type=int, nargs=2, default=(10, 10), metavar=("HOP1", "HOP2"))
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--patience", type=int, default=None, help="early stopping (default: none)")
    parser.add_argument("--noise", choices=("pair", "uniform"), default="pair")
    parser.add_argument("--noise-rate", type=float, default=0.3, help="on the training and validation labels")
    parser.add_argument("--train-per-class", type=int, default=20)
    parser.add_argument("--val-per-class", type=int, default=30)
    parser.add_argument("--hidden-channels", type=int, default=None, help="default: ERASE's (256)")
    parser.add_argument("--out-channels", type=int, default=None, help="default: ERASE's (512)")
    parser.add_argument("--heads", type=int, default=None, help="default: ERASE's (8)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto", help="gloo (CPU), nccl (CUDA), auto")
    parser.add_argument("--seed", type=int, default=0, help="noise, split and initialisation")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per process")
    parser.add_argument("--output", help="JSON file written by rank 0")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def _load(args):
    """The graph, its noisy labels and the train / validation / test nodes."""
    from graphdiff.data import noise, splits, synthetic

    if args.synthetic is not None:
        name = "contextual_sbm"
        data = synthetic.contextual_sbm(
            args.synthetic,
            5,
            num_features=64,
            num_train_per_class=args.train_per_class,
            num_val_per_class=args.val_per_class,
            seed=args.seed,
        )
        train, val, test = data.train_mask, data.val_mask, data.test_mask
    else:
        import graphdiff.data as gd

        name = args.dataset.lower()
        # row-normalised features by default, as benchmarks/erase_label_noise.py loads them
        data = gd.load(name, args.data_root, verbose=False, normalize_features=not args.raw_features)
        train, val, test = splits.random_split(
            data.y, args.train_per_class, num_val_per_class=args.val_per_class, seed=args.seed
        )
    y_noisy = noise.corrupt_labels(
        data.y, args.noise, args.noise_rate, num_classes=int(data.y.max()) + 1, mask=train | val, seed=args.seed
    ).y_noisy
    return name, data, y_noisy, train, val, test


def main(argv=None) -> int:
    """The entry point: ``python -m graphdiff.erase.distributed --help`` (see the module docstring).

    Parameters
    ----------
    argv : list of str, optional
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status.
    """
    from graphdiff.erase import ERASE

    args = _parser().parse_args(argv)
    start = time.perf_counter()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    dist = torch.distributed
    launched = "WORLD_SIZE" in os.environ  # torchrun (or its environment); else one plain process
    device = init_process_group(args.backend) if launched else torch.device("cpu")
    rank = dist.get_rank() if launched else 0
    world_size = dist.get_world_size() if launched else 1
    try:
        name, data, y_noisy, train, val, test = _load(args)
        overrides = {
            k: v
            for k, v in (("hidden_channels", args.hidden_channels), ("out_channels", args.out_channels))
            if v is not None
        }
        if args.heads is not None:
            overrides["heads"] = args.heads
        preset = "cora" if args.synthetic is not None else name
        model = ERASE.from_preset(
            preset,
            fallback="cora",
            batch_size=min(args.batch_size, data.num_nodes),
            num_neighbors=tuple(args.num_neighbors),
            epochs=args.epochs,
            patience=args.patience,
            seed=args.seed,
            device=device,
            verbose=not args.quiet,
            **overrides,
        )
        marks = []  # (process CPU, wall) seconds at the end of each epoch, for the per-epoch cost

        def mark(epoch, record):
            marks.append((time.process_time(), time.perf_counter()))

        model.fit(data, y_noisy, train, val, monitor={"test": (test, data.y)}, callback=mark)
        test_accuracy = float((model.predict().cpu()[test] == data.y[test]).float().mean())
        # per epoch after the first (which also holds the set-up): this process's CPU and wall seconds, then the
        # CPU summed and the wall and peak memory maximised over the processes
        timed = max(len(marks) - 1, 1)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        cost = torch.tensor(
            [(marks[-1][0] - marks[0][0]) / timed, (marks[-1][1] - marks[0][1]) / timed, peak_mb], dtype=torch.float64
        )
        if launched:
            summed, maxed = cost[:1].clone(), cost[1:].clone()
            dist.all_reduce(summed, op=dist.ReduceOp.SUM)
            dist.all_reduce(maxed, op=dist.ReduceOp.MAX)
            cost = torch.cat([summed, maxed])
        result = {
            "dataset": name,
            "num_nodes": int(data.num_nodes),
            "world_size": world_size,
            "backend": dist.get_backend() if launched else None,
            "device": str(device),
            "batch_size": model.batch_size,
            "num_neighbors": list(args.num_neighbors),
            "epochs": len(model.history_),
            "best_epoch": model.best_epoch_,
            "val_accuracy_noisy": model.best_val_acc_,
            "test_accuracy": test_accuracy,
            "fit_seconds": model.fit_time_s_,
            "seconds": time.perf_counter() - start,
            "timed_epochs": len(marks) - 1,
            "epoch_cpu_s": float(cost[0]),
            "epoch_wall_s": float(cost[1]),
            "peak_mem_mb": float(cost[2]),
        }
        if rank == 0:
            print(json.dumps(result))
            if args.output:
                with open(args.output, "w") as f:
                    json.dump(result, f, indent=2)
                    f.write("\n")
    finally:
        if launched:
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
