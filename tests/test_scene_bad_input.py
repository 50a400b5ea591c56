"""Bad and edge-case input at EchoScene's public boundary (issue #18): inconsistent scene graphs, damaged or
mismatched checkpoints, non-finite outputs, and arguments that used to fail deep inside torch or numpy.

Every error names what is wrong (the argument, the file); nothing passes silently."""

import json
import warnings
import zipfile

import numpy as np
import pytest
import torch

from graphdiff.data import scenes as S
from graphdiff.data.scenes import ContradictingRelationsWarning
from graphdiff.nn.triplet_gcn import TripletGCN, TripletGraphConv
from graphdiff.scene import CheckpointError, EchoScene, edits

P = S.PREDICATE_TO_ID
TINY = dict(
    class_dim=8,
    pred_dim=8,
    latent_dim=8,
    gcn_hidden=8,
    proj_dim=4,
    context_dim=8,
    time_dim=8,
    width=16,
    num_blocks=1,
    echo_layers=1,
    encoder_layers=1,
    shape_dim=8,
    batch_size=4,
    sample_steps=3,
    verbose=False,
)


@pytest.fixture(scope="module")
def train():
    return S.generate_scenes(24, seed=0)


@pytest.fixture(scope="module")
def fitted(train):
    return EchoScene(steps=4, seed=0, **TINY).fit(train)


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    return fitted.save(tmp_path_factory.mktemp("ckpt") / "model.pt")


def _with_triple(scene, triple):
    out = scene.copy()
    out.triples = np.concatenate([scene.triples, np.asarray([triple], dtype=np.int64)])
    return out


def _left_pair(scene):
    """Subject and object of the first 'left' triple between two objects."""
    t = scene.triples
    k = int(np.flatnonzero(t[:, 1] == P["left"])[0])
    return int(t[k, 0]), int(t[k, 2])


# ------------------------------------------------------------------------------------------- scene graphs
def test_contradicting_pairs_and_self_relations_are_found():
    t = np.array([[0, P["left"], 1], [1, P["left"], 0], [2, P["right"], 3], [2, P["left"], 3], [4, P["close by"], 5]])
    t = np.concatenate([t, [[5, P["close by"], 4], [0, P["above"], 2], [2, P["above"], 0], [3, P["front"], 1]]])
    assert S.contradicting_pairs(t).tolist() == [[0, 1], [2, 3], [6, 7]]  # close by is symmetric: no conflict
    assert S.contradicting_pairs(t[[0, 0, 8]]).tolist() == []  # a duplicated triple does not contradict
    assert S.self_relations(np.array([[0, 1, 1], [2, 5, 2]])).tolist() == [1]
    # the generator's graphs are consistent: no warning on hundreds of rooms
    with warnings.catch_warnings():
        warnings.simplefilter("error", ContradictingRelationsWarning)
        S.check_scenes(S.generate_scenes(300, seed=3))


def test_self_relation_is_an_error_in_fit_sample_and_check(train, fitted):
    s, _ = _left_pair(train[0])
    bad = _with_triple(train[0], [s, P["left"], s])
    with pytest.raises(ValueError, match=f"relates node {s} to itself"):
        S.check_scene(bad)
    with pytest.raises(ValueError, match=r"scenes\[3\].*itself"):
        EchoScene(steps=1, **TINY).fit(train[:3] + [bad])
    with pytest.raises(ValueError, match=r"graphs\[0\].*itself"):
        fitted.sample([bad])
    before = fitted.sample([train[0]])
    with pytest.raises(ValueError, match=r"edited\[0\].*itself"):
        fitted.resample(before, [bad], mode="clamp")
    with pytest.raises(ValueError, match=r"edited\[0\].*itself"):
        fitted.resample(before, [bad], mode="all")
    with pytest.raises(ValueError, match="different nodes"):
        edits.set_relation(train[0], s, "left", s)


