"""Old argument names of :mod:`graphdiff.cluster` that keep working for one release (0.2.x) with a warning.

Before 0.2.0, ``seed`` was a node id in ``acl_pagerank(graph, seed)`` and ``local_cluster(graph, seed)`` (whose RNG
seed was therefore ``rng_seed``), and many-seed functions called their node ids ``seeds``. Now ``seed`` is always a
random seed and nodes are ``seed_node`` / ``seed_nodes``.
"""

from __future__ import annotations

import functools
import inspect
import warnings

from graphdiff.base import warn_deprecated

__all__ = ["renamed_arguments"]


def renamed_arguments(node: str | None = None, **renames: str):
    """Decorator mapping deprecated keyword arguments to their new names, with a :class:`DeprecationWarning`.

    ``renames`` maps old keyword names to new ones (``rng_seed="seed"``). ``node`` names the function's node
    argument: ``seed=<node id>`` given while that argument is missing is read as the node (the pre-0.2 meaning).
    Passing a deprecated name together with its replacement is a :class:`TypeError`.
    """

    def decorate(func):
        params = list(inspect.signature(func).parameters)

        def given(name: str, args, kwargs) -> bool:
            if name in kwargs:
                return True
            return name in params and params.index(name) < len(args)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            if node is not None and "seed" in kwargs and not given(node, args, kwargs):
                warnings.warn(
                    f"passing the node as `seed=` is deprecated since graphdiff 0.2.0 and will stop working in 0.3.0: "
                    f"`seed` is the random seed now; use `{node}=` (or pass the node positionally)",
                    DeprecationWarning,
                    stacklevel=2,
                )
                kwargs[node] = kwargs.pop("seed")
            for old, new in renames.items():
                if old in kwargs:
                    if given(new, args, kwargs):
                        raise TypeError(
                            f"{func.__name__}() got both `{old}` (deprecated) and `{new}`; pass `{new}` only"
                        )
                    warn_deprecated(old, new, stacklevel=3)
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        wrapper.__signature__ = inspect.signature(func)
        return wrapper

    return decorate
