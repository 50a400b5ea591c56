"""graphdiff.scene: training lowers the loss, the echo (on vs off, locality), sampling, edits and clamped
re-sampling, checkpoint resume, and bad input. Tiny settings: every test runs in seconds."""

import copy

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError

from graphdiff.base import torch_seed
from graphdiff.data import scenes as S
from graphdiff.scene import EchoScene, EchoSceneConfig, edits
from graphdiff.scene import train as train_mod
from graphdiff.scene.model import EchoSceneNet

TINY = dict(
    class_dim=8,
    pred_dim=8,
    latent_dim=8,
    gcn_hidden=16,
    proj_dim=8,
    context_dim=8,
    time_dim=16,
    width=32,
    num_blocks=2,
    echo_layers=2,
    shape_echo_layers=1,
    encoder_layers=1,
    shape_dim=8,
    batch_size=8,
    sample_steps=5,
    verbose=False,
)


@pytest.fixture(scope="module")
def scenes():
    return S.generate_scenes(40, seed=0)


@pytest.fixture(scope="module")
def fitted(scenes):
    return EchoScene(steps=40, seed=0, **TINY).fit(scenes)


def test_short_training_lowers_the_loss(scenes):
    model = EchoScene(steps=120, lr=3e-3, seed=1, **TINY).fit(scenes)
    h = np.asarray(model.history_)
    assert len(h) == 120
    assert h[-20:].mean() < 0.8 * h[:20].mean()


def _net(echo, node_input="latent"):
    config = EchoSceneConfig(
        class_dim=8,
        pred_dim=8,
        latent_dim=8,
        encoder_layers=1,
        gcn_hidden=16,
        echo_layers=2,
        shape_echo_layers=1,
        proj_dim=8,
        context_dim=8,
        time_dim=16,
        width=32,
        num_blocks=2,
        norm="layer",
        shape_dim=8,
        echo=echo,
        echo_node_input=node_input,
        shape=True,
        layout_predicates=None,
        shape_predicates=None,
    )
    with torch_seed(0):
        net = EchoSceneNet(config).eval()
    for branch in (net.layout, net.shape):  # the output layer starts at zero: give it weights
        torch.nn.init.normal_(branch.denoiser.out.weight)
    return net


def _chain(n):
    """A chain 0 - 1 - ... - n-1 of 'left' edges in one bedroom, no _scene_ node."""
    ei = torch.stack([torch.arange(n - 1), torch.arange(1, n)])
    et = torch.full((n - 1,), S.PREDICATE_TO_ID["left"])
    cls = torch.full((n,), S.CLASS_TO_ID["chair"])
    return cls, torch.zeros(n, dtype=torch.long), ei, et


@pytest.mark.parametrize("node_input", ["latent", "class_emb"])
def test_echo_on_reads_the_neighbours_noisy_state_echo_off_does_not(node_input):
    cls, room, ei, et = _chain(4)
    x = torch.randn(4, 8)
    t = torch.full((4,), 500)
    x2 = x.clone()
    x2[1] += 1.0  # move node 1's noisy state
    with torch.no_grad():
        for echo, expect_change in ((True, True), (False, False)):
            net = _net(echo, node_input)
            v = net.node_input(cls, room, ei, et)
            e1 = net.layout(x, t, v, ei, et)
            e2 = net.layout(x2, t, v, ei, et)
            changed = not torch.allclose(e1[0], e2[0], atol=1e-6)
            assert changed == expect_change  # node 0 sees node 1's state only through the echo


def test_echo_locality_one_call():
    """A denoiser call changes no output more than L hops (L = echo layers = 2) from the perturbed node."""
    net = _net(True)
    cls, room, ei, et = _chain(6)
    x, t = torch.randn(6, 8), torch.full((6,), 300)
    x2 = x.clone()
    x2[0] += 2.0
    with torch.no_grad():
        v = net.node_input(cls, room, ei, et)
        diff = (net.layout(x, t, v, ei, et) - net.layout(x2, t, v, ei, et)).abs().amax(dim=1)
    assert (diff[:3] > 1e-7).all()  # nodes 0, 1, 2 are within 2 hops
    assert (diff[3:] == 0).all()


