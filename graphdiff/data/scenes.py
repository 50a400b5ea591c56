"""Indoor scene graphs with SG-FRONT's conventions: a procedural generator, relation labelling, box encoding,
tiny per-object shapes, a loader for real SG-FRONT files and batching as ``torch_geometric`` graphs.

EchoScene (Zhai et al., ECCV 2024, https://arxiv.org/abs/2405.00915) is trained on SG-FRONT (CommonScenes, Zhai et
al., NeurIPS 2023, Sec. 3), scene graphs labelled automatically on 3D-FRONT rooms. 3D-FRONT cannot be
redistributed, so this module provides "SynthFront", a procedural substitute with the same conventions
(``shared/papers/echoscene.md`` Sec. 2 and 5):

* **Classes** (:data:`CLASSES`): ``_scene_`` (id 0), the 12 coarse SG-FRONT classes, and ``floor``.
* **Predicates** (:data:`PREDICATES`): ``in`` (id 0, object -> ``_scene_``) plus the 15 SG-FRONT predicates.
* **Boxes** ``param7 = [l, h, w, x, y, z, theta]``: l the x-extent, h the height (y up), w the z-extent, (x, y, z) the
  bottom centre relative to the room centre, theta the yaw; corners are the local offsets rotated by
  ``[[c, 0, -s], [0, 1, 0], [s, 0, c]]``. :class:`BoxCodec` min-max scales sizes and positions to [-1, 1] with
  per-room-type training statistics and turns theta into (sin, cos): the 8-d vector
  ``[l, h, w, x, y, z, sin theta, cos theta]``.
* **Relations** (:func:`label_relations`) from the boxes with the SG-FRONT labelling rules (Sec. 2.3 of the notes):
  left/right along z, behind/front along x (0.08 m slack on the axis-aligned bounds of the rotated boxes), above,
  standing on, bigger/smaller (relative volume 0.2), taller/shorter (relative top 0.1, same bottom), close by
  (0.2 m), symmetrical to (mirrored centre within 0.2 m), and the attribute relations, followed by the
  shuffle-then-remove-inverse deduplication.
* **Generator** (:func:`generate_scenes`): bedrooms, living rooms and dining rooms built from furniture groups (bed
  with nightstands, sofa with coffee table and armchairs, dining table with mirrored chairs, ...) placed against a
  wall drawn at random or near the centre, so that the absolute placement is multimodal while the relations inside
  a group are fixed. Every object's furniture group is kept in ``scene.extra["group"]``; with
  ``relations="intra_group"`` the graph keeps only the relations inside a group (plus the object-floor and ``in``
  edges), so it no longer ties the groups to each other or to the room.
* **Shapes** (:func:`shape_grids`, :class:`ShapeCodec`): a 16^3 occupancy grid per object from a parametric family
  per class with three binary style parameters (8 variants); the variant follows the scene style, and instances of
  a class in one scene share it with probability 0.8 (the consistency pairs). A PCA codec gives the low-dimensional
  code the shape branch diffuses.

Close by: the labelling script uses 1000 mesh vertices per object; here the distance between the axis-aligned
bounds of the two rotated boxes stands in for the surface distance (the tiny shapes fill their boxes), together with
the oriented corner-to-corner test.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import torch

from graphdiff.data.validation import check_edge_index, check_labels

__all__ = [
    "CLASSES",
    "PREDICATES",
    "ROOM_TYPES",
    "CLASS_TO_ID",
    "PREDICATE_TO_ID",
    "FINE_TO_COARSE",
    "INVERSE_PREDICATE",
    "SHAPE_RES",
    "Scene",
    "BoxCodec",
    "ShapeCodec",
    "generate_scenes",
    "label_relations",
    "box_corners",
    "aabb",
    "shape_grids",
    "load_sgfront",
    "write_sgfront",
    "scene_to_data",
    "scenes_to_batch",
    "check_scene",
    "consistency_pairs",
    "RELATION_MODES",
    "restrict_relations",
    "PLACEMENTS",
]

CLASSES = (
    "_scene_",
    "bed",
    "nightstand",
    "wardrobe",
    "chair",
    "table",
    "cabinet",
    "lamp",
    "shelf",
    "bookshelf",
    "sofa",
    "tv_stand",
    "desk",
    "floor",
)
CLASS_TO_ID = {c: i for i, c in enumerate(CLASSES)}
SCENE_ID, FLOOR_ID = CLASS_TO_ID["_scene_"], CLASS_TO_ID["floor"]

PREDICATES = (
    "in",
    "left",
    "right",
    "front",
    "behind",
    "close by",
    "above",
    "standing on",
    "bigger than",
    "smaller than",
    "taller than",
    "shorter than",
    "symmetrical to",
    "same style as",
    "same super category as",
    "same material as",
)
PREDICATE_TO_ID = {p: i for i, p in enumerate(PREDICATES)}
P = PREDICATE_TO_ID
# inverse predicate id; -1 = no inverse (above, standing on, in), self for the symmetric ones
INVERSE_PREDICATE = np.array([-1, 2, 1, 4, 3, 5, -1, -1, 9, 8, 11, 10, 12, 13, 14, 15], dtype=np.int64)

ROOM_TYPES = ("bedroom", "livingroom", "diningroom")

FINE_TO_COARSE = {
    "armchair": "chair",
    "bookshelf": "bookshelf",
    "cabinet": "cabinet",
    "ceiling_lamp": "lamp",
    "chair": "chair",
    "chaise_longue_sofa": "sofa",
    "children_cabinet": "cabinet",
    "chinese_chair": "chair",
    "coffee_table": "table",
    "console_table": "table",
    "corner_side_table": "table",
    "desk": "desk",
    "dining_chair": "chair",
    "dining_table": "table",
    "double_bed": "bed",
    "dressing_chair": "chair",
    "dressing_table": "table",
    "kids_bed": "bed",
    "l_shaped_sofa": "sofa",
    "lazy_sofa": "sofa",
    "lounge_chair": "chair",
    "loveseat_sofa": "sofa",
    "multi_seat_sofa": "sofa",
    "nightstand": "nightstand",
    "pendant_lamp": "lamp",
    "round_end_table": "table",
    "shelf": "shelf",
    "single_bed": "bed",
    "sofa": "sofa",
    "stool": "chair",
    "table": "table",
    "tv_stand": "tv_stand",
    "wardrobe": "wardrobe",
    "wine_cabinet": "cabinet",
    "floor": "floor",
    "_scene_": "_scene_",
}
FINE_TO_COARSE.update({c: c for c in CLASSES})

# super categories (substitute of 3D-FUTURE's "super-category" field)
_SUPER = {
    "bed": 0,
    "sofa": 1,
    "chair": 1,
    "table": 2,
    "desk": 2,
    "nightstand": 3,
    "wardrobe": 3,
    "cabinet": 3,
    "shelf": 3,
    "bookshelf": 3,
    "tv_stand": 3,
    "lamp": 4,
}
SUPER_CATEGORY = np.array([_SUPER.get(c, -1) for c in CLASSES], dtype=np.int64)

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

SHAPE_RES = 16


# ---------------------------------------------------------------------------------------------------- the Scene
@dataclass
class Scene:
    """One room: nodes (objects, then ``floor``, then optionally ``_scene_``), boxes, triples and attributes.

    Attributes:
        room_type: one of :data:`ROOM_TYPES`.
        classes: ``(n,)`` int64 class ids into :data:`CLASSES`.
        boxes: ``(n, 7)`` float64 ``param7`` boxes (metres, room-centred; the ``_scene_`` node holds zeros).
        triples: ``(T, 3)`` int64 ``[subject, predicate, object]``.
        shape_variant: ``(n,)`` int64 style variant of each object's shape (0..7), -1 where unknown (floor,
            ``_scene_``, loaded files).
        style, material: ``(n,)`` int64 attributes (-1 where not applicable).
        name: an identifier (the scan id for loaded files).
    """

    room_type: str
    classes: np.ndarray
    boxes: np.ndarray
    triples: np.ndarray
    shape_variant: np.ndarray
    style: np.ndarray = None
    material: np.ndarray = None
    name: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def num_nodes(self) -> int:
        return int(self.classes.shape[0])

    @property
    def object_mask(self) -> np.ndarray:
        """Nodes that are real objects (not ``floor`` / ``_scene_``)."""
        return (self.classes != SCENE_ID) & (self.classes != FLOOR_ID)

    def copy(self) -> Scene:
        return Scene(
            self.room_type,
            self.classes.copy(),
            self.boxes.copy(),
            self.triples.copy(),
            self.shape_variant.copy(),
            None if self.style is None else self.style.copy(),
            None if self.material is None else self.material.copy(),
            self.name,
            dict(self.extra),
        )

    def __repr__(self):
        return (
            f"Scene({self.room_type!r}, nodes={self.num_nodes}, objects={int(self.object_mask.sum())}, "
            f"triples={len(self.triples)})"
        )


def check_scene(scene: Scene, name: str = "scene") -> Scene:
    """Validate a :class:`Scene`: known room type, class and predicate ids, triples inside the node range."""
    if scene.room_type not in ROOM_TYPES:
        raise ValueError(f"`{name}.room_type` must be one of {ROOM_TYPES}, got {scene.room_type!r}")
    classes = np.asarray(scene.classes)
    if classes.ndim != 1 or classes.size == 0:
        raise ValueError(f"`{name}` is empty: a scene needs at least one node")
    check_labels(torch.as_tensor(classes), num_classes=len(CLASSES), name=f"{name}.classes")
    if not ((classes != SCENE_ID) & (classes != FLOOR_ID)).any():
        raise ValueError(f"`{name}` is empty: it has no object nodes (only floor/_scene_)")
    n = classes.size
    boxes = np.asarray(scene.boxes)
    if boxes.shape != (n, 7):
        raise ValueError(f"`{name}.boxes` must have shape ({n}, 7), got {boxes.shape}")
    if not np.isfinite(boxes).all():
        raise ValueError(f"`{name}.boxes` contains NaN or infinite values")
    triples = np.asarray(scene.triples)
    if triples.ndim != 2 or (triples.size and triples.shape[1] != 3):
        raise ValueError(f"`{name}.triples` must have shape (T, 3), got {triples.shape}")
    if triples.size:
        check_edge_index(torch.as_tensor(triples[:, [0, 2]].T.copy()), n, name=f"{name}.triples (subject/object)")
        check_labels(torch.as_tensor(triples[:, 1]), num_classes=len(PREDICATES), name=f"{name}.triples predicate")
    if np.asarray(scene.shape_variant).shape != (n,):
        raise ValueError(f"`{name}.shape_variant` must have shape ({n},)")
    return scene


# ---------------------------------------------------------------------------------------------------- geometry
def _as_boxes(boxes, name="boxes") -> np.ndarray:
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 7:
        raise ValueError(f"`{name}` must have shape (n, 7) (param7 boxes), got {boxes.shape}")
    return boxes


def box_corners(boxes) -> np.ndarray:
    """The 8 corners ``(n, 8, 3)`` of ``param7`` boxes (local offsets rotated by the yaw, plus the bottom centre)."""
    boxes = _as_boxes(boxes)
    l, h, w = boxes[:, 0:1], boxes[:, 1:2], boxes[:, 2:3]
    sx = np.array([-0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -0.5])
    sy = np.array([0, 0, 0, 0, 1, 1, 1, 1.0])
    sz = np.array([-0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5])
    lx, ly, lz = l * sx, h * sy, w * sz  # (n, 8)
    c, s = np.cos(boxes[:, 6:7]), np.sin(boxes[:, 6:7])
    x = c * lx - s * lz + boxes[:, 3:4]
    z = s * lx + c * lz + boxes[:, 5:6]
    y = ly + boxes[:, 4:5]
    return np.stack([x, y, z], axis=-1)


def aabb(boxes) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds ``(lo (n, 3), hi (n, 3))`` of the rotated ``param7`` boxes."""
    corners = box_corners(boxes)
    return corners.min(axis=1), corners.max(axis=1)


