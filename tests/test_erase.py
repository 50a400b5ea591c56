"""ERASE: encoder, pseudo-labels, estimator, baselines and input validation (shared/papers/erase.md section 5)."""

import copy

import pytest
import torch
import torch.nn.functional as F
from sklearn.exceptions import NotFittedError
from torch_geometric.data import Data

from graphdiff.data import noise, synthetic
from graphdiff.erase import (
    ERASE,
    GAT,
    GCE,
    GCN,
    PRESETS,
    ERASEEncoder,
    PseudoLabeler,
    class_prototypes,
    generalized_cross_entropy,
    get_preset,
    semantic_scores,
    structural_denoise,
)
from graphdiff.erase.encoder import sparse_dropout
from graphdiff.nn.propagation import lazy_propagation, normalized_adjacency


@pytest.fixture(scope="module")
def sbm():
    return synthetic.contextual_sbm(
        num_nodes=300,
        num_classes=3,
        avg_degree=8,
        homophily=0.85,
        num_features=16,
        feature_signal=1.5,
        num_train_per_class=10,
        num_val_per_class=15,
        seed=1,
    )


@pytest.fixture(scope="module")
def noisy_sbm(sbm):
    mask = sbm.train_mask | sbm.val_mask
    return noise.pair_noise(sbm.y, 0.3, num_classes=3, mask=mask, seed=0).y_noisy


# ------------------------------------------------------------------------------------------------ encoder
def test_encoder_reference_shape_and_parameter_count():
    enc = ERASEEncoder(1433)  # Cora's feature dimension
    assert sum(p.numel() for p in enc.parameters()) == 500_224  # the reference model's count


def test_encoder_output_nonnegative_l1_bounded(sbm):
    for conv in ("gat", "gcn"):
        torch.manual_seed(0)
        enc = ERASEEncoder(sbm.num_features, 16, 32, heads=4, conv=conv)
        for mode in (enc.train, enc.eval):
            mode()
            z = enc(sbm.x, sbm.edge_index)
            assert z.shape == (sbm.num_nodes, 32)
            assert (z >= 0).all()
            assert (z.abs().sum(dim=1) <= 1 + 1e-6).all()


def test_encoder_dropout_on_input_only(sbm):
    torch.manual_seed(0)
    enc = ERASEEncoder(sbm.num_features, 16, 32, heads=4, dropout=0.0)
    enc.train()
    a = enc(sbm.x, sbm.edge_index)
    enc.eval()
    b = enc(sbm.x, sbm.edge_index)
    assert torch.allclose(a, b)  # no dropout inside the network: train == eval when input dropout is 0
    enc_drop = ERASEEncoder(sbm.num_features, 16, 32, heads=4, dropout=0.5)
    enc_drop.train()
    assert not torch.allclose(enc_drop(sbm.x, sbm.edge_index), enc_drop(sbm.x, sbm.edge_index))


def test_sparse_input_matches_dense_and_reset_parameters(sbm):
    torch.manual_seed(0)
    enc = ERASEEncoder(sbm.num_features, 16, 32, heads=4).eval()
    x = sbm.x.clone()
    x[x.abs() < 0.5] = 0.0
    assert torch.allclose(enc(x, sbm.edge_index), enc(x.to_sparse(), sbm.edge_index), atol=1e-6)
    before = copy.deepcopy(enc.state_dict())
    enc.reset_parameters()
    assert any(not torch.equal(before[k], v) for k, v in enc.state_dict().items())


def test_sparse_dropout_keeps_pattern_and_scales():
    x = torch.tensor([[0.0, 2.0], [4.0, 0.0]]).to_sparse()
    torch.manual_seed(0)
    out = sparse_dropout(x, 0.5, training=True).to_dense()
    assert set(out.flatten().tolist()) <= {0.0, 4.0, 8.0}
    assert torch.equal(sparse_dropout(x, 0.5, training=False).to_dense(), x.to_dense())


