"""Properties of the coding rates and the MCR^2 loss (shared/papers/erase.md, section 5, items 1-7)."""

import math

import pytest
import torch

from graphdiff.nn.coding_rate import (
    MCR2Loss,
    coding_rate,
    coding_rates,
    compress_rate,
    logdet_identity_plus,
    mcr2_loss,
)


def dense_reference(z, labels, num_classes, eps, gam1, gam2):
    """The reference code's dense-membership formulas (K x m x m Pi), written out independently."""
    w = z.T.double()  # p x m
    p, m = w.shape
    eye = torch.eye(p, dtype=torch.float64)
    r = 0.5 * torch.logdet(eye + gam1 * p / (m * eps) * w @ w.T)
    pi = torch.zeros(num_classes, m, m, dtype=torch.float64)
    for j in range(num_classes):
        for i in range(m):
            if labels[i] == j:
                pi[j, i, i] = 1.0
    rc = 0.0
    for j in range(num_classes):
        tr = pi[j].trace() + 1e-8
        rc = rc + 0.5 * (tr / m) * torch.logdet(eye + p / (tr * eps) * w @ pi[j] @ w.T)
    return -gam2 * r + gam1 * rc, r, rc


def random_inputs(seed, m=30, p=12, k=4):
    g = torch.Generator().manual_seed(seed)
    z = torch.rand(m, p, generator=g, dtype=torch.float64)
    labels = torch.randint(0, k, (m,), generator=g)
    return z, labels


def test_rates_of_zero_are_zero():
    z = torch.zeros(10, 8)
    labels = torch.tensor([0, 1, 2] * 3 + [0])
    assert coding_rate(z).item() == 0.0
    assert compress_rate(z, labels).item() == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_rates_nonnegative_and_reduction_nonnegative(seed):
    z, labels = random_inputs(seed)
    z = z - 0.5  # signed embeddings too
    r = coding_rate(z, eps=0.1)
    rc = compress_rate(z, labels, eps=0.1)
    assert r.item() >= 0.0
    assert rc.item() >= 0.0
    assert (r - rc).item() >= -1e-6


def test_single_class_gives_zero_reduction():
    z, _ = random_inputs(1)
    labels = torch.zeros(z.size(0), dtype=torch.long)
    r = coding_rate(z, eps=0.3, gam1=1.0)
    rc = compress_rate(z, labels, eps=0.3)
    assert abs((r - rc).item()) < 1e-5


@pytest.mark.parametrize("m,p", [(30, 12), (8, 20)])  # both Gram orientations
def test_masked_equals_dense_formula(m, p):
    z, labels = random_inputs(3, m=m, p=p, k=5)
    labels[labels == 2] = 4  # class 2 is empty
    loss, r, rc = mcr2_loss(z, labels, num_classes=5, eps=0.05, gam1=1.0, gam2=2.0, return_parts=True)
    ref_loss, ref_r, ref_rc = dense_reference(z, labels, 5, 0.05, 1.0, 2.0)
    assert torch.allclose(r, ref_r, rtol=1e-5)
    assert torch.allclose(rc, ref_rc, rtol=1e-5)
    assert torch.allclose(loss, ref_loss, rtol=1e-5)


def test_empty_classes_contribute_zero():
    z, labels = random_inputs(4, k=3)
    a = compress_rate(z, labels, num_classes=3)
    b = compress_rate(z, labels, num_classes=10)
    assert torch.allclose(a, b)


def test_total_is_weighted_sum_and_gam1_one_is_theoretical():
    z, labels = random_inputs(5)
    loss, r, rc = mcr2_loss(z, labels, eps=0.2, gam1=1.5, gam2=3.0, return_parts=True)
    assert torch.equal(loss, -3.0 * r + 1.5 * rc)
    p = z.size(1)
    m = z.size(0)
    theoretical = 0.5 * torch.logdet(torch.eye(p, dtype=z.dtype) + p / (m * 0.2) * z.T @ z)
    assert torch.allclose(coding_rate(z, eps=0.2, gam1=1.0), theoretical, rtol=1e-10)


