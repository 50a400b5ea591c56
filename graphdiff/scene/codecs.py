"""EchoScene's fitted codecs and the batching of scenes as ``torch_geometric`` graphs.

EchoScene (Zhai et al., ECCV 2024, https://arxiv.org/abs/2405.00915) diffuses normalised boxes in its layout branch
and shape latents in its shape branch (Sec. 3.4):

* :class:`BoxCodec` -- SG-FRONT's box normalisation: per room type, min-max scaling of ``[l, h, w, x, y, z]`` to
  [-1, 1] with training statistics, and the yaw as (sin, cos): the 8-d vector ``[l, h, w, x, y, z, sin, cos]``.
* :class:`ShapeCodec` -- a whitened PCA code of the tiny occupancy grids of :func:`graphdiff.data.scenes.shape_grids`,
  standing in for the frozen VQ-VAE latent of the paper's shape branch.
* :func:`scene_to_data` / :func:`scenes_to_batch` -- a scene (or several, as a disjoint union) as the
  :class:`torch_geometric.data.Data` / :class:`~torch_geometric.data.Batch` the networks read.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from graphdiff.data.scenes import ROOM_TYPES, SCENE_ID, SHAPE_RES, Scene, check_scene, shape_grids
from graphdiff.data.scenes.geometry import as_boxes
from graphdiff.data.validation import check_int

__all__ = ["BoxCodec", "ShapeCodec", "scene_to_data", "scenes_to_batch"]


class BoxCodec:
    """SG-FRONT's box normalisation: ``param7`` boxes to 8-d vectors in [-1, 1] and back.

    ``fit`` takes, per room type, the minimum and maximum of ``[l, h, w, x, y, z]`` over the object and floor nodes
    of the training scenes (``_scene_`` excluded); ``encode`` scales to [-1, 1] and writes the yaw as
    ``(sin theta, cos theta)``; ``decode`` inverts it (yaw by ``atan2``, negative sizes clipped to 0).

    Attributes
    ----------
    bounds_ : dict of str to (numpy.ndarray, numpy.ndarray)
        Per fitted room type, the lower and upper bounds (6,) of ``[l, h, w, x, y, z]``.

    Examples
    --------
    >>> import numpy as np
    >>> from graphdiff.data import scenes
    >>> rooms = scenes.generate_scenes(6, seed=0)
    >>> codec = BoxCodec().fit(rooms)
    >>> codes = codec.encode(rooms[0].boxes[:-1], "bedroom")  # the objects and the floor (not _scene_)
    >>> decoded = codec.decode(codes, "bedroom")
    >>> codes.shape[1], bool(np.allclose(decoded[:, :6], rooms[0].boxes[:-1, :6]))  # sizes, positions
    (8, True)
    """

    def fit(self, scenes: Sequence[Scene]) -> BoxCodec:
        """Take the per-room-type bounds from ``scenes``; returns ``self``."""
        if len(scenes) == 0:
            raise ValueError("`scenes` is empty: BoxCodec.fit needs training scenes")
        self.bounds_ = {}
        for rt in ROOM_TYPES:
            sel = [s.boxes[s.classes != SCENE_ID, :6] for s in scenes if s.room_type == rt]
            if not sel:
                continue
            allb = np.concatenate(sel, axis=0)
            lo, hi = allb.min(axis=0), allb.max(axis=0)
            hi = np.where(hi - lo < 1e-6, lo + 1e-6, hi)
            self.bounds_[rt] = (lo, hi)
        return self

    def _bounds(self, room_type):
        if not hasattr(self, "bounds_"):
            raise ValueError("this BoxCodec is not fitted yet: call `fit` first")
        if room_type not in self.bounds_:
            raise ValueError(f"BoxCodec has no statistics for room type {room_type!r} (fitted: {sorted(self.bounds_)})")
        return self.bounds_[room_type]

    def encode(self, boxes, room_type: str) -> np.ndarray:
        """``(n, 7)`` param7 boxes -> ``(n, 8)`` normalised boxes."""
        boxes = as_boxes(boxes)
        lo, hi = self._bounds(room_type)
        scaled = 2.0 * (boxes[:, :6] - lo) / (hi - lo) - 1.0
        return np.concatenate([scaled, np.sin(boxes[:, 6:7]), np.cos(boxes[:, 6:7])], axis=1)

    def decode(self, codes, room_type: str) -> np.ndarray:
        """``(n, 8)`` normalised boxes -> ``(n, 7)`` param7 boxes (yaw by atan2, negative sizes clipped to 0)."""
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != 8:
            raise ValueError(f"`codes` must have shape (n, 8), got {codes.shape}")
        lo, hi = self._bounds(room_type)
        raw = (codes[:, :6] + 1.0) / 2.0 * (hi - lo) + lo
        raw[:, :3] = np.maximum(raw[:, :3], 0.0)
        theta = np.arctan2(codes[:, 6], codes[:, 7])
        return np.concatenate([raw, theta[:, None]], axis=1)

    def state_dict(self) -> dict:
        """``{room_type: (lo, hi)}`` as lists of floats (what :meth:`from_state_dict` reads back)."""
        if not hasattr(self, "bounds_"):
            raise ValueError("this BoxCodec is not fitted yet: call `fit` first")
        return {rt: (lo.tolist(), hi.tolist()) for rt, (lo, hi) in self.bounds_.items()}

    @classmethod
    def from_state_dict(cls, state) -> BoxCodec:
        """A fitted codec from :meth:`state_dict`'s output."""
        out = cls()
        out.bounds_ = {rt: (np.asarray(lo), np.asarray(hi)) for rt, (lo, hi) in state.items()}
        return out