def test_gat_encoder_equals_gatconv_layers(sbm):
    """The encoder's sparse-product GAT path computes exactly what PyG's GATConv layers compute."""
    torch.manual_seed(0)
    enc = ERASEEncoder(sbm.num_features, 16, 32, heads=4, dropout=0.0).eval()
    x = sbm.x.float()
    h = F.normalize(F.leaky_relu(enc.conv1(x, sbm.edge_index), negative_slope=0.01), p=1.0, dim=1)
    expected = F.relu(F.normalize(enc.conv2(h, sbm.edge_index), p=1.0, dim=1))
    assert torch.allclose(enc(x, sbm.edge_index), expected, atol=1e-6)


# ------------------------------------------------------------------------------------------- pseudo-labels
def _path_graph():
    # 0-1-2-3 path plus an isolated node 4 and a node 5 linked to 3; train = {0, 1, 4}
    ei = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 5], [1, 0, 2, 1, 3, 2, 5, 3]])
    y = torch.tensor([0, 1, 1, 0, 2, 2])
    train = torch.tensor([True, True, False, False, True, False])
    return ei, y, train


def test_structural_denoise_touches_only_train_train_edges():
    ei, y, train = _path_graph()
    ys = structural_denoise(ei, y, train, 3, alpha=0.6, steps=5, num_nodes=6)
    assert torch.equal(ys[~train], torch.zeros(3, 3))  # non-training rows stay zero
    # node 4 has no training neighbour: its one-hot row shrinks by alpha^T and keeps its argmax
    assert torch.allclose(ys[4], torch.tensor([0.0, 0.0, 0.6**5]))
    # nodes 0 and 1 exchange mass along their train-train edge only; the walk with A D^-1 preserves mass
    assert torch.allclose(ys[[0, 1]].sum(), torch.tensor(2.0))
    # identity cases
    assert torch.allclose(
        structural_denoise(ei, y, train, 3, alpha=1.0, steps=5, num_nodes=6)[train], torch.eye(3)[y[train]]
    )
    assert torch.allclose(
        structural_denoise(ei, y, train, 3, alpha=0.3, steps=0, num_nodes=6)[train], torch.eye(3)[y[train]]
    )


def test_column_normalised_walk_is_mass_preserving():
    ei, _, _ = _path_graph()
    adj = normalized_adjacency(ei, 6, norm="col").to_dense()
    col = adj.sum(dim=0)
    assert torch.allclose(col[[0, 1, 2, 3, 5]], torch.ones(5))
    assert col[4] == 0
    y = torch.rand(6, 3)
    y[4] = 0
    out = lazy_propagation(normalized_adjacency(ei, 6, norm="col"), y, 0.4, 7)
    assert torch.allclose(out.sum(dim=0), y.sum(dim=0), atol=1e-6)


def test_semantic_scores_rows_prototypes_and_beta_one():
    g = torch.Generator().manual_seed(0)
    z = torch.rand(8, 5, generator=g)
    ys = torch.zeros(8, 3)
    train = torch.tensor([True, True, True, True, False, False, False, False])
    ys[0, 0], ys[1, 0], ys[2, 1], ys[3, 2] = 1.0, 0.8, 1.2, 0.5
    s = semantic_scores(z, ys, train, beta=0.6)
    assert torch.allclose(s.sum(dim=1), torch.ones(8))
    mu = class_prototypes(z[:4], ys[:4].argmax(dim=1), 3)
    assert torch.allclose(mu[0], z[:2].mean(dim=0))
    assert torch.allclose(mu[2], z[3])
    assert torch.allclose(semantic_scores(z, ys, train, beta=1.0), torch.softmax(ys, dim=1))
    assert torch.equal(class_prototypes(z[:2], torch.tensor([0, 0]), 3)[1:], torch.zeros(2, 5))  # empty classes


