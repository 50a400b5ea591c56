"""Input validation shared by every loader, building block and method.

Each check raises :class:`ValueError` with a message that names the argument, the value and what is expected, so
that bad input (out-of-range node ids, NaN features, labels outside ``[0, num_classes)``, rates outside ``[0, 1)``,
a NaN learning rate, ``2.5`` nodes, a CUDA device on a machine without one) is reported where it enters the library
instead of surfacing as an index error deep inside a kernel -- or, worse, as a silently wrong result.

Two groups:

* scalar knobs -- :func:`check_int`, :func:`check_float`, :func:`check_bool`, :func:`check_choice`,
  :func:`check_seed`, :func:`check_device`: every estimator validates its hyper-parameters with these in ``fit``
  (see :mod:`graphdiff.base`), and every public function at its boundary;
* arrays -- :func:`check_edge_index`, :func:`check_features`, :func:`check_labels`, :func:`check_mask`,
  :func:`check_data`.

Masks are ``torch.bool`` (or numpy ``bool``) vectors of one entry per node, or integer index vectors of node ids.
``uint8`` and ``int8`` are refused: older PyTorch code used ``uint8`` for masks, so such a vector is ambiguous
between a 0/1 mask and a list of node ids, and reading it the wrong way selects nodes 0 and 1 only.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np
import torch

__all__ = [
    "check_int",
    "check_float",
    "check_bool",
    "check_choice",
    "check_str",
    "check_seed",
    "check_device",
    "check_edge_index",
    "check_features",
    "check_labels",
    "check_edge_weight",
    "check_mask",
    "check_rate",
    "check_data",
]

#: Seeds are what :class:`numpy.random.RandomState` accepts, the narrowest of the generators the library uses.
MAX_SEED = 2**32 - 1


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_int(
    value, name: str, *, minimum: int | None = None, maximum: int | None = None, allow_none: bool = False
) -> int | None:
    """An integer knob: a Python or numpy integer (or an integral float such as ``1e6``) within the bounds.

    Parameters
    ----------
    value : int, float or None
        The value to check. ``True``/``False``, non-integral floats (``2.5``), NaN and infinities are refused;
        ``None`` only with ``allow_none``.
    name : str
        The argument's name, used in the error message.
    minimum, maximum : int, optional
        Inclusive bounds.
    allow_none : bool, default False
        Accept ``None`` (returned as is).

    Returns
    -------
    int or None

    Raises
    ------
    ValueError
        Naming the argument, the value and what is expected.

    Examples
    --------
    >>> check_int(1e3, "num_nodes", minimum=1)
    1000
    >>> check_int(2.5, "num_nodes")
    Traceback (most recent call last):
    ...
    ValueError: `num_nodes` must be an integer, got 2.5
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"`{name}` must be an integer, got the boolean {value!r}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    elif isinstance(value, numbers.Real):
        fv = float(value)
        if not math.isfinite(fv) or fv != math.floor(fv):
            raise ValueError(f"`{name}` must be an integer, got {_describe(value)}")
        out = int(fv)
    else:
        kind = "an integer or None" if allow_none else "an integer"
        raise ValueError(f"`{name}` must be {kind}, got {type(value).__name__} {_describe(value)}")
    if minimum is not None and out < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}, got {out}")
    if maximum is not None and out > maximum:
        raise ValueError(f"`{name}` must be at most {maximum}, got {out}")
    return out


