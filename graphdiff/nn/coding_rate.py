r"""Coding rates and the maximal coding rate reduction (MCR\ :sup:`2`) loss.

Implements the training objective of ERASE, section 4.2 of Chen et al., "ERASE: Error-Resilient Representation
Learning on Graphs for Label Noise Tolerance", CIKM 2024 (https://arxiv.org/abs/2312.08852), which takes the
empirical coding rates of Yu et al., "Learning Diverse and Discriminative Representations via the Principle of
Maximal Coding Rate Reduction", NeurIPS 2020 (https://arxiv.org/abs/2006.08558).

For embeddings :math:`Z \in \mathbb{R}^{m \times p}` (one row per node) and a hard partition of the rows into classes
:math:`\{J_c\}` with :math:`m_c = |J_c|`:

.. math::

    R(Z) &= \tfrac12 \log\det\!\Big(I_p + \gamma_1 \frac{p}{m\,\epsilon}\, Z^\top Z\Big), \\
    R_c(Z \mid \Pi) &= \sum_c \frac{m_c}{2m} \log\det\!\Big(I_p
        + \frac{p}{m_c\,\epsilon}\, Z_{J_c}^\top Z_{J_c}\Big), \\
    \mathcal{L}(Z, \Pi) &= -\gamma_2\, R(Z) + \gamma_1\, R_c(Z \mid \Pi).

``eps`` is the squared distortion :math:`\epsilon` of the papers' :math:`\epsilon^2` (the reference code's ``eps``
is already squared, and so is ours). ``gam1`` scales the expansion term as in the reference code; with
``gam1 = 1`` the empirical rate equals the theoretical one.

Implementation notes

* The class partition is never materialised as a dense ``K x m x m`` membership tensor: rows are sorted by label
  once and split into per-class blocks (index masks), and empty classes contribute exactly zero.
* Each log-determinant is taken of the smaller Gram matrix (Sylvester's identity
  :math:`\det(I_p + c Z^\top Z) = \det(I_m + c Z Z^\top)`), through a Cholesky factorisation, which always exists
  because the matrix is the identity plus a positive semi-definite term. For float32 inputs the Gram product is
  formed in float32 and factorised in float64, and the result is cast back, so small classes and tiny embeddings
  stay accurate.
* Labels only select rows: no gradient reaches them.
* Both rates depend on the rows only through the ``p x p`` class Gram matrices and the class sizes, which are sums
  over rows. :func:`coding_rates` forms them once (their sum is the total Gram matrix) and differentiates by one
  product per class; :func:`distributed_coding_rates` sums them over the processes of a ``torch.distributed`` group
  first, so that every process computes the rates of the union of all processes' batches exactly.
"""

from __future__ import annotations

import torch
from torch import Tensor

from graphdiff.data.validation import check_features, check_float, check_int, check_labels

__all__ = [
    "logdet_identity_plus",
    "coding_rate",
    "compress_rate",
    "coding_rates",
    "mcr2_loss",
    "MCR2Loss",
    "distributed_coding_rates",
    "distributed_mcr2_loss",
]


def _check_z(z, name: str = "z") -> Tensor:
    """A 2-D floating tensor of finite values (one row per node)."""
    if not isinstance(z, Tensor):
        raise ValueError(f"`{name}` must be a torch.Tensor, got {type(z).__name__}")
    if not z.is_floating_point():
        raise ValueError(f"`{name}` must be a floating tensor, got dtype {z.dtype}")
    return check_features(z, name=name)


def _check_eps(eps) -> float:
    return check_float(eps, "eps", minimum=0.0, low_open=True)


