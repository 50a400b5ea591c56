"""graphdiff.data.scenes: labelling rules at their thresholds, generator, shapes, SG-FRONT loader and bad input."""

import json

import numpy as np
import pytest

from graphdiff.data import scenes as S

P = S.PREDICATE_TO_ID


def _box(l, h, w, x, y, z, th=0.0):
    return [l, h, w, x, y, z, th]


def _pairs(triples, s, o):
    t = np.asarray(triples)
    return {S.PREDICATES[p] for a, p, b in t if a == s and b == o}


def _label(boxes, **kw):
    kw.setdefault("dedup", False)
    kw.setdefault("attribute_relations", False)
    return label_cls(boxes, **kw)


def label_cls(boxes, classes=None, **kw):
    classes = np.full(len(boxes), S.CLASS_TO_ID["chair"]) if classes is None else classes
    return S.label_relations(np.asarray(boxes, float), classes, **kw)


# ------------------------------------------------------------------------------------------- labelling thresholds
@pytest.mark.parametrize("gap, expect", [(0.079, True), (0.081, False)])
def test_left_threshold(gap, expect):
    # s spans z in [-1, 0]; o starts at z = -gap: max_z(s) - min_z(o) = gap
    boxes = [_box(1, 1, 1, 0, 0, -0.5), _box(1, 1, 1, 3, 0, -gap + 0.5)]
    rel = _pairs(_label(boxes), 0, 1)
    assert ("left" in rel) == expect
    assert "right" not in rel


@pytest.mark.parametrize("gap, expect", [(0.079, True), (0.081, False)])
def test_behind_threshold(gap, expect):
    boxes = [_box(1, 1, 1, -0.5, 0, 0), _box(1, 1, 1, -gap + 0.5, 0, 3)]
    assert ("behind" in _pairs(_label(boxes), 0, 1)) == expect
    assert ("front" in _pairs(_label(boxes), 1, 0)) == expect


def test_rotated_box_uses_axis_aligned_bounds():
    # a 2 x 0.5 box at z = -0.6 spans z in [-0.85, -0.35]: left of a box starting at z = 0.25;
    # rotated by 90 degrees it spans z in [-1.6, 0.4], overlapping by 0.15 > 0.08: no longer left
    b = _box(0.5, 1, 0.5, 0, 0, 0.5)
    a = _box(2, 1, 0.5, 0, 0, -0.6, th=0.0)
    assert "left" in _pairs(_label([a, b]), 0, 1)
    a_rot = _box(2, 1, 0.5, 0, 0, -0.6, th=np.pi / 2)
    assert "left" not in _pairs(_label([a_rot, b]), 0, 1)


@pytest.mark.parametrize("ratio, bigger, smaller", [(1.26, True, True), (1.24, False, True), (1.19, False, False)])
def test_bigger_smaller_thresholds(ratio, bigger, smaller):
    # r = (V_s - V_o) / V_s is normalised by the subject: s = big box, o = unit box
    # bigger (s, o): 1 - 1/ratio > 0.2 <=> ratio > 1.25;  smaller (o, s): 1 - ratio < -0.2 <=> ratio > 1.2
    boxes = [_box(ratio, 1, 1, 0, 0, 0), _box(1, 1, 1, 5, 0, 5)]
    assert ("bigger than" in _pairs(_label(boxes), 0, 1)) == bigger
    assert ("smaller than" in _pairs(_label(boxes), 1, 0)) == smaller


def test_taller_needs_same_bottom():
    boxes = [_box(1, 1.2, 1, 0, 0, 0), _box(1, 1.0, 1, 5, 0, 5)]  # q = 0.2/1.2
    assert "taller than" in _pairs(_label(boxes), 0, 1)
    boxes[1][4] = 0.011  # bottoms differ by >= 1 cm
    assert "taller than" not in _pairs(_label(boxes), 0, 1)
    boxes = [_box(1, 1.105, 1, 0, 0, 0), _box(1, 1.0, 1, 5, 0, 5)]  # q = 0.095 < 0.1
    assert "taller than" not in _pairs(_label(boxes), 0, 1)


