"""The all-reduced coding rates (graphdiff.nn.coding_rate.distributed_*) equal the single-process rates of the union
batch, values and gradients: two gloo processes spawned by the test itself (small inputs, no timing)."""

import os

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from graphdiff.nn.coding_rate import (
    coding_rates,
    distributed_coding_rates,
    distributed_mcr2_loss,
    mcr2_loss,
)

WORLD = 2
NUM_CLASSES = 4


def _inputs():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(37, 5, generator=g, dtype=torch.float64)
    weight = torch.rand(5, 7, generator=g, dtype=torch.float64)
    labels = torch.randint(0, 3, (37,), generator=g)  # class 3 empty everywhere
    labels[:25][labels[:25] == 2] = 0  # rank 0 (rows 0-24) sees no class 2, rank 1 sees it
    return x, weight, labels


# rank r holds rows SPLITS[r]:SPLITS[r + 1] (unequal shards)
SPLITS = (0, 25, 37)


def _worker(rank: int, path: str):
    dist.init_process_group("gloo", init_method=f"file://{path}/rendezvous", rank=rank, world_size=WORLD)
    try:
        x, weight, labels = _inputs()
        rows = slice(SPLITS[rank], SPLITS[rank + 1])
        z = x[rows].clone().requires_grad_(True)
        loss, r, rc = distributed_mcr2_loss(z, labels[rows], NUM_CLASSES, eps=0.3, gam1=1.2, return_parts=True)
        loss.backward()
        # a linear encoder shared by both processes, its gradient averaged as DistributedDataParallel does
        w = weight.clone().requires_grad_(True)
        r2, rc2 = distributed_coding_rates(x[rows] @ w, labels[rows], NUM_CLASSES, eps=0.3)
        (-2.0 * r2 + rc2).backward()
        grad_w = w.grad.clone()
        dist.all_reduce(grad_w)
        grad_w /= WORLD
        torch.save(
            {"loss": loss.detach(), "r": r.detach(), "rc": rc.detach(), "grad_z": z.grad, "grad_w": grad_w},
            os.path.join(path, f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")
def test_all_reduced_rates_equal_union_batch(tmp_path):
    mp.start_processes(_worker, args=(str(tmp_path),), nprocs=WORLD, start_method="spawn", join=True)
    x, weight, labels = _inputs()
    z = x.clone().requires_grad_(True)
    loss, r, rc = mcr2_loss(z, labels, NUM_CLASSES, eps=0.3, gam1=1.2, return_parts=True)
    loss.backward()
    w = weight.clone().requires_grad_(True)
    r2, rc2 = coding_rates(x @ w, labels, NUM_CLASSES, eps=0.3)
    (-2.0 * r2 + rc2).backward()
    for rank in range(WORLD):
        out = torch.load(tmp_path / f"rank{rank}.pt")
        for key, ref in (("loss", loss), ("r", r), ("rc", rc)):
            assert torch.allclose(out[key], ref, rtol=1e-10, atol=1e-12), (rank, key)
        rows = slice(SPLITS[rank], SPLITS[rank + 1])
        # each process receives the gradient of the sum of the WORLD equal losses for its rows ...
        assert torch.allclose(out["grad_z"], WORLD * z.grad[rows], rtol=1e-9, atol=1e-12)
        # ... so DDP's average of the parameter gradients is exactly the gradient of the union loss
        assert torch.allclose(out["grad_w"], w.grad, rtol=1e-9, atol=1e-12)


def test_distributed_rates_need_a_process_group():
    if dist.is_available() and dist.is_initialized():  # pragma: no cover - the test session has none
        pytest.skip("a process group is initialised")
    with pytest.raises(RuntimeError, match="init_process_group"):
        distributed_coding_rates(torch.rand(4, 3), torch.tensor([0, 1, 0, 1]), 2)
