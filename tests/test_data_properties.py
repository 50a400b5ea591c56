"""Property-based tests (hypothesis) of the data layer: validation checks, propagation, label noise, interop.

Every property runs a bounded number of examples (``max_examples`` below) with no deadline, so the file takes a
few seconds and the same examples run on every machine (hypothesis derandomised by ``derandomize=True``).
"""

import math

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch_geometric.data import Data
from torch_geometric.utils import coalesce, to_undirected

from graphdiff.data import interop, noise, validation
from graphdiff.nn import propagation as P

FEW = settings(max_examples=40, deadline=None, derandomize=True)
SOME = settings(max_examples=25, deadline=None, derandomize=True)


# ------------------------------------------------------------------------------------------- strategies
@st.composite
def graphs(draw, max_nodes=12, max_edges=30, self_loops=True):
    """``(num_nodes, edge_index)`` of a random directed multigraph (duplicates and self-loops possible)."""
    n = draw(st.integers(1, max_nodes))
    pairs = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=max_edges))
    if not self_loops:
        pairs = [(u, v) for u, v in pairs if u != v]
    edge_index = torch.tensor(pairs, dtype=torch.long).reshape(-1, 2).t().contiguous()
    return n, edge_index


@st.composite
def undirected_graphs(draw, weighted: bool, zeros: bool = False):
    """A coalesced undirected ``Data`` (both directions, symmetric weights when ``weighted``)."""
    n, edge_index = draw(graphs())
    edge_index = to_undirected(edge_index, num_nodes=n)
    data = Data(edge_index=edge_index, num_nodes=n)
    if weighted:
        values = st.floats(0.25, 8.0, width=32) | (st.just(0.0) if zeros else st.nothing())
        upper = edge_index[0] <= edge_index[1]
        w_upper = torch.tensor(draw(st.lists(values, min_size=int(upper.sum()), max_size=int(upper.sum()))))
        # the weight of (u, v) and (v, u) is the one drawn for (min, max)
        key = torch.minimum(edge_index[0], edge_index[1]) * n + torch.maximum(edge_index[0], edge_index[1])
        upper_keys = key[upper]
        data.edge_weight = w_upper[torch.searchsorted(upper_keys, key)].float() if upper_keys.numel() else w_upper
    return data


def _dense(n, edge_index, weight=None):
    w = torch.ones(edge_index.size(1)) if weight is None else weight.float()
    return torch.zeros(n, n).index_put_((edge_index[0], edge_index[1]), w, accumulate=True)


# ------------------------------------------------------------------------------------------- validation
@FEW
@given(st.integers(-(10**6), 10**6))
def test_check_int_returns_integers_unchanged(value):
    assert validation.check_int(value, "k") == value
    assert validation.check_int(float(value), "k") == value  # an integral float is that integer


@FEW
@given(st.floats(allow_nan=True, allow_infinity=True).filter(lambda v: not (math.isfinite(v) and v == int(v))))
def test_check_int_refuses_every_non_integral_float(value):
    with pytest.raises(ValueError, match="`k` must be an integer"):
        validation.check_int(value, "k")


@FEW
@given(st.floats(allow_nan=True, allow_infinity=True))
def test_check_float_accepts_exactly_the_finite_floats(value):
    if math.isfinite(value):
        assert validation.check_float(value, "lr") == value
    else:
        with pytest.raises(ValueError, match="`lr` must be"):
            validation.check_float(value, "lr")


@FEW
@given(st.integers(0, 30).flatmap(lambda n: st.tuples(st.just(n), st.lists(st.booleans(), min_size=n, max_size=n))))
def test_check_mask_bool_and_index_forms_agree(case):
    n, flags = case
    mask = torch.tensor(flags, dtype=torch.bool).reshape(n)
    assert torch.equal(validation.check_mask(mask, n), mask)
    ids = mask.nonzero().flatten()
    for dtype in (torch.int16, torch.int32, torch.int64):
        assert torch.equal(validation.check_mask(ids.to(dtype), n), mask)
    for dtype in (torch.uint8, torch.int8):
        with pytest.raises(ValueError, match="ambiguous"):
            validation.check_mask(mask.to(dtype), n)
    with pytest.raises(ValueError, match=f"holds node id {n}, outside"):
        validation.check_mask(torch.cat([ids, torch.tensor([n])]), n)


