"""graphdiff.scene.edits and EchoScene.resample: the satisfiability check on hand-made boxes, an edit on a
satisfiable toy graph satisfied after re-sampling, untouched nodes bit-identical. Tiny settings (seconds)."""

import numpy as np
import pytest

from graphdiff.data import scenes as S
from graphdiff.scene import EchoScene, edits
from graphdiff.scene import metrics as M

P = S.PREDICATE_TO_ID
C = S.CLASS_TO_ID


def _room(triples, classes=("bed", "nightstand", "wardrobe")):
    cls = np.array([C[c] for c in classes])
    return S.Scene("bedroom", cls, np.zeros((len(cls), 7)), np.asarray(triples, dtype=np.int64), np.full(len(cls), -1))


# three 0.4 m cubes: node 1 at z = -1, node 2 at z = +1 (node 0, the one placed, starts at the origin)
BOXES = np.array([[0.4, 0.4, 0.4, 0, 0, 0, 0], [0.4, 0.4, 0.4, 0, 0, -1.0, 0], [0.4, 0.4, 0.4, 0, 0, 1.0, 0]])
REGION = (-2.0, 2.0, -2.0, 2.0)


def test_satisfiable_between_two_objects_and_not_outside_both():
    # 0 right of 1 (z0 >= -0.95) and left of 2 (z0 <= 0.95): the band between them
    room = _room([[0, P["right"], 1], [0, P["left"], 2]])
    pts = edits.satisfying_positions(room, BOXES, 0, grid=21, region=REGION)
    assert len(pts) and (pts[:, 1] >= -0.95).all() and (pts[:, 1] <= 0.95).all()
    assert edits.satisfiable(room, BOXES, 0, region=REGION)
    # every accepted placement passes the evaluation rules, every rejected one fails one of them
    for x, z in pts[:5]:
        b = BOXES.copy()
        b[0, 3], b[0, 5] = x, z
        assert (M.relation_pass(b, room.triples) == 1).all()
    # 0 left of 1 (z0 <= -1.05) and right of 2 (z0 >= 1.05): no position
    room = _room([[0, P["left"], 1], [0, P["right"], 2]])
    assert not edits.satisfiable(room, BOXES, 0, region=REGION)
    # the same pair as object: "1 right of 0" means 0 left of 1, and with 0 right of 2 again impossible
    room = _room([[1, P["right"], 0], [0, P["right"], 2]])
    assert not edits.satisfiable(room, BOXES, 0, region=REGION)


def test_satisfiable_reads_close_by_and_the_overlap_rule():
    # close by 1 and close by 2 (1.6 m apart between faces): the corner distance 0.45 to both cannot hold ...
    room = _room([[0, P["close by"], 1], [0, P["close by"], 2]])
    assert not edits.satisfiable(room, BOXES, 0, region=REGION)
    # ... but it can with the two objects 0.8 m apart (a cube between them touches both within 0.45 m)
    near = BOXES.copy()
    near[1, 5], near[2, 5] = -0.4, 0.4
    assert edits.satisfiable(room, near, 0, region=REGION)
    # a left relation to a box covering the whole region's z range: always overlapping or outside the region
    wide = BOXES.copy()
    wide[1, :3] = [4.0, 0.4, 4.0]
    assert not edits.satisfiable(_room([[0, P["left"], 1]]), wide, 0, region=REGION)
    # no positional relation: every lattice point
    assert len(edits.satisfying_positions(_room([[0, P["bigger than"], 1]]), BOXES, 0, grid=5, region=REGION)) == 25


def test_satisfiable_bad_input():
    room = _room([[0, P["left"], 1]])
    with pytest.raises(ValueError, match="boxes"):
        edits.satisfiable(room, BOXES[:2], 0)
    with pytest.raises(ValueError, match="node"):
        edits.satisfiable(room, BOXES, 5)
    with pytest.raises(ValueError, match="region"):
        edits.satisfiable(room, BOXES, 0, region=(1, 0, 0, 1))
    with pytest.raises(ValueError, match="grid"):
        edits.satisfiable(room, BOXES, 0, grid=1)


