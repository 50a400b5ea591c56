"""Data-parallel mini-batch ERASE (graphdiff.erase.distributed): two gloo processes spawned by the test itself equal
one process on the same global batches, bad input fails clearly, and the torchrun entry point runs end to end.

Small graphs, no timed assertions; the processes use one thread each.
"""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from graphdiff.data import noise, synthetic
from graphdiff.erase import ERASE
from graphdiff.erase import distributed as erase_dist
from graphdiff.erase import minibatch as mb

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed is not available")

ROOT = Path(__file__).resolve().parent.parent
WORLD = 2
# 99 nodes in global batches of 20: five steps per epoch, four batches of 20 and one of 19 (shards of 10 and 9).
# Dropout on and sampled neighbours (the nodes have more than 3), so that both must be keyed for the runs to agree.
# A weight decay comparable to the gradients makes Adam's steps depend on the gradients' scale (Adam alone is
# invariant to it), so that a gradient off by the world size would be seen (checked in the test).
WEIGHT_DECAY = 0.2
KW = dict(
    hidden_channels=16,
    out_channels=16,
    heads=2,
    dropout=0.5,
    weight_decay=WEIGHT_DECAY,
    batch_size=20,
    num_neighbors=(3, 3),
    epochs=1,
    patience=None,
    seed=3,
    verbose=False,
)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """One thread, as in the spawned processes: tiny fits are many times slower with several threads on busy
    cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _problem():
    data = synthetic.contextual_sbm(99, 3, num_features=8, num_train_per_class=10, num_val_per_class=10, seed=2)
    y = noise.pair_noise(data.y, 0.3, mask=data.train_mask | data.val_mask, seed=0).y_noisy
    return data, y


def _tiny_problem():
    """9 nodes in global batches of 2: five steps, the last of one node, so that one process embeds none."""
    data = synthetic.contextual_sbm(9, 3, avg_degree=4, num_features=8, num_train_per_class=2, num_val_per_class=0)
    return data, data.y


def _fit(data, y, checkpoint=None, callback=None, **params):
    """A fit without validation nodes: the encoder keeps the weights of the last step."""
    return ERASE(**{**KW, **params}).fit(data, y, data.train_mask, checkpoint=checkpoint, callback=callback)


class _Stop(Exception):
    pass


def _stop_after_first_epoch(epoch, record):
    if epoch == 0:
        raise _Stop


def _errors(data, y) -> dict:
    """The messages of the fits a 2-process group refuses (raised before any collective, on every process)."""
    out = {}
    for name, params in {"indivisible": {"batch_size": 21}, "full_batch": {"batch_size": None}}.items():
        try:
            _fit(data, y, **params)
        except ValueError as error:
            out[name] = str(error)
    return out


def _sharded_inference(encoder, data, parallel="group"):
    """The chunks this process embeds in a (sharded) inference pass, and all nodes' embeddings after the sum."""
    encoder.eval()
    sampler = mb.NeighborSampler(data.edge_index, data.num_nodes)
    group = mb.data_parallel_group(KW["batch_size"], torch.device("cpu")) if parallel == "group" else None
    train_idx = data.train_mask.nonzero().flatten()
    z_all = torch.zeros(data.num_nodes, KW["out_channels"])
    seen = []

    def on_chunk(ids, z):
        seen.append(ids.clone())
        z_all[ids] = z

    mb.layerwise_inference(encoder, data.x, sampler, KW["batch_size"], on_chunk, first_ids=train_idx, parallel=group)
    if group is not None:
        group.sum_rows(z_all, train_idx)
    return seen, z_all


def _worker(rank: int, path: str):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{path}/rendezvous", rank=rank, world_size=WORLD)
    try:
        data, y = _problem()
        model = _fit(data, y, checkpoint=os.path.join(path, f"ckpt_rank{rank}.pt"))
        tiny = _fit(*_tiny_problem(), batch_size=2)
        # interrupted after the first of two epochs; the rerun resumes from rank 0's file (rank 1's path has none)
        resume_path = os.path.join(path, f"resume_rank{rank}.pt")
        try:
            _fit(data, y, epochs=2, checkpoint=resume_path, callback=_stop_after_first_epoch)
        except _Stop:
            pass
        resumed = _fit(data, y, epochs=2, checkpoint=resume_path)
        seen, z_all = _sharded_inference(model.encoder_, data)
        torch.save(
            {
                "weights": model.encoder_.state_dict(),
                "history": model.history_,
                "predict": model.predict(),
                "tiny": tiny.encoder_.state_dict(),
                "resumed": resumed.encoder_.state_dict(),
                "resumed_history": resumed.history_,
                "errors": _errors(data, y),
                "inference_chunks": seen,
                "inference_z": z_all,
            },
            os.path.join(path, f"rank{rank}.pt"),
        )
    finally:
        dist.destroy_process_group()


