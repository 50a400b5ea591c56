"""Belief propagation and bag factors of graphdiff.llp against brute-force enumeration of small models."""

import itertools

import numpy as np
import pytest
import torch

from graphdiff.data.bags import as_bags
from graphdiff.llp.bag_factors import (
    exact_bag_messages,
    gaussian_bag_messages,
    in_bag_pairs,
    ising_potentials,
)
from graphdiff.llp.bp import llp_marginals, loopy_bp


def _all_labelings(n):
    return torch.tensor(list(itertools.product([0, 1], repeat=n)), dtype=torch.float64)


def _gibbs_logp(Y, edge_index, w, bag_lists, counts, lam_s, lam_b, hard=False):
    """-lam_s sum s (y_i - y_j)^2 - lam_b sum (sum y - k)^2 for each row of Y (or -inf for hard violations)."""
    out = torch.zeros(Y.size(0), dtype=torch.float64)
    if edge_index.numel():
        d = Y[:, edge_index[0]] - Y[:, edge_index[1]]
        out -= lam_s * (d**2 * w).sum(1)
    for members, k in zip(bag_lists, counts):
        c = Y[:, members].sum(1)
        if hard:
            out = torch.where(c == k, out, torch.full_like(out, -float("inf")))
        else:
            out -= lam_b * (c - k) ** 2
    return out


def _brute_marginals(logp, Y):
    p = torch.softmax(logp, 0)
    return (p[:, None] * Y).sum(0)


def _ising_logp(Y, h, pairs, J):
    return Y @ h + (Y[:, pairs[0]] * Y[:, pairs[1]] * J).sum(1)


