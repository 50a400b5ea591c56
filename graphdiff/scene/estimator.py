"""The EchoScene estimator: fit on scenes, sample rooms conditioned on scene graphs, edit graphs and resample.

Zhai et al., ECCV 2024 (https://arxiv.org/abs/2405.00915): training (Sec. 3.5), graph-conditioned generation
(Sec. 3.4) and scene manipulation (Sec. 4.3). Sampling runs DDIM (Song et al., 2021, https://arxiv.org/abs/2010.02502)
with ``sample_steps`` steps in both branches (:class:`graphdiff.nn.diffusion.DDIMSampler`); each step runs the
information echo (or, with ``echo=False``, reuses the static graph encoding).

Schedulers of ``diffusers`` (the optional ``graphdiff[diffusers]`` extra) can replace the library's DDIM:
``sampler="dpm_solver++"`` (DPM-Solver++ 2M, Lu et al., 2022, https://arxiv.org/abs/2211.01095), ``"euler"``
(Karras et al., 2022, https://arxiv.org/abs/2206.00364) or ``"diffusers_ddim"``, or any diffusers scheduler instance
passed to :meth:`EchoScene.sample` (the ``set_timesteps`` / ``scale_model_input`` / ``step(...).prev_sample``
interface). Each branch gets its own copy, built with ``from_config`` from the scheduler's configuration with the
branch's training schedule substituted (``num_train_timesteps``, ``beta_start``, ``beta_end``, ``beta_schedule``,
``prediction_type="epsilon"``), so that a scheduler never runs on betas the network was not trained with.

The predicted clean box is clipped to [-1, 1] (the range of the normalised boxes) at every layout step: the authors'
released code samples without clipping and with 1000 ancestral steps; clipping keeps 50 DDIM steps of a briefly
trained model inside the room bounds. Shape codes are not clipped.

Manipulation. The authors' released code re-samples an edited graph from fresh noise, so every node can move
(``mode="all"``). ``mode="clamp"`` (an addition) keeps the untouched nodes where they were: at every step their
states are replaced by the forward-noised version of their previous values,
:math:`x_{t'}^i = \\sqrt{\\bar\\alpha_{t'}} x_0^i + \\sqrt{1-\\bar\\alpha_{t'}}\\epsilon` (RePaint-style
inpainting, Lugmayr et al., CVPR 2022, https://arxiv.org/abs/2201.09865), while the free nodes are denoised; through
the echo the free nodes see where the fixed ones are.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from graphdiff.base import Estimator, deprecated_alias, torch_seed
from graphdiff.data import scenes as S
from graphdiff.data.scenes import ROOM_TYPES
from graphdiff.data.validation import check_bool, check_choice, check_device, check_float, check_int, check_seed
from graphdiff.nn.diffusion import DDIMSampler, DDPMSchedule
from graphdiff.scene import metrics as M
from graphdiff.scene.checkpoint import CheckpointError, check_finite_weights, load_checkpoint, save_checkpoint
from graphdiff.scene.codecs import BoxCodec, ShapeCodec, _scene_to_data
from graphdiff.scene.config import (
    LAYOUT_PREDICATES,
    SHAPE_PREDICATES,
    EchoSceneConfig,
    TrainingConfig,
    config_differences,
)
from graphdiff.scene.guidance import guide_x0
from graphdiff.scene.model import EchoSceneNet
from graphdiff.scene.train import train_loop

__all__ = [
    "EchoScene",
    "LAYOUT_PREDICATES",
    "SHAPE_PREDICATES",
    "SAMPLERS",
    "EDIT_GUIDANCE",
    "EDIT_GUIDANCE_STEPS",
    "EDIT_CANDIDATES",
    "EDIT_WEIGHT",
]

# the two branches' noise schedules (EchoScene Sec. 3.1): linear betas for the boxes, the latent-diffusion
# "scaled linear" schedule for the shape codes
_LAYOUT_BETAS = (1e-4, 0.02, "linear")
_SHAPE_BETAS = (0.00085, 0.012, "scaled_linear")

#: :meth:`EchoScene.resample` defaults: edit guidance step size and guided steps, draws per edited graph, and the
#: weight of the changed triples in the edit guidance (chosen on validation graphs, docs/scene_generation.md)
EDIT_GUIDANCE = 0.02
EDIT_GUIDANCE_STEPS = 20
EDIT_CANDIDATES = 4
EDIT_WEIGHT = 4.0

#: ``sampler`` names: the library's DDIM and three schedulers of ``diffusers``
SAMPLERS = ("ddim", "diffusers_ddim", "dpm_solver++", "euler")


def _diffusers_scheduler(name: str):
    """A diffusers scheduler instance for a ``sampler`` name (its schedule is replaced per branch)."""
    try:
        import diffusers
    except ImportError as exc:  # pragma: no cover - diffusers is in the test extra
        raise ImportError(
            f"`sampler={name!r}` needs the optional dependency diffusers: pip install 'graphdiff[diffusers]'"
        ) from exc
    if name == "diffusers_ddim":
        return diffusers.DDIMScheduler(set_alpha_to_one=True, steps_offset=0, timestep_spacing="leading")
    if name == "dpm_solver++":
        return diffusers.DPMSolverMultistepScheduler(algorithm_type="dpmsolver++", solver_order=2)
    return diffusers.EulerDiscreteScheduler()


def _check_sampler(sampler, name: str = "sampler"):
    """A name of :data:`SAMPLERS` or an object with the diffusers scheduler interface."""
    if isinstance(sampler, str):
        return check_choice(sampler, name, SAMPLERS)
    if not all(callable(getattr(sampler, m, None)) for m in ("set_timesteps", "step", "add_noise")) or not hasattr(
        sampler, "config"
    ):
        raise ValueError(
            f"`{name}` must be one of {SAMPLERS} or a diffusers scheduler (with `config`, `set_timesteps`, `step` and "
            f"`add_noise`), got {type(sampler).__name__}"
        )
    return sampler


class _Scheduler:
    """One branch's sampler behind one interface: the library's DDIM or a diffusers scheduler on the branch's
    training schedule (layout: the predicted clean sample clipped to [-1, 1] where the scheduler can)."""

    def __init__(self, spec, schedule: DDPMSchedule, clip: float | None, num_steps: int):
        self.schedule = schedule
        self.step_kwargs = {}
        if isinstance(spec, str) and spec == "ddim":
            self.impl = DDIMSampler(schedule, clip_sample=clip)
            self.impl.set_timesteps(num_steps)
            self.timesteps = list(self.impl.timesteps)
            self.init_noise_sigma = 1.0
            return
        base = _diffusers_scheduler(spec) if isinstance(spec, str) else spec
        config = dict(base.config)
        known = {
            "num_train_timesteps": schedule.num_train_timesteps,
            "beta_start": schedule.beta_start,
            "beta_end": schedule.beta_end,
            "beta_schedule": schedule.beta_schedule,
            "prediction_type": "epsilon",
            "trained_betas": None,
        }
        if "clip_sample" in config:
            known.update(clip_sample=clip is not None, clip_sample_range=float(clip or 1.0))
            if "thresholding" in config:
                known["thresholding"] = False
        elif "thresholding" in config:  # dynamic thresholding with a maximum of `clip` clips x0 to [-clip, clip]
            known.update(thresholding=clip is not None, sample_max_value=float(clip or 1.0))
        # overrides as keyword arguments: a scheduler's config lists its defaulted keys (`_use_default_values`), and
        # from_config resets those to the defaults whatever the config dict says
        self.impl = type(base).from_config(base.config, **known)
        if clip is not None and "use_clipped_model_output" in inspect.signature(self.impl.step).parameters:
            self.step_kwargs["use_clipped_model_output"] = True  # as the library's DDIM: eps from the clipped x0
        self.impl.set_timesteps(num_steps)
        self.timesteps = list(self.impl.timesteps)
        self.init_noise_sigma = float(getattr(self.impl, "init_noise_sigma", 1.0))

    # a diffusers scheduler sees (n, dim, 1) samples: its thresholding reads (batch, channels, ...) shapes
    def add_noise(self, x0, noise, t):
        if isinstance(self.impl, DDIMSampler):
            return self.schedule.add_noise(x0, noise, int(t))
        tt = torch.as_tensor(t).reshape(1).expand(x0.size(0)).to(x0.device)
        return self.impl.add_noise(x0[..., None], noise[..., None], tt)[..., 0]

    def scale_model_input(self, x, t):
        if isinstance(self.impl, DDIMSampler) or not hasattr(self.impl, "scale_model_input"):
            return x
        return self.impl.scale_model_input(x[..., None], t)[..., 0]

    def step(self, eps, t, x):
        if isinstance(self.impl, DDIMSampler):
            return self.impl.step(eps, t, x)
        out = self.impl.step(eps[..., None], t, x[..., None], **self.step_kwargs)
        return getattr(out, "prev_sample", out)[..., 0]  # a diffusers scheduler returns an output object


class EchoScene(Estimator):
    """Scene-graph diffusion with information echo (layout + shape branches), scikit-learn style.

    Parameters
    ----------
    echo : bool
        Run the echo at every denoising step (True) or encode the graph once, statically (False).
    echo_node_input : {"latent", "class_emb"}
        The echo's node input: the relation-encoder latent (paper) or the class embedding (the authors' released
        code).
    shape : bool
        Train and sample the shape branch.
    class_dim, pred_dim, latent_dim : int
        Widths of the class embedding, predicate embeddings and encoder latent.
    encoder_layers, echo_layers, shape_echo_layers, gcn_hidden : int
        Triplet-GCN depths (relation encoder, layout echo, shape echo) and hidden width.
    layout_predicates, shape_predicates : sequence of int or None
        Predicate ids whose edges the layout echo (and the relation encoder) and the shape echo run over (None:
        all). By default the layout side sees ``in`` and the positional predicates (left, right, front, behind,
        close by, above, standing on, symmetrical to) and the shape echo sees ``in`` and the ``same style / super
        category / material as`` edges: the size comparisons and attribute edges are two thirds of all triples and
        carry no position, so leaving them out makes each step about three times cheaper on CPU.
    proj_dim : int
        Width of the projections of the noisy state and of the time embedding in the echo input.
    context_dim : int
        Width of the echo output (the denoiser's context).
    time_dim, width, num_blocks : int
        Denoiser time embedding, width and number of residual blocks.
    norm : {"layer", "batch", None}
        Normalisation in the GCN MLPs (``"batch"`` as in the authors' released code).
    shape_dim : int
        Dimension of the PCA shape code.
    steps, batch_size : int
        Optimiser steps and scenes per step. The default 4,000 steps is the setting of the benchmark's tables
        (about 170 CPU-seconds for 2,000 SynthFront rooms, one thread).
    lr, weight_decay, grad_clip, ema_decay : float
        AdamW, gradient-norm clipping (0: none) and the decay of the weight average used for sampling.
    num_train_timesteps : int
        Diffusion length T of both branches.
    sample_steps : int
        Denoising steps at sampling (at most ``num_train_timesteps``).
    sampler : {"ddim", "diffusers_ddim", "dpm_solver++", "euler"}
        The reverse process at sampling: the library's DDIM (:class:`graphdiff.nn.diffusion.DDIMSampler`, no extra
        dependency) or a scheduler of ``diffusers`` (``DDIMScheduler``, ``DPMSolverMultistepScheduler`` with
        DPM-Solver++ of order 2, ``EulerDiscreteScheduler``) on the branch's training schedule. The layout's
        predicted clean boxes are clipped to [-1, 1] by the DDIM samplers (clipping) and DPM-Solver++ (dynamic
        thresholding with a maximum of 1); Euler does not clip. :meth:`sample` and :meth:`resample` also take a
        diffusers scheduler instance.
    guidance : float
        Relation guidance at sampling (an addition beyond the paper, :mod:`graphdiff.scene.guidance`; 0: off, the
        default): in the last ``guidance_steps`` layout steps the predicted clean boxes take 10 gradient steps of
        this size on the graph's relation hinge losses before the step continues. Needs a variance-preserving
        sampler (not ``"euler"``).
    guidance_steps : int
        Denoising steps (the last ones) that are guided.
    shared_shape_noise : bool
        One initial shape noise per scene (the authors' code repeats x_T over a scene's objects).
    max_train_time_s : float or None
        Stop training early after this many CPU seconds of the process (None: run all steps).
    checkpoint_path : str or os.PathLike or None
        Where training writes resumable checkpoints (``fit(..., resume=True)`` continues from it).
    checkpoint_every : int
        Steps between checkpoints (0: only at the end).
    device : str or torch.device
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...
    seed : int
        Seed of the initialisation and of every draw of the training.
    verbose : bool
        tqdm progress bars.

    Attributes
    ----------
    config_ : EchoSceneConfig
        The network's configuration.
    training_config_ : TrainingConfig
    net_, ema_ : EchoSceneNet
        The trained network and its exponential moving average (used for sampling).
    box_codec_ : BoxCodec
    shape_codec_ : ShapeCodec or None
    history_ : list of float
        The training loss of every step.
    steps_done_ : int
        Optimiser steps taken (fewer than ``steps`` when ``max_train_time_s`` stopped the training).
    train_time_s_, train_cpu_s_ : float
        Wall and CPU time of the training.

    Examples
    --------
    A tiny model (the defaults are the benchmarked configuration):

    >>> from graphdiff.data import scenes
    >>> tiny = dict(class_dim=8, pred_dim=8, latent_dim=8, gcn_hidden=8, echo_layers=1, encoder_layers=1, proj_dim=4)
    >>> tiny.update(context_dim=8, time_dim=8, width=16, num_blocks=1, shape=False, sample_steps=3, verbose=False)
    >>> model = EchoScene(steps=3, batch_size=2, **tiny).fit(scenes.generate_scenes(6))
    >>> graphs = scenes.generate_scenes(2, seed=1)
    >>> rooms = model.sample(graphs)
    >>> len(model.history_), rooms[0].boxes.shape == graphs[0].boxes.shape
    (3, True)
    """

    loss_history_ = deprecated_alias("history_")

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
        steps: int = 4000,
        batch_size: int = 16,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        grad_clip: float = 5.0,
        ema_decay: float = 0.995,
        num_train_timesteps: int = 1000,
        sample_steps: int = 50,
        sampler: str = "ddim",
        guidance: float = 0.0,
        guidance_steps: int = 10,
        shared_shape_noise: bool = True,
        max_train_time_s: float | None = None,
        checkpoint_path=None,
        checkpoint_every: int = 500,
        device="cpu",
        seed: int = 0,
        verbose: bool = True,
    ):
        self.echo = echo
        self.echo_node_input = echo_node_input
        self.shape = shape
        self.class_dim = class_dim
        self.pred_dim = pred_dim
        self.latent_dim = latent_dim
        self.encoder_layers = encoder_layers
        self.echo_layers = echo_layers
        self.shape_echo_layers = shape_echo_layers
        self.layout_predicates = layout_predicates
        self.shape_predicates = shape_predicates
        self.gcn_hidden = gcn_hidden
        self.proj_dim = proj_dim
        self.context_dim = context_dim
        self.time_dim = time_dim
        self.width = width
        self.num_blocks = num_blocks
        self.norm = norm
        self.shape_dim = shape_dim
        self.steps = steps
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.grad_clip = grad_clip
        self.ema_decay = ema_decay
        self.num_train_timesteps = num_train_timesteps
        self.sample_steps = sample_steps
        self.sampler = sampler
        self.guidance = guidance
        self.guidance_steps = guidance_steps
        self.shared_shape_noise = shared_shape_noise
        self.max_train_time_s = max_train_time_s
        self.checkpoint_path = checkpoint_path
        self.checkpoint_every = checkpoint_every
        self.device = device
        self.seed = seed
        self.verbose = verbose

    # ------------------------------------------------------------------ parameters
    def _configs(self) -> tuple[EchoSceneConfig, TrainingConfig]:
        """The network and training configurations of the current parameters (validated; the one place where
        parameters become configurations)."""
        params = self.get_params(deep=False)
        net = EchoSceneConfig(
            **{f.name: params[f.name] for f in dataclasses.fields(EchoSceneConfig) if f.name in params}
        )
        training = TrainingConfig(**{f.name: params[f.name] for f in dataclasses.fields(TrainingConfig)})
        return net, training

    def _check_params(self) -> None:
        super()._check_params()
        _, training = self._configs()
        check_int(self.sample_steps, "sample_steps", minimum=1)
        if self.sample_steps > training.num_train_timesteps:
            raise ValueError(
                f"`sample_steps` ({self.sample_steps}) cannot exceed `num_train_timesteps` "
                f"({training.num_train_timesteps})"
            )
        check_choice(self.sampler, "sampler", SAMPLERS)
        check_float(self.guidance, "guidance", minimum=0.0)
        check_int(self.guidance_steps, "guidance_steps", minimum=1)
        check_bool(self.shared_shape_noise, "shared_shape_noise")
        check_float(self.max_train_time_s, "max_train_time_s", minimum=0.0, low_open=True, allow_none=True)
        check_int(self.checkpoint_every, "checkpoint_every", minimum=0)
        if self.checkpoint_path is not None and not isinstance(self.checkpoint_path, (str, os.PathLike)):
            raise ValueError(
                "`checkpoint_path` must be a path (str or os.PathLike) or None, "
                f"got {type(self.checkpoint_path).__name__}"
            )

    def _stored_params(self) -> dict:
        """The validated parameters as plain Python values (what a checkpoint stores)."""
        net, training = self._configs()
        out = {**dataclasses.asdict(net), **dataclasses.asdict(training)}
        out = {k: v for k, v in out.items() if k in self.get_params(deep=False)}
        out.update(
            sample_steps=int(self.sample_steps),
            sampler=str(self.sampler),
            guidance=float(self.guidance),
            guidance_steps=int(self.guidance_steps),
            shared_shape_noise=bool(self.shared_shape_noise),
            max_train_time_s=None if self.max_train_time_s is None else float(self.max_train_time_s),
            checkpoint_path=None if self.checkpoint_path is None else os.fspath(self.checkpoint_path),
            checkpoint_every=int(self.checkpoint_every),
            device=str(self._device()),
            verbose=bool(self.verbose),
        )
        return out

    # ------------------------------------------------------------------ construction
    def _build(self, config: EchoSceneConfig, training: TrainingConfig) -> None:
        device = self._device()
        with torch_seed(training.seed, device):  # initialisation from the seed; the caller's RNG state is kept
            self.net_ = EchoSceneNet(config).to(device)
        self.ema_ = copy.deepcopy(self.net_)
        for p in self.ema_.parameters():
            p.requires_grad_(False)
        self.config_, self.training_config_ = config, training
        T = training.num_train_timesteps
        self.layout_schedule_ = DDPMSchedule(T, *_LAYOUT_BETAS, device=device)
        self.shape_schedule_ = DDPMSchedule(T, *_SHAPE_BETAS, device=device)

    def _fit_codecs(self, scenes: Sequence[S.Scene], config: EchoSceneConfig) -> None:
        self.box_codec_ = BoxCodec().fit(scenes)
        self.shape_codec_ = None
        if config.shape:
            keys = np.concatenate(
                [np.stack([s.classes, s.shape_variant], 1)[s.object_mask & (s.shape_variant >= 0)] for s in scenes]
            )
            keys = np.unique(keys, axis=0)  # distinct (class, variant) shapes
            if len(keys) < config.shape_dim + 1:
                raise ValueError(
                    f"the training scenes hold {len(keys)} distinct shapes (objects with a known `shape_variant`), "
                    f"too few for `shape_dim`={config.shape_dim}; scenes without shapes (SG-FRONT files) need "
                    "shape=False"
                )
            grids = S.shape_grids(keys[:, 0], keys[:, 1])
            self.shape_codec_ = ShapeCodec(config.shape_dim).fit(grids)

    def _set_codecs(self, state: dict) -> None:
        self.box_codec_ = BoxCodec.from_state_dict(state["box_codec"])
        self.shape_codec_ = None if state["shape_codec"] is None else ShapeCodec.from_state_dict(state["shape_codec"])

    def _extra_state(self) -> dict:
        return {
            "config": dataclasses.asdict(self.config_),
            "params": self._stored_params(),
            "box_codec": self.box_codec_.state_dict(),
            "shape_codec": None if self.shape_codec_ is None else self.shape_codec_.state_dict(),
        }

    @staticmethod
    def _saved_configs(state: dict, path) -> tuple[EchoSceneConfig, TrainingConfig]:
        try:
            return EchoSceneConfig(**state["config"]), TrainingConfig(**state["training"])
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"checkpoint {path} holds no valid configuration ({exc})") from exc

    def _load_weights(self, state: dict, path, keys=("model", "ema")) -> None:
        for key, module in zip(keys, (self.net_, self.ema_)):
            check_finite_weights(state[key], path, "network" if key == "model" else "EMA")
            try:
                module.load_state_dict(state[key])
            except RuntimeError as exc:
                raise CheckpointError(f"checkpoint {path}: its {key} weights do not fit the network ({exc})") from exc

    # ------------------------------------------------------------------ training
    def fit(self, scenes: Sequence[S.Scene], resume: bool = False) -> EchoScene:
        """Fit the box/shape codecs on ``scenes`` and train the network.

        Parameters
        ----------
        scenes : sequence of Scene
            Training rooms (graphs and boxes), validated with :func:`graphdiff.data.scenes.check_scenes`: a
            relation of a node to itself is an error, a contradicting pair a warning.
        resume : bool
            Continue from ``checkpoint_path`` when it exists. The checkpoint is verified (checksum) and its network
            and training configuration must equal this estimator's field by field (a different ``lr``, width,
            ``shape``, block count, ``num_train_timesteps``, ``steps``, ... raises
            :class:`~graphdiff.scene.CheckpointError` listing the differences); ``device``, ``verbose``,
            ``max_train_time_s``, ``checkpoint_every`` and the sampling parameters may differ.

        Returns
        -------
        EchoScene
            ``self``.
        """
        self._check_params()
        check_bool(resume, "resume")
        scenes = S.check_scenes(scenes, name="scenes", stacklevel=3)
        config, training = self._configs()
        resume_state = None
        if resume:
            if self.checkpoint_path is None:
                raise ValueError("`resume=True` needs `checkpoint_path`")
            if Path(self.checkpoint_path).exists():
                resume_state = load_checkpoint(self.checkpoint_path)
                if "optimizer" not in resume_state:
                    raise CheckpointError(
                        f"checkpoint {self.checkpoint_path} was written by EchoScene.save (no optimiser state): "
                        "load it with EchoScene.load; training cannot resume from it"
                    )
                saved = self._saved_configs(resume_state, self.checkpoint_path)
                diffs = config_differences(saved[0], config) + config_differences(saved[1], training)
                if diffs:
                    raise CheckpointError(
                        f"cannot resume from checkpoint {self.checkpoint_path}: it was trained with another "
                        f"configuration (checkpoint != this EchoScene): {'; '.join(diffs)}"
                    )
        if resume_state is not None:
            self._set_codecs(resume_state)
        else:
            self._fit_codecs(scenes, config)
        self._build(config, training)
        if resume_state is not None:  # verified before the training loop loads them
            for key in ("model", "ema"):
                check_finite_weights(resume_state[key], self.checkpoint_path, key)
        data = [_scene_to_data(s, self.box_codec_, self.shape_codec_ if config.shape else None) for s in scenes]
        t0, c0 = time.perf_counter(), time.process_time()
        self.history_, state = train_loop(
            self.net_,
            self.ema_,
            data,
            training,
            layout_schedule=self.layout_schedule_,
            shape_schedule=self.shape_schedule_,
            device=self._device(),
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
        if not all(bool(torch.isfinite(p).all()) for p in self.ema_.parameters()):
            raise RuntimeError("EchoScene training diverged: the averaged weights hold NaN or infinite values")
        return self

    def save(self, path) -> Path:
        """Save the weights (network and EMA), codecs, configuration and training history (a verified checkpoint
        with a checksum).

        Parameters
        ----------
        path : str or os.PathLike
            Where to write.

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        self._check_fitted()
        path = Path(path)
        state = {
            "model": self.net_.state_dict(),
            "ema": self.ema_.state_dict(),
            **self._extra_state(),
            "training": dataclasses.asdict(self.training_config_),
            "history": [float(v) for v in self.history_],
            "steps_done": int(self.steps_done_),
        }
        save_checkpoint(path, state)
        return path

    @classmethod
    def load(cls, path, device="cpu", verbose: bool = False) -> EchoScene:
        """A fitted EchoScene from a file written by :meth:`save` (or a training checkpoint).

        The file is verified (its checksum; ``torch.load(weights_only=True)``), its weights must be finite, and
        every error (:class:`~graphdiff.scene.CheckpointError`, a :class:`ValueError`) names the path.

        Parameters
        ----------
        path : str or os.PathLike
            The checkpoint.
        device : str or torch.device
            Where the loaded networks live.
        verbose : bool
            tqdm progress bars of the loaded estimator.

        Returns
        -------
        EchoScene
        """
        state = load_checkpoint(path)
        params = state.get("params")
        if not isinstance(params, dict):
            raise CheckpointError(f"checkpoint {path} holds no estimator parameters")
        known = cls().get_params(deep=False)
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise CheckpointError(f"checkpoint {path} holds parameters this EchoScene does not have: {unknown}")
        check_device(device)
        check_bool(verbose, "verbose")
        est = cls(**{**params, "device": device, "verbose": verbose})
        try:
            est._check_params()
        except ValueError as exc:
            raise CheckpointError(f"checkpoint {path} holds invalid parameters: {exc}") from exc
        config, training = cls._saved_configs(state, path)
        diffs = config_differences(config, est._configs()[0]) + config_differences(training, est._configs()[1])
        if diffs:
            raise CheckpointError(f"checkpoint {path}: its parameters contradict its configuration: {'; '.join(diffs)}")
        est._set_codecs(state)
        est._build(config, training)
        est._load_weights(state, path)
        est.net_.eval()
        est.ema_.eval()
        est.history_ = [float(v) for v in state.get("history", [])]
        est.steps_done_ = int(state.get("steps_done", state.get("step", len(est.history_))))
        return est

    # ------------------------------------------------------------------ sampling
    @torch.no_grad()
    def _denoise(
        self,
        branch,
        sampler,
        x,
        v,
        edge_index,
        edge_type,
        generator,
        fixed=None,
        x0_known=None,
        context=None,
        guide=None,
    ):
        """Run ``sampler`` over one branch; nodes in ``fixed`` are replaced by the forward-noised ``x0_known``
        before every step (RePaint-style clamping) and set to ``x0_known`` at the end. ``guide``
        (``(lo, hi, triples, weights, strength, steps)``) turns on relation guidance in the last ``steps`` steps."""
        n, dev = x.size(0), x.device
        x = x * sampler.init_noise_sigma
        if guide is not None:
            *guide, strength, guided_steps = guide
            first_guided = len(sampler.timesteps) - int(guided_steps)
        for i, t in enumerate(sampler.timesteps):
            if fixed is not None:
                noise_k = torch.randn(x.shape, generator=generator).to(dev)
                x = torch.where(fixed[:, None], sampler.add_noise(x0_known, noise_k, t), x)
            tt = torch.as_tensor(t, device=dev).reshape(1).expand(n)  # integer (DDIM) or real (Euler) timesteps
            inp = sampler.scale_model_input(x, t)
            eps = branch(inp, tt, v, edge_index, edge_type, context=context)
            if guide is not None and i >= first_guided:
                acp = sampler.schedule.alphas_cumprod[int(t)].to(dev)
                x0 = ((inp - (1 - acp).sqrt() * eps) / acp.sqrt()).clamp(-1.0, 1.0)
                movable = None if fixed is None else ~fixed
                lo, hi, triples, weights = guide
                x0 = guide_x0(x0, lo, hi, triples, strength=strength, movable=movable, weights=weights)
                eps = (inp - acp.sqrt() * x0) / (1 - acp).sqrt()
            x = sampler.step(eps, t, x)
        if fixed is not None:
            x = torch.where(fixed[:, None], x0_known, x)
        return x

    @torch.no_grad()
    def _sample_batch(self, batch, num_steps, generator, known=None, use_ema=True, sampler="ddim", edit=None):
        net = self.ema_ if use_ema else self.net_
        net.eval()
        ei, et = batch.edge_index, batch.edge_type
        n = batch.node_class.size(0)
        v = net.node_input(batch.node_class, batch.room_type[batch.batch], ei, et)
        dev = self._device()
        branches = [("box", net.layout, self.layout_schedule_, 8, 1.0)]
        if net.shape is not None:
            branches.append(("shape", net.shape, self.shape_schedule_, self.config_.shape_dim, None))
        out = {}
        for key, branch, schedule, dim, clip in branches:
            if key == "shape" and self.shared_shape_noise:
                x = torch.randn(int(batch.num_graphs), dim, generator=generator).to(dev)[batch.batch]
            else:
                x = torch.randn(n, dim, generator=generator).to(dev)
            fixed = x0_known = None
            if known is not None and known.get(key + "_fixed") is not None:
                fixed = known[key + "_fixed"].to(dev)
                x0_known = known[key].to(dev)
            context = None
            if not self.config_.echo:  # static graph encoding: computed once
                context = branch.context(v, x, x.new_zeros(n, self.config_.time_dim), ei, et)
            scheduler = _Scheduler(sampler, schedule, clip, num_steps)
            guide = None
            strength, weights, guided_steps = float(self.guidance), None, int(self.guidance_steps)
            if edit is not None and edit["strength"] > 0:  # edit guidance replaces the general guidance
                strength, weights, guided_steps = edit["strength"], edit["weights"].to(dev), edit["steps"]
            if key == "box" and strength > 0:
                if scheduler.init_noise_sigma != 1.0:
                    raise ValueError(
                        "`guidance` and `edit_guidance` need a sampler on the variance-preserving scale (ddim, "
                        "diffusers_ddim, dpm_solver++), not one in sigma space such as euler"
                    )
                rooms = [ROOM_TYPES[int(r)] for r in batch.room_type]
                lo_r = torch.as_tensor(np.stack([self.box_codec_.bounds_[r][0] for r in rooms]), dtype=torch.float32)
                hi_r = torch.as_tensor(np.stack([self.box_codec_.bounds_[r][1] for r in rooms]), dtype=torch.float32)
                b = batch.batch.cpu()
                triples = torch.stack([ei[0], et, ei[1]], dim=1)
                guide = (lo_r[b].to(dev), hi_r[b].to(dev), triples, weights, strength, min(guided_steps, num_steps))
            out[key] = self._denoise(branch, scheduler, x, v, ei, et, generator, fixed, x0_known, context, guide)
        return out

    def sample(
        self,
        graphs: Sequence[S.Scene],
        num_steps: int | None = None,
        seed: int = 0,
        batch_size: int = 128,
        sampler=None,
    ) -> list[S.Scene]:
        """Generate a room for every scene graph in ``graphs`` (their boxes and shapes are ignored).

        Parameters
        ----------
        graphs : sequence of Scene
            Scene graphs of room types the model was trained on (validated as in :meth:`fit`).
        num_steps : int, optional
            Denoising steps (default ``sample_steps``), at most ``num_train_timesteps``.
        seed : int
            Seed of the initial noise; the rooms are a deterministic function of it.
        batch_size : int
            Graphs denoised together. The rooms are a deterministic function of ``(seed, batch_size)``: the
            initial noise is drawn batch by batch from one generator, so another ``batch_size`` gives other (equally
            valid) samples for the graphs after the first batch.
        sampler : str or diffusers scheduler, optional
            ``"ddim"``, ``"diffusers_ddim"``, ``"dpm_solver++"``, ``"euler"`` or a ``diffusers`` scheduler instance
            (default: the ``sampler`` parameter).
            An instance is not used itself: each branch gets ``type(sampler).from_config`` of its configuration with
            the branch's training schedule (and, for the shape codes, no clipping or thresholding).

        Returns
        -------
        list of Scene
            New scenes with the graph of the input, decoded ``param7`` boxes (``_scene_`` boxes zero), the
            normalised boxes in ``extra["box_normalized"]`` and, with the shape branch, ``extra["shape_code"]``
            ``(n, shape_dim)``; use :meth:`decode_shapes` for occupancy grids.

        Raises
        ------
        RuntimeError
            When the network produces NaN or infinite boxes or shape codes (corrupt or diverged weights).
        """
        self._check_fitted()
        graphs = S.check_scenes(graphs, name="graphs", stacklevel=3)
        return self._generate(graphs, num_steps, seed, batch_size, known=None, sampler=sampler)

    def _generate(self, graphs, num_steps, seed, batch_size, known=None, sampler=None, edit=None) -> list[S.Scene]:
        """Sample validated ``graphs``; ``known`` (from :meth:`resample`) clamps nodes; ``edit`` (from
        :meth:`resample`: ``strength``, ``steps`` and one ``weights`` array per graph) turns on edit guidance."""
        sampler = _check_sampler(self.sampler, "sampler") if sampler is None else _check_sampler(sampler)
        check_float(self.guidance, "guidance", minimum=0.0)
        check_int(self.guidance_steps, "guidance_steps", minimum=1)
        from torch_geometric.data import Batch

        T = self.training_config_.num_train_timesteps
        if num_steps is None:
            num_steps = check_int(self.sample_steps, "sample_steps", minimum=1, maximum=T)
        else:
            num_steps = check_int(num_steps, "num_steps", minimum=1, maximum=T)
        seed = check_seed(seed)
        batch_size = check_int(batch_size, "batch_size", minimum=1)
        for i, g in enumerate(graphs):
            if g.room_type not in self.box_codec_.bounds_:
                raise ValueError(f"graphs[{i}] is a {g.room_type!r}, a room type the model was not trained on")
        gen = torch.Generator().manual_seed(seed)
        results = []
        bar = tqdm(total=len(graphs), disable=not self.verbose, desc="EchoScene sampling")
        for start in range(0, len(graphs), batch_size):
            chunk = graphs[start : start + batch_size]
            batch = Batch.from_data_list([_scene_to_data(g, self.box_codec_, None) for g in chunk]).to(self._device())
            kn = None
            if known is not None:
                kc = known[start : start + len(chunk)]
                kn = {k: torch.cat([torch.as_tensor(x[k]) for x in kc]) for k in kc[0]}
            ed = None
            if edit is not None:
                w = torch.cat(
                    [torch.as_tensor(x, dtype=torch.float32) for x in edit["weights"][start : start + len(chunk)]]
                )
                ed = {"strength": float(edit["strength"]), "steps": int(edit["steps"]), "weights": w}
            out = self._sample_batch(batch, num_steps, gen, kn, sampler=sampler, edit=ed)
            boxes = out["box"].cpu().numpy()
            shapes = out["shape"].cpu().numpy() if "shape" in out else None
            ptr = batch.ptr.cpu().numpy()
            bad = ~np.isfinite(boxes).all(axis=1)
            if shapes is not None:
                bad |= ~np.isfinite(shapes).all(axis=1)
            if bad.any():
                first = int(np.searchsorted(ptr, np.flatnonzero(bad)[0], side="right") - 1) + start
                raise RuntimeError(
                    f"EchoScene produced NaN or infinite boxes or shape codes for {int(bad.sum())} node(s), first "
                    f"in graphs[{first}]: the network's weights are corrupt or diverged"
                )
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
        """Occupancy grids of a sampled scene's objects (empty for floor / ``_scene_``).

        Parameters
        ----------
        scene : Scene
            A scene returned by :meth:`sample` or :meth:`resample` (with ``extra["shape_code"]``).
        threshold : float
            Occupancy threshold of the decoded grids, in [0, 1].

        Returns
        -------
        numpy.ndarray of bool, shape (n, 16, 16, 16)
        """
        self._check_fitted()
        threshold = check_float(threshold, "threshold", minimum=0.0, maximum=1.0)
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
        sampler=None,
        edit_guidance: float = EDIT_GUIDANCE,
        edit_guidance_steps: int = EDIT_GUIDANCE_STEPS,
        candidates: int = EDIT_CANDIDATES,
    ) -> list[S.Scene]:
        """Re-sample edited graphs.

        The edit is followed by two additions beyond the paper (EchoScene's manipulation re-samples once, unguided):
        *edit guidance*, relation guidance (:mod:`graphdiff.scene.guidance`) in the last ``edit_guidance_steps``
        layout steps on the relations of the free nodes (``free``, by default the edited ones), the changed
        triples (``extra["changed_triples"]``) weighted ``EDIT_WEIGHT`` (4) times, only the free nodes moving; and
        *candidates*: ``candidates`` draws of each edited graph, of which the first that satisfies the most changed
        triples and then the most of the free nodes' other relations (the evaluation rules of
        :func:`graphdiff.scene.metrics.relation_pass`) is returned. ``edit_guidance=0, candidates=1`` is the plain
        re-sampling.

        Parameters
        ----------
        previous : sequence of Scene
            Sampled scenes before the edit (their boxes / shape codes are kept for fixed nodes).
        edited : sequence of Scene
            The edited graphs (from :func:`graphdiff.scene.edits.add_node` / ``set_relation``); node ``i`` of
            ``edited`` is node ``extra["old_index"][i]`` of ``previous`` (-1 for an added node; without
            ``old_index`` the two must have the same nodes). Edits may leave contradicting pairs: a warning.
        mode : {"clamp", "all"}
            ``"all"`` re-samples every node from fresh noise (the authors' behaviour); ``"clamp"`` keeps every node
            not in ``free`` fixed: its box, shape code and ``box_normalized`` are copied from ``previous``
            bit for bit.
        free : sequence of sequences of int, optional
            Per scene, the node ids of ``edited`` allowed to move (default: ``edited.extra["edited_nodes"]``).
        num_steps : int, optional
            As in :meth:`sample`.
        seed : int
            As in :meth:`sample`.
        sampler : str or diffusers scheduler, optional
            As in :meth:`sample`.
        edit_guidance : float
            Step size of the edit guidance (0: none; replaces ``guidance`` while re-sampling when positive).
        edit_guidance_steps : int
            Denoising steps (the last ones) with edit guidance.
        candidates : int
            Draws per edited graph (the sampling cost grows by this factor).

        Returns
        -------
        list of Scene
            With ``extra["candidate"]``, the index of the chosen draw.
        """
        self._check_fitted()
        check_choice(mode, "mode", ("clamp", "all"))
        edit_guidance = check_float(edit_guidance, "edit_guidance", minimum=0.0)
        edit_guidance_steps = check_int(edit_guidance_steps, "edit_guidance_steps", minimum=1)
        candidates = check_int(candidates, "candidates", minimum=1)
        previous = S.check_scenes(previous, name="previous", stacklevel=3)
        edited = S.check_scenes(edited, name="edited", stacklevel=3)
        if len(previous) != len(edited):
            raise ValueError(
                f"`previous` and `edited` must have the same length, got {len(previous)} and {len(edited)}"
            )
        if free is not None and (isinstance(free, (str, bytes)) or len(free) != len(edited)):
            raise ValueError(
                f"`free` must hold one list of node ids per edited scene ({len(edited)}), got {free!r:.80}"
            )
        known, mappings, free_nodes = [], [], []
        for i, (old, new) in enumerate(zip(previous, edited)):
            if old.room_type != new.room_type:
                raise ValueError(f"edited[{i}] is a {new.room_type!r} but previous[{i}] a {old.room_type!r}")
            mapping = new.extra.get("old_index")
            if mapping is None:
                mapping = np.arange(new.num_nodes) if new.num_nodes == old.num_nodes else None
            if mapping is None:
                raise ValueError(
                    f"edited[{i}] has no node mapping to previous[{i}]: build it with graphdiff.scene.edits"
                )
            mapping = np.asarray(mapping)
            if mapping.shape != (new.num_nodes,) or not np.issubdtype(mapping.dtype, np.integer):
                raise ValueError(f"edited[{i}].extra['old_index'] must hold one integer per node ({new.num_nodes})")
            if mapping.size and (mapping.min() < -1 or mapping.max() >= old.num_nodes):
                raise ValueError(
                    f"edited[{i}].extra['old_index'] refers to node {int(mapping.max())}, but previous[{i}] has "
                    f"{old.num_nodes} nodes"
                )
            f = np.asarray(free[i] if free is not None else new.extra.get("edited_nodes", []))
            if f.size and (f.ndim != 1 or not np.issubdtype(f.dtype, np.integer)):
                raise ValueError(f"`free[{i}]` must be a list of node ids, got {f.tolist()!r:.80}")
            f = f.astype(np.int64).reshape(-1)
            if f.size and (f.min() < 0 or f.max() >= new.num_nodes):
                bad = int(f.min() if f.min() < 0 else f.max())
                raise ValueError(f"`free[{i}]` holds node id {bad}, but edited[{i}] has {new.num_nodes} nodes")
            mappings.append(mapping)
            free_nodes.append(f)
            fixed = mapping >= 0
            fixed[f] = False
            fixed[new.classes == S.SCENE_ID] = False
            box = np.zeros((new.num_nodes, 8), dtype=np.float32)
            box[mapping >= 0] = self.box_codec_.encode(old.boxes[mapping[mapping >= 0]], new.room_type)
            entry = {"box": torch.as_tensor(box), "box_fixed": torch.as_tensor(fixed)}
            if self.shape_codec_ is not None and "shape_code" in old.extra:
                sh = np.zeros((new.num_nodes, self.config_.shape_dim), dtype=np.float32)
                sh[mapping >= 0] = old.extra["shape_code"][mapping[mapping >= 0]]
                entry["shape"] = torch.as_tensor(sh)
                entry["shape_fixed"] = torch.as_tensor(fixed)
            known.append(entry)
        # the relations of the free nodes: the changed triples weighted up, those between other nodes not guided
        weights, scored = [], []
        for new, f in zip(edited, free_nodes):
            t = new.triples
            touches = np.isin(t[:, 0], f) | np.isin(t[:, 2], f)
            w = touches.astype(np.float32)
            changed = np.asarray(new.extra.get("changed_triples", []), dtype=np.int64).reshape(-1)
            w[changed] = EDIT_WEIGHT
            weights.append(w)
            scored.append((changed, np.setdiff1d(np.flatnonzero(touches), changed)))
        edit = None
        if edit_guidance > 0:
            edit = {
                "strength": edit_guidance,
                "steps": edit_guidance_steps,
                "weights": [w for w in weights for _ in range(candidates)],
            }
        many = [g for g in edited for _ in range(candidates)]
        kn = None if mode == "all" else [k for k in known for _ in range(candidates)]
        drawn = self._generate(many, num_steps, seed, 128, known=kn, sampler=sampler, edit=edit)
        out = []
        for i, (old, new) in enumerate(zip(previous, edited)):
            draws = drawn[i * candidates : (i + 1) * candidates]
            changed, others = scored[i]
            best, best_score = 0, None
            for j, d in enumerate(draws):  # lexicographic: changed triples held, then the other relations held
                ok = M.relation_pass(d.boxes, new.triples)
                score = (np.nansum(ok[changed]), np.nansum(ok[others]))
                if best_score is None or score > best_score:
                    best, best_score = j, score
            sc = draws[best]
            sc.extra["candidate"] = best
            if mode == "clamp":  # the fixed nodes exactly as they were (no decode(encode(.)) round-off)
                fixed = known[i]["box_fixed"].numpy()
                src = mappings[i][fixed]
                sc.boxes[fixed] = old.boxes[src]
                if "box_normalized" in old.extra:
                    sc.extra["box_normalized"][fixed] = old.extra["box_normalized"][src]
                if "shape_code" in sc.extra and "shape_code" in old.extra:
                    sc.extra["shape_code"][fixed] = old.extra["shape_code"][src]
            out.append(sc)
        return out
