"""Training objective and loop with resumable checkpoints for EchoScene (https://arxiv.org/abs/2405.00915, Sec. 3.5).

Loss (eps-prediction, Sec. 3.5): :math:`L = L_{layout} + L_{shape}` with

.. math::

    L_{layout} = \\mathbb{E}\\, \\| \\epsilon - \\epsilon_\\theta(\\sqrt{\\bar\\alpha_t} b_0
        + \\sqrt{1-\\bar\\alpha_t}\\epsilon,
    t, c) \\|^2

over the nodes with a real box (the ``_scene_`` node is masked out), **one timestep per scene** shared by its nodes,
and the same for the shape codes of the objects with **one timestep per object**, as the authors' released code
does.
One AdamW optimiser over all parameters, gradient-norm clipping, linear warm-up then cosine decay, an exponential
moving average of the weights for sampling. Checkpoints hold the weights, the EMA, the optimiser, the step and the
random-generator state, so a resumed run takes exactly the steps an uninterrupted one would
(:mod:`graphdiff.scene.checkpoint` writes and verifies them).
"""

from __future__ import annotations

import dataclasses
import math
import time

import torch
from tqdm.auto import tqdm

from graphdiff.nn.diffusion import DDPMSchedule
from graphdiff.scene.checkpoint import load_checkpoint, save_checkpoint
from graphdiff.scene.config import TrainingConfig

__all__ = ["diffusion_loss", "train_loop", "save_checkpoint", "load_checkpoint"]


def _subgraph(keep: torch.Tensor, edge_index: torch.Tensor, edge_type: torch.Tensor):
    """The edges among the nodes in ``keep`` (whole scenes), renumbered."""
    new = torch.cumsum(keep.long(), 0) - 1
    e = keep[edge_index[0]]
    return new[edge_index[:, e]], edge_type[e]


def diffusion_loss(
    net,
    batch,
    layout_schedule: DDPMSchedule,
    shape_schedule: DDPMSchedule | None,
    generator: torch.Generator | None = None,
    shard: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict]:
    """Joint eps-MSE of both branches on one PyG batch (see the module docstring).

    Every random draw is made for the whole batch; with ``shard`` (a bool mask over the batch's scenes) the networks
    run on those scenes only and each branch's squared errors are summed and divided by the node count of the whole
    batch, so that the losses of disjoint shards add up to the loss of the batch (data-parallel training).
    """
    device = batch.box.device
    num_graphs = int(batch.num_graphs)
    t_scene = torch.randint(0, layout_schedule.num_train_timesteps, (num_graphs,), generator=generator).to(device)
    t = t_scene[batch.batch]
    noise = torch.randn(batch.box.shape, generator=generator).to(device)
    x_t = layout_schedule.add_noise(batch.box, noise, t)
    with_shape = net.shape is not None and shape_schedule is not None
    if with_shape:
        n = batch.shape_code.size(0)
        t_obj = torch.randint(0, shape_schedule.num_train_timesteps, (n,), generator=generator).to(device)
        noise_s = torch.randn(batch.shape_code.shape, generator=generator).to(device)
        xs_t = shape_schedule.add_noise(batch.shape_code, noise_s, t_obj)
    if shard is None:
        keep = torch.ones(batch.box.size(0), dtype=torch.bool, device=device)
    else:
        keep = shard.to(device)[batch.batch]
    ei, et = _subgraph(keep, batch.edge_index, batch.edge_type)
    v = net.node_input(batch.node_class[keep], batch.room_type[batch.batch][keep], ei, et)
    eps = net.layout(x_t[keep], t[keep], v, ei, et)
    mask = batch.box_mask
    loss_layout = ((eps - noise[keep]) ** 2).mean(dim=1)[mask[keep]].sum() / mask.sum()
    parts = {"layout": float(loss_layout.detach())}
    loss = loss_layout
    if with_shape:
        eps_s = net.shape(xs_t[keep], t_obj[keep], v, ei, et)
        smask = batch.shape_mask
        if bool(smask.any()):
            loss_shape = ((eps_s - noise_s[keep]) ** 2).mean(dim=1)[smask[keep]].sum() / smask.sum()
            loss = loss + loss_shape
            parts["shape"] = float(loss_shape.detach())
    return loss, parts


