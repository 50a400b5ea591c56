r"""ERASE encoders: a 2-layer GAT (the reference default) and a 2-layer GCN option.

Implements the representation network of section 4.2 of Chen et al., "ERASE: Error-Resilient Representation
Learning on Graphs for Label Noise Tolerance", CIKM 2024 (https://arxiv.org/abs/2312.08852), as the reference code
builds it (paper notes ``erase.md`` section 1.2):

.. math::

    H &= \operatorname{normalize}_1\big(\operatorname{LeakyReLU}_{0.01}
         (\operatorname{GAT}_1(\operatorname{dropout}(X)))\big), \\
    Z &= \operatorname{ReLU}\big(\operatorname{normalize}_1(\operatorname{GAT}_2(H))\big),

with ``GAT_1`` of ``heads`` heads of ``hidden_channels // heads`` channels (concatenated), ``GAT_2`` one head of
``out_channels``, and :math:`\operatorname{normalize}_1` the row-wise L1 normalisation. Dropout acts on the input
only. ``x`` may be a sparse COO tensor (sparse bag-of-words features make the first layer several times cheaper).
The output is non-negative with row L1 norm at most one; the ``eps`` values of the presets are tied to this scale,
so keep the normalisation when reusing them. With ``conv="gcn"`` both layers are ``GCNConv``.

The GAT layers are PyG ``GATConv`` modules (their parameters and initialisation), evaluated through
:func:`graphdiff.nn.sparse_attention.gat_conv_csr`: the attention aggregation as CSR sparse-dense products, which on
a CPU is several times faster than per-edge messages (8 heads x 32 channels per edge) and gives the same function up
to float rounding.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv, GCNConv
from torch_geometric.nn.dense.linear import Linear

from graphdiff.nn.sparse_attention import CSRGraph, gat_conv_csr

__all__ = ["ERASEEncoder", "sparse_dropout"]


class _SparseInputLinear(Linear):
    """PyG ``Linear`` that also accepts a sparse COO input (bag-of-words features are ~1% dense)."""

    def forward(self, x: Tensor) -> Tensor:
        if x.is_sparse:
            out = torch.sparse.mm(x, self.weight.t())
            return out if self.bias is None else out + self.bias
        return super().forward(x)


def sparse_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """Dropout for dense or sparse COO ``x``: on a sparse tensor it drops stored entries, as dense dropout would
    (dropping a zero changes nothing)."""
    if not training or p == 0.0:
        return x
    if not x.is_sparse:
        return F.dropout(x, p=p, training=True)
    x = x.coalesce()
    values = F.dropout(x.values(), p=p, training=True)
    return torch.sparse_coo_tensor(x.indices(), values, x.shape, is_coalesced=True, check_invariants=False)


class ERASEEncoder(torch.nn.Module):
    """Two graph-convolution layers with row L1 normalisation after each and a ReLU output.

    Args:
        in_channels: input feature dimension.
        hidden_channels: width of the first layer (the concatenation of all heads for GAT). Default 256.
        out_channels: embedding dimension ``p``. Default 512.
        heads: attention heads of the first GAT layer; must divide ``hidden_channels``. Default 8.
        dropout: dropout probability on the input features. Default 0.5.
        conv: ``"gat"`` (reference) or ``"gcn"``.
        negative_slope: slope of the leaky ReLU after the first layer. Default 0.01.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: int = 256,
        out_channels: int = 512,
        heads: int = 8,
        dropout: float = 0.5,
        conv: str = "gat",
        negative_slope: float = 0.01,
    ):
        super().__init__()
        for name, value in [
            ("in_channels", in_channels),
            ("hidden_channels", hidden_channels),
            ("out_channels", out_channels),
            ("heads", heads),
        ]:
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer, got {value!r}")
        if not 0.0 <= float(dropout) < 1.0:
            raise ValueError(f"`dropout` must lie in [0, 1), got {dropout}")
        if conv not in ("gat", "gcn"):
            raise ValueError(f"`conv` must be 'gat' or 'gcn', got {conv!r}")
        if conv == "gat" and hidden_channels % heads != 0:
            raise ValueError(f"`heads` ({heads}) must divide `hidden_channels` ({hidden_channels})")
        self.in_channels = in_channels
        self.hidden_channels = hidden_channels
        self.out_channels = out_channels
        self.dropout = float(dropout)
        self.conv = conv
        self.negative_slope = float(negative_slope)
        if conv == "gat":
            self.conv1 = GATConv(in_channels, hidden_channels // heads, heads=heads)
            self.conv2 = GATConv(hidden_channels, out_channels, heads=1)
        else:
            self.conv1 = GCNConv(in_channels, hidden_channels)
            self.conv2 = GCNConv(hidden_channels, out_channels)
        # Same parameters and initialisation as the layer's own ``lin``, plus a sparse-input path.
        self.conv1.lin = _SparseInputLinear(
            in_channels, self.conv1.lin.out_channels, bias=False, weight_initializer="glorot"
        )
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor, graph: CSRGraph | None = None) -> Tensor:
        """Embed all nodes.

        Args:
            x: ``(N, in_channels)`` features, dense or sparse COO.
            edge_index: ``2 x E`` edges.
            graph: for the GAT encoder, ``CSRGraph.from_edge_index(edge_index, N, self_loops=True)`` built once by
                the caller (it is rebuilt on every call otherwise); ignored by the GCN encoder.
        """
        x = sparse_dropout(x, self.dropout, self.training)
        if self.conv == "gat":
            if graph is None:
                graph = CSRGraph.from_edge_index(edge_index, x.size(0), self_loops=True)
            # Same function and parameters as ``self.conv1(x, edge_index)`` / ``self.conv2(h, edge_index)``, with
            # the attention aggregation as sparse products instead of E x channels messages (nn.sparse_attention);
            # the one-head second layer aggregates its 256 inputs before the map to 512 channels.
            h = gat_conv_csr(self.conv1, x, graph)
        else:
            h = self.conv1(x, edge_index)
        h = F.normalize(F.leaky_relu(h, negative_slope=self.negative_slope), p=1.0, dim=1)
        z = gat_conv_csr(self.conv2, h, graph) if self.conv == "gat" else self.conv2(h, edge_index)
        z = F.normalize(z, p=1.0, dim=1)
        return F.relu(z)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, hidden={self.hidden_channels}, out={self.out_channels}, "
            f"conv={self.conv!r}, dropout={self.dropout})"
        )