def test_standing_on_and_above():
    table = _box(1, 0.75, 1, 0, 0, 0)
    lamp_on = _box(0.3, 0.4, 0.3, 0, 0.76, 0)  # |bottom - top| = 0.01 < 0.02, overlapping footprint
    lamp_up = _box(0.3, 0.4, 0.3, 0, 0.90, 0)  # 0.15 above the top
    assert "standing on" in _pairs(_label([lamp_on, table]), 0, 1)
    rel = _pairs(_label([lamp_up, table]), 0, 1)
    assert "above" in rel and "standing on" not in rel
    # standing on is dropped when a directional relation holds for the pair
    beside = _box(0.3, 0.4, 0.3, 0, 0.76, 3)
    assert "standing on" not in _pairs(_label([beside, table]), 0, 1)


def test_close_by_threshold():
    a = _box(1, 1, 1, 0, 0, 0)
    near = _box(1, 1, 1, 0, 0, 1.19)  # gap 0.19
    far = _box(1, 1, 1, 0, 0, 1.21)  # gap 0.21
    assert "close by" in _pairs(_label([a, near]), 0, 1)
    assert "close by" not in _pairs(_label([a, far]), 0, 1)


def test_symmetry_threshold_and_bottom():
    a = _box(0.5, 0.5, 0.5, 1.0, 0, 1.0)
    b = _box(0.5, 0.5, 0.5, -1.0, 0, 1.19)  # mirrored in x: (-1, 1) vs (-1, 1.19): 0.19
    c = _box(0.5, 0.5, 0.5, -1.0, 0, 1.21)
    assert "symmetrical to" in _pairs(_label([a, b]), 0, 1)
    assert "symmetrical to" not in _pairs(_label([a, c]), 0, 1)
    b[4] = 0.02
    assert "symmetrical to" not in _pairs(_label([a, b]), 0, 1)


def test_dedup_keeps_one_of_each_inverse_pair():
    boxes = [_box(1, 1, 1, 0, 0, -2), _box(1, 1, 1, 0, 0, 2), _box(1, 1, 1, 3, 0, 0)]
    full = _label(boxes)
    for seed in range(5):
        t = S.label_relations(np.asarray(boxes, float), np.full(3, 4), seed=seed, attribute_relations=False)
        left = ((t[:, 0] == 0) & (t[:, 1] == P["left"]) & (t[:, 2] == 1)).sum()
        right = ((t[:, 0] == 1) & (t[:, 1] == P["right"]) & (t[:, 2] == 0)).sum()
        assert left + right == 1
        close = np.isin(t[:, 1], [P["close by"]]).sum()
        assert close <= np.isin(full[:, 1], [P["close by"]]).sum() / 2
    # above / standing on have no inverse: never removed
    table = _box(1, 0.75, 1, 0, 0, 0)
    lamp = _box(0.3, 0.4, 0.3, 0, 0.9, 0)
    t = S.label_relations(np.asarray([lamp, table]), np.array([7, 5]), attribute_relations=False)
    assert ((t[:, 0] == 0) & (t[:, 1] == P["above"])).sum() == 1


def test_floor_and_scene_edges():
    boxes = np.array([_box(1, 1, 1, 0, 0, 0), _box(0.4, 0.4, 0.4, 1, 2.0, 1), _box(4, 0, 4, 0, 0, 0), [0] * 7], float)
    classes = np.array([4, 7, S.FLOOR_ID, S.SCENE_ID])
    t = S.label_relations(boxes, classes, floor_index=2, scene_index=3, attribute_relations=False)
    assert [0, P["standing on"], 2] in t.tolist()
    assert [1, P["above"], 2] in t.tolist()
    assert sorted(t[t[:, 1] == P["in"], 0].tolist()) == [0, 1, 2]


