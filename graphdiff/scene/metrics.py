"""Metrics of generated scenes: SG constraint accuracy, layout MMD, and shape MMD / COV / 1-NNA / consistency.

EchoScene (https://arxiv.org/abs/2405.00915) Sec. 4.1-4.2 and Tables 2-3; the protocols follow the evaluation in the
authors' released code:

* **Relation (SG constraint) accuracy**, :func:`relation_accuracy`, with SG-FRONT's evaluation rules on the
  de-normalised boxes ``[l, h, w, x, y, z]`` (angle ignored, boxes axis-aligned, and, as in the authors'
  ``corners_from_box``, l laid along z and w along x for the IoU and corner tests):
  left/right :math:`z_s - z_o \\le -0.05` / :math:`\\ge 0.05`; front/behind :math:`x_s - x_o \\ge -0.05` /
  :math:`\\le 0.05`; these four also fail when :math:`\\mathrm{IoU}_{min} > 0.3` (intersection over the smaller
  volume, "strict"); bigger/smaller :math:`(V_s - V_o)/V_s \\ge 0.15` / :math:`\\le -0.15`; taller/shorter
  :math:`(\\mathrm{top}_s - \\mathrm{top}_o)/\\mathrm{top}_s \\ge 0.1` / :math:`\\le -0.1`; standing on
  :math:`|y_s - y_o| < 0.04` (bottom against bottom); close by: minimum corner-to-corner distance
  :math:`\\le 0.45`; symmetrical: the centre of s mirrored in x, z or both within 0.45 of o's centre.
  Groups: left/right, front/behind, bigger/smaller, taller/shorter (each the mean of its two relations), standing
  on, close by, symmetrical; ``mean`` is the mean of the 7 groups (mSG).
* **Layout MMD**, :func:`layout_mmd`: unbiased RBF-kernel :math:`\\mathrm{MMD}^2` between top-down class rasters
  (``res x res x C``, one channel per object class, the footprint of each oriented box) of two sets of rooms, per
  room type with the median-heuristic bandwidth of the reference rooms of that type, averaged over room types.
* **Shapes**, :func:`shape_metrics`: per class, MMD-CD, COV-CD and 1-NNA-CD (PointFlow definitions) between
  generated and reference shapes, each shape's surface voxels as a point cloud centred and scaled to unit max-abs;
  :func:`shape_consistency`: Chamfer distance between the generated shapes of consistency pairs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from graphdiff.data import scenes as S
from graphdiff.data.validation import check_bool, check_float, check_int, check_seed

__all__ = [
    "GROUPS",
    "relation_pass",
    "relation_accuracy",
    "top_down_raster",
    "layout_mmd",
    "shuffle_classes",
    "random_boxes",
    "surface_points",
    "chamfer_matrix",
    "shape_metrics",
    "shape_consistency",
]

_P = S.PREDICATE_TO_ID
GROUPS = {
    "left_right": ("left", "right"),
    "front_behind": ("front", "behind"),
    "bigger_smaller": ("bigger than", "smaller than"),
    "taller_shorter": ("taller than", "shorter than"),
    "standing_on": ("standing on",),
    "close_by": ("close by",),
    "symmetrical": ("symmetrical to",),
}
_EVALUATED = np.array(sorted({_P[p] for ps in GROUPS.values() for p in ps}))


def _eval_boxes(boxes):
    """Axis-aligned eval boxes with the authors' evaluation axis swap: x-extent = w, z-extent = l."""
    b = np.asarray(boxes, dtype=np.float64)
    lo = np.stack([b[:, 3] - b[:, 2] / 2, b[:, 4], b[:, 5] - b[:, 0] / 2], axis=1)
    hi = np.stack([b[:, 3] + b[:, 2] / 2, b[:, 4] + b[:, 1], b[:, 5] + b[:, 0] / 2], axis=1)
    return lo, hi


