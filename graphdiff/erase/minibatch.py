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

Randomness. Every draw of a mini-batch fit is a function of ``seed`` and the place it belongs to, not of a
generator's position: the node order of epoch ``e`` is a ``randperm`` of a generator seeded with ``(seed, e)``; the
neighbours sampled for a node at hop ``h`` of step ``s`` follow the order of a counter-based hash of ``(seed, e, s,
h, edge id)``, and the dropout mask of feature ``f`` of node ``i`` a hash of ``(seed, e, s, i, f)``
(:func:`keyed_dropout`). The computation of a node in a step is therefore the same whichever batch or shard of a
batch it is computed in: a data-parallel fit (:mod:`graphdiff.erase.distributed`), whose processes each embed a
shard of every global batch, sees the same neighbours and dropout masks as one process on the same global batch.
The hash (Wellons' ``lowbias32`` on int32 lanes, whose products wrap modulo :math:`2^{32}`, in blocks of rows)
costs about 6 % of a step at :math:`10^6` nodes.

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
    "keyed_dropout",
    "stream_key",
    "layerwise_inference",
    "full_batch_memory_estimate",
    "available_memory_bytes",
]


_M32 = 0xFFFFFFFF
_GOLDEN = 0x9E3779B9  # 2**32 / golden ratio: a Weyl step between the counters of one row
_DROPOUT_BLOCK = 2**18  # elements per block of keyed_dropout's hashes: 1 MB int32 temporaries


def _mix32(x):
    """Wellons' ``lowbias32`` finaliser on values in ``[0, 2**32)``: a Python int, or an int64 tensor (a new one)."""
    if isinstance(x, Tensor):
        return _mix32_lanes(x.to(torch.int32)).to(torch.int64).bitwise_and_(_M32)
    x ^= x >> 16
    x = (x * 0x7FEB352D) & _M32
    x ^= x >> 15
    x = (x * 0x846CA68B) & _M32
    return x ^ (x >> 16)


def _mix32_lanes(x: Tensor) -> Tensor:
    """:func:`_mix32` on the bits of an int32 tensor, in place: int32 products wrap modulo 2**32 (a vector
    multiply; an int64 one is emulated on most CPUs, five times slower here), and the logical right shifts of
    unsigned 32-bit arithmetic are arithmetic shifts with the sign-extended bits masked off."""
    x ^= (x >> 16) & 0xFFFF
    x.mul_(0x7FEB352D)
    x ^= (x >> 15) & 0x1FFFF
    x.mul_(0x846CA68B - 2**32)  # the same 32 bits as a signed int32
    x ^= (x >> 16) & 0xFFFF
    return x


def _at_least(bits: Tensor, threshold: int) -> Tensor:
    """``bits >= threshold`` with the int32 ``bits`` read as unsigned 32-bit values, ``threshold`` in
    ``[0, 2**32]``: flipping the sign bit maps unsigned order onto signed order."""
    if threshold >= 2**32:
        return torch.zeros_like(bits, dtype=torch.bool)
    return (bits ^ -(2**31)) >= threshold - 2**31


def stream_key(*parts: int) -> int:
    """A 32-bit key hashed from integers, e.g. ``(seed, epoch, step, purpose)``: the key of one stream of draws.

    Parameters
    ----------
    *parts : int
        Any integers (negative ones are taken modulo :math:`2^{64}`).

    Returns
    -------
    int
        In ``[0, 2**32)``.

    Examples
    --------
    >>> stream_key(0, 1, 2) == stream_key(0, 1, 2), stream_key(0, 1, 2) == stream_key(0, 2, 1)
    (True, False)
    """
    h = 0x2545F491
    for part in parts:
        part = int(part) & (2**64 - 1)
        h = _mix32((h + (part & _M32)) & _M32)
        h = _mix32(h ^ (part >> 32))
    return h


def _hash_ids(key: int, ids: Tensor) -> Tensor:
    """32-bit hashes (int64 tensor) of non-negative int64 ``ids`` under ``key``: a pure function of both."""
    h = _mix32(torch.bitwise_and(ids, _M32).bitwise_xor_(key))
    return _mix32(h.bitwise_xor_(ids >> 32))


