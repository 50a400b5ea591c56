"""Graph loaders: counts against the real files, canonical form, options, data root, missing/corrupt files."""

import gzip
import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

import graphdiff.data as gd
from graphdiff.data.download import ChecksumError, MissingDataError
from graphdiff.data.formats import _common, _text, lgc, planetoid

REPO = Path(__file__).resolve().parents[1]
GRAPHS = gd.available("graph")


def _check_canonical(data):
    ei = data.edge_index
    assert ei.dtype == torch.int64 and ei.dim() == 2 and ei.size(0) == 2
    assert int(ei.min()) >= 0 and int(ei.max()) < data.num_nodes
    assert data.is_undirected(), "edge_index must hold both directions"
    assert not data.has_self_loops()
    flat = ei[0] * data.num_nodes + ei[1]
    assert bool((flat[1:] > flat[:-1]).all()), "edge_index must be sorted with no duplicates"
    if data.x is not None:
        assert data.x.dtype == torch.float32 and data.x.size(0) == data.num_nodes
        if data.x.numel() <= 50_000_000:  # the Coauthor matrices (up to 290M entries) are checked on load
            assert bool(torch.isfinite(data.x).all())
    if getattr(data, "y", None) is not None:
        assert data.y.dtype == torch.int64 and data.y.numel() == data.num_nodes
        assert 0 <= int(data.y.min()) and int(data.y.max()) < data.num_classes
    if getattr(data, "edge_weight", None) is not None:
        assert data.edge_weight.dtype == torch.float32 and data.edge_weight.numel() == ei.size(1)
        assert bool(torch.isfinite(data.edge_weight).all()) and bool((data.edge_weight > 0).all())


# ----------------------------------------------------------------------------------------------- real files
@pytest.mark.filterwarnings("ignore:astral.*infinite edge weight")
@pytest.mark.parametrize("name", GRAPHS)
def test_counts_match_manifest(real_data_root, name):
    options = {"features": False} if name == "pubmed" else {}
    data = gd.load(name, root=real_data_root, **options)
    expected = gd.dataset_info(name)["expected"]
    assert data.num_nodes == expected["num_nodes"]
    assert data.num_edges == expected["num_edges"]
    if "num_features" in expected and data.x is not None:
        assert data.num_features == expected["num_features"]
    if "num_classes" in expected:
        assert data.num_classes == expected["num_classes"]
        assert torch.unique(data.y).numel() == expected["num_classes"]
    if "num_train" in expected:
        masks = [data.train_mask, data.val_mask, data.test_mask]
        if "num_splits" in expected:  # several fixed splits: [num_nodes, num_splits], counts of split 0
            assert all(m.shape == (data.num_nodes, expected["num_splits"]) for m in masks)
            masks = [m[:, 0] for m in masks]
        assert int(masks[0].sum()) == expected["num_train"]
        assert int(masks[1].sum()) == expected["num_val"]
        assert int(masks[2].sum()) == expected["num_test"]
    else:
        assert getattr(data, "train_mask", None) is None
    if "num_communities" in expected:
        assert len(data.communities) == expected["num_communities"]
    _check_canonical(data)


def test_cora_and_citeseer_standard_numbers(real_data_root):
    # The numbers of the standard (PyG / GCN) versions, written out here rather than read from the manifest.
    cora = gd.load("cora", root=real_data_root)
    assert (cora.num_nodes, cora.num_edges, cora.num_features, cora.num_classes) == (2708, 10556, 1433, 7)
    assert [int(m.sum()) for m in (cora.train_mask, cora.val_mask, cora.test_mask)] == [140, 500, 1000]
    assert int(cora.x.sum()) == 49216  # binary bag of words, nnz from the staged README
    cite = gd.load("citeseer", root=real_data_root)
    assert (cite.num_nodes, cite.num_edges, cite.num_features, cite.num_classes) == (3327, 9104, 3703, 6)
    assert [int(m.sum()) for m in (cite.train_mask, cite.val_mask, cite.test_mask)] == [120, 500, 1000]
    # 15 padded test ids: zero feature rows, in no mask
    zero_rows = (cite.x.sum(1) == 0).nonzero().flatten()
    in_masks = cite.train_mask | cite.val_mask | cite.test_mask
    assert zero_rows.numel() >= 15 and int((~in_masks[zero_rows]).sum()) >= 15
    for data in (cora, cite):  # masks are disjoint; public split: train = first nodes, then 500 validation
        assert not bool((data.train_mask & data.val_mask).any() or (data.val_mask & data.test_mask).any())
        n_train = int(data.train_mask.sum())
        assert bool(data.train_mask[:n_train].all()) and bool(data.val_mask[n_train : n_train + 500].all())


