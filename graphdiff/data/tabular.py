"""Tabular datasets with fixed train / validation / test splits, for learning from label proportions.

The tabular sets of the LLP-by-belief-propagation experiments (Havaldar et al., "Learning from Label Proportions:
Bootstrapping Supervised Learners via Belief Propagation", ICLR 2024, https://arxiv.org/abs/2310.08056, Section 5
"Experiments"), loaded with :func:`graphdiff.data.load_tabular`. Files are found and checksum-verified through the
same manifest and data root as the graph loaders; the readers are in :mod:`graphdiff.data.formats.tabular`.

``bank_marketing``
    The files released with the paper (``google-deepmind/llp_bp`` ``data/``): 16 label-encoded, globally scaled
    columns rounded to two decimals, already split 27,126 / 9,042 / 9,043. They are returned exactly as stored
    (no further scaling); ``feature_names`` are the file's header (``"0"`` ... ``"15"``). Each ``y_*.csv`` starts
    with a header line ``0`` (the pandas column name: the files have 27,127 / 9,043 / 9,044 lines for 27,126 /
    9,042 / 9,043 rows), which is skipped.

``adult``
    UCI Adult (Kohavi 1996): ``adult.data`` (32,561 rows) and ``adult.test`` (16,281 rows), either as downloaded
    from UCI or with a header line instead of UCI's first line; both forms are checksum-verified and give the same
    rows. ``adult.test`` is the test set. The validation set is carved from ``adult.data``: a stratified random
    ``val_fraction`` (default 0.2) of each class, drawn with ``numpy.random.default_rng(seed)`` (default seed 0),
    so the split is deterministic.
    All preprocessing is fitted on the remaining training rows only:

    * the 6 numeric columns (age, fnlwgt, education-num, capital-gain, capital-loss, hours-per-week) are
      standardised, :math:`(v - \\mu_{train}) / \\sigma_{train}` (population std; a constant column keeps scale 1);
    * the 8 categorical columns are one-hot encoded with the categories seen in the training rows, in sorted
      order; a missing value ``?`` is a category of its own (``"workclass=?"``); a category that never occurs in
      the training rows encodes as all zeros for that column (the count per split is in ``info["unseen"]``);
    * the label is 1 for ``>50K`` (``>50K.`` in ``adult.test``) and 0 for ``<=50K``.
"""

from __future__ import annotations

import dataclasses

import numpy as np

__all__ = ["TabularDataset", "ADULT_NUMERIC", "ADULT_CATEGORICAL"]

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
]  # fmt: skip
ADULT_NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
ADULT_CATEGORICAL = [c for c in ADULT_COLUMNS if c not in ADULT_NUMERIC]


@dataclasses.dataclass(frozen=True)
class TabularDataset:
    """Arrays of one tabular dataset with its fixed split, as :func:`graphdiff.data.load_tabular` returns them.

    Parameters
    ----------
    X_train, X_val, X_test : numpy.ndarray of float32, shape (n_split, num_features)
        Feature rows of each split.
    y_train, y_val, y_test : numpy.ndarray of int64, shape (n_split,)
        0/1 labels of each split.
    feature_names : list of str
        One name per column (Adult: ``"age"``, ..., ``"workclass=Private"``, ...).
    name : str
        The dataset name.
    info : dict
        Dataset-specific details (Adult: the fitted means / stds, the unseen-category counts, the split options).

    Examples
    --------
    >>> import numpy as np
    >>> X, y = np.zeros((4, 2), dtype=np.float32), np.array([0, 1, 1, 0])
    >>> ds = TabularDataset(X, y, X[:2], y[:2], X[:2], y[:2], feature_names=["a", "b"], name="toy")
    >>> ds.num_features, ds
    (2, TabularDataset(name='toy', train=(4, 2), val=(2, 2), test=(2, 2), positive rate train=0.500))
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    feature_names: list
    name: str = ""
    info: dict = dataclasses.field(default_factory=dict)

    @property
    def num_features(self) -> int:
        """Number of feature columns."""
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:
        return (
            f"TabularDataset(name={self.name!r}, train={self.X_train.shape}, val={self.X_val.shape}, "
            f"test={self.X_test.shape}, positive rate train={float(self.y_train.mean()):.3f})"
        )


def __getattr__(name: str):
    # load_tabular lives beside load() in graphdiff.data.loaders (the readers of graphdiff.data.formats import this
    # module for TabularDataset, so it cannot import the loaders at import time); this keeps
    # ``from graphdiff.data.tabular import load_tabular`` working.
    if name == "load_tabular":
        from graphdiff.data.loaders import load_tabular

        return load_tabular
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
