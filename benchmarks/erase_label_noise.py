"""ERASE under label noise: test accuracy, time and peak memory against GCN / GAT / GCE baselines.

ERASE: Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852, section 5 (experiments). Writes
``benchmarks/results/erase_label_noise.json`` (``.quick.json`` with ``--quick``) in the format of
``shared/CONVENTIONS.md``. Blocks:

* ``planetoid`` -- the default protocol: Cora and CiteSeer, public split, uniform and pair noise (cyclic target) at
  each rate, noise on the training **and** validation labels, drawn anew per seed (seed ``s`` draws the noise and
  initialises the model). Every run is scored under both selection protocols at once: test accuracy at the best
  noisy-validation epoch (``validation: noisy``) and at the best clean-validation epoch (``validation: clean``,
  within the epochs the run trained). ``--erase-encoders gat,gcn`` adds ERASE runs with the GCN encoder
  (``encoder: gcn`` rows) and ``encoder: selected`` rows: per seed, whichever of the two runs has the better best
  validation accuracy under the row's protocol -- the choice a user can make with noisy labels only; their
  ``time_s`` counts both fits.
* ``reference`` -- the reference code's protocol: its own noise draw (``legacy`` option, seed 123, training labels
  only), selection and early stopping on clean validation labels, one draw and ``--ref-runs`` initialisations
  (seeds 123, 223, ...). Rows carry ``noise_draw: legacy``.
* ``amazon`` -- Amazon Photo / Computers, 20 per class train, 30 per class validation, rest test, redrawn per seed;
  uniform and pair at 0.3, ``--amazon-seeds`` seeds, raw 0/1 features (``features: raw``; row normalisation, which
  the Planetoid runs use as the reference code does, costs GCN 13 points of clean accuracy on Amazon Photo here).
* ``coauthor`` -- Coauthor CS / Physics: one 50-epoch ERASE run each (time and peak memory rows).
* ``minibatch`` -- ``--minibatch-datasets`` (Coauthor CS), noise 0.3 (``--minibatch-noise``: uniform, or pair with
  ``--pair-target``), ``--minibatch-seeds`` seeds: ERASE full batch, ERASE mini-batch
  (``batch_size=--minibatch-batch-size``, the default ``num_neighbors=(10, 10)``; rows carry ``training:
  minibatch`` and ``batch_size``) and GCN, ``--coauthor-epochs`` ERASE epochs; ``minibatch_minus_full`` rows hold
  the paired per-seed differences (issue 13).

Amazon and Coauthor graphs have no reference ERASE preset; their runs take Cora's values, explicitly
(``ERASE.from_preset(name, fallback="cora")``).

Each run executes in a fresh process (:func:`graphdiff.bench.run_isolated`), so its ``peak_mem_mb`` is its own;
``time_s`` is the wall time of the run (loading, noise, training, evaluation), mean over seeds.

Full run (all blocks, the whole grid)::

    GRAPHDIFF_DATA=/work/shared/datasets python benchmarks/erase_label_noise.py

``--cache FILE`` appends every finished run to a JSON-lines file and skips runs already there, so a long benchmark
can be split over several invocations; the results file is rebuilt from the whole cache each time and its
``command`` lists every invocation that contributed. ``--merge`` keeps the rows of the existing results file that
the runs at hand do not produce (for a block run on its own after the cache of the other blocks is gone).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from graphdiff.bench import Results, run_isolated  # noqa: E402

PLANETOID = ("cora", "citeseer")
AMAZON = ("amazon_photo", "amazon_computers")
COAUTHOR = ("coauthor_cs", "coauthor_physics")
REFERENCE_SEED = 123
#: the ERASE preset of the datasets without a reference one (Amazon, Coauthor)
PRESET_FALLBACK = "cora"


def run_one(cfg: dict) -> dict:
    """One training run; ``cfg`` keys: dataset, method, noise, rate, seed, init_seed, protocol, epochs, pair_target,
    device, and for ERASE optionally encoder (the preset's GAT when absent). Returns the test accuracy at the best
    noisy- and clean-validation epochs, those best validation accuracies, and bookkeeping."""
    torch.set_num_threads(1)
    import graphdiff.data as gd
    from graphdiff.data import noise, splits
    from graphdiff.erase import ERASE, GAT, GCE, GCN

    # Planetoid as the reference code loads it (row-normalised bag-of-words); ``features: raw`` keeps the 0/1
    # features (the Amazon block, see the module docstring)
    data = gd.load(cfg["dataset"], normalize_features=cfg.get("features", "normalized") != "raw")
    y = data.y
    if cfg["dataset"] in PLANETOID:
        train, val, test = splits.public_split(data)
    else:
        train, val, test = splits.random_split(y, 20, num_val_per_class=30, seed=cfg["seed"])
    legacy = cfg["protocol"] == "reference"
    mask = train if legacy else (train | val)
    kwargs = {"num_classes": data.num_classes, "mask": mask, "seed": cfg["seed"], "legacy": legacy}
    if cfg["noise"] == "pair":
        kwargs["target"] = cfg["pair_target"]
    noisy = noise.corrupt_labels(y, cfg["noise"], cfg["rate"], **kwargs)
    monitor = {"test": (test, y), "val_clean": (val, y)}
    common = {"seed": cfg["init_seed"], "verbose": False, "device": cfg.get("device", "cpu")}
    method = cfg["method"]
    if method == "erase":
        extra = {"epochs": cfg["epochs"]} if cfg.get("epochs") else {}
        if cfg.get("encoder"):
            extra["encoder"] = cfg["encoder"]
        if cfg.get("batch_size"):
            extra["batch_size"] = cfg["batch_size"]
        # Amazon and Coauthor graphs have no reference preset: Cora's values (PRESET_FALLBACK), explicitly
        model = ERASE.from_preset(cfg["dataset"], fallback=PRESET_FALLBACK, **extra, **common)
    else:
        model = {"gcn": GCN, "gat": GAT, "gce": GCE}[method](**common)
    fit_kwargs = {"y_val_clean": y} if legacy else {}
    cpu0 = time.process_time()
    model.fit(data, noisy.y_noisy, train, val, monitor=monitor, **fit_kwargs)
    cpu_fit = time.process_time() - cpu0
    hist = model.history_

    def best_epoch(key):
        vals = [(h[key], h["epoch"]) for h in hist if key in h]
        best = max(v for v, _ in vals)
        return next(e for v, e in vals if v == best)  # first epoch reaching the maximum (strict improvement)

    e_noisy, e_clean = best_epoch("val_acc_noisy"), best_epoch("val_clean_acc")
    out = {
        "test_noisy": hist[e_noisy]["test_acc"],
        "test_clean": hist[e_clean]["test_acc"],
        "epoch_noisy": e_noisy,
        "epoch_clean": e_clean,
        # the selection scores themselves, so that runs of different models can be compared on them
        "val_noisy": hist[e_noisy]["val_acc_noisy"],
        "val_clean": hist[e_clean]["val_clean_acc"],
        "epochs_run": len(hist),
        "selected_epoch": model.best_epoch_,
        "test_selected": hist[model.best_epoch_]["test_acc"],
        "realised_rate": noisy.realised_rate,
        "fit_time_s": model.fit_time_s_,
        "fit_cpu_s": cpu_fit,
    }
    if method == "erase":
        out["test_direct_noisy"] = hist[e_noisy]["test_acc_direct"]
        out["test_direct_clean"] = hist[e_clean]["test_acc_direct"]
    return out


def _key(cfg: dict) -> str:
    fields = (
        "dataset",
        "method",
        "noise",
        "rate",
        "seed",
        "init_seed",
        "protocol",
        "epochs",
        "pair_target",
        "features",
        "encoder",
        "batch_size",
    )
    return json.dumps({k: cfg.get(k) for k in fields}, sort_keys=True)


def _load_cache(path):
    records = []
    if path and Path(path).exists():
        with open(path) as f:
            records = [json.loads(line) for line in f if line.strip()]
    return records


def _setting(cfg: dict, validation: str) -> dict:
    s = {"noise": cfg["noise"], "rate": cfg["rate"], "validation": validation}
    if cfg["noise"] == "pair":
        s["pair_target"] = cfg["pair_target"]
    if cfg["protocol"] == "reference":
        s["noise_draw"] = "legacy"
        s["noise_on"] = "train"
    else:
        s["noise_draw"] = "per_seed"
        s["noise_on"] = "train+val"
    if cfg.get("epochs"):  # a schedule other than the reference one (400 epochs for ERASE)
        s["epochs"] = cfg["epochs"]
    if cfg["dataset"] not in PLANETOID:
        s["split"] = "random_20_30"
    if cfg.get("features") == "raw":
        s["features"] = "raw"
    if cfg.get("encoder"):  # an ERASE encoder other than the preset's GAT
        s["encoder"] = cfg["encoder"]
    if cfg["protocol"] == "minibatch" and cfg["method"] == "erase":
        s["training"] = "minibatch" if cfg.get("batch_size") else "full"
        if cfg.get("batch_size"):
            s["batch_size"] = cfg["batch_size"]
    return s


def _group_key(cfg: dict, method: str | None = None, epochs=..., encoder=..., batch_size=...) -> str:
    keys = ("dataset", "method", "noise", "rate", "protocol", "epochs", "pair_target", "features", "encoder")
    fields = {k: cfg.get(k) for k in keys + ("batch_size",)}
    if method is not None:
        fields["method"] = method
    if epochs is not ...:
        fields["epochs"] = epochs
    if encoder is not ...:
        fields["encoder"] = encoder
    if batch_size is not ...:
        fields["batch_size"] = batch_size
    return json.dumps(fields, sort_keys=True)


def _add_gain_rows(
    res: Results, erase_recs: dict[str, list[dict]], groups: dict[str, list[dict]], setting_extra: dict | None = None
):
    """``gain_over_gcn``: ERASE minus GCN test accuracy, per seed, on the seeds both ran (same noise draw), for
    each validation protocol -- the quantity the accuracy targets are stated in. ``erase_recs`` maps each protocol
    to its ERASE runs (the same runs for every protocol, except for the encoder choice of :func:`_select_encoder`)."""
    for validation, recs in erase_recs.items():
        cfg = recs[0]["cfg"]
        gcn_recs = groups.get(_group_key(cfg, method="gcn", epochs=None, encoder=None, batch_size=None), [])
        gcn_by_seed = {r["cfg"]["init_seed"]: r for r in gcn_recs}
        common = [r for r in recs if r["cfg"]["init_seed"] in gcn_by_seed]
        if not common:
            continue
        seeds = [r["cfg"]["init_seed"] for r in common]
        diffs = [
            r["out"][f"test_{validation}"] - gcn_by_seed[r["cfg"]["init_seed"]]["out"][f"test_{validation}"]
            for r in common
        ]
        res.add(
            cfg["dataset"],
            "erase",
            dict(_setting(cfg, validation), **(setting_extra or {})),
            "gain_over_gcn",
            diffs,
            seeds=seeds,
            per_seed=diffs,
        )


def _select_encoder(gat_recs: list[dict], groups: dict[str, list[dict]], validation: str):
    """Per seed, the ERASE run (GAT or GCN encoder) with the higher best validation accuracy -- on the noisy or
    clean validation labels, as the protocol selects epochs; ties keep the reference GAT. Only seeds where both runs
    recorded their validation score qualify (none when there is no GCN-encoder run to choose from). Returns the
    chosen runs and, per seed, the wall time of both runs (the cost of choosing)."""
    gcn_recs = groups.get(_group_key(gat_recs[0]["cfg"], encoder="gcn"), [])
    gcn_by_seed = {r["cfg"]["init_seed"]: r for r in gcn_recs if f"val_{validation}" in r["out"]}
    chosen, cost = [], []
    for rec in gat_recs:
        other = gcn_by_seed.get(rec["cfg"]["init_seed"])
        if other is None or f"val_{validation}" not in rec["out"]:
            continue
        chosen.append(other if other["out"][f"val_{validation}"] > rec["out"][f"val_{validation}"] else rec)
        cost.append(rec["time_s"] + other["time_s"])
    return chosen, cost


def build_results(records: list[dict], quick: bool, command: str, device: str) -> Results:
    res = Results("erase_label_noise", quick=quick, command=command, device=device)
    groups: dict[str, list[dict]] = {}
    for rec in records:
        cfg = rec["cfg"]
        groups.setdefault(_group_key(cfg), []).append(rec)
    order = list(PLANETOID + AMAZON + COAUTHOR)

    def table_order(recs):  # README rows: dataset, protocol, noise, rate, then the reference schedule before others
        c = recs[0]["cfg"]
        ds = order.index(c["dataset"]) if c["dataset"] in order else len(order)
        return (ds, c["protocol"] == "reference", c["noise"] != "uniform", c["rate"], c.get("epochs") or 0)

    for recs in sorted(groups.values(), key=table_order):
        recs.sort(key=lambda r: r["cfg"]["init_seed"])
        cfg = recs[0]["cfg"]
        seeds = [r["cfg"]["init_seed"] for r in recs]
        time_s = float(np.mean([r["time_s"] for r in recs]))
        peak = float(max(r["peak_mem_mb"] for r in recs))
        info = {
            "realised_rate": float(np.mean([r["out"]["realised_rate"] for r in recs])),
            "epochs_run": float(np.mean([r["out"]["epochs_run"] for r in recs])),
            "fit_time_s": float(np.mean([r["out"]["fit_time_s"] for r in recs])),
            "fit_cpu_s": float(np.mean([r["out"]["fit_cpu_s"] for r in recs])),
            "noise_seeds": sorted({r["cfg"]["seed"] for r in recs}),
            "epochs": cfg.get("epochs") or ("reference preset (400)" if cfg["method"] == "erase" else 200),
        }
        protocols = ["clean"] if cfg["protocol"] == "reference" else ["noisy", "clean"]
        for validation in protocols:
            setting = _setting(cfg, validation)
            values = [r["out"][f"test_{validation}"] for r in recs]
            res.add(
                cfg["dataset"],
                cfg["method"],
                setting,
                "test_accuracy",
                values,
                seeds=seeds,
                time_s=time_s,
                peak_mem_mb=peak,
                best_epoch=float(np.mean([r["out"][f"epoch_{validation}"] for r in recs])),
                per_seed=values,
                **info,
            )
            if cfg["method"] == "erase":
                res.add(
                    cfg["dataset"],
                    cfg["method"],
                    setting,
                    "test_accuracy_direct",
                    [r["out"][f"test_direct_{validation}"] for r in recs],
                    seeds=seeds,
                    time_s=time_s,
                    peak_mem_mb=peak,
                    **info,
                )
        if cfg["method"] == "erase":
            _add_gain_rows(res, {v: recs for v in protocols}, groups)
        if cfg["method"] == "erase" and cfg.get("batch_size"):
            # paired per seed against the full-batch fit of the same noise draw and initialisation (issue 13)
            full = {r["cfg"]["init_seed"]: r for r in groups.get(_group_key(cfg, batch_size=None), [])}
            pairs = [(r, full[r["cfg"]["init_seed"]]) for r in recs if r["cfg"]["init_seed"] in full]
            for validation in protocols if pairs else []:
                diffs = [a["out"][f"test_{validation}"] - b["out"][f"test_{validation}"] for a, b in pairs]
                res.add(
                    cfg["dataset"],
                    "erase",
                    _setting(cfg, validation),
                    "minibatch_minus_full",
                    diffs,
                    seeds=[a["cfg"]["init_seed"] for a, _ in pairs],
                    per_seed=diffs,
                )
        if cfg["method"] == "erase" and not cfg.get("encoder"):
            # the encoder chosen per seed on the validation labels of the protocol, as a user would choose it
            selections = {v: _select_encoder(recs, groups, v) for v in protocols}
            if all(sel for sel, _ in selections.values()):
                for validation, (sel, cost) in selections.items():
                    values = [r["out"][f"test_{validation}"] for r in sel]
                    picks = [r["cfg"].get("encoder") or "gat" for r in sel]
                    # time_s: both fits, since choosing needs both
                    res.add(
                        cfg["dataset"],
                        "erase",
                        dict(_setting(cfg, validation), encoder="selected"),
                        "test_accuracy",
                        values,
                        seeds=[r["cfg"]["init_seed"] for r in sel],
                        time_s=float(np.mean(cost)),
                        per_seed=values,
                        encoder_per_seed=picks,
                    )
                _add_gain_rows(
                    res, {v: sel for v, (sel, _) in selections.items()}, groups, setting_extra={"encoder": "selected"}
                )
        if cfg["protocol"] in ("coauthor", "minibatch") or (cfg["method"] == "erase" and cfg["dataset"] == "cora"):
            setting = _setting(cfg, "clean" if cfg["protocol"] == "reference" else "noisy")
            res.add(cfg["dataset"], cfg["method"], setting, "time_s", [r["time_s"] for r in recs], seeds=seeds)
            res.add(
                cfg["dataset"], cfg["method"], setting, "peak_mem_mb", [r["peak_mem_mb"] for r in recs], seeds=seeds
            )
            # CPU time of the training call itself: robust to other processes sharing the cores
            res.add(
                cfg["dataset"],
                cfg["method"],
                setting,
                "fit_cpu_s",
                [r["out"]["fit_cpu_s"] for r in recs],
                seeds=seeds,
                epochs_run=info["epochs_run"],
            )
    return res


def plan(args) -> list[list[dict]]:
    """Blocks of run configurations, in the order they are run; results are written after each group."""
    groups: list[list[dict]] = []
    base = {"device": args.device, "pair_target": args.pair_target}
    methods = args.methods
    erase_epochs = args.erase_epochs
    # Seeds are the outer loop inside each dataset, so that a run cut short still covers every setting equally.
    if "planetoid" in args.blocks:
        for dataset in args.datasets:
            for s in range(args.first_seed, args.first_seed + args.seeds):
                groups.append(
                    [
                        dict(
                            base,
                            dataset=dataset,
                            method=method,
                            noise=kind,
                            rate=rate,
                            seed=s,
                            init_seed=s,
                            protocol="default",
                            epochs=erase_epochs if method == "erase" else None,
                            **({"encoder": encoder} if encoder != "gat" else {}),
                        )
                        for rate in args.rates
                        for kind in args.noises
                        for method in methods
                        for encoder in (args.erase_encoders if method == "erase" else ["gat"])
                    ]
                )
    if "reference" in args.blocks:
        for dataset in args.datasets:
            for i in range(args.ref_runs):
                groups.append(
                    [
                        dict(
                            base,
                            dataset=dataset,
                            method=method,
                            noise=kind,
                            rate=0.3,
                            seed=REFERENCE_SEED,
                            init_seed=REFERENCE_SEED + 100 * i,
                            protocol="reference",
                            pair_target="random",
                            epochs=erase_epochs if method == "erase" else None,
                        )
                        for kind in args.noises
                        for method in methods
                        if method in ("erase", "gcn")
                    ]
                )
    if "amazon" in args.blocks:
        for dataset in args.amazon_datasets:
            for kind in args.noises:
                for method in methods:
                    groups.append(
                        [
                            dict(
                                base,
                                dataset=dataset,
                                method=method,
                                noise=kind,
                                rate=0.3,
                                seed=s,
                                init_seed=s,
                                protocol="default",
                                features="raw",
                                epochs=erase_epochs if method == "erase" else None,
                            )
                            for s in range(args.amazon_seeds)
                        ]
                    )
    if "coauthor" in args.blocks:
        for dataset in COAUTHOR:
            groups.append(
                [
                    dict(
                        base,
                        dataset=dataset,
                        method="erase",
                        noise="uniform",
                        rate=0.3,
                        seed=0,
                        init_seed=0,
                        protocol="coauthor",
                        epochs=args.coauthor_epochs,
                    )
                ]
            )
    if "minibatch" in args.blocks:
        for dataset, s in ((d, s) for d in args.minibatch_datasets.split(",") for s in range(args.minibatch_seeds)):
            groups.append(
                [
                    dict(
                        base,
                        dataset=dataset,
                        method=method,
                        noise=args.minibatch_noise,
                        rate=0.3,
                        seed=s,
                        init_seed=s,
                        protocol="minibatch",
                        epochs=args.coauthor_epochs if method == "erase" else None,
                        **({"batch_size": batch_size} if batch_size else {}),
                    )
                    for method, batch_size in (("erase", None), ("erase", args.minibatch_batch_size), ("gcn", None))
                ]
            )
    return groups


def _write(records: list[dict], args) -> Path:
    """Rebuild the results file from every finished run (the cache may be shared by several invocations); with
    ``--merge``, the existing file's rows that these runs do not produce are kept."""
    if args.cache:
        records = _load_cache(args.cache)
    commands = " ; ".join(dict.fromkeys(r["command"] for r in records))
    res = build_results(records, args.quick, commands, args.device)
    return res.write(args.out, merge=args.merge)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="smoke run: Cora, 1 seed, 20 ERASE epochs, ERASE + GCN")
    p.add_argument("--blocks", default="planetoid,reference,amazon,coauthor,minibatch")
    p.add_argument("--datasets", default="cora,citeseer", help="datasets of the planetoid/reference blocks")
    p.add_argument("--methods", default="erase,gcn,gat,gce")
    p.add_argument("--noises", default="uniform,pair")
    p.add_argument("--rates", default="0.1,0.2,0.3,0.4,0.5")
    p.add_argument("--seeds", type=int, default=10, help="number of seeds of the planetoid block")
    p.add_argument("--first-seed", type=int, default=0, help="planetoid seeds are first_seed, first_seed + 1, ...")
    p.add_argument("--ref-runs", type=int, default=10, help="initialisations of the reference protocol")
    p.add_argument("--amazon-seeds", type=int, default=3)
    p.add_argument("--amazon-datasets", default=",".join(AMAZON), help="datasets of the amazon block")
    p.add_argument("--erase-epochs", type=int, default=None, help="override the ERASE epoch count (default 400)")
    p.add_argument(
        "--erase-encoders",
        default="gat",
        help="ERASE encoders of the planetoid block: gat (reference), gcn, or gat,gcn (then rows with "
        "encoder=selected pick per seed the one with the better validation accuracy)",
    )
    p.add_argument("--coauthor-epochs", type=int, default=50)
    p.add_argument("--minibatch-seeds", type=int, default=5)
    p.add_argument("--minibatch-datasets", default="coauthor_cs", help="datasets of the minibatch block")
    p.add_argument(
        "--minibatch-noise",
        default="uniform",
        choices=["uniform", "pair"],
        help="noise of the minibatch block (rate 0.3; pair with --pair-target, issue 13: pair, cyclic)",
    )
    p.add_argument("--minibatch-batch-size", type=int, default=6144, help="global batch of the minibatch block")
    p.add_argument("--merge", action="store_true", help="keep the existing file's rows these runs do not produce")
    p.add_argument("--pair-target", default="cyclic", choices=["cyclic", "random"])
    p.add_argument("--device", default="cpu")
    p.add_argument("--cache", default=None, help="JSON-lines file of finished runs (resume / accumulate)")
    p.add_argument("--out", default=None, help="results directory (default benchmarks/results)")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-run", action="store_true", help="only rebuild the results file from --cache")
    args = p.parse_args(argv)
    args.blocks = args.blocks.split(",")
    args.datasets = args.datasets.split(",")
    args.methods = args.methods.split(",")
    args.noises = args.noises.split(",")
    args.rates = [float(r) for r in args.rates.split(",")]
    args.amazon_datasets = args.amazon_datasets.split(",")
    args.erase_encoders = args.erase_encoders.split(",")
    if args.quick:
        args.blocks = ["planetoid", "reference"]
        args.datasets, args.methods, args.rates = ["cora"], ["erase", "gcn"], [0.3]
        args.seeds, args.ref_runs, args.erase_epochs = 1, 1, args.erase_epochs or 20
    unknown = set(args.blocks) - {"planetoid", "reference", "amazon", "coauthor", "minibatch"}
    if unknown:
        p.error(f"unknown block(s): {sorted(unknown)}")
    if set(args.erase_encoders) - {"gat", "gcn"}:
        p.error(f"--erase-encoders must name gat and/or gcn, got {args.erase_encoders}")
    os.environ.setdefault("GRAPHDIFF_DATA", str(REPO.parent / "shared" / "datasets"))

    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0], REPO)] + sys.argv[1:])
    records = _load_cache(args.cache)
    done = {_key(r["cfg"]) for r in records}
    groups = plan(args)
    todo = sum(1 for g in groups for c in g if _key(c) not in done)
    from tqdm.auto import tqdm

    bar = tqdm(total=todo, desc="erase_label_noise", disable=args.no_progress)
    for group in [] if args.no_run else groups:
        for cfg in group:
            if _key(cfg) in done:
                continue
            out, elapsed, peak = run_isolated(run_one, cfg, threads=1)
            rec = {
                "cfg": cfg,
                "out": out,
                "time_s": elapsed,
                "peak_mem_mb": peak,
                "command": command,
                "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            }
            records.append(rec)
            done.add(_key(cfg))
            if args.cache:
                with open(args.cache, "a") as f:
                    f.write(json.dumps(rec) + "\n")
            bar.update(1)
            bar.set_postfix(
                last=f"{cfg['dataset']}/{cfg['method']}/{cfg['noise']}{cfg['rate']}:{out['test_noisy']:.3f}"
            )
            _write(records, args)
    bar.close()
    path = _write(records, args)
    print(f"wrote {path} ({len(records)} runs)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
