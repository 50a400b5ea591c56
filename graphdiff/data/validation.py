"""Input validation shared by every loader and method.

Each check raises :class:`ValueError` with a message that names the argument and the problem, so that bad input
(out-of-range node ids, NaN features, labels outside ``[0, num_classes)``, rates outside ``[0, 1)``) is reported
where it enters the library instead of surfacing as an index error deep inside a kernel.
"""

from __future__ import annotations

import numbers

import numpy as np
import torch

__all__ = [
    "check_edge_index",
    "check_features",
    "check_labels",
    "check_mask",
    "check_rate",
    "check_data",
    "check_device",
]


def _as_tensor(value, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise ValueError(f"`{name}` must be a torch.Tensor or numpy array, got {type(value).__name__}")


def check_edge_index(edge_index, num_nodes: int, name: str = "edge_index") -> torch.Tensor:
    """Check that ``edge_index`` is a ``2 x E`` integer tensor with ids in ``[0, num_nodes)``."""
    edge_index = _as_tensor(edge_index, name)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"`{name}` must have shape (2, num_edges), got {tuple(edge_index.shape)}")
    if edge_index.is_floating_point() or edge_index.dtype == torch.bool:
        raise ValueError(f"`{name}` must hold integer node ids, got dtype {edge_index.dtype}")
    if num_nodes < 0:
        raise ValueError(f"`num_nodes` must be non-negative, got {num_nodes}")
    if edge_index.numel() > 0:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0:
            raise ValueError(f"`{name}` contains a negative node id ({lo})")
        if hi >= num_nodes:
            raise ValueError(f"`{name}` contains node id {hi}, out of range for a graph with num_nodes={num_nodes}")
    return edge_index.long()


def check_features(x, name: str = "x", num_nodes: int | None = None) -> torch.Tensor:
    """Check that ``x`` is a 2-D floating tensor of finite values (and ``num_nodes`` rows when given)."""
    x = _as_tensor(x, name)
    if x.dim() != 2:
        raise ValueError(f"`{name}` must be 2-D (num_nodes, num_features), got shape {tuple(x.shape)}")
    if num_nodes is not None and x.size(0) != num_nodes:
        raise ValueError(f"`{name}` has {x.size(0)} rows but the graph has {num_nodes} nodes")
    if not x.is_floating_point():
        x = x.float()
    if not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).any(dim=1).nonzero().flatten()
        raise ValueError(f"`{name}` contains NaN or infinite values in {bad.numel()} row(s), first row {int(bad[0])}")
    return x


def check_labels(y, num_classes: int | None = None, name: str = "y", length: int | None = None) -> torch.Tensor:
    """Check that ``y`` is a 1-D integer tensor with values in ``[0, num_classes)``."""
    y = _as_tensor(y, name)
    if y.dim() != 1:
        raise ValueError(f"`{name}` must be 1-D, got shape {tuple(y.shape)}")
    if y.is_floating_point():
        if not torch.isfinite(y).all() or not torch.equal(y, y.round()):
            raise ValueError(f"`{name}` must hold integer class ids, got non-integer values")
        y = y.long()
    if length is not None and y.numel() != length:
        raise ValueError(f"`{name}` has {y.numel()} entries, expected {length} (one per node)")
    if y.numel() > 0:
        lo, hi = int(y.min()), int(y.max())
        if lo < 0:
            raise ValueError(f"`{name}` contains a negative class id ({lo})")
        if num_classes is not None and hi >= num_classes:
            raise ValueError(f"`{name}` contains class id {hi}, outside [0, num_classes={num_classes})")
    return y.long()


def check_mask(mask, length: int, name: str = "mask") -> torch.Tensor:
    """Check a boolean node mask of the given length (an index tensor is converted to a mask)."""
    mask = _as_tensor(mask, name)
    if mask.dtype != torch.bool:
        if mask.is_floating_point():
            raise ValueError(f"`{name}` must be a boolean mask or an integer index tensor, got {mask.dtype}")
        idx = check_labels(mask, num_classes=length, name=name)
        out = torch.zeros(length, dtype=torch.bool, device=mask.device)
        out[idx] = True
        return out
    if mask.dim() != 1 or mask.numel() != length:
        raise ValueError(f"`{name}` must be a 1-D boolean mask of length {length}, got shape {tuple(mask.shape)}")
    return mask


def check_rate(rate, name: str = "rate", upper_inclusive: bool = False) -> float:
    """Check a probability-like rate in ``[0, 1)`` (or ``[0, 1]`` with ``upper_inclusive``)."""
    if not isinstance(rate, numbers.Real) or isinstance(rate, bool):
        raise ValueError(f"`{name}` must be a real number, got {rate!r}")
    rate = float(rate)
    ok = 0.0 <= rate <= 1.0 if upper_inclusive else 0.0 <= rate < 1.0
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(f"`{name}` must lie in {interval}, got {rate}")
    return rate


def check_data(data) -> None:
    """Validate a :class:`torch_geometric.data.Data` graph: edge ids, feature values and label range."""
    num_nodes = int(data.num_nodes)
    check_edge_index(data.edge_index, num_nodes, name="data.edge_index")
    if getattr(data, "x", None) is not None:
        check_features(data.x, name="data.x", num_nodes=num_nodes)
    if getattr(data, "y", None) is not None:
        num_classes = getattr(data, "num_classes", None)
        check_labels(data.y, num_classes=num_classes, name="data.y", length=num_nodes)


def check_device(device, name: str = "device") -> torch.device:
    """Check that ``device`` names a torch device (``"cpu"``, ``"cuda:0"``, a ``torch.device``) and return it."""
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise ValueError(f"`{name}` is not a valid torch device: {device!r}") from exc
