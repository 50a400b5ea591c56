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


# ---- bad input that used to be truncated or failed obscurely (issue 18) ---------------------------------------
def test_as_bags_refuses_non_integer_members_instead_of_truncating():
    with pytest.raises(ValueError, match=r"`bags\[0\]` must hold integer ids.*0\.7"):
        as_bags([np.array([0.7, 1.9])], [1], 5)
    with pytest.raises(ValueError, match="integer ids"):
        as_bags([np.array([True, False])], [0], 5)  # a boolean mask is not a list of ids
    with pytest.raises(ValueError, match="integer"):
        as_bags([np.array([0.0, float("nan")])], [0], 5)
    integral = as_bags([np.array([0.0, 3.0])], [1], 5)  # integral floats are ids, as in check_labels
    assert integral.index.tolist() == [0, 3] and integral.index.dtype == torch.long


def test_as_bags_bag_id_vector_wrong_length_or_float():
    with pytest.raises(ValueError, match="bag-id vector.*5 entries but X has 6 rows"):
        as_bags(torch.tensor([0, 1, 0, 1, 1]), [1, 1], 6)
    with pytest.raises(ValueError, match="bag-id vector.*7 entries"):
        as_bags(np.array([0, 1, 0, 1, 1, 0, 0]), [1, 1], 6)
    with pytest.raises(ValueError, match=r"`bags` must hold integer ids.*0\.5"):
        as_bags(torch.tensor([0.0, 0.5, 1.0, 1.0]), [0, 1], 4)
    with pytest.raises(ValueError, match="below the smallest allowed id -1"):
        as_bags(torch.tensor([0, -2, 1, 1]), [0, 1], 4)
    as_float = as_bags(torch.tensor([0.0, 1.0, -1.0, 1.0]), [0, 1], 4)
    as_int = as_bags(torch.tensor([0, 1, -1, 1]), [0, 1], 4)
    assert torch.equal(as_float.index, as_int.index) and torch.equal(as_float.ptr, as_int.ptr)
    # a flat Python list is a bag-id vector too
    assert torch.equal(as_bags([0, 1, -1, 1], [0, 1], 4).index, as_int.index)


def test_as_bags_counts_are_checked_not_truncated():
    with pytest.raises(ValueError, match="integer"):
        as_bags([[0, 1]], [0.5], 3)
    with pytest.raises(ValueError, match="integer"):
        as_bags([[0, 1]], [float("nan")], 3)
    with pytest.raises(ValueError, match="dtype torch.bool"):
        as_bags([[0, 1]], np.array([True]), 3)
    bags = as_bags([[0, 1], [2]], [1, 0], 3)
    with pytest.raises(ValueError, match="integer"):
        as_bags(bags, [1.5, 0], 3)  # replacing the counts of a Bags checks them too
    with pytest.raises(ValueError, match="1 entries but there are 2 bags"):
        as_bags(bags, [1], 3)
    with pytest.raises(ValueError, match="`counts` is required"):
        as_bags([[0, 1]], None, 3)


def test_as_bags_checks_a_bags_object():
    good = as_bags([[0, 1], [2]], [1, 0], 3)
    with pytest.raises(ValueError, match="refer to 3 instances but X has 4 rows"):
        as_bags(good, None, 4)
    broken = Bags(good.index, torch.tensor([0, 1, 5]), good.counts, 3)
    with pytest.raises(ValueError, match="bags.ptr"):
        as_bags(broken, None, 3)
    with pytest.raises(ValueError, match="out of range"):
        as_bags(Bags(torch.tensor([0, 7, 2]), good.ptr, good.counts, 3), None, 3)


def test_as_bags_other_bad_forms():
    with pytest.raises(ValueError, match="dtype"):
        as_bags([np.array(["a", "b"])], [0], 3)
    with pytest.raises(ValueError, match="must be a Bags"):
        as_bags(5, [0], 3)
    with pytest.raises(ValueError, match="num_instances"):
        as_bags([[0, 1]], [0], 2.5)
    with pytest.raises(ValueError, match="1-D"):
        as_bags([np.zeros((2, 2), dtype=int)], [0], 3)


def test_variable_and_random_bags_refuse_non_integer_knobs():
    y = torch.tensor([0, 1] * 10)
    with pytest.raises(ValueError, match="`min_size` must be an integer, got 1.5"):
        variable_bags(y, min_size=1.5, max_size=4)
    with pytest.raises(ValueError, match="`max_size`"):
        variable_bags(y, min_size=1, max_size=float("nan"))
    with pytest.raises(ValueError, match="min_size"):
        variable_bags(y, min_size=0, max_size=4)
    with pytest.raises(ValueError, match="integer ids.*2.5"):
        variable_bags(y, [2.5, 3])
    with pytest.raises(ValueError, match="not both"):
        variable_bags(y, [2, 3], min_size=2, max_size=3)
    with pytest.raises(ValueError, match="`bag_size` must be an integer, got 2.5"):
        random_bags(y, 2.5)
    with pytest.raises(ValueError, match="`seed`"):
        random_bags(y, 2, seed=-1)
    with pytest.raises(ValueError, match="`drop_last`"):
        random_bags(y, 3, drop_last=0)
    with pytest.raises(ValueError, match="bag_ids"):
        random_bags(y, 2).subset([0.5])


