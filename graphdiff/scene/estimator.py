"""The EchoScene estimator: fit on scenes, sample rooms conditioned on scene graphs, edit graphs and resample.

Zhai et al., ECCV 2024 (https://arxiv.org/abs/2405.00915): training (Sec. 3.5), graph-conditioned generation
(Sec. 3.4) and scene manipulation (Sec. 4.3). Sampling runs DDIM (Song et al., 2021) with ``sample_steps`` steps in
both branches; each step runs the information echo (or, with ``echo=False``, reuses the static graph encoding).

The predicted clean box is clipped to [-1, 1] (the range of the normalised boxes) at every layout step; the reference
samples with ``clip_denoised=False`` and 1000 ancestral steps, clipping keeps 50 DDIM steps of a briefly trained model
inside the room bounds. Shape codes are not clipped.

Manipulation. The reference code re-samples an edited graph from fresh noise, so every node can move
(``mode="all"``). ``mode="clamp"`` (beyond the reference) keeps the untouched nodes where they were: at every step
their states are replaced by the forward-noised version of their previous values,
:math:`x_{t'}^i = \\sqrt{\\bar\\alpha_{t'}} x_0^i + \\sqrt{1-\\bar\\alpha_{t'}}\\epsilon` (RePaint-style
inpainting), while the free nodes are denoised; through the echo the free nodes see where the fixed ones are.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from graphdiff.data import scenes as S
from graphdiff.nn.diffusion import DDPMSchedule
from graphdiff.scene.codecs import BoxCodec, ShapeCodec, scene_to_data
from graphdiff.scene.model import EchoSceneNet
from graphdiff.scene.train import load_checkpoint, train_loop

__all__ = ["EchoScene"]

_NODE_INPUTS = ("latent", "class_emb")
LAYOUT_PREDICATES = (0, 1, 2, 3, 4, 5, 6, 7, 12)
SHAPE_PREDICATES = (0, 13, 14, 15)


def _check_predicates(value, name):
    if value is None:
        return None
    ids = tuple(int(v) for v in value)
    if not ids or min(ids) < 0 or max(ids) >= len(S.PREDICATES):
        raise ValueError(
            f"`{name}` must be a non-empty list of predicate ids in [0, {len(S.PREDICATES)}), got {value!r}"
        )
    return ids


_NORMS = ("layer", "batch", None)


def _pos_int(value, name):
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
    return int(value)


def _pos_float(value, name, allow_zero=False):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"`{name}` must be a {'non-negative' if allow_zero else 'positive'} number, got {value!r}")
    return float(value)


class EchoScene:
    """Scene-graph diffusion with information echo (layout + shape branches), sklearn-style.

    Args:
        echo: run the echo at every denoising step (True) or encode the graph once, statically (False).
        echo_node_input: ``"latent"`` (paper: the relation-encoder latent) or ``"class_emb"`` (reference code).
        shape: train and sample the shape branch.
        class_dim, pred_dim, latent_dim: widths of the class embedding, predicate embeddings and encoder latent.
        encoder_layers, echo_layers, shape_echo_layers, gcn_hidden: triplet-GCN depths (relation encoder, layout
            echo, shape echo) and hidden width.
        layout_predicates, shape_predicates: predicate ids whose edges the layout echo (and the relation encoder) and
            the shape echo run over (None: all). By default the layout side sees ``in`` and the positional predicates
            (left, right, front, behind, close by, above, standing on, symmetrical to) and the shape echo sees ``in``
            and the ``same style / super category / material as`` edges: the size comparisons and attribute edges
            are two thirds of all triples and carry no position, so leaving them out makes each step about three
            times cheaper on CPU.
        proj_dim: width of the projections of the noisy state and of the time embedding in the echo input.
        context_dim: width of the echo output (the denoiser's context).
        time_dim, width, num_blocks: denoiser time embedding, width and number of residual blocks.
        norm: normalisation in the GCN MLPs (``"layer"``, ``"batch"`` as in the reference, or None).
        shape_dim: dimension of the PCA shape code.
        steps, batch_size, lr, weight_decay, grad_clip, ema_decay: training.
        num_train_timesteps: diffusion length T of both branches.
        sample_steps: DDIM steps at sampling.
        shared_shape_noise: one initial shape noise per scene (the reference repeats x_T over a scene's objects).
        max_train_time_s: stop training early after this many CPU seconds of the process (None: run all steps).
        checkpoint_path, checkpoint_every: resumable checkpoints.
        device: ``"cpu"``, ``"cuda"``, ...; seed; verbose (tqdm progress bars).
    """

    def __init__(
        self,
        echo: bool = True,
        echo_node_input: str = "latent",
        shape: bool = True,
        class_dim: int = 32,
        pred_dim: int = 32,
        latent_dim: int = 32,
        encoder_layers: int = 2,
        echo_layers: int = 4,
        shape_echo_layers: int = 1,
        layout_predicates=LAYOUT_PREDICATES,
        shape_predicates=SHAPE_PREDICATES,
        gcn_hidden: int = 64,
        proj_dim: int = 16,
        context_dim: int = 64,
        time_dim: int = 64,
        width: int = 128,
        num_blocks: int = 4,
        norm: str | None = "layer",
        shape_dim: int = 16,
        steps: int = 2500,
        batch_size: int = 16,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        grad_clip: float = 5.0,
        ema_decay: float = 0.995,
        num_train_timesteps: int = 1000,
        sample_steps: int = 50,
        shared_shape_noise: bool = True,
        max_train_time_s: float | None = None,
        checkpoint_path=None,
        checkpoint_every: int = 500,
        device="cpu",
        seed: int = 0,
        verbose: bool = True,
    ):
        if not isinstance(echo, bool):
            raise ValueError(f"`echo` must be True or False, got {echo!r}")
        if echo_node_input not in _NODE_INPUTS:
            raise ValueError(f"`echo_node_input` must be one of {_NODE_INPUTS}, got {echo_node_input!r}")
        if norm not in _NORMS:
            raise ValueError(f"`norm` must be one of {_NORMS}, got {norm!r}")
        for name in (
            "class_dim",
            "pred_dim",
            "latent_dim",
            "encoder_layers",
            "echo_layers",
            "shape_echo_layers",
            "gcn_hidden",
            "proj_dim",
            "context_dim",
            "time_dim",
            "width",
            "num_blocks",
            "shape_dim",
            "steps",
            "batch_size",
            "num_train_timesteps",
            "sample_steps",
        ):
            _pos_int(locals()[name], name)
        if sample_steps > num_train_timesteps:
            raise ValueError(
                f"`sample_steps` ({sample_steps}) cannot exceed `num_train_timesteps` ({num_train_timesteps})"
            )
        _pos_float(lr, "lr")
        _pos_float(weight_decay, "weight_decay", allow_zero=True)
        _pos_float(grad_clip, "grad_clip", allow_zero=True)
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"`ema_decay` must lie in [0, 1), got {ema_decay}")
        if checkpoint_every is not None and (not isinstance(checkpoint_every, int) or checkpoint_every < 0):
            raise ValueError(f"`checkpoint_every` must be a non-negative integer, got {checkpoint_every!r}")
        if max_train_time_s is not None:
            _pos_float(max_train_time_s, "max_train_time_s")
        self.echo, self.echo_node_input, self.shape = echo, echo_node_input, shape
        self.class_dim, self.pred_dim, self.latent_dim = class_dim, pred_dim, latent_dim
        self.encoder_layers, self.echo_layers, self.gcn_hidden = encoder_layers, echo_layers, gcn_hidden
        self.shape_echo_layers = shape_echo_layers
        self.layout_predicates = _check_predicates(layout_predicates, "layout_predicates")
        self.shape_predicates = _check_predicates(shape_predicates, "shape_predicates")
        self.proj_dim, self.context_dim, self.time_dim = proj_dim, context_dim, time_dim
        self.width, self.num_blocks, self.norm, self.shape_dim = width, num_blocks, norm, shape_dim
        self.steps, self.batch_size, self.lr, self.weight_decay = steps, batch_size, lr, weight_decay
        self.grad_clip, self.ema_decay, self.num_train_timesteps = grad_clip, ema_decay, num_train_timesteps
        self.sample_steps, self.shared_shape_noise = sample_steps, shared_shape_noise
        self.max_train_time_s = max_train_time_s
        self.checkpoint_path, self.checkpoint_every = checkpoint_path, checkpoint_every
        self.device, self.seed, self.verbose = torch.device(device), seed, verbose
        self.net_ = None

    # ------------------------------------------------------------------ construction
    def _cfg(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "class_dim",
                "pred_dim",
                "latent_dim",
                "encoder_layers",
                "gcn_hidden",
                "echo_layers",
                "shape_echo_layers",
                "layout_predicates",
                "shape_predicates",
                "proj_dim",
                "context_dim",
                "time_dim",
                "width",
                "num_blocks",
                "norm",
                "shape_dim",
                "echo",
                "echo_node_input",
                "shape",
            )
        }

    def get_params(self) -> dict:
        keys = list(self._cfg()) + [
            "steps",
            "batch_size",
            "lr",
            "weight_decay",
            "grad_clip",
            "ema_decay",
            "num_train_timesteps",
            "sample_steps",
            "shared_shape_noise",
            "max_train_time_s",
            "checkpoint_every",
            "seed",
            "verbose",
        ]
        out = {k: getattr(self, k) for k in keys}
        out["device"] = str(self.device)
        out["checkpoint_path"] = None if self.checkpoint_path is None else str(self.checkpoint_path)
        return out

    def _build(self):
        torch.manual_seed(self.seed)
        self.net_ = EchoSceneNet(self._cfg()).to(self.device)
        self.ema_ = copy.deepcopy(self.net_)
        for p in self.ema_.parameters():
            p.requires_grad_(False)
        self.layout_schedule_ = DDPMSchedule(self.num_train_timesteps, 1e-4, 0.02, "linear", device=self.device)
        self.shape_schedule_ = DDPMSchedule(
            self.num_train_timesteps, 0.00085, 0.012, "scaled_linear", device=self.device
        )

    def _check_fitted(self):
        if self.net_ is None:
            raise ValueError("this EchoScene is not fitted yet: call `fit` (or `load`) first")

    def _to_data(self, scenes):
        return [scene_to_data(s, self.box_codec_, self.shape_codec_ if self.shape else None) for s in scenes]

    # ------------------------------------------------------------------ training
    def fit(self, scenes: Sequence[S.Scene], resume: bool = False) -> EchoScene:
        """Fit the box/shape codecs on ``scenes`` and train the network (resuming from ``checkpoint_path`` when
        ``resume`` and the file exists)."""
        if len(scenes) == 0:
            raise ValueError("`scenes` is empty: EchoScene.fit needs training scenes")
        for i, s in enumerate(scenes):
            S.check_scene(s, name=f"scenes[{i}]")
        resume_state = None
        if resume:
            if self.checkpoint_path is None:
                raise ValueError("`resume=True` needs `checkpoint_path`")
            if Path(self.checkpoint_path).exists():
                resume_state = load_checkpoint(self.checkpoint_path)
                if resume_state["params"]["echo"] != self.echo:
                    raise ValueError("the checkpoint was trained with a different `echo` setting")
        if resume_state is not None:
            self.box_codec_ = BoxCodec.from_state_dict(resume_state["box_codec"])
            self.shape_codec_ = (
                ShapeCodec.from_state_dict(resume_state["shape_codec"])
                if resume_state["shape_codec"] is not None
                else None
            )
        else:
            self.box_codec_ = BoxCodec().fit(scenes)
            self.shape_codec_ = None
            if self.shape:
                keys = np.concatenate(
                    [np.stack([s.classes, s.shape_variant], 1)[s.object_mask & (s.shape_variant >= 0)] for s in scenes]
                )
                keys = np.unique(keys, axis=0)  # distinct (class, variant) shapes
                if len(keys) < self.shape_dim + 1:
                    raise ValueError(
                        f"the training scenes hold {len(keys)} distinct shapes, too few for "
                        f"`shape_dim`={self.shape_dim}"
                    )
                grids = S.shape_grids(keys[:, 0], keys[:, 1])
                self.shape_codec_ = ShapeCodec(self.shape_dim).fit(grids)
        self._build()
        data = self._to_data(scenes)
        t0, c0 = time.perf_counter(), time.process_time()
        self.loss_history_, state = train_loop(
            self.net_,
            self.ema_,
            data,
            layout_schedule=self.layout_schedule_,
            shape_schedule=self.shape_schedule_,
            steps=self.steps,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            grad_clip=self.grad_clip,
            ema_decay=self.ema_decay,
            seed=self.seed,
            device=self.device,
            verbose=self.verbose,
            checkpoint_path=self.checkpoint_path,
            checkpoint_every=self.checkpoint_every,
            resume_state=resume_state,
            extra_state=self._extra_state(),
            max_time_s=self.max_train_time_s,
        )
        self.train_time_s_ = time.perf_counter() - t0
        self.train_cpu_s_ = time.process_time() - c0
        self.steps_done_ = int(state["step"])
        self.ema_.eval()
        return self

    def _extra_state(self):
        return {
            "params": self.get_params(),
            "box_codec": self.box_codec_.state_dict(),
            "shape_codec": None if self.shape_codec_ is None else self.shape_codec_.state_dict(),
        }

    def save(self, path) -> Path:
        """Save weights (network and EMA), codecs and parameters."""
        self._check_fitted()
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "model": self.net_.state_dict(),
            "ema": self.ema_.state_dict(),
            **self._extra_state(),
            "loss_history": list(getattr(self, "loss_history_", [])),
        }
        torch.save(state, path)
        return path

    @classmethod
    def load(cls, path, device="cpu", verbose: bool = False) -> EchoScene:
        state = load_checkpoint(path)
        params = dict(state["params"])
        params.update(device=device, verbose=verbose)
        est = cls(**params)
        est.box_codec_ = BoxCodec.from_state_dict(state["box_codec"])
        est.shape_codec_ = (
            ShapeCodec.from_state_dict(state["shape_codec"]) if state["shape_codec"] is not None else None
        )
        est._build()
        est.net_.load_state_dict(state["model"])
        est.ema_.load_state_dict(state["ema"])
        est.net_.eval()
        est.ema_.eval()
        est.loss_history_ = state.get("loss_history", state.get("history", []))
        return est

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def _sample_batch(self, batch, num_steps, generator, known=None, use_ema=True):
        net = self.ema_ if use_ema else self.net_
        net.eval()
        ei, et = batch.edge_index, batch.edge_type
        n = batch.node_class.size(0)
        v = net.node_input(batch.node_class, batch.room_type[batch.batch], ei, et)
        dev = self.device
        branches = [("box", net.layout, self.layout_schedule_, 8)]
        if net.shape is not None:
            branches.append(("shape", net.shape, self.shape_schedule_, self.shape_dim))
        out = {}
        for key, branch, sched, dim in branches:
            if key == "shape" and self.shared_shape_noise:
                x = torch.randn(int(batch.num_graphs), dim, generator=generator).to(dev)[batch.batch]
            else:
                x = torch.randn(n, dim, generator=generator).to(dev)
            fixed = x0_known = None
            if known is not None and known.get(key + "_fixed") is not None:
                fixed = known[key + "_fixed"].to(dev)
                x0_known = known[key].to(dev)
            context = None
            if not self.echo:
                context = branch.context(v, x, x.new_zeros(n, self.time_dim), ei, et)  # static: computed once
            ts = sched.timesteps(num_steps)
            for i, t in enumerate(ts):
                t_prev = ts[i + 1] if i + 1 < len(ts) else -1
                if fixed is not None:
                    noise_k = torch.randn(x.shape, generator=generator).to(dev)
                    x = torch.where(fixed[:, None], sched.add_noise(x0_known, noise_k, t), x)
                tt = torch.full((n,), t, dtype=torch.long, device=dev)
                eps = branch(x, tt, v, ei, et, context=context)
                x = sched.ddim_step(eps, t, t_prev, x, clip_sample=1.0 if key == "box" else None)
            if fixed is not None:
                x = torch.where(fixed[:, None], x0_known, x)
            out[key] = x
        return out

    def _batches(self, graphs, batch_size):
        for start in range(0, len(graphs), batch_size):
            yield start, graphs[start : start + batch_size]

    def sample(
        self,
        graphs: Sequence[S.Scene],
        num_steps: int | None = None,
        seed: int = 0,
        batch_size: int = 128,
        known: Sequence[dict] | None = None,
    ) -> list[S.Scene]:
        """Generate a room for every scene graph in ``graphs`` (their boxes and shapes are ignored).

        Returns new :class:`~graphdiff.data.scenes.Scene` objects with the graph of the input, decoded ``param7``
        boxes (``_scene_`` boxes zero) and, with the shape branch, ``extra["shape_code"]`` (n, shape_dim); use
        :meth:`decode_shapes` for occupancy grids. ``known`` (internal, used by :meth:`resample`) clamps nodes.
        """
        self._check_fitted()
        num_steps = self.sample_steps if num_steps is None else _pos_int(num_steps, "num_steps")
        if len(graphs) == 0:
            raise ValueError("`graphs` is empty: nothing to sample")
        for i, g in enumerate(graphs):
            S.check_scene(g, name=f"graphs[{i}]")
            if g.room_type not in self.box_codec_.bounds_:
                raise ValueError(f"graphs[{i}] is a {g.room_type!r}, a room type the model was not trained on")
        from torch_geometric.data import Batch

        gen = torch.Generator().manual_seed(int(seed))
        results = []
        bar = tqdm(total=len(graphs), disable=not self.verbose, desc="EchoScene sampling")
        for start, chunk in self._batches(list(graphs), batch_size):
            data = []
            for g in chunk:
                d = scene_to_data(g, self.box_codec_, None)
                data.append(d)
            batch = Batch.from_data_list(data).to(self.device)
            kn = None
            if known is not None:
                kc = known[start : start + len(chunk)]
                kn = {k: torch.cat([torch.as_tensor(x[k]) for x in kc]) for k in kc[0]}
            out = self._sample_batch(batch, num_steps, gen, kn)
            boxes = out["box"].cpu().numpy()
            shapes = out["shape"].cpu().numpy() if "shape" in out else None
            ptr = batch.ptr.cpu().numpy()
            for j, g in enumerate(chunk):
                a, b = ptr[j], ptr[j + 1]
                sc = g.copy()
                enc = boxes[a:b]
                sc.boxes = self.box_codec_.decode(enc, g.room_type)
                sc.boxes[g.classes == S.SCENE_ID] = 0.0
                sc.extra = {"box_normalized": enc}
                if shapes is not None:
                    sc.extra["shape_code"] = shapes[a:b]
                results.append(sc)
            bar.update(len(chunk))
        bar.close()
        return results

    def decode_shapes(self, scene: S.Scene, threshold: float = 0.5) -> np.ndarray:
        """Occupancy grids ``(n, 16, 16, 16)`` of a sampled scene's objects (empty for floor / ``_scene_``)."""
        self._check_fitted()
        if self.shape_codec_ is None or "shape_code" not in scene.extra:
            raise ValueError("this scene has no sampled shape codes (was the model fitted with shape=True?)")
        grids = self.shape_codec_.decode(scene.extra["shape_code"]) >= threshold
        grids[~scene.object_mask] = False
        return grids

    def resample(
        self,
        previous: Sequence[S.Scene],
        edited: Sequence[S.Scene],
        mode: str = "clamp",
        free: Sequence[np.ndarray] | None = None,
        num_steps: int | None = None,
        seed: int = 0,
    ) -> list[S.Scene]:
        """Re-sample edited graphs.

        Args:
            previous: sampled scenes before the edit (their boxes / shape codes are kept for fixed nodes).
            edited: the edited graphs (from :func:`graphdiff.scene.edits.add_node` / ``set_relation``); node ``i``
                of ``edited`` is node ``i`` of ``previous`` for ``i < previous.num_nodes`` (added nodes come after
                the old ones, the ``_scene_`` node being moved to the end).
            mode: ``"all"`` re-samples every node from fresh noise (the reference behaviour); ``"clamp"`` keeps every
                node not in ``free`` fixed.
            free: per scene, the node ids allowed to move (default: ``edited.extra["edited_nodes"]``).
        """
        if mode not in ("all", "clamp"):
            raise ValueError(f"`mode` must be 'all' or 'clamp', got {mode!r}")
        if len(previous) != len(edited):
            raise ValueError(
                f"`previous` and `edited` must have the same length, got {len(previous)} and {len(edited)}"
            )
        if mode == "all":
            return self.sample(edited, num_steps=num_steps, seed=seed)
        known = []
        for i, (old, new) in enumerate(zip(previous, edited)):
            mapping = new.extra.get("old_index")
            if mapping is None:
                mapping = np.arange(new.num_nodes) if new.num_nodes == old.num_nodes else None
            if mapping is None:
                raise ValueError(
                    f"edited[{i}] has no node mapping to previous[{i}]: build it with graphdiff.scene.edits"
                )
            mapping = np.asarray(mapping)
            f = np.asarray(free[i] if free is not None else new.extra.get("edited_nodes", []), dtype=np.int64)
            fixed = mapping >= 0
            fixed[f] = False
            fixed[new.classes == S.SCENE_ID] = False
            box = np.zeros((new.num_nodes, 8), dtype=np.float32)
            box[mapping >= 0] = self.box_codec_.encode(old.boxes[mapping[mapping >= 0]], new.room_type)
            entry = {"box": torch.as_tensor(box), "box_fixed": torch.as_tensor(fixed)}
            if self.shape_codec_ is not None and "shape_code" in old.extra:
                sh = np.zeros((new.num_nodes, self.shape_dim), dtype=np.float32)
                sh[mapping >= 0] = old.extra["shape_code"][mapping[mapping >= 0]]
                entry["shape"] = torch.as_tensor(sh)
                entry["shape_fixed"] = torch.as_tensor(fixed)
            known.append(entry)
        return self.sample(edited, num_steps=num_steps, seed=seed, known=known)

    def __repr__(self):
        return f"EchoScene(echo={self.echo}, echo_node_input={self.echo_node_input!r}, steps={self.steps})"
