"""EchoScene on SynthFront: echo on vs echo off, 3 seeds, trained on CPU with a time cap per run.

For every (seed, echo setting) the default small configuration is trained in a fresh single-threaded process
(``graphdiff.bench.run_isolated``, which also measures its time and peak memory), then rooms are generated from the
held-out scene graphs alone (50 DDIM steps, layout and shape branches) and scored:

* SG constraint accuracy per predicate group and their mean (``acc_*``), pooled over the three room types;
* ``layout_mmd``: unbiased RBF MMD^2 between top-down class rasters of generated and held-out rooms (per room
  type, median-heuristic bandwidth); the ``train_set`` row (training rooms against held-out rooms) is the floor, the
  ``shuffled_classes`` (classes permuted within each held-out room) and ``random_boxes`` (boxes drawn from the
  training marginals per room type and class) rows are two baselines a sampler must beat, and the
  ``ground_truth`` rows give the accuracy ceiling of the held-out boxes themselves;
* ``shape_mmd_cd``, ``shape_cov_cd``, ``shape_1nna_cd`` against held-out shapes (per class, averaged) and
  ``shape_consistency_cd`` over the ground-truth consistency pairs;
* manipulation: one left/right or front/behind triple of every held-out graph flipped, the rooms re-sampled with
  the untouched nodes clamped (``edit_mode=clamp``) or all from fresh noise (``all``): ``acc_flipped`` on the
  flipped triples, ``acc_directional_unchanged`` on the others;
* schedulers: every row carries ``sampler`` and ``sample_steps`` (``--sampler``, default the library's DDIM at 50
  steps); every run also samples with DPM-Solver++ at 10 and 20 steps (rows with those settings);
* relation guidance (``graphdiff.scene.guidance``, beyond the paper): every row carries ``guidance``; the main rows
  are unguided (0.0), and every run is also evaluated with ``--guidance`` (default 0.005, chosen on validation
  graphs): accuracy, ``layout_mmd``, DPM-Solver++ at 20 steps and the flip edit;
* ``scenes_per_s``: one batch of 100 scenes sampled (layout + shape, 50 DDIM steps), single thread, wall time;
  ``scenes_per_cpu_s`` the same over the process's CPU time (the machine is shared: wall time includes waiting).

The rooms come from ``scenes.generate_scenes(..., placement=...)``: ``--placement free`` (default) lets the furniture
groups slide along their wall / stand anywhere in the room (the continuous freedom that the dense graphs do not pin
down), ``--placement anchored`` is the earlier generator. Every row carries ``"placement"`` in ``setting``; writing
one placement drops the rows of the other, so the results file never mixes generators.

Usage::

    python benchmarks/scene_generation.py --steps 4000 --parallel 1   # 3 seeds x {echo, no_echo}, one run at a time
    python benchmarks/scene_generation.py --quick               # 1 seed, short training, .quick.json
    python benchmarks/scene_generation.py --aggregate-only      # rebuild the JSON from the finished runs
    python benchmarks/scene_generation.py --edit-check MODEL.pt # manipulation accuracy of a saved model
    python benchmarks/scene_generation.py --sampler-check MODEL.pt   # DDIM 50 vs DPM-Solver++ 10 / 20 (saved model)
    python benchmarks/scene_generation.py --flip-ceiling        # how satisfiable the flip edit is (no model)
    python benchmarks/scene_generation.py --layout-reference 0 7   # layout_mmd floor and baselines (no model)
    python benchmarks/scene_generation.py --relation-diagnosis  # why the weak relation groups miss (no model)
    python benchmarks/scene_generation.py --guidance-check MODEL.pt --guidance 0.005   # guidance off vs on
    python benchmarks/scene_generation.py --relations intra_group   # sparse graphs: relations inside groups only
    python benchmarks/scene_generation.py --processes 1 2 --steps 300   # training on 1 vs 2 processes (torchrun)

``--relations intra_group`` trains and evaluates on graphs that keep only the relations between objects of the
same furniture group (plus the object-floor edges; ``scenes.generate_scenes(..., relations="intra_group")``), for
training and held-out graphs alike; accuracy is scored on the relations the graph gives. Its rows carry
``"relations": "intra_group"`` in ``setting`` (the others ``"all"``) and are merged into the results file: writing
one relations mode keeps the rows of the other.

Finished runs are cached (``--runs-file``), so an interrupted benchmark resumes where it stopped and the JSON can be
written from the runs that finished.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from graphdiff.bench import Results, results_dir, run_isolated

METRIC_KEYS = {
    "left_right": "acc_left_right",
    "front_behind": "acc_front_behind",
    "bigger_smaller": "acc_bigger_smaller",
    "taller_shorter": "acc_taller_shorter",
    "standing_on": "acc_standing_on",
    "close_by": "acc_close_by",
    "symmetrical": "acc_symmetrical",
    "mean": "acc_mean",
    "directional": "acc_directional",
}


def run_one(seed: int, echo: bool, cfg: dict) -> dict:
    """Train one model and evaluate it (runs in a fresh process)."""
    import torch

    torch.set_num_threads(1)
    from graphdiff.data import scenes as S
    from graphdiff.scene import EchoScene
    from graphdiff.scene import metrics as M

    rel, pl = cfg.get("relations", "all"), cfg.get("placement", "anchored")
    train = S.generate_scenes(cfg["train_scenes"], seed=cfg["data_seed"], relations=rel, placement=pl)
    test = S.generate_scenes(cfg["test_scenes"], seed=cfg["data_seed"] + 10_000, relations=rel, placement=pl)
    model = EchoScene(
        echo=echo,
        steps=cfg["steps"],
        batch_size=cfg["batch_size"],
        seed=seed,
        max_train_time_s=cfg["max_train_time_s"],
        verbose=False,
    )
    t0 = time.perf_counter()
    model.fit(train)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    sampler = cfg.get("sampler", "ddim")
    gen = model.sample(test, num_steps=cfg["sample_steps"], seed=seed, batch_size=100, sampler=sampler)
    sample_s = time.perf_counter() - t0
    out = {
        "seed": seed,
        "echo": echo,
        "steps_done": model.steps_done_,
        "train_time_s": model.train_time_s_,
        "train_cpu_s": model.train_cpu_s_,
        "fit_time_s": train_s,
        "final_loss": float(np.mean(model.history_[-100:])),
    }
    acc = M.relation_accuracy(gen)
    out["relations"] = {k: v for k, v in acc.items() if k != "counts"}
    out["relation_counts"] = acc["counts"]
    out["layout_mmd"] = M.layout_mmd(gen, test)
    # shapes: generated vs held-out ground truth, per class; consistency over the ground-truth pairs
    gen_grids = {}
    ref_grids = {}
    per_scene = []
    for g, t in zip(gen, test):
        grids = model.decode_shapes(g)
        per_scene.append(grids)
        for i in np.flatnonzero(t.object_mask):
            name = S.CLASSES[t.classes[i]]
            gen_grids.setdefault(name, []).append(grids[i])
            ref_grids.setdefault(name, []).append(S.shape_grids(t.classes[i : i + 1], t.shape_variant[i : i + 1])[0])
    sm = M.shape_metrics(
        {k: np.stack(v) for k, v in gen_grids.items()},
        {k: np.stack(v) for k, v in ref_grids.items()},
        max_per_class=32,
        num_points=128,
    )
    out["shape"] = {k: sm[k] for k in ("mmd_cd", "cov_cd", "nna_cd")}
    out["shape_consistency_cd"] = M.shape_consistency(per_scene, [S.consistency_pairs(t) for t in test], num_points=128)
    # manipulation: flip one left/right or front/behind triple per graph, re-sample in both modes
    out["edit"] = edit_eval(model, test, gen, seed)
    if cfg.get("edit_table", True):  # the edit table: three edit kinds, three modes (issue 15)
        out["edit_table"] = edit_table(model, test, gen, seed)
    # throughput: one batch of 100 scenes, layout + shape, 50 DDIM steps
    t0, c0 = time.perf_counter(), time.process_time()
    model.sample(test[:100], num_steps=cfg["sample_steps"], seed=seed + 1, batch_size=100, sampler=sampler)
    out["scenes_per_s"] = 100 / (time.perf_counter() - t0)
    out["scenes_per_cpu_s"] = 100 / (time.process_time() - c0)
    out["sample_eval_s"] = sample_s
    # the scheduler comparison: the same model sampled with DPM-Solver++ at 10 and 20 steps
    out["samplers"] = sampler_eval(model, test, seed)
    if cfg.get("guidance", 0.0) > 0:  # the same model with relation guidance
        out["guided"] = guided_eval(model, test, seed, cfg["guidance"], cfg["sample_steps"], sampler)
    return out


def guided_eval(model, test, seed: int, guidance: float, sample_steps: int = 50, sampler: str = "ddim") -> dict:
    """Relation accuracy, ``layout_mmd``, DPM-Solver++ at 20 steps and the flip edit of ``model`` sampled with
    ``guidance`` (restored afterwards)."""
    from graphdiff.scene import metrics as M

    before = model.guidance
    model.set_params(guidance=guidance)
    try:
        gen = model.sample(test, num_steps=sample_steps, seed=seed, batch_size=100, sampler=sampler)
        acc = M.relation_accuracy(gen)
        out = {
            "relations": {k: v for k, v in acc.items() if k != "counts"},
            "layout_mmd": M.layout_mmd(gen, test),
            "samplers": sampler_eval(model, test, seed, (("dpm_solver++", 20),)),
            "edit": edit_eval(model, test, gen, seed),
        }
    finally:
        model.set_params(guidance=before)
    return out


def guidance_check(path: str, guidance: float, num_graphs: int = 300, placement: str = "free", seed: int = 0) -> None:
    """Print :func:`guided_eval` of a saved model without and with ``guidance`` (a diagnostic)."""
    import torch

    torch.set_num_threads(1)
    from graphdiff.data import scenes as S
    from graphdiff.scene import EchoScene

    model = EchoScene.load(path)
    test = S.generate_scenes(num_graphs, seed=10_000, placement=placement)
    for g in (0.0, guidance):
        r = guided_eval(model, test, seed, g)
        acc = ", ".join(f"{k} {v:.3f}" for k, v in r["relations"].items())
        dpm = r["samplers"]["dpm_solver++@20"]["mean"]
        ed = "; ".join(
            f"{m}: flipped {v['acc_flipped']:.3f}, others {v['acc_directional_unchanged']:.3f}"
            for m, v in r["edit"].items()
        )
        print(
            f"{path} guidance={g}: {acc}; layout_mmd {r['layout_mmd']:.4f}; dpm_solver++@20 mean {dpm:.3f}; {ed}",
            flush=True,
        )


#: (sampler, steps) of the scheduler comparison rows, next to the main rows' sampler at ``--sample-steps``
SAMPLER_ROWS = (("dpm_solver++", 10), ("dpm_solver++", 20))


def sampler_eval(model, test, seed: int, plans=SAMPLER_ROWS) -> dict:
    """SG constraint accuracy (the ``acc_*`` groups) of ``model`` on the ``test`` graphs for every (sampler, steps)
    of ``plans``; keys ``"sampler@steps"``."""
    from graphdiff.scene import metrics as M

    out = {}
    for name, steps in plans:
        gen = model.sample(test, num_steps=steps, seed=seed, batch_size=100, sampler=name)
        acc = M.relation_accuracy(gen)
        out[f"{name}@{steps}"] = {k: v for k, v in acc.items() if k != "counts"}
    return out


def sampler_check(path: str, num_graphs: int = 300, placement: str = "free", seed: int = 0) -> dict:
    """Print the accuracy of a saved model under the library's DDIM at 50 steps and the schedulers of
    :data:`SAMPLER_ROWS` (a diagnostic; the benchmark runs record the same comparison per run)."""
    import torch

    torch.set_num_threads(1)
    from graphdiff.data import scenes as S
    from graphdiff.scene import EchoScene

    model = EchoScene.load(path)
    test = S.generate_scenes(num_graphs, seed=10_000, placement=placement)
    res = sampler_eval(model, test, seed, (("ddim", 50), ("diffusers_ddim", 50), ("euler", 20)) + SAMPLER_ROWS)
    for key, acc in res.items():
        print(f"{path} {key}: " + ", ".join(f"{k} {v:.3f}" for k, v in acc.items()), flush=True)
    return res


def edit_eval(model, test, gen, seed: int, drop_conflicts: bool = False) -> dict:
    """Flip one left/right or front/behind triple of every graph, re-sample with ``mode="clamp"`` and ``"all"``;
    accuracy on the flipped triples and on the unchanged ones. Graphs without a directional triple (possible with
    sparse relations) are skipped."""
    from graphdiff.scene import edits
    from graphdiff.scene import metrics as M

    rng = np.random.default_rng(seed)
    edited, changed = [], []
    kept = []
    for i, t in enumerate(test):
        cand = np.flatnonzero(np.isin(t.triples[:, 1], [1, 2, 3, 4]))
        if cand.size == 0:
            continue
        kept.append(i)
        e = edits.flip_relation(t, int(rng.choice(cand)), drop_conflicts=drop_conflicts)
        edited.append(e)
        changed.append(int(e.extra["changed_triples"][0]))
    gen = [gen[i] for i in kept]
    res = {}
    for mode in ("clamp", "all"):
        after = model.resample(gen, edited, mode=mode, seed=seed + 2)
        flipped = [M.relation_pass(a.boxes, e.triples[k : k + 1])[0] for a, e, k in zip(after, edited, changed)]
        unchanged = M.relation_accuracy(after, [np.delete(e.triples, k, axis=0) for e, k in zip(edited, changed)])
        res[mode] = {"acc_flipped": float(np.mean(flipped)), "acc_directional_unchanged": unchanged["directional"]}
    return res


def edit_check(path: str, num_graphs: int = 300, seed: int = 0, placement: str = "free") -> None:
    """Print the manipulation accuracy of a saved model with and without ``drop_conflicts`` (a diagnostic)."""
    import torch

    torch.set_num_threads(1)
    from graphdiff.data import scenes as S
    from graphdiff.scene import EchoScene

    model = EchoScene.load(path)
    test = S.generate_scenes(num_graphs, seed=10_000, placement=placement)
    gen = model.sample(test, seed=seed)
    for drop in (False, True):
        res = edit_eval(model, test, gen, seed, drop_conflicts=drop)
        for mode, r in res.items():
            print(
                f"drop_conflicts={drop} mode={mode}: flipped {r['acc_flipped']:.3f}, "
                f"unchanged directional {r['acc_directional_unchanged']:.3f}"
            )


#: the edit table: edit kinds and re-sampling modes (issue 15)
EDIT_KINDS = ("flip_relation", "add_relation", "add_node")
EDIT_MODES = ("clamp", "clamp_drop_conflicts", "resample_all")


def _without_node(scene, r: int):
    """``scene`` with node ``r`` and its triples removed (ids above ``r`` shift down by one)."""
    keep = np.arange(scene.num_nodes) != r
    out = scene.copy()
    out.classes, out.boxes, out.shape_variant = scene.classes[keep], scene.boxes[keep], scene.shape_variant[keep]
    if scene.style is not None:
        out.style = scene.style[keep]
    if scene.material is not None:
        out.material = scene.material[keep]
    t = scene.triples[(scene.triples[:, 0] != r) & (scene.triples[:, 2] != r)].copy()
    t[:, [0, 2]] -= (t[:, [0, 2]] > r).astype(np.int64)
    out.triples = t
    out.extra = {}
    return out


def make_edits(test, kind: str, drop_conflicts: bool, seed: int) -> list[dict]:
    """One edit of ``kind`` per held-out graph (graphs without a candidate are skipped), drawn with ``seed``.

    ``flip_relation``: a left/right or front/behind triple flipped (as :func:`edit_eval`). ``add_relation``: a
    left, right, front or behind triple added between two objects that have no triple of that group (either
    direction). ``add_node``: an object of the graph removed (``base``: the graph without it, to be sampled first)
    and added back with its positional triples (left, right, front, behind, close by, symmetrical to) to one other
    object, plus floor and ``_scene_`` edges; its ground-truth box gives the size and height of the satisfiability
    check. Each edit: ``{"index", "edited", "base" (or None: the graph itself), "node", "box" (or None)}``."""
    from graphdiff.data import scenes as S
    from graphdiff.scene import edits

    rng = np.random.default_rng([seed, EDIT_KINDS.index(kind)])
    out = []
    for i, t in enumerate(test):
        tr = t.triples
        if kind == "flip_relation":
            cand = np.flatnonzero(np.isin(tr[:, 1], [1, 2, 3, 4]))
            if cand.size == 0:
                continue
            e = edits.flip_relation(t, int(rng.choice(cand)), drop_conflicts=drop_conflicts)
            out.append({"index": i, "edited": e, "base": None, "node": int(e.extra["edited_nodes"][0]), "box": None})
        elif kind == "add_relation":
            obj = np.flatnonzero(t.object_mask)
            a, b = np.triu_indices(len(obj), k=1)
            a, b = obj[a], obj[b]
            cand = []
            for group in ((1, 2), (3, 4)):
                g = tr[np.isin(tr[:, 1], group)]
                related = np.zeros((t.num_nodes, t.num_nodes), dtype=bool)
                related[g[:, 0], g[:, 2]] = related[g[:, 2], g[:, 0]] = True
                free = ~related[a, b]
                cand += [(int(x), int(y), group) for x, y in zip(a[free], b[free])]
            if not cand:
                continue
            x, y, group = cand[int(rng.integers(len(cand)))]
            s, o = (x, y) if rng.random() < 0.5 else (y, x)
            e = edits.set_relation(t, s, int(rng.choice(group)), o, drop_conflicts=drop_conflicts)
            out.append({"index": i, "edited": e, "base": None, "node": s, "box": None})
        else:
            obj = np.flatnonzero(t.object_mask)
            r = int(rng.choice(obj))
            pos = np.isin(tr[:, 1], edits.POSITIONAL_PREDICATES) & ((tr[:, 0] == r) | (tr[:, 2] == r))
            other = np.where(tr[:, 0] == r, tr[:, 2], tr[:, 0])
            pos &= t.object_mask[other]
            if not pos.any():
                continue
            o = int(rng.choice(np.unique(other[pos])))
            rows = tr[pos & (other == o)]
            rels = [(int(p) if sub == r else int(S.INVERSE_PREDICATE[p]), o - int(o > r)) for sub, p, _ in rows]
            base = _without_node(t, r)
            e = edits.add_node(base, int(t.classes[r]), rels)
            node = int(e.extra["edited_nodes"][0])
            out.append({"index": i, "edited": e, "base": base, "node": node, "box": t.boxes[r]})
    return out


def edit_table(model, test, gen, seed: int, kinds=EDIT_KINDS, modes=EDIT_MODES, configs=None, grid: int = 41) -> dict:
    """The edit table of issue 15 for one model: for every edit kind and mode, re-sampled with every ``configs``
    entry (``{"edit_guidance", "edit_guidance_steps", "candidates"}``; default: the plain re-sampling and the
    library's defaults). Per (kind, mode, config): the edited relation held over all edits and over the satisfiable
    ones (:func:`graphdiff.scene.edits.satisfiable` on the pre-edit boxes of the other nodes), the satisfiable
    share, the edited node's other relations held (all evaluated predicates) and the fraction of untouched nodes
    whose box moved. ``add_node`` has no conflicting relations to drop and is not run with
    ``clamp_drop_conflicts``."""
    from graphdiff.data import scenes as S
    from graphdiff.scene import edits
    from graphdiff.scene import estimator as E
    from graphdiff.scene import metrics as M

    evaluated = sorted({S.PREDICATE_TO_ID[p] for ps in M.GROUPS.values() for p in ps})
    if configs is None:
        configs = [
            {"edit_guidance": 0.0, "edit_guidance_steps": E.EDIT_GUIDANCE_STEPS, "candidates": 1},
            {
                "edit_guidance": E.EDIT_GUIDANCE,
                "edit_guidance_steps": E.EDIT_GUIDANCE_STEPS,
                "candidates": E.EDIT_CANDIDATES,
            },
        ]
    res = {}
    for kind in kinds:
        for mode in modes:
            if kind == "add_node" and mode == "clamp_drop_conflicts":
                continue
            items = make_edits(test, kind, mode == "clamp_drop_conflicts", seed)
            prev = [gen[it["index"]] for it in items]
            bases = [it for it in items if it["base"] is not None]
            if bases:  # add_node: the graph without the node, sampled first
                sampled = model.sample([it["base"] for it in bases], seed=seed + 3, batch_size=100)
                for it, sc in zip(bases, sampled):
                    prev[items.index(it)] = sc
            sat = []
            for it, p in zip(items, prev):
                e = it["edited"]
                old = e.extra["old_index"]
                b = np.zeros((e.num_nodes, 7))
                b[old >= 0] = p.boxes[old[old >= 0]]
                if it["box"] is not None:
                    b[it["node"]] = it["box"]
                sat.append(edits.satisfiable(e, b, it["node"], grid=grid))
            sat = np.array(sat)
            for cfg in configs:
                t0 = time.process_time()
                after = model.resample(
                    prev,
                    [it["edited"] for it in items],
                    mode="all" if mode == "resample_all" else "clamp",
                    seed=seed + 2,
                    **cfg,
                )
                cpu = time.process_time() - t0
                held, others, moved = [], [], []
                for it, p, a in zip(items, prev, after):
                    e, node = it["edited"], it["node"]
                    ch = np.asarray(e.extra["changed_triples"])
                    ok = M.relation_pass(a.boxes, e.triples)
                    held.append(bool(np.all(ok[ch] > 0.5)))
                    mine = np.setdiff1d(edits.node_triples(e, node, evaluated), ch)
                    others.append(ok[mine])
                    old = e.extra["old_index"]
                    untouched = (old >= 0) & (e.classes != S.SCENE_ID)
                    untouched[node] = False
                    moved.append(np.any(a.boxes[untouched] != p.boxes[old[untouched]], axis=1))
                held = np.array(held)
                key = f"{kind}|{mode}|{cfg['edit_guidance']}|{cfg['edit_guidance_steps']}|{cfg['candidates']}"
                res[key] = {
                    "edits": len(items),
                    "satisfiable": float(sat.mean()),
                    "satisfied_all": float(held.mean()),
                    "satisfied_satisfiable": float(held[sat].mean()) if sat.any() else float("nan"),
                    "others_all": float(np.concatenate(others).mean()),
                    "others_satisfiable": float(np.concatenate([o for o, s in zip(others, sat) if s]).mean())
                    if sat.any()
                    else float("nan"),
                    "untouched_changed": float(np.concatenate(moved).mean()),
                    "resample_cpu_s": cpu,
                }
                print(key, {k: round(v, 3) for k, v in res[key].items()}, flush=True)
    return res


def _add_edit_rows(res, method: str, setting_base: dict, runs: list[dict]) -> None:
    """The edit table's rows (metrics ``edit_satisfied`` with ``over``, ``edit_satisfiable``,
    ``edit_other_relations_held`` with ``over``, ``untouched_changed``, ``edit_resample_cpu_s``) of the runs that
    have one (``run["edit_table"]``, from :func:`edit_table`)."""
    runs = [r for r in runs if "edit_table" in r]
    if not runs:
        return
    seeds = [r["seed"] for r in runs]
    for key in runs[0]["edit_table"]:
        kind, mode, g, k, c = key.split("|")
        setting = dict(
            setting_base,
            edit=kind,
            edit_mode=mode,
            edit_guidance=float(g),
            edit_guidance_steps=int(k),
            candidates=int(c),
        )
        vals = [r["edit_table"][key] for r in runs]
        extra = dict(seeds=seeds, edits=[v["edits"] for v in vals])
        for over in ("satisfiable", "all"):
            o = dict(setting, over=over)
            res.add("synthfront", method, o, "edit_satisfied", [v[f"satisfied_{over}"] for v in vals], **extra)
            res.add("synthfront", method, o, "edit_other_relations_held", [v[f"others_{over}"] for v in vals], **extra)
        res.add("synthfront", method, setting, "edit_satisfiable", [v["satisfiable"] for v in vals], **extra)
        res.add("synthfront", method, setting, "untouched_changed", [v["untouched_changed"] for v in vals], **extra)
        res.add("synthfront", method, setting, "edit_resample_cpu_s", [v["resample_cpu_s"] for v in vals], **extra)


def edit_table_run(cfg: dict, seed: int = 0, echo: bool = True, model_path=None) -> dict:
    """The edit table of one model of the benchmark's configuration ``cfg`` (seed, echo): loaded from
    ``model_path`` when it exists (a model this function saved before), else trained as :func:`run_one` trains it
    and saved there; the held-out graphs sampled as in :func:`run_one`. Returns a run record (``seed``, ``echo``,
    ``steps_done``, ``train_cpu_s``, ``edit_table``)."""
    import torch

    torch.set_num_threads(1)
    from graphdiff.data import scenes as S
    from graphdiff.scene import EchoScene

    rel, pl = cfg.get("relations", "all"), cfg.get("placement", "anchored")
    test = S.generate_scenes(cfg["test_scenes"], seed=cfg["data_seed"] + 10_000, relations=rel, placement=pl)
    if model_path is not None and Path(model_path).exists():
        model = EchoScene.load(model_path)
        print(f"loaded {model_path}", flush=True)
    else:
        train = S.generate_scenes(cfg["train_scenes"], seed=cfg["data_seed"], relations=rel, placement=pl)
        model = EchoScene(
            echo=echo,
            steps=cfg["steps"],
            batch_size=cfg["batch_size"],
            seed=seed,
            max_train_time_s=cfg["max_train_time_s"],
            verbose=False,
        ).fit(train)
        if model_path is not None:
            model.save(model_path)
    t0 = time.process_time()
    gen = model.sample(test, num_steps=cfg["sample_steps"], seed=seed, batch_size=100)
    table = edit_table(model, test, gen, seed)
    return {
        "seed": seed,
        "echo": echo,
        "steps_done": int(model.steps_done_),
        "train_cpu_s": float(getattr(model, "train_cpu_s_", float("nan"))),
        "edit_table": table,
        "edit_table_cpu_s": time.process_time() - t0,
    }


def ddp_worker(out_dir: str, steps: int, batch_size: int, train_scenes: int, placement: str, seed: int) -> None:
    """One process of a ``--processes`` run, started by ``torchrun``: the default EchoScene (echo on) trained for
    ``steps`` steps on the benchmark's training rooms, data-parallel over the ``WORLD_SIZE`` processes (gloo, one
    thread each); each process writes its timings, rank 0 also the averaged weights."""
    import torch

    from graphdiff.bench import peak_rss_mb
    from graphdiff.data import scenes as S
    from graphdiff.scene import EchoScene

    torch.set_num_threads(1)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    if world > 1:
        torch.distributed.init_process_group("gloo")
    try:
        train = S.generate_scenes(train_scenes, seed=0, placement=placement)
        model = EchoScene(echo=True, steps=steps, batch_size=batch_size, seed=seed, verbose=False).fit(train)
        record = {
            "rank": rank,
            "world_size": world,
            "steps_done": model.steps_done_,
            "train_wall_s": model.train_time_s_,
            "train_cpu_s": model.train_cpu_s_,
            "peak_mem_mb": peak_rss_mb(),
            "final_loss": float(np.mean(model.history_[-50:])),
        }
        Path(out_dir, f"rank{rank}.json").write_text(json.dumps(record))
        if rank == 0:
            torch.save(model.ema_.state_dict(), Path(out_dir, "ema.pt"))
    finally:
        if world > 1:
            torch.distributed.destroy_process_group()


def run_processes(processes: int, steps: int, batch_size: int, train_scenes: int, placement: str, seed: int):
    """``torchrun --standalone --nproc_per_node=processes`` of :func:`ddp_worker`: the records of all processes
    and the averaged weights of rank 0."""
    import subprocess
    import tempfile

    import torch

    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
            str(Path(__file__).resolve()), "--ddp-worker", tmp, "--steps", str(steps), "--batch-size",
            str(batch_size), "--train-scenes", str(train_scenes), "--placement", placement, "--seeds", str(seed),
        ]  # fmt: skip
        threads = {k: "1" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
        done = subprocess.run(cmd, env={**os.environ, **threads}, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
        records = [json.loads(Path(tmp, f"rank{r}.json").read_text()) for r in range(processes)]
        return records, torch.load(Path(tmp, "ema.pt"))


def process_rows(args, command: str) -> Path:
    """Rows of the 1 vs several process training comparison (``--processes``), merged into the results file:
    seconds per step (wall: the slowest process; CPU: summed over the processes), the speed-up over the first
    process count, peak memory (the largest process), and how far the averaged weights of each run are from those
    of the first (data-parallel steps equal one-process steps up to float summation order)."""

    res = Results("scene_generation")
    base = None
    for k in args.processes:
        records, weights = run_processes(
            k, args.steps, args.batch_size, args.train_scenes, args.placement, args.seeds[0]
        )
        steps = records[0]["steps_done"]
        if any(r["steps_done"] != args.steps for r in records):
            raise RuntimeError(f"{k} process(es) stopped at {steps} steps, not {args.steps}")
        wall = max(r["train_wall_s"] for r in records) / steps
        cpu = sum(r["train_cpu_s"] for r in records) / steps
        setting = {
            "processes": k,
            "threads": 1,
            "backend": "gloo",
            "steps": args.steps,
            "batch_size": args.batch_size,
            "train_scenes": args.train_scenes,
            "placement": args.placement,
        }
        common = {"seeds": [args.seeds[0]], "peak_mem_mb": max(r["peak_mem_mb"] for r in records)}
        res.add("synthfront", "echo", setting, "train_step_wall_s", wall, **common)
        res.add("synthfront", "echo", setting, "train_step_time_s", cpu, **common)
        res.add("synthfront", "echo", setting, "peak_mem_mb", common["peak_mem_mb"], **common)
        res.add("synthfront", "echo", setting, "final_loss", records[0]["final_loss"], **common)
        if base is None:
            base = (wall, weights)
        else:
            res.add("synthfront", "echo", setting, "train_step_wall_speedup", base[0] / wall, **common)
            diff = max(float((weights[n] - v).abs().max()) for n, v in base[1].items() if v.is_floating_point())
            res.add("synthfront", "echo", setting, "weights_max_abs_diff", diff, **common)
        print(f"{k} process(es): {wall:.3f} s/step wall, {cpu:.3f} CPU-s/step, {records}", flush=True)
    return merge_rows(results_dir() / "scene_generation.json", res.rows, command)


def merge_rows(path: Path, new_rows: list[dict], command: str) -> Path:
    """Merge ``new_rows`` into the results file at ``path``: rows with the same (dataset, method, setting, metric)
    are replaced, every other row is kept, the file's ``created`` / ``environment`` stay (the new rows carry their
    own ``created`` and ``git_commit``) and ``command`` gets `` && command``."""
    from graphdiff.bench import environment, row_key

    doc = json.loads(path.read_text())

    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    commit = environment().get("git_commit")
    fresh = {row_key(r) for r in new_rows}
    doc["rows"] = [r for r in doc["rows"] if row_key(r) not in fresh] + [
        dict(r, created=stamp, git_commit=commit) for r in new_rows
    ]
    if command not in doc.get("command", "").split(" && "):
        doc["command"] = f"{doc['command']} && {command}" if doc.get("command") else command
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)
    return path


def flip_ceiling(
    num_graphs: int = 300, seed: int = 0, placement: str = "free", relations: str = "all", grid: int = 25
) -> dict:
    """Print and return (keyed by ``drop_conflicts``) how satisfiable the benchmark's flip edit is (a diagnostic, no
    model): for every held-out graph the flip of :func:`edit_eval` (same draw), the ground-truth boxes of every other
    node, and the edited node moved over a ``grid x grid`` lattice of positions in the room (size kept), scored with
    the evaluation rules: the share of graphs where the flipped triple and all of the node's other directional
    triples can hold at once, and the share of the node's best placements (most of its directional triples
    satisfied) that satisfy the flip; with and without ``drop_conflicts``."""
    from graphdiff.data import scenes as S
    from graphdiff.scene import edits
    from graphdiff.scene import metrics as M

    test = S.generate_scenes(num_graphs, seed=10_000, placement=placement, relations=relations)
    shares = {}
    for drop in (False, True):
        rng = np.random.default_rng(seed)
        full = major = n = 0
        for t in test:
            cand = np.flatnonzero(np.isin(t.triples[:, 1], [1, 2, 3, 4]))
            if cand.size == 0:
                continue
            e = edits.flip_relation(t, int(rng.choice(cand)), drop_conflicts=drop)
            k = int(e.extra["changed_triples"][0])
            s = int(e.triples[k, 0])
            mine = np.flatnonzero(
                ((e.triples[:, 0] == s) | (e.triples[:, 2] == s)) & np.isin(e.triples[:, 1], [1, 2, 3, 4])
            )
            W, D = t.boxes[t.classes == S.FLOOR_ID][0, [0, 2]]
            X, Z = np.meshgrid(np.linspace(-W / 2, W / 2, grid), np.linspace(-D / 2, D / 2, grid), indexing="ij")
            # every placement at once: one copy of the scene per lattice point, the triples shifted to their copy
            num_nodes, placements = len(e.boxes), grid * grid
            b = np.repeat(e.boxes[None], placements, axis=0)
            b[:, s, 3], b[:, s, 5] = X.ravel(), Z.ravel()
            trip = np.repeat(e.triples[np.r_[k, mine[mine != k]]][None], placements, axis=0)
            trip[:, :, [0, 2]] += (np.arange(placements) * num_nodes)[:, None, None]
            ok = (M.relation_pass(b.reshape(-1, b.shape[-1]), trip.reshape(-1, 3)) > 0.5).reshape(placements, -1)
            flips = ok[:, 0]
            counts = ok.sum(axis=1)
            ok_all = bool(ok.all(axis=1).any())
            n += 1
            full += ok_all
            major += flips[counts == counts.max()].mean()
        print(
            f"placement={placement} relations={relations} drop_conflicts={drop}: {n} graphs; the flip can hold "
            f"with all of the node's other directional triples in {full / n:.3f}; the node's best placements "
            f"satisfy the flip in {major / n:.3f}"
        )
        shares[drop] = {"graphs": n, "satisfiable": full / n, "best_placements_flip": major / n}
    return shares


def layout_reference(train, test, seed: int = 0) -> dict:
    """``layout_mmd`` of the held-out rooms against three sets that need no model: training rooms (the floor: the
    same distribution), the held-out rooms with their classes permuted within each room (``shuffled_classes``) and
    with boxes drawn from the training marginals per room type and class (``random_boxes``)."""
    from graphdiff.scene import metrics as M

    return {
        "layout_mmd_train_vs_test": M.layout_mmd(train[: len(test)], test),
        "layout_mmd_shuffled_classes": M.layout_mmd(M.shuffle_classes(test, seed=seed), test),
        "layout_mmd_random_boxes": M.layout_mmd(M.random_boxes(test, train, seed=seed + 1), test),
    }


def relation_diagnosis(train_scenes: int = 2000, test_scenes: int = 300, placement: str = "free") -> dict:
    """Print and return the accuracy of the held-out ground truth with one change each (a diagnostic, no model):
    every size replaced by its class mean (per room type and class, from the training rooms), the positions
    jittered by 0.1 / 0.2 m, and every box drawn from the per-class marginals (``metrics.random_boxes``)."""
    from graphdiff.data import scenes as S
    from graphdiff.scene import metrics as M

    train = S.generate_scenes(train_scenes, seed=0, placement=placement)
    test = S.generate_scenes(test_scenes, seed=10_000, placement=placement)
    sizes: dict = {}
    for sc in train:
        for i in np.flatnonzero(sc.object_mask):
            sizes.setdefault((sc.room_type, int(sc.classes[i])), []).append(sc.boxes[i, :3])
    sizes = {k: np.mean(v, axis=0) for k, v in sizes.items()}
    variants = {"ground_truth": test}
    mean_sizes = []
    for sc in test:
        c = sc.copy()
        c.boxes = sc.boxes.copy()
        obj = np.flatnonzero(sc.object_mask)
        c.boxes[obj, :3] = np.stack([sizes[(sc.room_type, int(sc.classes[i]))] for i in obj])
        mean_sizes.append(c)
    variants["class_mean_sizes"] = mean_sizes
    rng = np.random.default_rng(0)
    for sigma in (0.1, 0.2):
        jittered = []
        for sc in test:
            c = sc.copy()
            c.boxes = sc.boxes.copy()
            obj = np.flatnonzero(sc.object_mask)
            c.boxes[np.ix_(obj, [3, 5])] += rng.normal(0.0, sigma, (len(obj), 2))
            jittered.append(c)
        variants[f"jitter_{sigma}"] = jittered
    variants["random_boxes"] = M.random_boxes(test, train, seed=1)
    out = {}
    for name, rooms in variants.items():
        acc = M.relation_accuracy(rooms)
        out[name] = {k: v for k, v in acc.items() if k != "counts"}
        print(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in out[name].items()), flush=True)
    return out


def reference_rows(cfg: dict) -> dict:
    """Ground-truth ceiling (held-out boxes) and train-vs-held-out floor of the layout MMD."""
    from graphdiff.data import scenes as S
    from graphdiff.scene import metrics as M

    rel, pl = cfg.get("relations", "all"), cfg.get("placement", "anchored")
    train = S.generate_scenes(cfg["train_scenes"], seed=cfg["data_seed"], relations=rel, placement=pl)
    test = S.generate_scenes(cfg["test_scenes"], seed=cfg["data_seed"] + 10_000, relations=rel, placement=pl)
    acc = M.relation_accuracy(test)
    ref = {"relations": {k: v for k, v in acc.items() if k != "counts"}, **layout_reference(train, test)}
    grids = [S.shape_grids(t.classes, t.shape_variant) for t in test]
    ref["shape_consistency_cd"] = M.shape_consistency(grids, [S.consistency_pairs(t) for t in test], num_points=128)
    return ref


def _isolated(seed, echo, cfg):
    res, time_s, peak = run_isolated(run_one, seed, echo, cfg, threads=1)
    res["time_s"], res["peak_mem_mb"] = time_s, peak
    return res


def _relations_of(command: str) -> str:
    parts = command.split()
    return parts[parts.index("--relations") + 1] if "--relations" in parts[:-1] else "all"


def aggregate(groups: list[tuple[dict, list[dict]]], ref: dict | None, quick: bool, command: str) -> Path:
    """Rows for every (configuration, finished runs) group, then the reference rows (of the first configuration).

    Rows of the results file with another ``relations`` setting (missing means ``"all"``) and the same generator
    ``placement`` (missing means ``"anchored"``, the generator before the setting existed) are kept; rows of another
    generator are dropped, so one file never mixes generators."""
    res = Results("scene_generation", quick=quick, command=command)
    rel = groups[0][0].get("relations", "all")
    pl = groups[0][0].get("placement", "anchored")
    path = results_dir() / f"scene_generation{'.quick' if quick else ''}.json"
    if path.exists():
        old = json.loads(path.read_text())
        res.rows = [
            r
            for r in old["rows"]
            if r["setting"].get("relations", "all") != rel and r["setting"].get("placement", "anchored") == pl
        ]
        # the command line of each relations mode whose rows are kept, joined by " && "
        kept = {r["setting"].get("relations", "all") for r in res.rows}
        others = [c for c in (old.get("command") or "").split(" && ") if c and _relations_of(c) in kept]
        if res.rows and others:
            res.command = " && ".join(others + [command])
    for cfg, runs in groups:
        _add_rows(res, cfg, runs)
    if ref is not None:
        cfg = groups[0][0]
        setting_ref = {
            "room_types": "pooled",
            "test_graphs": cfg["test_scenes"],
            "train_scenes": cfg["train_scenes"],
            "relations": rel,
            "placement": pl,
        }
        for key, metric in METRIC_KEYS.items():
            res.add("synthfront", "ground_truth", setting_ref, metric, ref["relations"][key])
        for method in ("train_set", "shuffled_classes", "random_boxes"):
            key = "layout_mmd_train_vs_test" if method == "train_set" else f"layout_mmd_{method}"
            if key in ref:
                res.add("synthfront", method, setting_ref, "layout_mmd", ref[key])
        res.add("synthfront", "ground_truth", setting_ref, "shape_consistency_cd", ref["shape_consistency_cd"])
    return res.write()


def _add_rows(res: Results, cfg: dict, runs: list[dict]) -> None:
    setting_base = {
        "room_types": "pooled",
        "test_graphs": cfg["test_scenes"],
        "train_scenes": cfg["train_scenes"],
        "sample_steps": cfg["sample_steps"],
        "sampler": cfg.get("sampler", "ddim"),
        "guidance": 0.0,
        "steps": cfg["steps"],
        "batch_size": cfg["batch_size"],
        "max_train_time_s": cfg["max_train_time_s"],
        "relations": cfg.get("relations", "all"),
        "placement": cfg.get("placement", "anchored"),
    }
    for echo in (True, False):
        rs = sorted([r for r in runs if r["echo"] == echo], key=lambda r: r["seed"])
        if not rs:
            continue
        method = "echo" if echo else "no_echo"
        seeds = [r["seed"] for r in rs]
        common = dict(
            seeds=seeds,
            time_s=float(np.mean([r["time_s"] for r in rs])),
            peak_mem_mb=float(max(r["peak_mem_mb"] for r in rs)),
            steps_done=[r["steps_done"] for r in rs],
            train_time_s=[round(r["train_time_s"], 1) for r in rs],
            train_cpu_s=[round(r["train_cpu_s"], 1) for r in rs],
        )
        for key, metric in METRIC_KEYS.items():
            res.add("synthfront", method, setting_base, metric, [r["relations"][key] for r in rs], **common)
        res.add("synthfront", method, setting_base, "layout_mmd", [r["layout_mmd"] for r in rs], **common)
        for key, metric in (("mmd_cd", "shape_mmd_cd"), ("cov_cd", "shape_cov_cd"), ("nna_cd", "shape_1nna_cd")):
            res.add("synthfront", method, setting_base, metric, [r["shape"][key] for r in rs], **common)
        res.add(
            "synthfront",
            method,
            setting_base,
            "shape_consistency_cd",
            [r["shape_consistency_cd"] for r in rs],
            **common,
        )
        res.add("synthfront", method, setting_base, "scenes_per_s", [r["scenes_per_s"] for r in rs], **common)
        res.add("synthfront", method, setting_base, "scenes_per_cpu_s", [r["scenes_per_cpu_s"] for r in rs], **common)
        res.add("synthfront", method, setting_base, "final_train_loss", [r["final_loss"] for r in rs], **common)
        srs = [r for r in rs if "samplers" in r]  # runs made before the scheduler comparison existed have none
        for key in srs[0]["samplers"] if srs else ():
            name, steps = key.split("@")
            setting = dict(setting_base, sampler=name, sample_steps=int(steps))
            for group, metric in METRIC_KEYS.items():
                vals = [r["samplers"][key][group] for r in srs]
                res.add("synthfront", method, setting, metric, vals, seeds=[r["seed"] for r in srs])
        grs = [r for r in rs if "guided" in r]
        if grs:
            gset = dict(setting_base, guidance=cfg["guidance"])
            gseeds = dict(seeds=[r["seed"] for r in grs])
            for group, metric in METRIC_KEYS.items():
                res.add("synthfront", method, gset, metric, [r["guided"]["relations"][group] for r in grs], **gseeds)
            res.add("synthfront", method, gset, "layout_mmd", [r["guided"]["layout_mmd"] for r in grs], **gseeds)
            dset = dict(gset, sampler="dpm_solver++", sample_steps=20)
            for group, metric in METRIC_KEYS.items():
                vals = [r["guided"]["samplers"]["dpm_solver++@20"][group] for r in grs]
                res.add("synthfront", method, dset, metric, vals, **gseeds)
            for mode in ("clamp", "all"):
                eset = dict(gset, edit="flip_one_directional", edit_mode=mode)
                for key in ("acc_flipped", "acc_directional_unchanged"):
                    res.add("synthfront", method, eset, key, [r["guided"]["edit"][mode][key] for r in grs], **gseeds)
        _add_edit_rows(res, method, setting_base, rs)
        ers = [r for r in rs if "edit" in r]  # runs made before the edit evaluation existed have none
        for mode in ("clamp", "all"):
            if not ers:
                break
            setting = dict(setting_base, edit="flip_one_directional", edit_mode=mode)  # guidance 0
            for key in ("acc_flipped", "acc_directional_unchanged"):
                res.add(
                    "synthfront",
                    method,
                    setting,
                    key,
                    [r["edit"][mode][key] for r in ers],
                    seeds=[r["seed"] for r in ers],
                )


def _run_config(args) -> dict:
    """The training / evaluation settings every run of one invocation shares (the key of its cached runs)."""
    return {
        "steps": args.steps,
        "batch_size": args.batch_size,
        "max_train_time_s": args.max_train_time_s,
        "train_scenes": args.train_scenes,
        "test_scenes": args.test_scenes,
        "sample_steps": args.sample_steps,
        "data_seed": 0,
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--echo", choices=["on", "off"], nargs="+", default=["on", "off"])
    p.add_argument("--steps", type=int, default=4000, help="optimiser steps per run")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument(
        "--max-train-time-s", type=float, default=900.0, help="hard cap on the training CPU time per run (15 minutes)"
    )
    p.add_argument("--train-scenes", type=int, default=2000)
    p.add_argument("--test-scenes", type=int, default=300)
    p.add_argument("--sample-steps", type=int, default=50)
    p.add_argument(
        "--sampler",
        default="ddim",
        choices=["ddim", "diffusers_ddim", "dpm_solver++", "euler"],
        help="the sampler of the main rows (EchoScene's `sampler`); every run also records DPM-Solver++ at 10 and "
        "20 steps (rows with their own `sampler` and `sample_steps`)",
    )
    p.add_argument("--parallel", type=int, default=2, help="runs at a time (each single-threaded)")
    p.add_argument("--runs-file", default=None, help="cache of finished runs (JSON lines)")
    p.add_argument("--aggregate-only", action="store_true")
    p.add_argument("--quick", action="store_true", help="1 seed, 200 steps, 200 held-out graphs")
    p.add_argument(
        "--extra-steps",
        type=int,
        default=None,
        help="also train longer runs with this many steps (rows with their own `steps` setting)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--extra-seeds", type=int, nargs="+", default=[0], help="seeds of the --extra-steps runs")
    p.add_argument(
        "--relations",
        choices=["all", "intra_group"],
        default="all",
        help="scene-graph relations for training and held-out graphs: all of SG-FRONT's (default) or only "
        "those inside a furniture group plus the object-floor edges",
    )
    p.add_argument(
        "--placement",
        choices=["free", "anchored"],
        default="free",
        help="generator placement (scenes.generate_scenes): furniture groups anywhere along their wall / "
        "in the room (default) or the earlier anchored placement (bed centred or 0.3 m off, dining "
        "table within 0.4 m of the centre)",
    )
    p.add_argument(
        "--flip-ceiling",
        action="store_true",
        help="only print how satisfiable the flip edit is with ground-truth boxes (no model)",
    )
    p.add_argument(
        "--layout-reference",
        type=int,
        nargs="*",
        metavar="DATA_SEED",
        default=None,
        help="only print the layout_mmd floor (train_set) and baselines (shuffled_classes, random_boxes) on the "
        "benchmark's data, or on the data of these data seeds (training seed s, held-out seed s + 10000); no model",
    )
    p.add_argument(
        "--relation-diagnosis",
        action="store_true",
        help="only print the held-out ground truth's accuracy with class-mean sizes, jittered positions and "
        "random boxes (no model)",
    )
    p.add_argument(
        "--guidance",
        type=float,
        default=0.005,
        help="also evaluate every run with this relation guidance (rows with their own `guidance`; 0: none). The "
        "main rows are unguided (`guidance` 0.0). 0.005 was chosen on validation graphs (seed 20000)",
    )
    p.add_argument(
        "--guidance-check",
        metavar="MODEL",
        nargs="+",
        default=None,
        help="only print the accuracy, layout_mmd, DPM-Solver++ 20 and flip edit of saved models without and with "
        "--guidance",
    )
    p.add_argument(
        "--sampler-check",
        metavar="MODEL",
        nargs="+",
        default=None,
        help="only print the accuracy of saved EchoScene models under DDIM 50, diffusers DDIM 50, Euler 20 and "
        "DPM-Solver++ 10 / 20 steps",
    )
    p.add_argument(
        "--edit-check",
        metavar="MODEL",
        default=None,
        help="only print the manipulation accuracy of a saved EchoScene (with / without drop_conflicts)",
    )
    p.add_argument(
        "--edit-table",
        action="store_true",
        help="only the edit table (edit kinds x modes, satisfiability) of the first --seeds model with the first "
        "--echo setting, merged into the results file; the model is trained once and kept in benchmarks/cache/",
    )
    p.add_argument(
        "--processes",
        type=int,
        nargs="+",
        default=None,
        help="only the 1 vs several process training rows: torchrun (gloo, one thread per process) of the default "
        "EchoScene for --steps steps per process count, merged into the results file (an otherwise idle machine)",
    )
    p.add_argument("--ddp-worker", default=None, help=argparse.SUPPRESS)  # one process of a --processes run
    args = p.parse_args(argv)
    if args.ddp_worker:
        ddp_worker(args.ddp_worker, args.steps, args.batch_size, args.train_scenes, args.placement, args.seeds[0])
        return 0
    if args.processes:
        if any(k < 1 for k in args.processes):
            raise ValueError(f"--processes must be at least 1, got {args.processes}")
        command = "python " + " ".join([os.path.relpath(sys.argv[0])] + (argv if argv is not None else sys.argv[1:]))
        print(f"wrote {process_rows(args, command)}")
        return 0
    if args.flip_ceiling:
        flip_ceiling(placement=args.placement, relations=args.relations)
        return 0
    if args.layout_reference is not None:
        from graphdiff.data import scenes as S

        for data_seed in args.layout_reference or [0]:
            kw = dict(relations=args.relations, placement=args.placement)
            train = S.generate_scenes(args.train_scenes, seed=data_seed, **kw)
            test = S.generate_scenes(args.test_scenes, seed=data_seed + 10_000, **kw)
            vals = layout_reference(train, test)
            print(f"data_seed={data_seed}: " + ", ".join(f"{k[len('layout_mmd_') :]} {v:.4f}" for k, v in vals.items()))
        return 0
    if args.relation_diagnosis:
        relation_diagnosis(placement=args.placement)
        return 0
    if args.guidance_check:
        for path in args.guidance_check:
            guidance_check(path, args.guidance, placement=args.placement)
        return 0
    if args.sampler_check:
        for path in args.sampler_check:
            sampler_check(path, placement=args.placement)
        return 0
    if args.edit_check:
        edit_check(args.edit_check, placement=args.placement)
        return 0
    if args.edit_table:
        cfg = dict(_run_config(args), relations=args.relations, placement=args.placement)
        seed, echo = args.seeds[0], args.echo[0] == "on"
        cache = Path(__file__).resolve().parent / "cache"
        cache.mkdir(parents=True, exist_ok=True)
        model_path = cache / f"scene_generation_{'echo' if echo else 'no_echo'}_seed{seed}.pt"
        run = edit_table_run(cfg, seed, echo, model_path)
        res = Results("scene_generation")
        setting_base = {
            "room_types": "pooled",
            "test_graphs": cfg["test_scenes"],
            "train_scenes": cfg["train_scenes"],
            "sample_steps": cfg["sample_steps"],
            "sampler": "ddim",
            "guidance": 0.0,
            "steps": cfg["steps"],
            "batch_size": cfg["batch_size"],
            "max_train_time_s": cfg["max_train_time_s"],
            "relations": cfg["relations"],
            "placement": cfg["placement"],
        }
        _add_edit_rows(res, "echo" if echo else "no_echo", setting_base, [run])
        command = "python " + " ".join([os.path.relpath(sys.argv[0])] + (argv if argv is not None else sys.argv[1:]))
        path = merge_rows(results_dir() / "scene_generation.json", res.rows, command)
        print(f"edit table: {len(res.rows)} rows merged into {path} ({run['edit_table_cpu_s']:.0f} CPU-s)")
        return 0
    if args.quick:
        args.seeds, args.steps, args.test_scenes, args.train_scenes = args.seeds[:1], 200, 200, 600
    if args.test_scenes < 2:
        raise ValueError("--test-scenes must be at least 2")
    cfg = _run_config(args)
    if args.relations != "all":  # absent for "all", so the cached runs of the dense graphs still match
        cfg["relations"] = args.relations
    if args.sampler != "ddim":  # absent for the library's DDIM, as in the runs cached before the setting existed
        cfg["sampler"] = args.sampler
    if args.guidance > 0:
        cfg["guidance"] = args.guidance
    cfg["placement"] = args.placement  # absent in runs cached before the setting existed (= "anchored")
    if args.placement == "anchored":
        del cfg["placement"]
    # finished runs accumulate in benchmarks/cache/ (git-ignored), so the recorded commands rerun as written
    cache = Path(__file__).resolve().parent / "cache"
    runs_file = Path(args.runs_file or cache / f"scene_generation{'.quick' if args.quick else ''}.runs.jsonl")
    runs_file.parent.mkdir(parents=True, exist_ok=True)
    command = "python " + " ".join([os.path.relpath(sys.argv[0])] + (argv if argv is not None else sys.argv[1:]))
    plans = [(cfg, args.seeds)]
    if args.extra_steps is not None:
        plans.append((dict(cfg, steps=args.extra_steps), args.extra_seeds))
    groups = []
    for plan_cfg, seeds in plans:
        cfg_key = json.dumps(plan_cfg, sort_keys=True)
        runs = []
        if runs_file.exists():
            for line in runs_file.read_text().splitlines():
                rec = json.loads(line)
                if rec.get("cfg") == cfg_key:
                    runs.append(rec["run"])
        if not args.aggregate_only:
            todo = [
                (s, e == "on")
                for s in seeds
                for e in args.echo
                if not any(r["seed"] == s and r["echo"] == (e == "on") for r in runs)
            ]
            print(f"steps={plan_cfg['steps']}: {len(runs)} runs cached, {len(todo)} to go", flush=True)

            def job(item, plan_cfg=plan_cfg, cfg_key=cfg_key):
                seed, echo = item
                out = _isolated(seed, echo, plan_cfg)
                with runs_file.open("a") as f:
                    f.write(json.dumps({"cfg": cfg_key, "run": out}) + "\n")
                r = out["relations"]
                print(
                    f"steps={plan_cfg['steps']} seed {seed} echo={echo}: steps {out['steps_done']} "
                    f"train {out['train_time_s']:.0f}s L/R {r['left_right']:.3f} F/B {r['front_behind']:.3f} "
                    f"mean {r['mean']:.3f} mmd {out['layout_mmd']:.4f} scenes/s {out['scenes_per_s']:.2f}",
                    flush=True,
                )
                return out

            bar = tqdm(total=len(todo), desc=f"scene runs (steps={plan_cfg['steps']})", disable=args.no_progress)

            def tracked(item):
                out = job(item)
                bar.update(1)  # noqa: B023 (called within this iteration)
                return out

            with ThreadPoolExecutor(max_workers=args.parallel) as pool:
                runs += list(pool.map(tracked, todo))
            bar.close()
        groups.append((plan_cfg, [r for r in runs if r["seed"] in seeds]))
    ref, _, _ = run_isolated(reference_rows, cfg, threads=1)
    path = aggregate(groups, ref, args.quick, command)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
