"""Bag factors of the LLP-BP Gibbs model, three ways.

Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 3, Eq. (1)-(2); the ``exact`` and
``gaussian`` factors go beyond the paper (which uses only the pairwise expansion). For binary labels
:math:`y \\in \\{0, 1\\}^N`, kNN weights :math:`s_{ij}` and bags :math:`S` with positive counts :math:`k_S`,

.. math::
    \\log p(y) = -\\lambda_s \\sum_{(i,j) \\in E} s_{ij} (y_i - y_j)^2
                 - \\lambda_b \\sum_S \\Big(\\sum_{j \\in S} y_j - k_S\\Big)^2 + \\text{const}.

``pairwise`` (the paper's Ising expansion, Eq. (2), kept for parity): with
:math:`(\\sum y - k)^2 = (1 - 2k) \\sum y_i + 2 \\sum_{i<j} y_i y_j + k^2` the model is
:math:`\\sum_i h_i y_i + \\sum_{i<j} J_{ij} y_i y_j` with

.. math::
    h_i = -\\lambda_b (1 - 2 k_{S(i)}) - \\lambda_s \\sum_j s_{ij}, \\qquad
    J_{ij} = 2 \\lambda_s s_{ij} \\;[\\text{kNN}] \\; - 2 \\lambda_b \\;[\\text{same bag}].

``exact`` (one factor per bag, :math:`f_S(c) = e^{-\\lambda_b (c - k_S)^2}` or the hard :math:`1[c = k_S]`): the
factor-to-variable log-odds message is

.. math:: \\beta_{S \\to i} = \\log \\sum_c P(C_{-i} = c) f_S(c + 1) - \\log \\sum_c P(C_{-i} = c) f_S(c),

where :math:`C_{-i}` is the Poisson-binomial count of the other members under their cavity probabilities
:math:`q_j`. The bag's full pmf comes from the O(B^2) dynamic programme; the leave-one-out pmf is one step of
deconvolution, run forward (:math:`R_c = (P_c - q_i R_{c-1}) / (1 - q_i)`) when :math:`q_i \\le 1/2` and backward
(:math:`R_{c-1} = (P_c - (1 - q_i) R_c) / q_i`) otherwise, so that errors are never amplified.

``gaussian`` (O(B) per bag): :math:`C_{-i} \\approx \\mathcal N(m_i, s_i^2)` with :math:`m_i = \\sum_j q_j - q_i`,
:math:`s_i^2 = \\sum_j q_j(1 - q_j) - q_i(1 - q_i)` gives in closed form
:math:`\\beta = -\\lambda_b (2(m_i - k) + 1) / (1 + 2 \\lambda_b s_i^2)` (soft) and
:math:`\\beta = -(2(m_i - k) + 1) / (2 s_i^2)` (hard).
"""

from __future__ import annotations

import torch
from torch_geometric.utils import scatter

from graphdiff.data.bags import Bags

__all__ = [
    "BAG_FACTORS",
    "in_bag_pairs",
    "ising_potentials",
    "exact_bag_messages",
    "gaussian_bag_messages",
]

BAG_FACTORS = ("pairwise", "exact", "gaussian")
_TINY = 1e-300


def in_bag_pairs(bags: Bags) -> torch.Tensor:
    """All pairs ``i < j`` of members of the same bag.

    Parameters
    ----------
    bags : Bags

    Returns
    -------
    LongTensor ``(2, sum_S B_S (B_S - 1) / 2)``
    """
    pad = bags.padded()
    bmax = pad.size(1)
    r, c = torch.triu_indices(bmax, bmax, offset=1)
    a, b = pad[:, r].reshape(-1), pad[:, c].reshape(-1)
    keep = (a >= 0) & (b >= 0)
    a, b = a[keep], b[keep]
    return torch.stack([torch.minimum(a, b), torch.maximum(a, b)])


