"""graphdiff.data.bags: disjoint random bags, variable sizes, validation of user bags."""

import numpy as np
import pytest
import torch

from graphdiff.data.bags import Bags, as_bags, random_bags, variable_bags


def test_random_bags_disjoint_counts_and_seeded():
    y = (torch.arange(103) % 3 == 0).long()
    bags = random_bags(y, 10, seed=4)
    assert bags.num_bags == 10 and bags.index.numel() == 100  # 3 left-over rows dropped
    assert torch.unique(bags.index).numel() == 100
    for b in range(bags.num_bags):
        members = bags.index[bags.ptr[b] : bags.ptr[b + 1]]
        assert int(y[members].sum()) == int(bags.counts[b])
    again = random_bags(y, 10, seed=4)
    assert torch.equal(bags.index, again.index) and torch.equal(bags.counts, again.counts)
    assert not torch.equal(bags.index, random_bags(y, 10, seed=5).index)
    keep = random_bags(y, 10, seed=4, drop_last=False)
    assert keep.num_bags == 11 and int(keep.sizes[-1]) == 3
    # bag-level data only: no instance labels on the object
    assert not any(torch.equal(getattr(bags, f), y) for f in ("index", "ptr", "counts"))


def test_variable_bags_and_helpers():
    y = torch.randint(0, 2, (200,), generator=torch.Generator().manual_seed(0))
    bags = variable_bags(y, min_size=3, max_size=9, seed=1)
    assert int(bags.sizes.min()) >= 3 and int(bags.sizes.max()) <= 9
    assert torch.unique(bags.index).numel() == bags.index.numel()
    bag_of = bags.bag_of()
    assert torch.equal(torch.bincount(bag_of[bag_of >= 0], minlength=bags.num_bags), bags.sizes)
    pad = bags.padded()
    assert pad.shape == (bags.num_bags, int(bags.sizes.max()))
    assert torch.equal((pad >= 0).sum(1), bags.sizes)
    sub = bags.subset([2, 0])
    assert torch.equal(sub.counts, bags.counts[[2, 0]])
    assert torch.equal(sub.index[: int(bags.sizes[2])], bags.index[bags.ptr[2] : bags.ptr[3]])
    fixed = variable_bags(y, [5, 1, 7], seed=0)
    assert fixed.sizes.tolist() == [5, 1, 7]
    for b in range(3):
        assert int(y[fixed.index[fixed.ptr[b] : fixed.ptr[b + 1]]].sum()) == int(fixed.counts[b])


def test_as_bags_accepts_vector_and_lists():
    bag_of = torch.tensor([0, 1, -1, 0, 1, 1])
    a = as_bags(bag_of, [1, 2], 6)
    b = as_bags([np.array([0, 3]), [1, 4, 5]], [1, 2], 6)
    assert torch.equal(a.index, b.index) and torch.equal(a.ptr, b.ptr)
    assert a.sizes.tolist() == [2, 3]


@pytest.mark.parametrize(
    "bags,counts,match",
    [
        ([[0, 1], [2, 3]], [3, 0], "larger than the bag"),
        ([[0, 1], [2, 3]], [-1, 0], "non-negative"),
        ([[0, 1], []], [1, 0], "empty"),
        ([[0, 1], [1, 2]], [1, 1], "in 2 bags"),
        ([[0, 9]], [1], "out of range"),
        ([[0, 1]], [1, 0], "2 entries"),
        ([[0, 1]], [0.5], "integer"),
        ([], [], "empty"),
    ],
)
def test_as_bags_bad_input(bags, counts, match):
    with pytest.raises(ValueError, match=match):
        as_bags(bags, counts, 5)


def test_bag_constructors_bad_input():
    y = torch.tensor([0, 1, 1, 0])
    with pytest.raises(ValueError, match="bag_size"):
        random_bags(y, 0)
    with pytest.raises(ValueError, match="bag_size"):
        random_bags(y, 5)
    with pytest.raises(ValueError, match="y"):
        random_bags(torch.tensor([0, 2, 1, 0]), 2)
    with pytest.raises(ValueError, match="sizes"):
        variable_bags(y, [3, 3])
    with pytest.raises(ValueError, match="empty"):
        variable_bags(y, [2, 0])
    assert isinstance(random_bags(y, 2), Bags)
