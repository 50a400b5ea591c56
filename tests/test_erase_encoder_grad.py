"""The fused in-place activations of the ERASE encoder (graphdiff/erase/encoder.py) against autograd through the
unfused torch functions: same values, same gradients (float64), including rows whose norm is floored."""

import torch
import torch.nn.functional as F

from graphdiff.erase.encoder import _L1NormalizeReLU, _LeakyReLUL1Normalize


def _inputs(seed):
    g = torch.Generator().manual_seed(seed)
    p = torch.randn(7, 5, generator=g, dtype=torch.float64)
    p[3] = 0.0  # a row whose L1 norm is floored at 1e-12 by F.normalize
    return p, torch.randn(7, 5, generator=g, dtype=torch.float64)


def _compare(fused, reference, seed):
    p, g = _inputs(seed)
    a = p.clone().requires_grad_(True)
    out = fused(a * 1.0)  # an intermediate, as in the encoder (the function writes into its input)
    (out * g).sum().backward()
    b = p.clone().requires_grad_(True)
    ref = reference(b)
    (ref * g).sum().backward()
    torch.testing.assert_close(out, ref, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-10, atol=1e-12)


def test_leaky_relu_then_l1_normalize_matches_autograd():
    for seed in range(3):
        _compare(
            lambda t: _LeakyReLUL1Normalize.apply(t, 0.2),
            lambda t: F.normalize(F.leaky_relu(t, 0.2), p=1, dim=1),
            seed,
        )


def test_l1_normalize_then_relu_matches_autograd():
    for seed in range(3):
        _compare(_L1NormalizeReLU.apply, lambda t: F.relu(F.normalize(t, p=1, dim=1)), seed)