def _check_class_labels(labels, m: int, num_classes, device) -> tuple[Tensor, int]:
    """Integer class ids, one per row of ``z``, in ``[0, num_classes)``; returns them and ``num_classes``."""
    if not isinstance(labels, Tensor):
        raise ValueError(f"`labels` must be a torch.Tensor, got {type(labels).__name__}")
    if labels.dim() != 1 or labels.numel() != m:
        raise ValueError(f"`labels` must be 1-D with one entry per row of `z` ({m}), got shape {tuple(labels.shape)}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"`labels` must hold integer class ids, got dtype {labels.dtype}")
    num_classes = check_int(num_classes, "num_classes", minimum=0, allow_none=True)
    labels = check_labels(labels, num_classes=num_classes, name="labels").to(device=device)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if m > 0 else 0
    return labels, num_classes


def logdet_identity_plus(z: Tensor, scale: float) -> Tensor:
    r""":math:`\log\det(I_p + \text{scale}\cdot Z^\top Z)`, differentiable in ``z``.

    Uses the ``min(m, p)``-sized Gram matrix (Sylvester's identity) and a Cholesky factor (float64 factorisation
    for lower-precision inputs).

    Parameters
    ----------
    z : Tensor of shape (m, p)
        Floating, finite.
    scale : float
        Non-negative factor of the Gram term.

    Returns
    -------
    Tensor
        A scalar of the dtype of ``z``.

    Examples
    --------
    >>> import torch
    >>> z = torch.tensor([[1.0, 0.0], [0.0, 2.0]], dtype=torch.float64)
    >>> logdet_identity_plus(z, 1.0)  # log((1 + 1) * (1 + 4))
    tensor(2.3026, dtype=torch.float64)
    """
    z = _check_z(z)
    scale = check_float(scale, "scale", minimum=0.0)
    m, p = z.shape
    if m == 0 or p == 0 or scale == 0.0:
        return z.sum() * 0.0
    gram = z.T @ z if p <= m else z @ z.T
    if gram.dtype in (torch.float32, torch.float16, torch.bfloat16):
        gram = gram.double()  # the Gram product in the input precision, the factorisation in float64
    k = gram.size(0)
    mat = torch.eye(k, dtype=gram.dtype, device=gram.device) + scale * gram
    chol, info = torch.linalg.cholesky_ex(mat)
    if int(info) != 0:  # pragma: no cover - I + PSD is positive definite; guard against overflow
        if not torch.isfinite(mat).all():
            raise ValueError("the Gram matrix of `z` overflows; the coding rate is undefined")
        out = torch.linalg.slogdet(mat).logabsdet
    else:
        out = 2.0 * torch.log(torch.diagonal(chol)).sum()
    return out.to(z.dtype)


def coding_rate(z: Tensor, eps: float = 0.05, gam1: float = 1.0) -> Tensor:
    r"""Expansion term :math:`R(Z) = \frac12\log\det(I + \gamma_1\frac{p}{m\epsilon} Z^\top Z)`.

    Parameters
    ----------
    z : Tensor of shape (m, p)
        Embeddings, one row per node.
    eps : float, default 0.05
        Squared distortion :math:`\epsilon^2` (the reference code's ``eps``), ``> 0``.
    gam1 : float, default 1.0
        Scale of the Gram term, ``>= 0`` (1 gives the theoretical rate).

    Returns
    -------
    Tensor
        A scalar (``0`` for ``m = 0``).

    Examples
    --------
    >>> import torch
    >>> coding_rate(torch.zeros(4, 3))  # no spread, no rate
    tensor(0.)
    >>> float(coding_rate(torch.eye(4), eps=1.0))  # 1/2 log det(I + I) over 4 dimensions = 2 log 2
    1.3862943649291992
    """
    z = _check_z(z)
    eps = _check_eps(eps)
    gam1 = check_float(gam1, "gam1", minimum=0.0)
    m, p = z.shape
    if m == 0:
        return z.sum() * 0.0
    return 0.5 * logdet_identity_plus(z, gam1 * p / (m * eps))


def compress_rate(z: Tensor, labels: Tensor, num_classes: int | None = None, eps: float = 0.05) -> Tensor:
    r"""Compression term :math:`R_c(Z\mid\Pi) = \sum_c \frac{m_c}{2m}\log\det(I + \frac{p}{m_c\epsilon}Z_c^\top Z_c)`.

    Classes are handled with index blocks of the label-sorted rows; empty classes contribute zero.

    Parameters
    ----------
    z : Tensor of shape (m, p)
        Embeddings.
    labels : Tensor of shape (m,)
        Hard integer class ids; they select rows and carry no gradient.
    num_classes : int, optional
        Number of classes ``K`` (default ``labels.max() + 1``).
    eps : float, default 0.05
        Squared distortion, ``> 0``.

    Returns
    -------
    Tensor
        A scalar.

    Examples
    --------
    >>> import torch
    >>> z = torch.eye(4)
    >>> bool(compress_rate(z, torch.tensor([0, 0, 1, 1]), eps=1.0) < coding_rate(z, eps=1.0))  # classes compress
    True
    """
    z = _check_z(z)
    eps = _check_eps(eps)
    labels, num_classes = _check_class_labels(labels, z.size(0), num_classes, z.device)
    m, p = z.shape
    if m == 0:
        return z.sum() * 0.0
    counts = torch.bincount(labels, minlength=num_classes)
    order = torch.argsort(labels, stable=True)
    blocks = torch.split(z[order], counts.tolist())
    total = z.sum() * 0.0
    for block in blocks:
        m_c = block.size(0)
        if m_c == 0:
            continue
        total = total + (m_c / (2.0 * m)) * logdet_identity_plus(block, p / (m_c * eps))
    return total


class _ClassGrams(torch.autograd.Function):
    r"""The class Gram matrices :math:`G_c = Z_c^\top Z_c` (``K x p x p``, float64) of the rows grouped by class,
    with a hand-written gradient: one product per class, :math:`\partial L / \partial Z_c = Z_c (\bar G_c +
    \bar G_c^\top)`, written straight into the rows of the gradient.

    The products are formed in the precision of ``z`` and the Gram matrices returned in float64, where the
    log-determinants are factorised. Only ``z`` itself is saved (the layer that produced it usually keeps it
    anyway): each class's rows are gathered again in the backward pass instead of keeping a class-sorted copy of
    ``z``, one ``N x p`` tensor less at the peak of an epoch.
    """

    @staticmethod
    def forward(ctx, z: Tensor, order: Tensor, counts: list):
        p = z.size(1)
        z = z.detach()
        grams = torch.zeros(len(counts), p, p, dtype=torch.float64, device=z.device)
        for c, rows in _class_rows(order, counts):
            block = z.index_select(0, rows)  # one class at a time: no N x p sorted copy
            grams[c] = block.T @ block
        ctx.save_for_backward(z, order)
        ctx.counts = counts
        return grams

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_grams: Tensor):
        z, order = ctx.saved_tensors
        weights = (grad_grams + grad_grams.transpose(1, 2)).to(z.dtype)
        grad_z = torch.empty_like(z)  # every row belongs to one class: each row is written once below
        for c, rows in _class_rows(order, ctx.counts):
            grad_z.index_copy_(0, rows, z.index_select(0, rows) @ weights[c])
        return grad_z, None, None


