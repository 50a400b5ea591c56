"""Indoor scene graphs with SG-FRONT's conventions: vocabulary, the :class:`Scene` container, relation labelling, a
procedural generator, tiny per-object shapes and the SG-FRONT file format.

EchoScene (Zhai et al., ECCV 2024, https://arxiv.org/abs/2405.00915) is trained on SG-FRONT (CommonScenes, Zhai et
al., NeurIPS 2023, https://arxiv.org/abs/2305.16283, Sec. 3), scene graphs labelled automatically on 3D-FRONT rooms.
3D-FRONT cannot be redistributed, so this package provides "SynthFront", a procedural substitute with the same
conventions. One (private) module per concern, everything exported here:

* ``vocabulary`` -- :data:`CLASSES` (``_scene_`` id 0, the 12 coarse SG-FRONT classes, ``floor``),
  :data:`PREDICATES` (``in`` id 0 plus the 15 SG-FRONT predicates), :data:`ROOM_TYPES`, the fine-to-coarse class map
  and the predicate inverses.
* ``scene`` -- :class:`Scene` (nodes, ``param7`` boxes ``[l, h, w, x, y, z, theta]``, triples, attributes) and
  :func:`check_scene` / :func:`check_scenes`.
* ``geometry`` -- corners and axis-aligned bounds of ``param7`` boxes.
* ``relations`` -- :func:`label_relations` (SG-FRONT's labelling rules and deduplication), :func:`restrict_relations`
  (the sparse ``intra_group`` graphs), :func:`self_relations` and :func:`contradicting_pairs`.
* ``generator`` -- :func:`generate_scenes`: bedrooms, living rooms and dining rooms built from furniture groups.
* ``shapes`` -- :func:`shape_grids` (a 16^3 occupancy grid per object, 8 style variants per class) and
  :func:`consistency_pairs`.
* ``sgfront`` -- :func:`load_sgfront` / :func:`write_sgfront` for the published files.

The box and shape codecs and the batching as ``torch_geometric`` graphs are fitted parts of EchoScene and live in
``graphdiff.scene.codecs``; importing them from here still works in 0.2 with a :class:`DeprecationWarning`.

>>> from graphdiff.data import scenes
>>> rooms = scenes.generate_scenes(6, seed=0)
>>> rooms[0].room_type, scenes.CLASSES[rooms[0].classes[0]]
('bedroom', 'bed')
"""

from graphdiff.data.scenes.generator import PLACEMENTS, generate_scenes
from graphdiff.data.scenes.geometry import aabb, box_corners
from graphdiff.data.scenes.relations import (
    RELATION_MODES,
    ContradictingRelationsWarning,
    contradicting_pairs,
    label_relations,
    restrict_relations,
    self_relations,
)
from graphdiff.data.scenes.scene import Scene, check_scene, check_scenes
from graphdiff.data.scenes.sgfront import default_sgfront_root, load_sgfront, write_sgfront
from graphdiff.data.scenes.shapes import SHAPE_RES, consistency_pairs, shape_grids
from graphdiff.data.scenes.vocabulary import (
    ANTISYMMETRIC_PREDICATES,
    CLASS_TO_ID,
    CLASSES,
    FINE_TO_COARSE,
    FLOOR_ID,
    INVERSE_PREDICATE,
    NUM_CLASSES,
    NUM_PREDICATES,
    NUM_ROOM_TYPES,
    PREDICATE_TO_ID,
    PREDICATES,
    ROOM_TYPES,
    SCENE_ID,
    SUPER_CATEGORY,
)

__all__ = [
    "CLASSES",
    "PREDICATES",
    "ROOM_TYPES",
    "CLASS_TO_ID",
    "PREDICATE_TO_ID",
    "SCENE_ID",
    "FLOOR_ID",
    "FINE_TO_COARSE",
    "INVERSE_PREDICATE",
    "ANTISYMMETRIC_PREDICATES",
    "SUPER_CATEGORY",
    "NUM_CLASSES",
    "NUM_PREDICATES",
    "NUM_ROOM_TYPES",
    "SHAPE_RES",
    "Scene",
    "check_scene",
    "check_scenes",
    "generate_scenes",
    "PLACEMENTS",
    "label_relations",
    "RELATION_MODES",
    "restrict_relations",
    "self_relations",
    "contradicting_pairs",
    "ContradictingRelationsWarning",
    "box_corners",
    "aabb",
    "shape_grids",
    "consistency_pairs",
    "load_sgfront",
    "write_sgfront",
    "default_sgfront_root",
]

# moved to graphdiff.scene.codecs in 0.2.0 (they are fitted parts of EchoScene); kept importable for one release
_MOVED_TO_SCENE_CODECS = ("BoxCodec", "ShapeCodec", "scene_to_data", "scenes_to_batch")


def __getattr__(name):
    if name in _MOVED_TO_SCENE_CODECS:
        import importlib

        from graphdiff.base import warn_deprecated

        warn_deprecated(f"graphdiff.data.scenes.{name}", f"graphdiff.scene.codecs.{name}")
        # imported by name at call time: the data layer does not depend on graphdiff.scene otherwise
        return getattr(importlib.import_module("graphdiff.scene.codecs"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
