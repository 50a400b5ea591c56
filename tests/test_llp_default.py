"""graphdiff.llp.BPLabelProportions() defaults (issue 14): no instance label reaches the fit, BP pseudo-labels beat
the bag-only prior on an informative similarity graph, and on an uninformative one the default learner does not
fall below DLLP (it selects between them on held-out bags)."""

import numpy as np
import pytest
import torch

from graphdiff.data.bags import random_bags
from graphdiff.llp import DLLP, BPLabelProportions
from graphdiff.llp.bp import llp_marginals
from graphdiff.llp.selection import bag_folds, roc_auc
from graphdiff.nn.knn_graph import knn_graph

FAST = dict(hidden=(32, 16), epochs=8, verbose=False)


def _clusters(n=1600, d=4, n_clusters=40, seed=0):
    """Tight clusters, the label constant on each (so the kNN graph is informative about the labels)."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_clusters, d, generator=g) * 4.0
    lab = (torch.rand(n_clusters, generator=g) < 0.3).long()
    c = torch.randint(0, n_clusters, (n,), generator=g)
    X = centres[c] + 0.05 * torch.randn(n, d, generator=g)
    return X, lab[c]


def test_poisoned_labels_after_bagging_leave_the_fit_unchanged():
    X, y = _clusters(800)
    y = y.clone()
    bags = random_bags(y, 16, seed=0)
    assert all(not torch.is_tensor(v) or v.data_ptr() != y.data_ptr() for v in vars(bags).values())
    a = BPLabelProportions(**FAST).fit(X, bags)
    y[:] = 1 - y  # poison the instance labels in place: only the counts in `bags` may reach the learner
    b = BPLabelProportions(**FAST).fit(X, bags)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert torch.equal(a.marginals_, b.marginals_) and a.selected_ == b.selected_


def test_informative_graph_bp_beats_the_bag_only_prior():
    X, y = _clusters()
    bags = random_bags(y, 32, seed=1)
    est = BPLabelProportions(**FAST).fit(X, bags)
    # the bag-only prior: BP without similarity edges, every marginal a function of its bag's count
    ei, w = knn_graph(X, 5)
    prior = llp_marginals(X.size(0), ei, w * 0, bags, lam_s=0.0).marginals
    bagged = bags.index
    assert roc_auc(y[bagged], est.marginals_[bagged]) > roc_auc(y[bagged], prior[bagged]) + 0.1
    assert set(est.selection_) == {"dllp", "bp_matern", "bp_unit"} and est.selected_ in est.selection_
    # the BP candidates explain the held-out bag counts better than DLLP here (positive paired statistics)
    assert max(est.selection_["bp_matern"], est.selection_["bp_unit"]) > 0


@pytest.mark.parametrize("seed", [0, 1])
def test_uninformative_graph_default_not_below_dllp(seed):
    g = torch.Generator().manual_seed(seed)
    n = 3000
    signal = torch.randn(n, 1, generator=g)
    y = (torch.rand(n, generator=g) < torch.sigmoid(2.5 * signal[:, 0] - 1.0)).long()
    # 12 noise columns dominate the distances: the neighbours say nothing about the label
    X = torch.cat([0.2 * signal, torch.randn(n, 12, generator=g)], 1)
    tr, te = slice(0, 2000), slice(2000, None)
    bags = random_bags(y[tr], 16, seed=seed)
    kw = dict(hidden=(32, 16), epochs=15, verbose=False, seed=seed)
    est = BPLabelProportions(**kw).fit(X[tr], bags)
    dllp = DLLP(**kw).fit(X[tr], bags)
    auc_bp = roc_auc(y[te], est.predict_proba(X[te])[:, 1])
    auc_dllp = roc_auc(y[te], dllp.predict_proba(X[te])[:, 1])
    assert auc_bp >= auc_dllp - 0.01, (auc_bp, auc_dllp, est.selection_)


def test_bag_folds_hold_out_every_bag_once():
    y = torch.tensor([0, 1, 1, 0, 0] * 20)
    bags = random_bags(y, 4, seed=0)  # 25 bags
    folds = bag_folds(bags, 3, seed=1)
    held = [va for _, va in folds]
    members = [set(va.index.tolist()) for va in held]
    assert sum(len(m) for m in members) == bags.index.numel()  # the held-out folds partition the members
    assert set().union(*members) == set(bags.index.tolist())
    for (tr, va), held_members in zip(folds, members):
        assert not held_members & set(tr.index.tolist())
        assert tr.num_bags + va.num_bags == bags.num_bags
    assert [va.num_bags for _, va in folds] == [9, 8, 8]
    # fewer bags than folds: one bag per fold; a single bag or one fold cannot be cross-fitted
    three = random_bags(y[:12], 4, seed=0)
    assert [va.num_bags for _, va in bag_folds(three, 5)] == [1, 1, 1]
    with pytest.raises(ValueError, match="at least 2 bags"):
        bag_folds(random_bags(y[:4], 4, seed=0), 3)
    with pytest.raises(ValueError, match="`n_folds`"):
        bag_folds(bags, 1)


def test_default_selection_is_cross_fitted_over_every_bag():
    """The paired test runs over all m bags (m - 1 degrees of freedom), not over a 10% held-out split."""
    from scipy.stats import t as student_t

    X, y = _clusters(800)
    bags = random_bags(y, 16, seed=0)  # 50 bags: a 10% split would test on 5
    est = BPLabelProportions(**FAST).fit(X, bags)
    assert est.selection_folds_ == 3
    assert est.selection_threshold_ == pytest.approx(student_t.ppf(0.975, bags.num_bags - 1))
    two = BPLabelProportions(selection_folds=2, **FAST).fit(X, bags)
    assert two.selection_folds_ == 2 and set(two.selection_) == set(est.selection_)
    # without selection (another learner) nothing is cross-fitted
    assert BPLabelProportions(learner="combined", **FAST).fit(X, bags).selection_folds_ == 0


def test_argmin_epoch_count_is_the_cross_fitted_minimum():
    """``early_stopping="argmin"``: each candidate is compared, and the selected one refitted, at the epoch count
    that minimises its held-out bag losses summed over every bag; ``early_stopping=False`` runs all epochs."""
    X, y = _clusters(800)
    bags = random_bags(y, 16, seed=0)
    est = BPLabelProportions(early_stopping="argmin", **FAST).fit(X, bags)
    assert set(est.selection_epochs_) == set(est.selection_) == set(est.selection_curves_)
    for name, curve in est.selection_curves_.items():
        assert curve.shape == (FAST["epochs"],)
        assert est.selection_epochs_[name] == int(curve.argmin()) + 1
    assert est.n_epochs_ == est.selection_epochs_[est.selected_]
    assert len(est.history_[-1]["loss"]) == est.n_epochs_
    full = BPLabelProportions(early_stopping=False, **FAST).fit(X, bags)
    assert set(full.selection_epochs_.values()) == {FAST["epochs"]} and full.n_epochs_ == FAST["epochs"]
    assert len(full.history_[-1]["loss"]) == FAST["epochs"]
    # the curves do not depend on the stop: the same fold models are trained either way
    for name in est.selection_curves_:
        torch.testing.assert_close(est.selection_curves_[name], full.selection_curves_[name])
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match="early_stopping"):
            BPLabelProportions(early_stopping=bad, **FAST).fit(X, bags)


def test_default_selects_after_all_epochs_and_stops_only_the_winner():
    """``early_stopping=True``: the selection is the one of all epochs (the same statistics and winner as
    ``early_stopping=False``, and ``"in_sample"``); only the winner's refit uses its tested epoch count.
    ``"tested"`` compares every candidate at its own count."""
    X, y = _clusters(800)
    bags = random_bags(y, 16, seed=0)
    est = BPLabelProportions(**FAST).fit(X, bags)
    full = BPLabelProportions(early_stopping=False, **FAST).fit(X, bags)
    assert est.selection_ == full.selection_ and est.selected_ == full.selected_
    assert est.n_epochs_ == est.selection_epochs_[est.selected_]
    assert len(est.history_[-1]["loss"]) == est.n_epochs_
    in_sample = BPLabelProportions(early_stopping="in_sample", **FAST).fit(X, bags)
    assert in_sample.selection_ == full.selection_ and in_sample.selected_ == full.selected_
    tested = BPLabelProportions(early_stopping="tested", **FAST).fit(X, bags)
    assert tested.selection_epochs_ == in_sample.selection_epochs_  # the same curves and the same in-sample test
    if any(e < FAST["epochs"] for e in est.selection_epochs_.values()):
        assert tested.selection_ != est.selection_


def test_default_stop_is_tested_against_all_epochs():
    """``early_stopping=True`` stops at the minimum only when the bags' losses there beat those after all epochs
    in the paired t-test: with a handful of bags the noisy minimum is not taken, with many it is."""
    from scipy.stats import t as student_t

    est = BPLabelProportions(**FAST)
    g = torch.Generator().manual_seed(0)
    # 8 bags in 3 folds: a small dip at epoch 3 that varies from bag to bag, no evidence
    few = 1.0 + 0.05 * torch.randn(FAST["epochs"], 8, generator=g, dtype=torch.float64)
    few[2] -= 0.01
    few_folds = torch.arange(8) % 3
    assert int(few.sum(1).argmin()) != FAST["epochs"] - 1
    assert est.set_params(early_stopping="argmin")._stop_epoch(few, few_folds) == int(few.sum(1).argmin()) + 1
    for rule in (True, "in_sample"):
        assert est.set_params(early_stopping=rule)._stop_epoch(few, few_folds) == FAST["epochs"]
    # 2,000 bags whose losses all rise after epoch 3: clear evidence, in every fold
    many = torch.linspace(0, 1, FAST["epochs"], dtype=torch.float64)[:, None].abs() + torch.zeros(1, 2000)
    many = (many - many[2]).abs() + 0.01 * torch.rand(FAST["epochs"], 2000, generator=g, dtype=torch.float64)
    many_folds = torch.arange(2000) % 3
    for rule in (True, "in_sample"):
        assert est.set_params(early_stopping=rule)._stop_epoch(many, many_folds) == 3
    d = many[-1] - many[2]
    assert float(d.mean() / (d.std() / d.numel() ** 0.5)) > student_t.ppf(0.975, 1999)
    assert est.set_params(early_stopping=False)._stop_epoch(many, many_folds) == FAST["epochs"]


def test_cross_fitted_stop_test_ignores_a_dip_only_the_choosing_bags_show():
    """12 bags in 3 folds of 4; each fold's bags dip at a different epoch (2, 4, 6; by 0.10, 0.09, 0.08) and are
    flat otherwise. The summed minimum (epoch 2) comes from fold 0's bags alone: tested on the bags that chose it
    (``"in_sample"``) it passes (t = 2.35 > 2.20), but tested with every fold at the other folds' minimum
    (``True``) no bag improves and the fit keeps all epochs."""
    from scipy.stats import t as student_t

    fold_of = torch.arange(12) // 4
    curve = torch.ones(FAST["epochs"], 12, dtype=torch.float64)
    for f, (epoch, dip) in enumerate([(1, 0.10), (3, 0.09), (5, 0.08)]):
        curve[epoch, fold_of == f] -= dip
    d = curve[-1] - curve[1]
    assert float(d.mean() / (d.std() / 12**0.5)) > student_t.ppf(0.975, 11)
    est = BPLabelProportions(**FAST)
    assert est.set_params(early_stopping="in_sample")._stop_epoch(curve, fold_of) == 2
    assert est.set_params(early_stopping=True)._stop_epoch(curve, fold_of) == FAST["epochs"]
    # the same dip in every fold's bags is found by the other folds too, and passes the cross-fitted test
    curve[1] -= 0.05
    assert est._stop_epoch(curve, fold_of) == 2


def test_default_stops_early_when_more_epochs_only_overfit():
    """Labels independent of wide noise features: every epoch past the first few fits noise, the held-out bags
    say so, and the final fit stops well before the epoch budget."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(400, 64, generator=g)
    y = (torch.rand(400, generator=g) < 0.4).long()
    bags = random_bags(y, 2, seed=0)
    est = BPLabelProportions(hidden=(128, 64), epochs=40, lr=1e-2, verbose=False).fit(X, bags)  # 200 bags
    curve = est.selection_curves_["dllp"]
    assert float(curve[-1]) > float(curve.min())  # the held-out loss rises again: overfitting is visible
    assert est.selected_ == "dllp" and est.n_epochs_ < 20