def test_pseudo_labeler_no_gradient_and_shapes(sbm, noisy_sbm):
    lab = PseudoLabeler(sbm.edge_index, noisy_sbm, sbm.train_mask, 3, alpha=0.6, beta=0.6, steps=3)
    z = torch.rand(sbm.num_nodes, 8, requires_grad=True)
    labels = lab(z)
    assert labels.shape == (sbm.num_nodes,) and labels.dtype == torch.long
    assert not labels.requires_grad and not lab.scores(z).requires_grad
    assert lab.denoised_train_labels.numel() == int(sbm.train_mask.sum())


def test_only_masked_labels_are_corrupted(sbm):
    mask = sbm.train_mask | sbm.val_mask
    for draw in (
        noise.uniform_noise(sbm.y, 0.5, mask=mask, seed=3),
        noise.pair_noise(sbm.y, 0.5, mask=mask, seed=3, target="cyclic"),
    ):
        assert torch.equal(draw.y_noisy[~mask], sbm.y[~mask])
        assert bool((draw.y_noisy[mask] != sbm.y[mask]).any())


# ---------------------------------------------------------------------------------------------- estimator
def _small_erase(**kw):
    params = dict(hidden_channels=16, out_channels=32, heads=4, epochs=12, patience=None, verbose=False, seed=0)
    params.update(kw)
    return ERASE(**params)


def test_erase_fit_predict_embed_history(sbm, noisy_sbm):
    data = Data(x=sbm.x, edge_index=sbm.edge_index, num_nodes=sbm.num_nodes)  # no `y`: it is never needed
    model = _small_erase().fit(data, noisy_sbm, sbm.train_mask, sbm.val_mask, monitor={"test": (sbm.test_mask, sbm.y)})
    assert len(model.history_) == 12
    assert model.validation_labels_ == "noisy"
    for rec in model.history_:  # selection score = accuracy against the noisy validation labels
        assert rec["val_acc"] == rec["val_acc_noisy"]
        assert "test_acc" in rec and "test_acc_direct" in rec
    best = model.best_epoch_
    assert model.history_[best]["val_acc"] == max(r["val_acc"] for r in model.history_)
    assert model.best_val_acc_ == model.history_[best]["val_acc"]  # the score fits are compared on
    pred = model.predict()
    assert pred.shape == (sbm.num_nodes,)
    test_acc = float((pred[sbm.test_mask] == sbm.y[sbm.test_mask]).float().mean())
    assert abs(test_acc - model.history_[best]["test_acc"]) < 1e-6
    assert model.predict("direct").shape == (sbm.num_nodes,)
    z = model.embed()
    assert z.shape == (sbm.num_nodes, 32) and (z >= 0).all()
    assert test_acc > 0.6  # 3 well-separated classes; chance is 1/3


def test_erase_clean_validation_only_when_passed(sbm, noisy_sbm):
    model = _small_erase(epochs=4).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask, y_val_clean=sbm.y)
    assert model.validation_labels_ == "clean"
    val = sbm.val_mask
    assert bool((noisy_sbm[val] != sbm.y[val]).any())  # the two label sets differ on validation nodes
    pred = model.predict()
    best = model.history_[model.best_epoch_]
    assert abs(best["val_acc"] - float((pred[val] == sbm.y[val]).float().mean())) < 1e-6
    assert abs(best["val_acc_noisy"] - float((pred[val] == noisy_sbm[val]).float().mean())) < 1e-6
    # per-validation-node clean labels are accepted as well
    _small_erase(epochs=2).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask, y_val_clean=sbm.y[val])


def test_erase_deterministic_and_global_rng_untouched(sbm, noisy_sbm):
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = _small_erase(epochs=5, seed=7).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert torch.equal(torch.get_rng_state(), state)
    b = _small_erase(epochs=5, seed=7).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert [r["loss"] for r in a.history_] == [r["loss"] for r in b.history_]


