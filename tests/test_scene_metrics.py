"""graphdiff.scene.metrics: SG-FRONT evaluation rules at their thresholds, ground-truth ceilings, layout MMD and
shape metrics."""

import numpy as np
import pytest

from graphdiff.data import scenes as S
from graphdiff.scene import metrics as M

P = S.PREDICATE_TO_ID


def _pass(a, b, pred):
    return M.relation_pass(np.array([a, b], float), np.array([[0, P[pred], 1]]))[0]


def B(l=0.5, h=0.5, w=0.5, x=0.0, y=0.0, z=0.0):
    return [l, h, w, x, y, z, 0.0]


@pytest.mark.parametrize("dz, left, right", [(-0.051, 1, 0), (-0.049, 0, 0), (0.049, 0, 0), (0.051, 0, 1)])
def test_left_right_rule(dz, left, right):
    # thin boxes so that they never overlap
    a, b = B(l=0.01, w=0.01, z=dz), B(l=0.01, w=0.01)
    assert _pass(a, b, "left") == left
    assert _pass(a, b, "right") == right


@pytest.mark.parametrize("dx, front, behind", [(-0.051, 0, 1), (-0.049, 1, 1), (0.049, 1, 1), (0.051, 1, 0)])
def test_front_behind_lenient_band(dx, front, behind):
    a, b = B(l=0.01, w=0.01, x=dx), B(l=0.01, w=0.01)
    assert _pass(a, b, "front") == front
    assert _pass(a, b, "behind") == behind


def test_strict_iou_fails_overlapping_pairs_with_the_axis_swap():
    # left by 0.2 m along z, but the eval box lays l along z: l = 1 overlaps a lot -> fail; w = 1 (along x) -> pass
    a_long_l, b_long_l = B(l=1.0, w=0.1, z=-0.2), B(l=1.0, w=0.1)
    assert _pass(a_long_l, b_long_l, "left") == 0
    a_long_w, b_long_w = B(l=0.1, w=1.0, z=-0.2), B(l=0.1, w=1.0)
    assert _pass(a_long_w, b_long_w, "left") == 1


@pytest.mark.parametrize("ratio, bigger", [(1.0 / 0.84, 1), (1.0 / 0.86, 0)])
def test_bigger_rule(ratio, bigger):
    # (V_s - V_o) / V_s = 1 - 1/ratio: 0.16 passes >= 0.15, 0.14 fails
    a, b = B(l=ratio, h=1, w=1, x=5), B(l=1, h=1, w=1)
    assert _pass(a, b, "bigger than") == bigger
    assert _pass(b, a, "smaller than") == 1  # (1 - ratio)/1 <= -0.15 in both cases


@pytest.mark.parametrize("top_a, taller", [(1.0 / 0.89, 1), (1.0 / 0.91, 0)])
def test_taller_rule(top_a, taller):
    a, b = B(h=top_a, x=5), B(h=1.0)
    assert _pass(a, b, "taller than") == taller


@pytest.mark.parametrize("dy, ok", [(0.039, 1), (0.041, 0)])
def test_standing_on_compares_bottoms(dy, ok):
    assert _pass(B(y=dy), B(y=0.0, h=0.75), "standing on") == ok


@pytest.mark.parametrize("gap, ok", [(0.449, 1), (0.451, 0)])
def test_close_by_corner_distance(gap, ok):
    a, b = B(l=1, w=1, z=0.0), B(l=1, w=1, z=1.0 + gap)
    assert _pass(a, b, "close by") == ok


@pytest.mark.parametrize("off, ok", [(0.44, 1), (0.46, 0)])
def test_symmetry_radius(off, ok):
    assert _pass(B(x=1.0, z=1.0), B(x=-1.0, z=1.0 + off), "symmetrical to") == ok


@pytest.mark.parametrize("placement", ["free", "anchored"])
def test_ground_truth_ceiling(placement):
    test = S.generate_scenes(150, seed=10_000, placement=placement)
    acc = M.relation_accuracy(test)
    for g in ("left_right", "front_behind", "bigger_smaller", "taller_shorter"):
        assert acc[g] >= 0.95, (g, acc[g])
    assert acc["counts"]["left_right"] > 500
    # breaking the layout (all objects at the room centre) breaks the left/right accuracy
    broken = []
    for sc in test:
        b = sc.copy()
        b.boxes[:, 3] = 0.0
        b.boxes[:, 5] = 0.0
        broken.append(b)
    assert M.relation_accuracy(broken)["left_right"] < 0.05


