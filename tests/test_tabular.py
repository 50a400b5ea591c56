"""Tabular loaders: Bank Marketing as released with LLP-BP, UCI Adult with a seeded validation split."""

import numpy as np
import pytest

import graphdiff.data as gd
from graphdiff.data.download import ChecksumError, MissingDataError
from graphdiff.data.tabular import ADULT_CATEGORICAL, ADULT_NUMERIC


def _check_arrays(ds):
    for X, y in ((ds.X_train, ds.y_train), (ds.X_val, ds.y_val), (ds.X_test, ds.y_test)):
        assert X.dtype == np.float32 and y.dtype == np.int64
        assert X.ndim == 2 and X.shape[0] == y.shape[0] and X.shape[1] == len(ds.feature_names)
        assert np.isfinite(X).all() and set(np.unique(y)) <= {0, 1}


def test_bank_marketing_counts_and_values(real_data_root):
    ds = gd.load_tabular("bank_marketing", root=real_data_root)
    _check_arrays(ds)
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (27126, 9042, 9043)
    assert ds.feature_names == [str(i) for i in range(16)]
    # positive rates from the staged README: about 0.116 / 0.118 / 0.119
    assert ds.y_train.mean() == pytest.approx(0.116, abs=0.001)
    assert ds.y_val.mean() == pytest.approx(0.118, abs=0.001)
    assert ds.y_test.mean() == pytest.approx(0.119, abs=0.001)
    # kept as released: the first data row equals the file's second line, the first labels the file's
    raw = real_data_root / "bank_marketing" / "raw"
    first = [float(v) for v in (raw / "x_train.csv").read_text().splitlines()[1].split(",")]
    np.testing.assert_array_equal(ds.X_train[0], np.array(first, dtype=np.float32))
    labels = [int(v) for v in (raw / "y_val.csv").read_text().split()[1:]]
    np.testing.assert_array_equal(ds.y_val, labels)
    assert ds.num_features == 16 and "bank_marketing" in repr(ds)


def test_adult_counts_and_preprocessing(real_data_root):
    ds = gd.load_tabular("adult", root=real_data_root)
    _check_arrays(ds)
    assert len(ds.y_train) + len(ds.y_val) == 32561 and len(ds.y_test) == 16281
    assert len(ds.y_val) == pytest.approx(0.2 * 32561, abs=2)
    y_all = np.concatenate([ds.y_train, ds.y_val, ds.y_test])
    assert y_all.mean() == pytest.approx(0.239, abs=0.001)  # README: about 23.9% positive
    # stratified: validation and training positive rates agree
    assert ds.y_val.mean() == pytest.approx(ds.y_train.mean(), abs=0.001)
    # numeric columns standardised with training statistics
    k = len(ADULT_NUMERIC)
    assert ds.feature_names[:k] == ADULT_NUMERIC
    np.testing.assert_allclose(ds.X_train[:, :k].mean(0), 0, atol=1e-4)
    np.testing.assert_allclose(ds.X_train[:, :k].std(0), 1, atol=1e-3)
    assert abs(ds.X_test[:, :k].mean(0)).max() > 1e-4  # test rows are not re-standardised
    # one-hot: exactly one category per categorical column on training rows; '?' is a category
    assert {"workclass=?", "occupation=?", "native-country=?"} <= set(ds.feature_names)
    onehot = ds.X_train[:, k:]
    assert set(np.unique(onehot)) == {0.0, 1.0}
    np.testing.assert_array_equal(onehot.sum(1), len(ADULT_CATEGORICAL))
    unseen = ds.info["unseen"]
    assert unseen["train"] == 0
    assert onehot.shape[1] == len(ds.feature_names) - k
    assert ds.X_test[:, k:].sum() == len(ADULT_CATEGORICAL) * len(ds.y_test) - unseen["test"]
    # the first test row: age 25, Private, ..., label <=50K
    age_mean, age_std = ds.info["numeric_mean"]["age"], ds.info["numeric_std"]["age"]
    assert ds.X_test[0, 0] == pytest.approx((25 - age_mean) / age_std, rel=1e-5)
    assert ds.X_test[0, ds.feature_names.index("workclass=Private")] == 1.0 and ds.y_test[0] == 0