# ---------------------------------------------------------------------------------------------------- labelling
def label_relations(
    boxes,
    classes=None,
    style=None,
    material=None,
    floor_index=None,
    scene_index=None,
    seed: int | np.random.Generator = 0,
    dedup: bool = True,
    attribute_relations: bool = True,
) -> np.ndarray:
    """Relations of one room from its boxes, with SG-FRONT's labelling rules (notes Sec. 2.3).

    Args:
        boxes: ``(n, 7)`` ``param7`` boxes in metres (room-centred).
        classes: ``(n,)`` class ids; nodes of class ``floor`` / ``_scene_`` are skipped in the object-object tests.
            Required for ``same super category as``.
        style, material: ``(n,)`` attributes for ``same style as`` / ``same material as`` (skipped when None).
        floor_index: node id of the floor: every object gets ``standing on`` floor if its bottom is within 0.02 m of
            0, ``above`` floor if its bottom is above 0.1 m.
        scene_index: node id of ``_scene_``: every other node gets an ``in`` edge to it.
        seed: the shuffle before the deduplication.
        dedup: remove the inverse of each triple (keeping the first in shuffled order).
        attribute_relations: add the ``same ... as`` relations.

    Returns:
        ``(T, 3)`` int64 triples ``[subject, predicate, object]``.
    """
    boxes = _as_boxes(boxes)
    n = boxes.shape[0]
    classes = np.full(n, 1, dtype=np.int64) if classes is None else np.asarray(classes, dtype=np.int64)
    is_obj = (classes != SCENE_ID) & (classes != FLOOR_ID)
    obj = np.flatnonzero(is_obj)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    out = []
    if obj.size >= 2:
        b = boxes[obj]
        lo, hi = aabb(b)
        corners = box_corners(b)
        bottom, top = b[:, 4], b[:, 4] + b[:, 1]
        vol = b[:, 0] * b[:, 1] * b[:, 2]
        S, O = np.meshgrid(np.arange(obj.size), np.arange(obj.size), indexing="ij")
        off = S != O
        s, o = S[off], O[off]
        rel = {}
        rel["left"] = hi[s, 2] - lo[o, 2] < 0.08
        rel["right"] = lo[s, 2] - hi[o, 2] > -0.08
        rel["behind"] = hi[s, 0] - lo[o, 0] < 0.08
        rel["front"] = lo[s, 0] - hi[o, 0] > -0.08
        rel["above"] = bottom[s] - top[o] > 0.05
        directional = rel["left"] | rel["right"] | rel["behind"] | rel["front"]
        rel["standing on"] = (np.abs(bottom[s] - top[o]) < 0.02) & ~directional
        r = (vol[s] - vol[o]) / vol[s]
        rel["bigger than"], rel["smaller than"] = r > 0.2, r < -0.2
        same_bottom = np.abs(bottom[s] - bottom[o]) < 0.01
        q = (top[s] - top[o]) / top[s]
        rel["taller than"], rel["shorter than"] = same_bottom & (q > 0.1), same_bottom & (q < -0.1)
        corner_d = np.sqrt(((corners[s][:, :, None, :] - corners[o][:, None, :, :]) ** 2).sum(-1)).min(axis=(1, 2))
        gap = np.maximum(0.0, np.maximum(lo[o] - hi[s], lo[s] - hi[o]))  # AABB gap per axis
        surface_d = np.sqrt((gap**2).sum(axis=1))
        rel["close by"] = ~rel["standing on"] & ((corner_d < 0.2) | (surface_d < 0.2))
        mirrors = np.stack([b[s][:, [3, 5]] * m for m in ([-1, 1], [1, -1], [-1, -1])], axis=1)  # (k, 3, 2)
        mirror_d = np.sqrt(((mirrors - b[o][:, None, [3, 5]]) ** 2).sum(-1)).min(axis=1)
        rel["symmetrical to"] = same_bottom & (mirror_d < 0.2)
        if attribute_relations:
            if style is not None:
                st = np.asarray(style)[obj]
                rel["same style as"] = (st[s] == st[o]) & (st[s] >= 0)
            sup = SUPER_CATEGORY[classes[obj]]
            rel["same super category as"] = (sup[s] == sup[o]) & (sup[s] >= 0)
            if material is not None:
                mt = np.asarray(material)[obj]
                rel["same material as"] = (mt[s] == mt[o]) & (mt[s] >= 0)
        for pred, mask in rel.items():
            if mask.any():
                k = int(mask.sum())
                out.append(np.stack([obj[s[mask]], np.full(k, P[pred]), obj[o[mask]]], axis=1))
    triples = np.concatenate(out, axis=0) if out else np.zeros((0, 3), dtype=np.int64)
    if dedup and len(triples):
        triples = triples[rng.permutation(len(triples))]
        triples = _dedup_inverse(triples)
    extra = []
    if floor_index is not None and obj.size:
        bottom = boxes[obj, 4]
        on = np.abs(bottom) < 0.02
        above = bottom > 0.1
        extra.append(
            np.stack([obj[on], np.full(int(on.sum()), P["standing on"]), np.full(int(on.sum()), floor_index)], axis=1)
        )
        extra.append(
            np.stack(
                [obj[above], np.full(int(above.sum()), P["above"]), np.full(int(above.sum()), floor_index)], axis=1
            )
        )
    if scene_index is not None:
        others = np.delete(np.arange(n, dtype=np.int64), scene_index)
        extra.append(np.stack([others, np.zeros_like(others), np.full_like(others, scene_index)], axis=1))
    if extra:
        triples = np.concatenate([triples] + extra, axis=0)
    return triples.astype(np.int64)