def test_permutation_and_class_renaming_invariance():
    z, labels = random_inputs(6, k=4)
    base = mcr2_loss(z, labels, eps=0.1)
    perm = torch.randperm(z.size(0), generator=torch.Generator().manual_seed(0))
    assert torch.allclose(mcr2_loss(z[perm], labels[perm], eps=0.1), base, rtol=1e-5)
    renaming = torch.tensor([2, 0, 3, 1])
    assert torch.allclose(mcr2_loss(z, renaming[labels], eps=0.1), base, rtol=1e-5)


def test_orthogonal_subspaces_discriminate_better():
    g = torch.Generator().manual_seed(7)
    m_per, p, k = 10, 12, 3
    labels = torch.arange(k).repeat_interleave(m_per)
    coeff = torch.rand(k * m_per, 4, generator=g, dtype=torch.float64)
    orth = torch.zeros(k * m_per, p, dtype=torch.float64)
    same = torch.zeros(k * m_per, p, dtype=torch.float64)
    for c in range(k):
        rows = labels == c
        orth[rows, 4 * c : 4 * c + 4] = coeff[rows]
        same[rows, 0:4] = coeff[rows]
    delta = lambda z: (coding_rate(z, eps=0.1) - compress_rate(z, labels, eps=0.1)).item()  # noqa: E731
    assert delta(orth) > delta(same) + 0.5


def test_gradcheck_float64_and_no_label_gradient():
    z, labels = random_inputs(8, m=6, p=20, k=3)
    z.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: mcr2_loss(t, labels, num_classes=3, eps=0.1), (z,))
    soft = torch.rand(6, 3, dtype=torch.float64, requires_grad=True)
    hard = soft.argmax(dim=1)  # labels derived from a differentiable tensor
    loss = mcr2_loss(z, hard, num_classes=3, eps=0.1)
    loss.backward()
    assert soft.grad is None
    assert z.grad is not None and torch.isfinite(z.grad).all()


@pytest.mark.parametrize("m,p", [(6, 20), (300, 16), (120, 120)])
def test_fused_rates_equal_separate_terms_values_and_gradients(m, p):
    """coding_rates (one pass, hand-written gradient) == coding_rate and compress_rate through autograd, also with
    an empty class, a one-row class and any upstream weights on the two outputs."""
    z, labels = random_inputs(m, m=m, p=p, k=4)
    labels[0] = 5  # class 4 empty, class 5 a single row
    z.requires_grad_(True)
    fused = coding_rates(z, labels, num_classes=6, eps=0.07, gam1=1.3)
    separate = (coding_rate(z, eps=0.07, gam1=1.3), compress_rate(z, labels, num_classes=6, eps=0.07))
    for a, b in zip(fused, separate):
        assert torch.allclose(a, b, rtol=1e-10, atol=1e-12)
    grad_fused = torch.autograd.grad(-1.7 * fused[0] + 0.4 * fused[1], z)[0]
    grad_separate = torch.autograd.grad(-1.7 * separate[0] + 0.4 * separate[1], z)[0]
    assert torch.allclose(grad_fused, grad_separate, rtol=1e-9, atol=1e-12)
    small = z[:12].detach().clone().requires_grad_(True)
    # fast mode (a random projection of the Jacobian) keeps the 12 x 120 case to seconds instead of minutes
    assert torch.autograd.gradcheck(
        lambda t: coding_rates(t, labels[:12], num_classes=6, eps=0.07), (small,), fast_mode=True
    )


