"""The shared data layer: loaders to ``torch_geometric.data.Data``, label noise, splits, bags, synthetic graphs,
scene graphs and tabular data. See ``CONTRIBUTING.md`` for the contract every method package relies on."""

from graphdiff.data import bags, interop, noise, scenes, splits, synthetic, validation
from graphdiff.data.download import ChecksumError, MissingDataError
from graphdiff.data.loaders import available, data_root, dataset_info, datasets_status, load, load_tabular
from graphdiff.data.tabular import TabularDataset

__all__ = [
    "load",
    "available",
    "data_root",
    "dataset_info",
    "datasets_status",
    "load_tabular",
    "TabularDataset",
    "ChecksumError",
    "MissingDataError",
    "bags",
    "interop",
    "noise",
    "scenes",
    "splits",
    "synthetic",
    "validation",
]
