"""The configuration of an EchoScene model: one frozen dataclass for the network, one for its training.

Zhai et al., ECCV 2024 (https://arxiv.org/abs/2405.00915): the network of Sec. 3.2-3.4 (relation encoder,
information echo, layout and shape denoisers) at a CPU scale, and the training of Sec. 3.5.
:class:`graphdiff.scene.EchoScene` builds both from its parameters (in one place, ``EchoScene._configs``), the
network is built from :class:`EchoSceneConfig` alone, and a checkpoint stores both so that resuming or loading
compares them field by field. Every field is validated when the dataclass is created: a bad value raises
:class:`ValueError` naming the field.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from graphdiff.data.scenes import NUM_CLASSES, NUM_PREDICATES, NUM_ROOM_TYPES, PREDICATE_TO_ID
from graphdiff.data.validation import check_bool, check_choice, check_float, check_int, check_seed
from graphdiff.nn.checkpoint import config_differences

__all__ = ["EchoSceneConfig", "TrainingConfig", "LAYOUT_PREDICATES", "SHAPE_PREDICATES", "config_differences"]

#: Predicates of the layout echo and the relation encoder: ``in`` and the positional ones (left, right, front,
#: behind, close by, above, standing on, symmetrical to).
LAYOUT_PREDICATES = tuple(
    PREDICATE_TO_ID[p]
    for p in ("in", "left", "right", "front", "behind", "close by", "above", "standing on", "symmetrical to")
)
#: Predicates of the shape echo: ``in`` and the ``same style / super category / material as`` edges.
SHAPE_PREDICATES = tuple(
    PREDICATE_TO_ID[p] for p in ("in", "same style as", "same super category as", "same material as")
)

_NORMS = ("layer", "batch", None)
_NODE_INPUTS = ("latent", "class_emb")


def _predicate_ids(value, name: str, num_predicates: int):
    """None (all predicates) or a non-empty tuple of distinct predicate ids in ``[0, num_predicates)``."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise ValueError(f"`{name}` must be None or a sequence of predicate ids, got {type(value).__name__} {value!r}")
    ids = tuple(check_int(v, f"{name}[{i}]", minimum=0, maximum=num_predicates - 1) for i, v in enumerate(list(value)))
    if not ids:
        raise ValueError(f"`{name}` must be None (all predicates) or a non-empty sequence of predicate ids, got []")
    if len(set(ids)) != len(ids):
        raise ValueError(f"`{name}` lists a predicate id twice: {ids}")
    return ids


@dataclass(frozen=True)
class EchoSceneConfig:
    """The network of EchoScene (``graphdiff.scene.model.EchoSceneNet``), validated on creation.

    Parameters
    ----------
    class_dim, pred_dim, latent_dim : int
        Widths of the class (and room-type) embedding, the predicate embeddings and the relation-encoder latent.
    encoder_layers, echo_layers, shape_echo_layers : int
        Triplet-GCN depths of the relation encoder, the layout echo and the shape echo.
    gcn_hidden : int
        Hidden width of the triplet GCNs.
    layout_predicates, shape_predicates : tuple of int or None
        Predicate ids whose edges the layout echo (and the relation encoder) and the shape echo run over (None: all
        of them); the defaults are ``LAYOUT_PREDICATES`` and ``SHAPE_PREDICATES`` of this module.
    proj_dim : int
        Width of the projections of the noisy state and of the time embedding in the echo input.
    context_dim : int
        Width of the echo output (the denoiser's context).
    time_dim, width, num_blocks : int
        Time-embedding width, width and number of residual blocks of the denoisers.
    norm : {"layer", "batch", None}
        Normalisation in the GCN MLPs.
    shape_dim : int
        Dimension of the shape code.
    echo : bool
        Run the echo at every denoising step (True) or encode the graph once, statically (False).
    echo_node_input : {"latent", "class_emb"}
        The node input of the echo: the relation-encoder latent (paper) or the class embedding.
    shape : bool
        Build the shape branch.
    num_classes, num_predicates, num_room_types : int
        Vocabulary sizes (default: those of :mod:`graphdiff.data.scenes`).

    Examples
    --------
    >>> config = EchoSceneConfig(width=64, shape=False)
    >>> config.width, config.num_classes, config.layout_predicates == LAYOUT_PREDICATES
    (64, 14, True)
    >>> config_differences(config, dataclasses.replace(config, width=32))
    ['width: 64 != 32']
    """

    class_dim: int = 32
    pred_dim: int = 32
    latent_dim: int = 32
    encoder_layers: int = 2
    echo_layers: int = 4
    shape_echo_layers: int = 1
    layout_predicates: tuple | None = LAYOUT_PREDICATES
    shape_predicates: tuple | None = SHAPE_PREDICATES
    gcn_hidden: int = 64
    proj_dim: int = 16
    context_dim: int = 64
    time_dim: int = 64
    width: int = 128
    num_blocks: int = 4
    norm: str | None = "layer"
    shape_dim: int = 16
    echo: bool = True
    echo_node_input: str = "latent"
    shape: bool = True
    num_classes: int = NUM_CLASSES
    num_predicates: int = NUM_PREDICATES
    num_room_types: int = NUM_ROOM_TYPES

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name in ("layout_predicates", "shape_predicates"):
                continue
            if f.name in ("echo", "shape"):
                value = check_bool(value, f.name)
            elif f.name == "norm":
                value = check_choice(value, "norm", _NORMS)
            elif f.name == "echo_node_input":
                value = check_choice(value, "echo_node_input", _NODE_INPUTS)
            else:
                value = check_int(value, f.name, minimum=1)
            object.__setattr__(self, f.name, value)
        for name in ("layout_predicates", "shape_predicates"):
            object.__setattr__(self, name, _predicate_ids(getattr(self, name), name, self.num_predicates))


@dataclass(frozen=True)
class TrainingConfig:
    """How an EchoScene network is trained (``graphdiff.scene.train.train_loop``), validated on creation.

    Parameters
    ----------
    steps : int
        Optimiser steps.
    batch_size : int
        Scenes per step.
    lr, weight_decay : float
        AdamW; the learning rate warms up linearly over ``min(200, steps // 10)`` steps, then follows a cosine
        decay to a tenth of ``lr``.
    grad_clip : float
        Gradient-norm clipping (0: none).
    ema_decay : float
        Decay of the exponential moving average of the weights used for sampling, in [0, 1).
    num_train_timesteps : int
        Diffusion length ``T`` of both branches.
    seed : int
        Seed of the initialisation and of every draw of the training (batches, timesteps, noise).

    Examples
    --------
    >>> TrainingConfig(steps=100, lr=2e-3).lr
    0.002
    """

    steps: int = 4000
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float = 5.0
    ema_decay: float = 0.995
    num_train_timesteps: int = 1000
    seed: int = 0

    def __post_init__(self):
        checked = {
            "steps": check_int(self.steps, "steps", minimum=1),
            "batch_size": check_int(self.batch_size, "batch_size", minimum=1),
            "lr": check_float(self.lr, "lr", minimum=0.0, low_open=True),
            "weight_decay": check_float(self.weight_decay, "weight_decay", minimum=0.0),
            "grad_clip": check_float(self.grad_clip, "grad_clip", minimum=0.0),
            "ema_decay": check_float(self.ema_decay, "ema_decay", minimum=0.0, maximum=1.0, high_open=True),
            "num_train_timesteps": check_int(self.num_train_timesteps, "num_train_timesteps", minimum=2),
            "seed": check_seed(self.seed),
        }
        for name, value in checked.items():
            object.__setattr__(self, name, value)
