"""The shared data layer: loaders to ``torch_geometric.data.Data``, label noise, splits, bags, synthetic graphs,
scene graphs and tabular data. See ``CONTRIBUTING.md`` for the contract every method package relies on."""

from graphdiff.data import noise, splits, synthetic, validation  # noqa: F401
