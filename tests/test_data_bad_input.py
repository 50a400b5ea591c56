"""Issue 18 for the data layer: every bad input gets a clear error, nothing is silently wrong.

One test per symptom found at the public boundary of graphdiff.data, graphdiff.nn.propagation, graphdiff.bench and
the ``graphdiff`` command.
"""

import hashlib
import os
import shutil
import time
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
import torch
from torch_geometric.data import Data

import graphdiff.data as gd
from graphdiff import bench, cli
from graphdiff.data import download, interop, noise, splits, synthetic, validation
from graphdiff.data.download import ChecksumError, MissingDataError
from graphdiff.nn import propagation as P

NAN = float("nan")
LABELS = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
PATH3 = torch.tensor([[0, 1, 1, 2], [1, 0, 2, 1]])


# ------------------------------------------------------------------------------------------- silently wrong before
def test_from_networkx_weights_follow_their_edges():
    g = nx.Graph()
    g.add_nodes_from(range(3))
    g.add_edge(0, 2, weight=7.0)  # inserted first: PyG lists it first, the sorted edge_index puts (0, 1) first
    g.add_edge(0, 1, weight=3.0)
    g.add_edge(1, 2, weight=1.0)
    data = interop.from_networkx(g)
    assert data.edge_index.tolist() == [[0, 0, 1, 1, 2, 2], [1, 2, 0, 2, 0, 1]]
    for (u, v), w in zip(data.edge_index.t().tolist(), data.weight.tolist()):
        assert w == g[u][v]["weight"], (u, v)


def test_from_networkx_directed_weights_follow_their_edges():
    g = nx.DiGraph()
    g.add_nodes_from(range(3))
    g.add_edge(0, 2, weight=5.0)  # listed before (0, 1) by networkx, after it in the sorted edge_index
    g.add_edge(0, 1, weight=1.0)
    g.add_edge(2, 1, weight=2.0)
    data = interop.from_networkx(g)
    assert data.edge_index.tolist() == [[0, 0, 2], [1, 2, 1]] and data.weight.tolist() == [1.0, 5.0, 2.0]


def test_from_networkx_multigraph_merges_parallel_edges_and_sums_their_weights():
    g = nx.MultiGraph()
    g.add_nodes_from(range(3))
    g.add_edge(0, 1, weight=1.0)
    g.add_edge(0, 1, weight=2.0)
    g.add_edge(1, 2, weight=4.0)
    data = interop.from_networkx(g)
    assert data.edge_index.tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]
    assert data.weight.tolist() == [3.0, 3.0, 4.0, 4.0]  # one weight per entry, as nx.to_scipy_sparse_array sums
    dense = nx.to_scipy_sparse_array(g, nodelist=range(3)).toarray()
    assert dense[data.edge_index[0], data.edge_index[1]].tolist() == data.weight.tolist()
    labelled = nx.MultiGraph()
    labelled.add_edge(0, 1, label="a")
    labelled.add_edge(0, 1, label="b")
    with pytest.raises(ValueError, match="'label' is not numeric"):
        interop.from_networkx(labelled)


def test_uint8_masks_are_refused_by_the_noise_functions():
    mask_u8 = torch.tensor([1, 0, 1, 1, 0, 1, 1, 0, 1, 1], dtype=torch.uint8)
    for fn in (noise.uniform_noise, noise.pair_noise):
        with pytest.raises(ValueError, match="`mask` has dtype torch.uint8, which is ambiguous"):
            fn(LABELS, 0.5, mask=mask_u8)
        by_mask = fn(LABELS, 0.5, mask=mask_u8.bool(), seed=3)
        by_ids = fn(LABELS, 0.5, mask=mask_u8.bool().nonzero().flatten(), seed=3)
        assert torch.equal(by_mask.y_noisy, by_ids.y_noisy)
        assert not bool(by_mask.flipped[~mask_u8.bool()].any())


def test_non_integral_counts_are_refused_not_truncated():
    with pytest.raises(ValueError, match="`num_classes` must be an integer, got 3.5"):
        noise.uniform_noise(LABELS, 0.2, num_classes=3.5)
    with pytest.raises(ValueError, match="`num_nodes` must be an integer, got 2.5"):
        validation.check_edge_index(PATH3, 2.5)
    with pytest.raises(ValueError, match="`num_nodes` must be an integer, got 3.5"):
        P.normalized_adjacency(PATH3, 3.5)
    with pytest.raises(ValueError, match="`num_nodes` must be an integer, got 3.5"):
        interop.to_scipy(PATH3, 3.5)
    with pytest.raises(ValueError, match="`steps` must be an integer, got 2.5"):
        P.lazy_propagation(P.normalized_adjacency(PATH3, 3), torch.ones(3, 1), 0.5, 2.5)
    with pytest.raises(ValueError, match="`targets` must hold integer class ids"):
        noise.pair_transition([1.7, 0.2], 0.3)
    # an integral float is the integer it equals
    assert P.normalized_adjacency(PATH3, 3.0).shape == (3, 3)