def check_float(
    value,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
    allow_none: bool = False,
    allow_inf: bool = False,
) -> float | None:
    """A real-valued knob: finite (infinite only with ``allow_inf``; NaN never), within the bounds.

    Parameters
    ----------
    value : float, int or None
        The value to check; booleans and non-numbers are refused.
    name : str
        The argument's name, used in the error message.
    minimum, maximum : float, optional
        Bounds, inclusive unless ``low_open`` / ``high_open``.
    low_open, high_open : bool, default False
        Exclude ``minimum`` / ``maximum`` themselves.
    allow_none : bool, default False
        Accept ``None`` (returned as is).
    allow_inf : bool, default False
        Accept ``inf`` and ``-inf`` (still subject to the bounds).

    Returns
    -------
    float or None

    Examples
    --------
    >>> check_float(3, "lr", minimum=0.0, low_open=True)
    3.0
    >>> check_float(float("nan"), "lr")
    Traceback (most recent call last):
    ...
    ValueError: `lr` must be a number, got NaN
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        kind = "a real number or None" if allow_none else "a real number"
        raise ValueError(f"`{name}` must be {kind}, got {type(value).__name__} {_describe(value)}")
    out = float(value)
    if math.isnan(out):
        raise ValueError(f"`{name}` must be a number, got NaN")
    if math.isinf(out) and not allow_inf:
        raise ValueError(f"`{name}` must be finite, got {out}")
    if minimum is not None and (out < minimum or (low_open and out == minimum)):
        raise ValueError(f"`{name}` must be {'>' if low_open else '>='} {minimum}, got {out}")
    if maximum is not None and (out > maximum or (high_open and out == maximum)):
        raise ValueError(f"`{name}` must be {'<' if high_open else '<='} {maximum}, got {out}")
    return out


def check_bool(value, name: str) -> bool:
    """A flag: ``True`` or ``False`` (numpy booleans too); ``0``/``1``, strings and ``None`` are refused.

    Parameters
    ----------
    value : bool
        The value to check.
    name : str
        The argument's name, used in the error message.

    Returns
    -------
    bool
        ``value`` as a Python ``bool``.

    Examples
    --------
    >>> check_bool(True, "verbose")
    True
    >>> check_bool(1, "verbose")
    Traceback (most recent call last):
    ...
    ValueError: `verbose` must be True or False, got int 1
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(f"`{name}` must be True or False, got {type(value).__name__} {_describe(value)}")


def check_choice(value, name: str, choices: Iterable):
    """One of a fixed set of options (equal and of the same type); the message lists the options.

    Parameters
    ----------
    value : object
        The value to check.
    name : str
        The argument's name, used in the error message.
    choices : iterable
        The allowed options.

    Returns
    -------
    object
        ``value``.

    Examples
    --------
    >>> check_choice("sym", "norm", ("sym", "row", "col"))
    'sym'
    >>> check_choice("left", "norm", ("sym", "row", "col"))
    Traceback (most recent call last):
    ...
    ValueError: `norm` must be one of 'sym', 'row', 'col'; got 'left'
    """
    choices = tuple(choices)
    try:
        ok = any(value == c and type(value) is type(c) for c in choices) or (value is None and None in choices)
    except (TypeError, ValueError):  # e.g. an array compared with a string
        ok = False
    if not ok:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"`{name}` must be one of {options}; got {_describe(value)}")
    return value


def check_str(value, name: str, *, allow_empty: bool = False) -> str:
    """A text knob (a name, a key): a ``str``, non-empty unless ``allow_empty``.

    Parameters
    ----------
    value : str
        The value to check.
    name : str
        The argument's name, used in the error message.
    allow_empty : bool, default False
        Accept the empty string.

    Returns
    -------
    str

    Examples
    --------
    >>> check_str("weights", "weight_key")
    'weights'
    >>> check_str(3, "weight_key")
    Traceback (most recent call last):
    ...
    ValueError: `weight_key` must be a string, got int 3
    """
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be a string, got {type(value).__name__} {_describe(value)}")
    if not value and not allow_empty:
        raise ValueError(f"`{name}` must be a non-empty string")
    return value


def check_seed(seed, name: str = "seed") -> int:
    """A random seed: an integer in ``[0, 2**32 - 1]`` (what every generator of the library accepts).

    Parameters
    ----------
    seed : int
        The value to check (an integral float such as ``1e3`` is accepted, as in :func:`check_int`).
    name : str, default "seed"
        The argument's name, used in the error message.

    Returns
    -------
    int

    Examples
    --------
    >>> check_seed(7)
    7
    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    ValueError: `seed` must be at least 0, got -1
    """
    return check_int(seed, name, minimum=0, maximum=MAX_SEED)


