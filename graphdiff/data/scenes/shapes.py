"""Tiny per-object shapes: a 16^3 occupancy grid per (class, style variant) and the consistency pairs.

The stand-in for EchoScene's 3D-FUTURE shapes (https://arxiv.org/abs/2405.00915, Sec. 3.4 and 4.1): each object class
has a parametric family of primitives (boxes, cylinders, carved grooves) with three binary style parameters, so 8
variants per class. In generated rooms the variant follows the scene style and instances of a class in one scene share
it with probability 0.8; :func:`consistency_pairs` lists the object pairs with the same class and variant (the
analogue of SG-FRONT's pairs of objects with the same 3D-FUTURE model id), on which shape consistency is measured.

>>> from graphdiff.data.scenes import CLASS_TO_ID
>>> grids = shape_grids([CLASS_TO_ID["chair"], CLASS_TO_ID["floor"]], [3, -1])
>>> grids.shape, bool(grids[0].any()), bool(grids[1].any())
((2, 16, 16, 16), True, False)
"""

from __future__ import annotations

from functools import cache

import numpy as np
import torch

from graphdiff.data.scenes.vocabulary import CLASSES
from graphdiff.data.validation import check_labels

__all__ = ["SHAPE_RES", "shape_grids", "consistency_pairs"]

#: Resolution of the occupancy grids of :func:`shape_grids` (``SHAPE_RES ** 3`` voxels per object).
SHAPE_RES = 16


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
    """Occupancy grids of the given objects.

    Parameters
    ----------
    classes : array-like of int, shape (n,)
        Class ids into :data:`~graphdiff.data.scenes.CLASSES`.
    variants : array-like of int, shape (n,)
        Shape variant of each object in ``[-1, 7]``; ``floor``, ``_scene_`` and unknown variants (-1) give empty
        grids.

    Returns
    -------
    numpy.ndarray of bool, shape (n, 16, 16, 16)
        Axes x = length, y = height, z = depth.
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


def consistency_pairs(scene) -> np.ndarray:
    """Object pairs of the same class with the same shape variant (the analogue of equal jids).

    Parameters
    ----------
    scene : Scene
        The scene.

    Returns
    -------
    numpy.ndarray of int64, shape (P, 2)
        Node ids ``(i, j)``, ``i < j``.
    """
    v, c = scene.shape_variant, scene.classes
    obj = np.flatnonzero(scene.object_mask & (v >= 0))
    if obj.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    I, J = np.triu_indices(obj.size, k=1)
    i, j = obj[I], obj[J]
    same = (c[i] == c[j]) & (v[i] == v[j])
    return np.stack([i[same], j[same]], axis=1)