def test_erase_direct_selection_probe_every_and_no_val(sbm, noisy_sbm):
    m = _small_erase(epochs=6, selection="direct").fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert m.predict().shape == (sbm.num_nodes,)
    assert all("val_acc_probe" not in r for r in m.history_)
    m = _small_erase(epochs=7, probe_every=3).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert [r["epoch"] for r in m.history_ if "val_acc_probe" in r] == [0, 3, 6]
    assert m.best_epoch_ in (0, 3, 6)
    m = _small_erase(epochs=3).fit(sbm, noisy_sbm, sbm.train_mask)  # no validation: the last epoch is kept
    assert m.best_epoch_ == 2 and m.validation_labels_ == "none" and m.best_val_acc_ is None


def test_erase_gcn_encoder_and_patience(sbm, noisy_sbm):
    """Early stopping: the run ends exactly ``patience`` epochs after the last strict improvement of the score."""
    patience, epochs = 3, 40
    m = _small_erase(encoder="gcn", epochs=epochs, patience=patience).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    scores = [r["val_acc"] for r in m.history_]
    improvements = [e for e in range(len(scores)) if scores[e] > max(scores[:e], default=-1.0)]
    assert m.best_epoch_ == improvements[-1]  # the first epoch reaching the maximum
    assert len(scores) < epochs  # it did stop early (this schedule improves for a few epochs only)
    assert len(scores) == m.best_epoch_ + patience + 1
    # without patience the same fit runs every epoch and its first epochs are identical
    full = _small_erase(encoder="gcn", epochs=len(scores) + 2, patience=None).fit(
        sbm, noisy_sbm, sbm.train_mask, sbm.val_mask
    )
    assert len(full.history_) == len(scores) + 2
    assert [r["loss"] for r in full.history_[: len(scores)]] == [r["loss"] for r in m.history_]


def test_presets():
    assert get_preset("citeseer")["eps"] == 0.4 and get_preset("CiteSeer")["beta"] == 0.7
    assert get_preset("ogbn-arxiv")["steps"] == 50
    m = ERASE.from_preset("pubmed", epochs=3)
    assert (m.gam2, m.steps, m.epochs) == (3.0, 3, 3)
    get_preset("cora")["eps"] = 99.0  # a copy: the table is not modified
    assert PRESETS["cora"]["eps"] == 0.05


@pytest.mark.parametrize("dataset", ["amazon_photo", "coauthor_cs", "cora_ml"])
def test_dataset_without_preset_is_an_error_unless_a_fallback_is_named(dataset):
    with pytest.raises(ValueError, match="no reference ERASE preset") as err:
        ERASE.from_preset(dataset)
    for name in PRESETS:  # the message lists the presets and says how to take Cora's explicitly
        assert repr(name) in str(err.value)
    assert "fallback='cora'" in str(err.value)
    with pytest.raises(ValueError, match="no reference ERASE preset"):
        get_preset(dataset)
    assert get_preset(dataset, fallback="cora") == PRESETS["cora"]
    m = ERASE.from_preset(dataset, fallback="CiteSeer", epochs=7)
    assert (m.eps, m.beta, m.epochs) == (0.4, 0.7, 7)
    with pytest.raises(ValueError, match="`fallback`"):
        ERASE.from_preset(dataset, fallback="amazon_computers")
    with pytest.raises(ValueError, match="`dataset`"):
        get_preset(None)


# ----------------------------------------------------------------------------------------------- baselines
@pytest.mark.parametrize("cls", [GCN, GAT, GCE])
def test_baselines_fit_and_select_on_noisy_validation(cls, sbm, noisy_sbm):
    m = cls(epochs=30, verbose=False).fit(
        sbm, noisy_sbm, sbm.train_mask, sbm.val_mask, monitor={"test": (sbm.test_mask, sbm.y)}
    )
    assert m.validation_labels_ == "noisy" and len(m.history_) == 30
    assert m.history_[m.best_epoch_]["val_acc"] == max(r["val_acc"] for r in m.history_)
    pred = m.predict()
    acc = float((pred[sbm.test_mask] == sbm.y[sbm.test_mask]).float().mean())
    assert abs(acc - m.history_[m.best_epoch_]["test_acc"]) < 1e-6
    assert acc > 0.5


