"""The :class:`Scene` container (one room: nodes, ``param7`` boxes, triples, attributes) and its validation.

A scene graph as SG-FRONT stores it (CommonScenes, https://arxiv.org/abs/2305.16283, Sec. 3; EchoScene,
https://arxiv.org/abs/2405.00915, Sec. 3.1): objects, then ``floor``, then optionally the virtual ``_scene_`` node;
``(subject, predicate, object)`` triples over them; one ``param7`` box per node.

:func:`check_scene` is the boundary check every consumer of a scene runs (EchoScene's ``fit`` and ``sample``, the
edits, the SG-FRONT loader): ids in range, boxes finite, no relation of a node to itself (an error), and a
:class:`~graphdiff.data.scenes.ContradictingRelationsWarning` for a pair related in both directions by an
antisymmetric predicate (edits create such graphs on purpose).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from graphdiff.data.scenes.relations import (
    ContradictingRelationsWarning,
    contradicting_pairs,
    describe_triple,
    self_relations,
)
from graphdiff.data.scenes.vocabulary import CLASSES, FLOOR_ID, PREDICATES, ROOM_TYPES, SCENE_ID
from graphdiff.data.validation import check_choice, check_edge_index, check_labels

__all__ = ["Scene", "check_scene", "check_scenes"]


@dataclass
class Scene:
    """One room: nodes (objects, then ``floor``, then optionally ``_scene_``), boxes, triples and attributes.

    Parameters
    ----------
    room_type : str
        One of :data:`~graphdiff.data.scenes.ROOM_TYPES`.
    classes : numpy.ndarray of shape (n,), int64
        Class ids into :data:`~graphdiff.data.scenes.CLASSES`.
    boxes : numpy.ndarray of shape (n, 7), float64
        ``param7`` boxes ``[l, h, w, x, y, z, theta]`` (metres, room-centred; the ``_scene_`` node holds zeros).
    triples : numpy.ndarray of shape (T, 3), int64
        ``[subject, predicate, object]`` rows.
    shape_variant : numpy.ndarray of shape (n,), int64
        Style variant of each object's shape (0..7), -1 where unknown (floor, ``_scene_``, loaded files).
    style, material : numpy.ndarray of shape (n,), int64, optional
        Attributes (-1 where not applicable).
    name : str
        An identifier (the scan id for loaded files).
    extra : dict
        Anything else: ``"group"`` (furniture group per node) from the generator, ``"box_normalized"`` and
        ``"shape_code"`` on sampled scenes, the edit bookkeeping of :mod:`graphdiff.scene.edits`.

    Examples
    --------
    >>> import numpy as np
    >>> from graphdiff.data.scenes import CLASS_TO_ID, PREDICATE_TO_ID, Scene, check_scene
    >>> classes = np.array([CLASS_TO_ID["bed"], CLASS_TO_ID["nightstand"], CLASS_TO_ID["floor"]])
    >>> triples = np.array([[1, PREDICATE_TO_ID["left"], 0], [0, PREDICATE_TO_ID["standing on"], 2]])
    >>> room = check_scene(Scene("bedroom", classes, np.zeros((3, 7)), triples, np.full(3, -1)))
    >>> room, room.object_mask.tolist()
    (Scene('bedroom', nodes=3, objects=2, triples=2), [True, True, False])
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
        """Number of nodes ``n`` (objects, floor and ``_scene_``)."""
        return int(self.classes.shape[0])

    @property
    def object_mask(self) -> np.ndarray:
        """Nodes that are real objects (not ``floor`` / ``_scene_``)."""
        return (self.classes != SCENE_ID) & (self.classes != FLOOR_ID)

    def copy(self) -> Scene:
        """A copy with its own arrays (``extra`` copied one level deep)."""
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


def _contradiction_text(triples, pairs) -> str:
    i, j = (int(v) for v in pairs[0])
    more = f" (and {len(pairs) - 1} more pair(s))" if len(pairs) > 1 else ""
    return f"rows {i} and {j} say '{describe_triple(triples[i])}' and '{describe_triple(triples[j])}'{more}"