@pytest.mark.parametrize("name", ["cora", "citeseer"])
def test_planetoid_equals_pyg_reader(real_data_root, name):
    """Same features, labels, masks and edge set as PyG's own Planetoid reader on the same files."""
    from torch_geometric.io import read_planetoid_data
    from torch_geometric.utils import coalesce, remove_self_loops

    ref = read_planetoid_data(str(real_data_root / "planetoid" / "raw"), name)
    data = gd.load(name, root=real_data_root)
    assert torch.equal(ref.x, data.x)
    assert torch.equal(ref.y, data.y)
    for m in ("train_mask", "val_mask", "test_mask"):
        assert torch.equal(getattr(ref, m), getattr(data, m))
    ref_edges, _ = remove_self_loops(coalesce(ref.edge_index, num_nodes=ref.num_nodes))
    assert torch.equal(ref_edges, data.edge_index)


def test_pubmed_missing_features_is_explained(real_data_root):
    with pytest.raises(MissingDataError) as exc:
        gd.load("pubmed", root=real_data_root)
    msg = str(exc.value)
    assert "ind.pubmed.allx" in msg and str(real_data_root / "pubmed" / "raw") in msg and "features=False" in msg
    data = gd.load("pubmed", root=real_data_root, features=False)
    assert data.x is None and data.num_nodes == 19717 and data.num_classes == 3
    with pytest.raises(ValueError, match="normalize_features"):
        gd.load("pubmed", root=real_data_root, features=False, normalize_features=True)


def test_normalize_features(real_data_root):
    raw = gd.load("cora", root=real_data_root)
    norm = gd.load("cora", root=real_data_root, normalize_features=True)
    sums = norm.x.sum(1)
    nonzero = raw.x.sum(1) > 0
    assert torch.allclose(sums[nonzero], torch.ones(int(nonzero.sum())), atol=1e-5)
    assert torch.allclose(norm.x * raw.x.sum(1, keepdim=True).clamp(min=1), raw.x, atol=1e-5)
    assert torch.equal(raw.edge_index, norm.edge_index)
    from torch_geometric.transforms import NormalizeFeatures

    for name in ("cora", "amazon_photo"):  # equal to PyG's transform, which the ERASE reference applies
        ref = NormalizeFeatures()(gd.load(name, root=real_data_root))
        assert torch.allclose(ref.x, gd.load(name, root=real_data_root, normalize_features=True).x, atol=1e-7)


def test_npz_zip_and_plain_canonical_file_agree(real_data_root, tmp_path):
    """The canonical plain .npz (here: the zip member) is accepted by its sha256 and loads identically."""
    entry = gd.dataset_info("amazon_photo")
    plain, wrapped = entry["files"]["graph"]
    assert plain["sha256"] == wrapped["content_sha256"]
    raw = tmp_path / "amazon_photo" / "raw"
    raw.mkdir(parents=True)
    with zipfile.ZipFile(real_data_root / "amazon_photo" / "raw" / wrapped["name"]) as zf:
        zf.extract(wrapped["member"], raw)
    from_plain = gd.load("amazon_photo", root=tmp_path)
    from_zip = gd.load("amazon_photo", root=real_data_root)
    assert torch.equal(from_plain.x, from_zip.x) and torch.equal(from_plain.edge_index, from_zip.edge_index)
    assert torch.equal(from_plain.y, from_zip.y)


