"""Relation-guided sampling: a differentiable relation loss and the guidance step of the last denoising steps.

An addition beyond EchoScene (https://arxiv.org/abs/2405.00915), whose sampler has no guidance (Sec. 3.4 samples
the layout branch unguided): constraint guidance as in diffusion posterior sampling (Chung et al., ICLR 2023,
https://arxiv.org/abs/2209.14687) and universal guidance's forward step (Bansal et al., 2023,
https://arxiv.org/abs/2302.07121). At a guided step the clean boxes implied by the noise prediction,
:math:`\\hat x_0 = (x_t - \\sqrt{1-\\bar\\alpha_t}\\,\\hat\\epsilon)/\\sqrt{\\bar\\alpha_t}`, take a few gradient steps
on :func:`relation_loss` (the scene graph's relations scored with hinges on SG-FRONT's evaluation rules, in metres),
and the step continues with the noise that the moved :math:`\\hat x_0` implies. Nodes held fixed (clamped
re-sampling) do not move. Switched by ``EchoScene(guidance=...)`` (0: off, the default).
"""

from __future__ import annotations

import torch

from graphdiff.data import scenes as S

__all__ = ["relation_loss", "guide_x0"]

_P = S.PREDICATE_TO_ID
#: the predicates the loss scores (those of the evaluation)
GUIDED_PREDICATES = tuple(
    _P[p]
    for p in (
        "left",
        "right",
        "front",
        "behind",
        "close by",
        "standing on",
        "bigger than",
        "smaller than",
        "taller than",
        "shorter than",
        "symmetrical to",
    )
)


def _eval_corners(b: torch.Tensor) -> torch.Tensor:
    """(n, 8, 3) corners of the axis-aligned evaluation boxes (x-extent w, z-extent l, y from the bottom)."""
    lo = torch.stack([b[:, 3] - b[:, 2] / 2, b[:, 4], b[:, 5] - b[:, 0] / 2], dim=1)
    hi = torch.stack([b[:, 3] + b[:, 2] / 2, b[:, 4] + b[:, 1], b[:, 5] + b[:, 0] / 2], dim=1)
    sel = torch.tensor([[i >> 0 & 1, i >> 1 & 1, i >> 2 & 1] for i in range(8)], dtype=torch.bool, device=b.device)
    return torch.where(sel[None], hi[:, None], lo[:, None])


def relation_loss(boxes: torch.Tensor, triples: torch.Tensor, margin: float = 0.03) -> torch.Tensor:
    """Per-triple hinge losses (metres or ratios) of the evaluation rules of :mod:`graphdiff.scene.metrics`.

    Zero when a triple passes its rule with ``margin`` to spare: left ``dz <= -0.05 - margin``, front
    ``dx >= -0.05 + margin``, bigger ``1 - V_o / V_s >= 0.15 + margin``, taller
    ``1 - top_o / top_s >= 0.1 + margin``, standing on ``|y_s - y_o| <= 0.04 - margin``, close by (minimum corner
    distance) ``<= 0.45 - margin``, symmetrical (the nearest mirror image of s) ``<= 0.45 - margin``; the directional
    rules add ``max(0, IoU_min - 0.2)`` (their overlap condition, ``IoU_min <= 0.3``, with a margin of 0.1). Other
    predicates give 0. The bottoms ``y`` get a gradient
    from "standing on" only.

    Parameters
    ----------
    boxes : torch.Tensor of shape (n, 7)
        ``param7`` boxes in metres (differentiable).
    triples : torch.Tensor of shape (T, 3)
        ``(subject, predicate id, object)`` rows, int64.
    margin : float
        Slack beyond each threshold.

    Returns
    -------
    torch.Tensor of shape (T,)

    Examples
    --------
    >>> b = torch.tensor([[1.0, 1, 1, 0, 0, 0, 0], [1.0, 1, 1, 0, 0, 2, 0]])  # box 0 at z=0, box 1 at z=2
    >>> relation_loss(b, torch.tensor([[0, 1, 1], [1, 1, 0]])).tolist()  # "0 left 1" holds, "1 left 0" does not
    [0.0, 2.0799999237060547]
    """
    s, p, o = triples[:, 0], triples[:, 1], triples[:, 2]
    bs, bo = boxes[s], boxes[o]
    # the bottoms move only for "standing on": the other rules read them with no gradient (a taller or close-by
    # pair must not be met by lifting an object off the floor)
    fixed_y = torch.cat([boxes[:, :4], boxes[:, 4:5].detach(), boxes[:, 5:]], dim=1)
    fs, fo = fixed_y[s], fixed_y[o]
    dx, dz = bs[:, 3] - bo[:, 3], bs[:, 5] - bo[:, 5]
    vol = boxes[:, 0].clamp(min=1e-3) * boxes[:, 1].clamp(min=1e-3) * boxes[:, 2].clamp(min=1e-3)
    top = (fixed_y[:, 4] + boxes[:, 1]).clamp(min=1e-3)
    rv, rt = 1 - vol[o] / vol[s], 1 - top[o] / top[s]
    m = margin
    relu = torch.nn.functional.relu
    terms = {
        "left": relu(dz + 0.05 + m),
        "right": relu(0.05 + m - dz),
        "front": relu(-0.05 + m - dx),
        "behind": relu(dx - 0.05 + m),
        "bigger than": relu(0.15 + m - rv),
        "smaller than": relu(rv + 0.15 + m),
        "taller than": relu(0.1 + m - rt),
        "shorter than": relu(rt + 0.1 + m),
        "standing on": relu((bs[:, 4] - bo[:, 4]).abs() - 0.04 + m),
    }
    # the directional rules also fail when the two boxes overlap (intersection over the smaller volume > 0.3)
    lo_s, lo_o = _eval_corners(fs)[:, 0], _eval_corners(fo)[:, 0]
    hi_s, hi_o = _eval_corners(fs)[:, 7], _eval_corners(fo)[:, 7]
    inter = (torch.minimum(hi_s, hi_o) - torch.maximum(lo_s, lo_o)).clamp(min=0).prod(dim=1)
    iou_min = inter / torch.minimum(vol[s], vol[o])
    overlap = relu(iou_min - 0.3 + 0.1)
    for name in ("left", "right", "front", "behind"):
        terms[name] = terms[name] + overlap
    close = p == _P["close by"]
    out = torch.zeros(len(triples), dtype=boxes.dtype, device=boxes.device)
    for name, value in terms.items():
        out = torch.where(p == _P[name], value, out)
    if bool(close.any()):
        cs, co = _eval_corners(fs[close]), _eval_corners(fo[close])
        d = ((cs[:, :, None] - co[:, None]) ** 2).sum(-1).clamp(min=1e-12).sqrt().flatten(1).min(dim=1).values
        out = out.masked_scatter(close, relu(d - 0.45 + m))
    sym = p == _P["symmetrical to"]
    if bool(sym.any()):
        c_s, c_o = bs[sym][:, [3, 5]], bo[sym][:, [3, 5]]
        signs = torch.tensor([[-1.0, 1.0], [1.0, -1.0], [-1.0, -1.0]], dtype=boxes.dtype, device=boxes.device)
        d = ((c_s[:, None] * signs[None] - c_o[:, None]) ** 2).sum(-1).clamp(min=1e-12).sqrt().min(dim=1).values
        out = out.masked_scatter(sym, relu(d - 0.45 + m))
    return out


