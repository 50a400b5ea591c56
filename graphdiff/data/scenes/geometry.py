"""Geometry of ``param7`` boxes ``[l, h, w, x, y, z, theta]``: corners and axis-aligned bounds.

SG-FRONT's box convention (CommonScenes, https://arxiv.org/abs/2305.16283, Sec. 3): ``l`` the x-extent, ``h`` the
height (y up), ``w`` the z-extent, ``(x, y, z)`` the bottom centre relative to the room centre, ``theta`` the yaw; the
corners are the local offsets rotated by ``[[c, 0, -s], [0, 1, 0], [s, 0, c]]`` plus the bottom centre.

>>> lo, hi = aabb([[2.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0]])
>>> lo.tolist(), hi.tolist()
([[-1.0, 0.0, -0.5]], [[1.0, 1.0, 0.5]])
"""

from __future__ import annotations

import numpy as np

__all__ = ["box_corners", "aabb", "as_boxes"]


def as_boxes(boxes, name="boxes") -> np.ndarray:
    """``boxes`` as an ``(n, 7)`` float64 array of ``param7`` boxes (ValueError naming ``name`` otherwise)."""
    boxes = np.asarray(boxes, dtype=np.float64)
    if boxes.ndim != 2 or boxes.shape[1] != 7:
        raise ValueError(f"`{name}` must have shape (n, 7) (param7 boxes), got {boxes.shape}")
    return boxes


def box_corners(boxes) -> np.ndarray:
    """The 8 corners of ``param7`` boxes (local offsets rotated by the yaw, plus the bottom centre).

    Parameters
    ----------
    boxes : array-like of float, shape (n, 7)
        ``param7`` boxes ``[l, h, w, x, y, z, theta]``.

    Returns
    -------
    numpy.ndarray of float64, shape (n, 8, 3)
    """
    boxes = as_boxes(boxes)
    l, h, w = boxes[:, 0:1], boxes[:, 1:2], boxes[:, 2:3]
    sx = np.array([-0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5, -0.5])
    sy = np.array([0, 0, 0, 0, 1, 1, 1, 1.0])
    sz = np.array([-0.5, -0.5, 0.5, 0.5, -0.5, -0.5, 0.5, 0.5])
    lx, ly, lz = l * sx, h * sy, w * sz  # (n, 8)
    c, s = np.cos(boxes[:, 6:7]), np.sin(boxes[:, 6:7])
    x = c * lx - s * lz + boxes[:, 3:4]
    z = s * lx + c * lz + boxes[:, 5:6]
    y = ly + boxes[:, 4:5]
    return np.stack([x, y, z], axis=-1)


def aabb(boxes) -> tuple[np.ndarray, np.ndarray]:
    """Axis-aligned bounds of the rotated ``param7`` boxes.

    Parameters
    ----------
    boxes : array-like of float, shape (n, 7)
        ``param7`` boxes ``[l, h, w, x, y, z, theta]``.

    Returns
    -------
    lo, hi : numpy.ndarray of float64, shape (n, 3)
        The smallest and largest corner coordinates of each box.
    """
    corners = box_corners(boxes)
    return corners.min(axis=1), corners.max(axis=1)