def _class_rows(order: Tensor, counts: list):
    """``(class, row ids)`` of the non-empty classes, from the class-sorted row order and the class sizes."""
    start = 0
    for c, m_c in enumerate(counts):
        if m_c:
            yield c, order[start : start + m_c]
        start += m_c


def _half_logdet_chol(mat: Tensor) -> tuple[Tensor, Tensor]:
    r""":math:`\frac12\log\det` of a symmetric positive definite matrix and its Cholesky factor."""
    chol, info = torch.linalg.cholesky_ex(mat)
    if int(info) != 0:
        raise ValueError("`z` contains NaN or infinite values; the coding rate is undefined")
    return torch.log(torch.diagonal(chol)).sum(), chol


class _GramRates(torch.autograd.Function):
    r"""``(R, R_c)`` (float64) from the class Gram matrices, with the gradient of a log-determinant written out:
    :math:`\partial\,\tfrac12\log\det(I + sG)/\partial G = \tfrac s2 (I + sG)^{-1}`, from the Cholesky factors
    of the forward pass (autograd through the factorisations costs several triangular solves per class instead)."""

    @staticmethod
    def forward(ctx, grams: Tensor, counts: list, scale: float, class_scales: list):
        p = grams.size(1)
        eye = torch.eye(p, dtype=grams.dtype, device=grams.device)
        expand, chol_total = _half_logdet_chol(eye + scale * grams.sum(dim=0))
        compress = grams.new_zeros(())
        chols = []
        m = sum(counts)
        for c, (m_c, s_c) in enumerate(zip(counts, class_scales)):
            if m_c:
                half, chol = _half_logdet_chol(eye + s_c * grams[c])
                compress = compress + (m_c / m) * half
                chols.append(chol)
            else:
                chols.append(None)
        ctx.chols, ctx.chol_total = chols, chol_total
        ctx.counts, ctx.scale, ctx.class_scales = counts, scale, class_scales
        return expand, compress

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_expand: Tensor, grad_compress: Tensor):
        m = sum(ctx.counts)
        shared = torch.cholesky_inverse(ctx.chol_total) * (0.5 * ctx.scale * grad_expand)
        grads = shared.unsqueeze(0).repeat(len(ctx.counts), 1, 1)
        for c, (chol, m_c, s_c) in enumerate(zip(ctx.chols, ctx.counts, ctx.class_scales)):
            if m_c:
                grads[c] += torch.cholesky_inverse(chol) * (0.5 * s_c * m_c / m * grad_compress)
        return grads, None, None, None