def ising_potentials(
    num_nodes: int,
    edge_index: torch.Tensor,
    weight: torch.Tensor,
    bags: Bags | None,
    lam_s: float,
    lam_b: float,
    bag_factor: str,
    device=None,
):
    """Unary ``h`` (log-odds of state 1) and pair couplings ``(pair_index, J)`` of the Ising form.

    With ``bag_factor="pairwise"`` the bag penalty is expanded into unaries and in-bag pairs (summed with a kNN
    coupling when a pair is both); otherwise only the similarity term is expanded and bags stay higher-order factors.
    Inputs are not validated here (:func:`graphdiff.llp.llp_marginals` does it).

    Parameters
    ----------
    num_nodes : int
        Number of variables ``N``.
    edge_index : LongTensor ``(2, E)``
        Similarity pairs ``i < j``.
    weight : Tensor ``(E,)``
        Similarity weights ``s_ij``.
    bags : Bags or None
        The bags (used with ``bag_factor="pairwise"`` only).
    lam_s, lam_b : float
        Weights of the similarity and the bag term.
    bag_factor : {"pairwise", "exact", "gaussian"}
    device : str or torch.device, optional

    Returns
    -------
    h : Tensor ``(N,)``, float64
    pair_index : LongTensor ``(2, M)``
    J : Tensor ``(M,)``, float64
    """
    device = torch.device(device) if device is not None else edge_index.device
    edge_index = edge_index.to(device)
    w = weight.to(device=device, dtype=torch.float64)
    h = torch.zeros(num_nodes, dtype=torch.float64, device=device)
    if edge_index.numel():
        deg = scatter(w, edge_index[0], 0, dim_size=num_nodes, reduce="sum") + scatter(
            w, edge_index[1], 0, dim_size=num_nodes, reduce="sum"
        )
        h = h - lam_s * deg
    pair_index, J = edge_index, 2.0 * lam_s * w
    if bag_factor == "pairwise" and bags is not None:
        idx = bags.index.to(device)
        k = bags.counts.to(device).double()
        h[idx] += -lam_b * (1.0 - 2.0 * k[bags.bag_of_member.to(device)])
        bp_pairs = in_bag_pairs(bags).to(device)
        allp = torch.cat([pair_index, bp_pairs], 1)
        allj = torch.cat([J, torch.full((bp_pairs.size(1),), -2.0 * lam_b, dtype=torch.float64, device=device)])
        key = allp[0] * num_nodes + allp[1]
        uniq, inv = torch.unique(key, return_inverse=True)
        J = scatter(allj, inv, 0, dim_size=uniq.numel(), reduce="sum")
        pair_index = torch.stack([uniq // num_nodes, uniq % num_nodes])
    return h, pair_index, J


def _bag_pmf(q_pad: torch.Tensor) -> torch.Tensor:
    """Poisson-binomial pmf of each row of ``q_pad`` ``(m, B)`` (pads hold q = 0): ``(m, B + 1)``."""
    m, bmax = q_pad.shape
    pmf = torch.zeros(m, bmax + 1, dtype=q_pad.dtype, device=q_pad.device)
    pmf[:, 0] = 1.0
    for j in range(bmax):  # one convolution step per bag position, vectorised over bags
        qj = q_pad[:, j : j + 1]
        shifted = torch.cat([torch.zeros_like(qj), pmf[:, :-1]], 1)
        pmf = pmf * (1.0 - qj) + shifted * qj
    return pmf


def _factor_table(counts: torch.Tensor, cmax: int, lam_b: float, hard: bool) -> torch.Tensor:
    """``(m, cmax + 1)`` table of ``f_S(c)`` for ``c = 0..cmax``."""
    c = torch.arange(cmax + 1, dtype=torch.float64, device=counts.device)[None, :]
    k = counts.double()[:, None]
    if hard:
        return (c == k).to(torch.float64)
    return torch.exp(-lam_b * (c - k) ** 2)


def exact_bag_messages(v: torch.Tensor, bags: Bags, lam_b: float, hard: bool = False) -> torch.Tensor:
    """Exact bag-to-member log-odds messages.

    The members are laid out as a padded ``(m, B_max)`` matrix, so that every step of the count recursions is one
    vectorised operation over all members of all bags; cost O(sum_S B_S B_max) per call, memory O(m B_max).

    Parameters
    ----------
    v : Tensor ``(total_members,)``
        Variable-to-bag cavity log-odds of every member, in the order of ``bags.index``.
    bags : Bags
    lam_b : float
        Weight of the soft factor :math:`e^{-\\lambda_b (c - k_S)^2}`.
    hard : bool
        The hard factor :math:`1[c = k_S]` instead.

    Returns
    -------
    Tensor ``(total_members,)``, float64, in the order of ``bags.index``.
    """
    device = v.device
    v = v.double()
    bag = bags.bag_of_member.to(device)
    sizes = bags.sizes.to(device)
    ptr = bags.ptr.to(device)
    pos = torch.arange(v.numel(), device=device) - ptr[:-1][bag]
    m, bmax = bags.num_bags, int(sizes.max())
    # padded cavity probabilities; pads hold q = 0 (a variable that is always 0 does not change any count)
    vpad = torch.full((m, bmax), -float("inf"), dtype=torch.float64, device=device)
    vpad[bag, pos] = v
    q = torch.sigmoid(vpad)
    q0 = torch.sigmoid(-vpad)  # 1 - q without cancellation near q = 1
    pmf = _bag_pmf(q).T.contiguous()  # (bmax + 1, m): row c = P(C = c) of every bag
    F = _factor_table(bags.counts.to(device), bmax + 1, lam_b, hard).T.contiguous()  # (bmax + 2, m)
    fwd = q <= 0.5
    a1 = torch.zeros_like(q)
    a0 = torch.zeros_like(q)
    # forward deconvolution, R_c = (P_c - q R_{c-1}) / (1 - q), on the (m, B_max) layout; lanes with q > 1/2 get
    # q = 0 here (their values are replaced below)
    qf = torch.where(fwd, q, torch.zeros_like(q))
    inv0 = torch.where(fwd, 1.0 / q0, torch.zeros_like(q))  # in [1, 2] on forward lanes
    equal = bool((sizes == bmax).all())
    sizes_col = sizes.double()[:, None]
    r = torch.zeros_like(q)
    for c in range(bmax):  # count values; each step is vectorised over all members
        r.mul_(qf).neg_().add_(pmf[c][:, None]).mul_(inv0).clamp_(min=0.0)
        if c > 0 and not equal:  # C_{-i} <= |S| - 1: drop the round-off a smaller bag leaves beyond its size
            r.mul_((sizes_col > c).double())
        a1.addcmul_(r, F[c + 1][:, None])
        a0.addcmul_(r, F[c][:, None])
    # backward deconvolution, R_{c-1} = (P_c - (1 - q) R_c) / q, where q > 1/2: those members are gathered into
    # one compact vector (usually a minority), each step gathering its bag's pmf entry
    rb, cb = (~fwd).nonzero(as_tuple=True)
    if rb.numel():
        qb, q0b = q[rb, cb], q0[rb, cb]
        inv1 = 1.0 / qb  # in [1, 2)
        r = torch.zeros_like(qb)
        b1, b0 = torch.zeros_like(qb), torch.zeros_like(qb)
        for c in range(bmax, 0, -1):
            r.mul_(q0b).neg_().add_(pmf[c].index_select(0, rb)).mul_(inv1).clamp_(min=0.0)
            b1.addcmul_(r, F[c].index_select(0, rb))
            b0.addcmul_(r, F[c - 1].index_select(0, rb))
        a1[rb, cb] = b1
        a0[rb, cb] = b0
    out = torch.log(a1.clamp_min(_TINY)) - torch.log(a0.clamp_min(_TINY))
    return out[bag, pos]


def gaussian_bag_messages(
    v: torch.Tensor, bags: Bags, lam_b: float, hard: bool = False, min_var: float = 1e-6
) -> torch.Tensor:
    """Closed-form Gaussian-approximation messages, O(N) per call.

    Parameters
    ----------
    v, bags, lam_b, hard
        As in :func:`exact_bag_messages`.
    min_var : float
        Floor of the count variance of the hard message.

    Returns
    -------
    Tensor ``(total_members,)``, float64, in the order of ``bags.index``.
    """
    device = v.device
    q = torch.sigmoid(v.double())
    bag = bags.bag_of_member.to(device)
    tot = scatter(q, bag, 0, dim_size=bags.num_bags, reduce="sum")
    var = scatter(q * (1 - q), bag, 0, dim_size=bags.num_bags, reduce="sum")
    m = tot[bag] - q
    s2 = (var[bag] - q * (1 - q)).clamp_min(0.0)
    k = bags.counts.to(device).double()[bag]
    if hard:
        return -(2.0 * (m - k) + 1.0) / (2.0 * s2.clamp_min(min_var))
    return -lam_b * (2.0 * (m - k) + 1.0) / (1.0 + 2.0 * lam_b * s2)