def test_baseline_signatures_and_defaults_resolved_in_fit(sbm, noisy_sbm):
    assert "heads" not in GCN().get_params() and "loss" not in GCN().get_params()
    assert {"heads", "q", "model"} <= set(GCE().get_params()) and "q" not in GAT().get_params()
    with pytest.raises(TypeError):
        GCN(heads=4)  # not a GCN parameter (it used to be accepted and ignored)
    gcn = GCN(epochs=2, verbose=False)
    gcn.fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert gcn.get_params()["hidden_channels"] is None and gcn.lr is None  # None is never rewritten
    assert gcn.model_.conv1.lin.weight.shape[0] == 64 and gcn.model_.dropout == 0.5
    gat = GAT(epochs=2, verbose=False).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert (gat.model_.conv1.heads, gat.model_.conv1.out_channels, gat.model_.dropout) == (8, 8, 0.6)
    gce = GCE(model="gat", heads=2, hidden_channels=4, epochs=2, verbose=False)
    gce.fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert (gce.model_.conv1.heads, gce.model_.conv1.out_channels) == (2, 4)


def test_gce_loss_formula():
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.0, 1.0, 0.0]])
    target = torch.tensor([0, 2])
    p = torch.softmax(logits, dim=1)[[0, 1], [0, 2]]
    assert torch.allclose(generalized_cross_entropy(logits, target, 0.7), ((1 - p**0.7) / 0.7).mean())
    assert torch.allclose(generalized_cross_entropy(logits, target, 1.0), (1 - p).mean())  # MAE limit
    ce = torch.nn.functional.cross_entropy(logits, target)
    assert torch.allclose(generalized_cross_entropy(logits, target, 1e-4), ce, atol=1e-3)  # CE limit
    with pytest.raises(ValueError, match="q"):
        generalized_cross_entropy(logits, target, 0.0)


# ------------------------------------------------------------------------------------------------ bad input
def test_bad_input_errors(sbm, noisy_sbm):
    m = _small_erase(epochs=1)
    y_missing = noisy_sbm.clone()
    y_missing[sbm.train_mask & (y_missing == 2)] = 0
    with pytest.raises(ValueError, match="class 2 has no training node"):
        m.fit(sbm, y_missing, sbm.train_mask, sbm.val_mask)
    few = torch.zeros(sbm.num_nodes, dtype=torch.bool)
    few[:2] = True
    with pytest.raises(ValueError, match="fewer than the 3 classes"):
        m.fit(sbm, noisy_sbm, few, sbm.val_mask)
    with pytest.raises(ValueError, match="y_noisy"):
        m.fit(sbm, noisy_sbm[:-1], sbm.train_mask, sbm.val_mask)
    with pytest.raises(ValueError, match="train_mask"):
        m.fit(sbm, noisy_sbm, sbm.train_mask[:-1], sbm.val_mask)
    with pytest.raises(ValueError, match="disjoint"):
        m.fit(sbm, noisy_sbm, sbm.train_mask, sbm.train_mask)
    with pytest.raises(ValueError, match="y_val_clean"):
        m.fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask, y_val_clean=sbm.y[:5])
    with pytest.raises(ValueError, match="y_val_clean"):
        m.fit(sbm, noisy_sbm, sbm.train_mask, y_val_clean=sbm.y)
    bad_x = Data(x=torch.full((sbm.num_nodes, 4), float("nan")), edge_index=sbm.edge_index)
    with pytest.raises(ValueError, match="NaN"):
        m.fit(bad_x, noisy_sbm, sbm.train_mask)
    with pytest.raises(ValueError, match="GCN|class 2"):
        GCN(verbose=False).fit(sbm, y_missing, sbm.train_mask)
    with pytest.raises(NotFittedError):
        ERASE().predict()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"eps": 0.0}, "eps"),
        ({"alpha": 1.5}, "alpha"),
        ({"selection": "best"}, "selection"),
        ({"encoder": "mlp"}, "encoder"),
        ({"steps": -1}, "steps"),
        ({"dropout": 1.0}, "dropout"),
        ({"patience": 0}, "patience"),
        ({"device": "nonsense"}, "device"),
        ({"probe_every": 0}, "probe_every"),
        ({"heads": 5}, "heads"),  # must divide hidden_channels=16
    ],
)
def test_bad_hyperparameters(kwargs, match, sbm, noisy_sbm):
    model = _small_erase(**kwargs)  # stored as given
    assert all(model.get_params()[k] is v for k, v in kwargs.items())
    with pytest.raises(ValueError, match=f"`{match}`"):
        model.fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)