def test_nan_is_refused_where_it_would_spread():
    with pytest.raises(ValueError, match="`feature_signal` must be a number, got NaN"):
        synthetic.contextual_sbm(feature_signal=NAN)
    with pytest.raises(ValueError, match="`avg_degree` must be a number, got NaN"):
        synthetic.contextual_sbm(avg_degree=NAN)
    with pytest.raises(ValueError, match="`internal_degree` must be a number, got NaN"):
        synthetic.planted_partition(internal_degree=NAN)
    with pytest.raises(ValueError, match="`internal_degree` must be a number, got NaN"):
        synthetic.planted_partition_csr(1000, 50, internal_degree=NAN)
    with pytest.raises(ValueError, match="`matrix` holds 1 NaN or infinite entr.*at \\(0, 1\\)"):
        interop.from_scipy(sp.csr_matrix(np.array([[0.0, NAN], [1.0, 0.0]])))
    with pytest.raises(ValueError, match="`edge_weight` holds 1 NaN or infinite weight.*edge 1"):
        interop.to_scipy(PATH3, 3, edge_weight=torch.tensor([1.0, NAN, 1.0, 1.0]))
    data = Data(edge_index=PATH3, edge_weight=torch.tensor([1.0, 1.0, float("inf"), float("inf")]), num_nodes=3)
    with pytest.raises(ValueError, match="NaN or infinite weight"):
        interop.to_scipy(data)
    with pytest.raises(ValueError, match="NaN or infinite weight"):
        interop.to_networkx(data)
    with pytest.raises(ValueError, match="weight.*NaN or infinite"):
        interop.from_networkx(nx.Graph([(0, 1, {"weight": NAN})]))
    adj = P.normalized_adjacency(PATH3, 3, norm="col")
    with pytest.raises(ValueError, match="`y` holds 1 NaN or infinite value.*row 2"):
        P.lazy_propagation(adj, torch.tensor([[0.0], [1.0], [NAN]]), 0.5, 3)
    with pytest.raises(ValueError, match="`y0` holds"):
        P.personalized_propagation(adj, torch.tensor([NAN, 0.0, 0.0]), 0.5, 3)
    with pytest.raises(ValueError, match="NaN or infinite"):
        bench.Results("unit").add("cora", "erase", {}, "test_accuracy", [0.8, NAN])


def test_from_scipy_drops_explicitly_stored_zeros_like_the_loaders():
    mat = sp.csr_matrix((np.array([0.0, 2.0, 2.0]), (np.array([0, 1, 2]), np.array([1, 2, 1]))), shape=(3, 3))
    assert mat.nnz == 3  # the zero at (0, 1) is stored
    data = interop.from_scipy(mat)
    assert data.edge_index.tolist() == [[1, 2], [2, 1]] and data.edge_weight.tolist() == [2.0, 2.0]
    summed_to_zero = sp.coo_matrix((np.array([1.0, -1.0]), (np.array([0, 0]), np.array([1, 1]))), shape=(2, 2))
    assert interop.from_scipy(summed_to_zero).edge_index.size(1) == 0


def test_to_networkx_refuses_edge_ids_past_num_nodes():
    data = Data(edge_index=torch.tensor([[0, 9], [9, 0]]), num_nodes=3)
    with pytest.raises(ValueError, match="node id 9, out of range for a graph with num_nodes=3"):
        interop.to_networkx(data)


def test_to_networkx_refuses_two_weights_for_one_undirected_edge():
    data = Data(edge_index=torch.tensor([[0, 1], [1, 0]]), edge_weight=torch.tensor([1.0, 2.0]), num_nodes=2)
    with pytest.raises(ValueError, match="edge \\(0, 1\\) has weight 1.0 but \\(1, 0\\) has 2.0"):
        interop.to_networkx(data)
    g = interop.to_networkx(data, undirected=False)
    assert g[0][1]["edge_weight"] == 1.0 and g[1][0]["edge_weight"] == 2.0


