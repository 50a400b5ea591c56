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
(:func:`graphdiff.scene.config.config_differences`). The format-independent machinery (checksum, atomic write,
verified read) lives in :mod:`graphdiff.nn.checkpoint`, shared with ERASE's checkpoints.
"""

from __future__ import annotations

from graphdiff.nn import checkpoint as _checkpoint
from graphdiff.nn.checkpoint import CheckpointError, check_finite_weights, payload_checksum

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


def save_checkpoint(path, state: dict) -> None:
    """Write ``state`` with the EchoScene format header and its checksum, atomically
    (:func:`graphdiff.nn.checkpoint.save_checkpoint`).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    state : dict
        What to store.
    """
    _checkpoint.save_checkpoint(path, state, FORMAT, VERSION)


def _legacy_hint(state) -> str | None:
    if isinstance(state, dict) and "params" in state and "model" in state:
        return (
            "was written by graphdiff < 0.2.0 (no format header or checksum); "
            "train the model again to get a verifiable checkpoint"
        )
    return None


def load_checkpoint(path, map_location="cpu") -> dict:
    """Read and verify a checkpoint written by :func:`save_checkpoint` (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    map_location : str or torch.device, default "cpu"
        Where the tensors are loaded.

    Returns
    -------
    dict
        The stored dict.

    Raises
    ------
    CheckpointError
        Naming ``path``.
    """
    return _checkpoint.load_checkpoint(
        path, FORMAT, VERSION, map_location, what="an EchoScene checkpoint", foreign_hint=_legacy_hint
    )