def _rates_from_grams(grams: Tensor, counts: list, p: int, eps: float, gam1: float) -> tuple[Tensor, Tensor]:
    """``(R, R_c)`` (float64) from the class Gram matrices and the class sizes (of the whole batch)."""
    m = sum(counts)
    class_scales = [p / (m_c * eps) if m_c else 0.0 for m_c in counts]
    return _GramRates.apply(grams, counts, gam1 * p / (m * eps), class_scales)


class _AllReduceSum(torch.autograd.Function):
    """A differentiable sum over the processes of ``group``: the backward pass sums the gradients over them too
    (what the deprecated ``torch.distributed.nn.functional.all_reduce`` does; written here so that no fit warns)."""

    @staticmethod
    def forward(ctx, tensor: Tensor, group):
        import torch.distributed as dist

        ctx.group = group
        out = tensor.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(out, group=group)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        import torch.distributed as dist

        grad = grad.clone(memory_format=torch.contiguous_format)
        dist.all_reduce(grad, group=ctx.group)
        return grad, None


def _rates(z: Tensor, labels: Tensor, num_classes: int, eps: float, gam1: float, group=None, reduce: bool = False):
    """``(R, R_c)`` of checked inputs: the class Grams of ``z``, all-reduced over ``group`` when ``reduce``."""
    p = z.size(1)
    counts = torch.bincount(labels, minlength=num_classes)
    order = torch.argsort(labels, stable=True)
    grams = _ClassGrams.apply(z, order, counts.tolist())
    if reduce:
        import torch.distributed as dist

        # the class sizes carry no gradient; the Grams go through the autograd-aware all-reduce
        group = group if group is not None else dist.group.WORLD
        counts = counts.to(torch.float64)
        dist.all_reduce(counts, group=group)
        grams = _AllReduceSum.apply(grams, group)
        counts = counts.round().long()
    counts = counts.tolist()
    if sum(counts) == 0 or p == 0:
        return z.sum() * 0.0, z.sum() * 0.0
    expand, compress = _rates_from_grams(grams, counts, p, eps, gam1)
    return expand.to(z.dtype), compress.to(z.dtype)


def coding_rates(
    z: Tensor, labels: Tensor, num_classes: int | None = None, eps: float = 0.05, gam1: float = 1.0
) -> tuple[Tensor, Tensor]:
    r"""``(R(Z), R_c(Z | Pi))`` together: the values of :func:`coding_rate` and :func:`compress_rate`, computed from
    the class Gram matrices once (their sum is the total Gram matrix) and differentiated by one product per class.

    For large ``m`` this halves the matrix products of the two functions called separately; it is what
    :func:`mcr2_loss` uses.

    Parameters
    ----------
    z : Tensor of shape (m, p)
        Embeddings.
    labels : Tensor of shape (m,)
        Hard integer class ids.
    num_classes : int, optional
        ``K`` (default ``labels.max() + 1``).
    eps : float, default 0.05
        Squared distortion, ``> 0``.
    gam1 : float, default 1.0
        Scale of the Gram term of :math:`R`, ``>= 0``.

    Returns
    -------
    tuple of Tensor
        The scalars ``(R, R_c)``.

    Examples
    --------
    >>> import torch
    >>> z, labels = torch.rand(6, 3, dtype=torch.float64), torch.tensor([0, 0, 1, 1, 2, 2])
    >>> r, r_c = coding_rates(z, labels)
    >>> torch.allclose(r, coding_rate(z)), torch.allclose(r_c, compress_rate(z, labels))
    (True, True)
    """
    z = _check_z(z)
    eps = _check_eps(eps)
    gam1 = check_float(gam1, "gam1", minimum=0.0)
    labels, num_classes = _check_class_labels(labels, z.size(0), num_classes, z.device)
    m, p = z.shape
    if m == 0 or p == 0:
        return z.sum() * 0.0, z.sum() * 0.0
    return _rates(z, labels, num_classes, eps, gam1)


