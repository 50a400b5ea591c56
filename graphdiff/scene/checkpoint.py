"""Checkpoints of EchoScene's training (https://arxiv.org/abs/2405.00915, Sec. 3.5): written atomically, verified
when read.

A checkpoint is a :func:`torch.save` file holding a dict with ``"format"`` (:data:`FORMAT`), ``"version"``, the
network and training configurations (:mod:`graphdiff.scene.config`, as dicts), the estimator's parameters, the fitted
codecs, the weights and, for a training checkpoint, the optimiser, learning-rate schedule, step and generator state;
``"checksum"`` is the SHA-256 of all of it (every tensor's dtype, shape and bytes, and every other value).

:func:`load_checkpoint` reads it with ``torch.load(weights_only=True)`` (no arbitrary code runs) and raises
:class:`CheckpointError` (a :class:`ValueError`) naming the file when it is missing, truncated, corrupt, not a torch
file, a torch file that is not an EchoScene checkpoint, from a newer format, or when its content no longer matches
the checksum (flipped bytes inside a tensor record, which torch itself does not detect). Comparing the stored
configuration with the one a resumed run asks for is the caller's part
(:func:`graphdiff.scene.config.config_differences`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import torch

__all__ = [
    "FORMAT",
    "VERSION",
    "CheckpointError",
    "payload_checksum",
    "save_checkpoint",
    "load_checkpoint",
    "check_finite_weights",
]

FORMAT = "graphdiff.scene.EchoScene"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable, not an EchoScene checkpoint, altered, or written with another
    configuration than the one asked for. The message names the file.

    >>> issubclass(CheckpointError, ValueError)
    True
    """


def _update(h, obj) -> None:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"tensor:{t.dtype}:{tuple(t.shape)}:".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, Mapping):
        h.update(f"map:{len(obj)}:".encode())
        for key in sorted(obj, key=repr):
            h.update(f"{key!r}=".encode())
            _update(h, obj[key])
    elif isinstance(obj, (list, tuple)):
        h.update(f"{type(obj).__name__}:{len(obj)}:".encode())
        for item in obj:
            _update(h, item)
    elif obj is None or isinstance(obj, (bool, int, float, str)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode())
    else:
        raise TypeError(f"a checkpoint cannot hold a {type(obj).__name__} ({obj!r:.60})")


def payload_checksum(state: Mapping) -> str:
    """SHA-256 (hex) of everything in ``state`` but its ``"checksum"`` entry.

    >>> a = payload_checksum({"w": torch.zeros(3), "step": 1})
    >>> a == payload_checksum({"step": 1, "w": torch.zeros(3)}), a == payload_checksum({"w": torch.ones(3), "step": 1})
    (True, False)
    """
    h = hashlib.sha256()
    _update(h, {k: v for k, v in state.items() if k != "checksum"})
    return h.hexdigest()


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` with the format header and its checksum, atomically (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**state, "format": FORMAT, "version": VERSION}
    payload["checksum"] = payload_checksum(payload)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read and verify a checkpoint written by :func:`save_checkpoint` (see the module docstring).

    Returns the stored dict (tensors on ``map_location``); raises :class:`CheckpointError` naming ``path``.
    """
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"checkpoint {path} does not exist")
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} is not a file")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises RuntimeError, UnpicklingError, EOFError, UnicodeDecodeError, ...
        raise CheckpointError(
            f"checkpoint {path} cannot be read: the file is truncated, corrupt or not a torch checkpoint "
            f"({_first_line(exc)})"
        ) from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        if isinstance(state, dict) and "params" in state and "model" in state:
            raise CheckpointError(
                f"checkpoint {path} was written by graphdiff < 0.2.0 (no format header or checksum); "
                "train the model again to get a verifiable checkpoint"
            )
        keys = sorted(map(str, state))[:8] if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{path} is a torch file but not an EchoScene checkpoint (it holds {keys})")
    version = state.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise CheckpointError(
            f"checkpoint {path} has format version {version!r}; this graphdiff reads versions up to {VERSION}"
        )
    expected = state.get("checksum")
    try:
        actual = payload_checksum(state)
    except TypeError as exc:
        raise CheckpointError(f"checkpoint {path} holds unexpected content: {exc}") from exc
    if actual != expected:
        raise CheckpointError(
            f"checkpoint {path} fails its checksum: its content changed after it was written (flipped bytes or a "
            "partial copy?)"
        )
    return state


def check_finite_weights(state_dict: Mapping, path, which: str) -> None:
    """Raise :class:`CheckpointError` naming ``path`` if a floating tensor of ``state_dict`` holds NaN or inf."""
    for key, value in state_dict.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            bad = int((~torch.isfinite(value)).sum())
            raise CheckpointError(
                f"checkpoint {path}: {which} weight {key!r} holds {bad} NaN or infinite value(s) of {value.numel()}; "
                "the model cannot be used (did the training diverge?)"
            )
