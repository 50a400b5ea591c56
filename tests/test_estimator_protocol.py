"""Every public estimator follows one protocol (graphdiff.base): scikit-learn's parameters, fitted state and errors.

For each estimator: ``sklearn.base.clone`` and ``get_params``/``set_params`` round trips, ``check_is_fitted`` failing
before ``fit`` and passing after, every prediction or sampling method raising ``NotFittedError`` before ``fit``, no
validation in ``__init__`` (a bad value is reported by ``fit``, naming the parameter), and a fit that leaves torch's
and numpy's global random state unchanged.

Each estimator has one case below: a factory with small settings, the fit call, and the methods that need a fit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from graphdiff.base import Estimator


@dataclass
class Case:
    make: Callable[[], Estimator]
    fit: Callable[[Estimator], Any]
    needs_fit: dict[str, Callable[[Estimator], Any]]
    bad_param: tuple[str, Any]  # a value that __init__ accepts and fit must refuse, naming the parameter


def _node_classifier_case(cls, **params) -> Case:
    from graphdiff.data.synthetic import contextual_sbm

    # 60 nodes, 3 classes: the loader's own split would need 50 nodes per class, so the masks are set here
    data = contextual_sbm(
        num_nodes=60, num_classes=3, avg_degree=6, num_features=8, num_train_per_class=6, num_val_per_class=4, seed=0
    )
    train, val = torch.zeros(60, dtype=torch.bool), torch.zeros(60, dtype=torch.bool)
    train[:18], val[18:30] = True, True
    return Case(
        make=lambda: cls(epochs=3, verbose=False, **params),
        fit=lambda est: est.fit(data, data.y, train, val),
        needs_fit={"predict": lambda est: est.predict()},
        bad_param=("lr", float("nan")),
    )


def _erase_case() -> Case:
    from graphdiff.erase import ERASE

    case = _node_classifier_case(ERASE, hidden_channels=16, out_channels=16, heads=2)
    case.needs_fit["embed"] = lambda est: est.embed()
    return case


def _baseline_case(name) -> Callable[[], Case]:
    def make() -> Case:
        import graphdiff.erase as ge

        case = _node_classifier_case(getattr(ge, name))
        case.needs_fit["predict_logits"] = lambda est: est.predict_logits()
        return case

    return make


def _bags():
    from graphdiff.data.bags import random_bags
    from graphdiff.data.synthetic import logistic_data

    X, y = logistic_data(400, num_features=6, seed=0)
    return X, random_bags(y, 8, seed=0)


def _llp_case(name, **params) -> Callable[[], Case]:
    def make() -> Case:
        import graphdiff.llp as gl

        X, bags = _bags()
        return Case(
            make=lambda: getattr(gl, name)(hidden=(8, 4), epochs=2, verbose=False, **params),
            fit=lambda est: est.fit(X, bags),
            needs_fit={"predict_proba": lambda est: est.predict_proba(X), "predict": lambda est: est.predict(X)},
            bad_param=("lr", float("inf")),
        )

    return make


def _supervised_case() -> Case:
    from graphdiff.data.synthetic import logistic_data
    from graphdiff.llp import SupervisedMLP

    X, y = logistic_data(200, num_features=6, seed=0)
    return Case(
        make=lambda: SupervisedMLP(hidden=(8, 4), epochs=2, verbose=False),
        fit=lambda est: est.fit(X, y),
        needs_fit={"predict_proba": lambda est: est.predict_proba(X)},
        bad_param=("lr", float("nan")),
    )


def _local_clustering_case() -> Case:
    from graphdiff.cluster import LocalClustering
    from graphdiff.data.synthetic import planted_partition

    data = planted_partition(num_nodes=300, cluster_size=30, internal_degree=8, external_degree=2, seed=0)
    target = data.target.numpy()
    labels = np.zeros(300, dtype=np.int8)
    labels[target] = 1
    vol = float(np.bincount(data.edge_index[0].numpy(), minlength=300)[target].sum())
    return Case(
        make=lambda: LocalClustering(verbose=False),
        fit=lambda est: est.fit(data, target[:2], labels=labels, target_volume=vol),
        needs_fit={},
        bad_param=("tol", float("nan")),
    )


def _echoscene_case() -> Case:
    from graphdiff.data import scenes
    from graphdiff.scene import EchoScene

    train = scenes.generate_scenes(24, seed=0)
    graphs = scenes.generate_scenes(2, seed=1)
    small = dict(
        steps=2, batch_size=4, width=16, num_blocks=1, gcn_hidden=16, context_dim=16, time_dim=16, sample_steps=2
    )
    return Case(
        make=lambda: EchoScene(verbose=False, shape=False, **small),
        fit=lambda est: est.fit(train),
        needs_fit={"sample": lambda est: est.sample(graphs)},
        bad_param=("lr", float("nan")),
    )


CASES = {
    "ERASE": _erase_case,
    "GCN": _baseline_case("GCN"),
    "GAT": _baseline_case("GAT"),
    "GCE": _baseline_case("GCE"),
    "BPLabelProportions": _llp_case("BPLabelProportions"),
    "DLLP": _llp_case("DLLP"),
    "EasyLLP": _llp_case("EasyLLP"),
    "SupervisedMLP": _supervised_case,
    "LocalClustering": _local_clustering_case,
    "EchoScene": _echoscene_case,
}


@pytest.fixture(params=sorted(CASES), scope="module")
def case(request) -> Case:
    return CASES[request.param]()


def test_is_a_graphdiff_estimator(case):
    assert isinstance(case.make(), Estimator)


def test_clone_and_params_round_trip(case):
    est = case.make()
    params = est.get_params()
    twin = clone(est)
    assert type(twin) is type(est) and twin is not est
    assert twin.get_params().keys() == params.keys()
    for key, value in params.items():
        assert twin.get_params()[key] == value, key
    # set_params on a default instance reproduces the parameters exactly
    fresh = type(est)().set_params(**params)
    assert fresh.get_params() == params
    assert "seed" in params and "device" in params and "verbose" in params


def test_not_fitted_before_fit(case):
    est = case.make()
    with pytest.raises(NotFittedError):
        check_is_fitted(est)
    for name, call in case.needs_fit.items():
        with pytest.raises(NotFittedError):
            call(est)
        assert name  # each method named in the case was called


def test_init_stores_and_fit_validates(case):
    name, bad = case.bad_param
    est = case.make().set_params(**{name: bad})  # accepted as given
    assert est.get_params()[name] is bad
    with pytest.raises(ValueError, match=f"`{name}`"):
        case.fit(est)


def test_fit_leaves_global_random_state_and_is_fitted(case):
    torch_state = torch.random.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global state is what must not change)
    est = case.make()
    assert case.fit(est) is est
    assert torch.equal(torch.random.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    check_is_fitted(est)
    for call in case.needs_fit.values():
        call(est)
