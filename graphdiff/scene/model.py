"""EchoScene's networks: relation encoder, information echo, and the layout and shape denoisers.

Zhai et al., "EchoScene: Indoor Scene Generation via Information Echo over Scene Graph Diffusion" (ECCV 2024,
https://arxiv.org/abs/2405.00915), Sec. 3.2 (graph encoding), 3.3 (information echo) and 3.4 (layout and shape
branches), at a CPU scale (small widths, the structure of the paper's networks).

Every node of every scene in a batch has its own denoising process in each branch; all nodes share the denoiser
weights, and scenes are stacked as a disjoint union (PyG batching). At every denoising step :math:`t` the
**information echo** builds, for each node :math:`i`,

.. math::

    u_i = [\\, v_i \\,\\|\\, \\phi(x_t^i) \\,\\|\\, \\psi(\\pi(t)) \\,],
    \\qquad c = \\mathrm{TripletGCN}(u, E_{pred}(p), \\mathcal{E}),

where :math:`v_i` is the node's static input, :math:`\\phi, \\psi` linear maps of the noisy state and of the time
embedding :math:`\\pi(t)`, and the triplet GCN runs over the scene-graph edges :math:`\\mathcal{E}`. The denoiser
:math:`\\epsilon_\\theta(x_t^i, t, c_i)` then sees its own state plus what the other nodes' current noisy states "echo"
back through the graph. Following the paper, :math:`v_i = v_i^z` is the latent of a relation encoder (a triplet GCN
over class embeddings, computed once per sample); ``echo_node_input="class_emb"`` uses the class embedding instead,
as the authors' released code does. With ``echo=False`` the graph is encoded once, statically
(:math:`u_i = [v_i \\| 0 \\| 0]`, the same parameters), CommonScenes-style: the per-node denoisers then only know the
graph, not where the other nodes currently are.

The layout denoiser of the authors' released code is a "1-D UNet" over a sequence of length 1, whose
cross-attention over one context token reduces to a linear map of the echo feature; here it is the equivalent
residual MLP with the context and time embedding added in every block. The shape branch diffuses a low-dimensional
PCA code of a tiny occupancy grid (the stand-in for the frozen VQ-VAE latent) with the same kind of denoiser.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from graphdiff.base import warn_deprecated
from graphdiff.data.validation import check_bool, check_int
from graphdiff.nn.embedding import timestep_embedding as _timestep_embedding
from graphdiff.nn.triplet_gcn import TripletGCN
from graphdiff.scene.config import EchoSceneConfig

__all__ = ["ResidualDenoiser", "Echo", "EchoSceneNet"]


class ResidualDenoiser(nn.Module):
    """The eps-prediction network of one node: a residual MLP whose blocks receive ``Linear([temb, context])``.

    ``x_dim -> width``, ``num_blocks`` pre-norm residual blocks
    :math:`h \\leftarrow h + W_2\\,\\mathrm{SiLU}(W_1 \\mathrm{LN}(h) + c_b)` with :math:`c_b` the block's slice of
    ``Linear([temb, context])``, then ``LN -> SiLU -> Linear(width, x_dim)``, the output layer initialised to zero.

    Parameters
    ----------
    x_dim : int
        Width of the diffused state (8 for boxes, ``shape_dim`` for shape codes).
    context_dim, time_dim : int
        Widths of the echo context and of the time embedding.
    width, num_blocks : int
        Hidden width and number of residual blocks.

    Examples
    --------
    >>> net = ResidualDenoiser(x_dim=8, context_dim=16, time_dim=16, width=32, num_blocks=2)
    >>> eps = net(torch.randn(5, 8), torch.randn(5, 16), torch.randn(5, 16))
    >>> tuple(eps.shape), bool((eps == 0).all())  # zero-initialised output layer
    ((5, 8), True)
    """

    def __init__(self, x_dim: int, context_dim: int, time_dim: int = 64, width: int = 128, num_blocks: int = 4):
        super().__init__()
        x_dim, context_dim = check_int(x_dim, "x_dim", minimum=1), check_int(context_dim, "context_dim", minimum=1)
        time_dim, width = check_int(time_dim, "time_dim", minimum=1), check_int(width, "width", minimum=1)
        num_blocks = check_int(num_blocks, "num_blocks", minimum=1)
        self.x_dim, self.context_dim, self.time_dim, self.width = x_dim, context_dim, time_dim, width
        self.inp = nn.Linear(x_dim, width)
        self.cond = nn.Linear(time_dim + context_dim, width * num_blocks)
        self.norms = nn.ModuleList([nn.LayerNorm(width) for _ in range(num_blocks)])
        self.lin1 = nn.ModuleList([nn.Linear(width, width) for _ in range(num_blocks)])
        self.lin2 = nn.ModuleList([nn.Linear(width, width) for _ in range(num_blocks)])
        self.out_norm = nn.LayerNorm(width)
        self.out = nn.Linear(width, x_dim)
        self.reset_parameters()

    def reset_parameters(self):
        """Xavier-uniform weights, zero biases, the output layer zero."""
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                m.reset_parameters()
        nn.init.zeros_(self.out.weight)

    def forward(self, x_t, temb, context):
        """``x_t`` (N, x_dim), ``temb`` (N, time_dim), ``context`` (N, context_dim) -> eps (N, x_dim)."""
        h = self.inp(x_t)
        cond = self.cond(torch.cat([temb, context], dim=1)).chunk(len(self.lin1), dim=1)
        for norm, l1, l2, c in zip(self.norms, self.lin1, self.lin2, cond):
            h = h + l2(torch.nn.functional.silu(l1(norm(h)) + c))
        return self.out(torch.nn.functional.silu(self.out_norm(h)))


class Echo(nn.Module):
    """The information echo of one branch: ``TripletGCN([v, phi(x_t), psi(temb)])`` over the scene graph.

    With ``echo=False`` the noisy-state and time parts are zero, so the output depends only on the graph and is
    computed once per sample (static encoding, same parameter count).

    Parameters
    ----------
    node_dim, x_dim, time_dim : int
        Widths of the static node input ``v``, of the noisy state and of the time embedding.
    proj_dim : int
        Width of each of the two projections ``phi`` and ``psi``.
    out_dim, hidden_dim, num_layers, pred_dim : int
        Output width, hidden width, depth and predicate-embedding width of the triplet GCN.
    norm : {"layer", "batch", None}
    echo : bool
    num_predicates : int
        Size of the predicate vocabulary.

    Examples
    --------
    >>> echo = Echo(node_dim=8, x_dim=8, time_dim=16, proj_dim=4, out_dim=16, hidden_dim=16, num_layers=2)
    >>> ei, et = torch.tensor([[0, 1], [1, 2]]), torch.tensor([1, 3])
    >>> tuple(echo(torch.randn(3, 8), torch.randn(3, 8), torch.randn(3, 16), ei, et).shape)
    (3, 16)
    """

    def __init__(
        self,
        node_dim: int,
        x_dim: int,
        time_dim: int,
        proj_dim: int = 32,
        out_dim: int = 64,
        hidden_dim: int = 64,
        num_layers: int = 4,
        pred_dim: int = 32,
        norm: str | None = "layer",
        echo: bool = True,
        num_predicates: int = EchoSceneConfig.num_predicates,
    ):
        super().__init__()
        self.echo = check_bool(echo, "echo")
        self.proj_dim = check_int(proj_dim, "proj_dim", minimum=1)
        self.x_proj = nn.Linear(x_dim, proj_dim)
        self.t_proj = nn.Linear(time_dim, proj_dim)
        self.gcn = TripletGCN(
            node_dim + 2 * proj_dim,
            pred_dim,
            out_dim,
            hidden_channels=hidden_dim,
            num_layers=num_layers,
            norm=norm,
            residual=True,
            num_predicates=num_predicates,
        )

    def reset_parameters(self):
        self.x_proj.reset_parameters()
        self.t_proj.reset_parameters()
        self.gcn.reset_parameters()

    def forward(self, v, x_t, temb, edge_index, edge_type):
        """``v`` (N, node_dim), ``x_t`` (N, x_dim), ``temb`` (N, time_dim), ``edge_index`` (2, E), ``edge_type``
        (E,) predicate ids -> context (N, out_dim)."""
        if self.echo:
            u = torch.cat([v, self.x_proj(x_t), self.t_proj(temb)], dim=1)
        else:
            u = torch.cat([v, v.new_zeros(v.size(0), 2 * self.proj_dim)], dim=1)
        return self.gcn(u, edge_index, edge_type)[0]


def _predicate_mask(predicates, num_predicates):
    mask = torch.zeros(num_predicates, dtype=torch.bool)
    mask[list(predicates) if predicates is not None else slice(None)] = True
    return mask


def _select(mask, edge_index, edge_type):
    if bool(mask.all()):
        return edge_index, edge_type
    keep = mask[edge_type]
    return edge_index[:, keep], edge_type[keep]


class _Branch(nn.Module):
    """One diffusion branch: time MLP, echo over the branch's predicates, residual denoiser."""

    def __init__(self, x_dim: int, node_dim: int, config: EchoSceneConfig, num_layers: int, predicates):
        super().__init__()
        self.register_buffer("predicate_mask", _predicate_mask(predicates, config.num_predicates), persistent=False)
        self.x_dim = x_dim
        self.time_dim = config.time_dim
        self.time_mlp = nn.Sequential(
            nn.Linear(config.time_dim, config.time_dim), nn.SiLU(), nn.Linear(config.time_dim, config.time_dim)
        )
        self.echo = Echo(
            node_dim,
            x_dim,
            config.time_dim,
            config.proj_dim,
            config.context_dim,
            config.gcn_hidden,
            num_layers,
            config.pred_dim,
            config.norm,
            config.echo,
            num_predicates=config.num_predicates,
        )
        self.denoiser = ResidualDenoiser(x_dim, config.context_dim, config.time_dim, config.width, config.num_blocks)

    def reset_parameters(self):
        for m in self.time_mlp:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        self.echo.reset_parameters()
        self.denoiser.reset_parameters()

    def temb(self, t):
        return self.time_mlp(_timestep_embedding(t, self.time_dim))

    def context(self, v, x_t, temb, edge_index, edge_type):
        """The echo output over the edges whose predicate is in this branch's predicate set."""
        edge_index, edge_type = _select(self.predicate_mask, edge_index, edge_type)
        return self.echo(v, x_t, temb, edge_index, edge_type)

    def forward(self, x_t, t, v, edge_index, edge_type, context=None):
        """eps prediction; ``context`` may be passed in when the echo is off (computed once per sample)."""
        temb = self.temb(t)
        if context is None:
            context = self.context(v, x_t, temb, edge_index, edge_type)
        return self.denoiser(x_t, temb, context)