def relation_pass(boxes, triples) -> np.ndarray:
    """Pass (1) / fail (0) of every triple under the evaluation rules (see the module docstring).

    Parameters
    ----------
    boxes : array-like of shape (n, 7)
        ``param7`` boxes ``[l, h, w, x, y, z, angle]`` in metres (the angle is not read).
    triples : array-like of shape (T, 3)
        ``(subject, predicate id, object)`` rows.

    Returns
    -------
    numpy.ndarray of shape (T,)
        1.0 / 0.0 per triple, NaN for predicates that are not evaluated.
    """
    b = np.asarray(boxes, dtype=np.float64)
    t = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
    if b.ndim != 2 or b.shape[1] < 6:
        raise ValueError(f"`boxes` must have shape (n, 7), got {b.shape}")
    if not np.isfinite(b).all():
        raise ValueError("`boxes` contains NaN or infinite values")
    if t.size and (t[:, [0, 2]].min() < 0 or t[:, [0, 2]].max() >= len(b)):
        raise ValueError(f"`triples` refer to a node outside [0, {len(b)})")
    s, p, o = t[:, 0], t[:, 1], t[:, 2]
    lo, hi = _eval_boxes(b)
    vol = np.prod(hi - lo, axis=1)
    inter = np.prod(np.clip(np.minimum(hi[s], hi[o]) - np.maximum(lo[s], lo[o]), 0, None), axis=1)
    iou_min = inter / np.maximum(np.minimum(vol[s], vol[o]), 1e-9)
    not_overlapping = iou_min <= 0.3
    dx, dz = b[s, 3] - b[o, 3], b[s, 5] - b[o, 5]
    top = b[:, 4] + b[:, 1]
    out = np.full(len(t), np.nan)
    rules = {
        "left": (dz <= -0.05) & not_overlapping,
        "right": (dz >= 0.05) & not_overlapping,
        "front": (dx >= -0.05) & not_overlapping,
        "behind": (dx <= 0.05) & not_overlapping,
        "bigger than": (vol[s] - vol[o]) / np.maximum(vol[s], 1e-9) >= 0.15,
        "smaller than": (vol[s] - vol[o]) / np.maximum(vol[s], 1e-9) <= -0.15,
        "taller than": (top[s] - top[o]) / np.where(np.abs(top[s]) < 1e-9, 1e-9, top[s]) >= 0.1,
        "shorter than": (top[s] - top[o]) / np.where(np.abs(top[s]) < 1e-9, 1e-9, top[s]) <= -0.1,
        "standing on": np.abs(b[s, 4] - b[o, 4]) < 0.04,
    }
    if len(t):
        # corners of the axis-aligned eval boxes: (T, 8, 3)
        sel = np.array([[i >> 0 & 1, i >> 1 & 1, i >> 2 & 1] for i in range(8)], dtype=bool)
        cs = np.where(sel[None], hi[s][:, None], lo[s][:, None])
        co = np.where(sel[None], hi[o][:, None], lo[o][:, None])
        corner_d = np.sqrt(((cs[:, :, None] - co[:, None]) ** 2).sum(-1)).min(axis=(1, 2))
        rules["close by"] = corner_d <= 0.45
        c_s, c_o = b[s][:, [3, 5]], b[o][:, [3, 5]]
        mir = np.stack([c_s * m for m in ([-1, 1], [1, -1], [-1, -1])], axis=1)
        rules["symmetrical to"] = np.sqrt(((mir - c_o[:, None]) ** 2).sum(-1)).min(axis=1) <= 0.45
    for name, ok in rules.items():
        m = p == _P[name]
        out[m] = ok[m].astype(float)
    return out


