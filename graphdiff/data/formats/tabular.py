"""Readers of the tabular formats (see :mod:`graphdiff.data.tabular` for the datasets and their preprocessing).

* ``llp_bp_csv`` -- the CSV files released with LLP-BP (Havaldar et al., ICLR 2024,
  https://arxiv.org/abs/2310.08056): ``x_{train,val,test}.csv`` with a header line of column names and
  ``y_{train,val,test}.csv`` with the header line ``0`` (the pandas column name) and one 0/1 label per row.
* ``adult_csv`` -- UCI Adult (Kohavi, KDD 1996) ``adult.data`` / ``adult.test``, in the UCI form (``adult.test``
  opens with a ``|1x3 Cross validator`` line; labels ``>50K.`` with a dot) or with a header line instead.
"""

from __future__ import annotations

import io
from functools import partial

import numpy as np

from graphdiff.data.formats._common import read_text
from graphdiff.data.formats._registry import register_format
from graphdiff.data.tabular import ADULT_CATEGORICAL, ADULT_COLUMNS, ADULT_NUMERIC, TabularDataset
from graphdiff.data.validation import check_float, check_seed

__all__ = ["read_bank_marketing", "read_adult", "parse_adult", "stratified_holdout"]

ADULT_OPTIONS = {
    "val_fraction": partial(check_float, minimum=0.0, maximum=1.0, low_open=True, high_open=True),
    "seed": check_seed,
}


# --------------------------------------------------------------------------------------------------- LLP-BP
def _read_matrix(hit, dataset: str, what: str) -> tuple[np.ndarray, list]:
    """A numeric CSV with one header line -> (float64 rows, column names)."""
    first, _, text = read_text(hit).partition("\n")
    names = [s.strip() for s in first.split(",")]
    try:
        arr = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{dataset}: {what} is not a numeric CSV ({exc})") from None
    if not np.isfinite(arr).all():
        raise ValueError(f"{dataset}: {what} contains NaN or infinite values")
    return arr, names


@register_format("llp_bp_csv", kind="tabular")
def read_bank_marketing(name: str, files: dict) -> TabularDataset:
    """LLP-BP's split CSVs -> :class:`TabularDataset` exactly as stored (no rescaling)."""
    parts, names = {}, None
    for split in ("train", "val", "test"):
        x, header = _read_matrix(files[f"x_{split}"], name, f"x_{split}.csv")
        # The label files were written by pandas: a header line naming the column ("0"), then one label per row.
        y, y_header = _read_matrix(files[f"y_{split}"], name, f"y_{split}.csv")
        if y_header != ["0"]:
            raise ValueError(f"{name}: y_{split}.csv should start with the header line '0', got {y_header}")
        if y.shape[1] != 1 or y.shape[0] != x.shape[0]:
            raise ValueError(
                f"{name}: y_{split}.csv must hold one label per row of x_{split}.csv "
                f"({x.shape[0]} rows), got shape {y.shape}"
            )
        y = y[:, 0]
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"{name}: y_{split}.csv holds labels other than 0/1")
        if names is None:
            names = header
        elif header != names:
            raise ValueError(f"{name}: x_{split}.csv has a different header from x_train.csv")
        if len(header) != x.shape[1]:
            raise ValueError(f"{name}: x_{split}.csv header names {len(header)} columns, rows have {x.shape[1]}")
        parts[split] = (x.astype(np.float32), y.astype(np.int64))
    return TabularDataset(
        *parts["train"],
        *parts["val"],
        *parts["test"],
        feature_names=names,
        name=name,
        info={"preprocessing": "as released with LLP-BP (label-encoded, scaled, rounded); not rescaled"},
    )


