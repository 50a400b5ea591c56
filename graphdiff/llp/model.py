"""BP-LLP: learning from label proportions by belief propagation and embedding refinement.

Havaldar et al., "Learning from Label Proportions: Bootstrapping Supervised Learners via Belief Propagation",
ICLR 2024 (https://arxiv.org/abs/2310.08056), Algorithm 1 (Sections 3.1-3.3). Each round r = 1..R:

1. build the kNN similarity graph on the current covariates :math:`z^{(r)}` (raw features in round 1);
2. run loopy BP on the Gibbs model
   :math:`\\log p(y) = -\\lambda_s \\sum_{E} s_{ij}(y_i - y_j)^2 - \\lambda_b \\sum_S (\\sum_{j\\in S} y_j - k_S)^2`
   for the marginals :math:`P(y_i = 1)`;
3. turn them into pseudo-labels (hard ``1[p >= threshold]`` as in the paper, or soft);
4. train a fresh MLP on the pseudo-labels (optionally plus the aggregate-embedding bag loss
   :math:`\\mathrm{BCE}(\\alpha_S, g(\\tfrac{1}{|S|}\\sum_{i\\in S} e_i))` weighted by ``aggregate_lambda``);
5. its 128-d embeddings become :math:`z^{(r+1)}`.

The MLP of the last round is the final classifier. Library defaults differ from the reference code
(https://github.com/google-deepmind/llp_bp) where it fails: ``bag_factor="exact"`` with ``lam_s = lam_b = 1`` (the
pairwise expansion at the reference's 10 / 10 oscillates; ``tests/test_llp_bp.py`` pins it), and
``pseudo_labels="topk"`` (per bag, the ``k_S`` most probable members are positive: on Bank, thresholding at 0.5
turned 11.6% positives into 0.65% positive pseudo-labels; ``docs/label_proportions.md``).
:meth:`BPLabelProportions.from_preset` ``("paper")`` restores the reference setting.
"""

from __future__ import annotations

import time

import torch
from scipy.stats import t as student_t
from torch import nn
from tqdm.auto import tqdm

from graphdiff.base import deprecated_alias, torch_seed
from graphdiff.data.validation import check_bool, check_choice, check_float, check_int
from graphdiff.llp.bag_factors import BAG_FACTORS
from graphdiff.llp.base import DEFAULT_HIDDEN, LLPEstimator, bag_batches
from graphdiff.llp.bp import llp_marginals
from graphdiff.llp.selection import bag_folds, bag_proportion_loss, calibrated_bag_losses
from graphdiff.nn.knn_graph import KNN_METHODS, edge_weights, knn_graph
from graphdiff.nn.mlp import MLP, PAPER_HIDDEN, fit_mlp, init_output_bias, predict_proba, prior_logit, train_model

__all__ = ["BPLabelProportions", "PRESETS", "LEARNERS"]

#: Final learners of :class:`BPLabelProportions`.
LEARNERS = ("auto", "combined", "pseudo")
#: A BP candidate replaces the DLLP fallback only if its held-out bag losses are lower in a one-sided paired
#: Student-t test at this level (over the m held-out bags, m - 1 degrees of freedom: with few bags, i.e. large
#: bags, the bar is high and DLLP is kept).
SELECT_LEVEL = 0.975
#: ``early_stopping`` values of :class:`BPLabelProportions` (see its docstring).
EARLY_STOPPING = (True, False, "in_sample", "tested", "argmin")

PRESETS = {
    # the defaults of the reference code's train.py (https://github.com/google-deepmind/llp_bp)
    "paper": dict(
        bag_factor="pairwise",
        lam_s=10.0,
        lam_b=10.0,
        k=5,
        metric="cosine",
        weighting="matern",
        length_scale=1.0,
        damping=0.5,
        max_iter=100,
        n_rounds=2,
        threshold=0.5,
        pseudo_labels="hard",
        learner="pseudo",
        hidden=PAPER_HIDDEN,
        epochs=100,
        patience=4,
        batch_size=1024,
        lr=1e-3,
    ),
    "default": dict(),
}