def test_npz_edges_are_the_symmetrised_adjacency(real_data_root):
    """Every stored adjacency entry (minus self-loops) is an edge, in both directions, and nothing else is."""
    import scipy.sparse as sp

    npz = np.load(real_data_root / "npz" / "raw" / "cora.npz")
    adj = sp.csr_matrix((npz["adj_data"], npz["adj_indices"], npz["adj_indptr"]), shape=tuple(npz["adj_shape"]))
    sym = ((adj + adj.T) > 0).astype(np.int8).tolil()
    sym.setdiag(0)
    sym = sym.tocsr()
    sym.eliminate_zeros()
    data = gd.load("cora_npz", root=real_data_root)
    dense = torch.zeros(data.num_nodes, data.num_nodes, dtype=torch.int8)
    dense[data.edge_index[0], data.edge_index[1]] = 1
    assert torch.equal(dense, torch.from_numpy(sym.toarray()))
    assert torch.equal(data.y, torch.from_numpy(npz["labels"].astype(np.int64)))


def test_com_dblp_ids_and_communities(real_data_root):
    data = gd.load("com_dblp", root=real_data_root)
    ids = data.node_ids
    assert ids.numel() == data.num_nodes and bool((ids[1:] > ids[:-1]).all())
    assert int(ids.max()) == 425956
    sizes = torch.tensor([c.numel() for c in data.communities])
    assert int(sizes.min()) == 6 and int(sizes.max()) == 7556 and float(sizes.float().median()) == 8
    assert torch.unique(torch.cat(data.communities)).numel() == 93432
    # first edge of the file, in original ids, is an edge of the remapped graph
    with gzip.open(real_data_root / "snap_com_dblp" / "raw" / "com-dblp.ungraph.txt.gz", "rt") as f:
        line = next(line for line in f if not line.startswith("#"))
    u, v = (int(t) for t in line.split())
    iu, iv = int(torch.searchsorted(ids, u)), int(torch.searchsorted(ids, v))
    assert ((data.edge_index[0] == iu) & (data.edge_index[1] == iv)).any()
    # first community of the file, mapped back to original ids
    with gzip.open(real_data_root / "snap_com_dblp" / "raw" / "com-dblp.top5000.cmty.txt.gz", "rt") as f:
        first = sorted(int(t) for t in f.readline().split())
    assert ids[data.communities[0]].tolist() == first


def test_email_eu_core_snap_gzip_form(real_data_root, tmp_path):
    """SNAP's .txt.gz download is accepted by the checksum of its decompressed content."""
    raw = tmp_path / "email_eu_core" / "raw"
    raw.mkdir(parents=True)
    for name in ("email-Eu-core.txt", "email-Eu-core-department-labels.txt"):
        with (
            open(real_data_root / "email_eu_core" / "raw" / name, "rb") as src,
            gzip.open(raw / f"{name}.gz", "wb") as dst,
        ):
            shutil.copyfileobj(src, dst)
    a = gd.load("email_eu_core", root=tmp_path)
    b = gd.load("email_eu_core", root=real_data_root)
    assert torch.equal(a.edge_index, b.edge_index) and torch.equal(a.y, b.y)
    assert int((torch.bincount(a.edge_index[0], minlength=a.num_nodes) == 0).sum()) == 19  # self-loop-only nodes


def test_weighted_and_community_graphs(real_data_root):
    with pytest.warns(UserWarning, match="12 infinite edge weight"):
        astral = gd.load("astral", root=real_data_root)
    assert float(astral.edge_weight.max()) == pytest.approx(43.668, abs=1e-3)
    with pytest.raises(ValueError, match="infinite"):
        gd.load("astral", root=real_data_root, inf_weight="error")
    with pytest.warns(UserWarning):
        fixed = gd.load("astral", root=real_data_root, inf_weight=100.0)
    assert float(fixed.edge_weight.max()) == 100.0
    sfld = gd.load("sfld", root=real_data_root, weight_key="weights")
    assert float(sfld.edge_weight.max()) == pytest.approx(323.306, abs=1e-3)
    assert getattr(gd.load("sfld", root=real_data_root), "edge_weight", None) is None  # "weight" is all 1.0
    ppi = gd.load("ppi_mips", root=real_data_root)
    members = torch.cat(ppi.communities)
    assert members.numel() == 1565 and torch.unique(members).numel() == 1095
    karate = gd.load("karate", root=real_data_root)
    assert torch.bincount(karate.y).tolist() in ([17, 17], [16, 18], [18, 16])