def check_scene(scene: Scene, name: str = "scene", contradictions: str = "warn", stacklevel: int = 2) -> Scene:
    """Validate a :class:`Scene` where it enters the library.

    Parameters
    ----------
    scene : Scene
        The scene graph.
    name : str
        How the scene is named in messages (``"graphs[3]"``).
    contradictions : {"warn", "ignore"}
        What a pair related in both directions by an antisymmetric predicate gives: a
        :class:`~graphdiff.data.scenes.ContradictingRelationsWarning` or nothing (:func:`check_scenes` collects
        them into one warning for a whole list).
    stacklevel : int
        Passed to :func:`warnings.warn` (2: the warning names the line that called this function).

    Returns
    -------
    Scene
        ``scene`` itself.

    Raises
    ------
    ValueError
        Unknown room type, class or predicate ids, triples outside the node range or relating a node to itself,
        boxes of the wrong shape or with NaN / infinite values, a scene without objects.
    """
    check_choice(contradictions, "contradictions", ("warn", "ignore"))
    if not isinstance(scene, Scene):
        raise ValueError(f"`{name}` must be a graphdiff.data.scenes.Scene, got {type(scene).__name__}")
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
        loops = self_relations(triples)
        if loops.size:
            k = int(loops[0])
            raise ValueError(
                f"`{name}.triples` row {k} relates node {int(triples[k, 0])} to itself "
                f"('{describe_triple(triples[k])}'; {loops.size} such row(s)): a relation of an object to itself "
                "is not allowed"
            )
        if contradictions == "warn":
            pairs = contradicting_pairs(triples)
            if len(pairs):
                warnings.warn(
                    f"`{name}.triples` contradict each other: {_contradiction_text(triples, pairs)}",
                    ContradictingRelationsWarning,
                    stacklevel=stacklevel,
                )
    if np.asarray(scene.shape_variant).shape != (n,):
        raise ValueError(f"`{name}.shape_variant` must have shape ({n},)")
    return scene


def check_scenes(scenes: Sequence[Scene], name: str = "scenes", stacklevel: int = 2) -> list[Scene]:
    """:func:`check_scene` on every scene of a non-empty sequence, with one
    :class:`~graphdiff.data.scenes.ContradictingRelationsWarning` for all the scenes that contradict themselves.

    Parameters
    ----------
    scenes : sequence of Scene
        The scene graphs (a list or tuple; not one bare :class:`Scene`).
    name : str, default "scenes"
        How the sequence is named in messages (the scene ``i`` is ``name[i]``).
    stacklevel : int, default 2
        Passed to :func:`warnings.warn` (2: the warning names the line that called this function).

    Returns
    -------
    list of Scene
        The scenes, as a list.

    Raises
    ------
    ValueError
        For the first bad scene (naming ``name[i]``), for an empty sequence and for one that is not a sequence of
        scenes.
    """
    if isinstance(scenes, (Scene, str, bytes)) or not isinstance(scenes, Sequence):
        raise ValueError(f"`{name}` must be a sequence of Scene objects, got {type(scenes).__name__}")
    if len(scenes) == 0:
        raise ValueError(f"`{name}` is empty")
    bad = []
    for i, scene in enumerate(scenes):
        check_scene(scene, name=f"{name}[{i}]", contradictions="ignore")
        if len(scene.triples):
            pairs = contradicting_pairs(scene.triples)
            if len(pairs):
                bad.append((i, pairs))
    if bad:
        i, pairs = bad[0]
        warnings.warn(
            f"{len(bad)} of the {len(scenes)} scene graphs in `{name}` contain contradicting relations; "
            f"{name}[{i}]: {_contradiction_text(np.asarray(scenes[i].triples), pairs)}",
            ContradictingRelationsWarning,
            stacklevel=stacklevel,
        )
    return list(scenes)
