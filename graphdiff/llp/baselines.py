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

from graphdiff.llp.base import LLPEstimator, bag_batches
from graphdiff.llp.mlp import MLP, fit_mlp, train_model
from graphdiff.llp.selection import bag_proportion_loss

__all__ = ["DLLP", "EasyLLP"]


class DLLP(LLPEstimator):
    """DLLP: the MLP trained on the bag-proportion loss. ``fit(X, bags, counts)``; batches hold
    ``max(1, batch_size // mean bag size)`` bags."""

    def fit(self, X, bags, counts=None, *, X_val=None, y_val=None) -> DLLP:
        _, X, bags, train_bags, _val_bags, score_fn = self._prepare(X, bags, counts, X_val, y_val)
        dev = self._device()
        X = X.to(dev)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = MLP(X.size(1), self.hidden, self.embed_layer, device=dev)
        per = max(1, int(self.batch_size // float(train_bags.sizes.double().mean())))

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
            epochs=self.epochs,
            lr=self.lr,
            weight_decay=self.weight_decay,
            score_fn=score_fn,
            patience=self.patience,
            min_delta=self.min_delta,
            verbose=self.verbose,
            desc="DLLP",
        )
        self.model_ = model
        return self


class EasyLLP(LLPEstimator):
    """EasyLLP: instance-level unbiased surrogate loss with bag-derived targets."""

    def fit(self, X, bags, counts=None, *, X_val=None, y_val=None) -> EasyLLP:
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
            hidden=self.hidden,
            embed_layer=self.embed_layer,
            epochs=self.epochs,
            batch_size=self.batch_size,
            lr=self.lr,
            weight_decay=self.weight_decay,
            score_fn=score_fn,
            patience=self.patience,
            min_delta=self.min_delta,
            seed=self.seed,
            device=self._device(),
            verbose=self.verbose,
            desc="EasyLLP",
        )
        return self
