"""Triplet graph convolution over (subject, predicate, object) triples.

Implements the graph layer that EchoScene (Zhai et al., ECCV 2024, https://arxiv.org/abs/2405.00915, Sec. 3.2 and
3.3; the layer itself comes from sg2im, Johnson et al., CVPR 2018, Sec. 3) uses for its relation encoder and for the
information echo of both denoising branches.

For a triple :math:`k = (s_k, p_k, o_k)` with node features :math:`h` and predicate features :math:`e`:

.. math::

    [s'_k \\,\\|\\, p'_k \\,\\|\\, o'_k] = \\mathrm{net}_1([h_{s_k} \\| e_k \\| h_{o_k}]), \\qquad
    \\bar h_i = \\frac{\\sum_{k: s_k = i} s'_k + \\sum_{k: o_k = i} o'_k}
        {\\max(1, |\\{k: s_k = i\\}| + |\\{k: o_k = i\\}|)}

.. math::

    h'_i = \\mathrm{net}_2(\\bar h_i) \\; [+ W_h h_i], \\qquad e'_k = p'_k \\; [+ W_e e_k]

where the bracketed terms are the residual connections (``residual=True``). ``net1`` maps
``2 * in_channels + edge_channels -> hidden -> 2 * hidden + edge_channels`` and ``net2`` maps
``hidden -> hidden -> out_channels``; each linear layer is followed by an optional normalisation and a ReLU
(including the last one, as in the original layer). A node without triples pools to zero, so its output is
``net2(0) [+ W_h h_i]``.

Pooling is done with ``index_add_`` over the triples (no Python loop over nodes or edges). With ``norm="layer"``
(the default) or ``norm=None`` every node's output depends only on the triples of its own connected component, so
scenes batched as a disjoint union do not interact; ``norm="batch"`` normalises over the whole batch, which
couples all nodes of a batch in training mode (the authors' released code uses BatchNorm).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from graphdiff.data.validation import check_bool, check_choice, check_edge_index, check_int

__all__ = ["TripletGraphConv", "TripletGCN"]

_NORMS = (None, "layer", "batch")


class _MLP(nn.Sequential):
    """Linear -> [norm] -> ReLU for every layer (the last one included)."""

    def __init__(self, dims, norm=None):
        layers = []
        for d_in, d_out in itertools.pairwise(dims):
            layers.append(nn.Linear(d_in, d_out))
            if norm == "layer":
                layers.append(nn.LayerNorm(d_out))
            elif norm == "batch":
                layers.append(nn.BatchNorm1d(d_out))
            layers.append(nn.ReLU())
        super().__init__(*layers)


class TripletGraphConv(nn.Module):
    """One triplet graph convolution (sg2im ``GraphTripleConv``) with average pooling (module docstring: the math).

    Parameters
    ----------
    in_channels : int
        Width of the node features ``x``.
    edge_channels : int
        Width of the predicate features ``edge_attr``; kept unchanged in the output.
    out_channels : int, optional
        Width of the node output (defaults to ``in_channels``).
    hidden_channels : int
        Width ``H`` of the triple messages.
    norm : {"layer", "batch", None}
        Normalisation after every linear layer of the two MLPs.
    residual : bool
        Add ``Linear(x)`` to the node output and ``Linear(edge_attr)`` to the predicate output.

    Notes
    -----
    Shapes:

    - input: ``x`` (N, in_channels), ``edge_index`` (2, E) rows (subject, object) with ids in ``[0, N)``,
      ``edge_attr`` (E, edge_channels)
    - output: ``(x_out (N, out_channels), edge_out (E, edge_channels))``

    Examples
    --------
    >>> conv = TripletGraphConv(16, edge_channels=8, out_channels=4, hidden_channels=32)
    >>> x, e = conv(torch.randn(3, 16), torch.tensor([[0, 1], [1, 2]]), torch.randn(2, 8))
    >>> tuple(x.shape), tuple(e.shape)
    ((3, 4), (2, 8))
    """

    def __init__(
        self,
        in_channels: int,
        edge_channels: int,
        out_channels: int | None = None,
        hidden_channels: int = 64,
        norm: str | None = "layer",
        residual: bool = True,
    ):
        super().__init__()
        out_channels = in_channels if out_channels is None else out_channels
        self.in_channels = check_int(in_channels, "in_channels", minimum=1)
        self.edge_channels = check_int(edge_channels, "edge_channels", minimum=1)
        self.out_channels = check_int(out_channels, "out_channels", minimum=1)
        self.hidden_channels = check_int(hidden_channels, "hidden_channels", minimum=1)
        self.norm = check_choice(norm, "norm", _NORMS)
        self.residual = check_bool(residual, "residual")
        h = hidden_channels
        self.net1 = _MLP([2 * in_channels + edge_channels, h, 2 * h + edge_channels], norm)
        self.net2 = _MLP([h, h, out_channels], norm)
        if self.residual:
            self.lin_node = nn.Linear(in_channels, out_channels)
            self.lin_edge = nn.Linear(edge_channels, edge_channels)
        self.reset_parameters()

    def reset_parameters(self):
        """Re-initialise the layers: Kaiming-normal weights (ReLU gain) and zero biases of every linear layer, the
        default initialisation of the normalisation layers (from torch's global generator)."""
        for module in self.modules():
            if isinstance(module, nn.Linear):
                nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
                nn.init.zeros_(module.bias)
            elif isinstance(module, (nn.LayerNorm, nn.BatchNorm1d)):
                module.reset_parameters()

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor):
        """``x`` (N, in_channels), ``edge_index`` (2, E) rows (subject, object), ``edge_attr`` (E, edge_channels).

        Returns ``(x_out (N, out_channels), edge_out (E, edge_channels))``. Node ids outside ``[0, N)`` raise
        :class:`ValueError`.
        """
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(
                f"`x` must have shape (num_nodes, {self.in_channels}), got {tuple(getattr(x, 'shape', ()))}"
            )
        edge_index = check_edge_index(edge_index, x.size(0))
        if (
            not isinstance(edge_attr, torch.Tensor)
            or edge_attr.dim() != 2
            or edge_attr.size(0) != edge_index.size(1)
            or edge_attr.size(1) != self.edge_channels
        ):
            raise ValueError(
                f"`edge_attr` must have shape ({edge_index.size(1)}, {self.edge_channels}), "
                f"got {tuple(getattr(edge_attr, 'shape', ()))}"
            )
        return self._convolve(x, edge_index, edge_attr)

    def _convolve(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor):
        """:meth:`forward` on validated inputs (the stack validates once for all its layers)."""
        n, h = x.size(0), self.hidden_channels
        s_idx, o_idx = edge_index[0], edge_index[1]
        if s_idx.numel() > 0:
            msg = self.net1(torch.cat([x[s_idx], edge_attr, x[o_idx]], dim=1))
            s_msg, p_msg, o_msg = msg[:, :h], msg[:, h : h + self.edge_channels], msg[:, h + self.edge_channels :]
        else:
            s_msg = o_msg = x.new_zeros(0, h)
            p_msg = x.new_zeros(0, self.edge_channels)
        pooled = x.new_zeros(n, h)
        pooled.index_add_(0, s_idx, s_msg)
        pooled.index_add_(0, o_idx, o_msg)
        counts = x.new_zeros(n)
        ones = x.new_ones(s_idx.numel())
        counts.index_add_(0, s_idx, ones)
        counts.index_add_(0, o_idx, ones)
        pooled = pooled / counts.clamp(min=1.0).unsqueeze(1)
        x_out = self.net2(pooled)
        edge_out = p_msg
        if self.residual:
            x_out = x_out + self.lin_node(x)
            edge_out = edge_out + self.lin_edge(edge_attr)
        return x_out, edge_out

    def __repr__(self):
        return (
            f"{type(self).__name__}({self.in_channels}, {self.out_channels}, edge={self.edge_channels}, "
            f"hidden={self.hidden_channels}, norm={self.norm}, residual={self.residual})"
        )


