"""Per-dataset hyper-parameters of the ERASE reference code (``run.sh``; paper notes ``erase.md`` section 1.1).

Chen et al., CIKM 2024 (https://arxiv.org/abs/2312.08852), section 5 (experimental setup). ``eps`` is the squared
distortion :math:`\\epsilon^2`; ``alpha`` weights the residual of the lazy walk, ``beta`` the denoised labels,
``steps`` is the number of propagation steps ``T``. Datasets without a reference preset use Cora's.
"""

from __future__ import annotations

__all__ = ["PRESETS", "get_preset"]

#: Reference hyper-parameters (run.sh). Training settings shared by all Planetoid-style runs: Adam lr 1e-3,
#: weight decay 5e-4, amsgrad, 400 epochs, patience 150 (the estimator's defaults).
PRESETS: dict[str, dict[str, float | int]] = {
    "cora": {"gam1": 1.0, "gam2": 2.0, "eps": 0.05, "alpha": 0.6, "beta": 0.6, "steps": 5},
    "citeseer": {"gam1": 1.0, "gam2": 2.0, "eps": 0.4, "alpha": 0.6, "beta": 0.7, "steps": 4},
    "pubmed": {"gam1": 1.0, "gam2": 3.0, "eps": 0.05, "alpha": 0.6, "beta": 0.6, "steps": 3},
    "cora_full": {"gam1": 1.0, "gam2": 2.0, "eps": 0.01, "alpha": 0.7, "beta": 0.7, "steps": 2},
    "ogbn_arxiv": {"gam1": 1.0, "gam2": 2.0, "eps": 0.05, "alpha": 0.5, "beta": 0.6, "steps": 50},
}


def get_preset(dataset: str) -> dict[str, float | int]:
    """The reference hyper-parameters for ``dataset`` (a loader name); Cora's for datasets without a preset."""
    if not isinstance(dataset, str):
        raise ValueError(f"`dataset` must be a dataset name (str), got {type(dataset).__name__}")
    key = dataset.lower().replace("-", "_")
    return dict(PRESETS.get(key, PRESETS["cora"]))