def test_contradicting_pair_is_a_warning_in_fit_sample_and_edits(train, fitted):
    s, o = _left_pair(train[1])
    bad = _with_triple(train[1], [o, P["left"], s])  # s left of o and o left of s
    with pytest.warns(ContradictingRelationsWarning, match=r"1 of the 4 scene graphs in `scenes`.*scenes\[3\]"):
        EchoScene(steps=1, **TINY).fit(train[:3] + [bad])
    with pytest.warns(ContradictingRelationsWarning, match=f"'{o} left {s}'"):
        out = fitted.sample([bad])
    assert np.isfinite(out[0].boxes).all()  # a warning, and the room is still generated
    # an edit that adds the opposite relation next to an unchanged one on the same axis is allowed (with a warning)
    other = next(int(i) for i in np.flatnonzero(train[1].object_mask) if i not in (s, o))
    with pytest.warns(ContradictingRelationsWarning) as record:
        edited = edits.set_relation(bad, other, "front", s)
    assert record[0].filename == __file__  # the warning points at the caller's line
    with pytest.warns(ContradictingRelationsWarning):
        fitted.resample(fitted.sample([train[1]]), [edited], mode="clamp")


def _write_sgfront_pair(tmp_path):
    rel = {
        "scans": [
            {
                "scan": "r1",
                "objects": {"1": "double_bed", "2": "nightstand", "3": "floor"},
                "relationships": [[2, 1, 1, "left"], [1, 3, 7, "standing on"]],
            }
        ]
    }
    boxes = {
        "r1": {
            "1": {"param7": [2, 1, 2, 1, 0, 1, 0]},
            "2": {"param7": [0.5, 0.5, 0.5, 1, 0, -0.5, 0]},
            "3": {"param7": [4, 0, 4, 1, 0, 1, 0]},
            "scene_center": [1, 0, 1],
        }
    }
    (tmp_path / "obj_boxes_bedroom_trainval.json").write_text(json.dumps(boxes))
    return rel


def test_load_sgfront_self_relation_contradiction_and_truncated_json(tmp_path):
    rel = _write_sgfront_pair(tmp_path)
    rel_path = tmp_path / "relationships_bedroom_trainval.json"
    rel_path.write_text(json.dumps(rel))
    assert len(S.load_sgfront(tmp_path)) == 1
    r = json.loads(json.dumps(rel))
    r["scans"][0]["relationships"].append([1, 2, 1, "left"])  # bed left of nightstand, nightstand left of bed
    rel_path.write_text(json.dumps(r))
    with pytest.warns(ContradictingRelationsWarning, match=f"{rel_path}.*scan 'r1'"):
        S.load_sgfront(tmp_path)
    r = json.loads(json.dumps(rel))
    r["scans"][0]["relationships"].append([2, 2, 5, "close by"])
    rel_path.write_text(json.dumps(r))
    with pytest.raises(ValueError, match="scan 'r1'.*itself"):
        S.load_sgfront(tmp_path)
    rel_path.write_text(json.dumps(rel)[:-7])  # truncated
    with pytest.raises(ValueError, match=f"{rel_path} is not valid JSON"):
        S.load_sgfront(tmp_path)
    rel_path.write_text(json.dumps({"rooms": []}))
    with pytest.raises(ValueError, match="'scans' list"):
        S.load_sgfront(tmp_path)
    rel_path.write_text(json.dumps(rel))
    (tmp_path / "obj_boxes_bedroom_trainval.json").write_text('{"r1": {"1": {"param7": [2, 1')
    with pytest.raises(ValueError, match="obj_boxes_bedroom_trainval.json is not valid JSON"):
        S.load_sgfront(tmp_path)


# ------------------------------------------------------------------------------------------- checkpoints
def _tensor_record_offset(path):
    """Byte offset of the middle of the largest tensor record inside a torch zip checkpoint."""
    with zipfile.ZipFile(path) as zf:
        info = max((i for i in zf.infolist() if "/data/" in i.filename), key=lambda i: i.file_size)
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        header = f.read(30)
    name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    return info.header_offset + 30 + name_len + extra_len + info.file_size // 2