def test_sampling_shapes_and_determinism(fitted, scenes):
    graphs = S.generate_scenes(6, seed=11)
    a = fitted.sample(graphs, seed=3)
    b = fitted.sample(graphs, seed=3)
    for x, y, g in zip(a, b, graphs):
        assert x.boxes.shape == g.boxes.shape
        np.testing.assert_array_equal(x.boxes, y.boxes)
        np.testing.assert_array_equal(x.triples, g.triples)
        assert x.extra["shape_code"].shape == (g.num_nodes, 8)
        grids = fitted.decode_shapes(x)
        assert grids.shape == (g.num_nodes, 16, 16, 16) and not grids[~g.object_mask].any()
        assert np.isfinite(x.boxes).all()
    # a different seed gives different rooms
    c = fitted.sample(graphs, seed=4)
    assert not np.allclose(a[0].boxes, c[0].boxes)


def test_echo_off_model_trains_and_samples(scenes):
    model = EchoScene(echo=False, steps=10, **TINY).fit(scenes)
    out = model.sample(S.generate_scenes(3, seed=2), seed=0)
    assert all(np.isfinite(s.boxes).all() for s in out)


def test_edit_flip_changes_the_right_pair():
    sc = S.generate_scenes(3, seed=5)[0]
    t = sc.triples
    k = int(np.flatnonzero(t[:, 1] == S.PREDICATE_TO_ID["left"])[0])
    s, _, o = t[k]
    new = edits.flip_relation(sc, k)
    nt = new.triples
    assert [s, S.PREDICATE_TO_ID["right"], o] in nt.tolist()
    assert [s, S.PREDICATE_TO_ID["left"], o] not in nt.tolist()
    # every other triple is untouched
    others = [tuple(x) for i, x in enumerate(t.tolist()) if i != k]
    assert sorted(others) == sorted(tuple(x) for x in nt[:-1].tolist())
    assert new.extra["edited_nodes"].tolist() == [s]
    assert new.extra["changed_triples"].tolist() == [len(nt) - 1]


def test_edit_add_node_keeps_ids_and_adds_edges():
    sc = S.generate_scenes(3, seed=5)[0]
    bed = int(np.flatnonzero(sc.classes == S.CLASS_TO_ID["bed"])[0])
    new = edits.add_node(sc, "nightstand", [("left", bed), ("close by", bed)])
    n_old = sc.num_nodes
    assert new.num_nodes == n_old + 1
    i = new.extra["edited_nodes"][0]
    assert new.classes[i] == S.CLASS_TO_ID["nightstand"] and new.classes[-1] == S.SCENE_ID
    assert [i, S.PREDICATE_TO_ID["left"], bed] in new.triples.tolist()
    assert [i, 0, new.num_nodes - 1] in new.triples.tolist()
    old_index = new.extra["old_index"]
    np.testing.assert_array_equal(new.classes[old_index >= 0], sc.classes[old_index[old_index >= 0]])
    with pytest.raises(ValueError, match="not an object class"):
        edits.add_node(sc, "spaceship")
    with pytest.raises(ValueError, match="not a node"):
        edits.add_node(sc, "chair", [("left", 99)])
    with pytest.raises(ValueError, match="unknown predicate"):
        edits.set_relation(sc, 0, "inside of", 1)


def test_resample_clamp_keeps_untouched_nodes(fitted):
    graphs = S.generate_scenes(4, seed=21)
    before = fitted.sample(graphs, seed=0)
    edited = []
    for g in graphs:
        k = int(np.flatnonzero(np.isin(g.triples[:, 1], [1, 2, 3, 4]))[0])
        edited.append(edits.flip_relation(g, k))
    clamped = fitted.resample(before, edited, mode="clamp", seed=1)
    full = fitted.resample(before, edited, mode="all", seed=1)
    for old, new, ed, fl in zip(before, clamped, edited, full):
        free = ed.extra["edited_nodes"]
        keep = np.ones(old.num_nodes, bool)
        keep[free] = False
        keep[old.classes == S.SCENE_ID] = False
        np.testing.assert_allclose(new.boxes[keep], old.boxes[keep], atol=1e-5)
        assert not np.allclose(new.boxes[free], old.boxes[free])
        np.testing.assert_allclose(new.extra["shape_code"][keep], old.extra["shape_code"][keep], atol=1e-5)
        assert not np.allclose(fl.boxes[keep], old.boxes[keep])  # "all" re-samples every node
    # an added node: old nodes stay, the new one gets a box
    bed_room = graphs[0]
    added = [edits.add_node(bed_room, "chair", [("left", 0)])]
    out = fitted.resample(before[:1], added, mode="clamp")[0]
    old_index = added[0].extra["old_index"]
    keep = (old_index >= 0) & (added[0].classes != S.SCENE_ID)
    np.testing.assert_allclose(out.boxes[keep], before[0].boxes[old_index[keep]], atol=1e-5)
    with pytest.raises(ValueError, match="mode"):
        fitted.resample(before, edited, mode="some")


