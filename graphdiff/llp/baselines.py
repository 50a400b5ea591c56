"""LLP baselines on the same MLP: DLLP and EasyLLP.

Compared against in Havaldar et al., ICLR 2024 (https://arxiv.org/abs/2310.08056), Section 4 (baselines).

* **DLLP** (Ardehaly & Culotta, 2017, https://arxiv.org/abs/1705.06626): minimise over bags
  :math:`\\mathrm{BCE}(\\alpha_S, \\tfrac{1}{|S|}\\sum_{i \\in S} f(x_i))`, with :math:`\\alpha_S = k_S / |S|`.
* **EasyLLP** (Busa-Fekete et al., NeurIPS 2023, https://arxiv.org/abs/2302.03115): the unbiased instance surrogate
  :math:`(|S|(\\alpha_S - p) + p)\\,\\ell(f(x), 1) + (|S|(p - \\alpha_S) + 1 - p)\\,\\ell(f(x), 0)` with the global
  prior :math:`p = \\sum k_S / \\sum |S|`, averaged over every instance of every bag (the expectation of the
  one-random-instance-per-bag draw). Its weights can be negative; for log loss it is a BCE with targets
  :math:`t = |S|(\\alpha_S - p) + p` that may leave :math:`[0, 1]`.
"""

from __future__ import annotations

import torch

from graphdiff.base import torch_seed
from graphdiff.llp.base import LLPEstimator, bag_batches
from graphdiff.llp.selection import bag_proportion_loss
from graphdiff.nn.mlp import MLP, fit_mlp, init_output_bias, prior_logit, train_model

__all__ = ["DLLP", "EasyLLP"]

_PARAMETERS = """
    Parameters
    ----------
    hidden : sequence of int, default (5040, 1280, 320, 128, 64)
        Hidden widths of the MLP (the reference learner's by default).
    embed_layer : int, default -2
        Hidden layer used as the embedding (see :class:`~graphdiff.nn.mlp.MLP`).
    epochs : int, default 100
        Maximum number of epochs.
    batch_size : int, default 1024
        Instances per batch{batch_note}.
    lr : float, default 1e-3
        AdamW learning rate.
    weight_decay : float, default 0.0
        AdamW weight decay.
    patience : int, default 4
        Early-stopping patience (epochs without an improvement of the validation score).
    min_delta : float, default 1e-4
        Smallest score increase that counts as an improvement.
    validation : {"bags", "instances", "none"}, default "bags"
        Model selection: ``"bags"`` (label-free: ``graphdiff.llp.selection.bag_score_fn`` on ``val_fraction``
        held-out bags), ``"instances"`` (opt-in: validation AUC on ``X_val, y_val`` passed to :meth:`fit`) or
        ``"none"`` (all epochs).
    val_fraction : float, default 0.1
        Fraction of the bags held out with ``validation="bags"``, in ``[0, 1)``.
    standardize : bool, default True
        Standardise the MLP input with the training mean / std.
    seed : int, default 0
        Seed of the initialisation, the batch order and the validation split.
    device : str or torch.device, default "cpu"
        Where to train.
    verbose : bool, default True
        Progress bars.
"""

_ATTRIBUTES = """
    Attributes
    ----------
    model_ : graphdiff.nn.mlp.MLP
        The trained network.
    history_ : dict
        ``{"loss": [...], "score": [...], "best_epoch": int}``: mean training loss and validation score per
        epoch.
    mean_, scale_ : Tensor ``(n_features_in_,)``
        Standardisation of the input.
    n_features_in_ : int
        Number of feature columns seen in ``fit``.{extra}
"""


