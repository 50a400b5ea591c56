"""Scene-graph relations: SG-FRONT's labelling rules, the sparse ``intra_group`` graphs, and consistency checks.

:func:`label_relations` derives the relations of a room from its boxes with the rules of SG-FRONT's automatic
labelling (CommonScenes, Zhai et al., NeurIPS 2023, https://arxiv.org/abs/2305.16283, Sec. 3; EchoScene,
https://arxiv.org/abs/2405.00915, Sec. 4): left/right along z, behind/front along x (0.08 m slack on the
axis-aligned bounds of the rotated boxes), above, standing on, bigger/smaller (relative volume 0.2), taller/shorter
(relative top 0.1, same bottom), close by (0.2 m), symmetrical to (mirrored centre within 0.2 m) and the attribute
relations, followed by a shuffle-then-remove-inverse deduplication (of ``a left b`` and ``b right a`` one is kept).

Close by: SG-FRONT measures the distance between mesh surfaces; here the distance between the axis-aligned bounds of
the two rotated boxes stands in for it (the tiny shapes fill their boxes), together with the oriented
corner-to-corner test.

:func:`self_relations` and :func:`contradicting_pairs` find the two kinds of inconsistent graphs:
a relation of a node to itself (``a left a``; an error wherever a graph enters the library) and a pair related in
both directions by an antisymmetric predicate (``a left b`` and ``b left a``, or ``a left b`` and ``a right b``; a
:class:`ContradictingRelationsWarning`, since graph edits create such pairs on purpose).

>>> import numpy as np
>>> boxes = np.array([[1, 1, 1, 0.5, 0, -1.0, 0], [1, 1, 1, 0, 0, 1.0, 0]])  # unit boxes, 1 m apart along z
>>> t = label_relations(boxes, attribute_relations=False, dedup=False)
>>> sorted(PREDICATES[p] for s, p, o in t if (s, o) == (0, 1))
['left']
>>> contradicting_pairs(np.array([[0, 1, 1], [1, 1, 0]])).tolist()  # 0 left 1 and 1 left 0
[[0, 1]]
"""

from __future__ import annotations

import numpy as np

from graphdiff.data.scenes.geometry import aabb, as_boxes, box_corners
from graphdiff.data.scenes.vocabulary import (
    ANTISYMMETRIC_PREDICATES,
    FLOOR_ID,
    INVERSE_PREDICATE,
    PREDICATES,
    SCENE_ID,
    SUPER_CATEGORY,
)
from graphdiff.data.scenes.vocabulary import PREDICATE_TO_ID as P

__all__ = [
    "label_relations",
    "RELATION_MODES",
    "restrict_relations",
    "self_relations",
    "contradicting_pairs",
    "describe_triple",
    "ContradictingRelationsWarning",
]

#: The ``relations`` modes of :func:`restrict_relations`.
RELATION_MODES = ("all", "intra_group")


class ContradictingRelationsWarning(UserWarning):
    """A scene graph relates a pair of nodes in both directions by an antisymmetric predicate (``a left b`` and
    ``b left a``). Graph edits create such graphs on purpose, so this is a warning, not an error; filter it with
    :func:`warnings.simplefilter` where that is intended.

    >>> import warnings
    >>> issubclass(ContradictingRelationsWarning, UserWarning)
    True
    """


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
    """Relations of one room from its boxes, with SG-FRONT's labelling rules (see the module docstring).

    Parameters
    ----------
    boxes : array of shape (n, 7)
        ``param7`` boxes in metres (room-centred).
    classes : array of shape (n,), optional
        Class ids; nodes of class ``floor`` / ``_scene_`` are skipped in the object-object tests. Needed for
        ``same super category as`` (default: every node a ``bed``).
    style, material : array of shape (n,), optional
        Attributes for ``same style as`` / ``same material as`` (skipped when None; -1 means not applicable).
    floor_index : int, optional
        Node id of the floor: every object gets ``standing on`` floor if its bottom is within 0.02 m of 0,
        ``above`` floor if its bottom is above 0.1 m.
    scene_index : int, optional
        Node id of ``_scene_``: every other node gets an ``in`` edge to it.
    seed : int or numpy.random.Generator
        The shuffle before the deduplication.
    dedup : bool
        Remove the inverse of each triple (keeping the first in shuffled order).
    attribute_relations : bool
        Add the ``same ... as`` relations.

    Returns
    -------
    numpy.ndarray of shape (T, 3), int64
        Triples ``[subject, predicate, object]``.
    """
    boxes = as_boxes(boxes)
    if not np.isfinite(boxes).all():
        raise ValueError("`boxes` contains NaN or infinite values")
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