def test_checkpoint_resume_gives_the_same_next_steps(scenes, tmp_path, monkeypatch):
    saved = {}
    real_save = train_mod.save_checkpoint

    def recording_save(path, state):
        saved[state["step"]] = copy.deepcopy(state)
        real_save(path, state)

    monkeypatch.setattr(train_mod, "save_checkpoint", recording_save)
    ckpt = tmp_path / "ckpt.pt"
    full = EchoScene(steps=6, checkpoint_path=ckpt, checkpoint_every=3, seed=2, **TINY).fit(scenes)
    assert sorted(saved) == [3, 6]
    # pretend the run was interrupted after step 3
    real_save(ckpt, saved[3])
    resumed = EchoScene(steps=6, checkpoint_path=ckpt, checkpoint_every=3, seed=2, **TINY).fit(scenes, resume=True)
    assert resumed.history_[:3] == full.history_[:3]
    np.testing.assert_allclose(resumed.history_[3:], full.history_[3:], rtol=1e-6)
    for (k, a), b in zip(full.net_.state_dict().items(), resumed.net_.state_dict().values()):
        torch.testing.assert_close(a, b, msg=k)
    # save / load round trip samples the same rooms
    path = full.save(tmp_path / "model.pt")
    loaded = EchoScene.load(path)
    g = S.generate_scenes(2, seed=9)
    np.testing.assert_allclose(loaded.sample(g, seed=1)[1].boxes, full.sample(g, seed=1)[1].boxes, atol=1e-6)


def test_bad_input(fitted, scenes):
    with pytest.raises(NotFittedError):
        EchoScene(**TINY).sample(scenes[:1])
    with pytest.raises(ValueError, match="echo_node_input"):
        EchoScene(echo_node_input="clip").fit(scenes)
    with pytest.raises(ValueError, match="`steps`"):
        EchoScene(steps=0).fit(scenes)
    with pytest.raises(ValueError, match="empty"):
        EchoScene(**TINY).fit([])
    g = scenes[0].copy()
    g.classes[0] = 50
    with pytest.raises(ValueError, match="class id 50"):
        fitted.sample([g])
    g = scenes[0].copy()
    g.triples[0, 1] = 16
    with pytest.raises(ValueError, match="predicate"):
        fitted.sample([g])
    g = scenes[0].copy()
    g.triples[0, 0] = g.num_nodes
    with pytest.raises(ValueError, match="out of range"):
        fitted.sample([g])
    empty = S.Scene(
        "bedroom", np.zeros(0, np.int64), np.zeros((0, 7)), np.zeros((0, 3), np.int64), np.zeros(0, np.int64)
    )
    with pytest.raises(ValueError, match="empty"):
        fitted.sample([empty])
    with pytest.raises(ValueError, match="empty"):
        fitted.sample([])


