"""ERASE.fit(checkpoint=...): a fit interrupted and resumed from its checkpoint equals an uninterrupted one; checkpoints
of other parameters or inputs, and damaged files, are refused naming the file and the difference."""

import pytest
import torch

from graphdiff.data import noise, synthetic
from graphdiff.erase import ERASE
from graphdiff.nn.checkpoint import CheckpointError

KW = dict(hidden_channels=16, out_channels=16, heads=2, epochs=7, patience=None, verbose=False)


@pytest.fixture(scope="module")
def problem():
    data = synthetic.contextual_sbm(150, 3, num_features=8, num_train_per_class=10, num_val_per_class=10, seed=1)
    y = noise.pair_noise(data.y, 0.3, mask=data.train_mask | data.val_mask, seed=0).y_noisy
    test = ~(data.train_mask | data.val_mask)
    return data, y, test


class Interrupt(Exception):
    pass


def _stop_at(k):
    def callback(epoch, record):
        assert record["epoch"] == epoch
        if epoch == k:
            raise Interrupt

    return callback


def _fit(problem, path=None, callback=None, every=1, **kw):
    data, y, test = problem
    return ERASE(**{**KW, **kw}).fit(
        data,
        y,
        data.train_mask,
        data.val_mask,
        monitor={"test": (test, data.y)},
        checkpoint=path,
        checkpoint_every=every,
        callback=callback,
    )


def _assert_same_fit(a, b):
    for (key, wa), wb in zip(a.encoder_.state_dict().items(), b.encoder_.state_dict().values()):
        assert torch.equal(wa, wb), key
    assert a.best_epoch_ == b.best_epoch_
    assert a.history_ == b.history_
    for kind in ("probe", "direct"):
        assert torch.equal(a.predict(kind), b.predict(kind))
    assert torch.equal(a.pseudo_labels_, b.pseudo_labels_)


@pytest.mark.parametrize("every, stop", [(1, 2), (2, 4), (3, 4)])
def test_resumed_fit_equals_the_uninterrupted_one(problem, tmp_path, every, stop):
    ref = _fit(problem)
    path = tmp_path / "erase.pt"
    with pytest.raises(Interrupt):
        _fit(problem, path, _stop_at(stop), every=every)
    assert path.exists()
    seen = []
    resumed = _fit(problem, path, lambda epoch, record: seen.append(epoch), every=every)
    # the epochs after the last checkpoint run again (dropout from the stored generator state)
    assert seen == list(range((stop + 1) // every * every, KW["epochs"]))
    _assert_same_fit(ref, resumed)


def test_a_finished_checkpoint_gives_the_result_without_training(problem, tmp_path):
    path = tmp_path / "erase.pt"
    ref = _fit(problem, path, patience=2, epochs=30)
    assert len(ref.history_) < 30  # stopped early
    seen = []
    again = _fit(problem, path, lambda epoch, record: seen.append(epoch), patience=2, epochs=30)
    assert seen == []
    _assert_same_fit(ref, again)


def test_interrupted_fit_of_another_model_is_not_resumed(problem, tmp_path):
    path = tmp_path / "erase.pt"
    with pytest.raises(Interrupt):
        _fit(problem, path, _stop_at(1))
    with pytest.raises(CheckpointError, match=f"{path}.*other parameters.*lr: 0.001 != 0.01"):
        _fit(problem, path, lr=0.01)
    with pytest.raises(CheckpointError, match="seed: 0 != 3"):
        _fit(problem, path, seed=3)
    data, y, test = problem
    y2 = y.clone()
    y2[data.train_mask.nonzero()[0]] = (y2[data.train_mask.nonzero()[0]] + 1) % 3
    with pytest.raises(CheckpointError, match=f"{path}.*other inputs.*sha256"):
        ERASE(**KW).fit(data, y2, data.train_mask, data.val_mask, monitor={"test": (test, data.y)}, checkpoint=path)
    # verbose may differ
    _fit(problem, path, verbose=True)


def test_damaged_or_foreign_checkpoints_are_refused(problem, tmp_path):
    path = tmp_path / "erase.pt"
    with pytest.raises(Interrupt):
        _fit(problem, path, _stop_at(0))
    raw = bytearray(path.read_bytes())
    bad = tmp_path / "truncated.pt"
    bad.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(CheckpointError, match=f"{bad} cannot be read"):
        _fit(problem, bad)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(2)}, other)
    with pytest.raises(CheckpointError, match=f"{other} is a torch file but not an ERASE checkpoint"):
        _fit(problem, other)
    state = torch.load(path, weights_only=True)
    state["encoder"]["conv2.bias"] += 1.0  # altered after writing: the checksum no longer matches
    altered = tmp_path / "altered.pt"
    torch.save(state, altered)
    with pytest.raises(CheckpointError, match="fails its checksum"):
        _fit(problem, altered)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"checkpoint_every": 0}, "checkpoint_every"),
        ({"checkpoint": 3}, "`checkpoint` must be a path"),
        ({"callback": "print"}, "`callback` must be callable"),
    ],
)
def test_bad_checkpoint_arguments(problem, kwargs, match):
    data, y, _ = problem
    with pytest.raises(ValueError, match=match):
        ERASE(**KW).fit(data, y, data.train_mask, data.val_mask, **kwargs)
