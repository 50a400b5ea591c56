r"""Mini-batch ERASE for graphs past memory: neighbour sampling on CSR and layer-wise inference in chunks.

ERASE (Chen et al., CIKM 2024, https://arxiv.org/abs/2312.08852) trains its encoder on the MCR\ :sup:`2` loss of
section 4.2 with the pseudo-labels of section 4.1 for all nodes. With ``ERASE(batch_size=b)`` every epoch
(issue 13):

1. the nodes are shuffled and split into ``ceil(N / b)`` batches of near-equal size (none dropped, no tiny last
   batch); for each batch the encoder's 2-hop computation graph is sampled (:class:`NeighborSampler`) and one Adam
   step minimises the coding-rate loss of the batch's embeddings under the current pseudo-labels;
2. one full-graph inference pass in eval mode (:func:`layerwise_inference`), layer by layer and in chunks of target
   nodes with **all** their neighbours, gives the prototypes, the propagated pseudo-labels of all nodes (used by the
   next epoch's batches, and the direct prediction), and the embeddings of the training, validation and monitored
   nodes only, on which the linear probe is fitted and scored. The ``N x out_channels`` embeddings are never held
   at once: each chunk's rows become their ``K`` semantic scores and are dropped; only the ``N x hidden`` first
   layer is kept between the two layers.

Design choice. PyG's ``NeighborLoader`` needs ``pyg-lib`` (not on PyPI) or ``torch-sparse`` (a long source build),
so the sampler here is pure torch and vectorised over the batch: the graph is stored once as CSR rows over targets;
for a batch it gathers the rows' edges with one ``repeat_interleave``, draws a uniform key per edge, sorts by (row,
key) and keeps the first ``k`` edges of each row: ``k`` neighbours without replacement (all of them when the row is
shorter, or with ``num_neighbors=None``). Each layer is a bipartite block (:meth:`CSRGraph.block
<graphdiff.nn.sparse_attention.CSRGraph.block>`) evaluated by the same sparse-product GAT as the full-batch path
(:func:`~graphdiff.nn.sparse_attention.gat_conv_csr`), so with all neighbours and one batch of all nodes the
mini-batch step computes the full-batch function (tested). A SIGN-style precomputed propagation would need no sampler
but would change the encoder (no attention), and ERASE's results are those of its GAT encoder; the sampler keeps the
encoder as it is.

Differences from the full-batch fit, by construction: the loss of a batch is the coding rate of the batch (a sample
of the nodes), and the pseudo-labels a batch trains on come from the previous epoch's eval-mode inference pass (the
first epoch's from a pass before training) instead of the training-mode forward of the same step. With
``dropout=0``, all neighbours and ``batch_size=N`` the two coincide (``tests/test_erase_minibatch.py``).
"""

from __future__ import annotations

import os

import torch
from torch import Tensor

from graphdiff.nn.sparse_attention import CSRGraph

__all__ = [
    "NeighborSampler",
    "layerwise_inference",
    "full_batch_memory_estimate",
    "available_memory_bytes",
]


class NeighborSampler:
    """Uniform neighbour sampling without replacement on a CSR graph, vectorised over a batch of target nodes.

    Parameters
    ----------
    edge_index : Tensor of shape (2, E)
        Edges ``source -> target``; self-loops are ignored (each block gets exactly one per target, as
        ``GATConv(add_self_loops=True)`` does).
    num_nodes : int
        ``N``.

    Examples
    --------
    >>> import torch
    >>> sampler = NeighborSampler(torch.tensor([[0, 1, 2, 3], [1, 2, 3, 0]]), 4)
    >>> nodes, blocks = sampler.sample(torch.tensor([1]), [None, None])
    >>> nodes.tolist(), [(b.num_targets, b.num_nodes) for b in blocks]
    ([1, 0, 3], [(2, 3), (1, 2)])
    """

    def __init__(self, edge_index: Tensor, num_nodes: int):
        src, dst = edge_index[0], edge_index[1]
        keep = src != dst
        src, dst = src[keep], dst[keep]
        order = torch.argsort(dst * num_nodes + src)
        self.col = src[order]
        self.crow = torch.zeros(num_nodes + 1, dtype=torch.long, device=src.device)
        self.crow[1:] = torch.cumsum(torch.bincount(dst, minlength=num_nodes), 0)
        self.num_nodes = int(num_nodes)
        self._local = torch.full((num_nodes,), -1, dtype=torch.long, device=src.device)

    def _neighbours(self, targets: Tensor, k: int | None) -> tuple[Tensor, Tensor]:
        """``(row, col)``: for each target (its position ``row`` in ``targets``) up to ``k`` sampled neighbours."""
        start, deg = self.crow[targets], self.crow[targets + 1] - self.crow[targets]
        row = torch.repeat_interleave(torch.arange(targets.numel(), device=targets.device), deg)
        offsets = torch.cumsum(deg, 0) - deg
        pos = torch.arange(row.numel(), device=targets.device) - offsets[row]
        col = self.col[start[row] + pos]
        if k is not None and bool((deg > k).any()):
            # a uniform random order within each row (sort by row + key, key in [0, 1)), keep the first k
            order = torch.argsort(
                row.to(torch.float64) + torch.rand(row.numel(), device=row.device, dtype=torch.float64)
            )
            row, col = row[order], col[order]
            pos = torch.arange(row.numel(), device=targets.device) - offsets[row]
            keep = pos < k
            row, col = row[keep], col[keep]
        return row, col

    def sample(self, targets: Tensor, num_neighbors) -> tuple[Tensor, list[CSRGraph]]:
        """The computation graph of ``targets`` for ``len(num_neighbors)`` layers.

        Parameters
        ----------
        targets : Tensor of shape (b,)
            Distinct node ids (the batch).
        num_neighbors : sequence of (int or None)
            Neighbours sampled per node, hop by hop from the batch (PyG's order: the first entry is the last
            layer's fan-in); ``None``: all.

        Returns
        -------
        nodes : Tensor
            Global ids of the first layer's source nodes (the batch first): the rows of ``x`` to feed.
        blocks : list of CSRGraph
            One bipartite block per layer, first layer first, with one self-loop per target; block ``i``'s targets
            are block ``i + 1``'s sources, and the last block's targets are ``targets`` in their order.
        """
        blocks = []
        nodes = targets
        for k in num_neighbors:
            row, col = self._neighbours(nodes, k)
            local = self._local
            local[nodes] = torch.arange(nodes.numel(), device=nodes.device)
            new = col[local[col] < 0].unique()
            sources = torch.cat([nodes, new])
            local[new] = torch.arange(nodes.numel(), sources.numel(), device=nodes.device)
            loops = torch.arange(nodes.numel(), device=nodes.device)
            block = CSRGraph.block(
                torch.cat([local[col], loops]), torch.cat([row, loops]), sources.numel(), nodes.numel(), True
            )
            local[sources] = -1
            blocks.append(block)
            nodes = sources
        return nodes, blocks[::-1]