# ------------------------------------------------------------------------------------------- generator
def test_generator_deterministic_and_conventions():
    a = S.generate_scenes(30, seed=7)
    b = S.generate_scenes(30, seed=7)
    c = S.generate_scenes(30, seed=8)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.boxes, y.boxes)
        np.testing.assert_array_equal(x.triples, y.triples)
    assert any(not np.array_equal(x.boxes, y.boxes) for x, y in zip(a, c) if x.boxes.shape == y.boxes.shape)
    assert [s.room_type for s in a[:3]] == list(S.ROOM_TYPES)
    for sc in a:
        S.check_scene(sc)
        assert sc.classes[-1] == S.SCENE_ID and sc.classes[-2] == S.FLOOR_ID
        n_obj = int(sc.object_mask.sum())
        assert 3 <= n_obj <= 12
        # objects inside the room (floor box = [W, 0, D, ...])
        W, D = sc.boxes[-2, 0], sc.boxes[-2, 2]
        lo, hi = S.aabb(sc.boxes[sc.object_mask])
        assert (lo[:, 0] >= -W / 2 - 1e-6).all() and (hi[:, 2] <= D / 2 + 1e-6).all()
        # relations are exactly what the labeller gives for these boxes (up to the shuffle)
        assert (sc.triples[:, 1] == P["in"]).sum() == sc.num_nodes - 1


def test_generator_multimodal_absolute_placement():
    """The bed's wall is drawn at random: bed centres spread over all four walls."""
    beds = []
    for sc in S.generate_scenes(120, room_types="bedroom", seed=0):
        i = np.flatnonzero(sc.classes == S.CLASS_TO_ID["bed"])[0]
        beds.append(sc.boxes[i, [3, 5]])
    beds = np.asarray(beds)
    quadrant = set(zip(np.sign(np.round(beds[:, 0], 1)), np.sign(np.round(beds[:, 1], 1))))
    assert len(quadrant) >= 4
    assert (
        (beds[:, 0] > 0.5).any()
        and (beds[:, 0] < -0.5).any()
        and (beds[:, 1] > 0.5).any()
        and (beds[:, 1] < -0.5).any()
    )


def test_nightstands_keep_their_relation_to_the_bed():
    """Inside a group the relation is fixed: nightstands are always close by the bed."""
    found = 0
    for sc in S.generate_scenes(90, room_types="bedroom", seed=1):
        bed = np.flatnonzero(sc.classes == S.CLASS_TO_ID["bed"])[0]
        for ns in np.flatnonzero(sc.classes == S.CLASS_TO_ID["nightstand"]):
            t = sc.triples
            pair = ((t[:, 0] == ns) & (t[:, 2] == bed)) | ((t[:, 0] == bed) & (t[:, 2] == ns))
            assert P["close by"] in t[pair, 1]
            found += 1
    assert found > 20


# ------------------------------------------------------------------------------------------- shapes
def test_shapes():
    cls = np.array([S.CLASS_TO_ID[c] for c in ("chair", "chair", "table", "bed", "floor")])
    grids = S.shape_grids(cls, [0, 1, 3, 5, -1])
    assert grids.shape == (5, 16, 16, 16) and grids.dtype == bool
    assert grids[:4].any(axis=(1, 2, 3)).all() and not grids[4].any()
    assert not np.array_equal(grids[0], grids[1])  # variants differ


def test_consistency_pairs_same_class_and_variant():
    sc = S.generate_scenes(12, room_types="diningroom", seed=2)[5]
    pairs = S.consistency_pairs(sc)
    assert len(pairs) > 0
    assert (sc.classes[pairs[:, 0]] == sc.classes[pairs[:, 1]]).all()
    assert (sc.shape_variant[pairs[:, 0]] == sc.shape_variant[pairs[:, 1]]).all()