def _dedup_inverse(triples: np.ndarray) -> np.ndarray:
    """Keep, for every triple and its inverse ``(o, inv(p), s)``, only the one that comes first (vectorised)."""
    s, p, o = triples[:, 0], triples[:, 1], triples[:, 2]
    inv = INVERSE_PREDICATE[p]
    has_inv = inv >= 0
    big = int(triples[:, [0, 2]].max()) + 1 if len(triples) else 1
    key_fwd = (s * len(PREDICATES) + p) * big + o
    key_inv = (o * len(PREDICATES) + np.where(has_inv, inv, p)) * big + s
    key = np.where(has_inv, np.minimum(key_fwd, key_inv), key_fwd)
    # triples without an inverse are always kept (unique key per position)
    key = np.where(has_inv, key, -1 - np.arange(len(triples)))
    _, first = np.unique(key, return_index=True)
    keep = np.zeros(len(triples), dtype=bool)
    keep[first] = True
    return triples[keep]


# ---------------------------------------------------------------------------------------------------- shapes
def _shape_primitives(cls: str, v: int):
    """Primitives of class ``cls`` with binary style parameters ``a, b, c`` = the bits of ``v`` (unit cube,
    x = length, y = height, z = depth, front = +z)."""
    a, b, c = v & 1, (v >> 1) & 1, (v >> 2) & 1
    boxes, cyls = [], []
    leg = 0.08 + 0.06 * c

    def legs(top, t=leg, inset=0.0):
        for x0 in (inset, 1 - inset - t):
            for z0 in (inset, 1 - inset - t):
                boxes.append((x0, 0, z0, x0 + t, top, z0 + t))

    if cls == "bed":
        mt = 0.35 + 0.15 * c
        boxes.append((0, 0.1, 0, 1, 0.1 + mt, 1))  # mattress
        legs(0.1)
        boxes.append((0, 0, 0, 1, 0.75 + 0.25 * a, 0.12))  # headboard
        if b:
            boxes.append((0, 0, 0.9, 1, 0.6, 1))  # footboard
    elif cls == "nightstand" or cls == "cabinet" or cls == "tv_stand":
        base = 0.12 if not a else 0.0
        if a:
            boxes.append((0.05, 0, 0.05, 0.95, 0.1, 0.95))  # plinth
        else:
            legs(0.15)
        boxes.append((0, 0.1 + base * 0.3, 0, 1, 1, 1))
        if b:  # groove (carved later)
            boxes.append(("carve", 0.48, 0.2, 0.9, 0.52, 0.9, 1.0))
        if c:
            boxes.append((0, 0.92, 0, 1, 1, 1))
    elif cls == "wardrobe":
        boxes.append((0, 0.06 if a else 0.0, 0, 1, 0.94 if c else 1.0, 1))
        if a:
            boxes.append((0.05, 0, 0.05, 0.95, 0.06, 0.95))
        if c:
            boxes.append((-0.02, 0.94, -0.02, 1.02, 1.0, 1.02))
        if b:
            boxes.append(("carve", 0.47, 0.1, 0.85, 0.53, 0.9, 1.0))
    elif cls == "chair":
        seat = 0.45
        legs(seat)
        boxes.append((0, seat, 0, 1, seat + 0.1, 1))
        boxes.append((0, seat, 0, 1, 0.8 + 0.2 * a, 0.15))  # back
        if b:
            boxes.append((0, seat, 0, 0.12, 0.7, 1))
            boxes.append((0.88, seat, 0, 1, 0.7, 1))
    elif cls == "table" or cls == "desk":
        th = 0.08 + 0.08 * b
        if a and cls == "table":
            cyls.append((0.5, 0.5, 0.5, 1 - th, 1.0))  # round top
        else:
            boxes.append((0, 1 - th, 0, 1, 1, 1))
        if c:
            boxes.append((0.4, 0, 0.4, 0.6, 1 - th, 0.6))  # pedestal
            boxes.append((0.2, 0, 0.2, 0.8, 0.08, 0.8))
        else:
            legs(1 - th, t=0.1)
        if cls == "desk" and a:
            boxes.append((0.65, 0, 0, 1, 1 - th, 1))  # drawer block
    elif cls == "lamp":
        sh = 0.3 + 0.2 * a
        cyls.append((0.5, 0.5, sh, 0.5, 1.0))  # shade
        st = 0.06 + 0.06 * b
        boxes.append((0.5 - st, 0.0 if c else 0.1, 0.5 - st, 0.5 + st, 0.5, 0.5 + st))
        if c:
            cyls.append((0.5, 0.5, 0.3, 0.0, 0.08))
    elif cls == "shelf" or cls == "bookshelf":
        n_boards = 3 + 2 * a
        for y in np.linspace(0, 0.94, n_boards):
            boxes.append((0, y, 0, 1, y + 0.06, 1))
        boxes.append((0, 0, 0, 0.08, 1, 1))
        boxes.append((0.92, 0, 0, 1, 1, 1))
        if b:
            boxes.append((0, 0, 0, 1, 1, 0.08))  # back panel
        if c:
            boxes.append((0.46, 0, 0, 0.54, 1, 1))  # divider
    elif cls == "sofa":
        arm = 0.1 + 0.1 * a
        boxes.append((0, 0.1, 0, 1, 0.5, 1))
        boxes.append((0, 0.1, 0, 1, 0.8 + 0.2 * b, 0.25))
        boxes.append((0, 0.1, 0, arm, 0.65, 1))
        boxes.append((1 - arm, 0.1, 0, 1, 0.65, 1))
        if c:
            legs(0.1, t=0.08)
        else:
            boxes.append((0, 0, 0, 1, 0.1, 1))
    return boxes, cyls