# ----------------------------------------------------------------------------------------------- hermetic
def test_available_and_info():
    names = gd.available()
    assert {"cora", "citeseer", "pubmed", "amazon_photo", "coauthor_cs", "com_dblp", "bank_marketing"} <= set(names)
    assert "bank_marketing" not in gd.available("graph") and gd.available("tabular") == ["bank_marketing", "adult"]
    info = gd.dataset_info("Cora")
    info["folder"] = "changed"
    assert gd.dataset_info("cora")["folder"] == "planetoid"  # a copy
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        gd.dataset_info("nope")
    with pytest.raises(ValueError, match="kind"):
        gd.available("images")


def test_manifest_is_complete_and_package_copy_is_the_same():
    pkg = json.loads((REPO / "graphdiff" / "data" / "manifest.json").read_text())
    top = json.loads((REPO / "datasets" / "manifest.json").read_text())
    assert pkg == top
    for name, entry in top["datasets"].items():
        for key in ("kind", "format", "folder", "files", "licence", "citation", "source", "expected"):
            assert key in entry, f"{name} lacks {key}"
        for role, forms in entry["files"].items():
            assert forms, f"{name}/{role} has no form"
            for form in forms:
                assert form["url"].startswith("https://"), f"{name}/{role}: {form['url']}"
                ids = [form.get(k) for k in ("sha256", "git_sha1", "content_sha256", "content_git_sha1")]
                assert any(ids), f"{name}/{role}/{form['name']} has no checksum"
                for digest in (form.get("sha256"), form.get("content_sha256")):
                    assert digest is None or (len(digest) == 64 and int(digest, 16) >= 0)


def test_data_root_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("GRAPHDIFF_DATA", str(tmp_path / "env"))
    assert gd.data_root(tmp_path / "arg") == tmp_path / "arg"
    assert gd.data_root() == tmp_path / "env"
    monkeypatch.delenv("GRAPHDIFF_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert gd.data_root() == tmp_path / "xdg" / "graphdiff"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert gd.data_root() == tmp_path / "home" / ".cache" / "graphdiff"
    with pytest.raises(ValueError, match="root"):
        gd.data_root(42)


def test_missing_files_name_file_and_directory(tmp_path):
    with pytest.raises(MissingDataError) as exc:
        gd.load("cora", root=tmp_path)
    msg = str(exc.value)
    assert "ind.cora.x" in msg and str(tmp_path / "planetoid" / "raw") in msg
    assert "https://github.com/kimiyoung/planetoid/raw/master/data/ind.cora.x" in msg
    with pytest.raises(MissingDataError) as exc:
        gd.load("amazon_photo", root=tmp_path)
    msg = str(exc.value)
    assert "amazon_electronics_photo.npz or amazon-photo.zip" in msg and str(tmp_path / "amazon_photo" / "raw") in msg


def test_corrupt_file_is_reported_not_used(tmp_path):
    raw = tmp_path / "community_graphs" / "raw"
    raw.mkdir(parents=True)
    (raw / "karate.gml").write_text("graph [ node [ id 0 gt 0 ] ]")
    with pytest.raises(ChecksumError, match="karate.gml"):
        gd.load("karate", root=tmp_path)
    # verify=False skips the check (and then reads the file as it is)
    data = gd.load("karate", root=tmp_path, verify=False)
    assert data.num_nodes == 1


def test_corrupt_real_file_copy(real_data_root, tmp_path):
    raw = tmp_path / "polblogs" / "raw"
    raw.mkdir(parents=True)
    blob = bytearray((real_data_root / "polblogs" / "raw" / "polblogs.npz").read_bytes())
    (raw / "polblogs.npz").write_bytes(bytes(blob))
    assert gd.load("polblogs", root=tmp_path).num_nodes == 1490
    blob[1000] ^= 0xFF
    (raw / "polblogs.npz").write_bytes(bytes(blob))
    with pytest.raises(ChecksumError, match="polblogs.npz"):
        gd.load("polblogs", root=tmp_path)


def test_datasets_status(tmp_path):
    rows = gd.datasets_status(tmp_path)
    assert [r["name"] for r in rows] == gd.available()
    assert not any(r["present"] for r in rows) and all(r["size_bytes"] == 0 for r in rows)
    row = rows[0]
    assert set(row) >= {"name", "folder", "present", "complete", "size_bytes", "source", "url", "licence"}


def test_datasets_status_real(real_data_root):
    rows = {r["name"]: r for r in gd.datasets_status(real_data_root)}
    assert all(r["present"] for r in rows.values()), [n for n, r in rows.items() if not r["present"]]
    assert rows["cora"]["size_bytes"] == sum(
        (real_data_root / "planetoid" / "raw" / f"ind.cora.{e}").stat().st_size
        for e in ("x", "y", "tx", "ty", "allx", "ally", "graph", "test.index")
    )
    assert rows["cora"]["complete"] and rows["pubmed"]["present"] and not rows["pubmed"]["complete"]
    pubmed_files = {f["name"]: f for f in rows["pubmed"]["files"]}
    assert pubmed_files["ind.pubmed.allx"]["present"] is False and pubmed_files["ind.pubmed.allx"]["optional"]


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="unknown dataset"):
        gd.load("not_a_dataset")
    with pytest.raises(ValueError, match="load_tabular"):
        gd.load("bank_marketing")
    with pytest.raises(ValueError, match="unknown option"):
        gd.load("cora", root=tmp_path, normalise=True)
    with pytest.raises(ValueError, match="features"):
        gd.load("cora", root=tmp_path, features="no")
    with pytest.raises(ValueError, match="name"):
        gd.load(3)