@FEW
@given(graphs())
def test_check_edge_index_accepts_in_range_ids_and_names_the_first_bad_one(case):
    n, edge_index = case
    assert torch.equal(validation.check_edge_index(edge_index.int(), n), edge_index)
    if edge_index.numel():
        with pytest.raises(ValueError, match=f"node id {int(edge_index.max())}, out of range"):
            validation.check_edge_index(edge_index, int(edge_index.max()))
        with pytest.raises(ValueError, match="negative node id"):
            validation.check_edge_index(edge_index - int(edge_index.max()) - 1, n)


@FEW
@given(st.integers(1, 6).flatmap(lambda k: st.tuples(st.just(k), st.lists(st.integers(0, k - 1), max_size=20))))
def test_check_labels_range(case):
    k, values = case
    y = torch.tensor(values, dtype=torch.long)
    assert torch.equal(validation.check_labels(y.double(), num_classes=k), y)
    with pytest.raises(ValueError, match=f"class id {k}, outside"):
        validation.check_labels(torch.cat([y, torch.tensor([k])]), num_classes=k)


@FEW
@given(st.lists(st.floats(-5.0, 5.0, width=32), max_size=20), st.data())
def test_check_edge_weight_names_the_first_bad_edge(values, draw):
    w = torch.tensor(values, dtype=torch.float32)
    assert torch.equal(validation.check_edge_weight(w, w.numel()), w)
    negative = (w < 0).nonzero().flatten()
    if negative.numel():
        with pytest.raises(ValueError, match=f"must be non-negative, got .* at edge {int(negative[0])}"):
            validation.check_edge_weight(w, w.numel(), non_negative=True)
    with pytest.raises(ValueError, match=f"must have shape \\({w.numel() + 1},\\)"):
        validation.check_edge_weight(w, w.numel() + 1)
    if w.numel():
        i = draw.draw(st.integers(0, w.numel() - 1))
        w[i:] = draw.draw(st.sampled_from([float("nan"), float("inf"), -float("inf")]))
        with pytest.raises(ValueError, match=f"first at edge {i}"):
            validation.check_edge_weight(w, w.numel())


# ------------------------------------------------------------------------------------------- propagation
@FEW
@given(graphs(), st.sampled_from(["sym", "row", "col", "none"]), st.booleans(), st.booleans(), st.randoms())
def test_normalized_adjacency_equals_the_dense_formula(case, norm, weighted, loops, rnd):
    n, edge_index = case
    weight = torch.tensor([rnd.uniform(0.0, 3.0) for _ in range(edge_index.size(1))]) if weighted else None
    got = P.normalized_adjacency(edge_index, n, norm=norm, edge_weight=weight, add_self_loops=loops).to_dense()
    A = _dense(n, edge_index, weight) + (torch.eye(n) if loops else 0)
    inv = lambda d, p: torch.where(d > 0, d.pow(p), torch.zeros_like(d))  # noqa: E731
    expected = {
        "sym": inv(A.sum(1), -0.5)[:, None] * A * inv(A.sum(1), -0.5)[None, :],
        "row": inv(A.sum(1), -1.0)[:, None] * A,
        "col": A * inv(A.sum(0), -1.0)[None, :],
        "none": A,
    }[norm]
    assert torch.allclose(got, expected, atol=1e-5)
    if norm == "row":
        sums = got.sum(1)
        assert torch.allclose(sums[A.sum(1) > 0], torch.ones(int((A.sum(1) > 0).sum())), atol=1e-5)
    if norm == "col":
        sums = got.sum(0)
        assert torch.allclose(sums[A.sum(0) > 0], torch.ones(int((A.sum(0) > 0).sum())), atol=1e-5)


@FEW
@given(st.builds(lambda d: d, undirected_graphs(weighted=False)))
def test_sym_normalisation_of_an_undirected_graph_is_symmetric(data):
    dense = P.normalized_adjacency(data.edge_index, data.num_nodes, norm="sym").to_dense()
    assert torch.allclose(dense, dense.t(), atol=1e-6)
    assert dense.numel() == 0 or float(dense.min()) >= 0.0