class ShapeCodec:
    """PCA code of the tiny occupancy grids, whitened per component (stands in for EchoScene's frozen VQ-VAE).

    ``fit`` on training shapes (each distinct grid counted once; deterministic, by SVD), then ``encode`` grids to
    ``(n, dim)`` codes and ``decode`` codes back to occupancy probabilities (threshold at 0.5 for voxels).

    Parameters
    ----------
    dim : int
        Dimension of the code (at most the number of distinct training shapes).

    Attributes
    ----------
    mean_ : numpy.ndarray of shape (16**3,)
    components_ : numpy.ndarray of shape (dim, 16**3)
    scale_ : numpy.ndarray of shape (dim,)
        Per-component standard deviation of the training codes.

    Examples
    --------
    >>> import numpy as np
    >>> from graphdiff.data.scenes import shape_grids
    >>> grids = shape_grids(np.repeat(np.arange(1, 13), 8), np.tile(np.arange(8), 12))  # 96 distinct shapes
    >>> codec = ShapeCodec(16).fit(grids)
    >>> codes = codec.encode(grids)
    >>> codes.shape, bool(((codec.decode(codes) >= 0.5) == grids).mean() > 0.95)
    ((96, 16), True)
    """

    def __init__(self, dim: int = 16):
        self.dim = dim

    def fit(self, grids) -> ShapeCodec:
        """Fit the PCA on ``grids`` ``(n, 16, 16, 16)``; returns ``self``."""
        self.dim = check_int(self.dim, "dim", minimum=1)
        G = np.asarray(grids).reshape(len(grids), -1)
        if G.shape[0] < 2:
            raise ValueError(f"`grids` must hold at least 2 shapes to fit a ShapeCodec, got {G.shape[0]}")
        _, first = np.unique(np.packbits(G >= 0.5, axis=1), axis=0, return_index=True)
        X = G[np.sort(first)].astype(np.float64)  # each distinct shape counted once
        if self.dim > min(X.shape):
            raise ValueError(f"`dim`={self.dim} exceeds the rank available from {X.shape[0]} distinct shapes")
        self.mean_ = X.mean(axis=0)
        _, _sv, vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        self.components_ = vt[: self.dim]
        codes = (X - self.mean_) @ self.components_.T
        self.scale_ = codes.std(axis=0) + 1e-6
        return self

    def _check(self):
        if not hasattr(self, "mean_"):
            raise ValueError("this ShapeCodec is not fitted yet: call `fit` first")

    def encode(self, grids) -> np.ndarray:
        """``(n, 16, 16, 16)`` grids -> ``(n, dim)`` codes."""
        self._check()
        X = np.asarray(grids, dtype=np.float64).reshape(len(grids), -1)
        return ((X - self.mean_) @ self.components_.T) / self.scale_

    def decode(self, codes) -> np.ndarray:
        """``(n, dim)`` codes -> ``(n, 16, 16, 16)`` occupancy probabilities in [0, 1]."""
        self._check()
        codes = np.asarray(codes, dtype=np.float64)
        if codes.ndim != 2 or codes.shape[1] != self.dim:
            raise ValueError(f"`codes` must have shape (n, {self.dim}), got {codes.shape}")
        X = (codes * self.scale_) @ self.components_ + self.mean_
        return np.clip(X, 0.0, 1.0).reshape(len(codes), SHAPE_RES, SHAPE_RES, SHAPE_RES)

    def state_dict(self) -> dict:
        """The fitted state as float64 tensors (so that a checkpoint loads with ``torch.load(weights_only=True)``)."""
        self._check()
        return {
            "dim": int(self.dim),
            "mean": torch.from_numpy(np.asarray(self.mean_, dtype=np.float64)),
            "components": torch.from_numpy(np.asarray(self.components_, dtype=np.float64)),
            "scale": torch.from_numpy(np.asarray(self.scale_, dtype=np.float64)),
        }

    @classmethod
    def from_state_dict(cls, state) -> ShapeCodec:
        """A fitted codec from :meth:`state_dict`'s output (tensors or numpy arrays)."""
        out = cls(int(state["dim"]))
        out.mean_, out.components_, out.scale_ = (
            np.asarray(state[k].cpu() if isinstance(state[k], torch.Tensor) else state[k], dtype=np.float64)
            for k in ("mean", "components", "scale")
        )
        return out