def _random_problem(n, n_edges, bag_sizes, seed):
    g = torch.Generator().manual_seed(seed)
    perm = torch.randperm(n, generator=g)
    bag_lists, start = [], 0
    for s in bag_sizes:
        bag_lists.append(perm[start : start + s])
        start += s
    counts = [int(torch.randint(0, len(b) + 1, (1,), generator=g)) for b in bag_lists]
    a = torch.randint(0, n, (n_edges,), generator=g)
    b = torch.randint(0, n, (n_edges,), generator=g)
    keep = a != b
    key = torch.unique(torch.minimum(a, b)[keep] * n + torch.maximum(a, b)[keep])
    edge_index = torch.stack([key // n, key % n])
    w = torch.rand(edge_index.size(1), generator=g, dtype=torch.float64) * 0.9 + 0.1
    return edge_index, w, bag_lists, counts


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ising_conversion_equals_gibbs_energy(seed):
    n = 10
    edge_index, w, bag_lists, counts = _random_problem(n, 14, [4, 3, 3], seed)
    bags = as_bags(bag_lists, counts, n)
    lam_s, lam_b = 0.7 + seed, 2.3
    h, pairs, J = ising_potentials(n, edge_index, w, bags, lam_s, lam_b, "pairwise")
    Y = _all_labelings(n)
    diff = _ising_logp(Y, h, pairs, J) - _gibbs_logp(Y, edge_index, w, bag_lists, counts, lam_s, lam_b)
    assert float((diff - diff[0]).abs().max()) < 1e-9
    # pair-factor count = in-bag pairs + kNN pairs not inside a bag
    in_bag = {tuple(p) for p in in_bag_pairs(bags).T.tolist()}
    knn = {tuple(p) for p in edge_index.T.tolist()}
    assert pairs.size(1) == sum(len(b) * (len(b) - 1) // 2 for b in bag_lists) + len(knn - in_bag)


@pytest.mark.parametrize("shape", ["chain", "star"])
@pytest.mark.parametrize("damping", [0.0, 0.5])
def test_bp_exact_on_trees(shape, damping):
    n = 11
    g = torch.Generator().manual_seed(3)
    if shape == "chain":
        pairs = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    else:
        pairs = torch.stack([torch.zeros(n - 1, dtype=torch.long), torch.arange(1, n)])
    h = torch.randn(n, generator=g, dtype=torch.float64)
    J = 2 * torch.randn(n - 1, generator=g, dtype=torch.float64)
    res = loopy_bp(h, pairs, J, damping=damping, max_iter=500, tol=1e-13)
    Y = _all_labelings(n)
    exact = _brute_marginals(_ising_logp(Y, h, pairs, J), Y)
    assert res.converged
    assert float((res.marginals - exact).abs().max()) < 1e-10


def _brute_message(q, k, lam_b, hard, i):
    """log sum_{y_-i} prod q f(c+1) - log ... f(c), by enumeration."""
    others = [j for j in range(len(q)) if j != i]
    Y = _all_labelings(len(others))
    qo = q[others]
    p = (Y * qo + (1 - Y) * (1 - qo)).prod(1)
    c = Y.sum(1)
    if hard:
        f1, f0 = (c + 1 == k).double(), (c == k).double()
    else:
        f1, f0 = torch.exp(-lam_b * (c + 1 - k) ** 2), torch.exp(-lam_b * (c - k) ** 2)
    return float(torch.log((p * f1).sum()) - torch.log((p * f0).sum()))


@pytest.mark.parametrize("hard,lam_b", [(False, 0.1), (False, 1.0), (False, 10.0), (True, 1.0)])
def test_exact_bag_messages_match_brute_force(hard, lam_b):
    g = torch.Generator().manual_seed(int(lam_b * 10) + hard)
    sizes = [12, 7, 1, 5]
    q = torch.rand(sum(sizes), generator=g, dtype=torch.float64) * 0.98 + 0.01
    lists, start = [], 0
    for s in sizes:
        lists.append(torch.arange(start, start + s))
        start += s
    counts = [int(torch.randint(0, s + 1, (1,), generator=g)) for s in sizes]
    if hard:  # keep hard counts feasible but not trivial
        counts = [min(max(c, 1), s - 1) if s > 1 else c for c, s in zip(counts, sizes)]
    bags = as_bags(lists, counts, sum(sizes))
    v = torch.logit(q)
    msgs = exact_bag_messages(v, bags, lam_b, hard)
    for b, members in enumerate(lists):
        for pos, i in enumerate(members.tolist()):
            ref = _brute_message(q[members], counts[b], lam_b, hard, pos)
            if np.isinf(ref):  # a hard singleton bag forces its label: a saturated message of the right sign
                assert np.sign(float(msgs[i])) == np.sign(ref) and abs(float(msgs[i])) > 600
            else:
                assert abs(float(msgs[i]) - ref) < 1e-10, (b, pos)


def test_exact_bag_messages_extreme_probabilities():
    g = torch.Generator().manual_seed(7)
    worst = 0.0
    for case in range(10):
        B = 10
        q = torch.rand(B, generator=g, dtype=torch.float64) * 0.98 + 0.01
        q[case % B] = 1e-9
        q[(case + 3) % B] = 1 - 1e-9
        k = int(torch.randint(0, B + 1, (1,), generator=g))
        bags = as_bags([torch.arange(B)], [k], B)
        msgs = exact_bag_messages(torch.logit(q), bags, 1.0, False)
        for i in range(B):
            worst = max(worst, abs(float(msgs[i]) - _brute_message(q, k, 1.0, False, i)))
    assert worst < 1e-6


def test_gaussian_messages_close_to_exact_for_large_bags():
    g = torch.Generator().manual_seed(11)
    B = 64
    q = torch.rand(B, generator=g, dtype=torch.float64) * 0.9 + 0.05
    bags = as_bags([torch.arange(B)], [int(q.sum().round())], B)
    v = torch.logit(q)
    e = exact_bag_messages(v, bags, 1.0)
    ga = gaussian_bag_messages(v, bags, 1.0)
    assert float((e - ga).abs().max()) < 0.05


@pytest.mark.parametrize("mode", ["exact", "gaussian"])
def test_single_bag_marginals(mode):
    B, k = 8, 3
    bags = as_bags([torch.arange(B)], [k], B)
    empty = torch.zeros(2, 0, dtype=torch.long)
    res = llp_marginals(B, empty, torch.zeros(0), bags, lam_b=10.0, bag_factor=mode, tol=1e-12, max_iter=500)
    Y = _all_labelings(B)
    exact = _brute_marginals(_gibbs_logp(Y, empty, torch.zeros(0), [torch.arange(B)], [k], 0.0, 10.0), Y)
    tol = 1e-10 if mode == "exact" else 0.06
    assert res.converged
    assert float((res.marginals - exact).abs().max()) < tol
    # hard factor with symmetric unaries: every marginal is k / B
    hard = llp_marginals(B, empty, torch.zeros(0), bags, bag_factor="exact", hard=True, tol=1e-12, max_iter=500)
    assert torch.allclose(hard.marginals, torch.full((B,), k / B, dtype=torch.float64), atol=1e-10)
    assert abs(float(hard.marginals.sum()) - k) < 1e-9


def test_single_bag_marginals_with_random_unaries_exact():
    B, k = 9, 4
    g = torch.Generator().manual_seed(5)
    h = torch.randn(B, generator=g, dtype=torch.float64)
    bags = as_bags([torch.arange(B)], [k], B)
    res = loopy_bp(h, bags=bags, bag_factor="exact", lam_b=2.0, tol=1e-13, max_iter=500)
    Y = _all_labelings(B)
    logp = Y @ h - 2.0 * (Y.sum(1) - k) ** 2
    assert float((res.marginals - _brute_marginals(logp, Y)).abs().max()) < 1e-10


def test_pairwise_mode_nonconvergence_is_reported():
    """The documented failure of the reference setting: pairwise expansion, B=8, k=3, lambda_b=10 oscillates."""
    B = 8
    bags = as_bags([torch.arange(B)], [3], B)
    empty = torch.zeros(2, 0, dtype=torch.long)
    res = llp_marginals(
        B, empty, torch.zeros(0), bags, lam_b=10.0, bag_factor="pairwise", max_iter=100, damping=0.5, tol=1e-4
    )
    assert not res.converged
    assert res.residual > 1.0
    # the exact factor on the same problem converges to the true marginals
    ok = llp_marginals(B, empty, torch.zeros(0), bags, lam_b=10.0, bag_factor="exact", max_iter=100)
    assert ok.converged


@pytest.mark.parametrize("mode", ["pairwise", "exact", "gaussian"])
def test_label_flip_symmetry(mode):
    n = 14
    edge_index, w, bag_lists, counts = _random_problem(n, 20, [7, 7], 4)
    bags = as_bags(bag_lists, counts, n)
    flipped = as_bags(bag_lists, [len(b) - c for b, c in zip(bag_lists, counts)], n)
    kw = dict(lam_s=0.8, lam_b=0.5, bag_factor=mode, max_iter=300, tol=1e-12)
    a = llp_marginals(n, edge_index, w, bags, **kw)
    b = llp_marginals(n, edge_index, w, flipped, **kw)
    assert float((a.marginals - (1 - b.marginals)).abs().max()) < 1e-8


def test_permutation_equivariance():
    n = 14
    edge_index, w, bag_lists, counts = _random_problem(n, 20, [7, 7], 8)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(0))
    inv = torch.argsort(perm)  # new id of old node i is inv[i]
    a = llp_marginals(n, edge_index, w, as_bags(bag_lists, counts, n), bag_factor="exact", tol=1e-12, max_iter=300)
    e2 = inv[edge_index]
    e2 = torch.stack([e2.min(0).values, e2.max(0).values])
    lists2 = [inv[b] for b in bag_lists][::-1]
    b = llp_marginals(n, e2, w, as_bags(lists2, counts[::-1], n), bag_factor="exact", tol=1e-12, max_iter=300)
    assert torch.allclose(a.marginals, b.marginals[inv], atol=1e-9)


def test_loopy_exact_factor_beats_pairwise():
    """On a small loopy graph with two bags, exact bag factors stay close to the brute-force marginals."""
    n = 14
    edge_index, w, bag_lists, counts = _random_problem(n, 16, [7, 7], 2)
    bags = as_bags(bag_lists, counts, n)
    Y = _all_labelings(n)
    truth = _brute_marginals(_gibbs_logp(Y, edge_index, w, bag_lists, counts, 0.5, 3.0), Y)
    ex = llp_marginals(n, edge_index, w, bags, lam_s=0.5, lam_b=3.0, bag_factor="exact", max_iter=300)
    assert float((ex.marginals - truth).abs().max()) < 0.15


def test_bp_bad_arguments():
    h = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="damping"):
        loopy_bp(h, damping=1.0)
    with pytest.raises(ValueError, match="pair_index"):
        loopy_bp(h, torch.tensor([[0], [5]]), torch.ones(1))
    bags = as_bags([torch.arange(3)], [1], 3)
    with pytest.raises(ValueError, match="hard"):
        llp_marginals(3, torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), bags, bag_factor="pairwise", hard=True)
    with pytest.raises(ValueError, match="bag_factor"):
        llp_marginals(3, torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), bags, bag_factor="fft")