def check_device(device, name: str = "device") -> torch.device:
    """A torch device that exists on this machine: ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"`` or a
    :class:`torch.device`; returned as a :class:`torch.device`.

    A CUDA device is refused here, with the reason, when this torch build has no CUDA support, when no GPU is
    visible or when the index is past the last GPU -- not later, deep inside ``fit``.

    Parameters
    ----------
    device : str or torch.device
        The device to check.
    name : str, default "device"
        The argument's name, used in the error message.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> check_device("cpu")
    device(type='cpu')
    >>> check_device("banana")
    Traceback (most recent call last):
    ...
    ValueError: `device` is not a valid torch device: 'banana' (expected 'cpu', 'cuda', 'cuda:<index>' or 'mps')
    """
    if isinstance(device, torch.device):
        dev = device
    elif isinstance(device, str):
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError, ValueError) as exc:
            raise ValueError(
                f"`{name}` is not a valid torch device: {device!r} (expected 'cpu', 'cuda', 'cuda:<index>' or 'mps')"
            ) from exc
    else:
        raise ValueError(f"`{name}` must be a device name (str) or a torch.device, got {type(device).__name__}")
    if dev.type == "cpu":
        return dev
    if dev.type == "cuda":
        if not torch.backends.cuda.is_built():
            raise ValueError(f"`{name}`={device!r}, but this torch build ({torch.__version__}) has no CUDA support")
        if not torch.cuda.is_available():
            raise ValueError(
                f"`{name}`={device!r}, but no CUDA device is available (torch.cuda.is_available() is False)"
            )
        count = torch.cuda.device_count()
        if dev.index is not None and dev.index >= count:
            raise ValueError(f"`{name}`={device!r}, but only {count} CUDA device(s) are visible")
        return dev
    if dev.type == "mps":
        if not torch.backends.mps.is_available():
            raise ValueError(f"`{name}`={device!r}, but the MPS backend is not available on this machine")
        return dev
    raise ValueError(f"`{name}`={device!r}: graphdiff runs on 'cpu', 'cuda' or 'mps' devices, not {dev.type!r}")


def _as_tensor(value, name: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    raise ValueError(f"`{name}` must be a torch.Tensor or numpy array, got {type(value).__name__}")


def check_edge_index(edge_index, num_nodes: int, name: str = "edge_index") -> torch.Tensor:
    """Check that ``edge_index`` is a ``2 x E`` integer tensor with ids in ``[0, num_nodes)``.

    Parameters
    ----------
    edge_index : torch.Tensor or numpy.ndarray, shape (2, E)
        Integer node ids (any integer dtype).
    num_nodes : int
        Number of nodes ``N`` (an integer; ``2.5`` is refused).
    name : str, default "edge_index"
        The argument's name, used in the error message.

    Returns
    -------
    torch.Tensor
        ``edge_index`` as int64, on its device.

    Examples
    --------
    >>> import torch
    >>> check_edge_index(torch.tensor([[0, 1], [1, 0]]), 2).dtype
    torch.int64
    >>> check_edge_index(torch.tensor([[0, 3], [3, 0]]), 3)
    Traceback (most recent call last):
    ...
    ValueError: `edge_index` contains node id 3, out of range for a graph with num_nodes=3
    """
    edge_index = _as_tensor(edge_index, name)
    if edge_index.dim() != 2 or edge_index.size(0) != 2:
        raise ValueError(f"`{name}` must have shape (2, num_edges), got {tuple(edge_index.shape)}")
    if edge_index.is_floating_point() or edge_index.is_complex() or edge_index.dtype == torch.bool:
        raise ValueError(f"`{name}` must hold integer node ids, got dtype {edge_index.dtype}")
    num_nodes = check_int(num_nodes, "num_nodes", minimum=0)
    if edge_index.numel() > 0:
        lo, hi = int(edge_index.min()), int(edge_index.max())
        if lo < 0:
            raise ValueError(f"`{name}` contains a negative node id ({lo})")
        if hi >= num_nodes:
            raise ValueError(f"`{name}` contains node id {hi}, out of range for a graph with num_nodes={num_nodes}")
    return edge_index.long()


def check_features(x, name: str = "x", num_nodes: int | None = None) -> torch.Tensor:
    """Check that ``x`` is a 2-D tensor of finite values (and ``num_nodes`` rows when given).

    Parameters
    ----------
    x : torch.Tensor or numpy.ndarray, shape (N, F)
        Node features; integer features are converted to float32.
    name : str, default "x"
        The argument's name, used in the error message.
    num_nodes : int, optional
        The number of rows ``x`` must have.

    Returns
    -------
    torch.Tensor
        ``x`` (floating).

    Examples
    --------
    >>> import torch
    >>> check_features(torch.tensor([[0.0, float("nan")]]))
    Traceback (most recent call last):
    ...
    ValueError: `x` contains NaN or infinite values in 1 row(s), first row 0
    """
    x = _as_tensor(x, name)
    if x.dim() != 2:
        raise ValueError(f"`{name}` must be 2-D (num_nodes, num_features), got shape {tuple(x.shape)}")
    if num_nodes is not None and x.size(0) != num_nodes:
        raise ValueError(f"`{name}` has {x.size(0)} rows but the graph has {num_nodes} nodes")
    if x.is_complex():
        raise ValueError(f"`{name}` must hold real features, got dtype {x.dtype}")
    if not x.is_floating_point():
        x = x.float()
    if not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).any(dim=1).nonzero().flatten()
        raise ValueError(f"`{name}` contains NaN or infinite values in {bad.numel()} row(s), first row {int(bad[0])}")
    return x


