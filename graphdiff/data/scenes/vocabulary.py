"""The vocabulary of SG-FRONT scene graphs: object classes, predicates, room types and the fine-to-coarse class map.

SG-FRONT (CommonScenes, Zhai et al., NeurIPS 2023, https://arxiv.org/abs/2305.16283, Sec. 3) labels 3D-FRONT rooms
with scene graphs; EchoScene (https://arxiv.org/abs/2405.00915, Sec. 4) trains on it. Ids follow SG-FRONT's files:

* **Classes** (:data:`CLASSES`): ``_scene_`` (id 0, a virtual node every other node is ``in``), the 12 coarse
  SG-FRONT classes, and ``floor`` (id 13).
* **Predicates** (:data:`PREDICATES`): ``in`` (id 0, added by the loader, object -> ``_scene_``) and the 15
  predicates of SG-FRONT's ``relationships.txt`` (ids 1-15 in that file's order).
* :data:`INVERSE_PREDICATE`: the inverse of each predicate (``left`` <-> ``right``, ...), the predicate itself for the
  symmetric ones, -1 where there is none (``in``, ``above``, ``standing on``).

>>> CLASSES[CLASS_TO_ID["bed"]], PREDICATES[PREDICATE_TO_ID["left"]]
('bed', 'left')
>>> PREDICATES[INVERSE_PREDICATE[PREDICATE_TO_ID["front"]]]
'behind'
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "CLASSES",
    "CLASS_TO_ID",
    "SCENE_ID",
    "FLOOR_ID",
    "PREDICATES",
    "PREDICATE_TO_ID",
    "INVERSE_PREDICATE",
    "ANTISYMMETRIC_PREDICATES",
    "ROOM_TYPES",
    "FINE_TO_COARSE",
    "SUPER_CATEGORY",
    "NUM_CLASSES",
    "NUM_PREDICATES",
    "NUM_ROOM_TYPES",
]

#: Object class names by id: ``_scene_`` (0), the 12 coarse SG-FRONT classes, ``floor`` (13).
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
#: Class name -> id.
CLASS_TO_ID = {c: i for i, c in enumerate(CLASSES)}
#: Ids of the virtual ``_scene_`` node's class and of ``floor``.
SCENE_ID, FLOOR_ID = CLASS_TO_ID["_scene_"], CLASS_TO_ID["floor"]

#: Predicate names by id: ``in`` (0, object -> ``_scene_``) and SG-FRONT's 15 predicates (ids 1-15).
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
#: Predicate name -> id.
PREDICATE_TO_ID = {p: i for i, p in enumerate(PREDICATES)}
#: The inverse of each predicate id (``left`` <-> ``right``, ...); -1: no inverse (``in``, ``above``, ``standing on``);
#: the symmetric predicates are their own inverse.
INVERSE_PREDICATE = np.array([-1, 2, 1, 4, 3, 5, -1, -1, 9, 8, 11, 10, 12, 13, 14, 15], dtype=np.int64)

#: The room types, by id.
ROOM_TYPES = ("bedroom", "livingroom", "diningroom")

#: 3D-FRONT's fine object categories (and the coarse classes themselves) -> coarse class name.
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
#: Super category of each class id (a substitute of 3D-FUTURE's "super-category" field); -1 for ``_scene_`` and
#: ``floor``.
SUPER_CATEGORY = np.array([_SUPER.get(c, -1) for c in CLASSES], dtype=np.int64)


#: ``len(CLASSES)``.
NUM_CLASSES = len(CLASSES)
#: ``len(PREDICATES)``.
NUM_PREDICATES = len(PREDICATES)
#: ``len(ROOM_TYPES)``.
NUM_ROOM_TYPES = len(ROOM_TYPES)

#: Predicates that cannot hold in both directions of one pair: ``a left b`` and ``b left a`` contradict each other
#: (so do ``a left b`` and ``a right b``, through :data:`INVERSE_PREDICATE`).
ANTISYMMETRIC_PREDICATES = tuple(
    PREDICATE_TO_ID[p]
    for p in (
        "left",
        "right",
        "front",
        "behind",
        "above",
        "standing on",
        "bigger than",
        "smaller than",
        "taller than",
        "shorter than",
    )
)
