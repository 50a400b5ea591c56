"""Mini-batch ERASE (graphdiff.erase.minibatch): the sampler, bipartite GAT blocks, agreement with the full-batch fit
when the batch is the whole graph, resumable mini-batch fits, bad input and the early memory check."""

import pytest
import torch

from graphdiff.data import noise, synthetic
from graphdiff.erase import ERASE, ERASEEncoder
from graphdiff.erase import minibatch as mb
from graphdiff.nn.sparse_attention import CSRGraph

KW = dict(hidden_channels=16, out_channels=16, heads=2, epochs=6, patience=None, verbose=False)


@pytest.fixture(scope="module")
def problem():
    data = synthetic.contextual_sbm(180, 3, num_features=8, num_train_per_class=10, num_val_per_class=10, seed=2)
    y = noise.pair_noise(data.y, 0.3, mask=data.train_mask | data.val_mask, seed=0).y_noisy
    return data, y


def _in_neighbours(edge_index, node):
    src, dst = edge_index
    return set(src[(dst == node) & (src != node)].tolist())


@pytest.mark.parametrize("fanout", [None, 1, 3])
def test_sampler_takes_distinct_neighbours_up_to_the_fanout(problem, fanout):
    data, _ = problem
    sampler = mb.NeighborSampler(data.edge_index, data.num_nodes)
    targets = torch.tensor([5, 0, 17, 3])
    torch.manual_seed(0)
    nodes, (block1, block2) = sampler.sample(targets, [fanout, 2])
    assert block2.num_targets == 4 and block1.num_targets == block2.num_nodes
    assert block1.num_nodes == nodes.numel() == nodes.unique().numel()
    sources2 = nodes[: block2.num_nodes]
    assert torch.equal(sources2[:4], targets)  # targets first, in their order
    for t in range(4):
        picked = block2.src[block2.dst == t]
        ids = sources2[picked].tolist()
        assert ids.count(int(targets[t])) == 1  # exactly one self-loop
        others = set(ids) - {int(targets[t])}
        assert len(others) == len(ids) - 1  # no neighbour twice
        full = _in_neighbours(data.edge_index, int(targets[t]))
        assert others <= full
        assert len(others) == (len(full) if fanout is None else min(fanout, len(full)))


def test_block_gat_equals_the_full_graph_rows(problem):
    data, _ = problem
    torch.manual_seed(0)
    enc = ERASEEncoder(8, 16, 16, heads=2, dropout=0.0).eval()
    z_full = enc(data.x, data.edge_index)
    sampler = mb.NeighborSampler(data.edge_index, data.num_nodes)
    targets = torch.tensor([7, 1, 42, 99, 150])
    nodes, blocks = sampler.sample(targets, [None, None])
    z = enc(data.x[nodes], None, blocks)
    assert torch.allclose(z, z_full[targets], atol=1e-6)
    # layer-wise inference in chunks gives every row, training nodes first
    seen = torch.zeros(data.num_nodes, 16)
    order = []
    mb.layerwise_inference(
        enc, data.x, sampler, 37, lambda ids, zc: (seen.__setitem__(ids, zc), order.append(ids)), first_ids=targets
    )
    assert torch.equal(order[0], targets)
    assert torch.allclose(seen, z_full, atol=1e-6)
    block = CSRGraph.block(torch.tensor([0, 1]), torch.tensor([0, 0]), 2, 1, self_loops=False)
    assert block.matrix(torch.ones(2)).shape == (1, 2)


def test_one_batch_of_all_nodes_with_all_neighbours_equals_the_full_batch_fit(problem):
    data, y = problem
    kw = {**KW, "dropout": 0.0}  # the full-batch pseudo-labels come from the training forward: equal without dropout
    full = ERASE(**kw).fit(data, y, data.train_mask, data.val_mask)
    mini = ERASE(**kw, batch_size=data.num_nodes, num_neighbors=None).fit(data, y, data.train_mask, data.val_mask)
    for (key, a), b in zip(full.encoder_.state_dict().items(), mini.encoder_.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6), key
    assert full.best_epoch_ == mini.best_epoch_
    for kind in ("probe", "direct"):
        assert torch.equal(full.predict(kind), mini.predict(kind))
    for a, b in zip(full.history_, mini.history_):
        assert a.keys() == b.keys()
        assert a["loss"] == pytest.approx(b["loss"], abs=1e-5)
        assert a["val_acc"] == b["val_acc"]
    assert torch.allclose(full.embed(), mini.embed(), atol=1e-6)