# ------------------------------------------------------------------------------------------- SG-FRONT files
def test_sgfront_round_trip(tmp_path):
    scenes = S.generate_scenes(6, room_types="bedroom", seed=4)
    S.write_sgfront(scenes, tmp_path, "bedroom", "test")
    loaded = S.load_sgfront(tmp_path, "bedroom", "test")
    assert len(loaded) == 6
    for a, b in zip(scenes, loaded):
        np.testing.assert_array_equal(a.classes, b.classes)
        np.testing.assert_allclose(a.boxes, b.boxes, atol=1e-9)  # scene_center subtracted again

        def key(t):
            return sorted(map(tuple, t.tolist()))

        assert key(a.triples) == key(b.triples)


def test_sgfront_fine_classes_and_bad_files(tmp_path):
    rel = {
        "scans": [
            {
                "scan": "r1",
                "objects": {"1": "double_bed", "2": "pendant_lamp", "3": "floor"},
                "relationships": [[2, 1, 6, "above"], [1, 3, 7, "standing on"]],
            }
        ]
    }
    boxes = {
        "r1": {
            "1": {"param7": [2, 1, 2, 1, 0, 1, 0]},
            "2": {"param7": [0.4, 0.4, 0.4, 1, 2, 1, 0]},
            "3": {"param7": [4, 0, 4, 1, 0, 1, 0]},
            "scene_center": [1, 0, 1],
        }
    }
    (tmp_path / "relationships_bedroom_trainval.json").write_text(json.dumps(rel))
    (tmp_path / "obj_boxes_bedroom_trainval.json").write_text(json.dumps(boxes))
    sc = S.load_sgfront(tmp_path)[0]
    assert [S.CLASSES[c] for c in sc.classes] == ["bed", "lamp", "floor", "_scene_"]
    assert [1, P["above"], 0] in sc.triples.tolist()
    np.testing.assert_allclose(sc.boxes[0, 3:6], 0)
    # unknown class, unknown predicate, relation to a missing object
    for bad_rel, msg in [
        ({"1": "spaceship", "2": "pendant_lamp", "3": "floor"}, "unknown object class"),
    ]:
        r = json.loads(json.dumps(rel))
        r["scans"][0]["objects"] = bad_rel
        (tmp_path / "relationships_bedroom_trainval.json").write_text(json.dumps(r))
        with pytest.raises(ValueError, match=msg):
            S.load_sgfront(tmp_path)
    r = json.loads(json.dumps(rel))
    r["scans"][0]["relationships"].append([1, 2, 99, "teleports"])
    (tmp_path / "relationships_bedroom_trainval.json").write_text(json.dumps(r))
    with pytest.raises(ValueError, match="unknown predicate"):
        S.load_sgfront(tmp_path)
    r = json.loads(json.dumps(rel))
    r["scans"][0]["relationships"].append([1, 9, 1, "left"])
    (tmp_path / "relationships_bedroom_trainval.json").write_text(json.dumps(r))
    with pytest.raises(ValueError, match="does not exist"):
        S.load_sgfront(tmp_path)


# ------------------------------------------------------------------------------------------- bad input
def test_bad_input_errors():
    sc = S.generate_scenes(1, seed=0)[0]
    bad = sc.copy()
    bad.classes[0] = 99
    with pytest.raises(ValueError, match="class id 99"):
        S.check_scene(bad)
    bad = sc.copy()
    bad.triples[0, 1] = 42
    with pytest.raises(ValueError, match="predicate"):
        S.check_scene(bad)
    bad = sc.copy()
    bad.triples[0, 2] = sc.num_nodes + 3
    with pytest.raises(ValueError, match="out of range"):
        S.check_scene(bad)
    empty = S.Scene(
        "bedroom", np.zeros(0, np.int64), np.zeros((0, 7)), np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
    )
    with pytest.raises(ValueError, match="empty"):
        S.check_scene(empty)
    only_floor = S.Scene(
        "bedroom", np.array([S.FLOOR_ID]), np.zeros((1, 7)), np.zeros((0, 3), np.int64), np.array([-1])
    )
    with pytest.raises(ValueError, match="no object nodes"):
        S.check_scene(only_floor)
    with pytest.raises(ValueError, match="room type"):
        S.generate_scenes(2, room_types="kitchen")
    with pytest.raises(ValueError, match="num_scenes"):
        S.generate_scenes(-1)
    with pytest.raises(ValueError, match="class id"):
        S.shape_grids([77], [0])