def _scene_to_data(scene: Scene, box_codec: BoxCodec, shape_codec: ShapeCodec | None = None):
    """:func:`scene_to_data` without the validation (for scenes validated already)."""
    from torch_geometric.data import Data

    n = scene.num_nodes
    box = box_codec.encode(scene.boxes, scene.room_type)
    box_mask = scene.classes != SCENE_ID
    box[~box_mask] = 0.0
    data = Data(
        node_class=torch.as_tensor(scene.classes, dtype=torch.long),
        box=torch.as_tensor(box, dtype=torch.float32),
        box_mask=torch.as_tensor(box_mask),
        edge_index=torch.as_tensor(scene.triples[:, [0, 2]].T.copy(), dtype=torch.long).reshape(2, -1),
        edge_type=torch.as_tensor(scene.triples[:, 1], dtype=torch.long),
        room_type=torch.tensor([ROOM_TYPES.index(scene.room_type)]),
        num_nodes=n,
    )
    if shape_codec is not None:
        known = scene.object_mask & (scene.shape_variant >= 0)
        codes = np.zeros((n, shape_codec.dim))
        if known.any():
            codes[known] = shape_codec.encode(shape_grids(scene.classes[known], scene.shape_variant[known]))
        data.shape_code = torch.as_tensor(codes, dtype=torch.float32)
        data.shape_mask = torch.as_tensor(known)
    return data


def scene_to_data(scene: Scene, box_codec: BoxCodec, shape_codec: ShapeCodec | None = None):
    """One scene as a :class:`torch_geometric.data.Data`.

    Parameters
    ----------
    scene : Scene
        Validated with :func:`graphdiff.data.scenes.check_scene`.
    box_codec : BoxCodec
        A fitted codec (with statistics for the scene's room type).
    shape_codec : ShapeCodec, optional
        A fitted codec; adds ``shape_code`` and ``shape_mask``.

    Returns
    -------
    torch_geometric.data.Data
        ``node_class`` (n,) int64, ``box`` (n, 8) normalised boxes (zeros for ``_scene_``), ``box_mask`` (n,) nodes
        whose box is real (not ``_scene_``), ``shape_code`` (n, dim) and ``shape_mask`` (n,) objects with a known
        shape (with a shape codec), ``edge_index`` (2, T) subject -> object, ``edge_type`` (T,) predicate ids,
        ``room_type`` (1,) index into :data:`~graphdiff.data.scenes.ROOM_TYPES`.
    """
    check_scene(scene, stacklevel=3)
    return _scene_to_data(scene, box_codec, shape_codec)


def scenes_to_batch(scenes: Sequence[Scene], box_codec: BoxCodec, shape_codec: ShapeCodec | None = None):
    """Several scenes as one :class:`torch_geometric.data.Batch` (a disjoint union; ``batch`` maps nodes to
    scenes), with the fields of :func:`scene_to_data`.

    >>> from graphdiff.data import scenes
    >>> rooms = scenes.generate_scenes(4, seed=0)
    >>> batch = scenes_to_batch(rooms, BoxCodec().fit(rooms))
    >>> batch.num_graphs, tuple(batch.box.shape) == (sum(r.num_nodes for r in rooms), 8)
    (4, True)
    """
    from torch_geometric.data import Batch

    from graphdiff.data.scenes import check_scenes

    scenes = check_scenes(scenes, stacklevel=3)
    return Batch.from_data_list([_scene_to_data(s, box_codec, shape_codec) for s in scenes])
