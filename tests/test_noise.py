import numpy as np
import pytest
import torch

from graphdiff.data import noise


def _labels(n=20000, k=5, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).integers(0, k, n))


@pytest.mark.parametrize("rate", [0.0, 0.1, 0.45])
def test_uniform_transition_rows_and_offdiagonals(rate):
    t = noise.uniform_transition(6, rate)
    assert torch.allclose(t.sum(1), torch.ones(6, dtype=torch.float64))
    off = t[~torch.eye(6, dtype=torch.bool)]
    assert torch.allclose(off, torch.full_like(off, rate / 5))
    assert torch.allclose(t.diagonal(), torch.full((6,), 1 - rate, dtype=torch.float64))


@pytest.mark.parametrize("target", ["cyclic", "random"])
def test_pair_transition_has_one_offdiagonal_per_row(target):
    res = noise.pair_noise(_labels(k=7), 0.3, num_classes=7, seed=3, target=target)
    t = res.transition
    assert torch.allclose(t.sum(1), torch.ones(7, dtype=torch.float64))
    off = t.clone().fill_diagonal_(0)
    assert ((off > 0).sum(1) == 1).all()
    assert torch.allclose(off.max(1).values, torch.full((7,), 0.3, dtype=torch.float64))
    assert (res.pair_targets != torch.arange(7)).all()
    if target == "cyclic":
        assert torch.equal(res.pair_targets, (torch.arange(7) + 1) % 7)


@pytest.mark.parametrize("kind", ["uniform", "pair"])
@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_flip_fraction_approaches_rate(kind, rate):
    y = _labels()
    res = noise.corrupt_labels(y, kind, rate, seed=1)
    assert abs(res.realised_rate - rate) < 0.015
    assert abs(float((res.y_noisy != y).float().mean()) - rate) < 0.015


def test_flips_follow_the_transition():
    y = _labels(n=50000, k=4)
    res = noise.pair_noise(y, 0.4, seed=2, target="cyclic")
    changed = res.y_noisy != y
    # cyclic pair noise only ever moves a label to the next class
    assert torch.equal(res.y_noisy[changed], (y[changed] + 1) % 4)
    res = noise.uniform_noise(y, 0.4, seed=2)
    changed = res.y_noisy != y
    counts = torch.bincount(res.y_noisy[changed & (y == 0)], minlength=4)[1:].double()
    assert (counts / counts.sum() - 1 / 3).abs().max() < 0.03


def test_only_masked_labels_change_and_seed_determinism():
    y = _labels(n=3000)
    mask = torch.zeros(3000, dtype=torch.bool)
    mask[:1000] = True
    a = noise.uniform_noise(y, 0.5, mask=mask, seed=7)
    b = noise.uniform_noise(y, 0.5, mask=mask, seed=7)
    c = noise.uniform_noise(y, 0.5, mask=mask, seed=8)
    assert torch.equal(a.y_noisy[~mask], y[~mask])
    assert not a.flipped[~mask].any()
    assert a.flipped[mask].any()
    assert torch.equal(a.y_noisy, b.y_noisy)
    assert not torch.equal(a.y_noisy, c.y_noisy)
    assert torch.equal(a.flipped, a.y_noisy != y)


def _reference_procedure(y_masked, k, rate, seed, kind):
    """The ERASE code's draw, written out call by call with numpy's global-state API."""
    np.random.seed(seed)  # noqa: NPY002 (the reference code uses the global-state API)
    if kind == "pair":
        C = np.eye(k) * (1 - rate)
        idx = np.arange(k)
        for i in range(k):
            C[i][np.random.choice(idx[idx != i])] = rate  # noqa: NPY002
    else:
        C = np.eye(k) * (1 - rate) + rate * (np.ones((k, k)) - np.eye(k)) / (k - 1)
    return np.array([np.random.choice(k, p=C[label]) for label in y_masked])  # noqa: NPY002


@pytest.mark.parametrize("kind", ["uniform", "pair"])
@pytest.mark.parametrize("seed", [0, 123])
def test_legacy_matches_the_sequential_reference_draw(kind, seed):
    y = _labels(n=600, k=7, seed=seed)
    mask = torch.zeros(600, dtype=torch.bool)
    mask[::3] = True
    kwargs = {"target": "random"} if kind == "pair" else {}
    res = noise.corrupt_labels(y, kind, 0.3, num_classes=7, mask=mask, seed=seed, legacy=True, **kwargs)
    expected = _reference_procedure(y[mask].numpy(), 7, 0.3, seed, kind)
    assert np.array_equal(res.y_noisy[mask].numpy(), expected)


def test_legacy_pair_targets_for_cora_seed_123():
    # The ERASE notes record these targets for Cora (7 classes) with seed 123.
    res = noise.pair_noise(torch.arange(7), 0.3, seed=123, target="random", legacy=True)
    assert res.pair_targets.tolist() == [6, 3, 5, 2, 1, 3, 2]


def test_binary_flip_noise_accuracies():
    in_target = torch.zeros(40000, dtype=torch.bool)
    in_target[:10000] = True
    lab = noise.binary_flip_noise(in_target, a0=0.9, a1=0.7, seed=0)
    assert abs(float(lab[:10000].float().mean()) - 0.7) < 0.015
    assert abs(float((~lab[10000:]).float().mean()) - 0.9) < 0.01
    assert torch.equal(noise.binary_flip_noise(in_target, 1.0, 1.0), in_target)


@pytest.mark.parametrize("rate", [1.0, -0.1, float("nan"), 1.5])
def test_bad_rates(rate):
    with pytest.raises(ValueError, match="rate"):
        noise.uniform_noise(_labels(n=10), rate)


def test_bad_inputs():
    with pytest.raises(ValueError, match="class id 5"):
        noise.uniform_noise(torch.tensor([0, 1, 5]), 0.2, num_classes=3)
    with pytest.raises(ValueError, match="negative"):
        noise.uniform_noise(torch.tensor([0, -1]), 0.2)
    with pytest.raises(ValueError, match="target"):
        noise.pair_noise(torch.tensor([0, 1]), 0.2, target="next")
    with pytest.raises(ValueError, match="mask"):
        noise.uniform_noise(torch.tensor([0, 1, 1]), 0.2, mask=torch.tensor([True, False]))
    with pytest.raises(ValueError, match="a1"):
        noise.binary_flip_noise(torch.tensor([True, False]), 0.9, 1.2)
    with pytest.raises(ValueError, match="legacy"):
        noise.pair_noise(torch.tensor([0, 1]), 0.2, legacy=True)
