"""Device check (issue 19): every method's accelerator path runs a small but real configuration on ``--device`` and
on CPU, and the two are compared.

Checks (``--checks``, all by default), each run once on the checked device and once on CPU (the reference):

* ``erase`` -- ERASE full batch on Cora (pair noise 0.3 on the training and validation labels, 50 epochs, Cora's
  preset): test accuracy of both fits (``abs_diff_test_accuracy``; dropout draws come from each device's own random
  stream, so only statistical agreement is expected) and, the strict part, one forward pass of a freshly seeded
  ERASE encoder (identical weights on both devices, eval mode, the CSR attention) and the MCR^2 gradient through it
  (``max_abs_diff_embedding``, ``rel_diff_encoder_grad``). ``embed_on_device`` is the CUDA test that the suite skips
  on machines without a GPU (``tests/test_erase.py::test_erase_on_cuda``): the fitted model's embeddings live on the
  checked device.
* ``gcn`` -- the GCN baseline on the same data and noise (``abs_diff_test_accuracy``).
* ``coding_rate`` -- ``mcr2_loss`` (R, R_c) and its gradient on random float32 inputs (``rel_diff_loss``,
  ``rel_diff_grad``), with the float64 CPU value as a yardstick.
* ``bp`` -- BP for label proportions on 10^6 synthetic rows (``logistic_data``, 16 features; similarity pairs:
  ``k = 5`` random partners per row with Matern weights, not a kNN graph, see :func:`bp_problem`; bags of 64),
  ``bag_factor="exact"`` and ``"gaussian"``: ``max_abs_diff_marginals`` (float64 on both), iterations, BP time.
* ``cluster`` -- ``batched_flow_diffusion`` on Coauthor CS for 1,000 seed nodes (source mass twice the volume of the
  seed's class, tol 1e-4) on the checked device, against the CPU push (``flow_diffusion``, same tol):
  ``mean_support_jaccard`` and ``max_x_outside_common_support`` (the largest dual value on a node that only one of
  the two supports holds; both solvers stop within ``tol``, so a mismatch on nodes with x below ``10 tol`` is the
  tolerance, not a bug); ``seeds_per_s`` of both.
* ``scene`` -- EchoScene (default network) trained 200 steps on 400 SynthFront rooms on each device: the loss
  curves (``loss_curve_rel_diff``: mean absolute per-step difference over the mean loss; the diffusion noise is drawn
  on CPU, so both devices see the same noise); then the CPU-trained model is saved, loaded on the checked device and
  100 scenes are sampled at 50 DDIM steps on both (``max_abs_diff_boxes``, normalised boxes); ``scenes_per_s``.
* ``erase_minibatch`` -- mini-batch ERASE on a 10^6-node contextual SBM: pending until ``ERASE`` has ``batch_size``;
  until then the results file carries a ``check_skipped`` row with the reason (and the script prints it).

Every comparison row carries its ``tolerance`` and ``passed``; the exit status is 1 when one fails (after the file
is written), 2 when ``--device`` is not available. ``--device cpu`` compares CPU with CPU (a determinism check: the
differences must be zero or at rounding level). ``time_s`` is the wall time of the checked side, ``cpu_time_s`` that
of the CPU side; ``peak_mem_mb`` the peak resident memory of the side's process (each side runs in a fresh process,
:func:`graphdiff.bench.run_isolated`, unless ``--no-isolate``; ``--quick`` runs in-process, so its memory is the
process's running peak) and, on CUDA, ``peak_device_mem_mb`` the peak of ``torch.cuda.max_memory_allocated``.

``--quick`` (part of ``make test``, under a minute on CPU) runs every check on small synthetic stand-ins (a
contextual SBM for Cora, a planted partition for Coauthor CS, 2*10^4 BP rows, a few training steps) and writes
``device_check.quick.json``.

Usage::

    GRAPHDIFF_DATA=/work/shared/datasets python benchmarks/device_check.py --device cuda   # make device-check
    python benchmarks/device_check.py --device cpu --threads 1                             # the committed CPU run
    python benchmarks/device_check.py --device cpu --quick --out /tmp/dc                   # the suite's run
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from graphdiff.bench import Results, peak_rss_mb, results_dir, run_isolated  # noqa: E402

BENCH = "device_check"
CHECKS = ("erase", "gcn", "coding_rate", "bp", "cluster", "scene", "erase_minibatch")

#: the full configuration (the issue's) and the quick stand-ins of the test suite
FULL = {
    "graph": "cora",
    "erase_epochs": 50,
    "gcn_epochs": 200,
    "noise_rate": 0.3,
    "cr_rows": 4096,
    "cr_dim": 128,
    "cr_classes": 7,
    "bp_rows": 1_000_000,
    "bp_bag": 64,
    "bp_k": 5,
    "cluster_graph": "coauthor_cs",
    "cluster_seeds": 1000,
    "scene_train": 400,
    "scene_steps": 200,
    "scene_samples": 100,
    "scene_ddim": 50,
    "sbm_nodes": 1_000_000,
}
QUICK = {
    "graph": "contextual_sbm",
    "erase_epochs": 6,
    "gcn_epochs": 20,
    "noise_rate": 0.3,
    "cr_rows": 512,
    "cr_dim": 32,
    "cr_classes": 5,
    "bp_rows": 20_000,
    "bp_bag": 64,
    "bp_k": 5,
    "cluster_graph": "planted_partition",
    "cluster_seeds": 20,
    "scene_train": 24,
    "scene_steps": 8,
    "scene_samples": 6,
    "scene_ddim": 5,
    "sbm_nodes": 2000,
}
#: the small ERASE encoder of the quick run (the full run uses the library defaults, as Cora's preset does)
QUICK_ERASE = {"hidden_channels": 32, "out_channels": 32, "heads": 4}

#: comparison metric -> (tolerance, "max": value <= tol passes / "min": value >= tol passes), and why
TOLERANCES = {
    # dropout draws differ between devices (the initialisation does not: it is drawn on CPU); on CPU, five seeds of
    # the full configuration (initialisation and dropout, the same noisy labels) span 0.035 (ERASE, std 0.013) and
    # 0.015 (GCN) of test accuracy on Cora, so 0.05 is about four of ERASE's standard deviations
    "abs_diff_test_accuracy": (0.05, "max"),
    "max_abs_diff_embedding": (1e-4, "max"),  # float32 forward pass, identical weights (embeddings are <= 1)
    "rel_diff_encoder_grad": (1e-3, "max"),  # float32 backward through the attention and the coding rate
    "embed_on_device": (1.0, "min"),  # the skipped CUDA test of tests/test_erase.py
    "rel_diff_loss": (1e-4, "max"),  # float32 Gram products, float64 factorisation on both
    "rel_diff_grad": (1e-3, "max"),
    "max_abs_diff_marginals": (1e-6, "max"),  # float64 messages; only the summation order differs
    "abs_diff_iterations": (1.0, "max"),
    "mean_support_jaccard": (0.999, "min"),
    "loss_curve_rel_diff": (0.05, "max"),  # float32 training drift over the steps, same noise
    "max_abs_diff_boxes": (1e-3, "max"),  # 50 deterministic DDIM steps of the same weights, float32
}


# ----------------------------------------------------------------------------------------------- small helpers
def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def _reset_device_mem(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.reset_peak_memory_stats()


def _device_mem(device: str) -> float | None:
    if str(device).startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return None


def _finish(device: str, out: dict, t0: float) -> dict:
    """Stamp a side's result with its wall time (after a device sync) and memory peaks."""
    _sync(device)
    out.setdefault("time_s", time.perf_counter() - t0)
    out["peak_mem_mb"] = peak_rss_mb()
    out["peak_device_mem_mb"] = _device_mem(device)
    return out


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |b| (0 when both are zero)."""
    a, b = a.double().flatten(), b.double().flatten()
    scale = float(b.abs().max()) if b.numel() else 0.0
    diff = float((a - b).abs().max()) if b.numel() else 0.0
    return diff / scale if scale > 0 else diff


def _graph_data(cfg: dict):
    """The node-classification graph, its splits and the pair-noise labels (CPU, deterministic)."""
    from graphdiff.data import noise, splits, synthetic

    if cfg["graph"] == "contextual_sbm":
        data = synthetic.contextual_sbm(
            num_nodes=600, num_classes=4, avg_degree=8, num_features=64, num_train_per_class=20, seed=0
        )
        train, val, test = data.train_mask, data.val_mask, data.test_mask
    else:
        import graphdiff.data as gd

        data = gd.load(cfg["graph"], normalize_features=True)  # as the reference code and the ERASE benchmark
        train, val, test = splits.public_split(data)
    k = int(data.y.max()) + 1
    noisy = noise.corrupt_labels(
        data.y, "pair", cfg["noise_rate"], num_classes=k, mask=train | val, seed=0, target="cyclic"
    )
    return data, noisy.y_noisy, train, val, test, k


def _test_accuracy(model, data, test) -> float:
    pred = model.predict().cpu()
    return float((pred[test] == data.y[test]).double().mean())


# ----------------------------------------------------------------------------------------------- the sides
def side_erase(device: str, cfg: dict, threads: int | None = None) -> dict:
    """ERASE on ``device``: a full-batch fit, then one forward/backward pass of a freshly seeded encoder."""
    from graphdiff.erase import ERASE, ERASEEncoder
    from graphdiff.nn.coding_rate import mcr2_loss
    from graphdiff.nn.sparse_attention import CSRGraph

    _set_threads(threads)
    data, y_noisy, train, val, test, k = _graph_data(cfg)
    quick = cfg["graph"] == "contextual_sbm"
    widths = QUICK_ERASE if quick else {}
    _reset_device_mem(device)
    t0 = time.perf_counter()
    common = dict(epochs=cfg["erase_epochs"], seed=0, device=device, verbose=False, **widths)
    model = ERASE.from_preset("cora", **common) if not quick else ERASE(**common)
    model.fit(data, y_noisy, train, val)
    _sync(device)
    fit_s = time.perf_counter() - t0
    out = {
        "test_accuracy": _test_accuracy(model, data, test),
        "losses": [float(h["loss"]) for h in model.history_],
        "embed_on_device": float(model.embed().device.type == torch.device(device).type),
        "fit_s": fit_s,
    }
    # the strict part: identical weights (seeded CPU initialisation, then moved), eval mode, the same input
    torch.manual_seed(0)
    enc = ERASEEncoder(
        data.num_features,
        hidden_channels=model.hidden_channels,
        out_channels=model.out_channels,
        heads=model.heads,
        dropout=0.0,
    )
    enc = enc.to(device).eval()
    x = data.x.to(device)
    ei = data.edge_index.to(device)
    graph = CSRGraph.from_edge_index(ei, data.num_nodes, self_loops=True)
    z = enc(x, ei, graph)
    loss = mcr2_loss(z, y_noisy.to(device), num_classes=k)
    loss.backward()
    out["embedding"] = z.detach().cpu()
    out["encoder_grad"] = torch.cat([p.grad.detach().flatten().cpu() for p in enc.parameters() if p.grad is not None])
    return _finish(device, out, t0)


def side_gcn(device: str, cfg: dict, threads: int | None = None) -> dict:
    """The GCN baseline on ``device``."""
    from graphdiff.erase import GCN

    _set_threads(threads)
    data, y_noisy, train, val, test, _ = _graph_data(cfg)
    _reset_device_mem(device)
    t0 = time.perf_counter()
    model = GCN(epochs=cfg["gcn_epochs"], seed=0, device=device, verbose=False).fit(data, y_noisy, train, val)
    out = {"test_accuracy": _test_accuracy(model, data, test), "losses": [float(h["loss"]) for h in model.history_]}
    return _finish(device, out, t0)


def side_coding_rate(device: str, cfg: dict, threads: int | None = None) -> dict:
    """``mcr2_loss`` and its gradient on seeded random float32 inputs (also in float64 on CPU, as a yardstick)."""
    from graphdiff.nn.coding_rate import mcr2_loss

    _set_threads(threads)
    gen = torch.Generator().manual_seed(0)
    z0 = torch.rand(cfg["cr_rows"], cfg["cr_dim"], generator=gen)
    labels = torch.randint(0, cfg["cr_classes"], (cfg["cr_rows"],), generator=gen)
    out = {}
    _reset_device_mem(device)
    t0 = time.perf_counter()
    repeats = 5
    for _ in range(repeats):
        z = z0.to(device, copy=True).requires_grad_(True)
        loss, r, r_c = mcr2_loss(z, labels.to(device), num_classes=cfg["cr_classes"], return_parts=True)
        loss.backward()
    _sync(device)
    out["time_s"] = (time.perf_counter() - t0) / repeats
    out.update(loss=float(loss.detach()), rate=float(r.detach()), compress_rate=float(r_c.detach()))
    out["grad"] = z.grad.detach().cpu()
    if device == "cpu":
        z64 = z0.double().requires_grad_(True)
        loss64 = mcr2_loss(z64, labels, num_classes=cfg["cr_classes"])
        loss64.backward()
        out.update(loss64=float(loss64.detach()), grad64=z64.grad.detach())
    return _finish(device, out, t0)


def bp_problem(cfg: dict):
    """The synthetic BP problem (CPU, deterministic): rows, similarity pairs and weights, bags.

    The pairs are ``k`` random partners per row (not a kNN graph: an exact one of 10^6 rows costs minutes on CPU),
    with the Matern weights of :func:`graphdiff.nn.knn_graph.knn_graph`'s default weighting."""
    from graphdiff.data.bags import random_bags
    from graphdiff.data.synthetic import logistic_data
    from graphdiff.nn.knn_graph import edge_weights

    n, k = cfg["bp_rows"], cfg["bp_k"]
    X, y = logistic_data(n, 16, 0.3, seed=0)
    src = torch.arange(n).repeat_interleave(k)
    dst = torch.randint(0, n, (n * k,), generator=torch.Generator().manual_seed(1))
    keep = src != dst
    key = torch.unique(torch.minimum(src[keep], dst[keep]) * n + torch.maximum(src[keep], dst[keep]))
    edge_index = torch.stack([key // n, key % n])
    weight = edge_weights(X, edge_index, "matern")
    bags = random_bags(y, cfg["bp_bag"], seed=0)
    return edge_index, weight, bags


def side_bp(device: str, cfg: dict, mode: str, threads: int | None = None) -> dict:
    """``llp_marginals`` with ``bag_factor=mode`` on ``device`` (problem built on CPU, transfers timed)."""
    from graphdiff.llp import llp_marginals

    _set_threads(threads)
    edge_index, weight, bags = bp_problem(cfg)
    _reset_device_mem(device)
    t0 = time.perf_counter()
    res = llp_marginals(
        cfg["bp_rows"], edge_index, weight, bags, lam_s=1.0, lam_b=1.0, bag_factor=mode, damping=0.5, tol=1e-4,
        max_iter=100, device=device,
    )  # fmt: skip
    _sync(device)
    out = {
        "bp_time_s": time.perf_counter() - t0,
        "marginals": res.marginals.detach().cpu(),
        "iterations": int(res.iterations),
        "converged": bool(res.converged),
        "marginals_device": res.marginals.device.type,
    }
    return _finish(device, out, t0)


def cluster_problem(cfg: dict):
    """The graph, the seed nodes and their source masses (twice the volume of the seed's class)."""
    from graphdiff.cluster import as_local_graph

    if cfg["cluster_graph"] == "planted_partition":
        from graphdiff.data.synthetic import planted_partition

        data = planted_partition(3000, cluster_size=300, seed=0)
    else:
        import graphdiff.data as gd

        data = gd.load(cfg["cluster_graph"])
    g = as_local_graph(data)
    y = np.asarray(data.y)
    vol = np.bincount(y, weights=np.asarray(g.degree, dtype=np.float64))
    # seed nodes of the classes that hold at most a quarter of the volume (so that the mass fits in the sinks)
    pool = np.flatnonzero(vol[y] <= vol.sum() / 4)
    seeds = np.sort(np.random.default_rng(0).choice(pool, cfg["cluster_seeds"], replace=False))
    return g, seeds, 2.0 * vol[y[seeds]]


CLUSTER_TOL = 1e-4


def side_cluster_batched(device: str, cfg: dict, threads: int | None = None) -> dict:
    """``batched_flow_diffusion`` for every seed on ``device`` (in chunks of 250 columns on CPU)."""
    from graphdiff.cluster import batched_flow_diffusion

    _set_threads(threads)
    g, seeds, mass = cluster_problem(cfg)
    chunk = seeds.size if str(device).startswith("cuda") else 250
    supports, values, iterations, converged = [], [], [], []
    _reset_device_mem(device)
    t0 = time.perf_counter()
    for start in range(0, seeds.size, chunk):
        res = batched_flow_diffusion(
            g, seeds[start : start + chunk], mass[start : start + chunk], tol=CLUSTER_TOL, device=device
        )
        x = res.x.cpu()
        for col in range(x.size(1)):
            idx = torch.nonzero(x[:, col] > 0).flatten()
            supports.append(idx.numpy())
            values.append(x[idx, col].numpy())
        iterations.append(int(res.iterations))
        converged.append(bool(res.converged.all()))
    _sync(device)
    out = {
        "solve_s": time.perf_counter() - t0,
        "supports": supports,
        "values": values,
        "iterations": max(iterations),
        "converged": all(converged),
    }
    return _finish(device, out, t0)


def side_cluster_push(cfg: dict, threads: int | None = None) -> dict:
    """The CPU push (``flow_diffusion``) for every seed: the reference."""
    from graphdiff.cluster import flow_diffusion

    _set_threads(threads)
    g, seeds, mass = cluster_problem(cfg)
    supports, values, statuses = [], [], []
    t0 = time.perf_counter()
    for s, m in zip(seeds, mass):
        res = flow_diffusion(g, int(s), float(m), tol=CLUSTER_TOL, max_passes=100_000)
        keep = res.x > 0
        order = np.argsort(res.nodes[keep])
        supports.append(res.nodes[keep][order])
        values.append(res.x[keep][order])
        statuses.append(res.status)
    out = {
        "solve_s": time.perf_counter() - t0,
        "supports": supports,
        "values": values,
        "converged": all(s == "converged" for s in statuses),
    }
    return _finish("cpu", out, t0)


def _scene_model(device: str, cfg: dict):
    from graphdiff.scene import EchoScene

    return EchoScene(steps=cfg["scene_steps"], device=device, seed=0, verbose=False)


def side_scene(device: str, cfg: dict, path: str, threads: int | None = None) -> dict:
    """EchoScene trained on ``device``; on CPU the model is saved to ``path``, on the checked device the CPU model
    is loaded from ``path``; the scenes are sampled from the CPU-trained weights on both."""
    from graphdiff.data import scenes
    from graphdiff.scene import EchoScene

    _set_threads(threads)
    train = scenes.generate_scenes(cfg["scene_train"], seed=0)
    graphs = scenes.generate_scenes(cfg["scene_samples"], seed=1)
    _reset_device_mem(device)
    t0 = time.perf_counter()
    model = _scene_model(device, cfg).fit(train)
    _sync(device)
    train_s = time.perf_counter() - t0
    reference = path if not os.path.exists(path) else None
    if reference is not None:  # the CPU side runs first and leaves its model
        model.save(path)
        sampler = model
    else:
        sampler = EchoScene.load(path, device=device)
    t1 = time.perf_counter()
    rooms = sampler.sample(graphs, num_steps=cfg["scene_ddim"], seed=0, batch_size=cfg["scene_samples"])
    _sync(device)
    sample_s = time.perf_counter() - t1
    out = {
        "losses": [float(v) for v in model.history_],
        "train_s": train_s,
        "sample_s": sample_s,
        "scenes_per_s": len(rooms) / sample_s,
        "boxes": np.concatenate([r.extra["box_normalized"] for r in rooms]),
    }
    return _finish(device, out, t0)


def side_erase_minibatch(device: str, cfg: dict, threads: int | None = None) -> dict:
    """Mini-batch ERASE on a contextual SBM (only once ``ERASE`` takes ``batch_size``)."""
    from graphdiff.data import noise, synthetic
    from graphdiff.erase import ERASE

    _set_threads(threads)
    data = synthetic.contextual_sbm(cfg["sbm_nodes"], num_classes=4, avg_degree=10, num_features=32, seed=0)
    noisy = noise.pair_noise(data.y, 0.3, num_classes=4, mask=data.train_mask | data.val_mask, seed=0).y_noisy
    _reset_device_mem(device)
    t0 = time.perf_counter()
    model = ERASE(batch_size=1024, epochs=3, seed=0, device=device, verbose=False)
    model.fit(data, noisy, data.train_mask, data.val_mask)
    return _finish(device, {"test_accuracy": _test_accuracy(model, data, data.test_mask)}, t0)


def erase_minibatch_pending() -> str | None:
    """The reason the mini-batch ERASE check cannot run yet, or None when it can."""
    from graphdiff.erase import ERASE

    if "batch_size" not in inspect.signature(ERASE).parameters:
        return "ERASE has no `batch_size` parameter yet (mini-batch training is pending); check not run"
    return None


def _set_threads(threads: int | None) -> None:
    if threads is not None:
        torch.set_num_threads(threads)


# ----------------------------------------------------------------------------------------------- the driver
class _Runner:
    """Runs a side in a fresh process (``isolate``) or in this one."""

    def __init__(self, isolate: bool, threads: int | None):
        self.isolate, self.threads = isolate, threads

    def __call__(self, fn, *args):
        if self.isolate:
            result, _, _ = run_isolated(fn, *args, threads=self.threads)
            return result
        return fn(*args, self.threads)


def _verdict(metric: str, value: float) -> tuple[float, bool]:
    tol, kind = TOLERANCES[metric]
    return tol, (value <= tol) if kind == "max" else (value >= tol)


class Check:
    """Collects the rows of one run and the verdict of every comparison."""

    def __init__(self, results: Results, device: str):
        self.results, self.device = results, device
        self.failed: list[str] = []
        self.skipped: list[str] = []

    def compare(self, dataset, method, setting, metric, value, dev: dict, ref: dict, **extra):
        tol, ok = _verdict(metric, float(value))
        row_setting = {**setting, "device": self.device, "reference": "cpu"}
        self.results.add(
            dataset, method, row_setting, metric, float(value), seeds=[0], time_s=dev["time_s"],
            peak_mem_mb=dev["peak_mem_mb"], tolerance=tol, passed=bool(ok), cpu_time_s=ref["time_s"],
            cpu_peak_mem_mb=ref["peak_mem_mb"], **({"peak_device_mem_mb": dev["peak_device_mem_mb"]}
                                                    if dev.get("peak_device_mem_mb") is not None else {}), **extra,
        )  # fmt: skip
        status = "ok" if ok else "FAILED"
        print(f"  {status:6s} {method:16s} {metric:30s} {float(value):.3g} (tolerance {tol:g})", flush=True)
        if not ok:
            self.failed.append(f"{method} {metric}={float(value):.3g} (tolerance {tol:g})")

    def value(self, dataset, method, setting, role_device, metric, value, side: dict | None = None):
        """A plain measurement of one side (``role``: "checked" on the checked device, "reference" on CPU)."""
        role = "checked" if role_device == "checked" else "reference"
        device = self.device if role == "checked" else "cpu"
        kwargs = {}
        if side is not None:
            kwargs = {"time_s": side["time_s"], "peak_mem_mb": side["peak_mem_mb"]}
        self.results.add(dataset, method, {**setting, "device": device, "role": role}, metric, value, seeds=[0],
                         **kwargs)  # fmt: skip

    def skip(self, dataset, method, setting, reason: str):
        self.results.add(
            dataset, method, {**setting, "device": self.device}, "check_skipped", 1.0, seeds=None, skipped=reason
        )
        print(f"  skipped: {method} on {dataset}: {reason}", flush=True)
        self.skipped.append(f"{method}: {reason}")


def run_checks(device: str, cfg: dict, checks, runner: _Runner, results: Results) -> Check:
    chk = Check(results, device)
    graph = cfg["graph"]
    if "erase" in checks:
        print("erase ...", flush=True)
        dev, ref = runner(side_erase, device, cfg), runner(side_erase, "cpu", cfg)
        s = {"noise": "pair", "rate": cfg["noise_rate"], "epochs": cfg["erase_epochs"], "training": "full"}
        acc_diff = abs(dev["test_accuracy"] - ref["test_accuracy"])
        chk.compare(graph, "erase", s, "abs_diff_test_accuracy", acc_diff, dev, ref)
        chk.compare(graph, "erase", {"part": "encoder_pass"}, "max_abs_diff_embedding",
                    float((dev["embedding"] - ref["embedding"]).abs().max()), dev, ref)  # fmt: skip
        chk.compare(graph, "erase", {"part": "encoder_pass"}, "rel_diff_encoder_grad",
                    _rel(dev["encoder_grad"], ref["encoder_grad"]), dev, ref)  # fmt: skip
        chk.compare(graph, "erase", {"part": "fit"}, "embed_on_device", dev["embed_on_device"], dev, ref)
        for role, side in (("checked", dev), ("reference", ref)):
            chk.value(graph, "erase", s, role, "test_accuracy", side["test_accuracy"], side)
    if "gcn" in checks:
        print("gcn ...", flush=True)
        dev, ref = runner(side_gcn, device, cfg), runner(side_gcn, "cpu", cfg)
        s = {"noise": "pair", "rate": cfg["noise_rate"], "epochs": cfg["gcn_epochs"]}
        chk.compare(graph, "gcn", s, "abs_diff_test_accuracy", abs(dev["test_accuracy"] - ref["test_accuracy"]),
                    dev, ref)  # fmt: skip
        for role, side in (("checked", dev), ("reference", ref)):
            chk.value(graph, "gcn", s, role, "test_accuracy", side["test_accuracy"], side)
    if "coding_rate" in checks:
        print("coding_rate ...", flush=True)
        dev, ref = runner(side_coding_rate, device, cfg), runner(side_coding_rate, "cpu", cfg)
        s = {"rows": cfg["cr_rows"], "dim": cfg["cr_dim"], "classes": cfg["cr_classes"], "dtype": "float32"}
        chk.compare("random", "mcr2_loss", s, "rel_diff_loss", abs(dev["loss"] - ref["loss"]) / abs(ref["loss"]),
                    dev, ref, float64_rel_diff=abs(ref["loss"] - ref["loss64"]) / abs(ref["loss64"]))  # fmt: skip
        chk.compare("random", "mcr2_loss", s, "rel_diff_grad", _rel(dev["grad"], ref["grad"]), dev, ref,
                    float64_rel_diff=_rel(ref["grad"], ref["grad64"]))  # fmt: skip
    if "bp" in checks:
        for mode in ("exact", "gaussian"):
            print(f"bp ({mode}) ...", flush=True)
            dev, ref = runner(side_bp, device, cfg, mode), runner(side_bp, "cpu", cfg, mode)
            s = {"rows": cfg["bp_rows"], "bag_size": cfg["bp_bag"], "k": cfg["bp_k"], "lam_s": 1.0, "lam_b": 1.0,
                 "damping": 0.5, "tol": 1e-4, "graph": "random_pairs"}  # fmt: skip
            ds = "synthetic_logistic"
            diff = float((dev["marginals"] - ref["marginals"]).abs().max())
            chk.compare(ds, f"bp_{mode}", s, "max_abs_diff_marginals", diff, dev, ref,
                        marginals_device=dev["marginals_device"])  # fmt: skip
            chk.compare(ds, f"bp_{mode}", s, "abs_diff_iterations", abs(dev["iterations"] - ref["iterations"]),
                        dev, ref)  # fmt: skip
            for role, side in (("checked", dev), ("reference", ref)):
                chk.value(ds, f"bp_{mode}", s, role, "bp_time_s", side["bp_time_s"], side)
                chk.value(ds, f"bp_{mode}", s, role, "bp_iterations", float(side["iterations"]))
                chk.value(ds, f"bp_{mode}", s, role, "bp_converged", float(side["converged"]))
    if "cluster" in checks:
        print("cluster ...", flush=True)
        dev = runner(side_cluster_batched, device, cfg)
        ref = runner(side_cluster_push, cfg)
        jac, equal, worst = [], 0, 0.0
        for sd, vd, sr, vr in zip(dev["supports"], dev["values"], ref["supports"], ref["values"]):
            inter = np.intersect1d(sd, sr, assume_unique=True)
            union = np.union1d(sd, sr)
            jac.append(inter.size / max(union.size, 1))
            equal += int(inter.size == union.size)
            for nodes, vals in ((sd, vd), (sr, vr)):
                only = ~np.isin(nodes, inter, assume_unique=True)
                if only.any():
                    worst = max(worst, float(vals[only].max()))
        ds = cfg["cluster_graph"]
        s = {"seeds": cfg["cluster_seeds"], "source_mass": "2 vol(class of seed)", "tol": CLUSTER_TOL}
        chk.compare(ds, "flow_diffusion", s, "mean_support_jaccard", float(np.mean(jac)), dev, ref,
                    equal_support_fraction=equal / len(jac), max_x_outside_common_support=worst,
                    explained_by_tolerance=bool(worst <= 10 * CLUSTER_TOL), batched_iterations=dev["iterations"],
                    batched_converged=dev["converged"], push_converged=ref["converged"])  # fmt: skip
        if worst > 10 * CLUSTER_TOL:
            chk.failed.append(f"flow_diffusion: a node with x={worst:.3g} > 10 tol is in one support only")
        for role, side, solver in (("checked", dev, "batched"), ("reference", ref, "push")):
            chk.value(ds, "flow_diffusion", {**s, "solver": solver}, role, "seeds_per_s",
                      cfg["cluster_seeds"] / side["solve_s"], side)  # fmt: skip
    if "scene" in checks:
        print("scene ...", flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "echoscene_cpu.pt")
            ref = runner(side_scene, "cpu", cfg, path)
            dev = runner(side_scene, device, cfg, path)
        s = {"train_scenes": cfg["scene_train"], "steps": cfg["scene_steps"], "sampler": "ddim",
             "sample_steps": cfg["scene_ddim"], "scenes": cfg["scene_samples"]}  # fmt: skip
        ld, lr = np.asarray(dev["losses"]), np.asarray(ref["losses"])
        chk.compare("synthfront", "echo", s, "loss_curve_rel_diff", float(np.abs(ld - lr).mean() / np.abs(lr).mean()),
                    dev, ref, final_loss=float(ld[-10:].mean()), cpu_final_loss=float(lr[-10:].mean()))  # fmt: skip
        chk.compare("synthfront", "echo", s, "max_abs_diff_boxes", float(np.abs(dev["boxes"] - ref["boxes"]).max()),
                    dev, ref)  # fmt: skip
        for role, side in (("checked", dev), ("reference", ref)):
            chk.value("synthfront", "echo", s, role, "scenes_per_s", side["scenes_per_s"], side)
    if "erase_minibatch" in checks:
        s = {"training": "minibatch", "nodes": cfg["sbm_nodes"]}
        reason = erase_minibatch_pending()
        if reason is not None:
            chk.skip("contextual_sbm", "erase", s, reason)
        else:
            print("erase_minibatch ...", flush=True)
            dev, ref = runner(side_erase_minibatch, device, cfg), runner(side_erase_minibatch, "cpu", cfg)
            chk.compare("contextual_sbm", "erase", s, "abs_diff_test_accuracy",
                        abs(dev["test_accuracy"] - ref["test_accuracy"]), dev, ref)  # fmt: skip
    return chk


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cuda", help="the device checked against CPU (default cuda)")
    parser.add_argument("--quick", action="store_true", help="small synthetic stand-ins; writes .quick.json")
    parser.add_argument("--checks", nargs="+", choices=CHECKS, default=list(CHECKS))
    parser.add_argument("--out", default=None, help="directory of the results file (default benchmarks/results)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads of every run (default: torch's)")
    iso = parser.add_mutually_exclusive_group()
    iso.add_argument("--isolate", dest="isolate", action="store_true", default=None,
                     help="run every side in a fresh process (default without --quick)")  # fmt: skip
    iso.add_argument("--no-isolate", dest="isolate", action="store_false", help="run every side in this process")
    args = parser.parse_args(argv)

    from graphdiff.data.validation import check_device

    try:
        device = str(check_device(args.device, "--device"))
    except ValueError as exc:
        print(f"device_check: {exc}; pass an available device with --device (e.g. --device cpu)", file=sys.stderr)
        return 2
    isolate = (not args.quick) if args.isolate is None else args.isolate
    cfg = QUICK if args.quick else FULL
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    results = Results(BENCH, quick=args.quick, device=device)
    start = time.perf_counter()
    print(f"device check: {device} against cpu ({'quick' if args.quick else 'full'}; checks {' '.join(args.checks)})")
    chk = run_checks(device, cfg, args.checks, _Runner(isolate, args.threads), results)
    total = time.perf_counter() - start
    path = results.write(args.out if args.out is not None else results_dir())
    print(f"wrote {path} ({len(results.rows)} rows, {total:.0f} s)")
    for reason in chk.skipped:
        print(f"skipped: {reason}")
    if chk.failed:
        print("FAILED checks (each is a library bug to fix, not a tolerance to widen):", file=sys.stderr)
        for line in chk.failed:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
