"""ERASE at scale: the cost of a full-batch ERASE epoch against the fixed GCN baseline on growing graphs.

ERASE: Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852 (the training procedure of section 4, the linear
probe every epoch as in the paper's protocol). Writes ``benchmarks/results/erase_scale.json`` in the format of
``shared/CONVENTIONS.md`` (issue 13). Graphs: the contextual SBM of :func:`graphdiff.data.synthetic.contextual_sbm`
(64 features, 5 classes, average degree 10, 20 training and 30 validation nodes per class, pair noise 0.3 with the
cyclic target on them). Methods: ``erase`` (defaults: GAT 8 x 32 -> 512, probe every epoch) and ``gcn`` (the fixed
baseline exactly as ``benchmarks/erase_label_noise.py`` uses it: ``GCN()`` defaults).

Each run executes in a fresh process with one thread (:func:`graphdiff.bench.run_isolated`), so its
``peak_mem_mb`` is its own. Per-epoch cost, without the set-up (graph structure, denoised labels, the first
pseudo-labels) and the final selection: for ERASE, the process CPU time (``time.process_time``, user + system)
between the ends of the first and the last epoch of a ``1 + epochs``-epoch fit (its ``callback``), over
``epochs``; for the GCN (no callback), that of a ``1 + epochs``-epoch fit minus that of a 1-epoch fit in the same
process, over ``epochs``. ``training`` is ``full`` (one step per epoch on all nodes) or ``minibatch``
(``ERASE(batch_size=...)``, default 4096, the default neighbour sampling; its epoch includes the full-graph
inference pass for the next pseudo-labels). Metrics: ``epoch_time_s`` (process CPU seconds per epoch),
``epoch_wall_s``, ``nodes_per_s`` (nodes per wall second of an epoch), ``peak_mem_mb``, ``test_accuracy`` (of the
measuring fit, last epoch, not a tuned result) and for full-batch ERASE ``epoch_ratio_to_gcn`` (its
``epoch_time_s`` over the GCN's of the same invocation).

Usage::

    python benchmarks/erase_scale.py                    # 1e4 and 1e5 nodes, full batch, 10 timed epochs
    python benchmarks/erase_scale.py --methods erase --training minibatch --merge
    python benchmarks/erase_scale.py --nodes 10000000 --methods erase --training minibatch --epochs 1 --merge
    python benchmarks/erase_scale.py --nodes 10000000 --methods erase --training minibatch --epochs 1 \
        --num-neighbors 5 5 --merge                      # 5 + 5 sampled neighbours (the default is 10 + 10)
    python benchmarks/erase_scale.py --ddp coauthor_physics --epochs 20 --merge   # 1 vs 2 processes
    python benchmarks/erase_scale.py --nodes 10000 --epochs 3 --quick

``--ddp DATASET`` instead runs ``torchrun --nproc_per_node=K -m graphdiff.erase.distributed`` for each ``K`` of
``--processes`` (gloo, one thread per process, ``1 + epochs`` mini-batch epochs of ``--batch-size``): rows of
dataset ``DATASET`` with ``processes`` in the setting, ``epoch_time_s`` the CPU seconds per epoch summed over the
processes, ``epoch_wall_s`` and ``peak_mem_mb`` the largest of the processes', and ``epoch_wall_speedup`` (the first
``K``'s wall seconds per epoch over this one's).

``--merge`` keeps the rows of the existing results file that the run does not produce, and appends its command to
the file's ``command``, so that the file can be built by several invocations.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from graphdiff.bench import Results, run_isolated  # noqa: E402

NUM_CLASSES = 5
NUM_FEATURES = 64
AVG_DEGREE = 10.0
NOISE_RATE = 0.3


def run_one(
    method: str,
    num_nodes: int,
    epochs: int,
    training: str = "full",
    batch_size: int = 4096,
    seed: int = 0,
    num_neighbors=None,
):
    """Per-epoch cost of ``method`` on the SBM graph of ``num_nodes`` nodes (one thread) and the test accuracy of
    the fit that measured it.

    ERASE: one fit of ``1 + epochs`` epochs; the process CPU and wall seconds between the ends of its first and
    last epoch (its ``callback``), over ``epochs``. GCN (no callback): a 1-epoch and a ``1 + epochs``-epoch fit,
    the difference over ``epochs``. Either way the set-up and the final selection are not in the epoch cost."""
    import torch

    torch.set_num_threads(1)
    from graphdiff.data import noise, synthetic
    from graphdiff.erase import ERASE, GCN

    data = synthetic.contextual_sbm(num_nodes, NUM_CLASSES, avg_degree=AVG_DEGREE, num_features=NUM_FEATURES, seed=seed)
    mask = data.train_mask | data.val_mask
    y_noisy = noise.pair_noise(data.y, NOISE_RATE, mask=mask, seed=seed).y_noisy
    test = ~mask

    if method == "erase":
        marks = []

        def mark(epoch, record):
            marks.append((time.process_time(), time.perf_counter()))

        model = ERASE(
            epochs=1 + epochs,
            patience=None,
            seed=seed,
            verbose=False,
            batch_size=None if training == "full" else batch_size,
            **({} if num_neighbors is None else {"num_neighbors": tuple(num_neighbors)}),
        )
        model.fit(data, y_noisy, data.train_mask, data.val_mask, callback=mark)
        cpu = (marks[-1][0] - marks[0][0]) / epochs
        wall = (marks[-1][1] - marks[0][1]) / epochs
    else:
        if training != "full":
            raise ValueError("the GCN baseline trains full-batch only")

        def fit(n_epochs):
            gcn = GCN(epochs=n_epochs, seed=seed, verbose=False)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            gcn.fit(data, y_noisy, data.train_mask, data.val_mask)
            return gcn, time.process_time() - cpu0, time.perf_counter() - wall0

        _, cpu1, wall1 = fit(1)
        model, cpu_n, wall_n = fit(1 + epochs)
        cpu, wall = (cpu_n - cpu1) / epochs, (wall_n - wall1) / epochs
    accuracy = float((model.predict()[test] == data.y[test]).float().mean())
    return {"epoch_time_s": cpu, "epoch_wall_s": wall, "test_accuracy": accuracy}


def run_ddp(dataset: str, processes: int, epochs: int, batch_size: int) -> dict:
    """One ``torchrun --nproc_per_node=processes -m graphdiff.erase.distributed`` fit of ``1 + epochs`` mini-batch
    epochs on ``dataset`` (gloo, one thread per process, pair noise 0.3 on the 20 / 30 training and validation
    labels per class): the entry point's JSON (per-epoch CPU summed over the processes, wall and peak memory their
    maxima, over the epochs after the first)."""
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "result.json"
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            "-m", "graphdiff.erase.distributed", "--dataset", dataset, "--batch-size", str(batch_size),
            "--epochs", str(1 + epochs), "--backend", "gloo", "--threads", "1", "--quiet", "--output", str(output),
        ]  # fmt: skip
        threads = {k: "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        env = {**os.environ, **threads, "PYTHONPATH": str(REPO)}
        done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
        return json.loads(output.read_text())


def ddp_rows(res: Results, dataset: str, processes: list, epochs: int, batch_size: int) -> None:
    """Rows of the 1 vs several process comparison on ``dataset`` (``--ddp``)."""
    walls = {}
    for k in processes:
        out = run_ddp(dataset, k, epochs, batch_size)
        if out["timed_epochs"] != epochs:
            raise RuntimeError(f"{k} processes ran {out['timed_epochs'] + 1} epochs, not {epochs + 1}")
        walls[k] = out["epoch_wall_s"]
        setting = {
            "training": "minibatch",
            "processes": k,
            "threads": 1,
            "epochs": epochs,
            "batch_size": batch_size,
            "backend": "gloo",
            "noise": "pair",
            "rate": NOISE_RATE,
            "pair_target": "cyclic",
        }
        common = {"seeds": [0], "time_s": out["seconds"], "peak_mem_mb": out["peak_mem_mb"]}
        res.add(dataset, "erase", setting, "epoch_time_s", out["epoch_cpu_s"], **common)
        res.add(dataset, "erase", setting, "epoch_wall_s", out["epoch_wall_s"], **common)
        res.add(dataset, "erase", setting, "nodes_per_s", out["num_nodes"] / out["epoch_wall_s"], **common)
        res.add(dataset, "erase", setting, "peak_mem_mb", out["peak_mem_mb"], **common)
        res.add(dataset, "erase", setting, "test_accuracy", out["test_accuracy"], **common)
        if k != processes[0]:
            speedup = walls[processes[0]] / out["epoch_wall_s"]
            res.add(dataset, "erase", setting, "epoch_wall_speedup", speedup, **common)
        print(f"{dataset}, {k} process(es): {out}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--epochs", type=int, default=10, help="timed epochs per run")
    parser.add_argument("--methods", nargs="+", default=["gcn", "erase"], choices=["gcn", "erase"])
    parser.add_argument(
        "--training", nargs="+", default=["full"], choices=["full", "minibatch"], help="ERASE training modes"
    )
    parser.add_argument("--batch-size", type=int, default=4096, help="ERASE(batch_size=...) of minibatch runs")
    parser.add_argument(
        "--num-neighbors",
        type=int,
        nargs=2,
        default=None,
        help="ERASE(num_neighbors=...) of minibatch runs (default: the estimator's, (10, 10); in the setting if given)",
    )
    parser.add_argument(
        "--ddp",
        metavar="DATASET",
        help="instead: 1 vs several processes (torchrun, gloo) on a dataset (GRAPHDIFF_DATA)",
    )
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2], help="process counts of --ddp")
    parser.add_argument("--merge", action="store_true", help="keep the existing file's rows these runs do not produce")
    parser.add_argument("--quick", action="store_true", help="write erase_scale.quick.json")
    args = parser.parse_args(argv)
    res = Results("erase_scale", quick=args.quick)
    if args.ddp:
        ddp_rows(res, args.ddp, args.processes, args.epochs, args.batch_size)
        print(f"wrote {_write(res, args)}")
        return 0
    for num_nodes in args.nodes:
        per_method = {}
        runs = [(m, t) for m in args.methods for t in (args.training if m == "erase" else ["full"])]
        for method, training in runs:
            out, time_s, peak = run_isolated(
                run_one,
                method,
                num_nodes,
                args.epochs,
                training,
                args.batch_size,
                num_neighbors=args.num_neighbors,
                threads=1,
            )
            setting = {
                "num_nodes": num_nodes,
                "training": training,
                "processes": 1,
                "threads": 1,
                "epochs": args.epochs,
                "noise": "pair",
                "rate": NOISE_RATE,
                "pair_target": "cyclic",
            }
            if training == "minibatch":
                setting["batch_size"] = args.batch_size
                if args.num_neighbors is not None:
                    setting["num_neighbors"] = list(args.num_neighbors)
            common = {"seeds": [0], "time_s": time_s, "peak_mem_mb": peak}
            for metric in ("epoch_time_s", "epoch_wall_s", "test_accuracy"):
                res.add("contextual_sbm", method, setting, metric, out[metric], **common)
            res.add("contextual_sbm", method, setting, "nodes_per_s", num_nodes / out["epoch_wall_s"], **common)
            res.add("contextual_sbm", method, setting, "peak_mem_mb", peak, **common)
            print(f"{method} ({training}) N={num_nodes}: {out} peak {peak:.0f} MB", flush=True)
            if method == "erase" and training == "full" and "gcn" in per_method:
                ratio = out["epoch_time_s"] / per_method["gcn"]["epoch_time_s"]
                res.add("contextual_sbm", method, setting, "epoch_ratio_to_gcn", ratio, **common)
            per_method[method] = out
            path = _write(res, args)
    print(f"wrote {path}")
    return 0


def _write(res: Results, args) -> Path:
    """Write the results file; with ``--merge`` the existing file's rows that these runs do not produce are kept
    (:meth:`graphdiff.bench.Results.write`)."""
    return res.write(merge=args.merge)


if __name__ == "__main__":
    sys.exit(main())