@cache
def _shape_grid(cls_id: int, variant: int) -> np.ndarray:
    cls = CLASSES[cls_id]
    if cls in ("_scene_", "floor") or variant < 0:
        return np.zeros((SHAPE_RES,) * 3, dtype=bool)
    c = (np.arange(SHAPE_RES) + 0.5) / SHAPE_RES
    X, Y, Z = np.meshgrid(c, c, c, indexing="ij")
    grid = np.zeros((SHAPE_RES,) * 3, dtype=bool)
    boxes, cyls = _shape_primitives(cls, int(variant))
    for bx in boxes:
        carve = bx[0] == "carve"
        x0, y0, z0, x1, y1, z1 = bx[1:] if carve else bx
        inside = (X >= x0) & (X <= x1) & (Y >= y0) & (Y <= y1) & (Z >= z0) & (Z <= z1)
        grid = grid & ~inside if carve else grid | inside
    for cx, cz, r, y0, y1 in cyls:
        grid |= ((X - cx) ** 2 + (Z - cz) ** 2 <= r * r) & (Y >= y0) & (Y <= y1)
    grid.flags.writeable = False
    return grid


def shape_grids(classes, variants) -> np.ndarray:
    """Occupancy grids ``(n, 16, 16, 16)`` (bool, axes x = length, y = height, z = depth) of the given objects.

    ``floor``, ``_scene_`` and unknown variants (-1) give empty grids.
    """
    classes = np.asarray(classes, dtype=np.int64).ravel()
    variants = np.asarray(variants, dtype=np.int64).ravel()
    if classes.shape != variants.shape:
        raise ValueError(f"`classes` and `variants` must have the same length, got {classes.size} and {variants.size}")
    check_labels(torch.as_tensor(classes), num_classes=len(CLASSES), name="classes")
    if variants.size and variants.max() > 7:
        raise ValueError(f"`variants` must lie in [-1, 7], got {int(variants.max())}")
    if classes.size == 0:
        return np.zeros((0,) + (SHAPE_RES,) * 3, dtype=bool)
    return np.stack([_shape_grid(int(c), int(v)) for c, v in zip(classes, variants)])


