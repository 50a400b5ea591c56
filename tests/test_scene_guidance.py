"""graphdiff.scene.guidance: the relation loss at the evaluation thresholds, the guidance step lowering it, and
guided sampling in the estimator."""

import numpy as np
import pytest
import torch

from graphdiff.data import scenes as S
from graphdiff.scene import EchoScene, guidance
from graphdiff.scene import metrics as M
from graphdiff.scene.codecs import BoxCodec

P = S.PREDICATE_TO_ID


def _boxes(*rows):
    return torch.tensor([[*r, 0.0] if len(r) == 6 else r for r in rows], dtype=torch.float64)


@pytest.mark.parametrize(
    "pred, a, b",
    [
        ("left", (0.01, 0.5, 0.01, 0, 0, -0.2), (0.01, 0.5, 0.01, 0, 0, 0)),
        ("front", (0.01, 0.5, 0.01, 0.2, 0, 0), (0.01, 0.5, 0.01, 0, 0, 0)),
        ("bigger than", (1.0, 1.0, 1.0, 0, 0, 0), (0.5, 0.5, 0.5, 2, 0, 0)),
        ("taller than", (0.5, 1.5, 0.5, 0, 0, 0), (0.5, 1.0, 0.5, 2, 0, 0)),
        ("standing on", (0.5, 0.5, 0.5, 0, 0.01, 0), (3.0, 0.0, 3.0, 0, 0, 0)),
        ("close by", (0.5, 0.5, 0.5, 0, 0, 0), (0.5, 0.5, 0.5, 0.8, 0, 0)),
        ("symmetrical to", (0.5, 0.5, 0.5, 1.0, 0, 0.5), (0.5, 0.5, 0.5, -1.1, 0, 0.5)),
    ],
)
def test_relation_loss_is_zero_exactly_where_the_rule_holds_with_margin(pred, a, b):
    boxes = _boxes(a, b)
    t = torch.tensor([[0, P[pred], 1]])
    assert M.relation_pass(boxes.numpy(), t.numpy())[0] == 1.0
    assert float(guidance.relation_loss(boxes, t)[0]) == 0.0
    # the same pair with subject and object exchanged fails the rule (or for the symmetric ones, moved away)
    if pred in ("close by", "symmetrical to", "standing on"):
        far = boxes.clone()
        far[0, 3] += 3.0
        far[0, 4] += 0.5 if pred == "standing on" else 0.0
        assert M.relation_pass(far.numpy(), t.numpy())[0] == 0.0 and float(guidance.relation_loss(far, t)[0]) > 0
    else:
        rev = torch.tensor([[1, P[pred], 0]])
        assert M.relation_pass(boxes.numpy(), rev.numpy())[0] == 0.0
        assert float(guidance.relation_loss(boxes, rev)[0]) > 0


def test_directional_loss_counts_the_overlap():
    # left by 0.2 m (passes the offset rule) but the boxes overlap by far more than 0.3 of the smaller one
    boxes = _boxes((1.0, 0.5, 1.0, 0, 0, -0.2), (1.0, 0.5, 1.0, 0, 0, 0))
    t = torch.tensor([[0, P["left"], 1]])
    assert M.relation_pass(boxes.numpy(), t.numpy())[0] == 0.0
    assert float(guidance.relation_loss(boxes, t)[0]) > 0.3


def test_guidance_step_lowers_the_relation_loss_and_keeps_fixed_nodes():
    room = S.generate_scenes(1, seed=4)[0]
    codec = BoxCodec().fit([room])
    lo, hi = (torch.as_tensor(v, dtype=torch.float32).expand(room.num_nodes, 6) for v in codec.bounds_[room.room_type])
    x0 = torch.as_tensor(codec.encode(room.boxes, room.room_type), dtype=torch.float32)
    x0 = (x0 + 0.3 * torch.randn(x0.shape, generator=torch.Generator().manual_seed(0))).clamp(-1, 1)
    triples = torch.as_tensor(room.triples)

    def loss(x):
        raw = (x[:, :6] + 1) / 2 * (hi - lo) + lo
        return float(guidance.relation_loss(torch.cat([raw, torch.zeros(len(x), 1)], 1), triples).sum())

    moved = guidance.guide_x0(x0, lo, hi, triples, strength=0.005)
    assert loss(moved) < 0.75 * loss(x0)
    movable = torch.zeros(room.num_nodes, dtype=torch.bool)
    movable[0] = True
    one = guidance.guide_x0(x0, lo, hi, triples, strength=0.005, movable=movable)
    assert torch.equal(one[1:], x0[1:]) and not torch.equal(one[0], x0[0])
    assert torch.equal(guidance.guide_x0(x0, lo, hi, triples, strength=0.0), x0)


TINY = dict(class_dim=8, pred_dim=8, latent_dim=8, gcn_hidden=8, echo_layers=1, encoder_layers=1, proj_dim=4)
TINY.update(context_dim=8, time_dim=8, width=16, num_blocks=1, shape=False, sample_steps=10, verbose=False)


def test_guided_sampling_satisfies_more_relations():
    model = EchoScene(steps=30, batch_size=8, **TINY).fit(S.generate_scenes(30, seed=0))
    graphs = S.generate_scenes(12, seed=5)
    plain = M.relation_accuracy(model.sample(graphs, seed=1))["mean"]
    model.set_params(guidance=0.005, guidance_steps=5)
    guided = M.relation_accuracy(model.sample(graphs, seed=1))["mean"]
    assert guided > plain + 0.05
    with pytest.raises(ValueError, match="guidance"):
        model.sample(graphs, sampler="euler")
    model.set_params(guidance=-1.0)
    with pytest.raises(ValueError, match="`guidance`"):
        model.sample(graphs)
    assert np.isfinite(model.set_params(guidance=0.0).sample(graphs[:1])[0].boxes).all()