def test_fused_rates_reject_nan():
    z, labels = random_inputs(3)
    z = z.clone()
    z[0, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        coding_rates(z, labels)


def test_float32_stable_for_tiny_embeddings_and_small_classes():
    g = torch.Generator().manual_seed(9)
    z64 = torch.rand(400, 64, generator=g, dtype=torch.float64) * 1e-3  # L1-normalised scale
    labels = torch.randint(0, 7, (400,), generator=g)
    labels[:2] = 6
    labels[2:] = torch.where(labels[2:] == 6, torch.zeros_like(labels[2:]), labels[2:])  # class 6 has 2 rows
    out32 = mcr2_loss(z64.float(), labels, eps=0.05, return_parts=True)
    out64 = mcr2_loss(z64, labels, eps=0.05, return_parts=True)
    for a, b in zip(out32, out64):
        assert a.dtype == torch.float32
        assert math.isclose(a.item(), b.item(), rel_tol=1e-4, abs_tol=1e-6)


def test_module_matches_function():
    z, labels = random_inputs(10)
    mod = MCR2Loss(gam1=1.0, gam2=2.0, eps=0.4)
    assert torch.allclose(mod(z, labels), mcr2_loss(z, labels, eps=0.4))
    assert "eps=0.4" in repr(mod)


def test_logdet_matches_slogdet_both_orientations():
    for m, p in [(5, 9), (9, 5)]:
        z = torch.rand(m, p, dtype=torch.float64)
        ref = torch.linalg.slogdet(torch.eye(p, dtype=torch.float64) + 0.7 * z.T @ z).logabsdet
        assert torch.allclose(logdet_identity_plus(z, 0.7), ref)


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: coding_rate(torch.rand(3)), "2-D"),
        (lambda: coding_rate(torch.ones(3, 2, dtype=torch.long)), "floating"),
        (lambda: coding_rate(torch.rand(3, 2), eps=0.0), "eps"),
        (lambda: compress_rate(torch.rand(3, 2), torch.tensor([0, 1])), "one entry per row"),
        (lambda: compress_rate(torch.rand(3, 2), torch.tensor([0, 1, -1])), "negative"),
        (lambda: compress_rate(torch.rand(3, 2), torch.tensor([0, 1, 5]), num_classes=3), "num_classes"),
        (lambda: compress_rate(torch.rand(3, 2), torch.tensor([0.0, 1.0, 1.0])), "integer"),
        # NaN / infinite / negative knobs are named, not reported as NaN in `z`
        (lambda: mcr2_loss(torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), gam1=float("nan")), "`gam1`"),
        (lambda: mcr2_loss(torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), gam2=float("inf")), "`gam2`"),
        (lambda: mcr2_loss(torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), eps=float("nan")), "`eps`"),
        (lambda: coding_rate(torch.rand(4, 2), gam1=-1.0), "`gam1`"),
        (lambda: logdet_identity_plus(torch.rand(4, 2), float("nan")), "`scale`"),
        (lambda: MCR2Loss(gam2=float("nan")), "`gam2`"),
        (lambda: MCR2Loss(num_classes=2.5), "`num_classes`"),
        (lambda: mcr2_loss(torch.rand(4, 2), torch.tensor([0, 1, 0, 1]), num_classes=2.5), "`num_classes`"),
        # bad shapes
        (lambda: coding_rates(torch.rand(4, 2, 1), torch.tensor([0, 1, 0, 1])), "2-D"),
        (lambda: coding_rates(torch.rand(4, 2), torch.tensor([[0, 1], [0, 1]])), "1-D"),
        (lambda: mcr2_loss(torch.rand(4, 2), torch.tensor([0, 1, 0])), "one entry per row"),
        (lambda: mcr2_loss(torch.rand(4, 2), [0, 1, 0, 1]), "torch.Tensor"),
        (lambda: mcr2_loss(torch.rand(4, 2), torch.tensor([True, False, True, True])), "integer"),
        (lambda: mcr2_loss(torch.tensor([[1.0, float("inf")]]), torch.tensor([0])), "NaN or infinite"),
    ],
)
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mcr2_loss_without_input_checks_is_the_same_loss():
    """``check_input=False`` (ERASE's training loop) skips validation only: same loss, parts and gradient."""
    g = torch.Generator().manual_seed(3)
    z = torch.rand(40, 6, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 4, (40,), generator=g)
    a, b = z.clone().requires_grad_(True), z.clone().requires_grad_(True)
    checked = mcr2_loss(a, labels, 4, eps=0.1, gam1=0.7, gam2=1.5, return_parts=True)
    unchecked = mcr2_loss(b, labels, 4, eps=0.1, gam1=0.7, gam2=1.5, return_parts=True, check_input=False)
    for x, y in zip(checked, unchecked):
        torch.testing.assert_close(x, y, rtol=0, atol=0)
    checked[0].backward()
    unchecked[0].backward()
    torch.testing.assert_close(a.grad, b.grad, rtol=0, atol=0)