class ShapeCodec:
    """PCA code of the tiny occupancy grids, whitened per component (stands in for EchoScene's frozen VQ-VAE).

    ``fit`` on training shapes, then ``encode`` grids to ``(n, dim)`` codes and ``decode`` codes back to occupancy
    probabilities (threshold at 0.5 for voxels). Deterministic (SVD).
    """

    def __init__(self, dim: int = 16):
        if not isinstance(dim, int) or dim <= 0:
            raise ValueError(f"`dim` must be a positive integer, got {dim!r}")
        self.dim = dim
        self.mean_ = None

    def fit(self, grids) -> ShapeCodec:
        G = np.asarray(grids).reshape(len(grids), -1)
        if G.shape[0] < 2:
            raise ValueError(f"`grids` must hold at least 2 shapes to fit a ShapeCodec, got {G.shape[0]}")
        _, first = np.unique(np.packbits(G >= 0.5, axis=1), axis=0, return_index=True)
        X = G[np.sort(first)].astype(np.float64)  # each distinct shape counted once
        if self.dim > min(X.shape):
            raise ValueError(f"`dim`={self.dim} exceeds the rank available from {X.shape[0]} distinct shapes")
        self.mean_ = X.mean(axis=0)
        _, _sv, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        self.components_ = vt[: self.dim]
        codes = (X - self.mean_) @ self.components_.T
        self.scale_ = codes.std(axis=0) + 1e-6
        return self

    def _check(self):
        if self.mean_ is None:
            raise ValueError("this ShapeCodec is not fitted yet: call `fit` first")

    def encode(self, grids) -> np.ndarray:
        self._check()
        X = np.asarray(grids, dtype=np.float64).reshape(len(grids), -1)
        return ((X - self.mean_) @ self.components_.T) / self.scale_

    def decode(self, codes) -> np.ndarray:
        self._check()
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.dim:
            raise ValueError(f"`codes` must have shape (n, {self.dim}), got {codes.shape}")
        X = (codes * self.scale_) @ self.components_ + self.mean_
        return np.clip(X, 0.0, 1.0).reshape(len(codes), SHAPE_RES, SHAPE_RES, SHAPE_RES)

    def state_dict(self) -> dict:
        self._check()
        return {"dim": self.dim, "mean": self.mean_, "components": self.components_, "scale": self.scale_}

    @classmethod
    def from_state_dict(cls, state) -> ShapeCodec:
        out = cls(int(state["dim"]))
        out.mean_, out.components_, out.scale_ = (np.asarray(state[k]) for k in ("mean", "components", "scale"))
        return out