class BPLabelProportions(LLPEstimator):
    """LLP by belief propagation (BP-LLP), scikit-learn style: ``fit(X, bags, counts)``, ``predict_proba(X)``.

    Each of ``n_rounds`` rounds builds a kNN graph (raw features in round 1, the previous MLP's embeddings later),
    runs BP on the Gibbs model of the module docstring for the marginals, turns them into pseudo-labels and trains
    a fresh MLP on them; the last MLP is the classifier.

    Parameters
    ----------
    bag_factor : {"exact", "gaussian", "pairwise"}, default "exact"
        Bag factors of ``graphdiff.llp.bag_factors``: one exact factor per bag, its Gaussian approximation, or
        the paper's pairwise (Ising) expansion.
    lam_s : float, default 0.3
        Weight of the similarity term, finite and non-negative.
    lam_b : float, default 1.0
        Weight of the bag term, finite and non-negative.
    hard : bool, default False
        Make each bag count a hard constraint (``exact`` / ``gaussian`` only).
    k : int, default 5
        Neighbours per instance of the kNN graph (:func:`graphdiff.nn.knn_graph.knn_graph`).
    metric : {"cosine", "euclidean"}, default "cosine"
        kNN metric.
    weighting : {"auto", "matern", "unit", "median_matern"}, default "auto"
        kNN edge weights. ``"auto"``: with ``learner="auto"`` both ``"matern"`` (the reference) and ``"unit"`` are
        candidates (Matérn weights on one-hot columns carry a degree bias, ``docs/label_proportions.md``);
        otherwise ``"matern"``.
    length_scale : float, default 1.0
        Matérn length scale.
    knn_method : {"auto", "exact", "blocked", "hnsw", "ivf"}, default "auto"
        kNN search (:func:`graphdiff.nn.knn_graph.knn_search`: faiss, exact up to 50,000 rows, IVF above with
        its recall measured on sampled rows and widened to at least 0.9).
    count_filter : bool, default False
        Opt-in reference quirk: keep a kNN edge only if its source's bag has count <= 1.
    damping : float, default 0.5
        BP message damping, in ``[0, 1)``.
    max_iter : int, default 100
        BP iteration cap.
    tol : float, default 1e-4
        BP convergence threshold on the largest message change.
    pseudo_labels : {"topk", "hard", "soft"}, default "topk"
        ``"topk"``: per bag, the ``k_S`` members with the largest marginals are positive; ``"hard"``:
        ``1[p >= threshold]`` (the reference); ``"soft"``: the marginals.
    threshold : float, default 0.5
        Threshold of ``"hard"`` pseudo-labels (and of rows in no bag under ``"topk"``), in ``(0, 1)``.
    n_rounds : int, default 1
        BP / MLP rounds (the reference runs 2; the ``"paper"`` preset).
    learner : {"auto", "combined", "pseudo"}, default "auto"
        The final learner. ``"pseudo"``: BCE on the pseudo-labels (the paper). ``"combined"`` (beyond the paper):
        over batches of whole bags, the DLLP bag-proportion loss plus the BCE on the members' pseudo-labels,
        starting from the prior. ``"auto"`` (needs ``validation="bags"`` and ``val_fraction > 0``, else it is
        ``"combined"``): cross-fitted selection over ``selection_folds`` folds of the bags. In each fold the
        bag-proportion loss alone (DLLP) and ``"combined"`` with each candidate weighting are trained on the
        other folds' bags (BP seeing only their counts) and scored by their per-bag losses on the fold's bags
        (``graphdiff.llp.selection.calibrated_bag_losses``, paired against DLLP). A BP candidate is taken only
        if it beats DLLP in a one-sided paired t-test over all ``m`` bags at level ``SELECT_LEVEL`` (0.975);
        the winner is then refitted on every bag (for ``n_epochs_`` epochs, see ``early_stopping``). No instance
        label is used.
    aggregate_lambda : float or None, default None
        Weight of the aggregate-embedding bag loss added to the pseudo-label BCE (``None``: plain BCE); only with
        ``learner="pseudo"`` (the combined learner has its own bag loss).
    hidden, embed_layer, epochs, batch_size, lr, weight_decay, patience, min_delta
        The MLP and its training, as in :class:`DLLP` (the embedding of layer ``embed_layer`` feeds the next
        round's graph).
    validation : {"bags", "instances", "none"}, default "bags"
        ``"bags"`` with ``learner="auto"``: held-out bags choose the learner and its epoch count (above and
        ``early_stopping``); with another learner, early stopping of every round's MLP as in :class:`DLLP`.
    val_fraction : float, default 0.1
        Fraction of the bags held out for early stopping with ``validation="bags"`` and a learner other than
        ``"auto"`` (BP still uses every bag); ``learner="auto"`` holds out every bag once instead
        (``selection_folds``) and only needs ``val_fraction > 0``.
    early_stopping : {True, False, "in_sample", "tested", "argmin"}, default True
        With the cross-fitted selection (``learner="auto"``): every candidate's fold models record their
        held-out bags' losses after each epoch, and each candidate gets an epoch count from them
        (``selection_epochs_``): the count ``E`` minimising the sum of the losses over all ``m`` bags, kept only
        if stopping beats all ``epochs`` in the selection's one-sided paired t-test (level ``SELECT_LEVEL``),
        else all ``epochs``. ``True``: the test is cross-fitted, each bag's loss taken at the count that
        minimises the *other* folds' bags (so no bag tests the count it chose), and the candidates are compared
        after all ``epochs``, only the winner refitted for its count (``n_epochs_``). ``"in_sample"``: the same,
        the test at ``E`` on the bags that chose it (optimistic with few bags). ``"tested"``: the in-sample test,
        each candidate compared at its count. ``"argmin"``: compared at, and refitted for, ``E`` untested.
        ``False``: all ``epochs``. No instance label is used (beyond the paper, whose code early-stops on
        labelled validation AUC); ``"in_sample"``, ``"tested"`` and ``"argmin"`` are the rules tried before
        (docs/label_proportions.md).
    selection_folds : int, default 3
        Folds of the cross-fitted selection of ``learner="auto"`` (at least 2; with fewer bags, one bag per fold).
        Each fold trains DLLP and every candidate once, so the selection costs about ``selection_folds`` times
        the training of the three candidates.
    standardize : bool, default True
        Standardise the MLP's input with the training mean / std (the round-1 graph uses ``X`` as given, as the
        reference does).
    seed : int, default 0
        Seed of the initialisations, batch orders, validation split and approximate kNN.
    device : str or torch.device, default "cpu"
        Where kNN, BP and training run.
    verbose : bool, default True
        Progress bars.

    Attributes
    ----------
    model_ : graphdiff.nn.mlp.MLP
        The MLP of the last round.
    history_ : list of dict
        One training record per round, each ``{"loss": [...], "score": [...], "best_epoch": int}`` as
        :attr:`DLLP.history_ <graphdiff.llp.DLLP>`. (``histories_`` is a deprecated alias.)
    bp_results_ : list of BPResult
        BP marginals and convergence diagnostics of every round.
    marginals_ : Tensor ``(N,)``
        BP marginals ``P(y_i = 1)`` of the last round (float64).
    pseudo_labels_ : Tensor ``(N,)``
        Pseudo-labels the last MLP was trained on.
    converged_ : bool
        Whether BP converged in every round.
    selection_ : dict
        ``learner="auto"``: the paired statistic of every candidate against DLLP (``"dllp"``: 0; ``"bp_matern"``,
        ``"bp_unit"``: mean held-out per-bag loss reduction over its standard error); empty otherwise.
    selected_ : str
        The learner of ``model_``: ``"dllp"`` or ``"bp_<weighting>"``.
    selection_threshold_ : float
        The Student-t quantile a candidate's statistic had to exceed (NaN without selection).
    selection_folds_ : int
        Folds the selection ran (0 without selection).
    selection_epochs_ : dict
        Per candidate (keys as ``selection_``), the epoch count it would be refitted with (and, with
        ``"tested"`` / ``"argmin"``, was compared at); all ``epochs`` with ``early_stopping=False``; empty without
        selection.
    selection_curves_ : dict
        Per candidate, the mean cross-fitted held-out bag loss after each epoch, Tensor ``(epochs,)``.
    n_epochs_ : int or None
        Epochs of the final fit (``None`` without selection: as configured).
    bp_weighting_ : str
        Edge weighting of the BP run in ``bp_results_`` (with ``selected_ == "dllp"``: the weighting of the
        best BP candidate, whose BP then runs on every bag for these diagnostics).
    prior_ : float
        Positive rate of the bags the final model was trained on (the start of its output).
    knn_time_s_, bp_time_s_ : list of float
        Wall time of the kNN graph and of BP per round.
    knn_info_ : list of dict
        The kNN search of every round (:func:`graphdiff.nn.knn_graph.knn_search`): ``method`` and ``recall``
        (sampled recall@k against exact search for an approximate index, 1.0 for exact search).
    mean_, scale_ : Tensor ``(n_features_in_,)``
        Standardisation of the input.
    n_features_in_ : int
        Number of feature columns seen in ``fit``.

    Examples
    --------
    >>> from graphdiff.data.bags import random_bags
    >>> from graphdiff.data.synthetic import logistic_data
    >>> from graphdiff.llp import BPLabelProportions
    >>> X, y = logistic_data(400, num_features=4, seed=0)
    >>> bags = random_bags(y, bag_size=8, seed=0)  # only bag counts reach the learner
    >>> est = BPLabelProportions(n_rounds=1, hidden=(16, 8), epochs=5, verbose=False).fit(X, bags)
    >>> est.predict_proba(X[:3]).shape, est.marginals_.shape, len(est.history_)
    ((3, 2), torch.Size([400]), 1)
    """

    histories_ = deprecated_alias("history_")

    def __init__(
        self,
        *,
        bag_factor: str = "exact",
        lam_s: float = 0.3,
        lam_b: float = 1.0,
        hard: bool = False,
        k: int = 5,
        metric: str = "cosine",
        weighting: str = "auto",
        length_scale: float = 1.0,
        knn_method: str = "auto",
        count_filter: bool = False,
        damping: float = 0.5,
        max_iter: int = 100,
        tol: float = 1e-4,
        pseudo_labels: str = "topk",
        threshold: float = 0.5,
        n_rounds: int = 1,
        learner: str = "auto",
        aggregate_lambda: float | None = None,
        selection_folds: int = 3,
        early_stopping: bool | str = True,
        hidden=DEFAULT_HIDDEN,
        embed_layer: int = -2,
        epochs: int = 30,
        batch_size: int = 1024,
        lr: float = 1e-3,
        weight_decay: float = 0.0,
        patience: int = 10,
        min_delta: float = 1e-4,
        validation: str = "bags",
        val_fraction: float = 0.1,
        standardize: bool = True,
        seed: int = 0,
        device="cpu",
        verbose: bool = True,
    ):
        super().__init__(
            hidden=hidden,
            embed_layer=embed_layer,
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            weight_decay=weight_decay,
            patience=patience,
            min_delta=min_delta,
            validation=validation,
            val_fraction=val_fraction,
            standardize=standardize,
            seed=seed,
            device=device,
            verbose=verbose,
        )
        self.bag_factor = bag_factor
        self.lam_s = lam_s
        self.lam_b = lam_b
        self.hard = hard
        self.k = k
        self.metric = metric
        self.weighting = weighting
        self.length_scale = length_scale
        self.knn_method = knn_method
        self.count_filter = count_filter
        self.damping = damping
        self.max_iter = max_iter
        self.tol = tol
        self.pseudo_labels = pseudo_labels
        self.threshold = threshold
        self.n_rounds = n_rounds
        self.learner = learner
        self.aggregate_lambda = aggregate_lambda
        self.selection_folds = selection_folds
        self.early_stopping = early_stopping

    @classmethod
    def from_preset(cls, name: str, **overrides) -> BPLabelProportions:
        """An estimator with the parameters of preset ``name`` (see :data:`PRESETS`), updated by ``overrides``.

        ``"paper"`` is the reference code's setting (pairwise bag factors, lambda 10 / 10, hard 0.5 pseudo-labels,
        2 rounds, the full 5040-1280-320-128-64 MLP for 100 epochs, BCE on the pseudo-labels only);
        ``"default"`` the library defaults.

        Parameters
        ----------
        name : {"paper", "default"}
            The preset.
        **overrides
            Parameters that replace the preset's.

        Returns
        -------
        BPLabelProportions

        Examples
        --------
        >>> from graphdiff.llp import BPLabelProportions
        >>> est = BPLabelProportions.from_preset("paper", epochs=5)
        >>> est.bag_factor, est.lam_b, est.epochs
        ('pairwise', 10.0, 5)
        """
        check_choice(name, "name", tuple(PRESETS))
        return cls(**{**PRESETS[name], **overrides})

    def _check_params(self) -> None:
        super()._check_params()
        check_choice(self.bag_factor, "bag_factor", BAG_FACTORS)
        for name in ("lam_s", "lam_b"):
            value = getattr(self, name)
            if isinstance(value, (int, float)) and value == float("inf"):
                raise ValueError(
                    f"`{name}` must be finite, got inf (for a bag count that must hold exactly, use hard=True)"
                )
            check_float(value, name, minimum=0.0)
        check_bool(self.hard, "hard")
        if self.hard and self.bag_factor == "pairwise":
            raise ValueError("`hard=True` needs bag_factor='exact' or 'gaussian' (the pairwise expansion is soft)")
        check_int(self.k, "k", minimum=1)
        check_choice(self.metric, "metric", ("cosine", "euclidean"))
        check_choice(self.weighting, "weighting", ("auto", "matern", "unit", "median_matern"))
        check_choice(self.learner, "learner", LEARNERS)
        check_float(self.length_scale, "length_scale", minimum=0.0, low_open=True)
        check_choice(self.knn_method, "knn_method", KNN_METHODS + ("kdtree",))
        check_bool(self.count_filter, "count_filter")
        check_float(self.damping, "damping", minimum=0.0, maximum=1.0, high_open=True)
        check_int(self.max_iter, "max_iter", minimum=1)
        check_float(self.tol, "tol", minimum=0.0, low_open=True)
        check_choice(self.pseudo_labels, "pseudo_labels", ("topk", "hard", "soft"))
        check_float(self.threshold, "threshold", minimum=0.0, maximum=1.0, low_open=True, high_open=True)
        check_int(self.n_rounds, "n_rounds", minimum=1)
        check_float(self.aggregate_lambda, "aggregate_lambda", minimum=0.0, allow_none=True)
        check_int(self.selection_folds, "selection_folds", minimum=2)
        if self.early_stopping not in EARLY_STOPPING or not isinstance(self.early_stopping, (bool, str)):
            raise ValueError(f"`early_stopping` must be one of {EARLY_STOPPING}, got {self.early_stopping!r}")

    # ------------------------------------------------------------------------------------------------------
    def fit(self, X, bags, counts=None, *, X_val=None, y_val=None) -> BPLabelProportions:
        """Fit on features and bags; only the bags' positive counts are used, never instance labels.

        Parameters
        ----------
        X : Tensor or ndarray ``(N, d)``
            Finite features of every row (rows in no bag still enter the kNN graph and BP).
        bags : Bags, bag-id vector or sequence of member arrays
            Any form :func:`graphdiff.data.bags.as_bags` accepts: a :class:`~graphdiff.data.bags.Bags`, a length-N
            vector of bag ids (``-1`` = no bag) or one array of member ids per bag.
        counts : array-like of int ``(m,)``, optional
            Positives per bag (required unless ``bags`` is a :class:`~graphdiff.data.bags.Bags`).
        X_val, y_val : optional
            Instance-labelled validation rows, only with ``validation="instances"``.

        Returns
        -------
        self
        """
        self._check_params()
        X, Xs, bags, train_bags, val_bags, score_fn = self._prepare(X, bags, counts, X_val, y_val)
        if int(self.k) >= X.size(0):
            raise ValueError(f"`k`={self.k} needs more than k rows, X has {X.size(0)}")
        dev = self._device()
        Xs = Xs.to(dev)
        weightings = ("matern", "unit") if self.weighting == "auto" else (self.weighting,)
        select = self.learner == "auto" and val_bags is not None and self.validation == "bags"
        learner = "combined" if self.learner == "auto" else self.learner
        if not select:
            weightings = weightings[:1]
        self.selection_ = {}
        graphs = {}  # the round-1 kNN graph depends on X only: one search, shared by every fit of this call
        if select:
            # cross-fitting: every bag is held out once; in each fold DLLP (the fallback) and every BP candidate
            # train all epochs on the other folds' bags (BP sees only their counts), and their per-bag losses on
            # the held-out bags after every epoch are kept, so that the test runs over all m bags and the epoch
            # count of the final fit is chosen from all of them
            names = ["dllp"] + [f"bp_{wt}" for wt in weightings]
            curves = {name: [] for name in names}  # per fold: (epochs, fold's bags) held-out losses
            folds = bag_folds(bags, self.selection_folds, self.seed)
            for f, (fold_train, fold_val) in enumerate(folds):
                Xv = Xs[fold_val.index.to(dev)]
                local = type(fold_val)(torch.arange(fold_val.index.numel()), fold_val.ptr, fold_val.counts, Xv.size(0))

                def recorder(out, Xv=Xv, local=local):
                    def record(model, epoch):
                        p = predict_proba(model, Xv).double().cpu().clamp(1e-12, 1 - 1e-12)
                        out.append(calibrated_bag_losses(torch.log(p) - torch.log1p(-p), local))

                    return record

                desc = f"DLLP (selection fold {f + 1}/{len(folds)})"
                rec = []
                self._fit_combined(Xs, None, fold_train, None, self._round_seed(0), desc, callback=recorder(rec))
                curves["dllp"].append(torch.stack(rec))
                for wt in weightings:
                    rec = []
                    self._fit_bp(
                        X,
                        Xs,
                        bags,
                        fold_train,
                        fold_train,
                        None,
                        wt,
                        learner,
                        dev,
                        graphs=graphs,
                        callback=recorder(rec),
                    )
                    curves[f"bp_{wt}"].append(torch.stack(rec))
            # (epochs, m): every bag's held-out loss after every epoch, the folds side by side
            fold_of = torch.cat([torch.full((c.size(1),), f) for f, c in enumerate(curves["dllp"])])
            curves = {name: torch.cat(c, dim=1) for name, c in curves.items()}
            self.selection_epochs_ = {name: self._stop_epoch(c, fold_of) for name, c in curves.items()}
            self.selection_curves_ = {name: c.mean(1) for name, c in curves.items()}
            # early_stopping=True / "in_sample" compare the candidates after all epochs and stop only the winner: a
            # stop chosen per candidate would change which one wins (an early BP stop beating a full-length DLLP fit)
            per_candidate = self.early_stopping in ("tested", "argmin")
            at = {n: self.selection_epochs_[n] if per_candidate else c.size(0) for n, c in curves.items()}
            base = curves["dllp"][at["dllp"] - 1]
            self.selection_ = {"dllp": 0.0}
            for name in names[1:]:
                # > 0: the candidate explains the held-out bags better than DLLP
                self.selection_[name] = _paired_t(base - curves[name][at[name] - 1])
            self.selection_folds_ = len(folds)
            self.selection_threshold_ = _t_threshold(bags.num_bags)
            best = max(self.selection_, key=self.selection_.get)
            self.selected_ = best if self.selection_[best] > self.selection_threshold_ else "dllp"
            self.n_epochs_ = self.selection_epochs_[self.selected_]
        else:
            self.selected_ = f"bp_{weightings[0]}"
            self.selection_folds_ = 0
            self.selection_threshold_ = float("nan")
            self.selection_epochs_, self.selection_curves_ = {}, {}
            self.n_epochs_ = None  # as configured (early stopping on `score_fn`, or all epochs)
        # the final fit: the selected learner on every bag, for the chosen epochs (with selection) or as configured
        final_bags, final_score = (bags, None) if select else (train_bags, score_fn)
        self.prior_ = float(final_bags.counts.sum()) / float(final_bags.sizes.sum())
        if self.selected_ == "dllp":
            self.model_, hist = self._fit_combined(
                Xs, None, final_bags, None, self._round_seed(0), "DLLP", epochs=self.n_epochs_
            )
            self.history_ = [hist]
            # BP diagnostics: BP of the best candidate's weighting on every bag (its last MLP is not trained)
            wt = max(weightings, key=lambda w: self.selection_[f"bp_{w}"])
            bp_run = self._fit_bp(X, Xs, bags, bags, final_bags, None, wt, learner, dev, graphs=graphs, last=False)
        else:
            wt = self.selected_[3:]
            bp_run = self._fit_bp(
                X, Xs, bags, bags, final_bags, final_score, wt, learner, dev, graphs=graphs, epochs=self.n_epochs_
            )
            self.model_, self.history_ = bp_run["model"], bp_run["history"]
        self.bp_weighting_ = bp_run["weighting"]
        self.bp_results_ = bp_run["bp_results"]
        self.knn_time_s_, self.bp_time_s_, self.knn_info_ = bp_run["knn_time"], bp_run["bp_time"], bp_run["knn_info"]
        self.marginals_ = self.bp_results_[-1].marginals.cpu()
        self.pseudo_labels_ = bp_run["target"].cpu()
        self.converged_ = all(b.converged for b in self.bp_results_)
        return self

    def _stop_epoch(self, curve: torch.Tensor, fold_of: torch.Tensor) -> int:
        """The epoch count of one candidate from its ``(epochs, m)`` cross-fitted held-out bag losses, whose column
        ``b`` is bag ``b``'s loss under the fold model that did not train on it (fold ``fold_of[b]``).

        The count ``E`` minimising the summed losses, kept only if a one-sided paired t-test at ``SELECT_LEVEL``
        (the selection's own test) over all ``m`` bags finds stopping better than all epochs, else all epochs:
        with few (large) bags the minimum of a noisy curve is no evidence. ``early_stopping=True`` cross-fits the
        test: bag ``b`` contributes its loss after all epochs minus its loss at the count minimising the summed
        losses of the bags of the other folds, so a bag never tests the count it helped choose (the in-sample test,
        ``"in_sample"`` / ``"tested"``, compares every bag at ``E`` itself, and the minimum of 30 noisy sums is biased
        low). Neither test sees what the bag loss does not: at large bags a consistent but tiny bag-level gain can
        pass with a worse ranking (docs/label_proportions.md). ``"argmin"``: ``E`` untested. ``False``: all
        epochs."""
        epochs = curve.size(0)
        if self.early_stopping is False:
            return epochs
        best = int(curve.sum(1).argmin())
        if self.early_stopping == "argmin" or best == epochs - 1:
            return best + 1
        if self.early_stopping is True:
            # the count each fold's bags are tested at: the minimum of the other folds' summed curve
            totals = torch.zeros(epochs, int(fold_of.max()) + 1, dtype=curve.dtype).index_add_(1, fold_of, curve)
            other = (totals.sum(1, keepdim=True) - totals).argmin(0)  # (folds,)
            at = other[fold_of]  # (m,)
            stopped = curve.gather(0, at.unsqueeze(0)).squeeze(0)
        else:
            stopped = curve[best]
        # > 0: the bag is explained better after stopping than after all epochs
        return best + 1 if _paired_t(curve[-1] - stopped) > _t_threshold(curve.size(1)) else epochs

    def _fit_bp(
        self,
        X,
        Xs,
        bags,
        bp_bags,
        train_bags,
        score_fn,
        weighting,
        learner,
        dev,
        graphs=None,
        last=True,
        epochs=None,
        callback=None,
    ) -> dict:
        """The ``n_rounds`` BP / MLP rounds with one edge weighting; returns the last model and the diagnostics.

        ``graphs`` (a dict, filled here) keeps the round-1 graph of ``X``, searched once and weighted once per
        weighting, for the other calls of the same ``fit``. ``last=False``: the last round's MLP is not trained
        (BP diagnostics only; ``model`` and the last ``history`` entry are ``None``). ``epochs`` and ``callback``
        (see :func:`~graphdiff.nn.mlp.train_model`) apply to the last round's combined learner."""
        graphs = {} if graphs is None else graphs
        n = X.size(0)
        Z = X.to(dev)  # round 1: the covariates as given (the reference's graph); later rounds: MLP embeddings
        out = dict(weighting=weighting, bp_results=[], history=[], knn_time=[], bp_time=[], knn_info=[])
        rounds = tqdm(range(int(self.n_rounds)), desc="BP-LLP rounds", disable=not self.verbose, leave=False)
        for r in rounds:
            t0 = time.perf_counter()
            if r > 0 and self.metric == "cosine":
                dead = int((Z.abs().sum(1) == 0).sum())
                if dead:
                    raise ValueError(
                        f"round {r + 1}: the MLP embeddings (hidden layer embed_layer={self.embed_layer}) of {dead} "
                        "row(s) are all zero (inactive ReLU units), so their cosine neighbours are undefined; use "
                        "metric='euclidean', wider `hidden` layers or n_rounds=1"
                    )
            if r == 0 and weighting in graphs:
                edge_index, weight, knn_info, search_s = graphs[weighting]
            elif r == 0 and graphs:
                # same neighbours as the cached search, other edge weights
                edge_index, _, knn_info, search_s = next(iter(graphs.values()))
                weight = edge_weights(Z, edge_index, weighting, self.length_scale)
                graphs[weighting] = edge_index, weight, knn_info, search_s
            else:
                edge_index, weight, knn_info = knn_graph(
                    Z,
                    self.k,
                    metric=self.metric,
                    weighting=weighting,
                    length_scale=self.length_scale,
                    method=self.knn_method,
                    seed=self.seed,
                    device=dev,
                    return_info=True,
                )
                search_s = time.perf_counter() - t0
                if r == 0:
                    graphs[weighting] = edge_index, weight, knn_info, search_s
            if self.count_filter:
                bag_of = bp_bags.bag_of().to(dev)
                cnt = bp_bags.counts.to(dev)
                src_count = torch.where(bag_of[edge_index[0]] >= 0, cnt[bag_of[edge_index[0]].clamp_min(0)], 0)
                keep = src_count <= 1
                edge_index, weight = edge_index[:, keep], weight[keep]
            t1 = time.perf_counter()
            res = llp_marginals(
                n,
                edge_index,
                weight,
                bp_bags,
                lam_s=self.lam_s,
                lam_b=self.lam_b,
                bag_factor=self.bag_factor,
                hard=self.hard,
                damping=self.damping,
                max_iter=self.max_iter,
                tol=self.tol,
                device=dev,
                verbose=self.verbose,
            )
            t2 = time.perf_counter()
            out["knn_info"].append(knn_info)
            out["knn_time"].append(search_s if r == 0 else t1 - t0)
            out["bp_time"].append(t2 - t1)
            out["bp_results"].append(res)
            p = res.marginals.float()
            target = _pseudo_labels(p, bp_bags, self.pseudo_labels, self.threshold)
            if r + 1 == self.n_rounds and not last:
                model, hist = None, None
            elif learner == "combined":
                final = r + 1 == self.n_rounds
                model, hist = self._fit_combined(
                    Xs,
                    target,
                    train_bags,
                    score_fn,
                    self._round_seed(r),
                    f"MLP+bags round {r + 1}",
                    epochs=epochs if final else None,
                    callback=callback if final else None,
                )
            else:
                model, hist = self._fit_learner(Xs, target, train_bags, score_fn, r)
            out["history"].append(hist)
            if r + 1 < self.n_rounds:
                Z = model.embed(Xs)
        out["model"], out["target"] = model, target
        return out

    def _fit_combined(self, X, target, train_bags, score_fn, seed, desc, epochs=None, callback=None):
        """The default learner (beyond the paper): the DLLP bag-proportion loss of every batch of whole bags plus
        the binary cross-entropy on the BP pseudo-labels of their members (``target=None``: DLLP alone); the output
        starts at the prior. ``epochs`` replaces the configured count; ``callback`` runs after every epoch."""
        dev = X.device
        kw = self._mlp_kwargs()
        with torch_seed(seed, dev):
            model = MLP(X.size(1), kw["hidden"], kw["embed_layer"], device=dev)
        # the output starts at the positive rate of the bags this model is trained on
        init_output_bias(model, prior_logit(float(train_bags.counts.sum()) / float(train_bags.sizes.sum())))
        per = max(1, int(kw["batch_size"] // float(train_bags.sizes.double().mean())))

        def loss(m, bag_ids):
            sub = train_bags.subset(bag_ids)
            members = sub.index.to(dev)
            logit = m(X[members])
            local = type(sub)(torch.arange(sub.index.numel()), sub.ptr, sub.counts, sub.index.numel())
            out = bag_proportion_loss(torch.sigmoid(logit), local)
            if target is not None:
                t = target[members]
                out = out + (t * nn.functional.softplus(-logit) + (1 - t) * nn.functional.softplus(logit)).mean()
            return out

        hist = train_model(
            model,
            loss,
            bag_batches(train_bags, per, seed),
            epochs=kw["epochs"] if epochs is None else epochs,
            lr=kw["lr"],
            weight_decay=kw["weight_decay"],
            score_fn=score_fn,
            patience=kw["patience"],
            min_delta=kw["min_delta"],
            verbose=kw["verbose"],
            desc=desc,
            callback=callback,
        )
        return model, hist

    def _round_seed(self, r: int) -> int:
        """Seed of round ``r``'s MLP (``seed + 1000 r``, wrapped into the valid seed range)."""
        return (int(self.seed) + 1000 * r) % 2**32

    def _fit_learner(self, X, target, train_bags, score_fn, r):
        seed = self._round_seed(r)
        idx = train_bags.index.to(X.device)
        if self.aggregate_lambda is None:
            return fit_mlp(
                X[idx],
                target[idx],
                score_fn=score_fn,
                seed=seed,
                device=X.device,
                desc=f"MLP round {r + 1}",
                **self._mlp_kwargs(),
            )
        return self._fit_aggregate(X, target, train_bags, score_fn, seed, r)

    def _fit_aggregate(self, X, target, train_bags, score_fn, seed, r):
        """Aggregate-embedding variant: instance BCE on pseudo-labels + lambda * bag BCE of a head on the
        mean-pooled embeddings (Dense(64, ReLU) -> 1)."""
        dev = X.device
        kw = self._mlp_kwargs()
        with torch_seed(seed, dev):
            mlp = MLP(X.size(1), kw["hidden"], kw["embed_layer"], device=dev)
            emb_dim = kw["hidden"][mlp.embed_layer]
            head = nn.Sequential(nn.Linear(emb_dim, 64, device=dev), nn.ReLU(), nn.Linear(64, 1, device=dev))
        wrapper = _MLPWithBagHead(mlp, head)
        per = max(1, int(kw["batch_size"] // float(train_bags.sizes.double().mean())))
        lam = float(self.aggregate_lambda)

        def loss(m, bag_ids):
            sub = train_bags.subset(bag_ids)
            xi = X[sub.index.to(dev)]
            logit = m.mlp(xi)
            emb = m.mlp.embed_with_grad(xi)
            t = target[sub.index.to(dev)]
            inst = (t * nn.functional.softplus(-logit) + (1 - t) * nn.functional.softplus(logit)).mean()
            bag_local = sub.bag_of_member.to(dev)
            pooled = torch.zeros(sub.num_bags, emb.size(1), device=dev).index_add_(0, bag_local, emb)
            pooled = pooled / sub.sizes.to(dev, torch.float32)[:, None]
            bl = m.head(pooled).squeeze(-1)
            alpha = sub.proportions.to(dev, torch.float32)
            bag = (alpha * nn.functional.softplus(-bl) + (1 - alpha) * nn.functional.softplus(bl)).mean()
            return inst + lam * bag

        def score(m):
            return score_fn(m.mlp)

        hist = train_model(
            wrapper,
            loss,
            bag_batches(train_bags, per, seed),
            epochs=kw["epochs"],
            lr=kw["lr"],
            weight_decay=kw["weight_decay"],
            score_fn=score if score_fn is not None else None,
            patience=kw["patience"],
            min_delta=kw["min_delta"],
            verbose=kw["verbose"],
            desc=f"MLP+AE round {r + 1}",
        )
        return mlp, hist


def _paired_t(d: torch.Tensor) -> float:
    """The paired t statistic ``mean(d) / (std(d) / sqrt(m))`` of per-bag loss differences (0 for a constant ``d``,
    which a single bag also gives no evidence against)."""
    se = float(d.std()) / d.numel() ** 0.5 if d.numel() > 1 else float("inf")
    return float(d.mean()) / se if se > 0 else 0.0


def _t_threshold(num_bags: int) -> float:
    """The one-sided Student-t quantile at ``SELECT_LEVEL`` with ``m - 1`` degrees of freedom that a paired statistic
    over ``m`` bags must exceed (the learner selection and the epoch stop use the same test)."""
    return float(student_t.ppf(SELECT_LEVEL, max(1, num_bags - 1)))


def _pseudo_labels(p: torch.Tensor, bags, kind: str, threshold: float) -> torch.Tensor:
    """``hard``: ``1[p >= threshold]``; ``soft``: ``p``; ``topk``: in every bag the ``k_S`` members with the
    largest marginals get label 1 (so the pseudo-labels reproduce every bag count), the others 0; rows in no bag
    fall back to the threshold."""
    if kind == "soft":
        return p
    hard = (p >= threshold).float()
    if kind == "hard":
        return hard
    dev = p.device
    idx = bags.index.to(dev)
    bag = bags.bag_of_member.to(dev)
    # sort members by (bag, -p): one stable sort by p, then a stable sort by bag
    order = torch.argsort(-p[idx], stable=True)
    order = order[torch.argsort(bag[order], stable=True)]
    rank = torch.empty_like(order)
    rank[order] = torch.arange(order.numel(), device=dev) - bags.ptr.to(dev)[:-1][bag[order]]
    hard[idx] = (rank < bags.counts.to(dev)[bag]).float()
    return hard


class _MLPWithBagHead(nn.Module):
    """The MLP and the bag head of the aggregate-embedding variant, trained together."""

    def __init__(self, mlp: MLP, head: nn.Module):
        super().__init__()
        self.mlp = mlp
        self.head = head
