r"""ERASE encoders: a 2-layer GAT (the reference default) and a 2-layer GCN option.

Implements the representation network of section 4.2 of Chen et al., "ERASE: Error-Resilient Representation
Learning on Graphs for Label Noise Tolerance", CIKM 2024 (https://arxiv.org/abs/2312.08852), as the reference code
builds it (`shared/papers/erase.md` section 1.2):

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

from graphdiff.data.validation import check_choice, check_float, check_int
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
    (dropping a zero changes nothing).

    Parameters
    ----------
    x : Tensor
        Dense or sparse COO input.
    p : float
        Drop probability, in ``[0, 1]``.
    training : bool
        Identity when false.

    Returns
    -------
    Tensor
        Same layout and shape as ``x``; kept entries scaled by ``1 / (1 - p)``.

    Examples
    --------
    >>> import torch
    >>> x = torch.tensor([[0.0, 2.0], [4.0, 0.0]]).to_sparse()
    >>> sparse_dropout(x, 0.5, training=False).to_dense()
    tensor([[0., 2.],
            [4., 0.]])
    """
    if not training or p == 0.0:
        return x
    if not x.is_sparse:
        return F.dropout(x, p=p, training=True)
    x = x.coalesce()
    values = F.dropout(x.values(), p=p, training=True)
    return torch.sparse_coo_tensor(x.indices(), values, x.shape, is_coalesced=True, check_invariants=False)


_NORM_EPS = 1e-12  # F.normalize's floor on the norm


class _LeakyReLUL1Normalize(torch.autograd.Function):
    """``F.normalize(F.leaky_relu(p, slope), p=1, dim=1)`` in place on ``p`` (an intermediate the caller owns).

    Saves only the output and the row norms: with ``h = u / d``, ``u = leaky_relu(p)``, ``d = max(|u|_1, 1e-12)``,
    :math:`\\partial L/\\partial p = (g - \\operatorname{sign}(h)\\, \\langle g, h\\rangle) / d \\cdot
    \\operatorname{leaky\\_relu}'(p)` (the inner-product term is absent for rows whose norm is floored), and
    ``sign(h) = sign(p)``. Autograd through the two functions keeps three ``N x C`` tensors instead.
    """

    @staticmethod
    def forward(ctx, p: Tensor, slope: float):
        F.leaky_relu(p, negative_slope=slope, inplace=True)
        norm = torch.linalg.vector_norm(p, ord=1, dim=1, keepdim=True)
        denom = norm.clamp_min(_NORM_EPS)
        p.div_(denom)
        ctx.mark_dirty(p)
        ctx.save_for_backward(p, denom, norm >= _NORM_EPS)
        ctx.slope = slope
        return p

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        h, denom, unclamped = ctx.saved_tensors
        inner = torch.linalg.vecdot(grad, h, dim=1).unsqueeze(1) * unclamped
        out = torch.sign(h)
        out.mul_(inner).neg_().add_(grad).div_(denom)
        # times leaky_relu'(p), with sign(p) = sign(h), in place: one N x C tensor for the whole backward pass
        return torch.ops.aten.leaky_relu_backward.grad_input(out, h, ctx.slope, False, grad_input=out), None


class _L1NormalizeReLU(torch.autograd.Function):
    """``F.relu(F.normalize(p, p=1, dim=1))`` in place on ``p`` (an intermediate the caller owns).

    Saves only the output ``z`` and the row norms: with ``d = max(|p|_1, 1e-12)``,
    :math:`\\partial L/\\partial p = (g \\odot [z > 0] - \\operatorname{sign}(p)\\,\\langle g, z\\rangle) / d`, and
    ``sign(p) = +1`` where ``z > 0`` and ``-1`` elsewhere (``p < 0``; an entry of ``p`` exactly zero, where autograd
    takes the sign 0, has measure zero). Autograd through the two functions keeps three ``N x C`` tensors instead.
    """

    @staticmethod
    def forward(ctx, p: Tensor):
        norm = torch.linalg.vector_norm(p, ord=1, dim=1, keepdim=True)
        denom = norm.clamp_min(_NORM_EPS)
        p.div_(denom).clamp_min_(0.0)
        ctx.mark_dirty(p)
        ctx.save_for_backward(p, denom, norm >= _NORM_EPS)
        return p

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad: Tensor):
        z, denom, unclamped = ctx.saved_tensors
        inner = torch.linalg.vecdot(grad, z, dim=1).unsqueeze(1) * unclamped
        # z > 0: g - <g, z>;  z = 0 (p < 0): +<g, z>;  i.e. (g - 2 <g, z>) [z > 0] + <g, z>
        out = grad - 2.0 * inner
        torch.ops.aten.threshold_backward.grad_input(out, z, 0.0, grad_input=out)  # zero where z = 0, in place
        return out.add_(inner).div_(denom)


