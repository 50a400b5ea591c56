"""End-to-end: ERASE clearly above a cross-entropy GCN on Cora under pair noise 0.3, noisy validation labels.

Noise on the training and validation labels (cyclic pair targets), drawn anew per seed; both models selected on the
noisy validation labels; test accuracy against the clean labels. ERASE runs a shortened 100-epoch schedule (the
benchmark's reduced setting) to keep the test around a minute and a half of one CPU core.
"""

import pytest
import torch

SEEDS = (0, 1)


@pytest.mark.slow
def test_erase_beats_gcn_on_cora_pair_noise(real_data_root):
    import graphdiff.data as gd
    from graphdiff.data import noise, splits
    from graphdiff.erase import ERASE, GCN

    torch.set_num_threads(1)
    data = gd.load("cora", root=real_data_root, normalize_features=True)
    train, val, test = splits.public_split(data)
    acc = {"erase": [], "gcn": []}
    for seed in SEEDS:
        noisy = noise.pair_noise(
            data.y, 0.3, num_classes=data.num_classes, mask=train | val, seed=seed, target="cyclic"
        )
        assert torch.equal(noisy.y_noisy[test], data.y[test])
        for name, model in (
            ("erase", ERASE.from_preset("cora", epochs=100, seed=seed, verbose=False)),
            ("gcn", GCN(seed=seed, verbose=False)),
        ):
            model.fit(data, noisy.y_noisy, train, val)
            assert model.validation_labels_ == "noisy"
            pred = model.predict()
            acc[name].append(float((pred[test] == data.y[test]).float().mean()))
    erase, gcn = sum(acc["erase"]) / len(SEEDS), sum(acc["gcn"]) / len(SEEDS)
    assert erase >= 0.72, acc
    assert erase - gcn >= 0.05, acc
