"""The estimator protocol every method package follows: scikit-learn's, with torch devices and explicit seeds.

Every public estimator of graphdiff (``ERASE``, ``GCN``/``GAT``/``GCE``, ``BPLabelProportions``, ``DLLP``,
``EasyLLP``, ``SupervisedMLP``, ``LocalClustering``, ``EchoScene``) subclasses :class:`Estimator`, a
:class:`sklearn.base.BaseEstimator`, and keeps its rules:

* ``__init__`` stores each parameter under its own name, exactly as given, and does nothing else: no validation, no
  conversion, no fitted state. So ``get_params`` / ``set_params`` round-trip and :func:`sklearn.base.clone`,
  grid searches and pipelines work.
* ``fit`` validates the parameters first (``Estimator._check_params``, with the checks of
  :mod:`graphdiff.data.validation`): a bad value raises :class:`ValueError` naming the parameter, before any work.
* Fitted state has a trailing underscore (``history_``, ``model_``, ...) and exists only after ``fit``;
  :func:`sklearn.utils.validation.check_is_fitted` works on every estimator, and a prediction or sampling method
  called before ``fit`` raises :class:`sklearn.exceptions.NotFittedError`.
* ``seed`` is the one name of a random seed (an integer; node ids are ``seed_nodes``); ``device`` is a device name
  or :class:`torch.device` (default ``"cpu"``), checked to exist by :func:`~graphdiff.data.validation.check_device`;
  ``verbose`` switches progress bars. Randomness comes from ``seed`` alone and no global random state is changed:
  code that must use torch's global generator (module initialisation, dropout) runs inside :func:`torch_seed`.

Output types follow the data: graph estimators return torch tensors on their device (one entry per node), tabular
estimators return numpy arrays as scikit-learn does, and local clustering returns node sets as numpy ``int64``
arrays (as localgraphclustering does).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator

import torch
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from graphdiff.data.validation import check_bool, check_device, check_seed

__all__ = ["Estimator", "NotFittedError", "torch_seed", "deprecated_alias", "warn_deprecated"]


class Estimator(BaseEstimator):
    """Base class of graphdiff's estimators (see the module docstring for the rules).

    Subclasses define ``__init__`` with keyword parameters stored as given, and ``_check_params``, which
    validates them (calling ``super()._check_params()`` for ``seed``, ``device`` and ``verbose``).
    """

    def _check_params(self) -> None:
        """Validate the parameters (called first thing in ``fit``); raises :class:`ValueError` naming the bad one."""
        params = self.get_params(deep=False)
        if "seed" in params:
            check_seed(params["seed"])
        if "device" in params:
            check_device(params["device"])
        if "verbose" in params:
            check_bool(params["verbose"], "verbose")

    def _device(self) -> torch.device:
        """The validated ``device`` parameter as a :class:`torch.device`."""
        return check_device(self.device)

    def _check_fitted(self, attributes=None) -> None:
        """Raise :class:`~sklearn.exceptions.NotFittedError` unless ``fit`` has run."""
        check_is_fitted(self, attributes)


@contextlib.contextmanager
def torch_seed(seed: int, device: torch.device | str = "cpu") -> Iterator[None]:
    """Run a block with torch's global generators seeded with ``seed``, then restore them.

    Module initialisation and dropout draw from torch's global generators; this forks them (the CPU one, and the
    current one of a CUDA ``device``) so that a fit is reproducible from ``seed`` and leaves the caller's random
    state as it was.

    Parameters
    ----------
    seed : int
        Seed in ``[0, 2**32 - 1]``.
    device : str or torch.device, default "cpu"
        The device of the fit; for a CUDA device its generator is forked and seeded too.

    Yields
    ------
    None
    """
    device = torch.device(device)
    devices = []
    if device.type == "cuda":
        devices = [device.index if device.index is not None else torch.cuda.current_device()]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(check_seed(seed))
        yield


def warn_deprecated(old: str, new: str, *, since: str = "0.2.0", removed: str = "0.3.0", stacklevel: int = 3) -> None:
    """Emit the :class:`DeprecationWarning` of a renamed argument or attribute.

    Parameters
    ----------
    old, new : str
        The deprecated name and the name that replaces it.
    since, removed : str, default "0.2.0", "0.3.0"
        The versions that deprecated the name and that will remove it.
    stacklevel : int, default 3
        Passed to :func:`warnings.warn` (3: the warning names the caller of the function that calls this one).
    """
    warnings.warn(
        f"`{old}` is deprecated since graphdiff {since} and will be removed in {removed}; use `{new}` instead",
        DeprecationWarning,
        stacklevel=stacklevel,
    )


class deprecated_alias:
    """A read-only attribute that returns ``self.<new>`` with a :class:`DeprecationWarning`, for renamed fitted
    attributes: ``history = deprecated_alias("history_")`` in a class body.

    Parameters
    ----------
    new : str
        The name of the attribute that replaces the alias.
    since, removed : str, default "0.2.0", "0.3.0"
        The versions that deprecated the alias and that will remove it.
    """

    def __init__(self, new: str, *, since: str = "0.2.0", removed: str = "0.3.0"):
        self.new, self.since, self.removed = new, since, removed
        self.old = "<alias>"

    def __set_name__(self, owner, name: str) -> None:
        self.old = name
        self.__doc__ = f"Deprecated alias of ``{self.new}`` (since {self.since}, removed in {self.removed})."

    def __get__(self, obj, objtype=None):
        if obj is None:
            return self
        warn_deprecated(self.old, self.new, since=self.since, removed=self.removed)
        return getattr(obj, self.new)