def test_sgfront_root_under_the_data_root(tmp_path):
    assert S.default_sgfront_root(tmp_path) is None
    S.write_sgfront(S.generate_scenes(2, room_types="bedroom"), tmp_path / "sg_front" / "raw", "bedroom")
    assert S.default_sgfront_root(tmp_path) == tmp_path / "sg_front" / "raw"


# ------------------------------------------------------------------------------------------- sparse relations
def _object_pairs(sc, triples):
    obj = sc.object_mask
    t = np.asarray(triples)
    return t[obj[t[:, 0]] & obj[t[:, 2]]]


def _fingerprint(scenes):
    return (
        sum(int((s.triples * np.arange(1, 4)).sum()) for s in scenes),
        sum(len(s.triples) for s in scenes),
        round(float(sum(s.boxes.sum() for s in scenes)), 4),
    )


def test_relations_all_is_the_default_and_unchanged():
    """``relations="all"`` and ``placement="free"`` are the defaults; ``placement="anchored"`` gives the scenes of
    the generator before the placement option existed (fingerprint of seed 7 computed with that version), and the
    free placement is pinned too (computed when it was introduced)."""
    a = S.generate_scenes(30, seed=7)
    b = S.generate_scenes(30, seed=7, relations="all", placement="free")
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.triples, y.triples)
        np.testing.assert_array_equal(x.boxes, y.boxes)
    assert _fingerprint(a) == (105042, 3326, 1283.1162)
    assert _fingerprint(S.generate_scenes(30, seed=7, placement="anchored"))[:2] == (104003, 3295)


def _bed_offsets_and_tables(placement, n=300):
    """|offset of the bed along its wall| per bedroom and |(x, z)| of the dining table per dining room."""
    off, tab = [], []
    for sc in S.generate_scenes(n, seed=0, placement=placement):
        if sc.room_type == "bedroom":
            b = sc.boxes[np.flatnonzero(sc.classes == S.CLASS_TO_ID["bed"])[0]]
            wall = int(round(b[6] / (np.pi / 2))) % 4
            off.append(abs(b[3] if wall in (0, 2) else b[5]))
        elif sc.room_type == "diningroom":
            tab.append(np.abs(sc.boxes[np.flatnonzero(sc.classes == S.CLASS_TO_ID["table"])[0], [3, 5]]))
    return np.asarray(off), np.asarray(tab)


def test_free_placement_moves_groups_continuously():
    """Free placement: the bed slides along its wall (beyond the anchored +-0.3 m) and the dining table stands
    anywhere it fits (beyond the anchored +-0.4 m), while the room contents and the labelling rules stay."""
    off, tab = _bed_offsets_and_tables("free")
    assert (off > 0.35).mean() > 0.2 and off.max() > 1.0
    assert (np.isclose(off, 0.0, atol=0.03)).mean() > 0.15  # the centred mode is kept (p 0.25)
    assert (tab.max(axis=1) > 0.45).mean() > 0.5 and tab.max() > 1.5
    off_a, tab_a = _bed_offsets_and_tables("anchored")
    assert off_a.max() < 0.35 and tab_a.max() < 0.45
    for sc in S.generate_scenes(60, seed=3, placement="free"):
        S.check_scene(sc)
        W, D = sc.boxes[-2, 0], sc.boxes[-2, 2]
        lo, hi = S.aabb(sc.boxes[sc.object_mask])
        assert (lo[:, 0] >= -W / 2 - 1e-6).all() and (hi[:, 0] <= W / 2 + 1e-6).all()
        assert (lo[:, 2] >= -D / 2 - 1e-6).all() and (hi[:, 2] <= D / 2 + 1e-6).all()
    with pytest.raises(ValueError, match="placement"):
        S.generate_scenes(2, placement="centred")


