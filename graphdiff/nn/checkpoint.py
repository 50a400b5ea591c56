"""Verified training checkpoints: written atomically, read with ``weights_only=True``, checked by SHA-256.

The shared machinery of the resumable fits of graphdiff: EchoScene's training (``graphdiff.scene.checkpoint``,
https://arxiv.org/abs/2405.00915, Sec. 3.5) and ERASE's (:meth:`graphdiff.erase.ERASE.fit` with ``checkpoint=``,
https://arxiv.org/abs/2312.08852, the training loop of Sec. 4). A checkpoint is a :func:`torch.save` file holding a
dict with ``"format"`` (a name of the writer's choosing), ``"version"`` and whatever the writer stores (tensors,
dicts, lists, tuples, numbers, strings, ``None``); ``"checksum"`` is the SHA-256 of all of it (every tensor's dtype,
shape and bytes, and every other value), which catches flipped bytes inside a tensor record (torch itself does not).

:func:`load_checkpoint` reads it with ``torch.load(weights_only=True)`` (no arbitrary code runs) and raises
:class:`CheckpointError` (a :class:`ValueError`) naming the file when it is missing, truncated, corrupt, not a torch
file, of another format, from a newer version, or no longer matches its checksum. :func:`config_differences` lists
the fields in which a stored configuration differs from the one a resumed run asks for.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Callable, Mapping
from pathlib import Path

import torch

__all__ = [
    "CheckpointError",
    "payload_checksum",
    "save_checkpoint",
    "load_checkpoint",
    "check_finite_weights",
    "config_differences",
]


class CheckpointError(ValueError):
    """A checkpoint that cannot be used: unreadable, of another format, altered, or written with another
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

    Parameters
    ----------
    state : Mapping
        Tensors, mappings, lists, tuples, numbers, strings and ``None``, nested freely.

    Returns
    -------
    str
        64 hexadecimal digits; independent of the order of mapping keys.

    Examples
    --------
    >>> a = payload_checksum({"w": torch.zeros(3), "step": 1})
    >>> a == payload_checksum({"step": 1, "w": torch.zeros(3)}), a == payload_checksum({"w": torch.ones(3), "step": 1})
    (True, False)
    """
    h = hashlib.sha256()
    _update(h, {k: v for k, v in state.items() if k != "checksum"})
    return h.hexdigest()


def save_checkpoint(path, state: dict, format: str, version: int) -> None:
    """Write ``state`` with a format header and its checksum, atomically (temporary file, then rename).

    Parameters
    ----------
    path : str or os.PathLike
        The file (its folder is created).
    state : dict
        What to store (see :func:`payload_checksum` for the allowed values).
    format : str
        The writer's format name, checked by :func:`load_checkpoint`.
    version : int
        The format version.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "ckpt.pt"
    >>> save_checkpoint(path, {"step": 3}, "demo", 1)
    >>> load_checkpoint(path, "demo", 1)["step"]
    3
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {**state, "format": format, "version": version}
    payload["checksum"] = payload_checksum(payload)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def load_checkpoint(
    path,
    format: str,
    version: int,
    map_location="cpu",
    *,
    what: str | None = None,
    foreign_hint: Callable[[object], str | None] | None = None,
) -> dict:
    """Read and verify a checkpoint written by :func:`save_checkpoint` (see the module docstring).

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    format : str
        The expected format name.
    version : int
        The newest version this reader understands.
    map_location : str or torch.device, default "cpu"
        Where the tensors are loaded.
    what : str, optional
        What the format is called in messages (``"an EchoScene checkpoint"``); defaults to the format name.
    foreign_hint : callable, optional
        Called with the loaded object when its format is not ``format``; a string it returns is the message of the
        error (e.g. to recognise an older, header-less layout).

    Returns
    -------
    dict
        The stored dict (tensors on ``map_location``).

    Raises
    ------
    CheckpointError
        Naming ``path``, for any of the reasons of the module docstring.
    """
    path = Path(path)
    what = what if what is not None else f"a {format!r} checkpoint"
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
    if not isinstance(state, dict) or state.get("format") != format:
        hint = foreign_hint(state) if foreign_hint is not None else None
        if hint:
            raise CheckpointError(f"checkpoint {path} {hint}")
        keys = sorted(map(str, state))[:8] if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{path} is a torch file but not {what} (it holds {keys})")
    stored_version = state.get("version")
    if not isinstance(stored_version, int) or stored_version > version:
        raise CheckpointError(
            f"checkpoint {path} has format version {stored_version!r}; this graphdiff reads versions up to {version}"
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
    """Raise :class:`CheckpointError` naming ``path`` if a floating tensor of ``state_dict`` holds NaN or inf.

    Parameters
    ----------
    state_dict : Mapping
        A module's ``state_dict()``.
    path : str or os.PathLike
        The checkpoint, for the message.
    which : str
        The module's name, for the message.
    """
    for key, value in state_dict.items():
        if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all()):
            bad = int((~torch.isfinite(value)).sum())
            raise CheckpointError(
                f"checkpoint {path}: {which} weight {key!r} holds {bad} NaN or infinite value(s) of {value.numel()}; "
                "the model cannot be used (did the training diverge?)"
            )


def config_differences(saved, current) -> list[str]:
    """The fields in which two configurations differ, as ``"name: saved != current"`` lines.

    Parameters
    ----------
    saved, current : dataclass instances of one class, or mappings
        For mappings, a key present in one only is a difference too.

    Returns
    -------
    list of str
        Empty when the two agree.

    Examples
    --------
    >>> config_differences({"lr": 0.1, "epochs": 5}, {"lr": 0.01, "epochs": 5})
    ['lr: 0.1 != 0.01']
    """
    if isinstance(saved, Mapping) and isinstance(current, Mapping):
        missing = object()
        out = []
        for key in list(saved) + [k for k in current if k not in saved]:
            a, b = saved.get(key, missing), current.get(key, missing)
            if a is missing or b is missing or a != b:
                show = [("(absent)" if v is missing else repr(v)) for v in (a, b)]
                out.append(f"{key}: {show[0]} != {show[1]}")
        return out
    if type(saved) is not type(current) or not dataclasses.is_dataclass(saved):
        raise TypeError(f"cannot compare a {type(saved).__name__} with a {type(current).__name__}")
    out = []
    for f in dataclasses.fields(saved):
        a, b = getattr(saved, f.name), getattr(current, f.name)
        if a != b:
            out.append(f"{f.name}: {a!r} != {b!r}")
    return out