class DLLP(LLPEstimator):
    __doc__ = (
        """DLLP (Ardehaly & Culotta, 2017): the MLP trained on the bag-proportion loss.

    Minimises, over batches of bags, the mean over bags of
    :math:`\\mathrm{BCE}(\\alpha_S, \\tfrac{1}{|S|}\\sum_{i \\in S} f(x_i))` with :math:`\\alpha_S = k_S / |S|`.
    The output bias starts at the logit of the bags' overall positive rate (so that training starts from the
    prior; with PyTorch's initialisation DLLP fell below chance at bag size 1024 on Bank).
"""
        + _PARAMETERS.replace("{batch_note}", "; a batch holds ``max(1, batch_size // mean bag size)`` whole bags")
        + _ATTRIBUTES.replace(
            "{extra}",
            "\n    prior_ : float\n        The global positive rate of the training bags (the start of the output).",
        )
        + """
    Examples
    --------
    >>> from graphdiff.data.bags import random_bags
    >>> from graphdiff.data.synthetic import logistic_data
    >>> from graphdiff.llp import DLLP
    >>> X, y = logistic_data(400, num_features=4, seed=0)
    >>> bags = random_bags(y, bag_size=8, seed=0)  # only bag counts reach the learner
    >>> est = DLLP(hidden=(16, 8), epochs=5, verbose=False).fit(X, bags)
    >>> est.predict_proba(X[:3]).shape, len(est.history_["loss"]) <= 5
    ((3, 2), True)
    """
    )

    def fit(self, X, bags, counts=None, *, X_val=None, y_val=None) -> DLLP:
        """Fit on features and bags; only the bags' positive counts are used, never instance labels.

        Parameters
        ----------
        X : Tensor or ndarray ``(N, d)``
            Finite features.
        bags : Bags, bag-id vector or sequence of member arrays
            Any form :func:`graphdiff.data.bags.as_bags` accepts (see :meth:`BPLabelProportions.fit
            <graphdiff.llp.BPLabelProportions.fit>`).
        counts : array-like of int ``(m,)``, optional
            Positives per bag (required unless ``bags`` is a :class:`~graphdiff.data.bags.Bags`).
        X_val : Tensor or ndarray, optional
            Instance-labelled validation rows, only with ``validation="instances"``.
        y_val : Tensor or ndarray, optional
            Their labels.

        Returns
        -------
        DLLP
            ``self``.
        """
        self._check_params()
        _, X, bags, train_bags, _val_bags, score_fn = self._prepare(X, bags, counts, X_val, y_val)
        dev = self._device()
        X = X.to(dev)
        kw = self._mlp_kwargs()
        with torch_seed(self.seed, dev):
            model = MLP(X.size(1), kw["hidden"], kw["embed_layer"], device=dev)
        # start from the prior (the bags' overall positive rate): from PyTorch's initialisation (outputs near 0.5)
        # the first epochs only pull every output down to the prior, fastest on the rows with the largest
        # activations; on Bank, where the positives are such rows, that imprinted a ranking the weak between-bag
        # signal of large bags never undid (test AUC 0.36 at bag size 1024)
        self.prior_ = float(train_bags.counts.sum()) / float(train_bags.sizes.sum())
        init_output_bias(model, prior_logit(self.prior_))
        per = max(1, int(kw["batch_size"] // float(train_bags.sizes.double().mean())))

        def loss(m, bag_ids):
            sub = train_bags.subset(bag_ids)
            logit = m(X[sub.index.to(dev)])
            proba = torch.sigmoid(logit)
            local = type(sub)(torch.arange(sub.index.numel()), sub.ptr, sub.counts, sub.index.numel())
            return bag_proportion_loss(proba, local)

        self.history_ = train_model(
            model,
            loss,
            bag_batches(train_bags, per, self.seed),
            epochs=kw["epochs"],
            lr=kw["lr"],
            weight_decay=kw["weight_decay"],
            score_fn=score_fn,
            patience=kw["patience"],
            min_delta=kw["min_delta"],
            verbose=kw["verbose"],
            desc="DLLP",
        )
        self.model_ = model
        return self


class EasyLLP(LLPEstimator):
    __doc__ = (
        """EasyLLP (Busa-Fekete et al., NeurIPS 2023): instance-level unbiased surrogate loss with bag targets.

    Every member of bag :math:`S` gets the target :math:`t = |S|(\\alpha_S - p) + p` (global prior
    :math:`p = \\sum k_S / \\sum |S|`) and the MLP is trained with binary cross-entropy on it (linear in
    :math:`t`, so targets outside :math:`[0, 1]` are fine), starting from the output bias :math:`\\log(p / (1 - p))`.
"""
        + _PARAMETERS.replace("{batch_note}", "")
        + _ATTRIBUTES.replace(
            "{extra}", "\n    prior_ : float\n        The global positive rate :math:`p` of the training bags."
        )
        + """
    Examples
    --------
    >>> from graphdiff.data.bags import random_bags
    >>> from graphdiff.data.synthetic import logistic_data
    >>> from graphdiff.llp import EasyLLP
    >>> X, y = logistic_data(400, num_features=4, seed=0)
    >>> est = EasyLLP(hidden=(16, 8), epochs=5, verbose=False).fit(X, random_bags(y, bag_size=8, seed=0))
    >>> est.predict(X[:3]).shape, 0.0 < est.prior_ < 1.0
    ((3,), True)
    """
    )

    def fit(self, X, bags, counts=None, *, X_val=None, y_val=None) -> EasyLLP:
        """Fit on features and bags; only the bags' positive counts are used, never instance labels.

        Parameters
        ----------
        X : Tensor or ndarray ``(N, d)``
            Finite features.
        bags : Bags, bag-id vector or sequence of member arrays
            Any form :func:`graphdiff.data.bags.as_bags` accepts (see :meth:`BPLabelProportions.fit
            <graphdiff.llp.BPLabelProportions.fit>`).
        counts : array-like of int ``(m,)``, optional
            Positives per bag (required unless ``bags`` is a :class:`~graphdiff.data.bags.Bags`).
        X_val : Tensor or ndarray, optional
            Instance-labelled validation rows, only with ``validation="instances"``.
        y_val : Tensor or ndarray, optional
            Their labels.

        Returns
        -------
        EasyLLP
            ``self``.
        """
        self._check_params()
        _, X, bags, train_bags, _val_bags, score_fn = self._prepare(X, bags, counts, X_val, y_val)
        sizes = train_bags.sizes.double()
        prior = float(train_bags.counts.sum()) / float(sizes.sum())
        alpha = train_bags.proportions
        t_bag = sizes * (alpha - prior) + prior
        target = t_bag[train_bags.bag_of_member]
        idx = train_bags.index
        self.prior_ = prior
        self.model_, self.history_ = fit_mlp(
            X[idx],
            target.float(),
            score_fn=score_fn,
            seed=self.seed,
            device=self._device(),
            desc="EasyLLP",
            output_bias=prior_logit(prior),
            **self._mlp_kwargs(),
        )
        return self