def relation_accuracy(scenes: Sequence[S.Scene], triples: Sequence[np.ndarray] | None = None) -> dict:
    """SG constraint accuracy of ``scenes`` (boxes in metres) against their triples (or ``triples``).

    Parameters
    ----------
    scenes : sequence of Scene
        Rooms with boxes in metres.
    triples : sequence of array-like of shape (T_i, 3), optional
        One triple array per scene to score instead of the scenes' own triples.

    Returns
    -------
    dict
        ``{group: accuracy}`` for the 7 groups of :data:`GROUPS` (a group's accuracy is the mean of its
    relations' accuracies), ``mean`` (mSG), ``total`` (over all evaluated triples), ``directional`` (mean of
        left/right and front/behind) and ``counts`` (triples per group). Triples touching ``_scene_`` are skipped.
    """
    if triples is not None and len(triples) != len(scenes):
        raise ValueError(f"`triples` must hold one array per scene ({len(scenes)}), got {len(triples)}")
    passes = {p: [] for p in S.PREDICATES}
    for k, sc in enumerate(scenes):
        t = np.asarray(sc.triples if triples is None else triples[k], dtype=np.int64).reshape(-1, 3)
        keep = (sc.classes[t[:, 0]] != S.SCENE_ID) & (sc.classes[t[:, 2]] != S.SCENE_ID) & np.isin(t[:, 1], _EVALUATED)
        t = t[keep]
        res = relation_pass(sc.boxes, t)
        for pid in np.unique(t[:, 1]):
            passes[S.PREDICATES[pid]].append(res[t[:, 1] == pid])
    out, counts, everything = {}, {}, []
    for group, preds in GROUPS.items():
        accs, n = [], 0
        for p in preds:
            if passes[p]:
                v = np.concatenate(passes[p])
                accs.append(float(v.mean()))
                n += v.size
                everything.append(v)
        out[group] = float(np.mean(accs)) if accs else float("nan")
        counts[group] = n
    vals = [v for v in out.values() if not np.isnan(v)]
    out["mean"] = float(np.mean(vals)) if vals else float("nan")
    out["directional"] = float(np.nanmean([out["left_right"], out["front_behind"]]))
    out["total"] = float(np.concatenate(everything).mean()) if everything else float("nan")
    out["counts"] = counts
    return out


# ---------------------------------------------------------------------------------------------------- layout MMD
_RASTER_CLASSES = [i for i, c in enumerate(S.CLASSES) if c not in ("_scene_", "floor")]


def top_down_raster(scene: S.Scene, res: int = 32, extent: float = 4.5) -> np.ndarray:
    """Top-down class raster of a room: for every object class, the footprint of its oriented boxes.

    Parameters
    ----------
    scene : Scene
        A room with boxes in metres (room-centred).
    res : int
        Cells per side.
    extent : float
        The raster covers ``[-extent, extent]^2`` metres.

    Returns
    -------
    numpy.ndarray of shape (C, res, res)
        1.0 where an object of the channel's class covers the cell centre, else 0.0 (C: the object classes).
    """
    res = check_int(res, "res", minimum=1)
    extent = check_float(extent, "extent", minimum=0.0, low_open=True)
    c = (np.arange(res) + 0.5) / res * 2 * extent - extent
    X, Z = np.meshgrid(c, c, indexing="ij")
    pts = np.stack([X.ravel(), Z.ravel()], axis=1)  # (res^2, 2)
    obj = np.flatnonzero(scene.object_mask)
    out = np.zeros((len(_RASTER_CLASSES), res * res))
    if obj.size:
        b = scene.boxes[obj]
        d = pts[None] - b[:, None, [3, 5]]  # (n, res^2, 2)
        cth, sth = np.cos(b[:, 6])[:, None], np.sin(b[:, 6])[:, None]
        u = cth * d[..., 0] + sth * d[..., 1]  # local x (length axis)
        w = -sth * d[..., 0] + cth * d[..., 1]  # local z (depth axis)
        inside = (np.abs(u) <= b[:, 0:1] / 2) & (np.abs(w) <= b[:, 2:3] / 2)
        chan = np.searchsorted(_RASTER_CLASSES, scene.classes[obj])
        np.maximum.at(out, chan, inside.astype(float))
    return out.reshape(len(_RASTER_CLASSES), res, res)