def consistency_pairs(scene: Scene) -> np.ndarray:
    """Object pairs ``(P, 2)`` (i < j) of the same class with the same shape variant (the analogue of equal jids)."""
    v, c = scene.shape_variant, scene.classes
    obj = np.flatnonzero(scene.object_mask & (v >= 0))
    if obj.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    I, J = np.triu_indices(obj.size, k=1)
    i, j = obj[I], obj[J]
    same = (c[i] == c[j]) & (v[i] == v[j])
    return np.stack([i[same], j[same]], axis=1)


# ---------------------------------------------------------------------------------------------------- box codec
class BoxCodec:
    """SG-FRONT's box normalisation: per-room-type min-max scaling of ``[l, h, w, x, y, z]`` to [-1, 1] and the yaw
    as (sin, cos), giving ``[l, h, w, x, y, z, sin theta, cos theta]``.

    ``fit`` takes the statistics from training scenes (object and floor nodes; ``_scene_`` excluded) per room type.
    """

    def __init__(self):
        self.bounds_ = None

    def fit(self, scenes: Sequence[Scene]) -> BoxCodec:
        if len(scenes) == 0:
            raise ValueError("`scenes` is empty: BoxCodec.fit needs training scenes")
        self.bounds_ = {}
        for rt in ROOM_TYPES:
            sel = [s.boxes[s.classes != SCENE_ID, :6] for s in scenes if s.room_type == rt]
            if not sel:
                continue
            allb = np.concatenate(sel, axis=0)
            lo, hi = allb.min(axis=0), allb.max(axis=0)
            hi = np.where(hi - lo < 1e-6, lo + 1e-6, hi)
            self.bounds_[rt] = (lo, hi)
        return self

    def _bounds(self, room_type):
        if self.bounds_ is None:
            raise ValueError("this BoxCodec is not fitted yet: call `fit` first")
        if room_type not in self.bounds_:
            raise ValueError(f"BoxCodec has no statistics for room type {room_type!r} (fitted: {sorted(self.bounds_)})")
        return self.bounds_[room_type]

    def encode(self, boxes, room_type: str) -> np.ndarray:
        """``(n, 7)`` param7 -> ``(n, 8)`` normalised boxes."""
        boxes = _as_boxes(boxes)
        lo, hi = self._bounds(room_type)
        scaled = 2.0 * (boxes[:, :6] - lo) / (hi - lo) - 1.0
        return np.concatenate([scaled, np.sin(boxes[:, 6:7]), np.cos(boxes[:, 6:7])], axis=1)

    def decode(self, codes, room_type: str) -> np.ndarray:
        """``(n, 8)`` normalised boxes -> ``(n, 7)`` param7 (yaw by atan2, negative sizes clipped to 0)."""
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != 8:
            raise ValueError(f"`codes` must have shape (n, 8), got {codes.shape}")
        lo, hi = self._bounds(room_type)
        raw = (codes[:, :6] + 1.0) / 2.0 * (hi - lo) + lo
        raw[:, :3] = np.maximum(raw[:, :3], 0.0)
        theta = np.arctan2(codes[:, 6], codes[:, 7])
        return np.concatenate([raw, theta[:, None]], axis=1)

    def state_dict(self) -> dict:
        if self.bounds_ is None:
            raise ValueError("this BoxCodec is not fitted yet: call `fit` first")
        return {rt: (lo.tolist(), hi.tolist()) for rt, (lo, hi) in self.bounds_.items()}

    @classmethod
    def from_state_dict(cls, state) -> BoxCodec:
        out = cls()
        out.bounds_ = {rt: (np.asarray(lo), np.asarray(hi)) for rt, (lo, hi) in state.items()}
        return out


# ---------------------------------------------------------------------------------------------------- generator
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


RELATION_MODES = ("all", "intra_group")
PLACEMENTS = ("free", "anchored")