def mcr2_loss(
    z: Tensor,
    labels: Tensor,
    num_classes: int | None = None,
    eps: float = 0.05,
    gam1: float = 1.0,
    gam2: float = 2.0,
    return_parts: bool = False,
    check_input: bool = True,
):
    r"""MCR\ :sup:`2` training loss :math:`-\gamma_2 R(Z) + \gamma_1 R_c(Z\mid\Pi)` (to be minimised).

    Parameters
    ----------
    z : Tensor of shape (m, p)
        Embeddings.
    labels : Tensor of shape (m,)
        Hard integer class ids (pseudo-labels); no gradient reaches them.
    num_classes : int, optional
        ``K`` (default ``labels.max() + 1``).
    eps : float, default 0.05
        Squared distortion, ``> 0``.
    gam1 : float, default 1.0
        Weight of :math:`R_c` and Gram scale of :math:`R`, ``>= 0``.
    gam2 : float, default 2.0
        Weight of :math:`R`, ``>= 0``.
    return_parts : bool, default False
        Also return :math:`R` and :math:`R_c`.
    check_input : bool, default True
        Validate ``z`` (a finite floating ``(m, p)`` tensor), ``labels`` and the scalars. ``False`` (as
        scikit-learn's ``check_input``) is for a training loop whose inputs are valid by construction: it skips a
        full pass over ``z``, and ``labels`` must then be an int64 tensor on ``z``'s device with values in
        ``[0, num_classes)``, ``num_classes`` given. A non-finite ``z`` still fails in the factorisation.

    Returns
    -------
    Tensor or tuple of Tensor
        The scalar loss, or ``(loss, R, R_c)`` with ``return_parts=True``.

    Examples
    --------
    >>> import torch
    >>> z = torch.rand(8, 4, requires_grad=True)
    >>> loss, r, r_c = mcr2_loss(z, torch.tensor([0, 1] * 4), return_parts=True)
    >>> loss.backward()
    >>> torch.allclose(loss, -2.0 * r + r_c), z.grad.shape
    (True, torch.Size([8, 4]))
    """
    if check_input:
        gam2 = check_float(gam2, "gam2", minimum=0.0)
        gam1 = check_float(gam1, "gam1", minimum=0.0)
        expand, compress = coding_rates(z, labels, num_classes=num_classes, eps=eps, gam1=gam1)
    else:
        expand, compress = _rates(z, labels, int(num_classes), float(eps), float(gam1))
    loss = -gam2 * expand + gam1 * compress
    if return_parts:
        return loss, expand, compress
    return loss


def _check_group(group):
    import torch.distributed as dist

    if not dist.is_available() or not dist.is_initialized():
        raise RuntimeError(
            "the distributed coding rates need an initialised process group: call "
            "torch.distributed.init_process_group (torchrun sets up its environment) first"
        )
    return group if group is not None else dist.group.WORLD


def distributed_coding_rates(
    z: Tensor, labels: Tensor, num_classes: int, eps: float = 0.05, gam1: float = 1.0, group=None
) -> tuple[Tensor, Tensor]:
    r"""``(R(Z), R_c(Z | Pi))`` of the **union** of the batches of all processes of ``group``, on every process.

    Both rates depend on the rows only through the class Gram matrices :math:`G_c = Z_c^\top Z_c` and the class
    sizes, which are sums over rows: each process forms those of its own rows, they are summed over the processes
    (an all-reduce that differentiates: its backward pass all-reduces the gradients), and every process factorises
    the same ``p x p`` matrices. The values are those of :func:`coding_rates` on the concatenated batches (up to the
    rounding of the sums), not an average of per-process rates.

    Parameters
    ----------
    z : Tensor of shape (m_local, p)
        This process's embeddings (``p`` equal on all processes; ``m_local`` may differ, and may be 0).
    labels : Tensor of shape (m_local,)
        Hard integer class ids of these rows.
    num_classes : int
        ``K``, the same on all processes (a process may see only some classes).
    eps : float, default 0.05
        Squared distortion, ``> 0``.
    gam1 : float, default 1.0
        Scale of the Gram term of :math:`R`, ``>= 0``.
    group : torch.distributed.ProcessGroup, optional
        The processes whose batches form the union (default: the whole world).

    Returns
    -------
    tuple of Tensor
        The scalars ``(R, R_c)``, equal on all processes.

    Notes
    -----
    The backward pass all-reduces the gradients of the Gram matrices too, so the gradient a process receives for
    its rows is that of the **sum** of the (equal) losses of all ``W`` processes, ``W`` times the gradient of the
    union loss. ``DistributedDataParallel`` averages parameter gradients over the processes, which turns this into
    exactly the gradient of the union loss: use the loss as is, with DDP's default averaging.
    Every process must call this function the same number of times (it is a collective).

    Examples
    --------
    >>> import torch
    >>> distributed_coding_rates(torch.rand(4, 3), torch.tensor([0, 1, 0, 1]), 2)  # doctest: +SKIP
    (tensor(...), tensor(...))
    """
    group = _check_group(group)
    z = _check_z(z)
    eps = _check_eps(eps)
    gam1 = check_float(gam1, "gam1", minimum=0.0)
    num_classes = check_int(num_classes, "num_classes", minimum=1)
    labels, num_classes = _check_class_labels(labels, z.size(0), num_classes, z.device)
    return _rates(z, labels, num_classes, eps, gam1, group=group, reduce=True)