def _mmd2_unbiased(X: torch.Tensor, Y: torch.Tensor, bandwidth: float) -> float:
    g = 1.0 / (2.0 * bandwidth**2)
    kxx, kyy, kxy = (torch.exp(-g * torch.cdist(a, b) ** 2) for a, b in ((X, X), (Y, Y), (X, Y)))
    m, n = len(X), len(Y)
    return float(
        (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
        + (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
        - 2 * kxy.mean()
    )


def layout_mmd(
    generated: Sequence[S.Scene],
    reference: Sequence[S.Scene],
    res: int = 32,
    bandwidth: float | None = None,
    extent: float = 4.5,
    by_room_type: bool = True,
) -> float:
    """Unbiased RBF-kernel :math:`\\mathrm{MMD}^2` between the top-down class rasters of two sets of rooms.

    Parameters
    ----------
    generated, reference : sequence of Scene
        The two sets of rooms (boxes in metres), at least 2 of each compared room type.
    res : int
        Raster resolution (``res x res`` cells per class channel, see :func:`top_down_raster`).
    bandwidth : float, optional
        RBF bandwidth :math:`\\sigma` (:math:`k(a, b) = \\exp(-\\lVert a - b \\rVert^2 / 2\\sigma^2)`); default: the
        median pairwise raster distance within ``reference`` (of each room type with ``by_room_type``).
    extent : float
        Half-width in metres of the rastered square around the room centre.
    by_room_type : bool
        Compare the rooms of each room type separately (each with its own median bandwidth) and average the
        per-type values weighted by the number of generated rooms of the type (default). The generated rooms of a
        graph-conditioned model have the room types of their graphs, so the differences between room types carry no
        information; pooled, they set the median bandwidth and leave a value about three times smaller for the same
        difference within a room type.

    Returns
    -------
    float
        The estimate of :math:`\\mathrm{MMD}^2`: 0 in expectation for two samples of one distribution (it can be
        slightly negative), larger for more different sets.

    Raises
    ------
    ValueError
        Fewer than 2 rooms on a side, or (``by_room_type``) a generated room type with fewer than 2 reference rooms.
    """
    if len(generated) < 2 or len(reference) < 2:
        raise ValueError("`generated` and `reference` must each hold at least 2 scenes")
    bandwidth = check_float(bandwidth, "bandwidth", minimum=0.0, low_open=True, allow_none=True)
    res = check_int(res, "res", minimum=1)
    extent = check_float(extent, "extent", minimum=0.0, low_open=True)
    by_room_type = check_bool(by_room_type, "by_room_type")
    if by_room_type:
        types = sorted({s.room_type for s in generated})
        parts = [
            ([s for s in generated if s.room_type == rt], [s for s in reference if s.room_type == rt]) for rt in types
        ]
    else:
        types, parts = ["all"], [(list(generated), list(reference))]
    values, weights = [], []
    for rt, (gen, ref) in zip(types, parts):
        if len(ref) < 2:
            raise ValueError(f"`reference` holds {len(ref)} {rt!r} room(s); `generated` has {len(gen)}: need 2 of each")
        if len(gen) < 2:  # a room type with one generated room: no unbiased estimate, left out
            continue
        X = torch.as_tensor(np.stack([top_down_raster(s, res, extent).ravel() for s in gen]), dtype=torch.float64)
        Y = torch.as_tensor(np.stack([top_down_raster(s, res, extent).ravel() for s in ref]), dtype=torch.float64)
        bw = bandwidth
        if bw is None:
            iu = torch.triu_indices(len(Y), len(Y), 1)
            bw = float(torch.cdist(Y, Y)[iu[0], iu[1]].median())
            if bw == 0.0:  # all reference rasters equal
                bw = 1.0
        values.append(_mmd2_unbiased(X, Y, bw))
        weights.append(len(gen))
    if not values:
        raise ValueError("`generated` holds fewer than 2 rooms of every room type: no room type can be compared")
    return float(np.average(values, weights=weights))


def shuffle_classes(scenes: Sequence[S.Scene], seed: int = 0) -> list[S.Scene]:
    """A baseline for :func:`layout_mmd`: copies of ``scenes`` whose object classes are permuted within each room
    (boxes, floor and ``_scene_`` kept).

    Parameters
    ----------
    scenes : sequence of Scene
        The rooms.
    seed : int
        Seed of the permutations.

    Returns
    -------
    list of Scene
    """
    rng = np.random.default_rng(check_seed(seed))
    out = []
    for sc in scenes:
        c = sc.copy()
        obj = np.flatnonzero(sc.object_mask)
        c.classes = np.asarray(sc.classes).copy()
        c.classes[obj] = rng.permutation(c.classes[obj])
        out.append(c)
    return out


def random_boxes(scenes: Sequence[S.Scene], reference: Sequence[S.Scene], seed: int = 0) -> list[S.Scene]:
    """A baseline for :func:`layout_mmd`: copies of ``scenes`` whose object boxes are drawn from the marginals of
    ``reference``: each of the 7 box parameters independently from the values of the reference objects of the same
    room type and class (of the room type when no reference object has the class).

    Parameters
    ----------
    scenes : sequence of Scene
        The rooms (their graphs and classes are kept).
    reference : sequence of Scene
        The rooms whose marginals are sampled (e.g. the training set).
    seed : int
        Seed of the draws.

    Returns
    -------
    list of Scene
    """
    rng = np.random.default_rng(check_seed(seed))
    pool: dict = {}
    for sc in reference:
        obj = np.flatnonzero(sc.object_mask)
        for key in [(sc.room_type, None)] + [(sc.room_type, int(c)) for c in np.unique(sc.classes[obj])]:
            sel = obj if key[1] is None else obj[sc.classes[obj] == key[1]]
            pool.setdefault(key, []).append(np.asarray(sc.boxes)[sel])
    pool = {k: np.concatenate(v) for k, v in pool.items()}
    out = []
    for sc in scenes:
        c = sc.copy()
        c.boxes = np.asarray(sc.boxes, dtype=np.float64).copy()
        for i in np.flatnonzero(sc.object_mask):
            values = pool.get((sc.room_type, int(sc.classes[i])), pool.get((sc.room_type, None)))
            if values is None:
                raise ValueError(f"`reference` holds no {sc.room_type!r} object to draw boxes from")
            c.boxes[i] = values[rng.integers(len(values), size=7), np.arange(7)]
        out.append(c)
    return out


# ---------------------------------------------------------------------------------------------------- shapes
def surface_points(grids, num_points: int = 256, seed: int = 0) -> torch.Tensor:
    """Point clouds of the surface voxels of occupancy grids (occupied with an empty 6-neighbour), centred and
    scaled to unit max-abs, sampled with replacement.

    Parameters
    ----------
    grids : array-like of bool, shape (n, r, r, r)
        Occupancy grids.
    num_points : int
        Points per shape.
    seed : int
        Seed of the draw (one generator for all the grids, in order).

    Returns
    -------
    torch.Tensor of shape (n, num_points, 3)
        float32; an empty grid gives zeros.
    """
    num_points = check_int(num_points, "num_points", minimum=1)
    seed = check_seed(seed)
    grids = np.asarray(grids, dtype=bool)
    if grids.ndim != 4:
        raise ValueError(f"`grids` must have shape (n, r, r, r), got {grids.shape}")
    rng = np.random.default_rng(seed)
    pad = np.pad(grids, ((0, 0), (1, 1), (1, 1), (1, 1)))
    interior = np.ones_like(grids)
    for ax in (1, 2, 3):
        for sh in (-1, 1):
            interior &= np.roll(pad, sh, axis=ax)[:, 1:-1, 1:-1, 1:-1]
    surf = grids & ~interior
    out = np.zeros((len(grids), num_points, 3))
    for i in range(len(grids)):  # one shape at a time: the number of surface voxels varies
        p = np.argwhere(surf[i]).astype(np.float64)
        if len(p) == 0:
            continue
        p -= p.mean(axis=0)
        p /= max(np.abs(p).max(), 1e-9)
        out[i] = p[rng.integers(len(p), size=num_points)]
    return torch.as_tensor(out, dtype=torch.float32)


def chamfer_matrix(A: torch.Tensor, B: torch.Tensor, chunk: int = 64) -> torch.Tensor:
    """Chamfer distance (mean squared nearest-neighbour distance, both directions) between every pair of clouds.

    Parameters
    ----------
    A : torch.Tensor of shape (m, p, 3)
        First set of point clouds.
    B : torch.Tensor of shape (n, q, 3)
        Second set of point clouds.
    chunk : int
        Clouds of ``A`` compared at once (memory).

    Returns
    -------
    torch.Tensor of shape (m, n)
    """
    out = torch.empty(len(A), len(B))
    for i in range(0, len(A), chunk):
        a = A[i : i + chunk]
        d = torch.cdist(a.reshape(-1, 3), B.reshape(-1, 3)) ** 2  # (ca*p, n*q)
        d = d.view(len(a), A.size(1), len(B), B.size(1))
        out[i : i + chunk] = d.min(dim=3).values.mean(dim=1) + d.min(dim=1).values.mean(dim=2)
    return out


def _pointflow(gen_pts, ref_pts):
    d_gr = chamfer_matrix(gen_pts, ref_pts)
    mmd = float(d_gr.min(dim=0).values.mean())
    cov = float(torch.unique(d_gr.argmin(dim=1)).numel() / len(ref_pts))
    d_gg, d_rr = chamfer_matrix(gen_pts, gen_pts), chamfer_matrix(ref_pts, ref_pts)
    m, n = len(gen_pts), len(ref_pts)
    top = torch.cat([d_gg, d_gr], dim=1)
    bottom = torch.cat([d_gr.T, d_rr], dim=1)
    full = torch.cat([top, bottom], dim=0)
    full.fill_diagonal_(float("inf"))
    labels = torch.cat([torch.zeros(m), torch.ones(n)])
    nn_lab = labels[full.argmin(dim=1)]
    nna = float((nn_lab == labels).float().mean())
    return mmd, cov, nna


def shape_metrics(
    gen_grids: dict, ref_grids: dict, max_per_class: int = 64, num_points: int = 256, seed: int = 0
) -> dict:
    """MMD-CD (lower is better), COV-CD (higher) and 1-NNA-CD (0.5 is ideal) per class and averaged over classes.

    The generated and reference shapes of a class get their points from one draw (:func:`surface_points` on both
    sets at once), so equal grids on the two sides are at the distance of two independent point samples, as two
    equal grids within one side; 1-NNA is leave-one-out (a shape is not its own neighbour).

    Parameters
    ----------
    gen_grids, ref_grids : dict
        Class name -> ``(n, r, r, r)`` occupancy grids (generated / reference); classes with fewer than 2 shapes
        on either side are skipped.
    max_per_class : int
        At most this many shapes per side and class are used (the first ones).
    num_points : int
        Surface points per shape.
    seed : int
        Seed of the point draw.

    Returns
    -------
    dict
        ``mmd_cd``, ``cov_cd``, ``nna_cd`` (class means) and ``per_class`` (the three values of every class).
    """
    max_per_class = check_int(max_per_class, "max_per_class", minimum=2)
    per_class = {}
    for cls in sorted(set(gen_grids) & set(ref_grids)):
        g, r = np.asarray(gen_grids[cls])[:max_per_class], np.asarray(ref_grids[cls])[:max_per_class]
        if len(g) < 2 or len(r) < 2:
            continue
        # one draw for both sets: with one seed per set, the i-th generated and the i-th reference shape would get
        # the same point indices, so equal grids would be at distance 0 from each other (a bias of 1-NNA below 0.5)
        pts = surface_points(np.concatenate([g, r]), num_points, seed)
        per_class[cls] = dict(zip(("mmd_cd", "cov_cd", "nna_cd"), _pointflow(pts[: len(g)], pts[len(g) :])))
    if not per_class:
        raise ValueError("no class has at least 2 generated and 2 reference shapes")
    out = {k: float(np.mean([v[k] for v in per_class.values()])) for k in ("mmd_cd", "cov_cd", "nna_cd")}
    out["per_class"] = per_class
    return out


def shape_consistency(
    grids_per_scene: Sequence[np.ndarray], pairs_per_scene: Sequence[np.ndarray], num_points: int = 256, seed: int = 0
) -> float:
    """Mean Chamfer distance between the shapes of the consistency pairs (same class and model in the ground
    truth) of each scene; lower means more consistent.

    Parameters
    ----------
    grids_per_scene : sequence of array-like of shape (n_i, r, r, r)
        The (generated) occupancy grids of every scene's nodes.
    pairs_per_scene : sequence of array-like of shape (P_i, 2)
        Node pairs of every scene (:func:`graphdiff.data.scenes.consistency_pairs`).
    num_points : int
        Surface points per shape.
    seed : int
        Seed of the point draws.

    Returns
    -------
    float
    """
    a, b = [], []
    for grids, pairs in zip(grids_per_scene, pairs_per_scene):
        pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
        if len(pairs):
            a.append(np.asarray(grids)[pairs[:, 0]])
            b.append(np.asarray(grids)[pairs[:, 1]])
    if not a:
        raise ValueError("no consistency pairs in the given scenes")
    A, B = surface_points(np.concatenate(a), num_points, seed), surface_points(np.concatenate(b), num_points, seed + 1)
    d = torch.cdist(A, B) ** 2
    return float((d.min(dim=2).values.mean(dim=1) + d.min(dim=1).values.mean(dim=1)).mean())