def test_split_bags_never_leaves_no_training_bag():
    from graphdiff.llp.selection import split_bags

    bags = random_bags(torch.tensor([0, 1, 1]), 2)  # one bag of 2 (the third row is left over)
    assert bags.num_bags == 1
    with pytest.raises(ValueError, match="leaves none to train on"):
        split_bags(bags, 0.9)
    train, val = split_bags(bags, 0.0)
    assert train is bags and val is None
    with pytest.raises(ValueError, match="val_fraction"):
        split_bags(random_bags(torch.tensor([0, 1] * 4), 2), 1.0)


# ---- properties (hypothesis; bounded so that the whole block takes a few seconds) ------------------------------
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def bag_problems(draw):
    """(bag-id vector with -1 = no bag, counts, N): random disjoint bags over N rows, every bag non-empty."""
    n = draw(st.integers(1, 40))
    m = draw(st.integers(1, n))
    assign = draw(st.lists(st.integers(-1, m - 1), min_size=n, max_size=n))
    assign[:m] = list(range(m))  # every bag id used at least once
    perm = draw(st.permutations(range(n)))
    bag_of = torch.tensor(assign)[torch.tensor(perm)]
    sizes = torch.bincount(bag_of[bag_of >= 0], minlength=m)
    counts = [draw(st.integers(0, int(s))) for s in sizes]
    return bag_of, counts, n


SETTINGS = settings(max_examples=60, deadline=None, derandomize=True)


@SETTINGS
@given(bag_problems())
def test_property_round_trips_between_vector_lists_and_bags(problem):
    bag_of, counts, n = problem
    from_vector = as_bags(bag_of, counts, n)
    from_lists = as_bags(from_vector.to_lists(), counts, n)
    from_object = as_bags(from_vector, None, n)
    again = as_bags(from_lists.bag_of(), from_lists.counts, n)
    for other in (from_lists, from_object, again):
        assert torch.equal(other.index, from_vector.index)
        assert torch.equal(other.ptr, from_vector.ptr)
        assert torch.equal(other.counts, from_vector.counts)
    assert torch.equal(from_vector.bag_of(), bag_of)
    # a shuffled order of members inside each bag is the same bags (sets of members)
    shuffled = [b.flip(0) for b in from_vector.to_lists()]
    assert torch.equal(as_bags(shuffled, counts, n).bag_of(), bag_of)


@SETTINGS
@given(bag_problems())
def test_property_counts_within_sizes_and_bags_disjoint(problem):
    bag_of, counts, n = problem
    bags = as_bags(bag_of, counts, n)
    assert bool((bags.counts >= 0).all()) and bool((bags.counts <= bags.sizes).all())
    assert torch.unique(bags.index).numel() == bags.index.numel()
    assert int(bags.sizes.sum()) == int((bag_of >= 0).sum())
    padded = bags.padded()
    assert torch.equal((padded >= 0).sum(1), bags.sizes)


@SETTINGS
@given(
    y=st.lists(st.integers(0, 1), min_size=1, max_size=60),
    bag_size=st.integers(1, 60),
    seed=st.integers(0, 2**32 - 1),
    drop_last=st.booleans(),
)
def test_property_random_bags_counts_are_label_sums(y, bag_size, seed, drop_last):
    y = torch.tensor(y)
    if bag_size > y.numel():
        with pytest.raises(ValueError, match="bag_size"):
            random_bags(y, bag_size, seed=seed)
        return
    bags = random_bags(y, bag_size, seed=seed, drop_last=drop_last)
    assert torch.unique(bags.index).numel() == bags.index.numel()
    expected = [int(y[b].sum()) for b in bags.to_lists()]
    assert bags.counts.tolist() == expected
    assert set(bags.sizes.tolist()) <= {bag_size, y.numel() % bag_size}
    assert bags.index.numel() == (y.numel() // bag_size) * bag_size + (0 if drop_last else y.numel() % bag_size)


@SETTINGS
@given(bag_problems(), st.floats(0.0, 0.99), st.integers(0, 2**32 - 1))
def test_property_split_bags_partitions(problem, val_fraction, seed):
    from graphdiff.llp.selection import split_bags

    bag_of, counts, n = problem
    bags = as_bags(bag_of, counts, n)
    if bags.num_bags == 1 and round(val_fraction) >= 1:
        with pytest.raises(ValueError, match="leaves none to train on"):
            split_bags(bags, val_fraction, seed)
        return
    train, val = split_bags(bags, val_fraction, seed)
    parts = [train] + ([val] if val is not None else [])
    assert train.num_bags >= 1
    assert sum(p.num_bags for p in parts) == bags.num_bags
    members = torch.cat([p.index for p in parts])
    assert torch.equal(members.sort().values, bags.index.sort().values)  # every member once
    assert sum(int(p.counts.sum()) for p in parts) == int(bags.counts.sum())
    if val is not None:
        assert val.num_bags >= 1 and bags.num_bags >= 2
