"""Shared pieces of the ERASE estimator and the baselines: the arguments of ``fit``, the linear probe, accuracy.

Model selection follows the protocol discussion of `shared/papers/erase.md` (sections 1.5 and 4): the selection score
is the accuracy on the validation nodes against the labels the user *has* -- the noisy ones -- unless clean validation
labels are passed explicitly (``y_val_clean=``). Extra ``monitor`` sets (e.g. the test nodes of a benchmark) are only
recorded in ``history_``; they never influence training or selection, and they may not contain training nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor

from graphdiff.data.validation import check_edge_index, check_features, check_int, check_labels, check_mask

__all__ = ["FitInputs", "prepare_inputs", "linear_probe", "accuracy", "use_sparse_features"]

#: Monitor names whose history keys (``<name>_acc``, ``<name>_acc_direct``) would overwrite the validation scores.
RESERVED_MONITOR_NAMES = ("val",)


@dataclass
class FitInputs:
    x: Tensor
    edge_index: Tensor
    num_nodes: int
    num_classes: int
    y_noisy: Tensor
    train_mask: Tensor
    val_idx: Tensor | None
    y_val: Tensor | None  # labels used for selection (noisy unless clean were given)
    val_labels: str  # "noisy" | "clean" | "none"
    y_val_noisy: Tensor | None
    monitors: dict[str, tuple[Tensor, Tensor]] = field(default_factory=dict)

    @property
    def train_idx(self) -> Tensor:
        return self.train_mask.nonzero().flatten()


def _labels_for(idx: Tensor, labels, num_nodes: int, num_classes: int, name: str, device) -> Tensor:
    """Labels of the nodes ``idx`` from a full-length (``num_nodes``) or subset-length vector."""
    labels = check_labels(labels, num_classes=num_classes, name=name)
    if labels.numel() == num_nodes:
        return labels.to(device)[idx]
    if labels.numel() == idx.numel():
        return labels.to(device)
    raise ValueError(
        f"`{name}` has {labels.numel()} entries; expected one per node ({num_nodes}) or one per selected node "
        f"({idx.numel()})"
    )


def _first_ids(mask: Tensor, limit: int = 5) -> str:
    ids = mask.nonzero().flatten()[:limit].tolist()
    return ", ".join(str(i) for i in ids) + (", ..." if int(mask.sum()) > limit else "")


def prepare_inputs(
    data,
    y_noisy,
    train_mask,
    val_mask=None,
    y_val_clean=None,
    monitor=None,
    num_classes: int | None = None,
    device="cpu",
    sparse_features: bool = False,
) -> FitInputs:
    """Validate the arguments of ``fit`` (see :meth:`graphdiff.erase.ERASE.fit`) and move them to ``device``."""
    if getattr(data, "edge_index", None) is None or getattr(data, "x", None) is None:
        raise ValueError("`data` must carry node features `x` and `edge_index`")
    num_nodes = int(data.num_nodes)
    edge_index = check_edge_index(data.edge_index, num_nodes, name="data.edge_index").to(device)
    x = data.x.to_dense() if isinstance(data.x, Tensor) and data.x.is_sparse else data.x
    x = check_features(x, name="data.x", num_nodes=num_nodes).float()
    source = "`num_classes`"
    if num_classes is None:
        num_classes = getattr(data, "num_classes", None)
        source = "`data.num_classes`"
    if isinstance(num_classes, Tensor) and num_classes.numel() == 1:
        num_classes = num_classes.item()
    num_classes = check_int(num_classes, "num_classes", allow_none=True)
    y_noisy = check_labels(y_noisy, num_classes=num_classes, name="y_noisy", length=num_nodes)
    if num_classes is None:
        num_classes = int(y_noisy.max()) + 1
        source = "max(y_noisy) + 1"
    if num_classes < 2:
        raise ValueError(f"node classification needs at least 2 classes, got num_classes={num_classes} ({source})")
    train_mask = check_mask(train_mask, num_nodes, name="train_mask").to(device)
    y_noisy = y_noisy.to(device)
    n_train = int(train_mask.sum())
    if n_train < num_classes:
        raise ValueError(
            f"`train_mask` selects {n_train} node(s), fewer than the {num_classes} classes ({source}): every class "
            f"needs at least one training node. Pass a boolean mask with one entry per node ({num_nodes}) or an "
            "int64 tensor of training node ids"
        )
    counts = torch.bincount(y_noisy[train_mask], minlength=num_classes)
    empty = (counts == 0).nonzero().flatten()
    if empty.numel():
        raise ValueError(
            f"class {int(empty[0])} has no training node under `y_noisy[train_mask]` "
            f"({empty.numel()} empty class(es)); every class needs at least one training node"
        )
    val_idx = y_val = y_val_noisy = None
    val_labels = "none"
    if val_mask is not None:
        val_mask = check_mask(val_mask, num_nodes, name="val_mask").to(device)
        overlap = val_mask & train_mask
        if bool(overlap.any()):
            raise ValueError(
                f"`val_mask` and `train_mask` share {int(overlap.sum())} node(s) (first: {_first_ids(overlap)}); "
                "they must be disjoint"
            )
        if not bool(val_mask.any()):
            raise ValueError("`val_mask` selects no node")
        val_idx = val_mask.nonzero().flatten()
        y_val_noisy = y_noisy[val_idx]
        if y_val_clean is not None:
            y_val = _labels_for(val_idx, y_val_clean, num_nodes, num_classes, "y_val_clean", device)
            val_labels = "clean"
        else:
            y_val = y_val_noisy
            val_labels = "noisy"
    elif y_val_clean is not None:
        raise ValueError("`y_val_clean` was given without `val_mask`")
    monitors: dict[str, tuple[Tensor, Tensor]] = {}
    if monitor is not None and not isinstance(monitor, dict):
        raise ValueError(f"`monitor` must be a dict {{name: (mask, labels)}}, got {type(monitor).__name__}")
    for name, pair in (monitor or {}).items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"`monitor` keys must be non-empty strings (history keys `<name>_acc`), got {name!r}")
        if name in RESERVED_MONITOR_NAMES:
            raise ValueError(
                f"`monitor[{name!r}]`: the name is reserved (its history keys would overwrite the validation "
                "scores); choose another, e.g. 'val_clean'"
            )
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"`monitor[{name!r}]` must be a (mask, labels) pair")
        mask = check_mask(pair[0], num_nodes, name=f"monitor[{name!r}] mask").to(device)
        if not bool(mask.any()):
            raise ValueError(f"`monitor[{name!r}]` mask selects no node (its accuracy would be undefined)")
        overlap = mask & train_mask
        if bool(overlap.any()):
            raise ValueError(
                f"`monitor[{name!r}]` mask shares {int(overlap.sum())} node(s) with `train_mask` (first: "
                f"{_first_ids(overlap)}); a monitored accuracy must not count training nodes -- pass "
                f"`mask & ~train_mask`"
            )
        idx = mask.nonzero().flatten()
        monitors[name] = (idx, _labels_for(idx, pair[1], num_nodes, num_classes, f"monitor[{name!r}] labels", device))
    x = x.to(device)
    if sparse_features:
        x = x.to_sparse().coalesce()
    return FitInputs(
        x, edge_index, num_nodes, num_classes, y_noisy, train_mask, val_idx, y_val, val_labels, y_val_noisy, monitors
    )


def use_sparse_features(data, option) -> bool:
    """Resolve a ``sparse_features`` option: ``"auto"`` means at most 10% of the feature entries are non-zero."""
    if option != "auto":
        return bool(option)
    x = getattr(data, "x", None)
    if not isinstance(x, Tensor) or x.is_sparse or x.numel() == 0:
        return False
    return float((x != 0).float().mean()) <= 0.1


def accuracy(pred: Tensor, idx: Tensor, labels: Tensor) -> float:
    """Fraction of the nodes ``idx`` whose prediction equals ``labels`` (one per node of ``idx``)."""
    return float((pred[idx] == labels).float().mean())


def linear_probe(
    z: Tensor,
    fit_idx: Tensor,
    fit_labels: Tensor,
    C: float = 1.0,
    max_iter: int = 1000,
    row_norms: Tensor | None = None,
) -> Tensor:
    """The paper's evaluation: multinomial logistic regression (lbfgs) on the L2-normalised embeddings of the nodes
    ``fit_idx`` with labels ``fit_labels``; returns the predicted class of every node.

    Only the fitted rows are copied (to float64, for scikit-learn); the prediction of all ``N`` nodes is the
    decision function computed on ``z`` itself in its own precision, ``(z @ coef.T) / |z| + intercept``, instead of a
    normalised float64 copy of all embeddings. ``row_norms`` (the L2 norms of the rows of ``z``) may be passed when
    the caller has them.
    """
    z = z.detach()
    if row_norms is None:
        row_norms = torch.linalg.vector_norm(z, dim=1)
    # scikit-learn's ``normalize`` leaves zero rows at zero: any positive divisor does the same
    inv_norms = torch.where(row_norms > 0, row_norms, torch.ones_like(row_norms)).reciprocal()
    probe = fit_probe(z[fit_idx], inv_norms[fit_idx], fit_labels, C=C, max_iter=max_iter)
    return probe_predict(probe, z, inv_norms)


def fit_probe(z_fit: Tensor, inv_norms_fit: Tensor, labels: Tensor, C: float = 1.0, max_iter: int = 1000) -> dict:
    """The probe of :func:`linear_probe` fitted on rows ``z_fit`` (with their inverse L2 norms): ``{"coef",
    "intercept", "classes"}`` tensors, or ``{"constant": class}`` when the labels hold one class only."""
    from sklearn.linear_model import LogisticRegression

    labels = labels.cpu().numpy()
    classes = np.unique(labels)
    if classes.size < 2:  # one class only: logistic regression is undefined, the prediction is that class
        return {"constant": int(classes[0])}
    feats = (z_fit.double() * inv_norms_fit.double().unsqueeze(1)).cpu().numpy()
    clf = LogisticRegression(C=C, max_iter=max_iter)
    clf.fit(feats, labels)
    return {
        "coef": torch.as_tensor(clf.coef_, dtype=z_fit.dtype, device=z_fit.device),
        "intercept": torch.as_tensor(clf.intercept_, dtype=z_fit.dtype, device=z_fit.device),
        "classes": torch.as_tensor(clf.classes_, dtype=torch.long, device=z_fit.device),
    }


def probe_predict(probe: dict, z: Tensor, inv_norms: Tensor) -> Tensor:
    """Classes the probe of :func:`fit_probe` predicts for the rows of ``z`` (with their inverse L2 norms), in the
    precision of ``z``: ``(z @ coef.T) / |z| + intercept``, no normalised copy."""
    if "constant" in probe:
        return torch.full((z.size(0),), probe["constant"], dtype=torch.long, device=z.device)
    coef = probe["coef"]
    scores = torch.addcmul(probe["intercept"], z @ coef.T, inv_norms.unsqueeze(1))
    if coef.size(0) == 1:  # two classes: one decision function, positive for classes_[1]
        index = (scores[:, 0] > 0).long()
    else:
        index = scores.argmax(dim=1)
    return probe["classes"][index]