def test_canonical_edges_helper():
    edges = np.array([[0, 1, 1, 2, 2, 3], [1, 0, 1, 3, 3, 0]])
    ei, w = _common.undirected(edges, 5)
    assert w is None
    assert ei.tolist() == [[0, 0, 1, 2, 3, 3], [1, 3, 0, 3, 0, 2]]
    ei, w = _common.undirected(np.array([[0, 1], [1, 0]]), 2, np.array([2.0, 5.0]))
    assert ei.tolist() == [[0, 1], [1, 0]] and w.tolist() == [5.0, 5.0]  # max of the two directions


def test_planetoid_unpickler_refuses_other_classes():
    import io
    import os
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.getcwd, ())

    payload = pickle.dumps(Evil(), protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        planetoid.read_planetoid_pickle(io.BytesIO(payload))


def test_text_parsers_reject_bad_input():
    assert _text.parse_int_pairs(b"# header\n# more\n0\t1\n2 3\n").tolist() == [[0, 2], [1, 3]]
    with pytest.raises(ValueError, match="two integers"):
        _text.parse_int_pairs(b"0 1\n2\n")
    with pytest.raises(ValueError, match="integers"):
        _text.parse_int_pairs(b"0 1\n2 x\n")
    members, owner = _text.parse_communities(b"5 6 7\n\n8 9\n")
    assert members.tolist() == [5, 6, 7, 8, 9] and owner.tolist() == [0, 0, 0, 1, 1]
    with pytest.raises(ValueError, match="three"):
        lgc.read_name_edges("a\tb\tw\nx\ty\n")
    src, dst, w = lgc.read_name_edges("s\tt\tw\nb\ta\t2.5\nc\tb\tinf\n")
    assert lgc.names_to_index(src, ["c", "a", "b"], "t").tolist() == [2, 0]
    assert lgc.names_to_index(dst, ["c", "a", "b"], "t").tolist() == [1, 2] and np.isinf(w[1])
    with pytest.raises(ValueError, match="unknown.*'zz'"):
        lgc.names_to_index(np.array(["a", "zz"]), ["a", "b"], "t")


def test_datasets_readme_is_generated_from_manifest():
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, str(REPO / "datasets" / "make_readme.py"), "--check"], capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()


def test_device_argument(real_data_root):
    data = gd.load("karate", root=real_data_root, device="cpu")
    assert data.edge_index.device.type == "cpu"
    if torch.cuda.is_available():
        cuda = gd.load("ppi_mips", root=real_data_root, device="cuda")
        assert cuda.edge_index.is_cuda and cuda.edge_weight.is_cuda and cuda.communities[0].is_cuda