def test_sampled_minibatch_fit_trains_and_resumes_exactly(problem, tmp_path):
    data, y = problem
    kw = {**KW, "batch_size": 64, "num_neighbors": (3, 2)}
    ref = ERASE(**kw).fit(data, y, data.train_mask, data.val_mask)
    assert len(ref.history_) == KW["epochs"] and ref.predict().shape == (data.num_nodes,)
    assert ref.embed().shape == (data.num_nodes, 16)
    assert ref.history_[-1]["loss"] < ref.history_[0]["loss"]

    class Stop(Exception):
        pass

    def stop(epoch, record):
        if epoch == 2:
            raise Stop

    path = tmp_path / "mb.pt"
    with pytest.raises(Stop):
        ERASE(**kw).fit(data, y, data.train_mask, data.val_mask, checkpoint=path, callback=stop)
    resumed = ERASE(**kw).fit(data, y, data.train_mask, data.val_mask, checkpoint=path)
    for (key, a), b in zip(ref.encoder_.state_dict().items(), resumed.encoder_.state_dict().values()):
        assert torch.equal(a, b), key
    assert ref.history_ == resumed.history_
    assert torch.equal(ref.predict(), resumed.predict())


@pytest.mark.parametrize(
    "params, match",
    [
        ({"batch_size": 0}, "batch_size"),
        ({"batch_size": 181}, r"`batch_size` \(181\) exceeds the number of nodes \(180\)"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"batch_size": 16, "encoder": "gcn"}, "needs encoder='gat'"),
        ({"batch_size": 16, "num_neighbors": (3,)}, "num_neighbors"),
        ({"batch_size": 16, "num_neighbors": (3, 0)}, "num_neighbors"),
        ({"batch_size": 16, "num_neighbors": "all"}, "num_neighbors"),
    ],
)
def test_bad_minibatch_parameters(problem, params, match):
    data, y = problem
    with pytest.raises(ValueError, match=match):
        ERASE(**{**KW, **params}).fit(data, y, data.train_mask, data.val_mask)


def test_full_batch_fit_that_would_not_fit_fails_early_with_an_estimate(problem, monkeypatch):
    data, y = problem
    monkeypatch.setattr(mb, "available_memory_bytes", lambda device: 1000)
    with pytest.raises(MemoryError, match=r"needs about .* GiB but .* available .*batch_size="):
        ERASE(**KW).fit(data, y, data.train_mask, data.val_mask)
    ERASE(**{**KW, "epochs": 1, "batch_size": 90}).fit(data, y, data.train_mask, data.val_mask)  # no check
    est = mb.full_batch_memory_estimate(10**6, 10**7, 64, 256, 512, 8)
    assert 15 * 2**30 < est < 30 * 2**30  # tens of GB at 1e6 nodes


def test_keyed_dropout_hashes_on_32_bit_lanes_equal_the_integer_definition():
    # the tensor hash runs on int32 lanes (products wrap modulo 2**32, shifts masked); it must give the bits of
    # the Python-integer definition, values at and above 2**31 included, and the mask those bits define
    gen = torch.Generator().manual_seed(0)
    values = torch.cat([torch.randint(0, 2**32, (200,), generator=gen), torch.tensor([0, 2**31 - 1, 2**31, 2**32 - 1])])
    assert mb._mix32(values.clone()).tolist() == [mb._mix32(int(v)) for v in values]
    nodes, p, key = torch.tensor([3, 2**33 + 5, 17]), 0.3, 12345
    x = torch.rand(3, 40, generator=gen) + 0.5
    threshold = round(p * 2**32)
    for i, node in enumerate(nodes.tolist()):
        node_hash = mb._mix32(mb._mix32((node & mb._M32) ^ key) ^ (node >> 32))
        keep = [mb._mix32((node_hash + f * mb._GOLDEN) & mb._M32) >= threshold for f in range(40)]
        expected = x[i] * torch.tensor(keep, dtype=x.dtype) / (1 - p)
        assert torch.allclose(mb.keyed_dropout(x, nodes, p, key)[i], expected)
    # rows are hashed in blocks: a batch taller than one block gives each row the mask it gets alone
    tall = torch.ones(mb._DROPOUT_BLOCK // 40 * 3 + 7, 40)
    ids = torch.arange(tall.size(0)) * 7919
    full = mb.keyed_dropout(tall, ids, 0.5, key=9)
    assert torch.equal(full[-3:], mb.keyed_dropout(tall[-3:], ids[-3:], 0.5, key=9))
    assert abs(float((full == 0).float().mean()) - 0.5) < 0.01