def check_labels(y, num_classes: int | None = None, name: str = "y", length: int | None = None) -> torch.Tensor:
    """Check that ``y`` is a 1-D tensor of integer class ids in ``[0, num_classes)``.

    Parameters
    ----------
    y : torch.Tensor or numpy.ndarray, shape (N,)
        Class ids; a floating tensor is accepted when every value is integral. Boolean and complex tensors are
        refused.
    num_classes : int, optional
        Upper bound (exclusive) of the class ids.
    name : str, default "y"
        The argument's name, used in the error message.
    length : int, optional
        The number of entries ``y`` must have.

    Returns
    -------
    torch.Tensor
        ``y`` as int64.

    Examples
    --------
    >>> import torch
    >>> check_labels(torch.tensor([0.0, 2.0])).tolist()
    [0, 2]
    >>> check_labels(torch.tensor([0, 2]), num_classes=2)
    Traceback (most recent call last):
    ...
    ValueError: `y` contains class id 2, outside [0, num_classes=2)
    """
    y = _as_tensor(y, name)
    if y.dim() != 1:
        raise ValueError(f"`{name}` must be 1-D, got shape {tuple(y.shape)}")
    if y.is_complex() or y.dtype == torch.bool:
        raise ValueError(f"`{name}` must hold integer class ids, got dtype {y.dtype}")
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


def check_edge_weight(weight, num_edges: int, name: str = "edge_weight", *, non_negative: bool = False) -> torch.Tensor:
    """One finite real weight per edge.

    Parameters
    ----------
    weight : torch.Tensor or numpy.ndarray, shape (E,)
        Edge weights; integer and boolean weights become float32, complex ones are refused.
    num_edges : int
        ``E``, the number of columns of the matching ``edge_index``.
    name : str, default "edge_weight"
        The argument's name, used in the error message.
    non_negative : bool, default False
        Refuse negative weights too.

    Returns
    -------
    torch.Tensor
        Floating, shape ``(E,)``, on the device of ``weight``.

    Examples
    --------
    >>> import torch
    >>> check_edge_weight(torch.tensor([1, 2]), 2)
    tensor([1., 2.])
    >>> check_edge_weight(torch.tensor([1.0, float("nan")]), 2)
    Traceback (most recent call last):
    ...
    ValueError: `edge_weight` holds 1 NaN or infinite weight(s) (first at edge 1: nan); edge weights must be finite
    """
    weight = _as_tensor(weight, name).detach()
    if weight.dim() != 1 or weight.numel() != num_edges:
        raise ValueError(f"`{name}` must have shape ({num_edges},), one weight per edge, got {tuple(weight.shape)}")
    if weight.is_complex():
        raise ValueError(f"`{name}` must be real, got dtype {weight.dtype}")
    if not weight.is_floating_point():
        weight = weight.float()
    bad = ~torch.isfinite(weight)
    if bool(bad.any()):
        first = int(bad.nonzero()[0, 0])
        raise ValueError(
            f"`{name}` holds {int(bad.sum())} NaN or infinite weight(s) (first at edge {first}: "
            f"{float(weight[first])}); edge weights must be finite"
        )
    if non_negative and bool((weight < 0).any()):
        first = int((weight < 0).nonzero()[0, 0])
        raise ValueError(f"`{name}` must be non-negative, got {float(weight[first])} at edge {first}")
    return weight


