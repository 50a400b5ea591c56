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

__all__ = ["add_node", "set_relation", "flip_relation"]

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
