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
    res = M.shape_metrics({"chair": grids}, {"chair": grids}, num_points=64)
    assert res["mmd_cd"] < 0.02 and res["cov_cd"] == 1.0
    tables = S.shape_grids(np.repeat([S.CLASS_TO_ID["table"]], 8), np.arange(8))
    other = M.shape_metrics({"chair": tables}, {"chair": grids}, num_points=64)
    assert other["mmd_cd"] > res["mmd_cd"] and other["nna_cd"] > 0.9
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
