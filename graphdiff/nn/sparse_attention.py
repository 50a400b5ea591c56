r"""Graph attention aggregation as sparse-matrix products, without per-edge feature messages.

The aggregation step of graph attention (Velickovic et al., "Graph Attention Networks", ICLR 2018,
https://arxiv.org/abs/1710.10903, eq. 4) is, for every head :math:`k`,

.. math::

    \mathbf{h}'_{i,k} = \sum_{j \in \mathcal{N}(i)} \alpha_{ij,k}\, \mathbf{h}_{j,k}
    \quad\Longleftrightarrow\quad H'_k = A^{(\alpha)}_k H_k ,

a product of the sparse attention matrix :math:`A^{(\alpha)}_k` (one non-zero per edge) with the dense node features.
Message passing by gather/scatter (``x_j = x[src]``) materialises an ``E x heads x channels`` message tensor in the
forward pass and again in the backward pass; on Amazon Photo (245k edges, 8 x 32 channels) that is 250 MB per
pass and dominates an ERASE epoch on a CPU. Here the forward pass is one CSR sparse-dense product per head
(``torch.sparse.mm``), and the backward pass is the transposed product for the features and a sampled dense-dense
product (SDDMM, ``torch.sparse.sampled_addmm``) for the attention values:

.. math::

    \frac{\partial L}{\partial H_k} = A^{(\alpha)\top}_k \frac{\partial L}{\partial H'_k}, \qquad
    \frac{\partial L}{\partial \alpha_{ij,k}} = \Big\langle \frac{\partial L}{\partial \mathbf{h}'_{i,k}},
    \mathbf{h}_{j,k} \Big\rangle .

* :class:`CSRGraph` -- the edge structure sorted by target node (CSR rows) plus the permutation to the transposed
  structure, built once per graph.
* :func:`attention_aggregate` -- the differentiable product above.
* :func:`gat_conv_csr` -- the forward pass of a ``torch_geometric.nn.GATConv`` layer (self-loops, no edge features)
  computed through :func:`attention_aggregate`: same parameters, same function (up to float rounding).

Works on CPU and CUDA tensors alike (both sparse kernels exist on both).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor
from torch_geometric.nn import GATConv
from torch_geometric.utils import softmax

from graphdiff.data.validation import check_bool, check_edge_index

__all__ = ["CSRGraph", "attention_aggregate", "gat_conv_csr"]


def _csr(crow: Tensor, col: Tensor, values: Tensor, num_rows: int, num_cols: int) -> Tensor:
    with warnings.catch_warnings():  # "sparse CSR support is in beta": the two kernels used here are stable
        warnings.filterwarnings("ignore", message=".*[Ss]parse CSR tensor support is in beta.*")
        return torch.sparse_csr_tensor(crow, col, values, (num_rows, num_cols), check_invariants=False)


@dataclass(frozen=True)
class CSRGraph:
    """Edges ``src -> dst`` sorted by ``(dst, src)``, as CSR rows over ``dst``, and the transposed structure.

    Build it with :meth:`from_edge_index`; edge-level tensors passed to :func:`attention_aggregate` follow the order
    of ``src`` / ``dst``. A *bipartite block* (:meth:`block`, for mini-batches) has ``num_targets`` target rows,
    the first ``num_targets`` of its ``num_nodes`` source nodes, as in PyG's sampled subgraphs.

    Parameters
    ----------
    src : Tensor of shape (E,)
        Source node of each edge, in CSR order.
    dst : Tensor of shape (E,)
        Target node of each edge (non-decreasing).
    crow : Tensor of shape (N + 1,)
        Row pointers over ``dst``.
    crow_t : Tensor of shape (N + 1,)
        Row pointers of the transpose (rows over ``src``).
    col_t : Tensor of shape (E,)
        ``dst`` of each edge in transposed order.
    perm_t : Tensor of shape (E,)
        Transposed position -> CSR position.
    num_nodes : int
        ``N``.
    self_loops : bool
        Whether the structure was built with one self-loop per node (``GATConv(add_self_loops=True)``).
    num_targets : int or None
        For a bipartite block, the number of target rows (``None``: ``num_nodes``, a graph on one node set).

    Examples
    --------
    >>> import torch
    >>> graph = CSRGraph.from_edge_index(torch.tensor([[0, 2, 1], [1, 1, 0]]), 3, self_loops=True)
    >>> graph.num_edges, graph.dst.tolist(), graph.src.tolist()
    (6, [0, 0, 1, 1, 1, 2], [0, 1, 0, 1, 2, 2])
    """

    src: Tensor
    dst: Tensor
    crow: Tensor
    crow_t: Tensor
    col_t: Tensor
    perm_t: Tensor
    num_nodes: int
    self_loops: bool = False
    num_targets: int | None = None

    @classmethod
    def from_edge_index(cls, edge_index: Tensor, num_nodes: int, self_loops: bool = False) -> CSRGraph:
        """Sort ``edge_index`` (``edge_index[0]`` = source, ``[1]`` = target, PyG's ``source_to_target`` flow).

        Parameters
        ----------
        edge_index : Tensor of shape (2, E)
            Node ids in ``[0, num_nodes)``.
        num_nodes : int
            ``N``.
        self_loops : bool, default False
            Replace existing self-loops by exactly one per node, as ``GATConv(add_self_loops=True)``.

        Returns
        -------
        CSRGraph
        """
        self_loops = check_bool(self_loops, "self_loops")
        edge_index = check_edge_index(edge_index, num_nodes)
        src, dst = edge_index[0], edge_index[1]
        if self_loops:
            keep = src != dst
            loops = torch.arange(num_nodes, device=edge_index.device)
            src = torch.cat([src[keep], loops])
            dst = torch.cat([dst[keep], loops])
        order = torch.argsort(dst * num_nodes + src)
        src, dst = src[order], dst[order]
        counts = torch.bincount(dst, minlength=num_nodes)
        crow = torch.zeros(num_nodes + 1, dtype=torch.long, device=src.device)
        crow[1:] = torch.cumsum(counts, 0)
        perm_t = torch.argsort(src * num_nodes + dst)
        counts_t = torch.bincount(src, minlength=num_nodes)
        crow_t = torch.zeros_like(crow)
        crow_t[1:] = torch.cumsum(counts_t, 0)
        return cls(src, dst, crow, crow_t, dst[perm_t], perm_t, int(num_nodes), self_loops)

    @classmethod
    def block(cls, src: Tensor, dst: Tensor, num_sources: int, num_targets: int, self_loops: bool) -> CSRGraph:
        """A bipartite block: edges ``src -> dst`` from ``num_sources`` source nodes to the first ``num_targets``
        of them (local ids), taken as given (no self-loops added or removed).

        Parameters
        ----------
        src : Tensor of shape (E,)
            Local source ids in ``[0, num_sources)``.
        dst : Tensor of shape (E,)
            Local target ids in ``[0, num_targets)``.
        num_sources : int
            Number of source nodes (the rows of the layer's input).
        num_targets : int
            Number of target nodes (the rows of its output), at most ``num_sources``.
        self_loops : bool
            Whether the edges hold one self-loop per target (what ``GATConv(add_self_loops=True)`` expects).

        Returns
        -------
        CSRGraph

        Examples
        --------
        >>> import torch
        >>> block = CSRGraph.block(torch.tensor([0, 2, 1]), torch.tensor([0, 0, 1]), 3, 2, self_loops=False)
        >>> block.num_targets, block.crow.tolist(), block.crow_t.tolist()
        (2, [0, 2, 3], [0, 1, 2, 3])
        """
        if not 0 <= num_targets <= num_sources:
            raise ValueError(f"`num_targets` ({num_targets}) must be in [0, num_sources={num_sources}]")
        order = torch.argsort(dst * num_sources + src)
        src, dst = src[order], dst[order]
        crow = torch.zeros(num_targets + 1, dtype=torch.long, device=src.device)
        crow[1:] = torch.cumsum(torch.bincount(dst, minlength=num_targets), 0)
        perm_t = torch.argsort(src * num_targets + dst)
        crow_t = torch.zeros(num_sources + 1, dtype=torch.long, device=src.device)
        crow_t[1:] = torch.cumsum(torch.bincount(src, minlength=num_sources), 0)
        return cls(src, dst, crow, crow_t, dst[perm_t], perm_t, int(num_sources), bool(self_loops), int(num_targets))

    @property
    def num_rows(self) -> int:
        """The number of target rows (``num_targets`` for a block, else ``num_nodes``)."""
        return self.num_nodes if self.num_targets is None else self.num_targets

    @property
    def num_edges(self) -> int:
        """``E``, the number of stored edges (self-loops included)."""
        return int(self.src.numel())

    def matrix(self, values: Tensor, transpose: bool = False) -> Tensor:
        """Sparse CSR matrix ``A[dst, src] = values`` (or its transpose).

        Parameters
        ----------
        values : Tensor of shape (E,)
            One value per edge, in CSR order.
        transpose : bool, default False
            Return ``A^T`` (rows over ``src``) instead.

        Returns
        -------
        Tensor
            A sparse CSR tensor of shape ``(num_rows, N)`` (its transpose: ``(N, num_rows)``).
        """
        if transpose:
            return _csr(self.crow_t, self.col_t, values[self.perm_t], self.num_nodes, self.num_rows)
        return _csr(self.crow, self.src, values, self.num_rows, self.num_nodes)


class _AttentionAggregate(torch.autograd.Function):
    # Several heads: one CSR product per head on a head-major copy of the features (contiguous blocks for the
    # sparse kernel), saved for the backward pass. One head (a GAT output layer): no copy at all, the features and
    # the gradient are used as they are and the products returned without stacking.
    # Features shared by the heads (h of shape (N, 1, C) under H > 1 heads of alpha: the inputs of an
    # aggregate-first layer): one product per head on the same features, no copy; the output is a (T, H, C) view of
    # a head-major (H, T, C) buffer, which the caller's per-head maps read without a copy.
    @staticmethod
    def forward(ctx, alpha: Tensor, h: Tensor, graph: CSRGraph) -> Tensor:
        heads = alpha.size(1)
        alpha = alpha.detach()
        if heads > 1 and h.size(1) == 1:
            h_heads = h.detach().view(1, h.size(0), h.size(2))
            out = torch.stack(
                [torch.sparse.mm(graph.matrix(alpha[:, k].contiguous()), h_heads[0]) for k in range(heads)]
            ).transpose(0, 1)
        elif heads == 1:
            h_heads = h.detach().view(1, h.size(0), h.size(2))  # (1, N, C): the same memory
            out = torch.sparse.mm(graph.matrix(alpha[:, 0].contiguous()), h_heads[0]).unsqueeze_(1)  # not a view
        else:
            h_heads = h.detach().permute(1, 0, 2).contiguous()  # (H, N, C): contiguous per-head blocks
            out = torch.stack(
                [torch.sparse.mm(graph.matrix(alpha[:, k].contiguous()), h_heads[k]) for k in range(heads)], dim=1
            )
        ctx.graph = graph
        ctx.save_for_backward(alpha, h_heads)
        return out

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_out: Tensor):
        alpha, h_heads = ctx.saved_tensors
        graph: CSRGraph = ctx.graph
        heads = alpha.size(1)
        shared = heads > 1 and h_heads.size(0) == 1  # one feature block under every head
        if heads == 1:
            grad_heads = grad_out.reshape(1, grad_out.size(0), grad_out.size(2))
        else:
            grad_heads = grad_out.permute(1, 0, 2).contiguous()  # (H, N, C)
        grad_alpha = grad_h = None
        if ctx.needs_input_grad[0]:
            # <dL/dh'_i, h_j> on the edges: a sampled dense-dense product per head
            pattern = graph.matrix(alpha.new_zeros(graph.num_edges))
            grad_alpha = [
                torch.sparse.sampled_addmm(pattern, grad_heads[k], h_heads[0 if shared else k].T, beta=0.0).values()
                for k in range(heads)
            ]
            grad_alpha = grad_alpha[0].unsqueeze(1) if heads == 1 else torch.stack(grad_alpha, dim=1)
        if ctx.needs_input_grad[1]:
            grad_h = [
                torch.sparse.mm(graph.matrix(alpha[:, k].contiguous(), transpose=True), grad_heads[k])
                for k in range(heads)
            ]
            if shared:  # the features of every head are the same tensor: their gradients add up
                grad_h = torch.stack(grad_h).sum(dim=0).unsqueeze(1)
            else:
                grad_h = grad_h[0].unsqueeze(1) if heads == 1 else torch.stack(grad_h, dim=1)
        return grad_alpha, grad_h, None


def attention_aggregate(alpha: Tensor, h: Tensor, graph: CSRGraph) -> Tensor:
    r""":math:`\mathbf{h}'_{i,k} = \sum_{e: \mathrm{dst}_e = i} \alpha_{e,k}\, \mathbf{h}_{\mathrm{src}_e,k}`.

    Parameters
    ----------
    alpha : Tensor of shape (E, H)
        Edge weights per head, in the edge order of ``graph``.
    h : Tensor of shape (N, H, C) or (N, 1, C)
        Node features per head, or one set of features that every head aggregates with its own weights.
    graph : CSRGraph
        The edges.

    Returns
    -------
    Tensor of shape (num_rows, H, C)
        Differentiable in ``alpha`` and ``h`` (``num_rows = N`` unless ``graph`` is a bipartite block).

    Examples
    --------
    >>> import torch
    >>> graph = CSRGraph.from_edge_index(torch.tensor([[0, 1], [1, 1]]), 2)  # 0 -> 1 and 1 -> 1
    >>> h = torch.tensor([[[1.0]], [[10.0]]])  # N=2 nodes, H=1 head, C=1 channel
    >>> attention_aggregate(torch.tensor([[0.5], [2.0]]), h, graph).flatten()  # node 1: 0.5 * 1 + 2 * 10
    tensor([ 0.0000, 20.5000])
    """
    if not isinstance(graph, CSRGraph):
        raise ValueError(f"`graph` must be a CSRGraph (CSRGraph.from_edge_index), got {type(graph).__name__}")
    if not isinstance(h, Tensor) or not isinstance(alpha, Tensor):
        raise ValueError("`alpha` and `h` must be torch tensors")
    if h.dim() != 3 or h.size(0) != graph.num_nodes:
        raise ValueError(f"`h` must have shape (num_nodes={graph.num_nodes}, heads, channels), got {tuple(h.shape)}")
    if alpha.dim() != 2 or alpha.size(0) != graph.num_edges or h.size(1) not in (1, alpha.size(1)):
        heads = "heads" if h.size(1) == 1 else f"heads={h.size(1)}"
        raise ValueError(f"`alpha` must have shape (num_edges={graph.num_edges}, {heads}), got {tuple(alpha.shape)}")
    if alpha.dtype != h.dtype:
        raise ValueError(f"`alpha` ({alpha.dtype}) and `h` ({h.dtype}) must share a dtype")
    return _AttentionAggregate.apply(alpha, h, graph)


def _logit_projection(conv, w_heads: Tensor) -> Tensor:
    """``(2H, in)``: the source and target attention vectors mapped back through each head's weights,
    :math:`W_k^\top a_k`, so that the logits come from the inputs (``x @ proj.T``) without ``N x H x C``
    temporaries."""
    heads, channels = w_heads.shape[:2]
    return torch.cat(
        [torch.einsum("hc,hcf->hf", att.view(heads, channels), w_heads) for att in (conv.att_src, conv.att_dst)]
    )


def gat_conv_csr(conv, x: Tensor, graph: CSRGraph, aggregate_first: bool | None = None) -> Tensor:
    r"""``conv(x, edge_index)`` for a ``torch_geometric.nn.GATConv`` through :func:`attention_aggregate`.

    Supports what GATConv does for one node set without edge features: ``heads``, ``concat`` (or the head mean),
    ``negative_slope``, attention ``dropout``, ``bias``, ``residual``. ``graph`` must be built with
    ``self_loops=conv.add_self_loops``.

    Parameters
    ----------
    conv : torch_geometric.nn.GATConv
        The layer (its parameters are used; its ``forward`` is not called).
    x : Tensor of shape (N, in_channels)
        Features (dense, or sparse COO if ``conv.lin`` accepts it).
    graph : CSRGraph
        The edges, built with ``self_loops=conv.add_self_loops``; for a bipartite block (:meth:`CSRGraph.block`)
        ``x`` holds its source nodes, targets first, and the output its ``num_targets`` targets.
    aggregate_first : bool, optional
        Aggregate the *inputs* and apply each head's linear map afterwards
        (:math:`\sum_j \alpha_{ij,k} W_k h_j = W_k \sum_j \alpha_{ij,k} h_j`, and the attention logits
        :math:`a_k^\top W_k h = (W_k^\top a_k)^\top h`): the map runs on the targets only, the aggregation on
        ``in_channels`` instead of ``out_channels`` per edge and head. Cheaper on a graph when ``in_channels <
        out_channels``, and on a block with many more sources than targets (a sampled mini-batch, whose sources
        are about ten times its targets). Default: when the multiply-add count says so (dense inputs only).

    Returns
    -------
    Tensor of shape (num_rows, heads * out_channels) or (num_rows, out_channels)
        What ``conv(x, edge_index)`` returns (concatenated heads, or their mean with ``concat=False``).

    Examples
    --------
    >>> import torch
    >>> from torch_geometric.nn import GATConv
    >>> conv = GATConv(4, 3, heads=2)
    >>> x, edge_index = torch.rand(5, 4), torch.tensor([[0, 1, 2, 3], [1, 2, 3, 4]])
    >>> out = gat_conv_csr(conv, x, CSRGraph.from_edge_index(edge_index, 5, self_loops=True))
    >>> out.shape, torch.allclose(out, conv(x, edge_index), atol=1e-6)
    (torch.Size([5, 6]), True)
    """
    if not isinstance(conv, GATConv):
        raise ValueError(f"`conv` must be a torch_geometric.nn.GATConv, got {type(conv).__name__}")
    if getattr(conv, "lin", None) is None or getattr(conv, "lin_edge", None) is not None:
        raise ValueError("gat_conv_csr needs a GATConv with one shared `lin` and no edge features")
    if not isinstance(graph, CSRGraph):
        raise ValueError(f"`graph` must be a CSRGraph (CSRGraph.from_edge_index), got {type(graph).__name__}")
    if graph.self_loops != bool(conv.add_self_loops):
        raise ValueError(
            f"`graph` was built with self_loops={graph.self_loops} but the layer has "
            f"add_self_loops={conv.add_self_loops}: build it with "
            f"CSRGraph.from_edge_index(edge_index, num_nodes, self_loops={bool(conv.add_self_loops)})"
        )
    if not isinstance(x, Tensor) or x.dim() != 2:
        shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"`x` must be a 2-D tensor (num_nodes, in_channels), got {shape}")
    heads, channels = conv.heads, conv.out_channels
    num_nodes = graph.num_nodes
    if x.size(0) != num_nodes:
        raise ValueError(f"`x` has {x.size(0)} rows but the graph has {num_nodes} nodes")
    if isinstance(conv.in_channels, int) and conv.in_channels > 0 and x.size(1) != conv.in_channels:
        raise ValueError(f"`x` has {x.size(1)} columns but the layer expects in_channels={conv.in_channels}")
    num_rows = graph.num_rows

    def target_rows(t: Tensor) -> Tensor:  # a block's targets are its first sources
        if num_rows == num_nodes:
            return t
        if t.is_sparse:  # sparse COO tensors have no slicing
            return t.index_select(0, torch.arange(num_rows, device=t.device))
        return t[:num_rows]

    res = conv.res(target_rows(x)) if getattr(conv, "res", None) is not None else None
    in_channels = x.size(1)
    weight = getattr(conv.lin, "weight", None)
    initialised = weight is not None and not isinstance(weight, torch.nn.parameter.UninitializedParameter)
    if aggregate_first is None:
        # multiply-adds: the map on all N sources and H x C channels per edge, against in_channels per edge and
        # head and the map on the num_rows targets only; a block with many more sources than targets (a sampled
        # mini-batch) aggregates first, a whole graph only when in_channels < out_channels
        aggregate_first = (
            initialised
            and not x.is_sparse
            and (num_nodes - num_rows) * in_channels * channels > graph.num_edges * (in_channels - channels)
        )
    if aggregate_first:
        if x.is_sparse or not initialised:
            raise ValueError("`aggregate_first` needs dense inputs and an initialised `conv.lin`")
        if heads == 1:
            # both logits in one N x in by in x 2 product (and one product in the backward pass)
            proj = torch.cat([conv.att_src.reshape(1, -1), conv.att_dst.reshape(1, -1)]) @ weight  # (2, in)
        else:
            w_heads = weight.view(heads, channels, in_channels)
            proj = _logit_projection(conv, w_heads)
        scores = x @ proj.T
        score_src, score_dst = scores[:, :heads], scores[:num_rows, heads:]
        feats = x.unsqueeze(1)  # one set of inputs, aggregated by every head with its own weights
    else:
        feats = conv.lin(x).view(num_nodes, heads, channels)
        if not initialised:
            score_src = (feats * conv.att_src).sum(dim=-1)  # (N, H)
            score_dst = (feats[:num_rows] * conv.att_dst).sum(dim=-1)
        else:
            # the logits from the inputs: a_k^T W_k x = (W_k^T a_k)^T x, an N x F by F x H product instead of two
            # N x H x C temporaries (and their gradients)
            proj = _logit_projection(conv, weight.view(heads, channels, -1))
            scores = torch.sparse.mm(x, proj.T) if x.is_sparse else x @ proj.T
            score_src, score_dst = scores[:, :heads], scores[:num_rows, heads:]
    logits = F.leaky_relu(score_src[graph.src] + score_dst[graph.dst], conv.negative_slope)
    alpha = softmax(logits, graph.dst, num_nodes=num_rows)
    alpha = F.dropout(alpha, p=conv.dropout, training=conv.training)
    out = attention_aggregate(alpha, feats, graph)
    bias = conv.bias
    if aggregate_first and heads == 1:
        if bias is not None and res is None:  # the map and the bias in one product: one N x C output, not two
            return torch.addmm(bias, out.squeeze(1), conv.lin.weight.T)
        out = out.squeeze(1) @ conv.lin.weight.T
    else:
        if aggregate_first:  # the per-head maps on the aggregated inputs, head-major: (H, T, in) x (H, in, C)
            out = torch.bmm(out.transpose(0, 1), w_heads.transpose(1, 2)).transpose(0, 1)
        out = out.reshape(num_rows, heads * channels) if conv.concat else out.mean(dim=1)
    # ``out`` is this function's own intermediate, saved by no backward: the additions in place
    if res is not None:
        out = out.add_(res)
    if conv.bias is not None:
        out = out.add_(conv.bias)
    return out