def _distributed():
    """``(rank, world_size)`` of an initialised process group with more than one process, else None."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return dist.get_rank(), dist.get_world_size()
    return None


def _lr_factor(step, total, warmup):
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def train_loop(
    net,
    ema,
    data_list,
    config: TrainingConfig,
    *,
    layout_schedule: DDPMSchedule,
    shape_schedule: DDPMSchedule | None,
    device,
    verbose: bool = False,
    checkpoint_path=None,
    checkpoint_every: int = 0,
    resume_state: dict | None = None,
    extra_state: dict | None = None,
    max_time_s: float | None = None,
):
    """Train ``net`` for ``config.steps`` optimiser steps on batches of ``config.batch_size`` scenes drawn from
    ``data_list`` (PyG ``Data`` from :func:`graphdiff.scene.codecs.scene_to_data`), updating the EMA copy ``ema``.

    Returns ``(history, state)``: the per-step losses and the final checkpoint state. ``resume_state`` (a loaded
    checkpoint, its configuration checked by the caller) restores weights, EMA, optimiser, step and generator.
    ``checkpoint_every`` > 0 writes ``checkpoint_path`` every that many steps (and at the end). ``max_time_s``
    stops early (the state records the step reached); it counts the CPU time of this process
    (``time.process_time``), so that a run on a shared machine gets the same amount of computation as on an idle
    one. Every draw comes from one generator seeded with ``config.seed``.

    Data-parallel training: when a ``torch.distributed`` process group with more than one process is initialised
    (``torchrun --nproc_per_node K script.py``, whose script calls ``EchoScene.fit``; gloo on CPU, NCCL on CUDA with
    ``device=f"cuda:{local_rank}"``), every process draws the same global batch and the same noise from the same
    generator, runs the networks on its share of the batch's scenes (scene ``j`` on rank ``j % K``), and the
    gradients and losses are summed over the processes before one identical optimiser step on every process. A step
    thus equals the one-process step on the same global batch up to float summation order (the scenes do not
    interact with LayerNorm or no normalisation; ``norm="batch"`` makes the statistics per shard). Only rank 0 writes
    checkpoints, and the ``max_time_s`` stop is rank 0's decision, broadcast.
    """
    from torch_geometric.data import Batch

    steps, batch_size, ema_decay, grad_clip = config.steps, config.batch_size, config.ema_decay, config.grad_clip
    seed, lr, weight_decay = config.seed, config.lr, config.weight_decay
    gen = torch.Generator().manual_seed(int(seed))
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
    warmup = max(1, min(200, steps // 10))
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, steps, warmup))
    start, history = 0, []
    if resume_state is not None:
        net.load_state_dict(resume_state["model"])
        ema.load_state_dict(resume_state["ema"])
        opt.load_state_dict(resume_state["optimizer"])
        sched.load_state_dict(resume_state["lr_scheduler"])
        gen.set_state(resume_state["generator"])
        start = int(resume_state["step"])
        history = list(resume_state.get("history", []))

    def state(step):
        out = {
            "training": dataclasses.asdict(config),
            "model": net.state_dict(),
            "ema": ema.state_dict(),
            "optimizer": opt.state_dict(),
            "lr_scheduler": sched.state_dict(),
            "generator": gen.get_state(),
            "step": step,
            "history": history,
        }
        out.update(extra_state or {})
        return out

    ddp = _distributed()
    rank = 0 if ddp is None else ddp[0]
    net.train()
    t0 = time.process_time()
    n = len(data_list)
    bar = tqdm(
        range(start, steps), initial=start, total=steps, disable=not verbose, desc="EchoScene training", mininterval=1.0
    )
    step = start
    for step in bar:
        idx = torch.randint(0, n, (min(batch_size, n),), generator=gen)
        batch = Batch.from_data_list([data_list[i] for i in idx.tolist()]).to(device)
        shard = None if ddp is None else torch.arange(len(idx)) % ddp[1] == ddp[0]
        loss, _parts = diffusion_loss(net, batch, layout_schedule, shape_schedule, generator=gen, shard=shard)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        # the shards' gradients and losses add up to those of the whole batch; one flat all-reduce instead of
        # DistributedDataParallel, whose wrapper covers one forward, while a step calls the node encoder and both
        # branches separately
        if ddp is not None:
            params = list(net.parameters())
            flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
            flat = torch.cat([flat, loss.detach().reshape(1)])
            torch.distributed.all_reduce(flat)
            offset = 0
            for p in params:
                p.grad = flat[offset : offset + p.numel()].view_as(p).clone()
                offset += p.numel()
            loss = flat[-1]
        for p in net.parameters():
            if p.grad is not None:
                torch.nan_to_num_(p.grad, nan=0.0, posinf=0.0, neginf=0.0)
        if grad_clip:
            torch.nn.utils.clip_grad_norm_(net.parameters(), grad_clip)
        opt.step()
        sched.step()
        with torch.no_grad():
            d = ema_decay if step >= warmup else 0.0
            for pe, p in zip(ema.parameters(), net.parameters()):
                pe.mul_(d).add_(p.detach(), alpha=1.0 - d)
            for be, b in zip(ema.buffers(), net.buffers()):
                be.copy_(b)
        history.append(float(loss.detach()))
        if verbose and step % 50 == 0:
            bar.set_postfix(loss=f"{sum(history[-50:]) / len(history[-50:]):.4f}")
        done = step + 1
        if checkpoint_path is not None and checkpoint_every and done % checkpoint_every == 0 and rank == 0:
            save_checkpoint(checkpoint_path, state(done))
        if max_time_s is not None:
            # on the training device: NCCL only broadcasts CUDA tensors
            stop = torch.tensor([float(time.process_time() - t0 > max_time_s)], device=device)
            if ddp is not None:  # one decision for all processes (rank 0's clock)
                torch.distributed.broadcast(stop, src=0)
            if bool(stop.item()):
                step = done
                break
    else:
        step = steps
    bar.close()
    final = state(step if step >= start else start)
    if checkpoint_path is not None and rank == 0:
        save_checkpoint(checkpoint_path, final)
    net.eval()
    return history, final
