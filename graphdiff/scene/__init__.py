"""EchoScene: indoor scene generation by scene-graph diffusion with information echo.

Zhai et al., ECCV 2024, https://arxiv.org/abs/2405.00915. A layout branch (8-d boxes) and a shape branch (codes of
tiny occupancy grids) run one denoising process per node; at every denoising step the information echo passes each
branch's per-node states through a triplet GCN over the scene graph before the denoiser.

* :class:`EchoScene` -- the estimator (``fit`` on scenes, ``sample`` rooms from graphs, ``resample`` edited graphs);
* :class:`EchoSceneConfig` (the network) and :class:`TrainingConfig`, from ``graphdiff.scene.config``;
* ``graphdiff.scene.model`` -- the networks; ``graphdiff.scene.train`` -- loss and training loop;
* ``graphdiff.scene.codecs`` -- the fitted box and shape codecs, scenes as ``torch_geometric`` batches;
* ``graphdiff.scene.checkpoint`` -- verified checkpoints (:class:`CheckpointError`); :mod:`~graphdiff.scene.edits` --
  graph edits;
* :mod:`~graphdiff.scene.metrics` -- SG constraint accuracy, layout MMD, shape metrics;
* :mod:`~graphdiff.scene.guidance` -- relation-guided sampling (beyond the paper, off by default).

The full-size fit (2,000 rooms, the default 4,000 steps: about 3 CPU-minutes, one thread) is what the benchmark
reports; a tiny one for a first look:

>>> from graphdiff.data import scenes
>>> from graphdiff.scene import EchoScene
>>> model = EchoScene(steps=2, batch_size=2, width=16, num_blocks=1, echo_layers=1, shape=False, verbose=False)
>>> rooms = model.fit(scenes.generate_scenes(6)).sample(scenes.generate_scenes(3, seed=1), num_steps=3)
>>> len(rooms), rooms[0].boxes.shape[1]
(3, 7)
"""

from graphdiff.scene import edits, guidance, metrics
from graphdiff.scene.checkpoint import CheckpointError
from graphdiff.scene.config import EchoSceneConfig, TrainingConfig
from graphdiff.scene.estimator import EchoScene

__all__ = ["EchoScene", "EchoSceneConfig", "TrainingConfig", "CheckpointError", "edits", "guidance", "metrics"]