# ---- bad input (issue 18): NaN passed through, converged=True on NaN, obscure index errors ---------------------
def _small():
    bags = as_bags([torch.arange(3), torch.arange(3, 6)], [1, 2], 6)
    edge_index = torch.tensor([[0, 1, 3], [1, 4, 5]])
    return bags, edge_index, torch.tensor([0.5, 0.2, 0.9], dtype=torch.float64)


def test_llp_marginals_refuses_nan_weights_and_bad_ids():
    bags, edge_index, w = _small()
    for bad in (float("nan"), float("inf"), -0.5):
        wb = w.clone()
        wb[1] = bad
        with pytest.raises(ValueError, match="`weight` must hold finite, non-negative"):
            llp_marginals(6, edge_index, wb, bags)
    with pytest.raises(ValueError, match=r"`weight` must have shape \(3,\)"):
        llp_marginals(6, edge_index, w[:2], bags)
    with pytest.raises(ValueError, match="edge_index.*node id 9"):
        llp_marginals(6, torch.tensor([[0, 1, 3], [1, 4, 9]]), w, bags)
    with pytest.raises(ValueError, match="`bags` refer to 6 instances but num_nodes=4"):
        llp_marginals(4, torch.zeros(2, 0, dtype=torch.long), torch.zeros(0), bags)
    with pytest.raises(ValueError, match="num_nodes"):
        llp_marginals(6.5, edge_index, w, bags)
    with pytest.raises(ValueError, match="must be a Bags"):
        llp_marginals(6, edge_index, w, [[0, 1]])
    for name, value in (("lam_s", float("nan")), ("lam_b", float("inf")), ("lam_s", -1.0)):
        with pytest.raises(ValueError, match=f"`{name}`"):
            llp_marginals(6, edge_index, w, bags, **{name: value})
    ok = llp_marginals(6, edge_index, w, bags)
    assert ok.converged and bool(torch.isfinite(ok.marginals).all())