def restrict_relations(scene: Scene, relations: str = "intra_group") -> Scene:
    """A copy of ``scene`` whose graph keeps only some of the relations (boxes unchanged).

    ``relations="all"`` keeps every triple. ``"intra_group"`` keeps the triples between two objects of the same
    furniture group (``scene.extra["group"]``, written by :func:`generate_scenes`) and every triple with a ``floor``
    or ``_scene_`` end (standing on / above floor, ``in``); the relations that tie groups to each other are
    dropped, so the graph fixes the arrangement inside each group but not where the groups stand in the room.
    """
    if relations not in RELATION_MODES:
        raise ValueError(f"unknown `relations` {relations!r}; expected one of {RELATION_MODES}")
    out = scene.copy()
    if relations == "all":
        return out
    if "group" not in scene.extra:
        raise ValueError(
            "`relations='intra_group'` needs the furniture groups in scene.extra['group'] "
            "(scenes from generate_scenes have them)"
        )
    group = np.asarray(scene.extra["group"], dtype=np.int64)
    t = scene.triples
    s, o = t[:, 0], t[:, 2]
    non_object = ~scene.object_mask
    keep = non_object[s] | non_object[o] | ((group[s] == group[o]) & (group[s] >= 0))
    out.triples = t[keep].copy()
    return out


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

    Args:
        num_scenes: number of rooms.
        room_types: one room type or a list of them (default: all three of :data:`ROOM_TYPES`).
        seed: the scenes are a deterministic function of ``seed`` (and scene ``i`` depends only on ``seed`` and
            ``i``, so a longer list extends a shorter one).
        use_scene_node: append the ``_scene_`` node with an ``in`` edge from every other node.
        attribute_relations: add ``same style / super category / material as``.
        relations: ``"all"`` (default): every relation SG-FRONT's labelling gives, which relates every pair of
            separated objects along both axes. ``"intra_group"``: only the relations between objects of the same
            furniture group plus the object-floor and ``in`` edges (:func:`restrict_relations`); the boxes, and
            the scenes otherwise, are identical to ``"all"`` for the same seed. Each object's furniture group is
            in ``scene.extra["group"]`` (-1 for ``floor`` / ``_scene_``) in both modes.
        placement: ``"free"`` (default): a furniture group's position has continuous freedom that the relations
            do not pin down: the bed (with its nightstands and lamps) is centred on its wall with probability 0.25
            and otherwise anywhere along it with room for a nightstand on either side, the dining table (with its
            chairs and lamp) anywhere in the room where it and its chairs fit 0.1 m from the walls, the sofa group
            anywhere along its wall (as in both modes). ``"anchored"``: the earlier generator, kept to reproduce
            earlier results: the bed centred on its wall or 0.3 m off centre, the dining table within 0.4 m of the
            room centre. The groups' internal arrangement and the labelling are the same in both.
    """
    if relations not in RELATION_MODES:
        raise ValueError(f"unknown `relations` {relations!r}; expected one of {RELATION_MODES}")
    if placement not in PLACEMENTS:
        raise ValueError(f"unknown `placement` {placement!r}; expected one of {PLACEMENTS}")
    if not isinstance(num_scenes, (int, np.integer)) or num_scenes < 0:
        raise ValueError(f"`num_scenes` must be a non-negative integer, got {num_scenes!r}")
    if room_types is None:
        room_types = ROOM_TYPES
    if isinstance(room_types, str):
        room_types = (room_types,)
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


# ---------------------------------------------------------------------------------------------------- SG-FRONT files
def write_sgfront(scenes: Sequence[Scene], directory, room_type: str, split: str = "trainval") -> tuple[Path, Path]:
    """Write scenes in the published SG-FRONT layout: ``relationships_{room}_{split}.json`` (``{"scans": [{"scan",
    "objects": {"1": class}, "relationships": [[s, o, p, name]]}]}``, 1-based object ids, predicate ids of
    ``relationships.txt`` i.e. without ``in``) and ``obj_boxes_{room}_{split}.json`` (``{scan: {"1": {"param7"}},
    "scene_center"}``). ``_scene_`` nodes and ``in`` edges are not written (the loader adds them)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    scans, boxes_out = [], {}
    for k, sc in enumerate(scenes):
        name = sc.name or f"scene_{k}"
        keep = np.flatnonzero(sc.classes != SCENE_ID)
        remap = {int(old): new + 1 for new, old in enumerate(keep)}
        objects = {str(remap[int(i)]): CLASSES[int(sc.classes[i])] for i in keep}
        rels = [
            [remap[int(s)], remap[int(o)], int(p), PREDICATES[int(p)]]
            for s, p, o in sc.triples
            if p != 0 and int(s) in remap and int(o) in remap
        ]
        scans.append({"scan": name, "objects": objects, "relationships": rels})
        center = np.array([0.3, 0.0, -0.2])
        entry = {str(remap[int(i)]): {"param7": (sc.boxes[i] + np.r_[0, 0, 0, center, 0]).tolist()} for i in keep}
        entry["scene_center"] = center.tolist()
        boxes_out[name] = entry
    rel_path = directory / f"relationships_{room_type}_{split}.json"
    box_path = directory / f"obj_boxes_{room_type}_{split}.json"
    rel_path.write_text(json.dumps({"scans": scans}))
    box_path.write_text(json.dumps(boxes_out))
    (directory / "relationships.txt").write_text("\n".join(PREDICATES[1:]) + "\n")
    return rel_path, box_path


