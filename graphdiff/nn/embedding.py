"""Sinusoidal embeddings of diffusion timesteps.

The positional encoding of Vaswani et al. (NeurIPS 2017, https://arxiv.org/abs/1706.03762, Sec. 3.5) applied to the
timestep of a diffusion model, as in DDPM (Ho et al., NeurIPS 2020, https://arxiv.org/abs/2006.11239, Appendix B):

.. math::

    \\pi(t) = [\\cos(t\\,\\omega_0), \\dots, \\cos(t\\,\\omega_{h-1}), \\sin(t\\,\\omega_0), \\dots,
    \\sin(t\\,\\omega_{h-1})], \\qquad \\omega_k = P^{-k/h}, \\quad h = \\lfloor d/2 \\rfloor,

with a zero column appended when ``d`` is odd (the cosine-first order of the guided-diffusion code, which diffusers
calls ``flip_sin_to_cos=True, downscale_freq_shift=0``).
"""

from __future__ import annotations

import math

import torch

from graphdiff.data.validation import check_float, check_int

__all__ = ["timestep_embedding"]


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of timesteps (see the module docstring).

    Parameters
    ----------
    t : torch.Tensor of shape (N,)
        Timesteps (integer or real).
    dim : int
        Embedding width ``d``.
    max_period : float
        ``P``, the longest period.

    Returns
    -------
    torch.Tensor of shape (N, dim), float32, on ``t``'s device

    Examples
    --------
    >>> emb = timestep_embedding(torch.tensor([0, 10, 999]), 8)
    >>> tuple(emb.shape), emb[0].tolist()
    ((3, 8), [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    """
    dim = check_int(dim, "dim", minimum=1)
    max_period = check_float(max_period, "max_period", minimum=0.0, low_open=True)
    if not isinstance(t, torch.Tensor) or t.dim() != 1:
        raise ValueError(f"`t` must be a 1-D tensor of timesteps, got {getattr(t, 'shape', type(t).__name__)}")
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    if dim % 2:
        emb = torch.cat([emb, torch.zeros_like(emb[:, :1])], dim=1)
    return emb