def test_layout_mmd_floor_and_sensitivity():
    a = S.generate_scenes(80, seed=1)
    b = S.generate_scenes(80, seed=2)
    same = M.layout_mmd(a, b)
    moved = []
    for sc in a:
        m = sc.copy()
        m.boxes[:, [3, 5]] *= 0.3  # squash every room towards its centre
        # (squashing x alone moved the MMD by only ~0.008 once the groups spread over the room, placement="free")
        moved.append(m)
    assert M.layout_mmd(moved, b) > same + 0.01
    assert abs(same) < 0.01


def test_shape_metrics_identical_and_different_sets():
    cls = np.repeat([S.CLASS_TO_ID["chair"]], 8)
    grids = S.shape_grids(cls, np.arange(8))
    # identical sets: the two sides get independent point draws, so the distances are the sampling noise only
    res = M.shape_metrics({"chair": grids}, {"chair": grids}, num_points=64)
    assert 0.3 <= res["nna_cd"] <= 0.7 and res["cov_cd"] >= 0.5
    tables = S.shape_grids(np.repeat([S.CLASS_TO_ID["table"]], 8), np.arange(8))
    other = M.shape_metrics({"chair": tables}, {"chair": grids}, num_points=64)
    assert other["mmd_cd"] > 2 * res["mmd_cd"] and other["nna_cd"] > 0.9
    # consistency: identical pairs give ~0, different shapes more
    pairs = [np.array([[0, 1]])]
    same = M.shape_consistency([np.stack([grids[0], grids[0]])], pairs, num_points=64)
    diff = M.shape_consistency([np.stack([grids[0], tables[3]])], pairs, num_points=64)
    assert same < diff
    with pytest.raises(ValueError, match="no consistency pairs"):
        M.shape_consistency([grids], [np.zeros((0, 2))])


def test_bad_input():
    with pytest.raises(ValueError, match="outside"):
        M.relation_pass(np.zeros((2, 7)), np.array([[0, 1, 5]]))
    with pytest.raises(ValueError, match="NaN"):
        M.relation_pass(np.full((2, 7), np.nan), np.array([[0, 1, 1]]))
    rooms = S.generate_scenes(3)
    with pytest.raises(ValueError, match="one array per scene"):
        M.relation_accuracy(rooms, [r.triples for r in rooms[:2]])
    with pytest.raises(ValueError, match="`res`"):
        M.top_down_raster(rooms[0], res=2.5)
    with pytest.raises(ValueError, match="`bandwidth`"):
        M.layout_mmd(rooms, rooms, bandwidth=0.0)
    with pytest.raises(ValueError, match="`num_points`"):
        M.surface_points(np.ones((1, 4, 4, 4), bool), num_points=0)
    with pytest.raises(ValueError, match="at least 2"):
        M.layout_mmd(S.generate_scenes(1), S.generate_scenes(3))


def test_layout_mmd_separates_the_baselines_from_the_same_distribution():
    train, held_out = S.generate_scenes(210, seed=11), S.generate_scenes(150, seed=12)
    floor = M.layout_mmd(train[:150], held_out)
    shuffled = M.layout_mmd(M.shuffle_classes(held_out, seed=1), held_out)
    random = M.layout_mmd(M.random_boxes(held_out, train, seed=2), held_out)
    assert floor < 0.5 * min(shuffled, random) and abs(floor) < 0.002
    assert min(shuffled, random) > 0.002
    # the baselines keep what they should: the graph and the boxes / the classes
    for a, b in zip(M.shuffle_classes(held_out), held_out):
        assert (a.boxes == b.boxes).all() and (a.triples == b.triples).all()
        assert sorted(a.classes) == sorted(b.classes)
    for a, b in zip(M.random_boxes(held_out, train), held_out):
        assert (a.classes == b.classes).all() and a.boxes.shape == b.boxes.shape
    # pooled over room types (one median bandwidth for all) the same difference reads smaller
    assert M.layout_mmd(M.shuffle_classes(held_out, seed=1), held_out, by_room_type=False) < 0.5 * shuffled


def test_shape_1nna_of_one_distribution_is_near_half():
    # two samples of one distribution of few distinct shapes (many exact duplicates, as SynthFront's variants):
    # 1-NNA must be about 0.5 (with the same point draw for the i-th shape of both sets it read ~0.4)
    rng = np.random.default_rng(0)
    cls = np.repeat([S.CLASS_TO_ID["chair"]], 32)
    a, b = S.shape_grids(cls, rng.integers(0, 3, 32)), S.shape_grids(cls, rng.integers(0, 3, 32))
    nna = M.shape_metrics({"chair": a}, {"chair": b}, max_per_class=32, num_points=64)["nna_cd"]
    assert 0.42 <= nna <= 0.58
