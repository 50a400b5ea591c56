"""Readers of the raw file formats of the data root, one module per family, behind one registry.

Each dataset of the manifest names its ``format``; :func:`get_format` returns the registered :class:`Format`:
the reader, the options it accepts (with their validators) and whether it returns node features. The readers take
checksum-verified files (see :mod:`graphdiff.data.download`) and return the canonical
:class:`torch_geometric.data.Data` (or a :class:`~graphdiff.data.TabularDataset`); :func:`graphdiff.data.load` adds
what is common to every format (``normalize_features``, the final checks, ``device``).

========================  ========================================================================================
module                    formats
========================  ========================================================================================
:mod:`.planetoid`         ``planetoid`` (``ind.<name>.*`` pickles of Cora, CiteSeer, PubMed)
:mod:`.npz`               ``gnn_benchmark_npz``, ``sparse_graph_npz``, ``adj_npz``, ``nocd_npz``,
                          ``heterophilous_npz``
:mod:`.snap`              ``snap_email``, ``snap_communities``, ``seal_communities``
:mod:`.lgc`               ``lgc_graphml``, ``lgc_csv``, ``gml``
:mod:`.geom_gcn`          ``geom_gcn``
:mod:`.social`            ``blogcatalog_mat``, ``musae``
:mod:`.tabular`           ``llp_bp_csv``, ``adult_csv``
========================  ========================================================================================

Examples
--------
>>> from graphdiff.data.formats import FORMATS, get_format
>>> sorted(get_format("heterophilous_npz").options)
['split']
>>> get_format("adult_csv").kind, len(FORMATS)
('tabular', 17)
"""

from graphdiff.data.formats import geom_gcn, lgc, npz, planetoid, snap, social, tabular
from graphdiff.data.formats._registry import FORMATS, Format, get_format, register_format

__all__ = [
    "FORMATS",
    "Format",
    "get_format",
    "register_format",
    "geom_gcn",
    "lgc",
    "npz",
    "planetoid",
    "snap",
    "social",
    "tabular",
]