@FEW
@given(graphs(), st.floats(0.0, 1.0), st.integers(0, 6), st.integers(1, 3), st.integers(0, 2**31))
def test_lazy_propagation_is_the_matrix_power_and_keeps_mass(case, alpha, steps, width, seed):
    n, edge_index = case
    adj = P.normalized_adjacency(edge_index, n, norm="col")
    y = torch.rand(n, width, generator=torch.Generator().manual_seed(seed))
    M = (1 - alpha) * adj.to_dense() + alpha * torch.eye(n)
    got = P.lazy_propagation(adj, y, alpha, steps)
    assert torch.allclose(got, torch.linalg.matrix_power(M, steps) @ y, atol=1e-4)
    # A D^-1 is column-stochastic where a node has neighbours: the mass of those columns is kept
    has_in = _dense(n, edge_index).sum(0) > 0
    if bool(has_in.all()):
        assert torch.allclose(got.sum(0), y.sum(0), rtol=1e-4, atol=1e-4)
    assert torch.allclose(P.lazy_propagation(adj, y[:, 0], alpha, steps), got[:, 0], atol=1e-5)  # 1-D input


@FEW
@given(graphs(), st.floats(0.0, 1.0), st.integers(0, 6), st.booleans(), st.integers(0, 2**31))
def test_personalized_propagation_is_the_dense_iteration(case, alpha, steps, clamp, seed):
    n, edge_index = case
    adj = P.normalized_adjacency(edge_index, n, norm="sym")
    g = torch.Generator().manual_seed(seed)
    y0, mask = torch.rand(n, 2, generator=g), torch.rand(n, generator=g) < 0.5
    y0m = y0 * mask[:, None]
    S, expected = adj.to_dense(), y0m.clone()
    for _ in range(steps):
        expected = alpha * S @ expected + (1 - alpha) * y0m
        expected = expected.clamp(0, 1) if clamp else expected
    got = P.personalized_propagation(adj, y0, alpha, steps, clamp=clamp, mask=mask)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(
        P.personalized_propagation(adj, y0, alpha, steps, clamp=clamp, mask=mask.nonzero()[:, 0]), got
    )
    if clamp:
        assert got.numel() == 0 or (float(got.min()) >= 0.0 and float(got.max()) <= 1.0)


# ------------------------------------------------------------------------------------------- label noise
labels = st.integers(2, 6).flatmap(
    lambda k: st.tuples(st.just(k), st.lists(st.integers(0, k - 1), min_size=1, max_size=60))
)


@FEW
@given(labels, st.floats(0.0, 0.95), st.integers(0, 2**32 - 1), st.sampled_from(["uniform", "pair"]), st.randoms())
def test_noise_respects_the_mask_and_reports_what_it_did(case, rate, seed, kind, rnd):
    k, values = case
    y = torch.tensor(values)
    mask = torch.tensor([rnd.random() < 0.6 for _ in values])
    out = noise.corrupt_labels(y, kind, rate, num_classes=k, mask=mask, seed=seed)
    assert torch.equal(out.flipped, out.y_noisy != y)
    assert not bool(out.flipped[~mask].any()), "a label outside the mask changed"
    assert int(out.y_noisy.min()) >= 0 and int(out.y_noisy.max()) < k
    n_masked = int(mask.sum())
    expected_rate = float(out.flipped[mask].float().mean()) if n_masked else 0.0
    assert out.realised_rate == pytest.approx(expected_rate)
    assert torch.allclose(out.transition.sum(1), torch.ones(k, dtype=torch.float64))
    assert bool((out.transition >= 0).all()) and torch.allclose(
        out.transition.diagonal(), torch.full((k,), 1 - rate, dtype=torch.float64)
    )
    if kind == "pair":
        assert torch.equal(out.y_noisy[out.flipped], out.pair_targets[y[out.flipped]])
    same = noise.corrupt_labels(y, kind, rate, num_classes=k, mask=mask.nonzero()[:, 0], seed=seed)
    assert torch.equal(same.y_noisy, out.y_noisy)  # a boolean mask and its node ids select the same nodes
    if rate == 0.0:
        assert not bool(out.flipped.any())