def test_history_alias_warns_and_fitted_state_only_after_fit(sbm, noisy_sbm):
    m = _small_erase(epochs=2)
    assert not [k for k in vars(m) if k.endswith("_")]  # no fitted state before fit
    assert not hasattr(m, "history_")
    m.fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    with pytest.warns(DeprecationWarning, match="history_"):
        assert m.history is m.history_
    g = GCN(epochs=2, verbose=False).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    with pytest.warns(DeprecationWarning, match="history_"):
        assert g.history is g.history_


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_erase_on_cuda(sbm, noisy_sbm):
    m = _small_erase(epochs=3, device="cuda").fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert m.embed().is_cuda


# ------------------------------------------------------------------------ bad input at the boundary (issue 18)
@pytest.mark.parametrize("name", ["train_mask", "val_mask"])
@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8])
def test_uint8_masks_are_refused_with_the_reason(name, dtype, sbm, noisy_sbm):
    """A 0/1 uint8 mask used to be read as the node ids {0, 1}: validation on 2 nodes. Now the user is told why."""
    masks = {"train_mask": sbm.train_mask, "val_mask": sbm.val_mask}
    masks[name] = masks[name].to(dtype)
    for model in (GCN(epochs=1, verbose=False), _small_erase(epochs=1)):
        with pytest.raises(ValueError, match=f"`{name}` has dtype torch.{str(dtype).split('.')[-1]}.*ambiguous"):
            model.fit(sbm, noisy_sbm, masks["train_mask"], masks["val_mask"])
    # int64 node ids and boolean masks mean the same nodes
    ids = {k: v.nonzero().flatten() for k, v in (("train_mask", sbm.train_mask), ("val_mask", sbm.val_mask))}
    a = GCN(epochs=3, verbose=False).fit(sbm, noisy_sbm, ids["train_mask"], ids["val_mask"])
    b = GCN(epochs=3, verbose=False).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert a.history_ == b.history_


def test_monitor_sets_must_be_disjoint_from_training_and_non_empty(sbm, noisy_sbm):
    train, test = sbm.train_mask, sbm.test_mask
    for model in (GCN(epochs=1, verbose=False), _small_erase(epochs=1)):
        with pytest.raises(ValueError, match=r"`monitor\['test'\]` mask shares 30 node\(s\) with `train_mask`"):
            model.fit(sbm, noisy_sbm, train, sbm.val_mask, monitor={"test": (test | train, sbm.y)})
        with pytest.raises(ValueError, match=r"`monitor\['test'\]` mask selects no node"):
            model.fit(sbm, noisy_sbm, train, monitor={"test": (torch.zeros_like(test), sbm.y)})
        with pytest.raises(ValueError, match="reserved"):  # its keys would overwrite the validation scores
            model.fit(sbm, noisy_sbm, train, sbm.val_mask, monitor={"val": (sbm.val_mask, sbm.y)})
        with pytest.raises(ValueError, match="`monitor` must be a dict"):
            model.fit(sbm, noisy_sbm, train, monitor=[(test, sbm.y)])
        with pytest.raises(ValueError, match="keys must be non-empty strings"):
            model.fit(sbm, noisy_sbm, train, monitor={3: (test, sbm.y)})
    # a monitor may overlap the validation nodes (clean-label validation accuracy) and has no NaN in the history
    m = GCN(epochs=3, verbose=False).fit(
        sbm, noisy_sbm, train, sbm.val_mask, monitor={"val_clean": (sbm.val_mask, sbm.y), "test": (test, sbm.y)}
    )
    assert all(0.0 <= r[k] <= 1.0 for r in m.history_ for k in ("val_clean_acc", "test_acc"))


