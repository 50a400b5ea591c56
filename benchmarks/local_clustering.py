"""Local clustering with noisy labels: F1 on five attributed graphs, and the locality (speed) benchmark.

Quality (``--part quality``): Amazon Photo, Amazon Computers, Coauthor CS, Coauthor Physics and Cora. Each class in
turn is the target K, seeded from the first min(S, |K|) nodes of the class (S = 100 in the full protocol,
``--seeds-per-class``); for each seed the source-mass multiple alpha in {1.5, 1.75, ..., 5} of lowest conductance is
kept (weighted conductance for the weighted variant). Label settings: independent flips with a0 = a1 in {0.7, 0.8,
0.9}, and a logistic regression trained on m in {10, 50} sampled nodes per side (predicted lazily: only for the nodes
the weighted diffusion touches). Methods: weighted_flow_diffusion (eps = 0.05, "agree"), flow_diffusion,
labels_only, acl_pagerank and weighted_acl_pagerank (grid alpha in {0.1, 0.05, 0.01} x rho in {1e-3, 1e-4, 1e-5},
lowest conductance of the sweep). A dataset's F1 is the mean over its classes of the per-class mean F1; the row
``dataset = "mean_5_datasets"`` is the plain mean over the datasets. Label-free methods repeat the same numbers under
every label setting so that the README table lines them up.

Locality (``--part locality``): planted partitions with n = 10^4 ... 10^7 nodes (int32 CSR from
``planted_partition_csr``, background degree 10, a 1000-node cluster with internal degree 10 and external degree 2),
flip labels a0 = a1 = 0.9, weighted flow diffusion with alpha = 2, tol = 1e-4, eps = 0.05, 50 passes of the paper's
push (``accelerate=False``);
``ms_per_seed`` is the median CPU time of the calling thread (``time.thread_time``) over the seeds after one
compilation call (graph construction excluded; the median wall time is stored beside it as ``median_wall_ms``; on a
machine shared with other jobs the wall time mostly measures waiting), ``touched_nodes`` the median number of
touched nodes.

Usage::

    GRAPHDIFF_DATA=/work/shared/datasets OMP_NUM_THREADS=1 python benchmarks/local_clustering.py
    python benchmarks/local_clustering.py --quick            # 3 seeds per class, n up to 10^6
    python benchmarks/local_clustering.py --seeds-per-class 10 --part quality
    python benchmarks/local_clustering.py --part quality --n-jobs 2   # the full protocol on 2 worker processes
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time

import numpy as np
import torch
from tqdm.auto import tqdm

import graphdiff.data as gd
from graphdiff.bench import Results, results_dir
from graphdiff.cluster import (
    DEFAULT_ALPHAS,
    DEFAULT_MAX_PASSES,
    LocalGraph,
    LogisticLabelOracle,
    as_local_graph,
    batch_local_cluster,
    flip_labels,
    flow_diffusion,
    precision_recall_f1,
)
from graphdiff.data.synthetic import planted_partition_csr

DATASETS = ("amazon_photo", "amazon_computers", "coauthor_cs", "coauthor_physics", "cora")
FLIP_ACCURACIES = (0.7, 0.8, 0.9)
CLASSIFIER_SAMPLES = (10, 50)
EPS = 0.05
SCHEME = "agree"
TOL = 1e-4
LOCALITY_MAX_PASSES = 50  # the locality rows measure the paper's push (accelerate=False) with WFD's cap
PR_ALPHAS = (0.1, 0.05, 0.01)
RHOS = (1e-3, 1e-4, 1e-5)


def _label_settings():
    for a in FLIP_ACCURACIES:
        yield {"labels": "flip", "a0": a, "a1": a}
    for m in CLASSIFIER_SAMPLES:
        yield {"labels": "classifier", "m": m}


def _key(setting):
    return json.dumps(setting, sort_keys=True)


def run_dataset(name: str, seeds_per_class: int, verbose: bool, label_seed: int = 0, n_jobs: int | None = None):
    """Per-class mean precision/recall/F1 of every (method, label setting) on one dataset."""
    data = gd.load(name)
    g = as_local_graph(data)
    y = data.y.numpy()
    num_classes = int(y.max()) + 1
    out = {}  # (method, setting key) -> {"f1": [per-class means], ...}
    status = {}  # (method, setting key) -> statuses of every run of the grid
    stats = {"labels_predicted_fraction": [], "wfd_touched_nodes": [], "fd_touched_nodes": []}
    t_start = time.perf_counter()
    bar = tqdm(total=num_classes, desc=name, disable=not verbose)
    for c in range(num_classes):
        in_target = y == c
        target = np.flatnonzero(in_target)
        vol_k = float(g.degree[target].sum())
        seeds = target[: min(seeds_per_class, target.size)]
        per = {}

        def add(method, setting, cluster):
            p, r, f = precision_recall_f1(cluster, target)  # noqa: B023 (called within this iteration)
            per.setdefault((method, _key(setting)), []).append((p, r, f))  # noqa: B023

        common = dict(
            target_volume=vol_k,
            alphas=DEFAULT_ALPHAS,
            tol=TOL,
            pagerank_alphas=PR_ALPHAS,
            rhos=RHOS,
            verbose=False,
            n_jobs=n_jobs,  # results identical to the sequential path, whatever the number of workers
        )

        def count(method, setting, results):
            # solver health over every run of the grid (each alpha / (alpha, rho) of each seed)
            st = status.setdefault((method, _key(setting)), [])
            for r in results:
                st.extend(c[3] for c in r.candidates)

        # label-free methods, once per seed
        fd = batch_local_cluster(g, seeds, method="flow_diffusion", **common)
        pr = batch_local_cluster(g, seeds, method="acl_pagerank", **common)
        stats["fd_touched_nodes"].extend(r.touched_nodes / len(DEFAULT_ALPHAS) for r in fd)
        for setting in _label_settings():
            count("flow_diffusion", setting, fd)
            count("acl_pagerank", setting, pr)
            for r_fd, r_pr in zip(fd, pr):
                add("flow_diffusion", setting, r_fd.cluster)
                add("acl_pagerank", setting, r_pr.cluster)
        for setting in _label_settings():
            draw = label_seed * 1000 + c
            if setting["labels"] == "flip":
                labels = flip_labels(torch.from_numpy(in_target), setting["a0"], setting["a1"], seed=draw)
                full = labels
            else:
                labels = LogisticLabelOracle(data.x, in_target, setting["m"], seed=draw)
                full = None
            # vol(G_w) with each seed labelled 1 is computed inside (full labels); an oracle uses vol_w(C)
            wfd = batch_local_cluster(
                g, seeds, method="weighted_flow_diffusion", labels=labels, eps=EPS, scheme=SCHEME, **common
            )
            stats["wfd_touched_nodes"].extend(r.touched_nodes / len(DEFAULT_ALPHAS) for r in wfd)
            count("weighted_flow_diffusion", setting, wfd)
            for r in wfd:
                add("weighted_flow_diffusion", setting, r.cluster)
            if full is None:
                if n_jobs is None:  # the workers' oracle copies did the predicting otherwise: not counted here
                    stats["labels_predicted_fraction"].append(labels.predicted / g.num_nodes)
                full = labels.predict_all()
            positives = np.flatnonzero(full == 1)
            wpr = batch_local_cluster(
                g, seeds, method="weighted_acl_pagerank", labels=full, eps=EPS, scheme=SCHEME, **common
            )
            count("weighted_acl_pagerank", setting, wpr)
            for s, r in zip(seeds, wpr):
                add("labels_only", setting, np.union1d(positives, [s]))
                add("weighted_acl_pagerank", setting, r.cluster)
        for key, vals in per.items():
            arr = np.asarray(vals)
            d = out.setdefault(key, {"precision": [], "recall": [], "f1": []})
            d["precision"].append(float(arr[:, 0].mean()))
            d["recall"].append(float(arr[:, 1].mean()))
            d["f1"].append(float(arr[:, 2].mean()))
        bar.update(1)
    bar.close()
    elapsed = time.perf_counter() - t_start
    return out, stats, elapsed, num_classes, status


def run_quality(res: Results, datasets, seeds_per_class: int, verbose: bool, n_jobs: int | None = None):
    per_dataset = {}
    for name in datasets:
        out, stats, elapsed, k, status = run_dataset(name, seeds_per_class, verbose, n_jobs=n_jobs)
        per_dataset[name] = out
        for (method, skey), sts in status.items():
            setting = dict(json.loads(skey), eps=EPS, seeds_per_class=seeds_per_class)
            for metric, which in (
                ("max_passes_fraction", ("max_passes", "max_pushes")),
                ("infeasible_fraction", ("infeasible",)),
            ):
                frac = float(np.mean([st in which for st in sts])) if sts else 0.0
                res.add(name, method, setting, metric, [frac], seeds=[0], runs=len(sts), tol=TOL,
                        max_passes=DEFAULT_MAX_PASSES)  # fmt: skip
        for (method, skey), metrics in out.items():
            setting = dict(json.loads(skey), eps=EPS, seeds_per_class=seeds_per_class)
            for metric, vals in metrics.items():
                res.add(
                    name,
                    method,
                    setting,
                    metric,
                    [float(np.mean(vals))],
                    seeds=[0],
                    per_class=[round(v, 4) for v in vals],
                    num_classes=k,
                    **(
                        {"dataset_wall_s": round(elapsed, 1)}
                        if metric == "f1" and method == "weighted_flow_diffusion"
                        else {}
                    ),
                )
        frac = stats["labels_predicted_fraction"]
        if verbose:
            print(
                f"{name}: {elapsed:.0f} s; classifier labels predicted for {np.mean(frac) if frac else 0:.1%} "
                f"of the nodes by the weighted diffusion; mean touched nodes per diffusion "
                f"WFD {np.mean(stats['wfd_touched_nodes']):.0f}, FD {np.mean(stats['fd_touched_nodes']):.0f}",
                flush=True,
            )
        if frac:
            res.add(
                name,
                "weighted_flow_diffusion",
                {"labels": "classifier", "eps": EPS, "seeds_per_class": seeds_per_class},
                "labels_predicted_fraction",
                frac,
                seeds=[0],
            )
    if len(per_dataset) > 1:
        keys = set.intersection(*(set(o) for o in per_dataset.values()))
        for method, skey in sorted(keys):
            setting = dict(json.loads(skey), eps=EPS, seeds_per_class=seeds_per_class)
            vals = [float(np.mean(per_dataset[d][(method, skey)]["f1"])) for d in per_dataset]
            res.add(
                f"mean_{len(per_dataset)}_datasets",
                method,
                setting,
                "f1",
                [float(np.mean(vals))],
                seeds=[0],
                per_dataset=dict(zip(per_dataset, [round(v, 4) for v in vals])),
            )


def run_locality(res: Results, sizes, num_seeds: int, verbose: bool):
    alpha = 2.0
    for n in sizes:
        t0 = time.perf_counter()
        indptr, indices, target = planted_partition_csr(
            int(n), cluster_size=1000, internal_degree=10.0, external_degree=2.0, background_degree=10.0, seed=0
        )
        g = LocalGraph(indptr, indices, validate=False)
        in_target = np.zeros(int(n), dtype=bool)
        in_target[target] = True
        labels = flip_labels(torch.from_numpy(in_target), 0.9, 0.9, seed=1)
        build_s = time.perf_counter() - t0
        vol_k = float(g.degree[target].sum())
        seeds = target[:num_seeds]
        # the paper's push alone (accelerate=False): the locality rows measure the method's own access pattern
        diffuse = functools.partial(
            flow_diffusion,
            g,
            source_mass=alpha * vol_k,
            labels=labels,
            eps=EPS,
            tol=TOL,
            max_passes=LOCALITY_MAX_PASSES,
            accelerate=False,
        )
        diffuse(int(seeds[0]))  # compiles the kernel outside the timed calls
        times, walls, touched, work, f1s, statuses = [], [], [], [], [], []
        for s in seeds:
            t_cpu, t_wall = time.thread_time(), time.perf_counter()
            r = diffuse(int(s))
            times.append(1000 * (time.thread_time() - t_cpu))
            walls.append(1000 * (time.perf_counter() - t_wall))
            touched.append(r.touched_nodes)
            work.append(r.work)
            f1s.append(precision_recall_f1(r.cluster, target)[2])
            statuses.append(r.status)
        setting = {
            "n": int(n),
            "avg_degree": round(g.volume / int(n), 2),
            "cluster_size": 1000,
            "alpha": alpha,
            "tol": TOL,
            "eps": EPS,
            "max_passes": LOCALITY_MAX_PASSES,
            "labels": "flip",
            "a0": 0.9,
            "a1": 0.9,
        }
        seeds_list = [int(s) for s in seeds]
        res.add(
            "planted_partition",
            "weighted_flow_diffusion",
            setting,
            "ms_per_seed",
            [float(np.median(times))],
            seeds=seeds_list,
            per_seed_ms=[round(t, 3) for t in times],
            statistic="median",
            clock="thread_time (CPU time of the calling thread; the machine is shared)",
            median_wall_ms=round(float(np.median(walls)), 3),
            build_s=round(build_s, 1),
        )
        res.add(
            "planted_partition",
            "weighted_flow_diffusion",
            setting,
            "touched_nodes",
            [float(np.median(touched))],
            seeds=seeds_list,
            statistic="median",
            median_edge_visits=float(np.median(work)),
            mean_f1=float(np.mean(f1s)),
            converged=int(sum(st == "converged" for st in statuses)),
        )
        if verbose:
            print(
                f"n={int(n):>9d}: {np.median(times):.2f} ms/seed CPU ({np.median(walls):.2f} wall, median of "
                f"{len(seeds)}), touched "
                f"{np.median(touched):.0f} nodes, {np.median(work):.0f} edge visits, F1 {np.mean(f1s):.3f}, "
                f"build {build_s:.0f} s",
                flush=True,
            )
        del g, indptr, indices, labels, in_target


def run_scaling(res: Results, num_seeds: int, repeats: int, verbose: bool, rho: float = 1e-4):
    """Seeds per second of batch_local_cluster on Coauthor Physics, sequential (workers 1) and n_jobs=2 (workers 2).

    ACL PageRank at one grid point (alpha 0.05, rho from ``--scaling-rho``) and a sweep per seed: a cheap method, so
    that >= 5,000 seeds x 3 repeats x 2 settings fit in minutes. The worker pool is started once by a warm-up call
    (its wall time is stored as ``pool_start_s``) and kept across calls, as ``batch_local_cluster`` keeps it; sharing
    the CSR (shared memory, attached once per worker and call) is inside the timed calls. Repeats alternate the two
    settings; the median is reported.
    """
    import os

    data = gd.load("coauthor_physics")
    g = as_local_graph(data)
    y = data.y.numpy()
    per = -(-num_seeds // (int(y.max()) + 1))
    seeds = np.concatenate([np.flatnonzero(y == c)[:per] for c in range(int(y.max()) + 1)])[:num_seeds]
    kw = dict(method="acl_pagerank", pagerank_alphas=(0.05,), rhos=(rho,), verbose=False)
    batch_local_cluster(g, seeds[:20], **kw)  # compile / warm the caches
    t0 = time.perf_counter()
    batch_local_cluster(g, seeds[:20], n_jobs=2, **kw)  # starts the worker pool, kept for the timed calls
    pool_start_s = time.perf_counter() - t0
    times = {1: [], 2: []}
    outs = {}
    loads = []
    for _ in range(repeats):
        for workers in (1, 2):
            loads.append(os.getloadavg()[0])
            t0 = time.perf_counter()
            out = batch_local_cluster(g, seeds, n_jobs=None if workers == 1 else workers, **kw)
            times[workers].append(time.perf_counter() - t0)
            outs.setdefault(workers, out)
    identical = all(
        np.array_equal(a.cluster, b.cluster) and a.conductance == b.conductance for a, b in zip(outs[1], outs[2])
    )
    med = {w: float(np.median(t)) for w, t in times.items()}
    for workers in (1, 2):
        res.add(
            "coauthor_physics",
            "acl_pagerank",
            {"workers": workers, "alpha": 0.05, "rho": rho, "num_seeds": int(seeds.size),
             "executor": "none" if workers == 1 else "n_jobs"},
            "seeds_per_s",
            [seeds.size / t for t in times[workers]],
            seeds=[0],
            statistic="median of repeats in median_seeds_per_s; mean/std over repeats",
            median_seeds_per_s=round(seeds.size / med[workers], 1),
            wall_s=[round(t, 2) for t in times[workers]],
            identical_to_sequential=bool(identical),
            speedup_vs_workers_1=round(med[1] / med[workers], 3),
            load_average_1min=[round(v, 2) for v in loads],
            pool_start_s=round(pool_start_s, 2) if workers == 2 else 0.0,
        )  # fmt: skip
    if verbose:
        print(f"seeds/s: workers 1 {seeds.size / med[1]:.1f}, workers 2 {seeds.size / med[2]:.1f} "
              f"(speedup {med[1] / med[2]:.2f}x, identical {identical}); load {loads}", flush=True)  # fmt: skip


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="3 seeds per class, n up to 10^6, writes .quick.json")
    ap.add_argument("--part", choices=("quality", "locality", "scaling", "all"), default="all")
    ap.add_argument("--scaling-seeds", type=int, default=5000)
    ap.add_argument("--scaling-repeats", type=int, default=3)
    ap.add_argument("--scaling-rho", type=float, default=1e-4)
    ap.add_argument("--seeds-per-class", type=int, default=None, help="default 100 (3 with --quick)")
    ap.add_argument("--datasets", nargs="+", default=list(DATASETS))
    ap.add_argument(
        "--n-jobs", type=int, default=None, help="worker processes of the quality part (batch_local_cluster n_jobs)"
    )
    ap.add_argument("--sizes", nargs="+", type=float, default=None, help="locality graph sizes")
    ap.add_argument("--locality-seeds", type=int, default=20)
    ap.add_argument(
        "--merge", action="store_true", help="keep the rows of the other part from an existing results file"
    )
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    verbose = not args.quiet
    spc = args.seeds_per_class or (3 if args.quick else 100)
    sizes = args.sizes or ([1e4, 1e5, 1e6] if args.quick else [1e4, 1e5, 1e6, 1e7])
    res = Results("local_clustering", quick=args.quick)
    if args.part in ("quality", "all"):
        run_quality(res, args.datasets, spc, verbose, n_jobs=args.n_jobs)
    if args.part in ("locality", "all"):
        run_locality(res, sizes, args.locality_seeds, verbose)
    if args.part in ("scaling", "all"):
        run_scaling(res, args.scaling_seeds, args.scaling_repeats, verbose, rho=args.scaling_rho)
    if args.merge:
        path = results_dir() / ("local_clustering.quick.json" if args.quick else "local_clustering.json")
        if path.exists():
            old = json.loads(path.read_text())
            mine = {
                "quality": lambda r: r["dataset"] != "planted_partition" and r["metric"] != "seeds_per_s",
                "locality": lambda r: r["dataset"] == "planted_partition",
                "scaling": lambda r: r["metric"] == "seeds_per_s" and r["setting"].get("rho") == args.scaling_rho,
            }
            keep = [r for r in old["rows"] if args.part != "all" and not mine[args.part](r)]
            res.rows = keep + res.rows
            res.command = old.get("command", "") + " && " + res.command if keep else res.command
    path = res.write()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