def restrict_relations(scene, relations: str = "intra_group"):
    """A copy of ``scene`` whose graph keeps only some of the relations (boxes unchanged).

    ``relations="all"`` keeps every triple. ``"intra_group"`` keeps the triples between two objects of the same
    furniture group (``scene.extra["group"]``, written by :func:`generate_scenes`) and every triple with a ``floor``
    or ``_scene_`` end (standing on / above floor, ``in``); the relations that tie groups to each other are
    dropped, so the graph fixes the arrangement inside each group but not where the groups stand in the room.

    Parameters
    ----------
    scene : Scene
        The scene; ``"intra_group"`` needs its furniture groups in ``scene.extra["group"]``.
    relations : {"intra_group", "all"}, default "intra_group"
        Which triples to keep (one of :data:`RELATION_MODES`).

    Returns
    -------
    Scene
        A copy of ``scene`` with the kept triples.
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


def _check_triples(triples, name="triples") -> np.ndarray:
    t = np.asarray(triples)
    if t.size == 0:
        return np.zeros((0, 3), dtype=np.int64)
    if t.ndim != 2 or t.shape[1] != 3 or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"`{name}` must be an integer array of shape (T, 3), got {t.dtype} {t.shape}")
    return t.astype(np.int64, copy=False)


def self_relations(triples) -> np.ndarray:
    """Row ids of the triples that relate a node to itself (``subject == object``).

    Parameters
    ----------
    triples : numpy.ndarray of int, shape (T, 3)
        ``[subject, predicate, object]`` rows.

    Returns
    -------
    numpy.ndarray of int64, shape (k,)
    """
    t = _check_triples(triples)
    return np.flatnonzero(t[:, 0] == t[:, 2])


def contradicting_pairs(triples) -> np.ndarray:
    """Pairs of rows ``(P, 2)`` (``i < j``) whose triples contradict each other.

    Two triples contradict when, read through :data:`INVERSE_PREDICATE`, they put one antisymmetric predicate
    (:data:`ANTISYMMETRIC_PREDICATES`: left/right, front/behind, above, standing on, bigger/smaller,
    taller/shorter) on a pair in both directions: ``(a, left, b)`` with ``(b, left, a)`` or with ``(a, right, b)``.
    Duplicated triples do not contradict; self-relations are left to :func:`self_relations`.

    Parameters
    ----------
    triples : numpy.ndarray of int, shape (T, 3)
        ``[subject, predicate, object]`` rows.

    Returns
    -------
    numpy.ndarray of int64, shape (P, 2)
        Row ids ``(i, j)``, ``i < j``, of the contradicting pairs.
    """
    t = _check_triples(triples)
    if len(t) < 2:
        return np.zeros((0, 2), dtype=np.int64)
    s, p, o = t[:, 0], t[:, 1], t[:, 2]
    anti = np.isin(p, ANTISYMMETRIC_PREDICATES) & (s != o)
    # write every antisymmetric triple in one canonical form: the predicate with the smaller id of {p, inverse(p)}
    inv = INVERSE_PREDICATE[p]
    flip = anti & (inv >= 0) & (inv < p)
    cs, cp, co = np.where(flip, o, s), np.where(flip, inv, p), np.where(flip, s, o)
    rows = np.flatnonzero(anti)
    if rows.size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    big = int(max(cs[rows].max(), co[rows].max())) + 1
    fwd = (cp[rows] * big + cs[rows]) * big + co[rows]
    rev = (cp[rows] * big + co[rows]) * big + cs[rows]
    # every (i, j) with fwd[i] == rev[j]: a merge of the sorted keys, the equal ranges expanded with np.repeat
    order = np.argsort(fwd, kind="stable")
    lo = np.searchsorted(fwd[order], rev, side="left")
    count = np.searchsorted(fwd[order], rev, side="right") - lo
    j = np.repeat(np.arange(rev.size), count)
    offset = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    i = order[np.repeat(lo, count) + offset]
    a, b = rows[i], rows[j]
    pairs = np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1)
    return np.unique(pairs, axis=0).astype(np.int64).reshape(-1, 2)


def describe_triple(triple) -> str:
    """``"3 left of 5"``-style text of one triple, for messages."""
    s, p, o = (int(v) for v in triple)
    name = PREDICATES[p] if 0 <= p < len(PREDICATES) else f"predicate {p}"
    return f"{s} {name} {o}"