def load_sgfront(
    root, room_type: str = "bedroom", split: str = "trainval", use_scene_node: bool = True, mapping: dict | None = None
) -> list[Scene]:
    """Load SG-FRONT scenes (``relationships_{room}_{split}.json`` + ``obj_boxes_{room}_{split}.json`` in ``root``).

    Fine class names are mapped to the coarse classes (``mapping`` or :data:`FINE_TO_COARSE`; a ``mapping.json`` in
    ``root`` is used when present). Positions are made relative to ``scene_center``. Unknown class or predicate names
    and relations to objects that do not exist raise :class:`ValueError`.
    """
    if room_type not in ROOM_TYPES:
        raise ValueError(f"`room_type` must be one of {ROOM_TYPES}, got {room_type!r}")
    root = Path(root)
    rel_path = root / f"relationships_{room_type}_{split}.json"
    box_path = root / f"obj_boxes_{room_type}_{split}.json"
    for p in (rel_path, box_path):
        if not p.exists():
            raise ValueError(f"SG-FRONT file {p} does not exist")
    if mapping is None:
        mapping = dict(FINE_TO_COARSE)
        if (root / "mapping.json").exists():
            mapping.update(json.loads((root / "mapping.json").read_text()))
    pred_names = list(PREDICATES[1:])
    if (root / "relationships.txt").exists():
        pred_names = [ln.strip().lower() for ln in (root / "relationships.txt").read_text().splitlines() if ln.strip()]
    rels = json.loads(rel_path.read_text())
    box_data = json.loads(box_path.read_text())
    scenes = []
    for scan in rels["scans"]:
        sid = scan["scan"]
        if sid not in box_data:
            raise ValueError(f"scan {sid!r} has no entry in {box_path.name}")
        ids = sorted(scan["objects"], key=lambda k: int(k))
        if not ids:
            raise ValueError(f"scan {sid!r} is empty: it has no objects")
        center = np.asarray(box_data[sid].get("scene_center", [0, 0, 0]), dtype=np.float64)
        classes, boxes = [], []
        for k in ids:
            name = scan["objects"][k]
            coarse = mapping.get(name)
            if coarse not in CLASS_TO_ID:
                raise ValueError(f"scan {sid!r}: unknown object class {name!r} for object {k}")
            classes.append(CLASS_TO_ID[coarse])
            if k not in box_data[sid]:
                raise ValueError(f"scan {sid!r}: object {k} has no box in {box_path.name}")
            b = np.asarray(box_data[sid][k]["param7"], dtype=np.float64).copy()
            b[3:6] -= center
            boxes.append(b)
        index = {int(k): i for i, k in enumerate(ids)}
        n = len(ids)
        triples = []
        for r in scan["relationships"]:
            s, o, p = int(r[0]), int(r[1]), int(r[2])
            if s not in index or o not in index:
                raise ValueError(f"scan {sid!r}: relation {r} refers to an object that does not exist")
            if not 1 <= p <= len(pred_names) or pred_names[p - 1] not in PREDICATE_TO_ID:
                raise ValueError(f"scan {sid!r}: unknown predicate id {p} in relation {r}")
            triples.append([index[s], PREDICATE_TO_ID[pred_names[p - 1]], index[o]])
        if use_scene_node:
            classes.append(SCENE_ID)
            boxes.append(np.zeros(7))
            triples += [[i, 0, n] for i in range(n)]
        scenes.append(
            Scene(
                room_type,
                np.asarray(classes, dtype=np.int64),
                np.asarray(boxes),
                np.asarray(triples, dtype=np.int64).reshape(-1, 3),
                np.full(len(classes), -1, dtype=np.int64),
                name=str(sid),
            )
        )
    return scenes


# ---------------------------------------------------------------------------------------------------- PyG batching
def scene_to_data(scene: Scene, box_codec: BoxCodec, shape_codec: ShapeCodec | None = None):
    """One scene as a :class:`torch_geometric.data.Data`.

    Fields: ``node_class`` (n,) int64, ``box`` (n, 8) normalised boxes (zeros for ``_scene_``), ``box_mask`` (n,)
    nodes whose box is real (not ``_scene_``), ``shape_code`` (n, dim) and ``shape_mask`` (n,) objects with a known
    shape (when a shape codec is given), ``edge_index`` (2, T) subject -> object, ``edge_type`` (T,) predicate ids,
    ``room_type`` (1,) index into :data:`ROOM_TYPES`.
    """
    from torch_geometric.data import Data

    check_scene(scene)
    n = scene.num_nodes
    box = box_codec.encode(scene.boxes, scene.room_type)
    box_mask = scene.classes != SCENE_ID
    box[~box_mask] = 0.0
    data = Data(
        node_class=torch.as_tensor(scene.classes, dtype=torch.long),
        box=torch.as_tensor(box, dtype=torch.float32),
        box_mask=torch.as_tensor(box_mask),
        edge_index=torch.as_tensor(scene.triples[:, [0, 2]].T.copy(), dtype=torch.long).reshape(2, -1),
        edge_type=torch.as_tensor(scene.triples[:, 1], dtype=torch.long),
        room_type=torch.tensor([ROOM_TYPES.index(scene.room_type)]),
        num_nodes=n,
    )
    if shape_codec is not None:
        known = scene.object_mask & (scene.shape_variant >= 0)
        codes = np.zeros((n, shape_codec.dim))
        if known.any():
            codes[known] = shape_codec.encode(shape_grids(scene.classes[known], scene.shape_variant[known]))
        data.shape_code = torch.as_tensor(codes, dtype=torch.float32)
        data.shape_mask = torch.as_tensor(known)
    return data


def scenes_to_batch(scenes: Sequence[Scene], box_codec: BoxCodec, shape_codec: ShapeCodec | None = None):
    """Several scenes as one :class:`torch_geometric.data.Batch` (disjoint union; ``batch`` maps nodes to scenes)."""
    from torch_geometric.data import Batch

    if len(scenes) == 0:
        raise ValueError("`scenes` is empty")
    return Batch.from_data_list([scene_to_data(s, box_codec, shape_codec) for s in scenes])


def default_sgfront_root(root=None) -> Path | None:
    """Directory with real SG-FRONT files under the data root (``<root>/sg_front/raw``; the root resolved as
    :func:`graphdiff.data.data_root` does: argument > ``$GRAPHDIFF_DATA`` > user cache), or None."""
    from graphdiff.data.loaders import data_root

    base = data_root(root)
    for cand in (Path(base) / "sg_front" / "raw", Path(base) / "sg_front", Path(base) / "SG-FRONT"):
        if any(cand.glob("relationships_*_trainval.json")):
            return cand
    return None