@torch.no_grad()
def layerwise_inference(encoder, x: Tensor, sampler: NeighborSampler, chunk_size: int, on_chunk, first_ids=None):
    """Eval-mode embeddings of all nodes, layer by layer, in chunks of ``chunk_size`` target nodes with all their
    neighbours, handed to ``on_chunk(ids, z)`` chunk by chunk instead of being stacked.

    Parameters
    ----------
    encoder : ERASEEncoder
        A GAT encoder (in eval mode for inference).
    x : Tensor of shape (N, in_channels)
        Node features (dense or sparse COO).
    sampler : NeighborSampler
        The graph.
    chunk_size : int
        Target nodes per chunk.
    on_chunk : callable
        ``on_chunk(ids, z)`` for each chunk: node ids and their ``len(ids) x out_channels`` embeddings.
    first_ids : Tensor, optional
        Nodes whose chunk comes first (e.g. the training nodes, whose embeddings give the prototypes); the other
        nodes follow in id order.
    """
    n = sampler.num_nodes
    ids = torch.arange(n, device=sampler.crow.device)
    h = None
    for c in torch.split(ids, chunk_size):
        nodes, (block,) = sampler.sample(c, [None])
        part = encoder.layer1(x.index_select(0, nodes) if x.is_sparse else x[nodes], block)
        if h is None:
            h = part.new_empty(n, part.size(1))
        h[c] = part
    order = ids
    if first_ids is not None:
        rest = torch.ones(n, dtype=torch.bool, device=ids.device)
        rest[first_ids] = False
        on_chunk(first_ids, encoder.layer2(*_gather(h, sampler, first_ids)))
        order = ids[rest]
    for c in torch.split(order, chunk_size):
        on_chunk(c, encoder.layer2(*_gather(h, sampler, c)))


def _gather(h: Tensor, sampler: NeighborSampler, targets: Tensor):
    nodes, (block,) = sampler.sample(targets, [None])
    return h[nodes], block


def full_batch_memory_estimate(
    num_nodes: int, num_edges: int, num_features: int, hidden_channels: int, out_channels: int, heads: int
) -> int:
    """Bytes a full-batch ERASE epoch (GAT encoder, float32) needs at its peak, roughly.

    The inputs, about six live ``N x hidden`` and ``N x out`` tensors (forward outputs kept for the backward pass,
    their gradients, the eval pass), and per edge (self-loops included) its indices, attention values per head and
    their gradients. Calibrated on the contextual SBM at 1e5 nodes (64 features, 256 -> 512, measured peak RSS 2.2 GB
    against an estimate of 2.1 GB plus torch's own few hundred MB).

    Parameters
    ----------
    num_nodes, num_edges, num_features, hidden_channels, out_channels, heads : int
        ``N``, ``E`` (without self-loops), ``F`` and the encoder's widths.

    Returns
    -------
    int

    Examples
    --------
    >>> round(full_batch_memory_estimate(100_000, 1_000_000, 64, 256, 512, 8) / 1e9, 1)
    2.1
    """
    per_node = 4 * (2 * num_features + 6 * hidden_channels + 6 * out_channels)
    per_edge = 6 * 8 + 4 * 4 * heads
    return int(num_nodes * per_node + (num_edges + num_nodes) * per_edge)


def available_memory_bytes(device: torch.device) -> int | None:
    """Memory a fit may still take on ``device``: ``MemAvailable`` of ``/proc/meminfo`` (else free pages from
    ``os.sysconf``) on a CPU, the free memory of a CUDA device; ``None`` when unknown.

    Parameters
    ----------
    device : torch.device
        The fit's device.

    Returns
    -------
    int or None
    """
    if device.type == "cuda":
        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None