@pytest.fixture(scope="module")
def fitted():
    tiny = dict(class_dim=8, pred_dim=8, latent_dim=8, gcn_hidden=16, proj_dim=8, context_dim=8, time_dim=16)
    tiny.update(width=32, num_blocks=2, echo_layers=2, encoder_layers=1, shape_dim=8, batch_size=8, verbose=False)
    return EchoScene(steps=40, seed=0, sample_steps=20, **tiny).fit(S.generate_scenes(40, seed=0))


def _reachable(model, room):
    """The floor intersected with the centres the model can place (its box codec's bounds of the room type)."""
    lo, hi = model.box_codec_.bounds_[room.room_type]
    f = room.boxes[room.classes == S.FLOOR_ID][0]
    x0, x1 = max(f[3] - f[0] / 2, lo[3]), min(f[3] + f[0] / 2, hi[3])
    z0, z1 = max(f[5] - f[2] / 2, lo[5]), min(f[5] + f[2] / 2, hi[5])
    return (x0, x1, z0, z1)


def test_satisfiable_edit_is_satisfied_after_clamped_resampling_and_untouched_nodes_are_bit_identical(fitted):
    graphs = S.generate_scenes(6, seed=31)
    before = fitted.sample(graphs, seed=0)
    edited, nodes = [], []
    for g in graphs:
        k = int(np.flatnonzero(np.isin(g.triples[:, 1], [1, 2]))[0])
        e = edits.flip_relation(g, k, drop_conflicts=True)  # the subject's other left/right triples dropped
        edited.append(e)
        nodes.append(int(e.extra["edited_nodes"][0]))
    sat = [edits.satisfiable(e, b.boxes, n, region=_reachable(fitted, b)) for e, b, n in zip(edited, before, nodes)]
    assert sum(sat) >= 1  # 1 of 6 here; the plain re-sampling (no edit guidance, 1 draw) misses it
    after = fitted.resample(before, edited, mode="clamp", seed=1)
    plain = fitted.resample(before, edited, mode="clamp", seed=1, edit_guidance=0.0, candidates=1)
    for old, new, e, n, ok in zip(before, after, edited, nodes, sat):
        k = int(e.extra["changed_triples"][0])
        if ok:
            assert M.relation_pass(new.boxes, e.triples[k : k + 1])[0] == 1.0
        keep = (e.classes != S.SCENE_ID) & (np.arange(e.num_nodes) != n)
        assert np.array_equal(new.boxes[keep], old.boxes[keep])  # bit for bit, not up to round-off
        assert np.array_equal(new.extra["shape_code"][keep], old.extra["shape_code"][keep])
        assert np.array_equal(new.extra["box_normalized"][keep], old.extra["box_normalized"][keep])
        assert not np.array_equal(new.boxes[n], old.boxes[n])
        assert 0 <= new.extra["candidate"] < 4
    for old, new, e, n in zip(before, plain, edited, nodes):
        keep = (e.classes != S.SCENE_ID) & (np.arange(e.num_nodes) != n)
        assert np.array_equal(new.boxes[keep], old.boxes[keep])


def test_resample_edit_parameters_are_checked(fitted):
    g = S.generate_scenes(1, seed=2)
    before = fitted.sample(g, seed=0)
    e = [edits.flip_relation(g[0], int(np.flatnonzero(np.isin(g[0].triples[:, 1], [1, 2]))[0]))]
    for kwargs, name in (
        ({"candidates": 0}, "candidates"),
        ({"edit_guidance": -1.0}, "edit_guidance"),
        ({"edit_guidance_steps": 0}, "edit_guidance_steps"),
    ):
        with pytest.raises(ValueError, match=name):
            fitted.resample(before, e, **kwargs)