class TripletGCN(nn.Module):
    """A stack of :class:`TripletGraphConv` layers (sg2im ``GraphTripleConvNet``).

    All layers but the last keep ``in_channels``; the last maps to ``out_channels``. Predicates can be given as
    integer ids (embedded with an own ``nn.Embedding(num_predicates, edge_channels)``) or as features.

    Parameters
    ----------
    in_channels, edge_channels : int
        Widths of the node and predicate features.
    out_channels : int, optional
        Width of the last layer's node output (defaults to ``in_channels``).
    hidden_channels : int
        Width of the triple messages.
    num_layers : int
        Number of layers.
    norm : {"layer", "batch", None}
    residual : bool
    num_predicates : int, optional
        Size of the predicate vocabulary, for predicate ids as ``edge_attr``.

    Notes
    -----
    Shapes:

    - input: ``x`` (N, in_channels), ``edge_index`` (2, E), ``edge_attr`` (E,) predicate ids or
      (E, edge_channels) features
    - output: ``(x_out (N, out_channels), edge_out (E, edge_channels))``

    Examples
    --------
    >>> gcn = TripletGCN(32, edge_channels=16, out_channels=8, num_layers=3, num_predicates=16)
    >>> x, e = gcn(torch.randn(4, 32), torch.tensor([[0, 1], [1, 2]]), torch.tensor([3, 5]))
    >>> tuple(x.shape), tuple(e.shape)
    ((4, 8), (2, 16))
    """

    def __init__(
        self,
        in_channels: int,
        edge_channels: int,
        out_channels: int | None = None,
        hidden_channels: int = 64,
        num_layers: int = 5,
        norm: str | None = "layer",
        residual: bool = True,
        num_predicates: int | None = None,
    ):
        super().__init__()
        num_layers = check_int(num_layers, "num_layers", minimum=1)
        out_channels = in_channels if out_channels is None else out_channels
        self.in_channels, self.out_channels, self.edge_channels = in_channels, out_channels, edge_channels
        self.num_predicates = num_predicates
        self.embedding = None
        if num_predicates is not None:
            num_predicates = self.num_predicates = check_int(num_predicates, "num_predicates", minimum=1)
            self.embedding = nn.Embedding(num_predicates, edge_channels)
        self.layers = nn.ModuleList(
            [
                TripletGraphConv(
                    in_channels,
                    edge_channels,
                    out_channels if i == num_layers - 1 else in_channels,
                    hidden_channels,
                    norm=norm,
                    residual=residual,
                )
                for i in range(num_layers)
            ]
        )
        self.reset_parameters()

    def reset_parameters(self):
        """Re-initialise the predicate embedding (normal, std ``1 / sqrt(edge_channels)``) and every layer (see
        :meth:`TripletGraphConv.reset_parameters`), from torch's global generator."""
        if self.embedding is not None:
            nn.init.normal_(self.embedding.weight, std=1.0 / math.sqrt(self.edge_channels))
        for layer in self.layers:
            layer.reset_parameters()

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor):
        """Run every layer; see the class docstring for the shapes."""
        if not isinstance(x, torch.Tensor) or x.dim() != 2 or x.size(1) != self.in_channels:
            raise ValueError(
                f"`x` must have shape (num_nodes, {self.in_channels}), got {tuple(getattr(x, 'shape', ()))}"
            )
        edge_index = check_edge_index(edge_index, x.size(0))
        if not isinstance(edge_attr, torch.Tensor):
            raise ValueError(f"`edge_attr` must be a torch.Tensor, got {type(edge_attr).__name__}")
        if not edge_attr.is_floating_point():
            if self.embedding is None:
                raise ValueError("`edge_attr` holds predicate ids but the TripletGCN has no `num_predicates` embedding")
            if edge_attr.dim() != 1 or edge_attr.size(0) != edge_index.size(1):
                raise ValueError(
                    f"predicate ids in `edge_attr` must have shape ({edge_index.size(1)},), "
                    f"got {tuple(edge_attr.shape)}"
                )
            if edge_attr.numel() and (int(edge_attr.min()) < 0 or int(edge_attr.max()) >= self.num_predicates):
                raise ValueError(f"`edge_attr` holds predicate ids outside [0, num_predicates={self.num_predicates})")
            edge_attr = self.embedding(edge_attr)
        elif edge_attr.dim() != 2 or edge_attr.size(0) != edge_index.size(1) or edge_attr.size(1) != self.edge_channels:
            raise ValueError(
                f"`edge_attr` must have shape ({edge_index.size(1)}, {self.edge_channels}), "
                f"got {tuple(edge_attr.shape)}"
            )
        for layer in self.layers:
            x, edge_attr = layer._convolve(x, edge_index, edge_attr)
        return x, edge_attr