def test_adult_split_is_seeded(real_data_root):
    a = gd.load_tabular("adult", root=real_data_root)
    b = gd.load_tabular("adult", root=real_data_root, seed=0)
    c = gd.load_tabular("adult", root=real_data_root, seed=1)
    np.testing.assert_array_equal(a.X_val, b.X_val)
    assert len(a.y_val) == len(c.y_val)
    # another seed holds out other rows (compare the raw numeric columns, which do not depend on the vocabulary)
    raw_a = a.X_val[:, :6] * np.array(list(a.info["numeric_std"].values())) + np.array(
        list(a.info["numeric_mean"].values())
    )
    raw_c = c.X_val[:, :6] * np.array(list(c.info["numeric_std"].values())) + np.array(
        list(c.info["numeric_mean"].values())
    )
    assert not np.allclose(np.sort(raw_a[:, 1]), np.sort(raw_c[:, 1]))
    d = gd.load_tabular("adult", root=real_data_root, val_fraction=0.1)
    assert len(d.y_val) == pytest.approx(3256, abs=2)
    # vocabulary and scaling are fitted on the training part only: they change with the split
    assert a.info["numeric_mean"] != c.info["numeric_mean"]


def test_tabular_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="graph dataset"):
        gd.load_tabular("cora")
    with pytest.raises(ValueError, match="unknown dataset"):
        gd.load_tabular("iris")
    with pytest.raises(ValueError, match="unknown option"):
        gd.load_tabular("bank_marketing", root=tmp_path, seed=1)
    with pytest.raises(ValueError, match="val_fraction"):
        gd.load_tabular("adult", root=tmp_path, val_fraction=1.5)


def test_tabular_missing_and_corrupt(tmp_path):
    with pytest.raises(MissingDataError) as exc:
        gd.load_tabular("bank_marketing", root=tmp_path)
    msg = str(exc.value)
    assert "x_train.csv" in msg and "y_test.csv" in msg and str(tmp_path / "bank_marketing" / "raw") in msg
    raw = tmp_path / "adult" / "raw"
    raw.mkdir(parents=True)
    (raw / "adult.data").write_text("age, workclass\n39, State-gov\n")
    (raw / "adult.test").write_text("age, workclass\n")
    with pytest.raises(ChecksumError, match="adult.data"):
        gd.load_tabular("adult", root=tmp_path)


def test_adult_parser_rejects_malformed_rows(tmp_path):
    from graphdiff.data.formats import tabular

    header = (
        "age, workclass, fnlwgt, education, education-num, marital-status, occupation, relationship, race, sex, "
        "capital-gain, capital-loss, hours-per-week, native-country, Y\n"
    )
    good = (
        "39, State-gov, 77516, Bachelors, 13, Never-married, Adm-clerical, Not-in-family, White, Male, 2174, 0, 40, "
        "United-States, <=50K\n"
    )
    X, y = tabular.parse_adult(header + good + good.replace("<=50K", ">50K."), "t")
    assert X.shape == (2, 14) and y.tolist() == [0, 1]
    with pytest.raises(ValueError, match="fields"):
        tabular.parse_adult(header + "39, State-gov\n", "t")
    with pytest.raises(ValueError, match="label"):
        tabular.parse_adult(header + good.replace("<=50K", "maybe"), "t")
    # the UCI form: no header, a '|1x3 Cross validator' line, a final blank line
    X2, y2 = tabular.parse_adult("|1x3 Cross validator\n" + good + "\n", "t")
    assert X2.shape == (1, 14) and y2.tolist() == [0]
    with pytest.raises(ValueError, match="no data rows"):
        tabular.parse_adult(header, "t")


def test_adult_canonical_uci_form(real_data_root, tmp_path):
    """The UCI originals (rebuilt here from the staged copies) are accepted by their sha256 and load identically."""
    raw = tmp_path / "adult" / "raw"
    raw.mkdir(parents=True)
    for name, first in (("adult.data", b""), ("adult.test", b"|1x3 Cross validator\n")):
        staged = (real_data_root / "adult" / "raw" / name).read_bytes()
        (raw / name).write_bytes(first + staged.split(b"\n", 1)[1] + b"\n")
    uci = gd.load_tabular("adult", root=tmp_path)
    staged = gd.load_tabular("adult", root=real_data_root)
    np.testing.assert_array_equal(uci.X_train, staged.X_train)
    np.testing.assert_array_equal(uci.X_test, staged.X_test)
    np.testing.assert_array_equal(uci.y_val, staged.y_val)
    # one extra byte matches neither accepted form
    (raw / "adult.data").write_bytes((raw / "adult.data").read_bytes() + b"\n")
    with pytest.raises(ChecksumError, match="none of its 2 accepted forms"):
        gd.load_tabular("adult", root=tmp_path)