@pytest.mark.parametrize(
    "params,match",
    [
        ({"gam1": float("nan")}, "`gam1` must be a number, got NaN"),
        ({"gam2": float("inf")}, "`gam2` must be finite"),
        ({"lr": float("inf")}, "`lr` must be finite"),
        ({"lr": float("nan")}, "`lr` must be a number"),
        ({"eps": float("nan")}, "`eps`"),
        ({"beta": float("nan")}, "`beta`"),
        ({"weight_decay": -1.0}, "`weight_decay`"),
        ({"epochs": 2.5}, "`epochs` must be an integer"),
        ({"seed": "abc"}, "`seed` must be an integer"),
        ({"seed": -1}, "`seed` must be at least 0"),
        ({"amsgrad": "yes"}, "`amsgrad`"),
        ({"sparse_features": 1}, "`sparse_features`"),
        ({"verbose": None}, "`verbose`"),
        ({"device": "banana"}, "`device` is not a valid torch device"),
    ],
)
def test_erase_nan_and_bad_knobs_are_refused_in_fit_naming_the_parameter(params, match, sbm, noisy_sbm):
    with pytest.raises(ValueError, match=match):
        _small_erase(**params).fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)


@pytest.mark.parametrize("cls", [GCN, GAT, GCE])
@pytest.mark.parametrize(
    "params,match",
    [
        ({"seed": "abc"}, "`seed` must be an integer, got str 'abc'"),
        ({"lr": float("inf")}, "`lr` must be finite"),
        ({"dropout": float("nan")}, "`dropout`"),
        ({"hidden_channels": 0}, "`hidden_channels` must be at least 1"),
        ({"epochs": 0}, "`epochs`"),
        ({"device": "banana"}, "`device` is not a valid torch device"),
    ],
)
def test_baseline_bad_knobs_are_refused_in_fit(cls, params, match, sbm, noisy_sbm):
    model = cls(verbose=False, **params)  # accepted as given
    with pytest.raises(ValueError, match=match):
        model.fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)


def test_gce_exponent_and_model_are_checked(sbm, noisy_sbm):
    for q, match in ((0.0, "`q` must be > 0.0"), (1.5, "`q` must be <= 1.0"), (float("nan"), "`q` must be a number")):
        with pytest.raises(ValueError, match=match):
            GCE(q=q, verbose=False).fit(sbm, noisy_sbm, sbm.train_mask)
    with pytest.raises(ValueError, match="`model` must be one of 'gcn', 'gat'"):
        GCE(model="mlp", verbose=False).fit(sbm, noisy_sbm, sbm.train_mask)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("cls", [ERASE, GCN])
def test_cuda_on_a_machine_without_it_is_a_clear_error_from_fit(cls, sbm, noisy_sbm):
    model = cls(device="cuda", epochs=1, verbose=False)  # accepted as given
    with pytest.raises(ValueError, match="`device`='cuda', but"):
        model.fit(sbm, noisy_sbm, sbm.train_mask)


def test_train_mask_with_fewer_nodes_than_classes_says_what_to_pass(sbm, noisy_sbm):
    few = torch.zeros(sbm.num_nodes, dtype=torch.bool)
    few[:2] = True
    with pytest.raises(ValueError, match=r"selects 2 node\(s\), fewer than the 3 classes \(`data.num_classes`\)"):
        GCN(epochs=1, verbose=False).fit(sbm, noisy_sbm, few)
    with pytest.raises(ValueError, match="boolean mask with one entry per node"):
        _small_erase(epochs=1).fit(sbm, noisy_sbm, few, num_classes=3)
    with pytest.raises(ValueError, match="`num_classes` must be an integer"):
        GCN(epochs=1, verbose=False).fit(sbm, noisy_sbm, sbm.train_mask, num_classes=3.5)