def check_mask(mask, length: int, name: str = "mask") -> torch.Tensor:
    """A node mask of ``length`` entries as a ``torch.bool`` tensor.

    Parameters
    ----------
    mask : torch.Tensor or numpy.ndarray, shape (length,) or (k,)
        A boolean vector of ``length`` entries, or an integer (``int16``/``int32``/``int64``) vector of node ids
        in ``[0, length)``, converted to a mask. ``uint8``/``int8`` vectors are refused (ambiguous: a 0/1 mask or
        node ids), as are floating, complex and multi-dimensional inputs.
    length : int
        Number of nodes.
    name : str, default "mask"
        The argument's name, used in the error message.

    Returns
    -------
    torch.Tensor
        Boolean, shape ``(length,)``, on the device of ``mask``.

    Examples
    --------
    >>> import torch
    >>> check_mask(torch.tensor([0, 2]), 4).tolist()
    [True, False, True, False]
    >>> check_mask(torch.tensor([1, 0, 1], dtype=torch.uint8), 3)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: `mask` has dtype torch.uint8, which is ambiguous (a 0/1 mask or a list of node ids): ...
    """
    mask = _as_tensor(mask, name)
    length = check_int(length, "length", minimum=0)
    if mask.dtype in (torch.uint8, torch.int8):
        raise ValueError(
            f"`{name}` has dtype {mask.dtype}, which is ambiguous (a 0/1 mask or a list of node ids): pass a "
            "boolean mask (`mask.bool()`) or an int64 tensor of node ids"
        )
    if mask.dim() != 1:
        raise ValueError(f"`{name}` must be 1-D (a boolean mask or node ids), got shape {tuple(mask.shape)}")
    if mask.dtype != torch.bool:
        if mask.is_floating_point() or mask.is_complex():
            raise ValueError(f"`{name}` must be a boolean mask or an integer index tensor, got {mask.dtype}")
        if mask.numel():
            lo, hi = int(mask.min()), int(mask.max())
            if lo < 0 or hi >= length:
                bad = lo if lo < 0 else hi
                raise ValueError(f"`{name}` holds node id {bad}, outside [0, {length})")
        out = torch.zeros(length, dtype=torch.bool, device=mask.device)
        out[mask.long()] = True
        return out
    if mask.numel() != length:
        raise ValueError(f"`{name}` must be a boolean mask of length {length}, got length {mask.numel()}")
    return mask


def check_rate(rate, name: str = "rate", upper_inclusive: bool = False) -> float:
    """Check a probability-like rate in ``[0, 1)`` (or ``[0, 1]`` with ``upper_inclusive``).

    Parameters
    ----------
    rate : float
        The value to check.
    name : str, default "rate"
        The argument's name, used in the error message.
    upper_inclusive : bool, default False
        Accept ``1``.

    Returns
    -------
    float

    Examples
    --------
    >>> check_rate(0.3)
    0.3
    >>> check_rate(1.0, name="rate")
    Traceback (most recent call last):
    ...
    ValueError: `rate` must lie in [0, 1), got 1.0
    """
    rate = check_float(rate, name)
    ok = 0.0 <= rate <= 1.0 if upper_inclusive else 0.0 <= rate < 1.0
    if not ok:
        interval = "[0, 1]" if upper_inclusive else "[0, 1)"
        raise ValueError(f"`{name}` must lie in {interval}, got {rate}")
    return rate


def check_data(data) -> None:
    """Validate a :class:`torch_geometric.data.Data` graph: edge ids, feature values and label range.

    Parameters
    ----------
    data : torch_geometric.data.Data
        The graph; ``x`` and ``y`` are checked when present (``y`` against ``data.num_classes`` if set).

    Raises
    ------
    ValueError
        Naming the offending field (``data.edge_index``, ``data.x``, ``data.y``).

    Examples
    --------
    >>> import torch
    >>> from torch_geometric.data import Data
    >>> check_data(Data(edge_index=torch.tensor([[0, 3], [3, 0]]), num_nodes=3))
    Traceback (most recent call last):
    ...
    ValueError: `data.edge_index` contains node id 3, out of range for a graph with num_nodes=3
    """
    num_nodes = int(data.num_nodes)
    check_edge_index(data.edge_index, num_nodes, name="data.edge_index")
    if getattr(data, "x", None) is not None:
        check_features(data.x, name="data.x", num_nodes=num_nodes)
    if getattr(data, "y", None) is not None:
        num_classes = getattr(data, "num_classes", None)
        check_labels(data.y, num_classes=num_classes, name="data.y", length=num_nodes)
