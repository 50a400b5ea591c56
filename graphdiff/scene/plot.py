"""Top-down drawings of rooms: oriented boxes coloured by class and arrows for relations (visual counterpart of
the top-down renders that EchoScene's evaluation uses, https://arxiv.org/abs/2405.00915, Sec. 4.1)."""

from __future__ import annotations

import numpy as np

from graphdiff.data import scenes as S

__all__ = ["draw_topdown", "CLASS_COLORS"]

_PALETTE = [
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#17becf",
    "#8c564b",
]
CLASS_COLORS = {c: _PALETTE[i % len(_PALETTE)] for i, c in enumerate(S.CLASSES[1:-1])}
_ARROW_PREDICATES = {"left": "#333333", "right": "#333333", "front": "#1f77b4", "behind": "#1f77b4"}


def draw_topdown(
    scene: S.Scene,
    ax=None,
    relations=("left", "right", "front", "behind"),
    highlight=(),
    title: str | None = None,
    legend: bool = True,
):
    """Draw ``scene`` seen from above (x to the right, z up) on ``ax`` (a new figure when None).

    Objects are oriented rectangles coloured by class (lamps dashed, as they hang above the floor); the floor box is
    the room outline; ``relations`` lists the predicates drawn as arrows from subject to object centre, and the
    triples at the row ids in ``highlight`` are drawn in red.
    """
    import matplotlib.patches as mpatches
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(4, 4))
    floor = np.flatnonzero(scene.classes == S.FLOOR_ID)
    if floor.size:
        W, D = scene.boxes[floor[0], 0], scene.boxes[floor[0], 2]
        ax.add_patch(mpatches.Rectangle((-W / 2, -D / 2), W, D, fill=False, lw=2, ec="black"))
    corners = S.box_corners(scene.boxes)[:, :4][:, :, [0, 2]]  # bottom face, (x, z)
    seen = set()
    for i in np.flatnonzero(scene.object_mask):
        name = S.CLASSES[scene.classes[i]]
        lamp = name == "lamp"
        ax.add_patch(
            mpatches.Polygon(
                corners[i],
                closed=True,
                alpha=0.25 if lamp else 0.6,
                fc=CLASS_COLORS[name],
                ec="black",
                ls="--" if lamp else "-",
                label=name if name not in seen else None,
            )
        )
        seen.add(name)
        ax.text(scene.boxes[i, 3], scene.boxes[i, 5], str(i), ha="center", va="center", fontsize=7)
    wanted = {S.PREDICATE_TO_ID[p] for p in relations}
    hl = set(int(h) for h in highlight)
    for k, (s, p, o) in enumerate(scene.triples):
        if (p not in wanted and k not in hl) or not (scene.object_mask[s] and scene.object_mask[o]):
            continue
        color = "red" if k in hl else _ARROW_PREDICATES.get(S.PREDICATES[p], "gray")
        a, b = scene.boxes[s, [3, 5]], scene.boxes[o, [3, 5]]
        ax.annotate(
            "",
            xy=b,
            xytext=a,
            arrowprops=dict(arrowstyle="->", color=color, lw=2 if k in hl else 0.8, alpha=1.0 if k in hl else 0.5),
        )
    lim = max(np.abs(corners).max() if len(corners) else 1.0, 1.0) + 0.3
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("z (m)")
    if title:
        ax.set_title(title, fontsize=9)
    if legend:
        ax.legend(fontsize=6, loc="upper right")
    return ax
