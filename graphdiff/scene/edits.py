"""Scene-graph manipulation at inference: add a node, add or change a relation (EchoScene,
https://arxiv.org/abs/2405.00915, Sec. 4.3; the "addition" and "relationship change" modes of SG-FRONT's evaluation).

The edit functions return a new graph (a :class:`~graphdiff.data.scenes.Scene` whose boxes are placeholders) with
``extra["old_index"]`` (for every node, its id in the original scene or -1 for a new node) and
``extra["edited_nodes"]`` (the nodes allowed to move when re-sampling with ``mode="clamp"``), and
``extra["changed_triples"]`` (row ids of the new or changed triples, for scoring them separately). Re-sample with
:meth:`graphdiff.scene.EchoScene.resample`.

An edit may leave the graph inconsistent on purpose (the new relation next to unchanged ones that it contradicts);
the validation of the edited graph then warns (:class:`~graphdiff.data.scenes.ContradictingRelationsWarning`)
instead of refusing it. A relation of a node to itself is refused.

:func:`satisfiable` / :func:`satisfying_positions` answer whether an edit can be met at all with the other objects
where they are (the clamped boxes): the edited node is moved over a lattice of floor positions (its size and height
kept) and every one of its positional relations (left, right, front, behind, close by, symmetrical to) is scored
with the evaluation rules of :mod:`graphdiff.scene.metrics`. In a dense graph a flipped relation usually contradicts
the node's unchanged ones (the graph is transitive), so many edits are unsatisfiable and the satisfaction of an
edit is reported over the satisfiable ones and over all (an addition beyond the paper, whose manipulation
evaluation scores every edit).

>>> from graphdiff.data import scenes
>>> room = scenes.generate_scenes(1, seed=0)[0]
>>> k = int((room.triples[:, 1] == scenes.PREDICATE_TO_ID["left"]).argmax())  # a "left" triple
>>> edited = flip_relation(room, k)
>>> scenes.PREDICATES[edited.triples[-1, 1]], edited.extra["edited_nodes"].tolist() == [room.triples[k, 0]]
('right', True)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from graphdiff.data import scenes as S
from graphdiff.data.validation import check_bool, check_int

__all__ = [
    "add_node",
    "set_relation",
    "flip_relation",
    "POSITIONAL_PREDICATES",
    "node_triples",
    "satisfying_positions",
    "satisfiable",
]

#: the predicates whose truth a node's floor position decides (its size and height kept)
POSITIONAL_PREDICATES = tuple(
    S.PREDICATE_TO_ID[p] for p in ("left", "right", "front", "behind", "close by", "symmetrical to")
)

_FLIPPABLE = {
    S.PREDICATE_TO_ID[a]: S.PREDICATE_TO_ID[b]
    for a, b in (
        ("left", "right"),
        ("right", "left"),
        ("front", "behind"),
        ("behind", "front"),
        ("bigger than", "smaller than"),
        ("smaller than", "bigger than"),
        ("taller than", "shorter than"),
        ("shorter than", "taller than"),
    )
}
# predicates that exclude each other on one ordered pair
_GROUPS = [(1, 2), (3, 4), (8, 9), (10, 11)]


def _pred_id(predicate) -> int:
    if isinstance(predicate, str):
        if predicate not in S.PREDICATE_TO_ID:
            raise ValueError(f"unknown predicate {predicate!r}; expected one of {S.PREDICATES}")
        return S.PREDICATE_TO_ID[predicate]
    return check_int(predicate, "predicate", minimum=0, maximum=len(S.PREDICATES) - 1)


def _check_node(scene, i, name):
    if not isinstance(i, (int, np.integer)) or not 0 <= int(i) < scene.num_nodes:
        raise ValueError(f"`{name}`={i!r} is not a node of this scene (it has {scene.num_nodes} nodes)")
    return int(i)


def _base(scene):
    out = scene.copy()
    out.extra = {
        "old_index": np.arange(scene.num_nodes),
        "edited_nodes": np.zeros(0, dtype=np.int64),
        "changed_triples": np.zeros(0, dtype=np.int64),
    }
    return out


def set_relation(scene: S.Scene, subject: int, predicate, obj: int, drop_conflicts: bool = False) -> S.Scene:
    """Add the triple ``(subject, predicate, obj)``; a contradicting relation of the same group on the pair (e.g.
    ``left`` when setting ``right``, in either direction) is removed. The subject is the node that moves.

    With ``drop_conflicts=True`` every other relation of the subject in the same group (e.g. all its left/right
    triples with other nodes) is removed too: in a dense graph they usually contradict the new relation once the
    subject has moved, and a model follows the majority. The default keeps them, as SG-FRONT's "relationship change"
    evaluation does.

    Parameters
    ----------
    scene : Scene
        The graph to edit (validated; a contradicting pair in it gives a warning).
    subject : int
        Node id of the subject (the node that moves when re-sampling).
    predicate : str or int
        Predicate name or id.
    obj : int
        Node id of the object, another node than ``subject`` (a relation of a node to itself is refused).
    drop_conflicts : bool
        Also remove the subject's other relations of the predicate's group.

    Returns
    -------
    Scene
        The edited graph with ``extra["old_index"]``, ``extra["edited_nodes"]`` and ``extra["changed_triples"]``.
    """
    S.check_scene(scene, stacklevel=3)
    drop_conflicts = check_bool(drop_conflicts, "drop_conflicts")
    s, o = _check_node(scene, subject, "subject"), _check_node(scene, obj, "obj")
    if s == o:
        raise ValueError("`subject` and `obj` must be different nodes")
    p = _pred_id(predicate)
    out = _base(scene)
    t = out.triples
    group = next((g for g in _GROUPS if p in g), (p,))
    inv = int(S.INVERSE_PREDICATE[p])
    same_pair = ((t[:, 0] == s) & (t[:, 2] == o)) & np.isin(t[:, 1], group)
    rev_pair = ((t[:, 0] == o) & (t[:, 2] == s)) & np.isin(t[:, 1], group if inv >= 0 else (p,))
    drop = same_pair | rev_pair
    if drop_conflicts and len(group) > 1:
        drop |= ((t[:, 0] == s) | (t[:, 2] == s)) & np.isin(t[:, 1], group)
    t = t[~drop]
    out.triples = np.concatenate([t, np.array([[s, p, o]])], axis=0).astype(np.int64)
    out.extra["edited_nodes"] = np.array([s])
    out.extra["changed_triples"] = np.array([len(out.triples) - 1])
    return out


def flip_relation(scene: S.Scene, index: int, drop_conflicts: bool = False) -> S.Scene:
    """Replace triple ``index`` by its interpretable opposite (left <-> right, front <-> behind, bigger <-> smaller,
    taller <-> shorter), as SG-FRONT's "relationship change" mode does.

    Parameters
    ----------
    scene : Scene
        The graph to edit.
    index : int
        Row of the triple in ``scene.triples``.
    drop_conflicts : bool
        As in :func:`set_relation`.

    Returns
    -------
    Scene
        The edited graph (see :func:`set_relation`).
    """
    S.check_scene(scene, stacklevel=3)
    index = check_int(index, "index", minimum=0)
    if index >= len(scene.triples):
        raise ValueError(f"`index`={index} is not a triple of this scene ({len(scene.triples)} triples)")
    s, p, o = (int(x) for x in scene.triples[index])
    if p not in _FLIPPABLE:
        raise ValueError(f"predicate {S.PREDICATES[p]!r} has no opposite to flip to")
    return set_relation(scene, s, _FLIPPABLE[p], o, drop_conflicts=drop_conflicts)


def add_node(scene: S.Scene, cls, relations: Sequence[tuple] = ()) -> S.Scene:
    """Add an object of class ``cls`` with relations ``[(predicate, other_node), ...]`` (the new node is the
    subject); it also gets ``standing on`` floor and the ``in`` edge to ``_scene_`` when the scene has them.

    The new node gets id ``n_objects`` (after the old objects and the floor; ``_scene_`` stays last).

    Parameters
    ----------
    scene : Scene
        The graph to edit.
    cls : str or int
        Object class name or id (not ``floor`` / ``_scene_``).
    relations : sequence of (predicate, int)
        The new node's relations to existing nodes (ids in ``scene``).

    Returns
    -------
    Scene
        The edited graph (see :func:`set_relation`); ``extra["old_index"]`` is -1 for the new node.
    """
    S.check_scene(scene, stacklevel=3)
    c = S.CLASS_TO_ID.get(cls, None) if isinstance(cls, str) else check_int(cls, "cls")
    if c is None or not 0 <= c < len(S.CLASSES) or c in (S.SCENE_ID, S.FLOOR_ID):
        raise ValueError(f"`cls`={cls!r} is not an object class; expected one of {S.CLASSES[1:-1]}")
    n = scene.num_nodes
    scene_idx = np.flatnonzero(scene.classes == S.SCENE_ID)
    new = n if scene_idx.size == 0 else int(scene_idx[0])  # insert before _scene_
    old_index = np.concatenate([np.arange(new), [-1], np.arange(new, n)]).astype(np.int64)
    remap = np.concatenate([np.arange(new), np.arange(new + 1, n + 1)])  # old id -> new id
    out = scene.copy()
    out.classes = np.insert(scene.classes, new, c)
    out.boxes = np.insert(scene.boxes, new, 0.0, axis=0)
    out.shape_variant = np.insert(scene.shape_variant, new, -1)
    if scene.style is not None:
        out.style = np.insert(scene.style, new, -1)
    if scene.material is not None:
        out.material = np.insert(scene.material, new, -1)
    t = scene.triples.copy()
    t[:, 0], t[:, 2] = remap[t[:, 0]], remap[t[:, 2]]
    added = []
    for pred, other in relations:
        other = _check_node(scene, other, "relations: other node")
        added.append([new, _pred_id(pred), int(remap[other])])
    floor = np.flatnonzero(scene.classes == S.FLOOR_ID)
    if floor.size:
        added.append([new, S.PREDICATE_TO_ID["standing on"], int(remap[floor[0]])])
    if scene_idx.size:
        added.append([new, 0, int(remap[scene_idx[0]])])
    added = np.asarray(added, dtype=np.int64).reshape(-1, 3)
    out.triples = np.concatenate([t, added], axis=0)
    out.extra = {
        "old_index": old_index,
        "edited_nodes": np.array([new]),
        "changed_triples": np.arange(len(t), len(t) + len(relations)),
    }
    return out


def node_triples(scene: S.Scene, node: int, predicates=POSITIONAL_PREDICATES) -> np.ndarray:
    """Row ids of ``scene.triples`` that relate ``node`` to another node (not ``_scene_``) by one of
    ``predicates``.

    Parameters
    ----------
    scene : Scene
        A scene graph.
    node : int
        The node.
    predicates : sequence of int
        Predicate ids (default :data:`POSITIONAL_PREDICATES`).

    Returns
    -------
    numpy.ndarray of int64
    """
    node = _check_node(scene, node, "node")
    t = np.asarray(scene.triples, dtype=np.int64).reshape(-1, 3)
    touches = (t[:, 0] == node) | (t[:, 2] == node)
    other = np.where(t[:, 0] == node, t[:, 2], t[:, 0])
    keep = touches & np.isin(t[:, 1], np.asarray(predicates, dtype=np.int64)) & (scene.classes[other] != S.SCENE_ID)
    return np.flatnonzero(keep)


def _region(scene, boxes, node, region):
    if region is not None:
        r = np.asarray(region, dtype=np.float64).reshape(-1)
        if r.shape != (4,) or not np.isfinite(r).all() or r[0] > r[1] or r[2] > r[3]:
            raise ValueError(f"`region` must be (x_min, x_max, z_min, z_max) with min <= max, got {region!r}")
        return r
    floor = np.flatnonzero(scene.classes == S.FLOOR_ID)
    if floor.size:  # the floor box: x along its first extent, z along its third (SynthFront / SG-FRONT)
        f = boxes[floor[0]]
        return np.array([f[3] - f[0] / 2, f[3] + f[0] / 2, f[5] - f[2] / 2, f[5] + f[2] / 2])
    others = np.flatnonzero((scene.classes != S.SCENE_ID) & (np.arange(scene.num_nodes) != node))
    c = boxes[others][:, [3, 5]] if others.size else np.zeros((1, 2))
    return np.array([c[:, 0].min() - 1, c[:, 0].max() + 1, c[:, 1].min() - 1, c[:, 1].max() + 1])


def satisfying_positions(
    scene: S.Scene,
    boxes,
    node: int,
    predicates=POSITIONAL_PREDICATES,
    grid: int = 41,
    region=None,
) -> np.ndarray:
    """The floor positions of ``node`` at which all of its relations of ``predicates`` hold, the other boxes fixed.

    The node keeps its size, height and bottom from ``boxes[node]``; its centre ``(x, z)`` runs over a ``grid x
    grid`` lattice of ``region``; every relation of the node (as subject or object, with any node but ``_scene_``)
    of ``predicates`` is scored with :func:`graphdiff.scene.metrics.relation_pass`, all placements at once.

    Parameters
    ----------
    scene : Scene
        The (edited) scene graph; its boxes are not read.
    boxes : array-like of shape (n, 7)
        ``param7`` boxes in metres of every node of ``scene`` (the other objects where they stay; the node's own
        row gives its size and height).
    node : int
        The node to place.
    predicates : sequence of int
        Predicate ids to satisfy (default :data:`POSITIONAL_PREDICATES`, the relations a position decides).
    grid : int
        Lattice points per side (at least 2).
    region : sequence of 4 floats, optional
        ``(x_min, x_max, z_min, z_max)`` of the lattice (default: the floor box, or without a floor the other
        objects' centres with 1 m to spare).

    Returns
    -------
    numpy.ndarray of shape (k, 2)
        The satisfying ``(x, z)`` lattice points (all of them when the node has no such relation).

    Examples
    --------
    >>> room = S.Scene("bedroom", np.array([1, 2]), np.zeros((2, 7)), np.array([[0, 1, 1]]), np.full(2, -1))
    >>> b = np.array([[0.5, 0.5, 0.5, 0, 0, 0, 0], [0.5, 0.5, 0.5, 0, 0, 0, 0]])
    >>> pts = satisfying_positions(room, b, 0, grid=5, region=(-1, 1, -1, 1))
    >>> bool((pts[:, 1] <= -0.05).all()), len(pts)  # "0 left of 1" holds for z <= -0.05: 2 lattice rows of 5
    (True, 10)
    """
    from graphdiff.scene.metrics import relation_pass

    node = _check_node(scene, node, "node")
    grid = check_int(grid, "grid", minimum=2)
    b = np.asarray(boxes, dtype=np.float64)
    if b.ndim != 2 or b.shape != (scene.num_nodes, 7):
        raise ValueError(f"`boxes` must have shape ({scene.num_nodes}, 7) (one param7 box per node), got {b.shape}")
    if not np.isfinite(b).all():
        raise ValueError("`boxes` contains NaN or infinite values")
    x0, x1, z0, z1 = _region(scene, b, node, region)
    X, Z = np.meshgrid(np.linspace(x0, x1, grid), np.linspace(z0, z1, grid), indexing="ij")
    pos = np.stack([X.ravel(), Z.ravel()], axis=1)
    rows = node_triples(scene, node, predicates)
    if rows.size == 0:
        return pos
    t = scene.triples[rows].astype(np.int64)
    n, k = scene.num_nodes, len(pos)
    cand = np.repeat(b[node][None], k, axis=0)
    cand[:, 3], cand[:, 5] = pos[:, 0], pos[:, 1]
    # placement j is node n + j: every triple of the node once per placement
    tt = np.repeat(t[None], k, axis=0)
    idx = (n + np.arange(k))[:, None]
    tt[:, :, 0] = np.where(tt[:, :, 0] == node, idx, tt[:, :, 0])
    tt[:, :, 2] = np.where(tt[:, :, 2] == node, idx, tt[:, :, 2])
    ok = relation_pass(np.concatenate([b, cand]), tt.reshape(-1, 3)).reshape(k, len(t)) > 0.5
    return pos[ok.all(axis=1)]


def satisfiable(
    scene: S.Scene, boxes, node: int, predicates=POSITIONAL_PREDICATES, grid: int = 41, region=None
) -> bool:
    """Whether some floor position of ``node`` satisfies all of its relations of ``predicates`` with the other boxes
    fixed (:func:`satisfying_positions` is not empty).

    Parameters
    ----------
    scene : Scene
        The (edited) scene graph.
    boxes : array-like of shape (n, 7)
        ``param7`` boxes in metres (see :func:`satisfying_positions`).
    node : int
        The edited node.
    predicates : sequence of int
        Predicate ids to satisfy.
    grid : int
        Lattice points per side.
    region : sequence of 4 floats, optional
        ``(x_min, x_max, z_min, z_max)`` of the lattice.

    Returns
    -------
    bool

    Examples
    --------
    >>> t = np.array([[0, 1, 1], [0, 2, 1]])  # 0 left of 1 and 0 right of 1
    >>> room = S.Scene("bedroom", np.array([1, 2]), np.zeros((2, 7)), t, np.full(2, -1))
    >>> b = np.array([[0.5, 0.5, 0.5, 0, 0, 0, 0], [0.5, 0.5, 0.5, 0, 0, 0, 0]])
    >>> satisfiable(room, b, 0, region=(-1, 1, -1, 1))
    False
    """
    return bool(len(satisfying_positions(scene, boxes, node, predicates, grid, region)))