def test_demo_runs_on_synthetic_data(monkeypatch, tmp_path, capsys):
    from graphdiff.scene.demo import run_demo

    monkeypatch.delenv("GRAPHDIFF_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    summary = run_demo(verbose=True, train_seconds=2.0)
    out = capsys.readouterr().out
    assert "synthetic" in out and "relation accuracy" in out
    assert summary["source"] == "synthfront" and summary["scenes"] == 30
    assert 0.0 <= summary["acc_mean"] <= 1.0
    assert (tmp_path / "graphdiff" / "scene_demo_synthfront.pt").exists()
    # the second run loads the cached model instead of training
    run_demo(verbose=True, train_seconds=2.0)
    assert "loaded the demo model" in capsys.readouterr().out


def test_flip_with_drop_conflicts_frees_the_subject_on_that_axis():
    sc = S.generate_scenes(6, seed=5)[2]
    t = sc.triples
    lr = np.isin(t[:, 1], [1, 2])
    k = int(np.flatnonzero(lr)[0])
    s, _, o = t[k]
    new = edits.flip_relation(sc, k, drop_conflicts=True)
    nt = new.triples
    touching = ((nt[:, 0] == s) | (nt[:, 2] == s)) & np.isin(nt[:, 1], [1, 2])
    assert nt[touching].tolist() == [[s, S.PREDICATE_TO_ID["right"] if t[k, 1] == 1 else 1, o]]
    # relations of other groups and of other nodes are kept
    other = ~(((t[:, 0] == s) | (t[:, 2] == s)) & lr)
    assert sorted(map(tuple, t[other].tolist())) == sorted(map(tuple, nt[:-1].tolist()))


def test_renamed_names_still_work_with_a_deprecation_warning(fitted):
    import graphdiff.scene.model as model_mod
    from graphdiff.data.scenes import NUM_PREDICATES
    from graphdiff.nn.embedding import timestep_embedding

    with pytest.warns(DeprecationWarning, match="history_"):
        assert fitted.loss_history_ == fitted.history_
    with pytest.warns(DeprecationWarning, match="graphdiff.nn.embedding.timestep_embedding"):
        assert model_mod.timestep_embedding is timestep_embedding
    with pytest.warns(DeprecationWarning, match="NUM_PREDICATES"):
        assert model_mod.NUM_PREDICATES == NUM_PREDICATES == 16
    with pytest.warns(DeprecationWarning, match="EchoSceneConfig"):
        net = EchoSceneNet(dict(width=16, num_blocks=1, shape=False))
    assert net.config == EchoSceneConfig(width=16, num_blocks=1, shape=False)
    with pytest.warns(DeprecationWarning, match="config"):
        assert net.cfg["width"] == 16


def test_diffusers_schedulers_in_sample_and_resample(fitted):
    diffusers = pytest.importorskip("diffusers")
    graphs = S.generate_scenes(3, seed=31)
    own = fitted.sample(graphs, num_steps=8, seed=2)
    # a diffusers DDIM configured as the library's gives the same rooms (its schedule is replaced per branch)
    inst = diffusers.DDIMScheduler(clip_sample=True, set_alpha_to_one=True, steps_offset=0, timestep_spacing="leading")
    for spec in (inst, "diffusers_ddim"):
        theirs = fitted.sample(graphs, num_steps=8, seed=2, sampler=spec)
        for a, b in zip(own, theirs):
            np.testing.assert_allclose(a.extra["box_normalized"], b.extra["box_normalized"], atol=1e-4)
            np.testing.assert_allclose(a.extra["shape_code"], b.extra["shape_code"], atol=1e-3)
    assert inst.config.beta_schedule == "linear" and inst.num_inference_steps is None  # the instance is not used
    dpm = fitted.sample(graphs, num_steps=8, seed=2, sampler="dpm_solver++")
    assert all(np.abs(r.extra["box_normalized"]).max() <= 1.0 + 1e-5 for r in dpm)  # thresholded to [-1, 1]
    assert not np.allclose(dpm[0].boxes, own[0].boxes)
    euler = EchoScene(**{**fitted.get_params(), "sampler": "euler"})
    assert euler.get_params()["sampler"] == "euler"
    rooms = fitted.sample(graphs, num_steps=8, seed=2, sampler="euler")
    assert all(np.isfinite(r.boxes).all() and r.boxes.shape == g.boxes.shape for r, g in zip(rooms, graphs))
    # clamped re-sampling with a multistep solver keeps the untouched nodes
    edited = [edits.flip_relation(g, int(np.flatnonzero(np.isin(g.triples[:, 1], [1, 2]))[0])) for g in graphs]
    after = fitted.resample(own, edited, mode="clamp", seed=3, sampler="dpm_solver++")
    for old, new, ed in zip(own, after, edited):
        keep = np.ones(old.num_nodes, bool)
        keep[ed.extra["edited_nodes"]] = False
        keep[old.classes == S.SCENE_ID] = False
        np.testing.assert_allclose(new.boxes[keep], old.boxes[keep], atol=1e-5)
    with pytest.raises(ValueError, match="`sampler`"):
        fitted.sample(graphs, sampler="heun")
    with pytest.raises(ValueError, match="`sampler`"):
        fitted.sample(graphs, sampler=object())
    with pytest.raises(ValueError, match="`sampler`"):
        EchoScene(steps=1, sampler="pndm", **TINY).fit(graphs)
