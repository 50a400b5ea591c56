"""Per-dataset hyper-parameters of the ERASE reference code (the table of `shared/papers/erase.md` section 1.1).

Chen et al., CIKM 2024 (https://arxiv.org/abs/2312.08852), section 5 (experimental setup). ``eps`` is the squared
distortion :math:`\\epsilon^2`; ``alpha`` weights the residual of the lazy walk, ``beta`` the denoised labels,
``steps`` is the number of propagation steps ``T``.

Only the datasets below have reference values. For any other dataset :func:`get_preset` (and
:meth:`graphdiff.erase.ERASE.from_preset`) raises unless another dataset's values are asked for explicitly with
``fallback=`` (``fallback="cora"`` is what the benchmark uses for Amazon and Coauthor graphs).
"""

from __future__ import annotations

__all__ = ["PRESETS", "get_preset"]

#: Reference hyper-parameters (`shared/papers/erase.md` section 1.1). Training settings shared by all
#: Planetoid-style runs: Adam lr 1e-3, weight decay 5e-4, amsgrad, 400 epochs, patience 150 (the estimator's
#: defaults).
PRESETS: dict[str, dict[str, float | int]] = {
    "cora": {"gam1": 1.0, "gam2": 2.0, "eps": 0.05, "alpha": 0.6, "beta": 0.6, "steps": 5},
    "citeseer": {"gam1": 1.0, "gam2": 2.0, "eps": 0.4, "alpha": 0.6, "beta": 0.7, "steps": 4},
    "pubmed": {"gam1": 1.0, "gam2": 3.0, "eps": 0.05, "alpha": 0.6, "beta": 0.6, "steps": 3},
    "cora_full": {"gam1": 1.0, "gam2": 2.0, "eps": 0.01, "alpha": 0.7, "beta": 0.7, "steps": 2},
    "ogbn_arxiv": {"gam1": 1.0, "gam2": 2.0, "eps": 0.05, "alpha": 0.5, "beta": 0.6, "steps": 50},
}


def _key(dataset, name: str) -> str:
    if not isinstance(dataset, str):
        raise ValueError(f"`{name}` must be a dataset name (str), got {type(dataset).__name__} {dataset!r}")
    return dataset.lower().replace("-", "_")


def get_preset(dataset: str, fallback: str | None = None) -> dict[str, float | int]:
    """The reference hyper-parameters of ``dataset`` (a loader name; case and ``-``/``_`` are ignored).

    Parameters
    ----------
    dataset : str
        Dataset name, e.g. ``"cora"``, ``"CiteSeer"``, ``"ogbn-arxiv"``.
    fallback : str, optional
        A dataset with a preset whose values are returned when ``dataset`` has none (e.g. ``"cora"``). Without it
        a dataset without a preset is an error.

    Returns
    -------
    dict
        A fresh copy of ``{"gam1", "gam2", "eps", "alpha", "beta", "steps"}``.

    Raises
    ------
    ValueError
        When ``dataset`` has no preset and no ``fallback`` is given, or ``fallback`` has no preset itself.

    Examples
    --------
    >>> get_preset("citeseer")["eps"]
    0.4
    >>> get_preset("amazon_photo", fallback="cora") == get_preset("cora")
    True
    """
    key = _key(dataset, "dataset")
    if key in PRESETS:
        return dict(PRESETS[key])
    known = ", ".join(repr(k) for k in PRESETS)
    if fallback is None:
        raise ValueError(
            f"no reference ERASE preset for dataset {dataset!r}; presets exist for {known}. To use another "
            f"dataset's values, say which: `fallback='cora'` (e.g. ERASE.from_preset({dataset!r}, fallback='cora')), "
            "or pass the hyper-parameters to ERASE(...) directly"
        )
    fallback_key = _key(fallback, "fallback")
    if fallback_key not in PRESETS:
        raise ValueError(f"`fallback` must name a dataset with a preset ({known}), got {fallback!r}")
    return dict(PRESETS[fallback_key])