def _edit_in_place_keeping_size_and_mtime(path: Path) -> None:
    before = path.stat()
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0x01
    deadline = time.monotonic() + 5.0
    while True:  # the ctime has the kernel's clock granularity: write until it has moved on
        path.write_bytes(bytes(blob))
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        after = path.stat()
        if after.st_ctime_ns != before.st_ctime_ns or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (before.st_size, before.st_mtime_ns, before.st_ino)
    assert after.st_ctime_ns != before.st_ctime_ns


def test_checksum_cache_sees_an_in_place_edit_that_keeps_size_and_mtime(tmp_path):
    path = tmp_path / "a.bin"
    path.write_bytes(b"0123456789" * 100)
    form = {"name": "a.bin", "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert download.find_form(tmp_path, [form]) == (path, form)  # verified, and cached
    _edit_in_place_keeping_size_and_mtime(path)
    with pytest.raises(ChecksumError, match="a.bin"):
        download.find_form(tmp_path, [form])


def test_load_twice_after_an_in_place_edit_raises(real_data_root, tmp_path):
    raw = tmp_path / "community_graphs" / "raw"
    raw.mkdir(parents=True)
    shutil.copy(real_data_root / "community_graphs" / "raw" / "karate.gml", raw)
    assert gd.load("karate", root=tmp_path).num_nodes == 34
    _edit_in_place_keeping_size_and_mtime(raw / "karate.gml")
    with pytest.raises(ChecksumError, match="karate.gml"):
        gd.load("karate", root=tmp_path)


# ------------------------------------------------------------------------------------------- obscure before
@pytest.mark.parametrize(
    "call",
    [
        lambda: noise.uniform_noise(LABELS, 0.2, seed=-1),
        lambda: noise.pair_noise(LABELS, 0.2, seed=-1),
        lambda: noise.binary_flip_noise(LABELS == 0, 0.9, 0.9, seed=-1),
        lambda: splits.random_split(LABELS, 1, seed=-1),
        lambda: synthetic.contextual_sbm(seed=-1),
        lambda: synthetic.planted_partition(seed=-1),
        lambda: synthetic.planted_partition_csr(1000, 50, seed=-1),
        lambda: synthetic.logistic_data(100, seed=-1),
        lambda: gd.load_tabular("adult", root="/nonexistent", seed=-1),  # checked before any file is looked for
    ],
)
def test_negative_seed_is_named(call):
    with pytest.raises(ValueError, match="`seed` must be at least 0, got -1"):
        call()


def test_random_split_of_no_labels():
    with pytest.raises(ValueError, match="`y` is empty"):
        splits.random_split(torch.zeros(0, dtype=torch.long), 1)
    with pytest.raises(ValueError, match="`y` must be a torch.Tensor or numpy array, got list"):
        splits.random_split([], 1)


def test_to_scipy_edge_weight_of_the_wrong_length():
    with pytest.raises(ValueError, match="`edge_weight` must have shape \\(4,\\), one weight per edge, got \\(3,\\)"):
        interop.to_scipy(PATH3, 3, edge_weight=torch.ones(3))


def test_lazy_propagation_labels_of_the_wrong_shape_or_dtype():
    adj = P.normalized_adjacency(PATH3, 3)
    with pytest.raises(ValueError, match="`y` must be 1-D \\(N,\\) or 2-D \\(N, C\\), got shape \\(3, 2, 2\\)"):
        P.lazy_propagation(adj, torch.ones(3, 2, 2), 0.5, 2)
    with pytest.raises(ValueError, match="`y` is torch.float64 but `adj` is torch.float32"):
        P.lazy_propagation(adj, torch.ones(3, 2, dtype=torch.float64), 0.5, 2)
    with pytest.raises(ValueError, match="`mask` has dtype torch.uint8"):
        P.personalized_propagation(adj, torch.ones(3, 2), 0.5, 2, mask=torch.ones(3, dtype=torch.uint8))


def test_corrupt_gml_read_without_verification_names_the_file(real_data_root, tmp_path):
    raw = tmp_path / "community_graphs" / "raw"
    raw.mkdir(parents=True)
    text = (real_data_root / "community_graphs" / "raw" / "karate.gml").read_text()
    (raw / "karate.gml").write_text(text[: len(text) // 2] + "[[[[" + text[len(text) // 2 :])
    with pytest.raises(ValueError, match="karate.gml is not a readable GML file \\(NetworkXError"):
        gd.load("karate", root=tmp_path, verify=False)


def test_corrupt_npz_read_without_verification_names_the_file(tmp_path):
    raw = tmp_path / "polblogs" / "raw"
    raw.mkdir(parents=True)
    (raw / "polblogs.npz").write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(ValueError, match="polblogs.npz is not a readable adjacency npz file"):
        gd.load("polblogs", root=tmp_path, verify=False)


def test_load_device_is_validated_before_reading(tmp_path):
    with pytest.raises(ValueError, match="`device` is not a valid torch device: 'banana'"):
        gd.load("karate", root=tmp_path, device="banana")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="`device`='cuda'"):
            gd.load("karate", root=tmp_path, device="cuda")


def test_weight_key_that_no_edge_carries(real_data_root):
    with pytest.raises(ValueError, match="no edge carries the attribute weight_key='nope'.*'weights'"):
        gd.load("sfld", root=real_data_root, weight_key="nope")


def test_loader_option_values_are_checked_before_the_files():
    for options, match in [
        ({"split": 1.5}, "`split` must be an integer"),
        ({"normalize_features": 1}, "`normalize_features` must be True or False"),
    ]:
        with pytest.raises(ValueError, match=match):
            gd.load("wisconsin", root="/nonexistent", **options)
    with pytest.raises(ValueError, match="`inf_weight` must be one of 'max', 'error'"):
        gd.load("astral", root="/nonexistent", inf_weight="min")
    with pytest.raises(ValueError, match="`inf_weight` must be > 0"):
        gd.load("astral", root="/nonexistent", inf_weight=-1)
    with pytest.raises(ValueError, match="`download` must be True or False"):
        gd.load("karate", root="/nonexistent", download="yes")


def test_complex_features_are_refused():
    with pytest.raises(ValueError, match="`x` must hold real features"):
        validation.check_features(torch.ones(2, 2, dtype=torch.complex64))


def test_results_need_a_name_and_numbers(tmp_path):
    with pytest.raises(ValueError, match="`benchmark` must be a string"):
        bench.Results(None)
    with pytest.raises(ValueError, match="every value must be a number"):
        bench.Results("unit").add("cora", "erase", {}, "test_accuracy", ["high"])
    with pytest.raises(ValueError, match="`time_s` must be finite"):
        bench.Results("unit").add("cora", "erase", {}, "test_accuracy", [0.5], time_s=float("inf"))


# ------------------------------------------------------------------------------------------- data root and demo
def test_data_root_that_is_a_regular_file(tmp_path):
    root = tmp_path / "datasets"
    root.write_text("not a folder")
    with pytest.raises(MissingDataError, match="datasets \\(the data root\\) is a regular file, not a directory"):
        gd.load("cora", root=root)
    (tmp_path / "ok").mkdir()
    (tmp_path / "ok" / "planetoid").write_text("not a folder")
    with pytest.raises(MissingDataError, match="planetoid \\(a folder under the data root\\) is a regular file"):
        gd.load("cora", root=tmp_path / "ok")


def test_datasets_command_says_the_root_is_a_file(tmp_path, capsys):
    root = tmp_path / "datasets"
    root.write_text("not a folder")
    assert cli.main(["datasets", "--root", str(root)]) == 0
    out = capsys.readouterr().out
    assert f"data root: {root} is a regular file, not a directory" in out
    assert "missing under" not in out and "set GRAPHDIFF_DATA (or --root) to a directory" in out


def test_demo_reports_a_corrupt_file_in_one_line_and_goes_on(real_data_root, tmp_path, monkeypatch, capsys):
    raw = tmp_path / "planetoid" / "raw"
    raw.mkdir(parents=True)
    for path in (real_data_root / "planetoid" / "raw").glob("ind.cora.*"):
        shutil.copy(path, raw)
    blob = bytearray((raw / "ind.cora.x").read_bytes())
    blob[100] ^= 0xFF
    (raw / "ind.cora.x").write_bytes(bytes(blob))
    monkeypatch.setenv("GRAPHDIFF_DATA", str(tmp_path))
    monkeypatch.setattr(cli, "METHODS", ())  # the data summaries only, no method demo
    assert cli.main(["demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    cora = [line for line in lines if line.strip().startswith("cora")]
    assert len(cora) == 1 and "corrupt: checksum mismatch for" in cora[0] and "ind.cora.x" in cora[0]
    citeseer = [line for line in lines if line.strip().startswith("citeseer")]
    assert len(citeseer) == 1 and "not available: dataset 'citeseer': missing file(s)" in citeseer[0]