class EchoSceneNet(nn.Module):
    """The two-branch network (layout: 8-d boxes; shape: ``shape_dim``-d codes) with a shared class embedding and
    relation encoder; the relation encoder runs over the layout predicates.

    Parameters
    ----------
    config : EchoSceneConfig
        Every width, depth and switch (a ``dict`` of its fields is accepted with a DeprecationWarning).

    Attributes
    ----------
    layout, shape : module
        The branches; ``branch(x_t, t, v, edge_index, edge_type)`` predicts the noise of every node, ``shape`` is
        None with ``config.shape=False``.

    Examples
    --------
    >>> from graphdiff.scene.config import EchoSceneConfig
    >>> config = EchoSceneConfig(class_dim=8, pred_dim=8, latent_dim=8, gcn_hidden=16, width=32, num_blocks=1)
    >>> net = EchoSceneNet(config)
    >>> classes, room = torch.tensor([1, 2, 13]), torch.zeros(3, dtype=torch.long)  # bed, nightstand, floor
    >>> ei, et = torch.tensor([[1, 0, 1], [0, 2, 2]]), torch.tensor([1, 7, 7])  # left, standing on, standing on
    >>> v = net.node_input(classes, room, ei, et)
    >>> tuple(net.layout(torch.randn(3, 8), torch.full((3,), 500), v, ei, et).shape)
    (3, 8)
    """

    def __init__(self, config: EchoSceneConfig):
        super().__init__()
        if isinstance(config, dict):
            warn_deprecated("EchoSceneNet(cfg: dict)", "EchoSceneNet(EchoSceneConfig(...))")
            config = EchoSceneConfig(**config)
        if not isinstance(config, EchoSceneConfig):
            raise ValueError(f"`config` must be an EchoSceneConfig, got {type(config).__name__}")
        self.config = config
        self.class_emb = nn.Embedding(config.num_classes, config.class_dim)
        self.room_emb = nn.Embedding(config.num_room_types, config.class_dim)
        if config.echo_node_input == "latent":
            self.encoder = TripletGCN(
                config.class_dim,
                config.pred_dim,
                config.latent_dim,
                hidden_channels=config.gcn_hidden,
                num_layers=config.encoder_layers,
                norm=config.norm,
                residual=True,
                num_predicates=config.num_predicates,
            )
            node_dim = config.latent_dim
        else:
            self.encoder = None
            node_dim = config.class_dim
        # each branch's GCNs run over a subset of the predicates (None: all of them)
        self.register_buffer(
            "encoder_mask", _predicate_mask(config.layout_predicates, config.num_predicates), persistent=False
        )
        self.layout = _Branch(8, node_dim, config, config.echo_layers, config.layout_predicates)
        self.shape = (
            _Branch(config.shape_dim, node_dim, config, config.shape_echo_layers, config.shape_predicates)
            if config.shape
            else None
        )

    @property
    def cfg(self) -> dict:
        """Deprecated: the configuration as a dict; use :attr:`config`."""
        warn_deprecated("EchoSceneNet.cfg", "EchoSceneNet.config")
        return dataclasses.asdict(self.config)

    def reset_parameters(self):
        self.class_emb.reset_parameters()
        self.room_emb.reset_parameters()
        if self.encoder is not None:
            self.encoder.reset_parameters()
        self.layout.reset_parameters()
        if self.shape is not None:
            self.shape.reset_parameters()

    def node_input(self, node_class, room_of_node, edge_index, edge_type):
        """The static per-node input ``v``: the relation-encoder latent (paper) or the class embedding.

        ``node_class`` (N,) class ids, ``room_of_node`` (N,) room-type ids, ``edge_index`` (2, E), ``edge_type``
        (E,) predicate ids -> ``v`` (N, latent_dim or class_dim).
        """
        h = self.class_emb(node_class) + self.room_emb(room_of_node)
        if self.encoder is not None:
            h = self.encoder(h, *_select(self.encoder_mask, edge_index, edge_type))[0]
        return h


# moved in 0.2.0; importable from here for one release
_MOVED = {
    "timestep_embedding": ("graphdiff.nn.embedding", "timestep_embedding"),
    "NUM_CLASSES": ("graphdiff.data.scenes", "NUM_CLASSES"),
    "NUM_PREDICATES": ("graphdiff.data.scenes", "NUM_PREDICATES"),
    "NUM_ROOM_TYPES": ("graphdiff.data.scenes", "NUM_ROOM_TYPES"),
}


def __getattr__(name):
    if name in _MOVED:
        import importlib

        module, attr = _MOVED[name]
        warn_deprecated(f"graphdiff.scene.model.{name}", f"{module}.{attr}")
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
