"""EchoScene: indoor scene generation by scene-graph diffusion with information echo.

Zhai et al., ECCV 2024, https://arxiv.org/abs/2405.00915. A layout branch (8-d boxes) and a shape branch (codes of
tiny occupancy grids) run one denoising process per node; at every denoising step the information echo passes each
branch's per-node states through a triplet GCN over the scene graph before the denoiser.

>>> from graphdiff.data import scenes
>>> from graphdiff.scene import EchoScene
>>> train = scenes.generate_scenes(2000, seed=0)
>>> model = EchoScene(steps=3000).fit(train)                      # doctest: +SKIP
>>> rooms = model.sample(scenes.generate_scenes(10, seed=1))      # doctest: +SKIP
"""

from graphdiff.scene import edits, metrics
from graphdiff.scene.estimator import EchoScene

__all__ = ["EchoScene", "edits", "metrics"]