def distributed_mcr2_loss(
    z: Tensor,
    labels: Tensor,
    num_classes: int,
    eps: float = 0.05,
    gam1: float = 1.0,
    gam2: float = 2.0,
    group=None,
    return_parts: bool = False,
):
    r"""The MCR\ :sup:`2` loss :math:`-\gamma_2 R(Z) + \gamma_1 R_c(Z\mid\Pi)` of the union of the batches of all
    processes of ``group`` (:func:`distributed_coding_rates`), on every process.

    Parameters
    ----------
    z : Tensor of shape (m_local, p)
        This process's embeddings.
    labels : Tensor of shape (m_local,)
        Hard integer class ids of these rows.
    num_classes : int
        ``K``, the same on all processes.
    eps : float, default 0.05
        Squared distortion, ``> 0``.
    gam1 : float, default 1.0
        Weight of :math:`R_c` and Gram scale of :math:`R`, ``>= 0``.
    gam2 : float, default 2.0
        Weight of :math:`R`, ``>= 0``.
    group : torch.distributed.ProcessGroup, optional
        The processes (default: the whole world).
    return_parts : bool, default False
        Also return :math:`R` and :math:`R_c`.

    Returns
    -------
    Tensor or tuple of Tensor
        The scalar loss, or ``(loss, R, R_c)``; equal on all processes. See :func:`distributed_coding_rates` for
        the gradient convention (exact under ``DistributedDataParallel``'s averaging).

    Examples
    --------
    >>> import torch
    >>> distributed_mcr2_loss(torch.rand(4, 3), torch.tensor([0, 1, 0, 1]), 2)  # doctest: +SKIP
    tensor(...)
    """
    gam2 = check_float(gam2, "gam2", minimum=0.0)
    gam1 = check_float(gam1, "gam1", minimum=0.0)
    expand, compress = distributed_coding_rates(z, labels, num_classes, eps=eps, gam1=gam1, group=group)
    loss = -gam2 * expand + gam1 * compress
    if return_parts:
        return loss, expand, compress
    return loss


class MCR2Loss(torch.nn.Module):
    r"""Module form of :func:`mcr2_loss`: ``MCR2Loss(gam1, gam2, eps)(z, labels)``.

    Parameters
    ----------
    gam1 : float, default 1.0
        Weight of the compression term and scale of the expansion Gram term, ``>= 0``.
    gam2 : float, default 2.0
        Weight of the expansion term, ``>= 0``.
    eps : float, default 0.05
        Squared distortion :math:`\epsilon^2`, ``> 0``.
    num_classes : int, optional
        A fixed number of classes.

    Examples
    --------
    >>> import torch
    >>> loss_fn = MCR2Loss(eps=0.4)
    >>> z, labels = torch.rand(6, 3), torch.tensor([0, 0, 1, 1, 2, 2])
    >>> torch.allclose(loss_fn(z, labels), mcr2_loss(z, labels, eps=0.4))
    True
    """

    def __init__(self, gam1: float = 1.0, gam2: float = 2.0, eps: float = 0.05, num_classes: int | None = None):
        super().__init__()
        self.gam1 = check_float(gam1, "gam1", minimum=0.0)
        self.gam2 = check_float(gam2, "gam2", minimum=0.0)
        self.eps = _check_eps(eps)
        self.num_classes = check_int(num_classes, "num_classes", minimum=0, allow_none=True)

    def forward(self, z: Tensor, labels: Tensor, return_parts: bool = False):
        """The loss of :func:`mcr2_loss` for ``z`` (``m x p``) and ``labels`` (``m``)."""
        return mcr2_loss(
            z, labels, self.num_classes, eps=self.eps, gam1=self.gam1, gam2=self.gam2, return_parts=return_parts
        )

    def extra_repr(self) -> str:
        return f"gam1={self.gam1}, gam2={self.gam2}, eps={self.eps}"
