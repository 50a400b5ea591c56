"""SynthFront: a procedural generator of indoor rooms with SG-FRONT's conventions.

EchoScene (Zhai et al., ECCV 2024, https://arxiv.org/abs/2405.00915) trains on SG-FRONT (CommonScenes, Zhai et al.,
NeurIPS 2023, https://arxiv.org/abs/2305.16283, Sec. 3), scene graphs labelled automatically on 3D-FRONT rooms.
3D-FRONT cannot be redistributed, so :func:`generate_scenes` builds bedrooms, living rooms and dining rooms from
furniture groups (bed with nightstands, sofa with coffee table and armchairs, dining table with mirrored chairs, ...)
placed against a wall drawn at random or near the centre, so that the absolute placement is multimodal while the
relations inside a group are fixed; the relations are then labelled from the boxes with SG-FRONT's rules
(:func:`~graphdiff.data.scenes.label_relations`). Every object's furniture group is kept in
``scene.extra["group"]``; with ``relations="intra_group"`` the graph keeps only the relations inside a group (plus
the object-floor and ``in`` edges).

>>> rooms = generate_scenes(3, seed=0)
>>> [r.room_type for r in rooms]
['bedroom', 'livingroom', 'diningroom']
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from graphdiff.data.scenes.geometry import aabb
from graphdiff.data.scenes.relations import RELATION_MODES, label_relations, restrict_relations
from graphdiff.data.scenes.scene import Scene
from graphdiff.data.scenes.vocabulary import CLASS_TO_ID, CLASSES, FLOOR_ID, ROOM_TYPES, SCENE_ID
from graphdiff.data.validation import check_choice, check_int, check_seed

__all__ = ["generate_scenes", "PLACEMENTS"]

#: The ``placement`` options of :func:`generate_scenes`.
PLACEMENTS = ("free", "anchored")

# size priors l x h x w (metres)
_SIZE = {
    "bed_double": (1.9, 0.9, 2.1),
    "bed_single": (1.1, 0.8, 2.0),
    "nightstand": (0.5, 0.55, 0.42),
    "wardrobe": (1.5, 2.1, 0.6),
    "desk": (1.2, 0.76, 0.6),
    "chair": (0.48, 0.9, 0.52),
    "table_dining": (1.5, 0.75, 0.9),
    "table_coffee": (1.1, 0.42, 0.6),
    "table_side": (0.5, 0.55, 0.5),
    "cabinet": (1.0, 0.85, 0.45),
    "shelf": (0.9, 1.8, 0.35),
    "bookshelf": (1.0, 2.0, 0.4),
    "sofa": (2.1, 0.85, 0.92),
    "tv_stand": (1.8, 0.5, 0.4),
    "lamp": (0.45, 0.5, 0.45),
    "lamp_small": (0.3, 0.45, 0.3),
    "armchair": (0.8, 0.85, 0.8),
}
_ROOM_SIZE = {"bedroom": (3.0, 5.5), "livingroom": (4.0, 8.0), "diningroom": (3.5, 7.0)}


class _Room:
    """Mutable state while one room is built."""

    def __init__(self, rng, room_type, placement="free"):
        self.rng = rng
        self.room_type = room_type
        self.placement = placement
        lo, hi = _ROOM_SIZE[room_type]
        self.W, self.D = rng.uniform(lo, hi), rng.uniform(lo, hi)
        self.cls, self.box, self.on_top, self.group = [], [], [], []
        self._groups = 0

    def new_group(self) -> int:
        """A fresh furniture-group id."""
        self._groups += 1
        return self._groups - 1

    def size(self, key):
        mu = np.asarray(_SIZE[key])
        return mu * (1.0 + 0.08 * np.clip(self.rng.standard_normal(3), -2, 2))

    def yaw(self, base):
        return base + math.radians(3.0) * self.rng.standard_normal()

    def wall_pose(self, wall, along, depth, gap=0.02):
        """Centre (x, z) and yaw of an object of depth ``depth`` with its back on ``wall`` (0: z-, 1: x+, 2: z+,
        3: x-), shifted by ``along`` along the wall; it faces into the room."""
        theta = wall * math.pi / 2
        c, s = math.cos(theta), math.sin(theta)
        wall_pt = {0: (0.0, -self.D / 2), 1: (self.W / 2, 0.0), 2: (0.0, self.D / 2), 3: (-self.W / 2, 0.0)}[wall]
        facing = (-s, c)
        tangent = (c, s)
        x = wall_pt[0] + facing[0] * (depth / 2 + gap) + tangent[0] * along
        z = wall_pt[1] + facing[1] * (depth / 2 + gap) + tangent[1] * along
        return x, z, theta

    def wall_length(self, wall):
        return self.W if wall in (0, 2) else self.D

    def fits(self, box, ignore_overlap=False):
        lo, hi = aabb(box[None])
        lo, hi = lo[0], hi[0]
        if (
            lo[0] < -self.W / 2 - 1e-6
            or hi[0] > self.W / 2 + 1e-6
            or lo[2] < -self.D / 2 - 1e-6
            or hi[2] > self.D / 2 + 1e-6
        ):
            return False
        if ignore_overlap or not self.box:
            return True
        ground = [i for i, c in enumerate(self.cls) if not self.on_top[i]]
        if not ground:
            return True
        others = np.asarray([self.box[i] for i in ground])
        olo, ohi = aabb(others)
        ov = np.minimum(hi[[0, 2]], ohi[:, [0, 2]]) - np.maximum(lo[[0, 2]], olo[:, [0, 2]])
        return not ((ov > 0.01).all(axis=1)).any()

    def add(self, cls, box, on_top=False, check=True, group=None):
        """Add an object to furniture group ``group`` (default: a group of its own)."""
        box = np.asarray(box, dtype=np.float64)
        if check and not self.fits(box, ignore_overlap=on_top):
            return False
        self.cls.append(CLASS_TO_ID[cls])
        self.box.append(box)
        self.on_top.append(on_top)
        self.group.append(self.new_group() if group is None else int(group))
        return True

    def add_on_wall(self, cls, size_key, walls, tries=6, group=None):
        for _ in range(tries):
            l, h, w = self.size(size_key)
            wall = int(self.rng.choice(walls))
            free = max(self.wall_length(wall) - l - 0.1, 0.0)
            along = self.rng.uniform(-free / 2, free / 2)
            x, z, th = self.wall_pose(wall, along, w)
            if self.add(cls, [l, h, w, x, 0.0, z, self.yaw(th)], group=group):
                return True
        return False


def _local(anchor, dx, dz):
    """World (x, z) of an offset (dx along the anchor's length axis, dz along its depth axis)."""
    c, s = math.cos(anchor[6]), math.sin(anchor[6])
    return anchor[3] + c * dx - s * dz, anchor[5] + s * dx + c * dz


def _bedroom(room: _Room):
    rng = room.rng
    double = rng.random() < 0.6
    l, h, w = room.size("bed_double" if double else "bed_single")
    wall = int(rng.integers(4))
    if room.placement == "anchored":
        along = 0.0 if rng.random() < 0.5 else rng.choice([-0.3, 0.3])
    else:
        # centred on its wall (p 0.25) or anywhere along it, leaving room for a nightstand on either side
        free = max(room.wall_length(wall) - l - 2 * (_SIZE["nightstand"][0] * 1.16 + 0.1) - 0.1, 0.0)
        along = 0.0 if rng.random() < 0.25 else rng.uniform(-free / 2, free / 2)
    x, z, th = room.wall_pose(wall, along, w)
    bed = np.array([l, h, w, x, 0.0, z, room.yaw(th)])
    g_bed = room.new_group()
    if not room.add("bed", bed, group=g_bed):
        return False
    n_ns = int(rng.integers(0, 3))
    sides = [-1, 1] if n_ns == 2 else [int(rng.choice([-1, 1]))] * n_ns
    for side in sides:
        nl, nh, nw = room.size("nightstand")
        gap = rng.uniform(0.02, 0.10)
        nx, nz = _local(bed, side * (l / 2 + gap + nl / 2), -w / 2 + nw / 2)
        ns = np.array([nl, nh, nw, nx, 0.0, nz, bed[6]])
        if room.add("nightstand", ns, group=g_bed) and rng.random() < 0.3:
            ll, lh, lw = room.size("lamp_small")
            room.add("lamp", [ll, lh, lw, nx, nh, nz, bed[6]], on_top=True, group=g_bed)
    others = [k for k in range(4) if k != wall]
    room.add_on_wall("wardrobe", "wardrobe", others)
    if rng.random() < 0.5:
        g_desk = room.new_group()
        if room.add_on_wall("desk", "desk", others, group=g_desk):
            desk = room.box[-1]
            cl, ch, cw = room.size("chair")
            gap = rng.uniform(0.1, 0.3)
            cx, cz = _local(desk, 0.0, desk[2] / 2 + gap + cw / 2)
            room.add("chair", [cl, ch, cw, cx, 0.0, cz, room.yaw(desk[6] + math.pi)], group=g_desk)
    if rng.random() < 0.5:
        tl, th_, tw = room.size("tv_stand")
        opp = (wall + 2) % 4
        x, z, t = room.wall_pose(opp, -along, tw)
        room.add("tv_stand", [tl, th_, tw, x, 0.0, z, room.yaw(t)])
    if rng.random() < 0.5:
        ll, lh, lw = room.size("lamp")
        room.add("lamp", [ll, lh, lw, bed[3], rng.uniform(1.8, 2.1), bed[5], bed[6]], on_top=True, group=g_bed)
    return True


def _livingroom(room: _Room):
    rng = room.rng
    l, h, w = room.size("sofa")
    wall = int(rng.integers(4))
    free = max(room.wall_length(wall) - l - 2.0, 0.0)
    along = rng.uniform(-free / 2, free / 2)
    x, z, th = room.wall_pose(wall, along, w)
    sofa = np.array([l, h, w, x, 0.0, z, room.yaw(th)])
    g_sofa = room.new_group()
    if not room.add("sofa", sofa, group=g_sofa):
        return False
    tl, tlh, tw = room.size("table_coffee")
    gap = rng.uniform(0.35, 0.5)
    tx, tz = _local(sofa, 0.0, w / 2 + gap + tw / 2)
    table = np.array([tl, tlh, tw, tx, 0.0, tz, sofa[6]])
    if not room.add("table", table, group=g_sofa):
        return False
    opp = (wall + 2) % 4
    sl, sh, sw = room.size("tv_stand")
    x, z, t = room.wall_pose(opp, -along, sw)
    room.add("tv_stand", [sl, sh, sw, x, 0.0, z, room.yaw(t)])
    n_arm = int(rng.integers(0, 3))
    sides = [-1, 1] if n_arm == 2 else [int(rng.choice([-1, 1]))] * n_arm
    al, ah, aw = room.size("armchair")
    for side in sides:
        ax, az = _local(table, side * (tl / 2 + 0.3 + aw / 2), 0.0)
        room.add("chair", [al, ah, aw, ax, 0.0, az, room.yaw(table[6] - side * math.pi / 2)], group=g_sofa)
    side_walls = [(wall + 1) % 4, (wall + 3) % 4]
    for cls in rng.choice(["shelf", "cabinet", "bookshelf"], size=int(rng.integers(1, 4))):
        room.add_on_wall(str(cls), str(cls), side_walls)
    if rng.random() < 0.5:
        room.add_on_wall("table", "table_side", side_walls)
    if rng.random() < 0.6:
        ll, lh, lw = room.size("lamp")
        room.add("lamp", [ll, lh, lw, tx, rng.uniform(1.8, 2.1), tz, table[6]], on_top=True, group=g_sofa)
    return True


def _diningroom(room: _Room):
    rng = room.rng
    n_pairs = int(rng.integers(1, 5))
    l, h, w = room.size("table_dining")
    side_pairs = min(n_pairs, 3)
    l = max(l, side_pairs * 0.6)
    th = room.yaw(float(rng.choice([0.0, math.pi / 2])))
    if room.placement == "anchored":
        x, z = rng.uniform(-0.4, 0.4, size=2)
    else:
        # anywhere the table with its chairs fits, 0.1 m from the walls
        reach = 0.15 + _SIZE["chair"][2] * 1.16
        half_len = l / 2 + (reach if n_pairs == 4 else 0.0)
        half_wid = w / 2 + reach
        hx, hz = (half_len, half_wid) if abs(math.sin(th)) < 0.5 else (half_wid, half_len)
        fx, fz = max(room.W / 2 - hx - 0.1, 0.0), max(room.D / 2 - hz - 0.1, 0.0)
        x, z = rng.uniform(-fx, fx), rng.uniform(-fz, fz)
    table = np.array([l, h, w, x, 0.0, z, th])
    g_table = room.new_group()
    if not room.add("table", table, group=g_table):
        return False
    cl, ch, cw = room.size("chair")
    gap = rng.uniform(0.05, 0.15)
    xs = (np.arange(side_pairs) - (side_pairs - 1) / 2) * (l / side_pairs)
    for dx in xs:
        for side in (-1, 1):
            cx, cz = _local(table, dx, side * (w / 2 + gap + cw / 2))
            yaw = table[6] + (math.pi if side > 0 else 0.0)
            if not room.add("chair", [cl, ch, cw, cx, 0.0, cz, room.yaw(yaw)], group=g_table):
                return False
    if n_pairs == 4:
        for side in (-1, 1):
            cx, cz = _local(table, side * (l / 2 + gap + cw / 2), 0.0)
            yaw = table[6] + (math.pi / 2 if side > 0 else -math.pi / 2)
            if not room.add("chair", [cl, ch, cw, cx, 0.0, cz, room.yaw(yaw)], group=g_table):
                return False
    room.add_on_wall("cabinet", "cabinet", [0, 1, 2, 3])
    if rng.random() < 0.4:
        room.add_on_wall("shelf", "shelf", [0, 1, 2, 3])
    if rng.random() < 0.7:
        ll, lh, lw = room.size("lamp")
        room.add("lamp", [ll, lh, lw, table[3], rng.uniform(1.8, 2.1), table[5], table[6]], on_top=True, group=g_table)
    return True


_BUILDERS = {"bedroom": _bedroom, "livingroom": _livingroom, "diningroom": _diningroom}


def _generate_one(
    rng: np.random.Generator,
    room_type: str,
    use_scene_node: bool,
    attribute_relations: bool,
    index: int,
    relations: str = "all",
    placement: str = "free",
) -> Scene:
    for _ in range(50):
        room = _Room(rng, room_type, placement)
        if _BUILDERS[room_type](room) and len(room.cls) >= 3:
            break
    else:  # pragma: no cover - the templates always fit after a few tries
        raise RuntimeError(f"could not build a {room_type} after 50 tries")
    n_obj = len(room.cls)
    classes = room.cls + [FLOOR_ID]
    boxes = room.box + [np.array([room.W, 0.0, room.D, 0.0, 0.0, 0.0, 0.0])]
    if use_scene_node:
        classes.append(SCENE_ID)
        boxes.append(np.zeros(7))
    classes = np.asarray(classes, dtype=np.int64)
    boxes = np.asarray(boxes, dtype=np.float64)
    # attributes: scene style kept with p = 0.8; materials biased by style; shape variants from the style
    scene_style = int(rng.integers(4))
    style = np.where(rng.random(n_obj) < 0.8, scene_style, rng.integers(4, size=n_obj))
    material = np.where(rng.random(n_obj) < 0.7, scene_style, rng.integers(5, size=n_obj))
    class_variant = 2 * scene_style + rng.integers(2, size=len(CLASSES))  # per scene and class
    obj_cls = classes[:n_obj]
    variant = np.where(rng.random(n_obj) < 0.8, class_variant[obj_cls], rng.integers(8, size=n_obj))
    pad = np.full(len(classes) - n_obj, -1, dtype=np.int64)
    style, material, variant = (np.concatenate([a.astype(np.int64), pad]) for a in (style, material, variant))
    triples = label_relations(
        boxes,
        classes,
        style=style,
        material=material,
        floor_index=n_obj,
        scene_index=n_obj + 1 if use_scene_node else None,
        seed=rng,
        attribute_relations=attribute_relations,
    )
    group = np.concatenate([np.asarray(room.group, dtype=np.int64), pad])
    scene = Scene(
        room_type,
        classes,
        boxes,
        triples,
        variant,
        style,
        material,
        name=f"{room_type}_{index:06d}",
        extra={"group": group},
    )
    return scene if relations == "all" else restrict_relations(scene, relations)


def generate_scenes(
    num_scenes: int,
    room_types: Sequence[str] | str | None = None,
    seed: int = 0,
    use_scene_node: bool = True,
    attribute_relations: bool = True,
    relations: str = "all",
    placement: str = "free",
) -> list[Scene]:
    """Generate ``num_scenes`` procedural rooms ("SynthFront"), room types cycled in order.

    Parameters
    ----------
    num_scenes : int
        Number of rooms (0 gives an empty list).
    room_types : str or sequence of str, optional
        One room type or a list of them (default: all three of :data:`~graphdiff.data.scenes.ROOM_TYPES`).
    seed : int
        The scenes are a deterministic function of ``seed`` (and scene ``i`` depends only on ``seed`` and ``i``,
        so a longer list extends a shorter one).
    use_scene_node : bool
        Append the ``_scene_`` node with an ``in`` edge from every other node.
    attribute_relations : bool
        Add ``same style / super category / material as``.
    relations : {"all", "intra_group"}
        ``"all"`` (default): every relation SG-FRONT's labelling gives, which relates every pair of separated
        objects along both axes. ``"intra_group"``: only the relations between objects of the same furniture group
        plus the object-floor and ``in`` edges (:func:`~graphdiff.data.scenes.restrict_relations`); the boxes, and
        the scenes otherwise, are identical to ``"all"`` for the same seed. Each object's furniture group is in
        ``scene.extra["group"]`` (-1 for ``floor`` / ``_scene_``) in both modes.
    placement : {"free", "anchored"}
        ``"free"`` (default): a furniture group's position has continuous freedom that the relations do not pin
        down: the bed (with its nightstands and lamps) is centred on its wall with probability 0.25 and otherwise
        anywhere along it with room for a nightstand on either side, the dining table (with its chairs and lamp)
        anywhere in the room where it and its chairs fit 0.1 m from the walls, the sofa group anywhere along its
        wall (as in both modes). ``"anchored"``: the earlier generator, kept to reproduce earlier results: the bed
        centred on its wall or 0.3 m off centre, the dining table within 0.4 m of the room centre. The groups'
        internal arrangement and the labelling are the same in both.

    Returns
    -------
    list of Scene
        The rooms; each has ``extra["group"]``.
    """
    check_choice(relations, "relations", RELATION_MODES)
    check_choice(placement, "placement", PLACEMENTS)
    num_scenes = check_int(num_scenes, "num_scenes", minimum=0)
    seed = check_seed(seed)
    if room_types is None:
        room_types = ROOM_TYPES
    if isinstance(room_types, str):
        room_types = (room_types,)
    room_types = tuple(room_types)
    for rt in room_types:
        if rt not in ROOM_TYPES:
            raise ValueError(f"unknown room type {rt!r} in `room_types`; expected one of {ROOM_TYPES}")
    if len(room_types) == 0:
        raise ValueError("`room_types` is empty")
    out = []
    for i in range(int(num_scenes)):
        rng = np.random.default_rng([int(seed), i])
        out.append(
            _generate_one(
                rng, room_types[i % len(room_types)], use_scene_node, attribute_relations, i, relations, placement
            )
        )
    return out