def guide_x0(
    x0: torch.Tensor,
    lo: torch.Tensor,
    hi: torch.Tensor,
    triples: torch.Tensor,
    strength: float,
    iterations: int = 10,
    movable: torch.Tensor | None = None,
    weights: torch.Tensor | None = None,
) -> torch.Tensor:
    """Move normalised clean boxes down the gradient of the summed :func:`relation_loss`.

    Parameters
    ----------
    x0 : torch.Tensor of shape (n, 8)
        Normalised boxes (the box codec's ``[l, h, w, x, y, z, sin, cos]`` in [-1, 1]).
    lo, hi : torch.Tensor of shape (n, 6)
        Per node, the codec's bounds of ``[l, h, w, x, y, z]`` (of its room type).
    triples : torch.Tensor of shape (T, 3)
        The relations to satisfy (node ids into ``x0``).
    strength : float
        Gradient step size (normalised units per unit of loss).
    iterations : int
        Gradient steps.
    movable : torch.Tensor of bool, shape (n,), optional
        Nodes allowed to move (default: all).
    weights : torch.Tensor of shape (T,), optional
        A weight per triple in the summed loss (default: 1 each; edit guidance weighs the edited triples up and the
        triples that do not touch an edited node with 0).

    Returns
    -------
    torch.Tensor of shape (n, 8)
        The moved boxes, clipped to [-1, 1] (no gradient).
    """
    keep = torch.isin(triples[:, 1], torch.tensor(GUIDED_PREDICATES, device=triples.device))
    if weights is not None:
        if weights.shape != (len(triples),):
            raise ValueError(f"`weights` must hold one value per triple ({len(triples)}), got {tuple(weights.shape)}")
        keep &= weights != 0
        weights = weights[keep].to(x0)
    triples = triples[keep]
    if strength <= 0 or len(triples) == 0:
        return x0
    mask = torch.ones(len(x0), 1, dtype=x0.dtype, device=x0.device) if movable is None else movable[:, None].to(x0)
    x = x0.detach().clone()
    for _ in range(iterations):
        with torch.enable_grad():
            x.requires_grad_(True)
            raw = (x[:, :6] + 1.0) / 2.0 * (hi - lo) + lo
            boxes = torch.cat([raw[:, :3].clamp(min=0.0), raw[:, 3:], torch.zeros_like(raw[:, :1])], dim=1)
            per_triple = relation_loss(boxes, triples)
            loss = (per_triple if weights is None else per_triple * weights).sum()
            (grad,) = torch.autograd.grad(loss, x)
        x = (x.detach() - strength * grad * mask).clamp(-1.0, 1.0)
    return x
