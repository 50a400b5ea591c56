"""graphdiff.llp estimators: BP-LLP pipeline, DLLP, EasyLLP (behaviour, reductions, bad input, Bank end to end)."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from graphdiff.data.bags import as_bags, random_bags
from graphdiff.data.synthetic import logistic_data
from graphdiff.llp import DLLP, BPLabelProportions, EasyLLP, SupervisedMLP
from graphdiff.llp.selection import bag_proportion_loss, roc_auc
from graphdiff.nn.mlp import fit_mlp, predict_proba

SMALL = dict(hidden=(32, 16, 8), epochs=8, batch_size=128, verbose=False)


@pytest.fixture(scope="module")
def toy():
    X, y = logistic_data(1600, 6, 0.3, signal=4.0, seed=1)
    _Xt, _yt = logistic_data(800, 6, 0.3, signal=4.0, seed=1)  # same model (same seed) -> same w; new draw below
    g = torch.Generator().manual_seed(9)
    perm = torch.randperm(1600, generator=g)
    return X[perm[:1200]], y[perm[:1200]], X[perm[1200:]], y[perm[1200:]]


def test_bp_llp_learns_from_bags(toy):
    X, y, Xt, yt = toy
    bags = random_bags(y, 8, seed=0)
    est = BPLabelProportions(n_rounds=2, learner="pseudo", weighting="matern", **SMALL).fit(X, bags)
    proba = est.predict_proba(Xt)
    assert proba.shape == (Xt.size(0), 2) and np.allclose(proba.sum(1), 1.0)
    assert roc_auc(yt, proba[:, 1]) > 0.8
    assert set(np.unique(est.predict(Xt))) <= {0, 1}
    assert len(est.bp_results_) == 2 and len(est.history_) == 2
    assert all(set(h) == {"loss", "score", "best_epoch"} for h in est.history_)  # one DLLP-shaped record per round
    with pytest.warns(DeprecationWarning, match="history_"):
        assert est.histories_ is est.history_
    assert roc_auc(y, est.marginals_) > 0.75
    # top-k pseudo-labels reproduce every bag count
    lab = est.pseudo_labels_
    for b in range(bags.num_bags):
        assert int(lab[bags.index[bags.ptr[b] : bags.ptr[b + 1]]].sum()) == int(bags.counts[b])


def test_bag_size_one_reduces_to_supervised(toy):
    """B = 1 and lam_b >> lam_s * degree: pseudo-labels = labels, and the final MLP is the supervised MLP."""
    X, y, Xt, _ = toy
    bags = random_bags(y, 1, seed=0)
    kw = dict(hidden=(16, 8), epochs=3, batch_size=256, seed=3, verbose=False)
    est = BPLabelProportions(
        lam_s=0.1,
        lam_b=50.0,
        n_rounds=1,
        pseudo_labels="hard",
        learner="pseudo",
        validation="none",
        standardize=False,
        **kw,
    ).fit(X, bags)
    assert torch.equal(est.pseudo_labels_.long(), y)
    assert float((est.marginals_ - y.double()).abs().max()) < 1e-6
    # bags are a permutation of rows; the learner sees rows in bag order
    sup, _ = fit_mlp(X[bags.index], y[bags.index].float(), **kw)
    assert np.allclose(est.predict_proba(Xt)[:, 1], predict_proba(sup, Xt).numpy(), atol=1e-6)


def test_no_similarity_marginals_are_function_of_bag_proportion(toy):
    """lam_s = 0: marginals depend on k_B only, so their AUC equals the AUC of k_B / B."""
    X, y, _, _ = toy
    bags = random_bags(y, 8, seed=2)
    est = BPLabelProportions(lam_s=0.0, n_rounds=1, pseudo_labels="soft", learner="pseudo", **SMALL).fit(X, bags)
    idx = bags.index
    prop = bags.proportions[bags.bag_of_member]
    m = est.marginals_[idx]
    assert abs(roc_auc(y[idx], m) - roc_auc(y[idx], prop)) < 1e-12
    hard = BPLabelProportions(lam_s=0.0, n_rounds=1, hard=True, learner="pseudo", **SMALL).fit(X, bags)
    assert torch.allclose(hard.marginals_[idx], prop, atol=1e-9)  # hard count, no similarity: exactly k / B


@pytest.mark.parametrize("cls", [DLLP, EasyLLP])
def test_baselines_learn(toy, cls):
    X, y, Xt, yt = toy
    bags = random_bags(y, 8, seed=0)
    est = cls(**{**SMALL, "epochs": 40, "lr": 1e-2}).fit(X, bags)
    assert roc_auc(yt, est.predict_proba(Xt)[:, 1]) > 0.8


def test_aggregate_embedding_variant_and_modes(toy):
    X, y, Xt, yt = toy
    bags = random_bags(y, 16, seed=0)
    est = BPLabelProportions(aggregate_lambda=0.1, n_rounds=1, bag_factor="gaussian", learner="pseudo", **SMALL).fit(
        X, bags
    )
    assert roc_auc(yt, est.predict_proba(Xt)[:, 1]) > 0.75
    est = BPLabelProportions(bag_factor="pairwise", n_rounds=1, validation="none", **SMALL).fit(X, bags)
    assert est.bp_results_[0].marginals.shape == (X.size(0),)


def test_paper_preset_and_instance_validation(toy):
    X, y, Xt, yt = toy
    p = BPLabelProportions.from_preset("paper", epochs=2, verbose=False)
    assert (p.bag_factor, p.lam_s, p.lam_b, p.n_rounds, p.pseudo_labels) == ("pairwise", 10.0, 10.0, 2, "hard")
    assert (p.learner, p.weighting, p.epochs) == ("pseudo", "matern", 2)
    assert tuple(p.hidden) == (5040, 1280, 320, 128, 64)
    bags = random_bags(y, 8, seed=0)
    est = BPLabelProportions(validation="instances", n_rounds=1, **SMALL)
    with pytest.raises(ValueError, match="X_val"):
        est.fit(X, bags)
    est.fit(X, bags, X_val=Xt, y_val=yt)
    assert len(est.history_[0]["score"]) >= 1
    with pytest.raises(ValueError, match="validation='instances'"):
        BPLabelProportions(**SMALL).fit(X, bags, X_val=Xt, y_val=yt)


def test_bag_proportion_loss_matches_definition():
    bags = as_bags([[0, 1], [2, 3, 4]], [1, 0], 5)
    p = torch.tensor([0.2, 0.6, 0.1, 0.1, 0.4], dtype=torch.float64)
    ref = -(0.5 * np.log(0.4) + 0.5 * np.log(0.6) + np.log(0.8)) / 2
    assert abs(float(bag_proportion_loss(p, bags)) - ref) < 1e-12


def test_bad_input_raises_clear_errors(toy):
    X, _y, _, _ = toy
    n = X.size(0)
    lists = [np.arange(0, 8), np.arange(8, 16)]
    est = BPLabelProportions(**SMALL)
    with pytest.raises(ValueError, match="larger than the bag"):
        est.fit(X, lists, [9, 1])
    with pytest.raises(ValueError, match="non-negative"):
        est.fit(X, lists, [-1, 1])
    with pytest.raises(ValueError, match="empty"):
        est.fit(X, [np.arange(0, 8), np.array([], dtype=int)], [1, 0])
    with pytest.raises(ValueError, match="2 bags"):
        est.fit(X, [np.arange(0, 8), np.arange(7, 16)], [1, 1])
    bad = X.clone()
    bad[5, 2] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        est.fit(bad, lists, [1, 1])
    with pytest.raises(ValueError, match="bag_factor"):
        BPLabelProportions(bag_factor="fft").fit(X, lists, [1, 1])
    with pytest.raises(ValueError, match="hard=True"):
        BPLabelProportions(bag_factor="pairwise", hard=True).fit(X, lists, [1, 1])
    with pytest.raises(ValueError, match="epochs"):
        DLLP(epochs=0).fit(X, lists, [1, 1])
    with pytest.raises(NotFittedError):
        EasyLLP().predict_proba(X)
    with pytest.raises(ValueError, match="counts"):
        DLLP(**SMALL).fit(X, lists, [1])
    assert n == 1200


@pytest.mark.slow
def test_bank_end_to_end_bag8(real_data_root):
    """Bank (released CSVs), bag 8: pseudo-label AUC >= 0.78 and test AUC >= 0.80."""
    import graphdiff.data as gd

    torch.set_num_threads(1)
    ds = gd.load_tabular("bank_marketing", root=real_data_root)
    bags = random_bags(torch.from_numpy(ds.y_train), 8, seed=0)
    est = BPLabelProportions(lam_s=0.3, n_rounds=1, hidden=(128, 64, 32), epochs=10, verbose=False)
    est.fit(ds.X_train, bags)
    assert roc_auc(ds.y_train, est.marginals_) >= 0.78
    assert roc_auc(ds.y_test, est.predict_proba(ds.X_test)[:, 1]) >= 0.80


def test_bag_score_ignores_global_rate_and_rewards_ranking():
    """The label-free criterion: invariant to a global logit shift, higher for a model that ranks the truth."""
    from torch import nn

    from graphdiff.llp.selection import bag_score_fn

    class Fixed(nn.Module):
        def __init__(self, sign, shift):
            super().__init__()
            self.sign, self.shift = sign, shift

        def forward(self, x):
            return self.sign * 3.0 * x[:, 0] + self.shift

    g = torch.Generator().manual_seed(0)
    x = torch.randn(4000, 2, generator=g)
    y = (torch.rand(4000, generator=g) < torch.sigmoid(3.0 * x[:, 0] - 1.0)).long()
    bags = random_bags(y, 8, seed=0)
    score = bag_score_fn(x, bags)
    good, shifted, bad = score(Fixed(1.0, 0.0)), score(Fixed(1.0, 2.5)), score(Fixed(-1.0, 0.0))
    assert abs(good - shifted) < 1e-3
    assert good > 0.05 > bad


def test_calibrated_shift_scores_its_grid_as_a_loop_would():
    """The vectorised grid search (one N x grid matrix, or column blocks of it) finds the shift a plain loop over
    the same grid finds, on bags that do not cover every row."""
    from graphdiff.llp import selection
    from graphdiff.llp.selection import _calibrated_shift, bag_proportion_loss, calibrated_bag_losses

    def loop_shift(logit, bags, grid=41):
        best_b, best = 0.0, float("inf")
        for lo, hi in ((-8.0, 8.0), (-0.4, 0.4)):
            centre = best_b if lo > -1 else 0.0
            for b in torch.linspace(centre + lo, centre + hi, grid, dtype=torch.float64).tolist():
                val = float(bag_proportion_loss(torch.sigmoid(logit + b), bags))
                if val < best:
                    best_b, best = b, val
        return best_b

    g = torch.Generator().manual_seed(1)
    for n, bias in ((600, -2.0), (2000, 1.5)):
        x = torch.randn(n, generator=g, dtype=torch.float64)
        y = (torch.rand(n, generator=g, dtype=torch.float64) < torch.sigmoid(2 * x + bias)).long()
        bag_id = torch.randperm(n, generator=g) // 16
        bag_id[: n // 10] = -1  # rows in no bag
        m = int(bag_id.max()) + 1
        counts = torch.zeros(m, dtype=torch.long).index_add_(0, bag_id[bag_id >= 0], y[bag_id >= 0])
        bags = as_bags(bag_id, counts, n)
        ref = loop_shift(2 * x, bags)
        assert _calibrated_shift(2 * x, bags) == pytest.approx(ref, abs=1e-9)
        torch.testing.assert_close(
            calibrated_bag_losses(2 * x, bags).mean().item(),
            float(bag_proportion_loss(torch.sigmoid(2 * x + ref), bags)),
        )
        assert abs(ref) > 0.1  # the shift matters on these logits
    # the column-block path (large N): force blocks of one grid column
    old = selection._SHIFT_BLOCK_ELEMENTS
    try:
        selection._SHIFT_BLOCK_ELEMENTS = 1
        assert _calibrated_shift(2 * x, bags) == pytest.approx(ref, abs=1e-9)
    finally:
        selection._SHIFT_BLOCK_ELEMENTS = old


def test_supervised_mlp_is_the_ceiling_on_labels(toy):
    X, y, Xt, yt = toy
    est = SupervisedMLP(**{**SMALL, "epochs": 20, "lr": 1e-2}).fit(X, y)
    assert roc_auc(yt, est.predict_proba(Xt)[:, 1]) > 0.85
    assert est.history_["best_epoch"] >= 0 and len(est.history_["score"]) >= 1  # held-out AUC early stopping
    with pytest.raises(NotFittedError):
        SupervisedMLP().predict(Xt)
    with pytest.raises(ValueError, match="both classes"):
        SupervisedMLP(**SMALL).fit(X, torch.zeros_like(y))
    with pytest.raises(ValueError, match="at least 2 rows of class 1"):
        SupervisedMLP(**SMALL).fit(X[:10], torch.tensor([0] * 9 + [1]))
    # validation='instances' trains on every row, in order: the same as fit_mlp on the standardised rows
    kw = dict(hidden=(16, 8), epochs=3, batch_size=256, seed=3, verbose=False)
    ref = SupervisedMLP(validation="none", standardize=False, **kw).fit(X, y)
    model, _ = fit_mlp(X, y.float(), **kw)
    assert np.allclose(ref.predict_proba(Xt)[:, 1], predict_proba(model, Xt).numpy(), atol=1e-6)


def test_old_import_paths_warn_and_still_work():
    import importlib
    import sys

    import graphdiff.llp as gl
    import graphdiff.nn.knn_graph as nk
    import graphdiff.nn.mlp as nm

    for old, new in (("graphdiff.llp.mlp", nm), ("graphdiff.llp.knn_graph", nk)):
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=old.replace(".", r"\.")):
            module = importlib.import_module(old)
        for name in module.__all__:
            assert getattr(module, name) is getattr(new, name)
    with pytest.warns(DeprecationWarning, match="graphdiff.nn.mlp.fit_mlp"):
        assert gl.fit_mlp is nm.fit_mlp
    with pytest.warns(DeprecationWarning, match="graphdiff.nn.mlp.MLP"):
        assert gl.MLP is nm.MLP


# ---- bad input (issue 18): every bad parameter or data is a ValueError naming it -----------------------------
TINY = dict(hidden=(8, 4), epochs=2, verbose=False)


@pytest.fixture(scope="module")
def tiny():
    X, y = logistic_data(200, 4, 0.3, seed=2)
    return X, y, random_bags(y, 8, seed=0)


@pytest.mark.parametrize(
    "cls,name,value,match",
    [
        (BPLabelProportions, "lam_s", float("nan"), "`lam_s` must be a number, got NaN"),
        (BPLabelProportions, "lam_b", float("inf"), "`lam_b` must be finite.*hard=True"),
        (BPLabelProportions, "lam_b", -1.0, "`lam_b`"),
        (BPLabelProportions, "damping", 1.0, "`damping`"),
        (BPLabelProportions, "n_rounds", 1.5, "`n_rounds`"),
        (BPLabelProportions, "k", 0, "`k`"),
        (BPLabelProportions, "tol", float("nan"), "`tol`"),
        (BPLabelProportions, "threshold", 1.0, "`threshold`"),
        (BPLabelProportions, "pseudo_labels", "argmax", "`pseudo_labels`"),
        (BPLabelProportions, "aggregate_lambda", float("nan"), "`aggregate_lambda`"),
        (BPLabelProportions, "selection_folds", 1, "`selection_folds`"),
        (DLLP, "min_delta", float("nan"), "`min_delta` must be a number, got NaN"),
        (DLLP, "lr", float("inf"), "`lr`"),
        (DLLP, "epochs", 2.5, "`epochs`"),
        (DLLP, "hidden", (8, 0), r"`hidden\[1\]`"),
        (DLLP, "hidden", (), "`hidden`"),
        (DLLP, "embed_layer", 5, "`embed_layer`=5 is out of range"),
        (DLLP, "val_fraction", 1.0, "`val_fraction`"),
        (DLLP, "validation", "holdout", "`validation`"),
        (DLLP, "seed", "abc", "`seed`"),
        (DLLP, "device", "banana", "`device` is not a valid torch device"),
        (EasyLLP, "standardize", 1, "`standardize`"),
        (SupervisedMLP, "validation", "bags", "`validation`"),
    ],
)
def test_fit_refuses_bad_parameters_by_name(tiny, cls, name, value, match):
    X, y, bags = tiny
    est = cls(**TINY).set_params(**{name: value})
    with pytest.raises(ValueError, match=match):
        est.fit(X, y) if cls is SupervisedMLP else est.fit(X, bags)


def test_cuda_device_refused_at_fit_when_missing(tiny):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    X, _, bags = tiny
    for cls in (DLLP, EasyLLP, BPLabelProportions):
        with pytest.raises(ValueError, match="`device`='cuda'"):
            cls(device="cuda", **TINY).fit(X, bags)


@pytest.mark.parametrize("cls", [BPLabelProportions, DLLP, EasyLLP])
def test_one_bag_cannot_be_split_for_validation(cls):
    """val_fraction=0.9 of one bag left 0 training rows (BP-LLP predicted with an untrained MLP, DLLP hit NaN to
    int, EasyLLP ZeroDivisionError); now a clear error, and validation='none' fits."""
    X, y = logistic_data(40, 3, 0.3, seed=0)
    one_bag = random_bags(y, 40)
    with pytest.raises(ValueError, match="`val_fraction`=0.9 holds out 1 of 1 bag"):
        cls(val_fraction=0.9, **TINY).fit(X, one_bag)
    est = cls(validation="none", **TINY).fit(X, one_bag)
    assert est.predict_proba(X).shape == (40, 2)


def test_bad_data_at_fit_and_predict(tiny):
    X, y, bags = tiny
    with pytest.raises(ValueError, match="`k`=5 needs more than k rows"):
        BPLabelProportions(validation="none", **TINY).fit(X[:4], [[0, 1], [2, 3]], [1, 0])
    with pytest.raises(ValueError, match="at least 2 rows"):
        DLLP(validation="none", **TINY).fit(X[:1], [[0]], [0])
    est = DLLP(**TINY).fit(X, bags)
    with pytest.raises(ValueError, match="3 features, the model was fitted on 4"):
        est.predict_proba(X[:, :3])
    bad = X.clone()
    bad[0, 0] = float("inf")
    with pytest.raises(ValueError, match="NaN or infinite"):
        est.predict(bad)
    with pytest.raises(ValueError, match="y_val"):
        DLLP(validation="instances", **TINY).fit(X, bags, X_val=X, y_val=torch.zeros(200, dtype=torch.long))
    with pytest.raises(ValueError, match="X_val"):
        DLLP(validation="instances", **TINY).fit(X, bags, X_val=X[:, :3], y_val=y)


def test_no_feature_columns_and_dead_embeddings(tiny):
    X, _, bags = tiny
    with pytest.raises(ValueError, match="no feature columns"):
        DLLP(validation="none", **TINY).fit(torch.zeros(200, 0), bags)
    # a 1-unit embedding layer is inactive (all zero) on part of the rows: round 2's cosine kNN is undefined there
    kw = dict(hidden=(1, 4), embed_layer=0, epochs=1, verbose=False, validation="none")
    one = BPLabelProportions(n_rounds=1, **kw).fit(X, bags)
    dead = int((one.model_.embed(one._scale(X)).abs().sum(1) == 0).sum())
    assert dead > 0
    with pytest.raises(ValueError, match=f"round 2: the MLP embeddings .* of {dead} row"):
        BPLabelProportions(n_rounds=2, **kw).fit(X, bags)
    BPLabelProportions(n_rounds=2, metric="euclidean", **kw).fit(X, bags)  # Euclidean neighbours are defined
