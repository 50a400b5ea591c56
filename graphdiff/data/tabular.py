"""Tabular datasets with fixed train / validation / test splits, for learning from label proportions (issue 5).

Implements the tabular loaders that the LLP-by-belief-propagation experiments use (Havaldar et al., "Learning from
Label Proportions: Bootstrapping Supervised Learners via Belief Propagation", ICLR 2024,
https://arxiv.org/abs/2310.08056, Section 5 "Experiments", datasets). Files are found and checksum-verified through
the same manifest and data root as the graph loaders (:mod:`graphdiff.data.loaders`).

``bank_marketing``
    The files released with the paper (``google-deepmind/llp_bp`` ``data/``): 16 label-encoded, globally scaled
    columns rounded to two decimals, already split 27,126 / 9,042 / 9,043. They are returned exactly as stored
    (no further scaling); ``feature_names`` are the file's header (``"0"`` ... ``"15"``). Each ``y_*.csv`` starts
    with a header line ``0`` (the pandas column name; the staged README calls them header-less, but the row counts
    27,127 / 9,043 / 9,044 lines = rows + 1 show the header), which is skipped.

``adult``
    UCI Adult (Kohavi 1996): ``adult.data`` (32,561 rows) and ``adult.test`` (16,281 rows), either as downloaded
    from UCI or as staged (with a header line); both forms are checksum-verified and give the same rows.
    ``adult.test`` is the test set. The validation set is carved from ``adult.data``: a stratified random
    ``val_fraction`` (default 0.2) of each class, drawn with ``numpy.random.default_rng(seed)`` (default seed 0),
    so the split is deterministic.
    All preprocessing is fitted on the remaining training rows only:

    * the 6 numeric columns (age, fnlwgt, education-num, capital-gain, capital-loss, hours-per-week) are
      standardised, :math:`(v - \\mu_{train}) / \\sigma_{train}` (population std; a constant column keeps scale 1);
    * the 8 categorical columns are one-hot encoded with the categories seen in the training rows, in sorted
      order; a missing value ``?`` is a category of its own (``"workclass=?"``); a category that never occurs in
      the training rows encodes as all zeros for that column (the count per split is in ``info["unseen"]``);
    * the label is 1 for ``>50K`` (``>50K.`` in ``adult.test``) and 0 for ``<=50K``.

Example::

    >>> from graphdiff.data import load_tabular
    >>> ds = load_tabular("bank_marketing")        # doctest: +SKIP
    >>> ds.X_train.shape, ds.y_train.mean()        # doctest: +SKIP
    ((27126, 16), 0.116...)
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np

from graphdiff.data.download import open_form
from graphdiff.data.loaders import _entry, _resolve
from graphdiff.data.validation import check_rate

__all__ = ["TabularDataset", "load_tabular", "ADULT_NUMERIC", "ADULT_CATEGORICAL"]

ADULT_COLUMNS = [
    "age", "workclass", "fnlwgt", "education", "education-num", "marital-status", "occupation",
    "relationship", "race", "sex", "capital-gain", "capital-loss", "hours-per-week", "native-country",
]  # fmt: skip
ADULT_NUMERIC = ["age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week"]
ADULT_CATEGORICAL = [c for c in ADULT_COLUMNS if c not in ADULT_NUMERIC]


@dataclasses.dataclass(frozen=True)
class TabularDataset:
    """Arrays of one tabular dataset: features float32 ``(n, d)``, labels int64 ``(n,)`` per split.

    ``info`` holds dataset-specific details (e.g. Adult's fitted means/stds and unseen-category counts).
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
        return int(self.X_train.shape[1])

    def __repr__(self) -> str:
        return (
            f"TabularDataset(name={self.name!r}, train={self.X_train.shape}, val={self.X_val.shape}, "
            f"test={self.X_test.shape}, positive rate train={float(self.y_train.mean()):.3f})"
        )


def _read_text(hit) -> str:
    with open_form(*hit) as f:
        return f.read().decode("utf-8")


def _read_bank_matrix(hit, what: str, header: bool) -> tuple[np.ndarray, list]:
    text = _read_text(hit)
    names = []
    if header:
        first, _, text = text.partition("\n")
        names = [s.strip() for s in first.split(",")]
    try:
        arr = np.loadtxt(io.StringIO(text), delimiter=",", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"bank_marketing: {what} is not a numeric CSV ({exc})") from None
    if not np.isfinite(arr).all():
        raise ValueError(f"bank_marketing: {what} contains NaN or infinite values")
    return arr, names


def _load_bank(files) -> TabularDataset:
    parts, names = {}, None
    for split in ("train", "val", "test"):
        x, header = _read_bank_matrix(files[f"x_{split}"], f"x_{split}.csv", header=True)
        # The label files were written by pandas: a header line naming the column ("0"), then one label per row.
        y, y_header = _read_bank_matrix(files[f"y_{split}"], f"y_{split}.csv", header=True)
        if y_header != ["0"]:
            raise ValueError(f"bank_marketing: y_{split}.csv should start with the header line '0', got {y_header}")
        if y.shape[1] != 1 or y.shape[0] != x.shape[0]:
            raise ValueError(
                f"bank_marketing: y_{split}.csv must hold one label per row of x_{split}.csv "
                f"({x.shape[0]} rows), got shape {y.shape}"
            )
        y = y[:, 0]
        if not np.isin(y, (0, 1)).all():
            raise ValueError(f"bank_marketing: y_{split}.csv holds labels other than 0/1")
        if names is None:
            names = header
        elif header != names:
            raise ValueError(f"bank_marketing: x_{split}.csv has a different header from x_train.csv")
        if len(header) != x.shape[1]:
            raise ValueError(
                f"bank_marketing: x_{split}.csv header names {len(header)} columns, rows have {x.shape[1]}"
            )
        parts[split] = (x.astype(np.float32), y.astype(np.int64))
    return TabularDataset(
        *parts["train"],
        *parts["val"],
        *parts["test"],
        feature_names=names,
        name="bank_marketing",
        info={"preprocessing": "as released with LLP-BP (label-encoded, scaled, rounded); not rescaled"},
    )


def _parse_adult(text: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Rows of an Adult file in either accepted form: the UCI original (no header; ``adult.test`` starts with
    ``|1x3 Cross validator``; a final blank line) or the staged copy (a header line ``age, workclass, ...``)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if lines and lines[0].startswith("|"):  # UCI adult.test comment line
        lines = lines[1:]
    if lines and lines[0].startswith("age,"):  # header line of the staged copies
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


def _stratified_holdout(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask of a stratified random hold-out: round(fraction * n_c) rows of each class c."""
    rng = np.random.default_rng(seed)
    held = np.zeros(y.size, dtype=bool)
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        take = int(round(fraction * idx.size))
        held[rng.permutation(idx)[:take]] = True
    return held


def _check_adult_options(val_fraction=0.2, seed=0) -> dict:
    val_fraction = check_rate(val_fraction, name="val_fraction")
    if val_fraction == 0:
        raise ValueError("`val_fraction` must be > 0: the validation set is carved from adult.data")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise ValueError(f"`seed` must be an int, got {seed!r}")
    return {"val_fraction": val_fraction, "seed": int(seed)}


def _load_adult(files, val_fraction: float = 0.2, seed: int = 0) -> TabularDataset:
    raw_train, y_all = _parse_adult(_read_text(files["train"]), "adult.data")
    raw_test, y_test = _parse_adult(_read_text(files["test"]), "adult.test")
    held = _stratified_holdout(y_all, val_fraction, int(seed))
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
    return TabularDataset(X_tr, y_tr, X_val, y_val, X_te, y_test, feature_names=names, name="adult", info=info)


def load_tabular(name: str, root=None, *, download: bool = False, verify: bool = True, **options) -> TabularDataset:
    """Load a tabular dataset with its train / validation / test split.

    Parameters
    ----------
    name : {"bank_marketing", "adult"}
    root : path, optional
        Data root (else ``$GRAPHDIFF_DATA``, else the user cache directory).
    download, verify : bool
        As in :func:`graphdiff.data.load`.
    **options
        ``adult`` only: ``val_fraction`` (default 0.2) and ``seed`` (default 0) of the validation split carved
        from ``adult.data``.

    Returns
    -------
    TabularDataset
        float32 feature matrices and int64 0/1 label vectors per split, plus ``feature_names``.
    """
    entry = _entry(name)
    key = name.lower()
    if entry["kind"] != "tabular":
        raise ValueError(f"{name!r} is a graph dataset: use graphdiff.data.load({key!r})")
    allowed = {"adult": {"val_fraction", "seed"}}.get(key, set())
    unknown = set(options) - allowed
    if unknown:
        raise ValueError(f"unknown option(s) {sorted(unknown)} for {key!r}; it accepts {sorted(allowed) or 'none'}")
    if key == "adult":
        options = _check_adult_options(**options)
    files = _resolve(key, entry, root, list(entry["files"]), download=download, verify=verify, verbose=False)
    if key == "bank_marketing":
        return _load_bank(files)
    if key == "adult":
        return _load_adult(files, **options)
    raise ValueError(f"no tabular reader for {key!r}")  # pragma: no cover - manifest and code out of sync