def test_heterophilous_splits(real_data_root):
    full = gd.load("wisconsin", root=real_data_root)
    one = gd.load("wisconsin", root=real_data_root, split=3)
    assert one.train_mask.shape == (251,) and torch.equal(one.train_mask, full.train_mask[:, 3])
    for k in range(10):  # the three masks of every split are disjoint
        m = full.train_mask[:, k].int() + full.val_mask[:, k].int() + full.test_mask[:, k].int()
        assert int(m.max()) <= 1
    for bad in (10, -1, 1.5, True, "3"):  # an integral float (1.0) is split 1, as check_int reads integer knobs
        with pytest.raises(ValueError, match="split"):
            gd.load("wisconsin", root=real_data_root, split=bad)
    # edges are stored once in the file: every stored edge appears in both directions
    raw = np.load(real_data_root / "heterophilous" / "raw" / "wisconsin.npz")
    e = torch.from_numpy(raw["edges"].T.astype(np.int64))
    keys = set((full.edge_index[0] * 251 + full.edge_index[1]).tolist())
    assert all(int(u) * 251 + int(v) in keys and int(v) * 251 + int(u) in keys for u, v in e.T)
    assert full.num_edges == 2 * e.size(1)


def test_blogcatalog_and_facebook(real_data_root):
    blog = gd.load("blogcatalog", root=real_data_root)
    memberships = torch.bincount(torch.cat(blog.communities), minlength=blog.num_nodes)
    assert int((memberships > 1).sum()) == 2852  # staged README: nodes in more than one group
    fb = gd.load("facebook_pagepage", root=real_data_root)
    assert fb.class_names == ["company", "government", "politician", "tvshow"]
    assert bool(((fb.x == 0) | (fb.x == 1)).all()) and fb.x.sum(1).min() >= 1  # binary, every page has attributes


def test_ego_facebook_and_seal_amazon(real_data_root):
    # staged README: nodes in at least one circle, 286 for ego 0 and 97 for ego 3437
    for ego, covered in ((0, 286), (3437, 97)):
        data = gd.load(f"facebook_ego_{ego}", root=real_data_root)
        assert torch.unique(torch.cat(data.communities)).numel() == covered
    seal = gd.load("com_amazon_seal", root=real_data_root)
    sizes = torch.tensor([c.numel() for c in seal.communities])
    assert (int(sizes.min()), int(sizes.max()), float(sizes.float().median())) == (3, 30, 7.0)


def test_geom_gcn_matches_heterophilous_packaging(real_data_root):
    """texas/wisconsin/actor(film) are identical in both packagings (the staged README checked masks and edges)."""
    for name in ("texas", "wisconsin"):
        a, b = gd.load(f"geom_{name}", root=real_data_root), gd.load(name, root=real_data_root)
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y) and torch.equal(a.edge_index, b.edge_index)
        assert torch.equal(a.train_mask, b.train_mask) and torch.equal(a.test_mask, b.test_mask)
    film, actor = gd.load("geom_film", root=real_data_root), gd.load("actor", root=real_data_root)
    assert torch.equal(film.train_mask, actor.train_mask) and torch.equal(film.val_mask, actor.val_mask)
    assert (
        torch.equal(film.x, actor.x) and torch.equal(film.y, actor.y) and torch.equal(film.edge_index, actor.edge_index)
    )
    cornell, texas = gd.load("geom_cornell", root=real_data_root), gd.load("geom_texas", root=real_data_root)
    assert torch.equal(cornell.x, texas.x) and torch.equal(cornell.y, texas.y)  # the Geom-GCN quirk
    assert torch.bincount(cornell.y).tolist() == [33, 1, 18, 101, 30]
    assert not torch.equal(cornell.edge_index, texas.edge_index)


def test_musae_wikipedia_regression_target(real_data_root):
    data = gd.load("musae_chameleon", root=real_data_root)
    assert getattr(data, "y", None) is None and data.target.dtype == torch.float32
    assert (float(data.target.min()), float(data.target.max()), float(data.target.median())) == (15.0, 508957.0, 2003.0)
    assert data.num_edges == gd.load("chameleon", root=real_data_root).num_edges  # same graph, README
