"""EchoScene checkpoints: written atomically with a format header and the configurations.

A checkpoint is a :func:`torch.save` file holding a dict with ``"format"`` (:data:`FORMAT`), ``"version"``, the
network and training configurations (:mod:`graphdiff.scene.config`, as dicts), the estimator's parameters, the fitted
codecs, the weights and, for a training checkpoint, the optimiser, learning-rate schedule, step and generator state.
Comparing the stored configuration with the one a resumed run asks for is the caller's part
(:func:`graphdiff.scene.config.config_differences`).
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

__all__ = ["FORMAT", "VERSION", "CheckpointError", "save_checkpoint", "load_checkpoint"]

FORMAT = "graphdiff.scene.EchoScene"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used, for example one written with another configuration than the one asked for.
    The message names the file.

    >>> issubclass(CheckpointError, ValueError)
    True
    """


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` with the format header, atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**state, "format": FORMAT, "version": VERSION}
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read a checkpoint written by :func:`save_checkpoint`."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    return torch.load(path, map_location=map_location, weights_only=False)
