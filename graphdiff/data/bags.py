"""Bags for learning from label proportions (LLP): disjoint random bags and their positive counts.

Implements the bag construction of Havaldar et al., "Learning from Label Proportions: Bootstrapping Supervised
Learners via Belief Propagation" (ICLR 2024, https://arxiv.org/abs/2310.08056), Section 2 (problem setup):
the training rows are shuffled and cut into disjoint bags :math:`S_1, \\dots, S_m`; only the bag-level count

.. math:: k_b = \\sum_{j \\in S_b} y_j

leaves this module. Instance labels stay inside :func:`random_bags` / :func:`variable_bags`; training code sees a
:class:`Bags` object (membership and counts) and nothing else.

Bags are stored CSR-style: ``index[ptr[b]:ptr[b+1]]`` are the members of bag ``b``. :func:`as_bags` turns user input
(a per-instance bag-id vector, or a list of member-index arrays) into a validated :class:`Bags`; every bad input
(non-integer ids or counts, a vector of the wrong length, an empty bag, a count larger than its bag, an instance in
two bags, an id out of range) is a :class:`ValueError` that names it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from graphdiff.data.validation import check_bool, check_int, check_labels, check_seed

__all__ = ["Bags", "random_bags", "variable_bags", "as_bags"]


@dataclass(frozen=True)
class Bags:
    """Disjoint bags with their positive counts (bag-level data only).

    Build one with :func:`random_bags`, :func:`variable_bags` or :func:`as_bags` (which validates user input);
    the constructor itself does not check its arguments.

    Parameters
    ----------
    index : LongTensor ``(total_members,)``
        Member instance ids, bag after bag.
    ptr : LongTensor ``(num_bags + 1,)``
        Bag ``b`` holds ``index[ptr[b]:ptr[b + 1]]``.
    counts : LongTensor ``(num_bags,)``
        Number of positive instances in each bag.
    num_instances : int
        Number of rows of the data set the ids refer to (instances in no bag are allowed).

    Examples
    --------
    >>> from graphdiff.data.bags import as_bags
    >>> bags = as_bags([[0, 3], [1, 4, 5]], counts=[1, 2], num_instances=6)
    >>> bags
    Bags(num_bags=2, sizes=2..3, members=5, N=6)
    >>> bags.sizes.tolist(), bags.proportions.tolist()
    ([2, 3], [0.5, 0.6666666666666666])
    >>> bags.bag_of().tolist()  # -1: row 2 is in no bag
    [0, 1, -1, 0, 1, 1]
    """

    index: torch.Tensor
    ptr: torch.Tensor
    counts: torch.Tensor
    num_instances: int

    @property
    def num_bags(self) -> int:
        """Number of bags ``m``."""
        return int(self.counts.numel())

    @property
    def sizes(self) -> torch.Tensor:
        """LongTensor ``(m,)`` of bag sizes."""
        return self.ptr[1:] - self.ptr[:-1]

    @property
    def proportions(self) -> torch.Tensor:
        """float64 ``(m,)`` label proportions ``k_S / |S|``."""
        return self.counts.double() / self.sizes.double()

    @property
    def bag_of_member(self) -> torch.Tensor:
        """Bag id of each entry of ``index``."""
        return torch.repeat_interleave(torch.arange(self.num_bags), self.sizes)

    def bag_of(self) -> torch.Tensor:
        """Bag id of every instance (``-1`` for instances in no bag), LongTensor ``(num_instances,)``."""
        out = torch.full((self.num_instances,), -1, dtype=torch.long)
        out[self.index] = self.bag_of_member
        return out

    def to_lists(self) -> list[torch.Tensor]:
        """The members of each bag, one LongTensor per bag (the list form :func:`as_bags` accepts)."""
        return list(torch.split(self.index, self.sizes.tolist()))

    def padded(self) -> torch.Tensor:
        """``(num_bags, max_size)`` member ids padded with ``-1``."""
        sizes = self.sizes
        bmax = int(sizes.max()) if self.num_bags else 0
        pos = torch.arange(self.index.numel()) - torch.repeat_interleave(self.ptr[:-1], sizes)
        out = torch.full((self.num_bags, bmax), -1, dtype=torch.long)
        out[self.bag_of_member, pos] = self.index
        return out

    def subset(self, bag_ids) -> Bags:
        """The bags ``bag_ids``, in the order given, with the same instance numbering.

        Parameters
        ----------
        bag_ids : array-like of int, shape (k,)
            Bag ids in ``[0, num_bags)``; a bag may be listed more than once.

        Returns
        -------
        Bags
            ``k`` bags over the same ``num_instances`` rows.
        """
        bag_ids = _check_ids(bag_ids, "bag_ids", maximum=self.num_bags - 1)
        sizes = self.sizes[bag_ids]
        ptr = torch.zeros(bag_ids.numel() + 1, dtype=torch.long)
        ptr[1:] = torch.cumsum(sizes, 0)
        starts = torch.repeat_interleave(self.ptr[:-1][bag_ids], sizes)
        offs = torch.arange(int(ptr[-1])) - torch.repeat_interleave(ptr[:-1], sizes)
        return Bags(self.index[starts + offs], ptr, self.counts[bag_ids].clone(), self.num_instances)

    def __repr__(self) -> str:
        s = self.sizes
        rng = f"{int(s.min())}..{int(s.max())}" if self.num_bags else "-"
        return f"Bags(num_bags={self.num_bags}, sizes={rng}, members={self.index.numel()}, N={self.num_instances})"


def _to_tensor(values, name: str) -> torch.Tensor:
    """A CPU tensor of ``values`` (tensor, array, list, scalar); refuses what is not numeric."""
    if isinstance(values, torch.Tensor):
        return values.detach().cpu()
    try:
        arr = np.asarray(values)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise ValueError(f"`{name}` must be an array of integers: {exc}") from exc
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise ValueError(f"`{name}` must hold integers, got an array of dtype {arr.dtype}")
    if arr.size == 0:  # np.asarray([]) is float64: an empty list holds no non-integer value
        arr = arr.astype(np.int64)
    return torch.from_numpy(np.ascontiguousarray(arr))


def _check_ids(values, name: str, *, minimum: int | None = 0, maximum: int | None = None) -> torch.Tensor:
    """A 1-D LongTensor of integer ids in ``[minimum, maximum]``; booleans, non-integral floats, NaN refused."""
    t = _to_tensor(values, name)
    if t.dim() != 1:
        raise ValueError(f"`{name}` must be 1-D, got shape {tuple(t.shape)}")
    if t.dtype == torch.bool:
        raise ValueError(f"`{name}` must hold integer ids, got a boolean array (use .nonzero() for a mask)")
    if t.is_complex():
        raise ValueError(f"`{name}` must hold integer ids, got dtype {t.dtype}")
    if t.is_floating_point():
        bad = ~torch.isfinite(t) | (t != t.round())
        if bool(bad.any()):
            raise ValueError(f"`{name}` must hold integer ids, got the non-integer value {t[bad][0].item()!r}")
    t = t.long()
    if t.numel():
        lo, hi = int(t.min()), int(t.max())
        if minimum is not None and lo < minimum:
            raise ValueError(f"`{name}` holds id {lo}, below the smallest allowed id {minimum}")
        if maximum is not None and hi > maximum:
            raise ValueError(f"`{name}` holds id {hi}, above the largest allowed id {maximum}")
    return t


def _check_counts(counts, num_bags: int) -> torch.Tensor:
    """Positive counts per bag: ``num_bags`` non-negative integers (integral floats accepted)."""
    if counts is None:
        raise ValueError("`counts` is required (one positive count per bag)")
    t = _to_tensor(counts, "counts").flatten()
    if t.dtype == torch.bool or t.is_complex():
        raise ValueError(f"`counts` must be integer numbers of positives per bag, got dtype {t.dtype}")
    if t.is_floating_point():
        if not bool(torch.isfinite(t).all()) or not torch.equal(t, t.round()):
            raise ValueError("`counts` must be integer numbers of positives per bag")
    if t.numel() != num_bags:
        raise ValueError(f"`counts` has {t.numel()} entries but there are {num_bags} bags")
    return t.long()


def _from_sizes(y: torch.Tensor, perm: torch.Tensor, sizes: torch.Tensor) -> Bags:
    total = int(sizes.sum())
    index = perm[:total].clone()
    ptr = torch.zeros(sizes.numel() + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(sizes, 0)
    bag_id = torch.repeat_interleave(torch.arange(sizes.numel()), sizes)
    counts = torch.zeros(sizes.numel(), dtype=torch.long).index_add_(0, bag_id, y[index])
    return Bags(index, ptr, counts, int(y.numel()))


def random_bags(y, bag_size: int, *, seed: int = 0, drop_last: bool = True) -> Bags:
    """Disjoint random bags of ``bag_size`` instances (consecutive chunks of a seeded permutation).

    Parameters
    ----------
    y : LongTensor or ndarray ``(N,)``
        Binary instance labels (0 / 1); only the per-bag counts leave the function.
    bag_size : int
        Instances per bag, ``1 <= bag_size <= N``.
    seed : int
        Seed of the permutation.
    drop_last : bool
        The ``N mod bag_size`` left-over instances are left out of every bag (``True``, as in the paper's code)
        or form one smaller last bag (``False``).

    Returns
    -------
    Bags

    Examples
    --------
    >>> import torch
    >>> from graphdiff.data.bags import random_bags
    >>> bags = random_bags(torch.tensor([0, 1, 1, 0, 1, 0, 0]), bag_size=3, seed=0)
    >>> bags.num_bags, bags.sizes.tolist(), int(bags.counts.sum()) <= 3
    (2, [3, 3], True)
    """
    y = check_labels(y, num_classes=2, name="y").cpu()
    bag_size = check_int(bag_size, "bag_size", minimum=1)
    seed = check_seed(seed)
    drop_last = check_bool(drop_last, "drop_last")
    n = y.numel()
    if bag_size > n:
        raise ValueError(f"`bag_size`={bag_size} is larger than the number of instances ({n})")
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    m, rest = divmod(n, bag_size)
    sizes = [bag_size] * m + ([rest] if (rest and not drop_last) else [])
    return _from_sizes(y, perm, torch.tensor(sizes, dtype=torch.long))


def variable_bags(
    y, sizes: Sequence[int] | None = None, *, min_size: int | None = None, max_size: int | None = None, seed: int = 0
) -> Bags:
    """Disjoint random bags of variable sizes.

    Parameters
    ----------
    y : LongTensor or ndarray ``(N,)``
        Binary instance labels (0 / 1); only the per-bag counts leave the function.
    sizes : sequence of int, optional
        Explicit bag sizes (each at least 1, summing to at most ``N``; the rest of the instances is left out).
    min_size, max_size : int, optional
        Without ``sizes``: sizes drawn uniformly in ``[min_size, max_size]`` until the instances run out (a last
        partial draw is dropped).
    seed : int
        Seed of the sizes and of the permutation.

    Returns
    -------
    Bags

    Examples
    --------
    >>> import torch
    >>> from graphdiff.data.bags import variable_bags
    >>> y = torch.tensor([0, 1] * 10)
    >>> variable_bags(y, [5, 1, 7], seed=0).sizes.tolist()
    [5, 1, 7]
    >>> bags = variable_bags(y, min_size=2, max_size=4, seed=0)
    >>> bool((bags.sizes >= 2).all() and (bags.sizes <= 4).all())
    True
    """
    y = check_labels(y, num_classes=2, name="y").cpu()
    seed = check_seed(seed)
    n = y.numel()
    g = torch.Generator().manual_seed(seed)
    if sizes is not None:
        if min_size is not None or max_size is not None:
            raise ValueError("give either `sizes` or `min_size` and `max_size`, not both")
        sizes_t = _check_ids(sizes, "sizes", minimum=None)
        if sizes_t.numel() == 0 or bool((sizes_t < 1).any()):
            raise ValueError("`sizes` must be a non-empty list of positive integers (an empty bag is not allowed)")
        if int(sizes_t.sum()) > n:
            raise ValueError(f"`sizes` sum to {int(sizes_t.sum())}, more than the {n} instances")
    else:
        if min_size is None or max_size is None:
            raise ValueError("give either `sizes` or both `min_size` and `max_size`")
        min_size = check_int(min_size, "min_size", minimum=1)
        max_size = check_int(max_size, "max_size", minimum=1)
        if max_size < min_size:
            raise ValueError(f"need `min_size` <= `max_size`, got {min_size}, {max_size}")
        draws = torch.randint(min_size, max_size + 1, (n // min_size + 1,), generator=g)
        keep = torch.cumsum(draws, 0) <= n
        sizes_t = draws[keep]
        if sizes_t.numel() == 0:
            raise ValueError(f"`min_size`={min_size} leaves no complete bag for {n} instances")
    perm = torch.randperm(n, generator=g)
    return _from_sizes(y, perm, sizes_t)


def _is_id_vector(bags) -> bool:
    """A bag-id vector: a 1-D numeric tensor / array, or a flat list of scalars (not a list of member lists)."""
    if isinstance(bags, torch.Tensor):
        return bags.dim() == 1
    if isinstance(bags, np.ndarray):
        return bags.ndim == 1 and bags.dtype != object
    if isinstance(bags, (list, tuple)):
        return len(bags) > 0 and all(np.ndim(b) == 0 for b in bags)
    return False


def as_bags(bags, counts, num_instances: int, *, require_disjoint: bool = True) -> Bags:
    """Validate user bag input and return :class:`Bags`.

    Parameters
    ----------
    bags : Bags, bag-id vector or sequence of member arrays
        A :class:`Bags` (then ``counts`` may be ``None`` to keep its counts); a length-``N`` vector of bag ids
        (a 1-D tensor, array or flat list; ``-1`` = in no bag; ids ``0..m-1``, each used); or a sequence of
        member-index arrays, one per bag (a list of lists or arrays, or a 2-D array of equal-size bags).
        Ids must be integers (integral floats such as ``3.0`` are accepted; ``0.7`` is refused, never truncated).
    counts : array-like of int ``(m,)``
        Positive count of every bag, in ``[0, |S|]``.
    num_instances : int
        Number of rows ``N`` the ids refer to.
    require_disjoint : bool
        Refuse an instance listed in two bags.

    Returns
    -------
    Bags

    Raises
    ------
    ValueError
        For non-integer ids or counts, a bag-id vector whose length is not ``N``, negative counts, counts larger
        than the bag, empty bags, out-of-range ids and (with ``require_disjoint``) an instance in two bags.

    Examples
    --------
    >>> from graphdiff.data.bags import as_bags
    >>> a = as_bags([0, 1, -1, 0, 1, 1], counts=[1, 2], num_instances=6)  # bag id per row
    >>> b = as_bags([[0, 3], [1, 4, 5]], counts=[1, 2], num_instances=6)  # members per bag
    >>> a.index.tolist() == b.index.tolist(), a.sizes.tolist()
    (True, [2, 3])
    >>> as_bags([[0.7, 1.9]], counts=[1], num_instances=6)
    Traceback (most recent call last):
    ...
    ValueError: `bags[0]` must hold integer ids, got the non-integer value 0.7
    """
    num_instances = check_int(num_instances, "num_instances", minimum=0)
    require_disjoint = check_bool(require_disjoint, "require_disjoint")
    if isinstance(bags, Bags):
        index, ptr = bags.index, bags.ptr
        if bags.num_instances != num_instances:
            raise ValueError(f"`bags` refer to {bags.num_instances} instances but X has {num_instances} rows")
        if not isinstance(index, torch.Tensor) or not isinstance(ptr, torch.Tensor):
            raise ValueError("`bags.index` and `bags.ptr` must be tensors")
        index = _check_ids(index, "bags.index")
        ptr = _check_ids(ptr, "bags.ptr")
        if ptr.numel() < 1 or int(ptr[0]) != 0 or int(ptr[-1]) != index.numel() or bool((ptr[1:] < ptr[:-1]).any()):
            raise ValueError(
                "`bags.ptr` must start at 0, never decrease and end at the number of members "
                f"({index.numel()}), got {ptr.tolist()[:8]}{'...' if ptr.numel() > 8 else ''}"
            )
        counts_t = _check_counts(bags.counts if counts is None else counts, ptr.numel() - 1)
    elif _is_id_vector(bags):
        bag_of = _check_ids(bags, "bags", minimum=-1)
        if bag_of.numel() != num_instances:
            raise ValueError(
                f"`bags` as a bag-id vector (one bag id per row, -1 = no bag) has {bag_of.numel()} entries but "
                f"X has {num_instances} rows; pass a list of member arrays for bags given by their members"
            )
        if counts is None:
            raise ValueError("`counts` is required (one positive count per bag)")
        m = _to_tensor(counts, "counts").numel()
        if bag_of.numel() and int(bag_of.max()) >= m:
            raise ValueError(f"`bags` uses bag id {int(bag_of.max())} but `counts` has only {m} entries")
        counts_t = _check_counts(counts, m)
        members = (bag_of >= 0).nonzero().flatten()
        order = torch.argsort(bag_of[members], stable=True)
        index = members[order]
        sizes = torch.bincount(bag_of[members], minlength=m)
        ptr = torch.zeros(sizes.numel() + 1, dtype=torch.long)
        ptr[1:] = torch.cumsum(sizes, 0)
    else:
        if isinstance(bags, (str, bytes, dict)) or not hasattr(bags, "__iter__"):
            raise ValueError(
                f"`bags` must be a Bags, a bag-id vector or a sequence of member arrays, got {type(bags).__name__}"
            )
        lists = [_check_ids(b, f"bags[{i}]") for i, b in enumerate(bags)]
        if len(lists) == 0:
            raise ValueError("`bags` is empty: at least one bag is needed")
        sizes = torch.tensor([b.numel() for b in lists], dtype=torch.long)
        index = torch.cat(lists)
        ptr = torch.zeros(sizes.numel() + 1, dtype=torch.long)
        ptr[1:] = torch.cumsum(sizes, 0)
        counts_t = _check_counts(counts, len(lists))
    sizes = ptr[1:] - ptr[:-1]
    if sizes.numel() == 0:
        raise ValueError("`bags` is empty: at least one bag is needed")
    if bool((sizes == 0).any()):
        b = int((sizes == 0).nonzero()[0])
        raise ValueError(f"bag {b} is empty; every bag needs at least one instance")
    if bool((counts_t < 0).any()):
        b = int((counts_t < 0).nonzero()[0])
        raise ValueError(f"`counts` must be non-negative, bag {b} has count {int(counts_t[b])}")
    if bool((counts_t > sizes).any()):
        b = int((counts_t > sizes).nonzero()[0])
        raise ValueError(
            f"`counts` larger than the bag: bag {b} has {int(sizes[b])} instances but count {int(counts_t[b])}"
        )
    if index.numel():
        lo, hi = int(index.min()), int(index.max())
        if lo < 0 or hi >= num_instances:
            raise ValueError(f"bag member id out of range [0, {num_instances}): found {lo if lo < 0 else hi}")
        if require_disjoint:
            hits = torch.bincount(index, minlength=num_instances)
            if bool((hits > 1).any()):
                i = int((hits > 1).nonzero()[0])
                raise ValueError(f"instance {i} is in {int(hits[i])} bags; disjoint bags are required")
    return Bags(index.long(), ptr, counts_t, num_instances)