# --------------------------------------------------------------------------------------------------- Adult
def parse_adult(text: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of an Adult file in either accepted form: the UCI original (no header; ``adult.test`` starts with
    ``|1x3 Cross validator``; a final blank line) or with a header line ``age, workclass, ...`` instead.

    Returns the 14 raw string columns and the 0/1 labels (1 for ``>50K``).

    Examples
    --------
    >>> raw, y = parse_adult("39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family,"
    ...                      " White, Male, 2174, 0, 40, United-States, <=50K\\n", "adult.data")
    >>> raw.shape, y.tolist(), str(raw[0, 1])
    ((1, 14), [0], 'State-gov')
    """
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith("|"):  # UCI adult.test comment line
        lines = lines[1:]
    if lines and lines[0].startswith("age,"):  # a header line instead
        lines = lines[1:]
    if not lines:
        raise ValueError(f"adult: {what} has no data rows")
    rows = [line.split(",") for line in lines]
    bad = next((i for i, r in enumerate(rows) if len(r) != 15), None)
    if bad is not None:
        raise ValueError(f"adult: {what} data row {bad + 1} has {len(rows[bad])} fields, expected 15")
    table = np.char.strip(np.array(rows, dtype=str))
    label = np.char.rstrip(table[:, 14], ".")
    unknown = ~np.isin(label, ("<=50K", ">50K"))
    if unknown.any():
        raise ValueError(
            f"adult: {what} has {int(unknown.sum())} label(s) other than <=50K / >50K: {label[unknown][0]!r}"
        )
    return table[:, :14], (label == ">50K").astype(np.int64)


def stratified_holdout(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a stratified random hold-out: ``round(fraction * n_c)`` rows of each class ``c``.

    Examples
    --------
    >>> int(stratified_holdout(np.array([0] * 10 + [1] * 5), 0.2, seed=0).sum())  # 2 of class 0, 1 of class 1
    3
    """
    rng = np.random.default_rng(seed)
    held = np.zeros(y.size, dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        take = int(round(fraction * idx.size))
        held[rng.permutation(idx)[:take]] = True
    return held


@register_format("adult_csv", kind="tabular", options=ADULT_OPTIONS)
def read_adult(name: str, files: dict, val_fraction: float = 0.2, seed: int = 0) -> TabularDataset:
    """UCI Adult -> :class:`TabularDataset`: a stratified validation split of ``adult.data``, numerics
    standardised and categoricals one-hot encoded with statistics of the remaining training rows."""
    raw_train, y_all = parse_adult(read_text(files["train"]), "adult.data")
    raw_test, y_test = parse_adult(read_text(files["test"]), "adult.test")
    held = stratified_holdout(y_all, val_fraction, int(seed))
    raw_val, y_val = raw_train[held], y_all[held]
    raw_tr, y_tr = raw_train[~held], y_all[~held]
    num_idx = [ADULT_COLUMNS.index(c) for c in ADULT_NUMERIC]
    cat_idx = [ADULT_COLUMNS.index(c) for c in ADULT_CATEGORICAL]

    def numeric(raw, what):
        try:
            return raw[:, num_idx].astype(np.float64)
        except ValueError as exc:
            raise ValueError(f"adult: a numeric column of {what} is not a number ({exc})") from None

    num_tr = numeric(raw_tr, "adult.data")
    mean = num_tr.mean(axis=0)
    std = num_tr.std(axis=0)
    std[std == 0] = 1.0
    vocab = {c: np.unique(raw_tr[:, j]) for c, j in zip(ADULT_CATEGORICAL, cat_idx)}
    names = list(ADULT_NUMERIC) + [f"{c}={v}" for c in ADULT_CATEGORICAL for v in vocab[c]]
    unseen = {}

    def encode(raw, split, what):
        blocks = [((numeric(raw, what) - mean) / std)]
        missed = 0
        for c, j in zip(ADULT_CATEGORICAL, cat_idx):
            cats = vocab[c]
            pos = np.searchsorted(cats, raw[:, j])
            pos_c = np.minimum(pos, cats.size - 1)
            seen = cats[pos_c] == raw[:, j]
            onehot = np.zeros((raw.shape[0], cats.size))
            onehot[np.flatnonzero(seen), pos_c[seen]] = 1.0
            missed += int((~seen).sum())
            blocks.append(onehot)
        unseen[split] = missed
        return np.hstack(blocks).astype(np.float32)

    X_tr = encode(raw_tr, "train", "adult.data")
    X_val = encode(raw_val, "val", "adult.data")
    X_te = encode(raw_test, "test", "adult.test")
    info = {
        "val_fraction": val_fraction,
        "seed": int(seed),
        "numeric_mean": dict(zip(ADULT_NUMERIC, mean.tolist())),
        "numeric_std": dict(zip(ADULT_NUMERIC, std.tolist())),
        "unseen": unseen,
        "preprocessing": "one-hot categoricals ('?' own category) and standardised numerics, fitted on train rows",
    }
    return TabularDataset(X_tr, y_tr, X_val, y_val, X_te, y_test, feature_names=names, name=name, info=info)
