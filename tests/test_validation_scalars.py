"""graphdiff.data.validation: the scalar checks every estimator and public function uses, and masks."""

import math

import numpy as np
import pytest
import torch

from graphdiff.data import validation as v


@pytest.mark.parametrize("value,expected", [(3, 3), (np.int32(4), 4), (1e6, 1_000_000), (2.0, 2)])
def test_check_int_accepts_integers_and_integral_floats(value, expected):
    out = v.check_int(value, "n")
    assert out == expected and type(out) is int


@pytest.mark.parametrize("value", [2.5, float("nan"), float("inf"), True, "3", None, [1]])
def test_check_int_refuses_and_names_the_argument(value):
    with pytest.raises(ValueError, match="`num_nodes` must be"):
        v.check_int(value, "num_nodes")


def test_check_int_bounds_and_none():
    assert v.check_int(None, "k", allow_none=True) is None
    with pytest.raises(ValueError, match="`k` must be at least 1, got 0"):
        v.check_int(0, "k", minimum=1)
    with pytest.raises(ValueError, match="`k` must be at most 5, got 6"):
        v.check_int(6, "k", maximum=5)


def test_check_float_refuses_nan_inf_bool_and_respects_open_bounds():
    assert v.check_float(np.float32(0.5), "lr") == 0.5
    assert v.check_float(float("inf"), "t", allow_inf=True) == math.inf
    for bad in (float("nan"), float("inf"), True, "0.1", None):
        with pytest.raises(ValueError, match="`lr`"):
            v.check_float(bad, "lr")
    with pytest.raises(ValueError, match="`lr` must be > 0"):
        v.check_float(0.0, "lr", minimum=0.0, low_open=True)
    with pytest.raises(ValueError, match="`q` must be <= 1"):
        v.check_float(1.5, "q", maximum=1.0)
    with pytest.raises(ValueError, match="`dropout` must be < 1"):
        v.check_float(1.0, "dropout", maximum=1.0, high_open=True)


def test_check_bool_choice_seed():
    assert v.check_bool(np.bool_(True), "echo") is True
    with pytest.raises(ValueError, match="`echo` must be True or False"):
        v.check_bool(1, "echo")
    assert v.check_choice("gat", "encoder", ("gat", "gcn")) == "gat"
    with pytest.raises(ValueError, match="`encoder` must be one of 'gat', 'gcn'"):
        v.check_choice("GAT", "encoder", ("gat", "gcn"))
    with pytest.raises(ValueError, match="`norm` must be one of"):
        v.check_choice(np.array([1, 2]), "norm", ("layer", None))
    assert v.check_choice(None, "norm", ("layer", None)) is None
    assert v.check_seed(2**32 - 1) == 2**32 - 1
    for bad in (-1, 2**32, 1.5, "abc"):
        with pytest.raises(ValueError, match="`seed`"):
            v.check_seed(bad)


def test_check_device():
    assert v.check_device("cpu") == torch.device("cpu")
    assert v.check_device(torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="`device` is not a valid torch device: 'banana'"):
        v.check_device("banana")
    with pytest.raises(ValueError, match="`device` must be a device name"):
        v.check_device(3)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="`device`='cuda'"):
            v.check_device("cuda")
    else:
        with pytest.raises(ValueError, match="CUDA device"):
            v.check_device(f"cuda:{torch.cuda.device_count()}")


def test_masks_bool_or_ids_and_small_ints_refused():
    assert v.check_mask(torch.tensor([True, False, True]), 3).tolist() == [True, False, True]
    assert v.check_mask(np.array([2, 0]), 4).tolist() == [True, False, True, False]
    assert v.check_mask(torch.tensor([], dtype=torch.long), 2).tolist() == [False, False]
    for dtype in (torch.uint8, torch.int8):
        with pytest.raises(ValueError, match=f"`train_mask` has dtype {dtype}, which is ambiguous"):
            v.check_mask(torch.tensor([1, 0, 1], dtype=dtype), 3, name="train_mask")
    with pytest.raises(ValueError, match="`val_mask` holds node id 5, outside"):
        v.check_mask(torch.tensor([1, 5]), 3, name="val_mask")
    with pytest.raises(ValueError, match="`m` must be a boolean mask of length 3, got length 2"):
        v.check_mask(torch.tensor([True, False]), 3, name="m")
    with pytest.raises(ValueError, match="must be 1-D"):
        v.check_mask(torch.ones(2, 2, dtype=torch.bool), 4, name="m")
    with pytest.raises(ValueError, match="boolean mask or an integer index"):
        v.check_mask(torch.tensor([0.0, 1.0]), 2, name="m")


def test_array_checks_refuse_fractional_counts_and_complex_labels():
    with pytest.raises(ValueError, match="`num_nodes` must be an integer, got 2.5"):
        v.check_edge_index(torch.tensor([[0], [1]]), 2.5)
    with pytest.raises(ValueError, match="`y` must hold integer class ids, got dtype torch.complex64"):
        v.check_labels(torch.tensor([1 + 0j, 0j], dtype=torch.complex64))
    with pytest.raises(ValueError, match="`rate` must be a number, got NaN"):
        v.check_rate(float("nan"))
