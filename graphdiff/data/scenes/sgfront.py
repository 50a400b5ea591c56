"""Reading and writing SG-FRONT's published files (CommonScenes, https://arxiv.org/abs/2305.16283, Sec. 3).

``relationships_{room}_{split}.json`` (``{"scans": [{"scan", "objects": {"1": class}, "relationships":
[[s, o, p, name]]}]}``, 1-based object ids, predicate ids of ``relationships.txt``, i.e. without ``in``) and
``obj_boxes_{room}_{split}.json`` (``{scan: {"1": {"param7"}}, "scene_center"}``). The loader maps the fine 3D-FRONT
class names to the coarse classes, makes positions relative to ``scene_center`` and adds the ``_scene_`` node with
its ``in`` edges.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from graphdiff.data.scenes.scene import Scene
from graphdiff.data.scenes.vocabulary import (
    CLASS_TO_ID,
    CLASSES,
    FINE_TO_COARSE,
    PREDICATE_TO_ID,
    PREDICATES,
    ROOM_TYPES,
    SCENE_ID,
)

__all__ = ["load_sgfront", "write_sgfront", "default_sgfront_root"]


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


def default_sgfront_root(root=None) -> Path | None:
    """Directory with real SG-FRONT files under the data root, or None.

    Looks for ``relationships_*_trainval.json`` in ``<root>/sg_front/raw``, ``<root>/sg_front`` and
    ``<root>/SG-FRONT``, the root resolved as :func:`graphdiff.data.data_root` does (argument >
    ``$GRAPHDIFF_DATA`` > user cache).
    """
    from graphdiff.data.loaders import data_root

    base = data_root(root)
    for cand in (Path(base) / "sg_front" / "raw", Path(base) / "sg_front", Path(base) / "SG-FRONT"):
        if any(cand.glob("relationships_*_trainval.json")):
            return cand
    return None
