"""ERASE at scale: the cost of a full-batch ERASE epoch against the fixed GCN baseline on growing graphs.

ERASE: Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852 (the training procedure of section 4, the linear
probe every epoch as in the paper's protocol). Writes ``benchmarks/results/erase_scale.json`` in the format of
``shared/CONVENTIONS.md`` (issue 13). Graphs: the contextual SBM of :func:`graphdiff.data.synthetic.contextual_sbm`
(64 features, 5 classes, average degree 10, 20 training and 30 validation nodes per class, pair noise 0.3 with the
cyclic target on them). Methods: ``erase`` (defaults: GAT 8 x 32 -> 512, probe every epoch) and ``gcn`` (the fixed
baseline exactly as ``benchmarks/erase_label_noise.py`` uses it: ``GCN()`` defaults).

Each run executes in a fresh process with one thread (:func:`graphdiff.bench.run_isolated`), so its
``peak_mem_mb`` is its own. Per-epoch cost: the process CPU time (``time.process_time``, user + system) of a fit of
``1 + epochs`` epochs minus that of a 1-epoch fit in the same process, divided by ``epochs``: the set-up (graph
structure, denoised labels) and the final selection cancel out. Metrics: ``epoch_time_s`` (process CPU seconds
per epoch), ``epoch_wall_s``, ``nodes_per_s`` (nodes per wall second of an epoch), ``peak_mem_mb``, and for ERASE
``epoch_ratio_to_gcn`` (its ``epoch_time_s`` over the GCN's of the same invocation).

Usage::

    python benchmarks/erase_scale.py                    # 1e4 and 1e5 nodes, 10 timed epochs
    python benchmarks/erase_scale.py --nodes 10000 --epochs 3 --quick
"""

from __future__ import annotations

import argparse
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


def run_one(method: str, num_nodes: int, epochs: int, seed: int = 0) -> dict:
    """A 1-epoch and a ``1 + epochs``-epoch fit of ``method`` on the SBM graph of ``num_nodes`` nodes (one thread);
    returns the per-epoch CPU and wall seconds and the last fit's test accuracy."""
    import torch

    torch.set_num_threads(1)
    from graphdiff.data import noise, synthetic
    from graphdiff.erase import ERASE, GCN

    data = synthetic.contextual_sbm(num_nodes, NUM_CLASSES, avg_degree=AVG_DEGREE, num_features=NUM_FEATURES, seed=seed)
    mask = data.train_mask | data.val_mask
    y_noisy = noise.pair_noise(data.y, NOISE_RATE, mask=mask, seed=seed).y_noisy
    test = ~mask

    def fit(n_epochs):
        if method == "erase":
            model = ERASE(epochs=n_epochs, patience=None, seed=seed, verbose=False)
        else:
            model = GCN(epochs=n_epochs, seed=seed, verbose=False)
        cpu, wall = time.process_time(), time.perf_counter()
        model.fit(data, y_noisy, data.train_mask, data.val_mask)
        return model, time.process_time() - cpu, time.perf_counter() - wall

    _, cpu1, wall1 = fit(1)
    model, cpu_n, wall_n = fit(1 + epochs)
    accuracy = float((model.predict()[test] == data.y[test]).float().mean())
    return {
        "epoch_time_s": (cpu_n - cpu1) / epochs,
        "epoch_wall_s": (wall_n - wall1) / epochs,
        "test_accuracy": accuracy,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--epochs", type=int, default=10, help="timed epochs per run")
    parser.add_argument("--methods", nargs="+", default=["gcn", "erase"], choices=["gcn", "erase"])
    parser.add_argument("--quick", action="store_true", help="write erase_scale.quick.json")
    args = parser.parse_args(argv)
    res = Results("erase_scale", quick=args.quick)
    for num_nodes in args.nodes:
        per_method = {}
        for method in args.methods:
            out, time_s, peak = run_isolated(run_one, method, num_nodes, args.epochs, threads=1)
            per_method[method] = out
            setting = {
                "num_nodes": num_nodes,
                "training": "full",
                "processes": 1,
                "threads": 1,
                "epochs": args.epochs,
                "noise": "pair",
                "rate": NOISE_RATE,
                "pair_target": "cyclic",
            }
            common = {"seeds": [0], "time_s": time_s, "peak_mem_mb": peak}
            for metric in ("epoch_time_s", "epoch_wall_s"):
                res.add("contextual_sbm", method, setting, metric, out[metric], **common)
            res.add("contextual_sbm", method, setting, "nodes_per_s", num_nodes / out["epoch_wall_s"], **common)
            res.add("contextual_sbm", method, setting, "peak_mem_mb", peak, **common)
            print(f"{method} N={num_nodes}: {out} peak {peak:.0f} MB", flush=True)
            if method == "erase" and "gcn" in per_method:
                ratio = out["epoch_time_s"] / per_method["gcn"]["epoch_time_s"]
                res.add("contextual_sbm", method, setting, "epoch_ratio_to_gcn", ratio, **common)
        path = res.write()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