def _damage(src, dst, how):
    data = bytearray(src.read_bytes())
    if how == "flipped":
        k = _tensor_record_offset(src)
        for i in range(k, k + 16):
            data[i] ^= 0xFF
    elif how == "truncated":
        data = data[: len(data) // 2]
    elif how == "header":
        data[:64] = b"\x00" * 64
    elif how == "text":
        data = bytearray(b"this is not a checkpoint\n")
    dst.write_bytes(bytes(data))
    return dst


@pytest.mark.parametrize("how", ["flipped", "truncated", "header", "text"])
def test_damaged_checkpoints_are_refused_naming_the_file(saved, tmp_path, train, how):
    bad = _damage(saved, tmp_path / f"{how}.pt", how)
    with pytest.raises(CheckpointError, match=str(bad)):
        EchoScene.load(bad)
    # the same when a training run resumes from it
    with pytest.raises(CheckpointError, match=str(bad)):
        EchoScene(steps=4, seed=0, checkpoint_path=bad, **TINY).fit(train, resume=True)


def test_a_torch_file_that_is_not_a_checkpoint(tmp_path, train):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(CheckpointError, match=f"{path} is a torch file but not an EchoScene checkpoint"):
        EchoScene.load(path)
    with pytest.raises(CheckpointError, match="not an EchoScene checkpoint"):
        EchoScene(steps=2, checkpoint_path=path, **TINY).fit(train, resume=True)
    with pytest.raises(CheckpointError, match="does not exist"):
        EchoScene.load(tmp_path / "missing.pt")


@pytest.fixture(scope="module")
def training_checkpoint(train, tmp_path_factory):
    path = tmp_path_factory.mktemp("resume") / "ckpt.pt"
    EchoScene(steps=4, seed=0, checkpoint_path=path, checkpoint_every=2, **TINY).fit(train)
    return path


@pytest.mark.parametrize(
    "change, field",
    [
        ({"width": 32}, "width: 16 != 32"),
        ({"shape": False}, "shape: True != False"),
        ({"num_blocks": 2}, "num_blocks: 1 != 2"),
        ({"lr": 2e-3}, "lr: 0.001 != 0.002"),
        ({"num_train_timesteps": 500}, "num_train_timesteps: 1000 != 500"),
        ({"steps": 8}, "steps: 4 != 8"),
    ],
)
def test_resume_with_another_configuration_is_refused_field_by_field(training_checkpoint, train, change, field):
    params = {**TINY, "steps": 4, "seed": 0, "checkpoint_path": training_checkpoint, **change}
    with pytest.raises(CheckpointError, match=f"{training_checkpoint}.*{field}"):
        EchoScene(**params).fit(train, resume=True)


def test_resume_with_the_same_configuration_and_other_run_settings_works(training_checkpoint, train):
    params = {**TINY, "steps": 4, "seed": 0, "checkpoint_path": training_checkpoint}
    params.update(verbose=False, checkpoint_every=1, sample_steps=2, max_train_time_s=100.0)
    model = EchoScene(**params).fit(train, resume=True)
    assert model.steps_done_ == 4 and len(model.history_) == 4


def test_a_saved_model_cannot_be_resumed(saved, train):
    with pytest.raises(CheckpointError, match="written by EchoScene.save"):
        EchoScene(steps=4, seed=0, checkpoint_path=saved, **TINY).fit(train, resume=True)


def test_non_finite_weights_never_pass_silently(fitted, tmp_path, train):
    broken = EchoScene.load(fitted.save(tmp_path / "ok.pt"))
    with torch.no_grad():
        broken.ema_.layout.denoiser.out.bias.fill_(float("nan"))
    with pytest.raises(RuntimeError, match=r"NaN or infinite boxes.*graphs\[0\]"):
        broken.sample(train[:2])
    path = broken.save(tmp_path / "nan.pt")  # a valid file (checksum) holding NaN weights
    with pytest.raises(CheckpointError, match=f"{path}.*NaN"):
        EchoScene.load(path)


# ------------------------------------------------------------------------------------------- arguments
def test_sampling_and_resampling_arguments(fitted, train):
    graphs = train[:2]
    with pytest.raises(ValueError, match="`batch_size` must be at least 1"):
        fitted.sample(graphs, batch_size=0)
    with pytest.raises(ValueError, match="`num_steps` must be at most 1000"):
        fitted.sample(graphs, num_steps=5000)
    with pytest.raises(ValueError, match="`num_steps`"):
        fitted.sample(graphs, num_steps=2.5)
    with pytest.raises(ValueError, match="`seed`"):
        fitted.sample(graphs, seed=-1)
    with pytest.raises(ValueError, match="sequence of Scene"):
        fitted.sample(iter(graphs))
    with pytest.raises(ValueError, match=r"`graphs\[0\]` must be a graphdiff.data.scenes.Scene"):
        fitted.sample([{"room_type": "bedroom"}])
    before = fitted.sample(graphs[:1])
    k = int(np.flatnonzero(np.isin(graphs[0].triples[:, 1], [1, 2]))[0])
    edited = [edits.flip_relation(graphs[0], k)]
    with pytest.raises(ValueError, match=r"`free\[0\]` holds node id 999"):
        fitted.resample(before, edited, free=[[999]])
    with pytest.raises(ValueError, match="`free` must hold one list"):
        fitted.resample(before, edited, free=[[1], [2]])
    with pytest.raises(ValueError, match="`mode`"):
        fitted.resample(before, edited, mode="some")
    other_room = [edits.flip_relation(train[2], int(np.flatnonzero(np.isin(train[2].triples[:, 1], [1, 2]))[0]))]
    with pytest.raises(ValueError, match="diningroom.*bedroom"):
        fitted.resample(before, other_room)


def test_edit_arguments_refuse_non_integral_values():
    sc = S.generate_scenes(1, seed=0)[0]
    with pytest.raises(ValueError, match="`index`"):
        edits.flip_relation(sc, 2.5)
    with pytest.raises(ValueError, match="`cls`"):
        edits.add_node(sc, 3.7)
    with pytest.raises(ValueError, match="predicate"):
        edits.set_relation(sc, 0, 1.5, 1)


@pytest.mark.parametrize("bad_id", [-1, 5])
def test_triplet_graph_conv_refuses_node_ids_outside_the_graph(bad_id):
    x, attr = torch.randn(3, 4), torch.randn(2, 2)
    ei = torch.tensor([[0, bad_id], [1, 2]])
    with pytest.raises(ValueError, match="edge_index"):
        TripletGraphConv(4, 2)(x, ei, attr)
    with pytest.raises(ValueError, match="edge_index"):
        TripletGCN(4, 2, num_layers=2)(x, ei, attr)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
@pytest.mark.parametrize("device, message", [("cuda", "no CUDA"), ("banana", "not a valid torch device")])
def test_devices_are_checked_before_any_work(train, saved, device, message):
    with pytest.raises(ValueError, match=f"`device`.*{message}|{message}"):
        EchoScene(device=device, **TINY).fit(train)
    with pytest.raises(ValueError, match="device"):
        EchoScene.load(saved, device=device)


def test_shape_branch_on_scenes_without_shapes_says_what_to_do(train):
    no_shapes = [s.copy() for s in train]
    for s in no_shapes:
        s.shape_variant = np.full(s.num_nodes, -1)
    with pytest.raises(ValueError, match="shape=False"):
        EchoScene(steps=1, **TINY).fit(no_shapes)
    EchoScene(steps=1, **{**TINY, "shape": False}).fit(no_shapes)


def test_data_layer_knobs_refuse_non_integral_and_non_finite_values():
    with pytest.raises(ValueError, match="`num_scenes`"):
        S.generate_scenes(2.5)
    with pytest.raises(ValueError, match="`seed`"):
        S.generate_scenes(2, seed=-1)
    boxes = np.array([[1, 1, 1, 0, 0, -1.0, 0], [1, 1, 1, 0, 0, np.nan, 0]])
    with pytest.raises(ValueError, match="NaN"):
        S.label_relations(boxes)
