"""EchoScene's networks: relation encoder, information echo, and the layout and shape denoisers.

Zhai et al., "EchoScene: Indoor Scene Generation via Information Echo over Scene Graph Diffusion" (ECCV 2024,
https://arxiv.org/abs/2405.00915), Sec. 3.2 (graph encoding), 3.3 (information echo) and 3.4 (layout and shape
branches), at a CPU scale (``shared/papers/echoscene.md`` Sec. 5.3).

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
as the reference code does (notes Sec. 1.9). With ``echo=False`` the graph is encoded once, statically
(:math:`u_i = [v_i \\| 0 \\| 0]`, the same parameters), CommonScenes-style: the per-node denoisers then only know the
graph, not where the other nodes currently are.

The reference denoiser of the layout branch is a "1-D UNet" over a sequence of length 1 whose cross-attention over
one context token reduces to a linear map of the echo feature (notes Sec. 1.4); here it is the equivalent residual MLP
with the context and time embedding added in every block. The shape branch diffuses a low-dimensional PCA code of a
tiny occupancy grid (the stand-in for the frozen VQ-VAE latent) with the same kind of denoiser.
"""

from __future__ import annotations

import torch
from torch import nn

from graphdiff.nn.embedding import timestep_embedding
from graphdiff.nn.triplet_gcn import TripletGCN

__all__ = ["ResidualDenoiser", "Echo", "EchoSceneNet"]  # timestep_embedding: graphdiff.nn.embedding

NUM_CLASSES = 14
NUM_PREDICATES = 16
NUM_ROOM_TYPES = 3


class ResidualDenoiser(nn.Module):
    """eps-prediction network for one node: a residual MLP whose blocks receive ``Linear([temb, context])``.

    ``x_dim -> width``, ``num_blocks`` pre-norm residual blocks, zero-initialised output layer.
    """

    def __init__(self, x_dim: int, context_dim: int, time_dim: int = 64, width: int = 128, num_blocks: int = 4):
        super().__init__()
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
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                m.reset_parameters()
        nn.init.zeros_(self.out.weight)

    def forward(self, x_t, temb, context):
        h = self.inp(x_t)
        cond = self.cond(torch.cat([temb, context], dim=1)).chunk(len(self.lin1), dim=1)
        for norm, l1, l2, c in zip(self.norms, self.lin1, self.lin2, cond):
            h = h + l2(torch.nn.functional.silu(l1(norm(h)) + c))
        return self.out(torch.nn.functional.silu(self.out_norm(h)))


class Echo(nn.Module):
    """The information echo of one branch: ``TripletGCN([v, phi(x_t), psi(temb)])`` over the scene graph.

    With ``echo=False`` the noisy-state and time parts are zero, so the output depends only on the graph and is
    computed once per sample (static encoding, same parameter count).
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
    ):
        super().__init__()
        self.echo = bool(echo)
        self.proj_dim = proj_dim
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
            num_predicates=NUM_PREDICATES,
        )

    def reset_parameters(self):
        self.x_proj.reset_parameters()
        self.t_proj.reset_parameters()
        self.gcn.reset_parameters()

    def forward(self, v, x_t, temb, edge_index, edge_type):
        if self.echo:
            u = torch.cat([v, self.x_proj(x_t), self.t_proj(temb)], dim=1)
        else:
            u = torch.cat([v, v.new_zeros(v.size(0), 2 * self.proj_dim)], dim=1)
        return self.gcn(u, edge_index, edge_type)[0]


def _predicate_mask(predicates):
    mask = torch.zeros(NUM_PREDICATES, dtype=torch.bool)
    mask[list(predicates) if predicates is not None else slice(None)] = True
    return mask


def _select(mask, edge_index, edge_type):
    if bool(mask.all()):
        return edge_index, edge_type
    keep = mask[edge_type]
    return edge_index[:, keep], edge_type[keep]


class _Branch(nn.Module):
    def __init__(self, x_dim, node_dim, cfg, echo, num_layers, predicates):
        super().__init__()
        self.register_buffer("predicate_mask", _predicate_mask(predicates), persistent=False)
        self.x_dim = x_dim
        self.time_dim = cfg["time_dim"]
        self.time_mlp = nn.Sequential(
            nn.Linear(cfg["time_dim"], cfg["time_dim"]), nn.SiLU(), nn.Linear(cfg["time_dim"], cfg["time_dim"])
        )
        self.echo = Echo(
            node_dim,
            x_dim,
            cfg["time_dim"],
            cfg["proj_dim"],
            cfg["context_dim"],
            cfg["gcn_hidden"],
            num_layers,
            cfg["pred_dim"],
            cfg["norm"],
            echo,
        )
        self.denoiser = ResidualDenoiser(x_dim, cfg["context_dim"], cfg["time_dim"], cfg["width"], cfg["num_blocks"])

    def reset_parameters(self):
        for m in self.time_mlp:
            if isinstance(m, nn.Linear):
                m.reset_parameters()
        self.echo.reset_parameters()
        self.denoiser.reset_parameters()

    def temb(self, t):
        return self.time_mlp(timestep_embedding(t, self.time_dim))

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
    relation encoder.

    Args mirror :class:`graphdiff.scene.EchoScene`; ``cfg`` keys: ``class_dim, pred_dim, latent_dim, encoder_layers,
    gcn_hidden, echo_layers, shape_echo_layers, proj_dim, context_dim, time_dim, width, num_blocks, norm, shape_dim,
    echo, echo_node_input, shape, layout_predicates, shape_predicates``. The relation encoder uses the layout
    predicates.
    """

    def __init__(self, cfg: dict):
        super().__init__()
        self.cfg = dict(cfg)
        self.class_emb = nn.Embedding(NUM_CLASSES, cfg["class_dim"])
        self.room_emb = nn.Embedding(NUM_ROOM_TYPES, cfg["class_dim"])
        if cfg["echo_node_input"] == "latent":
            self.encoder = TripletGCN(
                cfg["class_dim"],
                cfg["pred_dim"],
                cfg["latent_dim"],
                hidden_channels=cfg["gcn_hidden"],
                num_layers=cfg["encoder_layers"],
                norm=cfg["norm"],
                residual=True,
                num_predicates=NUM_PREDICATES,
            )
            node_dim = cfg["latent_dim"]
        else:
            self.encoder = None
            node_dim = cfg["class_dim"]
        # each branch's GCNs run over a subset of the predicates (None: all of them)
        self.register_buffer("encoder_mask", _predicate_mask(cfg["layout_predicates"]), persistent=False)
        self.layout = _Branch(8, node_dim, cfg, cfg["echo"], cfg["echo_layers"], cfg["layout_predicates"])
        self.shape = (
            _Branch(cfg["shape_dim"], node_dim, cfg, cfg["echo"], cfg["shape_echo_layers"], cfg["shape_predicates"])
            if cfg["shape"]
            else None
        )

    def reset_parameters(self):
        self.class_emb.reset_parameters()
        self.room_emb.reset_parameters()
        if self.encoder is not None:
            self.encoder.reset_parameters()
        self.layout.reset_parameters()
        if self.shape is not None:
            self.shape.reset_parameters()

    def node_input(self, node_class, room_of_node, edge_index, edge_type):
        """The static per-node input ``v``: the relation-encoder latent (paper) or the class embedding (code)."""
        h = self.class_emb(node_class) + self.room_emb(room_of_node)
        if self.encoder is not None:
            h = self.encoder(h, *_select(self.encoder_mask, edge_index, edge_type))[0]
        return h