def keyed_dropout(x: Tensor, node_ids: Tensor, p: float, key: int) -> Tensor:
    """Dropout of the rows of ``x`` (features of the nodes ``node_ids``) whose mask is a function of ``key``, the
    node id and the feature index only: the same node gets the same mask in any batch drawn with the same key.

    Parameters
    ----------
    x : Tensor of shape (n, F)
        Dense or sparse COO features (for a sparse tensor the stored entries are dropped, as
        ``graphdiff.erase.encoder.sparse_dropout`` does).
    node_ids : Tensor of shape (n,)
        The global id of each row.
    p : float
        Drop probability, in ``[0, 1)``.
    key : int
        The stream (:func:`stream_key`), e.g. of one training step.

    Returns
    -------
    Tensor
        Same layout and shape as ``x``; kept entries scaled by ``1 / (1 - p)``.

    Examples
    --------
    >>> import torch
    >>> x = torch.ones(3, 1000)
    >>> a = keyed_dropout(x, torch.tensor([4, 7, 9]), 0.5, key=1)
    >>> b = keyed_dropout(x[1:], torch.tensor([7, 9]), 0.5, key=1)  # the same nodes in another batch
    >>> torch.equal(a[1:], b), round(float((a == 0).float().mean()), 1), float(a.max())
    (True, 0.5, 2.0)
    """
    if p == 0.0:
        return x
    threshold = min(int(round(p * 2**32)), 2**32)  # drop where the hash is below: probability p (to 2**-32)
    node_hash = _hash_ids(key, node_ids)
    if x.is_sparse:
        x = x.coalesce()
        rows, cols = x.indices()
        keep = _mix32(node_hash[rows].add_(cols * _GOLDEN).bitwise_and_(_M32)) >= threshold
        values = x.values() * keep.to(x.dtype) * (1.0 / (1.0 - p))
        return torch.sparse_coo_tensor(x.indices(), values, x.shape, is_coalesced=True, check_invariants=False)
    # The n x F hashes are the cost of this function: on 32-bit lanes (the sums wrap modulo 2**32), and in blocks
    # of rows whose temporaries stay small; whole-tensor temporaries (72 MB each for a 10^6-node batch's 286k x
    # 64 inputs) are mapped afresh and page-faulted by every operation, four times slower on a CPU.
    cols = (torch.arange(x.size(1), device=x.device) * _GOLDEN).bitwise_and_(_M32).to(torch.int32)
    node_hash = node_hash.to(torch.int32).unsqueeze(1)
    # with a gradient to x: the scaled mask block by block, then one product autograd sees; without: the output
    out = torch.empty_like(x, requires_grad=False)
    scale = 1.0 / (1.0 - p)
    rows = max(1, _DROPOUT_BLOCK // max(1, x.size(1)))
    for start in range(0, x.size(0), rows):
        block = slice(start, start + rows)
        mask = _at_least(_mix32_lanes(node_hash[block] + cols), threshold).to(x.dtype).mul_(scale)
        if x.requires_grad:
            out[block] = mask
        else:
            torch.mul(x[block], mask, out=out[block])  # x * 1 is x: the same values as (x * keep) * scale
    return x * out if x.requires_grad else out


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

    def _neighbours(self, targets: Tensor, k: int | None, key: int | None = None) -> tuple[Tensor, Tensor]:
        """``(row, col)``: for each target (its position ``row`` in ``targets``) up to ``k`` sampled neighbours."""
        start, deg = self.crow[targets], self.crow[targets + 1] - self.crow[targets]
        row = torch.repeat_interleave(torch.arange(targets.numel(), device=targets.device), deg)
        offsets = torch.cumsum(deg, 0) - deg
        pos = torch.arange(row.numel(), device=targets.device) - offsets[row]
        edge = start[row] + pos  # the edge's position in the CSR arrays: a global edge id
        col = self.col[edge]
        if k is not None and bool((deg > k).any()):
            # a uniform random order within each row, keep the first k
            if key is None:  # from torch's generator: sort by row + uniform in [0, 1)
                order = torch.argsort(
                    row.to(torch.float64) + torch.rand(row.numel(), device=row.device, dtype=torch.float64)
                )
            else:  # by the hash of (key, edge id): a node's sample depends on nothing else (not on its row)
                order = torch.argsort((row << 32) + _hash_ids(key, edge), stable=True)
            row, col = row[order], col[order]
            pos = torch.arange(row.numel(), device=targets.device) - offsets[row]
            keep = pos < k
            row, col = row[keep], col[keep]
        return row, col

    def sample(self, targets: Tensor, num_neighbors, key: int | None = None) -> tuple[Tensor, list[CSRGraph]]:
        """The computation graph of ``targets`` for ``len(num_neighbors)`` layers.

        Parameters
        ----------
        targets : Tensor of shape (b,)
            Distinct node ids (the batch).
        num_neighbors : sequence of (int or None)
            Neighbours sampled per node, hop by hop from the batch (PyG's order: the first entry is the last
            layer's fan-in); ``None``: all.
        key : int, optional
            Draw the neighbours from the hash of ``(key, hop, edge)`` (:func:`stream_key`) instead of torch's
            generator: a node's neighbours at a hop are then the same in every batch sampled with this key, so
            the computation graph of a subset of ``targets`` is the restriction of that of ``targets``.

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
        for hop, k in enumerate(num_neighbors):
            row, col = self._neighbours(nodes, k, None if key is None else stream_key(key, hop))
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


class _BatchForward(torch.nn.Module):
    """The training forward of a sampled batch with keyed dropout: the module a data-parallel fit wraps in
    ``DistributedDataParallel`` (whose hooks need the forward to go through the wrapper)."""

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def forward(self, x: Tensor, node_ids: Tensor, blocks: list, dropout_key: int) -> Tensor:
        x = keyed_dropout(x, node_ids, self.encoder.dropout, dropout_key)
        return self.encoder.layer2(self.encoder.layer1(x, blocks[0]), blocks[1])


class _DataParallel:
    """The ``torch.distributed`` process group a mini-batch fit trains on (:mod:`graphdiff.erase.distributed`)."""

    def __init__(self, group, rank: int, world_size: int, device: torch.device):
        self.group, self.rank, self.world_size, self.device = group, rank, world_size, device

    def shard(self, batch: Tensor) -> Tensor:
        """This process's part of a global batch (near-equal parts, in rank order)."""
        return batch.tensor_split(self.world_size)[self.rank]

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        # DDP averages the gradients over the processes; with the all-reduced coding rate each process holds
        # world_size times its share of the union loss's gradient, so the average is that gradient exactly
        return torch.nn.parallel.DistributedDataParallel(module, process_group=self.group)

    def broadcast_score(self, score: float | None) -> float | None:
        """Rank 0's selection score on every process (``None`` stays ``None``), so that selection and early
        stopping, which decide how many collective steps follow, cannot differ between processes."""
        value = torch.tensor([float("nan") if score is None else score], dtype=torch.float64, device=self.device)
        torch.distributed.broadcast(value, src=self._global(0), group=self.group)
        return None if torch.isnan(value).item() else float(value.item())

    def sum_rows(self, tensor: Tensor, shared_rows: Tensor | None = None) -> Tensor:
        """All-reduce (sum, in place) a buffer whose rows this process filled for its chunks of a sharded
        :func:`layerwise_inference` (zeros elsewhere); ``shared_rows``, which every process filled alike (the
        ``first_ids`` chunk), count once: rank 0's."""
        if shared_rows is not None and self.rank != 0:
            tensor[shared_rows] = 0
        torch.distributed.all_reduce(tensor, group=self.group)
        return tensor

    def broadcast_object(self, obj):
        """Rank 0's ``obj`` (picklable) on every process."""
        box = [obj if self.rank == 0 else None]
        torch.distributed.broadcast_object_list(box, src=self._global(0), group=self.group, device=self._comm_device)
        return box[0]

    @property
    def _comm_device(self):
        return self.device if torch.distributed.get_backend(self.group) == "nccl" else torch.device("cpu")

    def _global(self, group_rank: int) -> int:
        return torch.distributed.get_global_rank(self.group, group_rank)


def data_parallel_group(batch_size: int | None, device: torch.device, group=None) -> _DataParallel | None:
    """The data-parallel setting of a fit: ``None`` outside an initialised process group of more than one process.

    Parameters
    ----------
    batch_size : int or None
        The fit's (global) batch size; ``None`` for full-batch training.
    device : torch.device
        The fit's device.
    group : torch.distributed.ProcessGroup, optional
        The processes (default: the whole world).

    Returns
    -------
    _DataParallel or None

    Raises
    ------
    ValueError
        For a full-batch fit or a global batch size the world size does not divide, and for an NCCL group with a
        device that is not CUDA.
    """
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return None
    group = dist.group.WORLD if group is None else group
    world_size = dist.get_world_size(group)
    if world_size == 1:
        return None
    if batch_size is None:
        raise ValueError(
            f"ERASE runs in a torch.distributed process group of {world_size} processes: data-parallel training "
            "works on mini-batches, pass `batch_size` (the global batch size, divisible by the world size)"
        )
    if batch_size % world_size:
        raise ValueError(
            f"`batch_size` ({batch_size}) must be divisible by the world size ({world_size}): it is the global "
            f"batch size, of which each process embeds batch_size / world size nodes per step"
        )
    backend = dist.get_backend(group)
    if backend == "nccl" and device.type != "cuda":
        raise ValueError(
            f"the process group's backend is nccl, which needs CUDA tensors, but `device` is {device}: pass "
            "device=f'cuda:{local_rank}' or use the gloo backend on CPUs"
        )
    return _DataParallel(group, dist.get_rank(group), world_size, device)


@torch.no_grad()
def layerwise_inference(
    encoder, x: Tensor, sampler: NeighborSampler, chunk_size: int, on_chunk, first_ids=None, parallel=None
):
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
    parallel : optional
        The data-parallel group of a fit (``data_parallel_group``): the pass is sharded. Each process
        computes the first layer for every ``W``-th chunk, the first-layer rows of all nodes are summed over the
        processes (each row is computed by one of them, zeros elsewhere), and ``on_chunk`` is called for the
        ``first_ids`` chunk on every process and for every ``W``-th of the other chunks; the caller combines
        what its ``on_chunk`` filled with ``parallel.sum_rows`` (zero-initialised buffers, ``first_ids`` rows
        shared). About ``1 / W`` of the work per process, for an all-reduce of ``N x hidden`` floats.
    """
    n = sampler.num_nodes
    rank, world = (0, 1) if parallel is None else (parallel.rank, parallel.world_size)
    ids = torch.arange(n, device=sampler.crow.device)
    h = None
    for i, c in enumerate(torch.split(ids, chunk_size)):
        if i % world != rank:
            continue
        nodes, (block,) = sampler.sample(c, [None])
        part = encoder.layer1(x.index_select(0, nodes) if x.is_sparse else x[nodes], block)
        if h is None:
            h = part.new_empty(n, part.size(1)) if world == 1 else part.new_zeros(n, part.size(1))
        h[c] = part
    if world > 1:
        if h is None:  # fewer chunks than processes: this one computed none, but takes part in the sum
            weight = next(encoder.parameters())
            h = torch.zeros(n, encoder.hidden_channels, dtype=weight.dtype, device=weight.device)
        parallel.sum_rows(h)
    order = ids
    if first_ids is not None:
        rest = torch.ones(n, dtype=torch.bool, device=ids.device)
        rest[first_ids] = False
        on_chunk(first_ids, encoder.layer2(*_gather(h, sampler, first_ids)))
        order = ids[rest]
    for i, c in enumerate(torch.split(order, chunk_size)):
        if i % world == rank:
            on_chunk(c, encoder.layer2(*_gather(h, sampler, c)))


def _gather(h: Tensor, sampler: NeighborSampler, targets: Tensor):
    nodes, (block,) = sampler.sample(targets, [None])
    return h[nodes], block


def full_batch_memory_estimate(
    num_nodes: int, num_edges: int, num_features: int, hidden_channels: int, out_channels: int, heads: int
) -> int:
    """Bytes a full-batch ERASE epoch (GAT encoder, float32) needs at its peak, roughly.

    The inputs, about six live ``N x hidden`` and five ``N x out`` tensors (forward outputs kept for the backward
    pass, their gradients, the eval pass), and per edge (self-loops included) its indices, attention values per
    head and their gradients. Calibrated on the contextual SBM at 1e5 nodes (64 features, 256 -> 512, measured peak
    RSS 1.9 GB, torch's own few hundred MB included, against an estimate of 1.9 GB).

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
    1.9
    """
    per_node = 4 * (2 * num_features + 6 * hidden_channels + 5 * out_channels)
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
