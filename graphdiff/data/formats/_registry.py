"""The format registry: one entry per raw-file format, naming its reader and the options it accepts.

Every dataset of the manifest names its ``format``; :func:`graphdiff.data.load` and
:func:`graphdiff.data.load_tabular` look the format up here (:func:`get_format`), validate the caller's options
with the validators the format declares, resolve and verify the files, and call the reader. A reader module
registers its readers with the :func:`register_format` decorator when it is imported.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["Format", "FORMATS", "register_format", "get_format"]

#: An option validator: ``validator(value, name) -> cleaned value``, raising ``ValueError`` that names ``name``
#: (the checks of :mod:`graphdiff.data.validation` have this signature).
OptionValidator = Callable[[Any, str], Any]


@dataclass(frozen=True)
class Format:
    """A raw-file format of the data root.

    Attributes
    ----------
    name : str
        The ``format`` value of the manifest entries read by this format.
    kind : {"graph", "tabular"}
        What the reader returns: a :class:`torch_geometric.data.Data` or a
        :class:`~graphdiff.data.TabularDataset`.
    read : callable
        ``read(dataset_name, files, **options)``; ``files`` maps each file role of the manifest entry to its
        verified ``(path, form)``.
    options : mapping of str to callable
        The reader's own keyword options, each with its validator ``(value, name) -> value``.
    features : bool
        The reader returns node features ``x``: the loader accepts ``normalize_features`` for it.
    feature_roles : tuple of str
        File roles that hold only node features; with ``features=False`` the loader neither needs nor reads them
        (and a missing one is reported with that alternative).
    """

    name: str
    kind: str
    read: Callable[..., Any]
    options: Mapping[str, OptionValidator] = field(default_factory=dict)
    features: bool = False
    feature_roles: tuple[str, ...] = ()


#: Every registered format by name (read-only view; add entries with :func:`register_format`).
_FORMATS: dict[str, Format] = {}
FORMATS: Mapping[str, Format] = MappingProxyType(_FORMATS)


def register_format(
    name: str,
    *,
    kind: str = "graph",
    options: Mapping[str, OptionValidator] | None = None,
    features: bool = False,
    feature_roles: tuple[str, ...] = (),
):
    """Decorator registering ``read`` as the reader of format ``name`` (see :class:`Format`)."""
    if kind not in ("graph", "tabular"):
        raise ValueError(f"`kind` must be 'graph' or 'tabular', got {kind!r}")

    def decorate(read: Callable[..., Any]) -> Callable[..., Any]:
        if name in _FORMATS:
            raise ValueError(f"format {name!r} is registered twice ({_FORMATS[name].read.__module__})")
        _FORMATS[name] = Format(
            name, kind, read, MappingProxyType(dict(options or {})), features or bool(feature_roles), feature_roles
        )
        return read

    return decorate


def get_format(name: str) -> Format:
    """The registered :class:`Format` called ``name``; ``KeyError`` naming the known formats otherwise."""
    try:
        return _FORMATS[name]
    except KeyError:
        raise KeyError(f"no reader for format {name!r}; registered formats: {', '.join(sorted(_FORMATS))}") from None