class ERASEEncoder(torch.nn.Module):
    """Two graph-convolution layers with row L1 normalisation after each and a ReLU output.

    Maps features ``x`` of shape ``(N, in_channels)`` (dense or sparse COO) and edges ``edge_index`` of shape
    ``(2, E)`` to embeddings of shape ``(N, out_channels)``: non-negative, each row of L1 norm at most one.

    Parameters
    ----------
    in_channels : int
        Input feature dimension.
    hidden_channels : int, default 256
        Width of the first layer (the concatenation of all heads for GAT).
    out_channels : int, default 512
        Embedding dimension ``p``.
    heads : int, default 8
        Attention heads of the first GAT layer; must divide ``hidden_channels``.
    dropout : float, default 0.5
        Dropout probability on the input features, in ``[0, 1)``.
    conv : {"gat", "gcn"}, default "gat"
        ``"gat"`` (reference) or ``"gcn"``.
    negative_slope : float, default 0.01
        Slope of the leaky ReLU after the first layer.

    Examples
    --------
    >>> import torch
    >>> enc = ERASEEncoder(in_channels=8, hidden_channels=16, out_channels=32, heads=4)
    >>> x, edge_index = torch.rand(5, 8), torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 1, 4]])
    >>> z = enc(x, edge_index)
    >>> z.shape, bool((z >= 0).all()), bool((z.sum(dim=1) <= 1 + 1e-6).all())
    (torch.Size([5, 32]), True, True)
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
        in_channels = check_int(in_channels, "in_channels", minimum=1)
        hidden_channels = check_int(hidden_channels, "hidden_channels", minimum=1)
        out_channels = check_int(out_channels, "out_channels", minimum=1)
        heads = check_int(heads, "heads", minimum=1)
        dropout = check_float(dropout, "dropout", minimum=0.0, maximum=1.0, high_open=True)
        conv = check_choice(conv, "conv", ("gat", "gcn"))
        negative_slope = check_float(negative_slope, "negative_slope")
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
        """Re-initialise both convolutions with PyG's own initialisation (Glorot weights and attention vectors, zero
        biases), from torch's global generator."""

        self.conv1.reset_parameters()
        self.conv2.reset_parameters()

    def forward(self, x: Tensor, edge_index: Tensor | None, graph: CSRGraph | list | None = None) -> Tensor:
        """Embed all nodes, or the targets of a sampled mini-batch.

        Parameters
        ----------
        x : Tensor of shape (N, in_channels)
            Node features, dense or sparse COO (for a mini-batch: the features of its first block's sources).
        edge_index : Tensor of shape (2, E) or None
            Edges (source row 0, target row 1); ignored (may be ``None``) with a list of blocks.
        graph : CSRGraph or list of CSRGraph, optional
            For the GAT encoder, ``CSRGraph.from_edge_index(edge_index, N, self_loops=True)`` built once by the
            caller (it is rebuilt on every call otherwise); or the two bipartite blocks of a mini-batch
            (:meth:`graphdiff.erase.minibatch.NeighborSampler.sample`), first layer first. Ignored by the GCN
            encoder.

        Returns
        -------
        Tensor of shape (N, out_channels)
            Non-negative embeddings, each row of L1 norm at most one (for blocks: one row per target of the last).
        """
        if not isinstance(x, Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise ValueError(f"`x` must have shape (num_nodes, in_channels={self.in_channels}), got {shape}")
        x = sparse_dropout(x, self.dropout, self.training)
        if isinstance(graph, (list, tuple)):
            if self.conv != "gat" or len(graph) != 2:
                raise ValueError("mini-batch blocks need the GAT encoder and one block per layer (two)")
            return self.layer2(self.layer1(x, graph[0]), graph[1])
        if self.conv == "gat":
            if graph is None:
                graph = CSRGraph.from_edge_index(edge_index, x.size(0), self_loops=True)
            # Same function and parameters as ``self.conv1(x, edge_index)`` / ``self.conv2(h, edge_index)``, with
            # the attention aggregation as sparse products instead of E x channels messages (nn.sparse_attention);
            # the one-head second layer aggregates its 256 inputs before the map to 512 channels.
            return self.layer2(self.layer1(x, graph), graph)
        h = _LeakyReLUL1Normalize.apply(self.conv1(x, edge_index), self.negative_slope)
        return _L1NormalizeReLU.apply(self.conv2(h, edge_index))

    def layer1(self, x: Tensor, graph: CSRGraph) -> Tensor:
        """The first GAT layer with its activation and L1 normalisation (no dropout), on a graph or a block.

        Parameters
        ----------
        x : Tensor of shape (N, in_channels)
            Features of the graph's (source) nodes.
        graph : CSRGraph
            With self-loops; a graph or a bipartite block.

        Returns
        -------
        Tensor of shape (num_rows, hidden_channels)
        """
        # the activations and L1 normalisations in place on the layers' fresh outputs, with hand-written
        # gradients that keep one tensor per layer (the output) instead of three
        return _LeakyReLUL1Normalize.apply(gat_conv_csr(self.conv1, x, graph), self.negative_slope)

    def layer2(self, h: Tensor, graph: CSRGraph) -> Tensor:
        """The second GAT layer with its L1 normalisation and ReLU, on a graph or a block.

        Parameters
        ----------
        h : Tensor of shape (N, hidden_channels)
            First-layer outputs of the graph's (source) nodes.
        graph : CSRGraph
            With self-loops; a graph or a bipartite block.

        Returns
        -------
        Tensor of shape (num_rows, out_channels)
        """
        return _L1NormalizeReLU.apply(gat_conv_csr(self.conv2, h, graph))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.in_channels}, hidden={self.hidden_channels}, out={self.out_channels}, "
            f"conv={self.conv!r}, dropout={self.dropout})"
        )