def test_loopy_bp_refuses_nan_fields_and_never_reports_nan_as_converged():
    h = torch.tensor([0.5, float("nan"), -0.2], dtype=torch.float64)
    with pytest.raises(ValueError, match="`h` contains 1 NaN"):
        loopy_bp(h)  # no pairs, no bags: this used to return NaN marginals with converged=True
    pairs = torch.tensor([[0], [1]])
    with pytest.raises(ValueError, match="`J` contains 1 NaN"):
        loopy_bp(torch.zeros(3, dtype=torch.float64), pairs, torch.tensor([float("nan")]))
    with pytest.raises(ValueError, match=r"`J` must have shape \(1,\)"):
        loopy_bp(torch.zeros(3, dtype=torch.float64), pairs, torch.ones(2))
    with pytest.raises(ValueError, match="`J`.*required"):
        loopy_bp(torch.zeros(3, dtype=torch.float64), pairs)
    with pytest.raises(ValueError, match="`h` must be a 1-D floating tensor"):
        loopy_bp(torch.zeros(3, 2))
    with pytest.raises(ValueError, match="`max_iter` must be an integer"):
        loopy_bp(torch.zeros(3, dtype=torch.float64), max_iter=2.5)
    with pytest.raises(ValueError, match="`tol`"):
        loopy_bp(torch.zeros(3, dtype=torch.float64), tol=float("nan"))
    bags = as_bags([torch.arange(3)], [1], 3)
    with pytest.raises(ValueError, match="`lam_b`"):
        loopy_bp(torch.zeros(3, dtype=torch.float64), bags=bags, bag_factor="exact", lam_b=float("inf"))
    with pytest.raises(ValueError, match="`bags` refer to 3 instances but `h` has 4 entries"):
        loopy_bp(torch.zeros(4, dtype=torch.float64), bags=bags, bag_factor="exact")
