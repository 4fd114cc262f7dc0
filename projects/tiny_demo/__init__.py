"""The CPU demo: AIM in miniature, on generated videos, with nothing to download.

``configs/recognition/vit/vitclip_tiny_demo.py`` imports this package (``custom_imports``),
which registers:

- ``MovingShapesDataset`` (:mod:`.moving_shapes_dataset`): the demo's videos, written on first use
  by :mod:`.moving_shapes`;
- ``PretrainImageModelHook`` (:mod:`.pretrain_hook`): pre-trains the tiny CLIP-layout image model
  (:mod:`.image_pretrain`) before training loads it.

By hand: ``python -m projects.tiny_demo.tools.make_demo_dataset`` and
``python -m projects.tiny_demo.tools.pretrain_demo_backbone`` (see README.md here).
"""

from .moving_shapes_dataset import MovingShapesDataset
from .pretrain_hook import PretrainImageModelHook

__all__ = ["MovingShapesDataset", "PretrainImageModelHook"]