@SOME
@given(st.integers(2, 8), st.floats(0.0, 0.9), st.integers(0, 2**32 - 1), st.sampled_from(["uniform", "pair"]))
def test_realised_rate_is_within_five_sigma_of_the_rate(k, rate, seed, kind):
    n = 4000
    y = torch.arange(n) % k
    out = noise.corrupt_labels(y, kind, rate, seed=seed)
    sigma = math.sqrt(rate * (1 - rate) / n)
    assert abs(out.realised_rate - rate) <= 5 * sigma + 1.0 / n


# ------------------------------------------------------------------------------------------- interop
@FEW
@given(st.booleans().flatmap(lambda w: undirected_graphs(weighted=w, zeros=True)))
def test_networkx_round_trip(data):
    back = interop.from_networkx(interop.to_networkx(data))
    assert back.num_nodes == data.num_nodes
    assert torch.equal(back.edge_index, data.edge_index)
    if getattr(data, "edge_weight", None) is not None and data.num_edges:  # zero weights stay edges in networkx
        assert torch.equal(back.edge_weight, data.edge_weight)
    else:
        assert getattr(back, "edge_weight", None) is None


@FEW
@given(graphs(self_loops=False), st.booleans(), st.randoms())
def test_from_networkx_equals_the_networkx_adjacency(case, directed, rnd):
    n, edge_index = case
    g = nx.MultiDiGraph() if directed else nx.MultiGraph()
    g.add_nodes_from(range(n))
    for u, v in edge_index.t().tolist():
        g.add_edge(u, v, weight=rnd.choice([0.0, 0.5, 1.0, 2.0, 3.5]))
    data = interop.from_networkx(g)
    expected = torch.from_numpy(nx.to_scipy_sparse_array(g, nodelist=range(n), weight="weight").toarray()).float()
    got = _dense(n, data.edge_index, getattr(data, "weight", None))
    assert torch.allclose(got, expected)
    flat = data.edge_index[0] * n + data.edge_index[1]
    assert bool((flat[1:] > flat[:-1]).all()), "edge_index must be sorted without duplicates"


@FEW
@given(st.booleans().flatmap(lambda w: undirected_graphs(weighted=w, zeros=True)))
def test_scipy_round_trip_drops_only_the_zero_weights(data):
    mat = interop.to_scipy(data)
    assert mat.shape == (data.num_nodes, data.num_nodes)
    back = interop.from_scipy(mat)
    weight = getattr(data, "edge_weight", None)
    keep = torch.ones(data.edge_index.size(1), dtype=torch.bool) if weight is None else weight != 0
    assert torch.equal(back.edge_index, data.edge_index[:, keep])
    if weight is not None and not bool((weight[keep] == 1).all()):
        assert torch.equal(back.edge_weight, weight[keep])
    else:
        assert getattr(back, "edge_weight", None) is None


@FEW
@given(graphs(), st.data())
def test_duplicate_edges_are_summed_the_same_way_both_ways(case, draw):
    n, edge_index = case
    weight = torch.tensor(draw.draw(st.lists(st.floats(0.5, 4.0, width=32), min_size=edge_index.size(1),
                                             max_size=edge_index.size(1))), dtype=torch.float32)  # fmt: skip
    mat = interop.to_scipy(edge_index, n, edge_weight=weight)
    ei, w = coalesce(edge_index, weight, num_nodes=n, reduce="sum")
    back = interop.from_scipy(mat)
    assert torch.equal(back.edge_index, ei)
    assert torch.allclose(back.edge_weight if back.edge_weight is not None else torch.ones_like(w), w)


@FEW
@given(undirected_graphs(weighted=True), st.data())
def test_nan_weights_are_refused_in_every_direction(data, draw):
    if data.edge_index.size(1) == 0:
        return
    i = draw.draw(st.integers(0, data.edge_index.size(1) - 1))
    data.edge_weight[i] = float("nan")
    for convert in (interop.to_scipy, interop.to_networkx):
        with pytest.raises(ValueError, match=f"NaN or infinite weight.*first at edge {i}"):
            convert(data)
    mat = sp.coo_matrix(
        (data.edge_weight.numpy().astype(np.float64), (data.edge_index[0].numpy(), data.edge_index[1].numpy())),
        shape=(data.num_nodes, data.num_nodes),
    )
    with pytest.raises(ValueError, match="NaN or infinite entr"):
        interop.from_scipy(mat)