def test_furniture_groups():
    """Bed, nightstands and the lamps on / above them form one group; wardrobe and tv stand have their own;
    the dining chairs share the table's group; floor and _scene_ have none."""
    cid = S.CLASS_TO_ID
    seen_ns = seen_chairs = 0
    for sc in S.generate_scenes(60, seed=5):
        g = sc.extra["group"]
        assert g.shape == (sc.num_nodes,) and (g[~sc.object_mask] == -1).all() and (g[sc.object_mask] >= 0).all()
        if sc.room_type == "bedroom":
            bed = np.flatnonzero(sc.classes == cid["bed"])[0]
            for i in np.flatnonzero(sc.classes == cid["nightstand"]):
                assert g[i] == g[bed]
                seen_ns += 1
            for i in np.flatnonzero(np.isin(sc.classes, [cid["wardrobe"], cid["tv_stand"]])):
                assert g[i] != g[bed] and (g == g[i]).sum() == 1
        if sc.room_type == "diningroom":
            table = np.flatnonzero(sc.classes == cid["table"])[0]
            chairs = np.flatnonzero(sc.classes == cid["chair"])
            assert len(chairs) >= 2 and (g[chairs] == g[table]).all()
            seen_chairs += len(chairs)
            assert (g[np.flatnonzero(sc.classes == cid["cabinet"])] != g[table]).all()
    assert seen_ns > 0 and seen_chairs > 0


def test_relations_intra_group_keeps_exactly_the_relations_inside_groups():
    dense = S.generate_scenes(60, seed=3)
    sparse = S.generate_scenes(60, seed=3, relations="intra_group")
    dropped = 0
    for d, s in zip(dense, sparse):
        S.check_scene(s)
        np.testing.assert_array_equal(d.boxes, s.boxes)
        np.testing.assert_array_equal(d.classes, s.classes)
        g = s.extra["group"]
        # every kept object-object triple joins two objects of the same group
        oo = _object_pairs(s, s.triples)
        assert (g[oo[:, 0]] == g[oo[:, 2]]).all()
        # the kept triples are exactly the dense ones inside groups plus every floor / _scene_ edge
        non_obj = ~d.object_mask
        inside = non_obj[d.triples[:, 0]] | non_obj[d.triples[:, 2]] | (g[d.triples[:, 0]] == g[d.triples[:, 2]])
        np.testing.assert_array_equal(s.triples, d.triples[inside])
        floor = np.flatnonzero(d.classes == S.FLOOR_ID)[0]
        assert ((s.triples[:, 2] == floor) | (s.triples[:, 1] == P["in"])).sum() == (
            (d.triples[:, 2] == floor) | (d.triples[:, 1] == P["in"])
        ).sum()
        dropped += int((~inside).sum())
    assert dropped > 0  # the dense graphs do relate objects of different groups
    # restrict_relations gives the same, and "all" leaves the triples alone
    np.testing.assert_array_equal(S.restrict_relations(dense[0]).triples, sparse[0].triples)
    np.testing.assert_array_equal(S.restrict_relations(dense[0], "all").triples, dense[0].triples)


def test_relations_bad_input():
    with pytest.raises(ValueError, match="relations"):
        S.generate_scenes(2, relations="inter_group")
    sc = S.generate_scenes(1, seed=0)[0]
    sc.extra = {}
    with pytest.raises(ValueError, match="group"):
        S.restrict_relations(sc)
