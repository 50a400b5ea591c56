"""Data-parallel EchoScene training: a 2-process gloo run equals one process on the same global batches."""

import os

import pytest
import torch
import torch.multiprocessing as mp

from graphdiff.data import scenes as S
from graphdiff.nn.diffusion import DDPMSchedule
from graphdiff.scene.codecs import BoxCodec, ShapeCodec, _scene_to_data
from graphdiff.scene.config import EchoSceneConfig, TrainingConfig
from graphdiff.scene.model import EchoSceneNet
from graphdiff.scene.train import train_loop

CONFIG = dict(class_dim=8, pred_dim=8, latent_dim=8, gcn_hidden=16, proj_dim=4, context_dim=8, time_dim=8, width=16)
CONFIG.update(num_blocks=1, echo_layers=2, encoder_layers=1, shape_dim=4)


def _train(checkpoint_path=None):
    import numpy as np

    torch.set_num_threads(1)
    scenes = S.generate_scenes(12, seed=3)
    box = BoxCodec().fit(scenes)
    keys = np.unique(np.concatenate([np.stack([s.classes, s.shape_variant], 1)[s.object_mask] for s in scenes]), axis=0)
    shape = ShapeCodec(4).fit(S.shape_grids(keys[:, 0], keys[:, 1]))
    data = [_scene_to_data(s, box, shape) for s in scenes]
    torch.manual_seed(0)
    net = EchoSceneNet(EchoSceneConfig(**CONFIG))
    ema = EchoSceneNet(EchoSceneConfig(**CONFIG))
    ema.load_state_dict(net.state_dict())
    history, _ = train_loop(
        net,
        ema,
        data,
        TrainingConfig(steps=3, batch_size=6, seed=1),
        layout_schedule=DDPMSchedule(1000),
        shape_schedule=DDPMSchedule(1000, 0.00085, 0.012, "scaled_linear"),
        device="cpu",
        checkpoint_path=checkpoint_path,
        checkpoint_every=1,
    )
    return history, net.state_dict()


def _worker(rank, world, init_file, out_dir):
    torch.distributed.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        history, weights = _train(checkpoint_path=os.path.join(out_dir, f"ckpt_rank{rank}.pt"))
        torch.save({"history": history, "weights": weights}, os.path.join(out_dir, f"rank{rank}.pt"))
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not available")
def test_two_process_gloo_training_equals_one_process(tmp_path):
    single_history, single = _train()
    mp.spawn(_worker, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    for r in ranks:  # both processes hold the weights of the one-process run
        assert r["history"] == pytest.approx(single_history, rel=1e-5)
        for k, v in single.items():
            torch.testing.assert_close(r["weights"][k], v, rtol=1e-4, atol=1e-5)
    # rank 0 writes the checkpoints, rank 1 none
    assert (tmp_path / "ckpt_rank0.pt").exists() and not (tmp_path / "ckpt_rank1.pt").exists()
    # and the run differs from a run that is not data-parallel on other batches (the test can fail)
    assert any(
        not torch.allclose(v, ranks[0]["weights"][k])
        for k, v in EchoSceneNet(EchoSceneConfig(**CONFIG)).state_dict().items()
    )
