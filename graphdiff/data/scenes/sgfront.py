"""Reading and writing SG-FRONT's published files (CommonScenes, https://arxiv.org/abs/2305.16283, Sec. 3).

``relationships_{room}_{split}.json`` (``{"scans": [{"scan", "objects": {"1": class}, "relationships":
[[s, o, p, name]]}]}``, 1-based object ids, predicate ids of ``relationships.txt``, i.e. without ``in``) and
``obj_boxes_{room}_{split}.json`` (``{scan: {"1": {"param7"}}, "scene_center"}``). The loader maps the fine 3D-FRONT
class names to the coarse classes, makes positions relative to ``scene_center`` and adds the ``_scene_`` node with
its ``in`` edges.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from graphdiff.data.scenes.relations import ContradictingRelationsWarning, contradicting_pairs, describe_triple
from graphdiff.data.scenes.scene import Scene, check_scene, check_scenes
from graphdiff.data.scenes.vocabulary import (
    CLASS_TO_ID,
    CLASSES,
    FINE_TO_COARSE,
    PREDICATE_TO_ID,
    PREDICATES,
    ROOM_TYPES,
    SCENE_ID,
)
from graphdiff.data.validation import check_choice

__all__ = ["load_sgfront", "write_sgfront", "default_sgfront_root"]


def write_sgfront(scenes: Sequence[Scene], directory, room_type: str, split: str = "trainval") -> tuple[Path, Path]:
    """Write scenes in the published SG-FRONT layout (see the module docstring).

    ``_scene_`` nodes and ``in`` edges are not written (the loader adds them); positions are written relative to a
    fixed ``scene_center``, which the loader subtracts again.

    Parameters
    ----------
    scenes : sequence of Scene
        The rooms (validated with :func:`~graphdiff.data.scenes.check_scenes`).
    directory : str or os.PathLike
        Created if missing.
    room_type, split : str
        The file names' parts: ``relationships_{room_type}_{split}.json``, ``obj_boxes_{room_type}_{split}.json``.

    Returns
    -------
    (pathlib.Path, pathlib.Path)
        The relationships file and the boxes file (``relationships.txt`` is written next to them).
    """
    check_choice(room_type, "room_type", ROOM_TYPES)
    scenes = check_scenes(scenes, stacklevel=3)
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


def _read_json(path: Path):
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"SG-FRONT file {path} cannot be read: {exc}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"SG-FRONT file {path} is not valid JSON (truncated or corrupt?): {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}"
        ) from exc


def _object_id(key, where: str) -> int:
    try:
        return int(key)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: object id {key!r} is not an integer") from exc


def _load_scan(scan, box_data, rel_path, box_path, room_type, mapping, pred_names, use_scene_node) -> Scene:
    if not isinstance(scan, dict) or "scan" not in scan:
        raise ValueError(f"{rel_path}: every entry of 'scans' must be an object with a 'scan' id, got {scan!r:.80}")
    sid = scan["scan"]
    where = f"{rel_path}: scan {sid!r}"
    for key, kind in (("objects", dict), ("relationships", list)):
        if not isinstance(scan.get(key), kind):
            raise ValueError(f"{where}: '{key}' must be a JSON {'object' if kind is dict else 'list'}")
    if sid not in box_data or not isinstance(box_data[sid], dict):
        raise ValueError(f"{where} has no entry in {box_path}")
    scan_boxes = box_data[sid]
    ids = sorted(scan["objects"], key=lambda k: _object_id(k, where))
    if not ids:
        raise ValueError(f"{where} is empty: it has no objects")
    center = np.asarray(scan_boxes.get("scene_center", [0, 0, 0]), dtype=np.float64)
    if center.shape != (3,):
        raise ValueError(f"{box_path}: scan {sid!r}: 'scene_center' must hold 3 numbers, got {center.tolist()}")
    classes, boxes = [], []
    for k in ids:
        name = scan["objects"][k]
        coarse = mapping.get(name) if isinstance(name, str) else None
        if coarse not in CLASS_TO_ID:
            raise ValueError(f"{where}: unknown object class {name!r} for object {k}")
        classes.append(CLASS_TO_ID[coarse])
        entry = scan_boxes.get(k)
        if not isinstance(entry, dict) or "param7" not in entry:
            raise ValueError(f"{where}: object {k} has no box in {box_path}")
        try:
            b = np.asarray(entry["param7"], dtype=np.float64).copy()
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{box_path}: scan {sid!r}: the param7 box of object {k} is not numeric") from exc
        if b.shape != (7,) or not np.isfinite(b).all():
            raise ValueError(
                f"{box_path}: scan {sid!r}: the param7 box of object {k} must hold 7 finite numbers, got {b.tolist()}"
            )
        b[3:6] -= center
        boxes.append(b)
    index = {_object_id(k, where): i for i, k in enumerate(ids)}
    n = len(ids)
    triples = []
    for r in scan["relationships"]:
        if not isinstance(r, (list, tuple)) or len(r) < 3:
            raise ValueError(f"{where}: relation {r!r} must be a list [subject, object, predicate id, ...]")
        s, o, p = (_object_id(v, where) for v in r[:3])
        if s not in index or o not in index:
            raise ValueError(f"{where}: relation {r} refers to an object that does not exist")
        if not 1 <= p <= len(pred_names) or pred_names[p - 1] not in PREDICATE_TO_ID:
            raise ValueError(f"{where}: unknown predicate id {p} in relation {r}")
        triples.append([index[s], PREDICATE_TO_ID[pred_names[p - 1]], index[o]])
    if use_scene_node:
        classes.append(SCENE_ID)
        boxes.append(np.zeros(7))
        triples += [[i, 0, n] for i in range(n)]
    scene = Scene(
        room_type,
        np.asarray(classes, dtype=np.int64),
        np.asarray(boxes),
        np.asarray(triples, dtype=np.int64).reshape(-1, 3),
        np.full(len(classes), -1, dtype=np.int64),
        name=str(sid),
    )
    return check_scene(scene, name=where, contradictions="ignore")


def load_sgfront(
    root, room_type: str = "bedroom", split: str = "trainval", use_scene_node: bool = True, mapping: dict | None = None
) -> list[Scene]:
    """Load SG-FRONT scenes (``relationships_{room}_{split}.json`` + ``obj_boxes_{room}_{split}.json`` in ``root``).

    Parameters
    ----------
    root : str or os.PathLike
        The directory of the files.
    room_type : {"bedroom", "livingroom", "diningroom"}
    split : str
        ``"trainval"`` or ``"test"`` in the published files.
    use_scene_node : bool
        Append the ``_scene_`` node with an ``in`` edge from every object.
    mapping : dict, optional
        Fine class name -> coarse class name (default :data:`~graphdiff.data.scenes.FINE_TO_COARSE`, updated with a
        ``mapping.json`` in ``root`` when present).

    Returns
    -------
    list of Scene
        One scene per scan; positions relative to the scan's ``scene_center``.

    Raises
    ------
    ValueError
        Naming the file (and the scan): a missing, unreadable or truncated file, unknown class or predicate names,
        relations to objects that do not exist, a relation of an object to itself, malformed boxes.

    Warns
    -----
    ContradictingRelationsWarning
        Once per call, when some scans relate a pair in both directions by an antisymmetric predicate.
    """
    check_choice(room_type, "room_type", ROOM_TYPES)
    root = Path(root)
    rel_path = root / f"relationships_{room_type}_{split}.json"
    box_path = root / f"obj_boxes_{room_type}_{split}.json"
    for p in (rel_path, box_path):
        if not p.exists():
            raise ValueError(f"SG-FRONT file {p} does not exist")
    if mapping is None:
        mapping = dict(FINE_TO_COARSE)
        if (root / "mapping.json").exists():
            extra = _read_json(root / "mapping.json")
            if not isinstance(extra, dict):
                raise ValueError(f"SG-FRONT file {root / 'mapping.json'} must hold a JSON object (fine -> coarse name)")
            mapping.update(extra)
    pred_names = list(PREDICATES[1:])
    if (root / "relationships.txt").exists():
        try:
            lines = (root / "relationships.txt").read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise ValueError(f"SG-FRONT file {root / 'relationships.txt'} cannot be read: {exc}") from exc
        pred_names = [ln.strip().lower() for ln in lines if ln.strip()]
    rels = _read_json(rel_path)
    box_data = _read_json(box_path)
    if not isinstance(rels, dict) or not isinstance(rels.get("scans"), list):
        raise ValueError(f"SG-FRONT file {rel_path} must hold a JSON object with a 'scans' list")
    if not isinstance(box_data, dict):
        raise ValueError(f"SG-FRONT file {box_path} must hold a JSON object keyed by scan id")
    scenes = [
        _load_scan(scan, box_data, rel_path, box_path, room_type, mapping, pred_names, use_scene_node)
        for scan in rels["scans"]
    ]
    bad = [(sc, contradicting_pairs(sc.triples)) for sc in scenes]
    bad = [(sc, pairs) for sc, pairs in bad if len(pairs)]
    if bad:
        sc, pairs = bad[0]
        i, j = (int(v) for v in pairs[0])
        warnings.warn(
            f"{rel_path}: {len(bad)} of {len(scenes)} scans contain contradicting relations; scan {sc.name!r}: "
            f"'{describe_triple(sc.triples[i])}' and '{describe_triple(sc.triples[j])}' (node ids after loading)",
            ContradictingRelationsWarning,
            stacklevel=2,
        )
    return scenes


def default_sgfront_root(root=None) -> Path | None:
    """Directory with real SG-FRONT files under the data root, or None.

    Looks for ``relationships_*_trainval.json`` in ``<root>/sg_front/raw``, ``<root>/sg_front`` and
    ``<root>/SG-FRONT``, the root resolved as :func:`graphdiff.data.data_root` does (argument >
    ``$GRAPHDIFF_DATA`` > user cache).

    Parameters
    ----------
    root : str or os.PathLike, optional
        The data root (default: ``$GRAPHDIFF_DATA``, else the user cache).

    Returns
    -------
    pathlib.Path or None
    """
    from graphdiff.data.loaders import data_root

    base = data_root(root)
    for cand in (Path(base) / "sg_front" / "raw", Path(base) / "sg_front", Path(base) / "SG-FRONT"):
        if any(cand.glob("relationships_*_trainval.json")):
            return cand
    return None