def _assert_close_weights(a: dict, b: dict, atol: float):
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0.0, atol=atol, msg=key)


def _max_difference(a: dict, b: dict) -> float:
    return max(float((a[k] - b[k]).abs().max()) for k in a)


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    path = tmp_path_factory.mktemp("erase_ddp")
    mp.start_processes(_worker, args=(str(path),), nprocs=WORLD, start_method="spawn", join=True)
    return path, [torch.load(path / f"rank{r}.pt", weights_only=False) for r in range(WORLD)]


def test_two_process_fit_equals_one_process_on_the_same_global_batches(two_processes):
    _, ranks = two_processes
    data, y = _problem()
    single = _fit(data, y)
    ref = single.encoder_.state_dict()
    for out in ranks:  # after 5 steps, with dropout and sampled neighbours, both processes hold the 1-process weights
        _assert_close_weights(out["weights"], ref, atol=1e-5)
        assert [h["loss"] for h in out["history"]] == pytest.approx([h["loss"] for h in single.history_], rel=1e-5)
        assert torch.equal(out["predict"], single.predict())
    # the weights moved in those 5 steps: the agreement is not that of two initialisations
    assert _max_difference(ref, _fit(data, y, lr=1e-9).encoder_.state_dict()) > 1e-3
    # A gradient world-size times too large or too small would show: Adam on 2 g + wd w takes the steps of Adam on
    # g + (wd / 2) w, and those differ from the steps taken by far more than the tolerance
    halved = _fit(data, y, weight_decay=WEIGHT_DECAY / 2).encoder_.state_dict()
    doubled = _fit(data, y, weight_decay=WEIGHT_DECAY * 2).encoder_.state_dict()
    assert min(_max_difference(halved, ref), _max_difference(doubled, ref)) > 1e-3
    # another seed draws other batches, neighbours and masks: the agreement is not that of any two fits
    assert _max_difference(_fit(data, y, seed=4).encoder_.state_dict(), ref) > 1e-3


def test_the_inference_pass_is_sharded_and_sums_to_the_one_process_pass(two_processes):
    _, ranks = two_processes
    data, y = _problem()
    single = _fit(data, y)
    one_chunks, one_z = _sharded_inference(single.encoder_, data, parallel=None)
    train_idx = data.train_mask.nonzero().flatten()
    # every process embeds the training chunk (for the prototypes) and every other one of the rest
    others = [out["inference_chunks"][1:] for out in ranks]
    assert all(torch.equal(out["inference_chunks"][0], train_idx) for out in ranks)
    assert [len(o) for o in others] == [2, 2]  # 69 other nodes in chunks of 20: 4 chunks, rank 0 takes 0 and 2
    assert sum(len(o) for o in others) == len(one_chunks) - 1
    covered = torch.cat([c for o in others for c in o] + [train_idx]).sort().values
    assert torch.equal(covered, torch.arange(data.num_nodes))  # every node once
    for out in ranks:  # the summed rows are the one-process embeddings (the training rows counted once)
        torch.testing.assert_close(out["inference_z"], one_z, rtol=0.0, atol=1e-5)


def test_a_step_in_which_one_process_has_no_node(two_processes):
    _, ranks = two_processes
    single = _fit(*_tiny_problem(), batch_size=2)
    for out in ranks:
        _assert_close_weights(out["tiny"], single.encoder_.state_dict(), atol=1e-5)


def test_only_rank_zero_writes_and_a_resumed_data_parallel_fit_equals_an_uninterrupted_one(two_processes):
    path, ranks = two_processes
    assert (path / "ckpt_rank0.pt").exists() and not (path / "ckpt_rank1.pt").exists()
    assert (path / "resume_rank0.pt").exists() and not (path / "resume_rank1.pt").exists()
    data, y = _problem()
    uninterrupted = _fit(data, y, epochs=2)
    for out in ranks:
        _assert_close_weights(out["resumed"], uninterrupted.encoder_.state_dict(), atol=1e-5)
        assert len(out["resumed_history"]) == 2


def test_bad_input_in_a_process_group(two_processes):
    _, ranks = two_processes
    for out in ranks:
        errors = out["errors"]
        assert "`batch_size` (21) must be divisible by the world size (2)" in errors["indivisible"]
        assert "pass `batch_size`" in errors["full_batch"]