def test_gce_loss_bad_targets_and_logits():
    logits = torch.zeros(3, 4)
    with pytest.raises(ValueError, match="`target` contains class id 7, outside \\[0, num_classes=4\\)"):
        generalized_cross_entropy(logits, torch.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="`target` contains a negative class id"):
        generalized_cross_entropy(logits, torch.tensor([0, -1, 1]))
    with pytest.raises(ValueError, match="`target` has 2 entries"):
        generalized_cross_entropy(logits, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="`target` must hold integer class ids"):
        generalized_cross_entropy(logits, torch.tensor([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match="`logits` must be a 2-D floating tensor"):
        generalized_cross_entropy(torch.zeros(3, dtype=torch.long), torch.tensor([0, 1, 1]))
    for q in (float("nan"), -0.5, "0.7"):
        with pytest.raises(ValueError, match="`q`"):
            generalized_cross_entropy(logits, torch.tensor([0, 1, 1]), q)


def test_prototypes_semantic_scores_and_encoder_bad_input():
    z = torch.rand(3, 2)
    for labels, match in (
        (torch.tensor([0, 5, 1]), "class id 5, outside \\[0, num_classes=3\\)"),
        (torch.tensor([0, -1, 1]), "negative class id"),
        (torch.tensor([0, 1]), "has 2 entries"),
    ):
        with pytest.raises(ValueError, match=match):
            class_prototypes(z, labels, 3)
    with pytest.raises(ValueError, match="`z` must be 2-D"):
        class_prototypes(torch.rand(3), torch.tensor([0, 1, 1]), 3)
    with pytest.raises(ValueError, match="`z` contains NaN"):
        class_prototypes(torch.full((3, 2), float("nan")), torch.tensor([0, 1, 1]), 3)
    ys, train = torch.eye(3), torch.tensor([True, True, False])
    with pytest.raises(ValueError, match="`z` has 4 rows but the graph has 3 nodes"):
        semantic_scores(torch.rand(4, 2), ys, train, 0.5)
    with pytest.raises(ValueError, match="`beta`"):
        semantic_scores(z, ys, train, float("nan"))
    with pytest.raises(ValueError, match="`train_mask`"):
        semantic_scores(z, ys, train[:2], 0.5)
    ei = torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(ValueError, match="`num_classes`"):
        structural_denoise(ei, torch.tensor([0, 1, 1]), train, 2.5, 0.5, 1)
    with pytest.raises(ValueError, match="`steps` must be an integer"):
        PseudoLabeler(ei, torch.tensor([0, 1, 1]), train, 2, 0.5, 0.5, 1.5)
    enc = ERASEEncoder(4, 8, 8, heads=2)
    with pytest.raises(ValueError, match="in_channels=4"):
        enc(torch.rand(3, 5), ei)
    with pytest.raises(ValueError, match="`heads`"):
        ERASEEncoder(4, 8, 8, heads=3)
    with pytest.raises(ValueError, match="`conv`"):
        ERASEEncoder(4, conv="mlp")


def test_predict_kind_and_unfitted_methods(sbm, noisy_sbm):
    for call in (lambda m: m.predict(), lambda m: m.embed(), lambda m: m.predict("direct")):
        with pytest.raises(NotFittedError):
            call(_small_erase())
    with pytest.raises(NotFittedError):
        GCN().predict_logits()
    m = _small_erase(epochs=2, selection="direct").fit(sbm, noisy_sbm, sbm.train_mask, sbm.val_mask)
    assert torch.equal(m.predict(), m.predict("direct"))
    assert m.predict("probe").shape == (sbm.num_nodes,)  # fitted once at the selected epoch
    for kind in ("", "Probe", 1):  # "" used to fall back silently to the selection kind
        with pytest.raises(ValueError, match="`kind` must be one of 'probe', 'direct'"):
            m.predict(kind)
