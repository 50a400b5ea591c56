"""graphdiff: learning on graphs and structured data when supervision is imperfect.

Four methods on one torch + torch_geometric stack:

* :mod:`graphdiff.erase`   -- ERASE, node classification under label noise (Chen et al., CIKM 2024).
* :mod:`graphdiff.cluster` -- local graph clustering with noisy labels (Back de Luca et al., ICLR 2024).
* :mod:`graphdiff.llp`     -- learning from label proportions by belief propagation (Havaldar et al., ICLR 2024).
* :mod:`graphdiff.scene`   -- EchoScene, scene-graph diffusion with information echo (Zhai et al., ECCV 2024).

Shared pieces live in :mod:`graphdiff.data` (loaders, noise, splits, bags, synthetic graphs, scenes) and
:mod:`graphdiff.nn` (propagation, coding rate, triplet GCN, diffusion schedules). Method packages never import
each other.
"""

__version__ = "0.2.0.dev0"

__all__ = ["__version__"]