def test_keyed_draws_of_a_node_do_not_depend_on_its_batch():
    data, _ = _problem()
    sampler = mb.NeighborSampler(data.edge_index, data.num_nodes)
    batch = torch.tensor([5, 0, 17, 3, 42, 60])
    shard = batch[3:]
    nodes, blocks = sampler.sample(batch, (3, 2), key=7)
    nodes_s, blocks_s = sampler.sample(shard, (3, 2), key=7)

    def in_edges(nodes, block, target):  # global (source) ids of a global target's sampled in-edges
        sources = nodes[: block.num_nodes]
        t = int((sources[: block.num_targets] == target).nonzero())
        return sorted(sources[block.src[block.dst == t]].tolist())

    for target in shard.tolist():  # the shard's computation graph is the restriction of the batch's
        assert in_edges(nodes, blocks[1], target) == in_edges(nodes_s, blocks_s[1], target)
        for hop1 in in_edges(nodes_s, blocks_s[1], target):
            assert in_edges(nodes, blocks[0], hop1) == in_edges(nodes_s, blocks_s[0], hop1)
    other = sampler.sample(batch, (3, 2), key=8)[0]
    assert not torch.equal(other, nodes)  # another key samples other neighbours (the nodes have more than 3)
    # dropout: the same mask for the same node in any batch, dense or sparse features alike
    x = data.x[nodes]
    dense = mb.keyed_dropout(x, nodes, 0.5, key=11)
    position = {int(n): i for i, n in enumerate(nodes)}
    rows = torch.tensor([position[int(n)] for n in nodes_s])
    assert torch.equal(mb.keyed_dropout(data.x[nodes_s], nodes_s, 0.5, key=11), dense[rows])
    assert torch.equal(mb.keyed_dropout(x.to_sparse(), nodes, 0.5, key=11).to_dense(), dense)
    assert 0.4 < float((dense == 0).float().mean()) < 0.6


@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 100}, r"`batch_size` \(100\) exceeds the number of nodes \(99\)"),
    ],
)
def test_batch_size_zero_or_larger_than_the_graph(params, match):
    data, y = _problem()
    with pytest.raises(ValueError, match=match):
        _fit(data, y, **params)


def test_unknown_backend(capsys):
    with pytest.raises(ValueError, match=r"`backend` must be one of 'auto', 'gloo', 'nccl'; got 'mpi2'"):
        erase_dist.init_process_group("mpi2")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="nccl.*CUDA"):
            erase_dist.init_process_group("nccl")
    assert not dist.is_initialized()
    with pytest.raises(SystemExit) as exit_info:  # the entry point: an argparse error, before any work
        erase_dist.main(["--synthetic", "60", "--backend", "mpi2"])
    assert exit_info.value.code == 2
    assert "--backend: invalid choice: 'mpi2'" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_entry_point_runs_on_two_processes_with_torchrun_environment(tmp_path):
    output = tmp_path / "result.json"
    args = [sys.executable, "-m", "graphdiff.erase.distributed", "--synthetic", "300", "--batch-size", "64"]
    args += ["--epochs", "2", "--hidden-channels", "16", "--out-channels", "16", "--heads", "2"]
    args += ["--backend", "gloo", "--output", str(output), "--quiet"]
    port = _free_port()
    procs = []
    for rank in range(WORLD):
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "RANK": str(rank),
            "LOCAL_RANK": str(rank),
            "WORLD_SIZE": str(WORLD),
            "LOCAL_WORLD_SIZE": str(WORLD),
            "MASTER_ADDR": "127.0.0.1",
            "MASTER_PORT": str(port),
            "OMP_NUM_THREADS": "1",
        }
        procs.append(subprocess.Popen(args, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err.decode()[-3000:]
    result = json.loads(output.read_text())
    assert result["world_size"] == WORLD and result["epochs"] == 2 and result["batch_size"] == 64
    assert result["dataset"] == "contextual_sbm" and result["num_nodes"] == 300
    assert 0.0 <= result["test_accuracy"] <= 1.0 and result["seconds"] > 0
    # the second epoch timed; CPU summed over both processes, wall and memory their maxima
    assert result["timed_epochs"] == 1 and result["epoch_cpu_s"] > 0 and result["epoch_wall_s"] > 0
    assert result["peak_mem_mb"] > 100
    assert list(tmp_path.iterdir()) == [output]  # rank 0 alone wrote
