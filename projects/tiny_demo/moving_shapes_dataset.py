"""``MovingShapesDataset``: the demo's videos, written on first use, read as a ``VideoDataset``.

In a config::

    dict(type='MovingShapesDataset', data_root='data/demo', split='train',
         spec=dict(size=48, frames=16, num_train=2000, ...),   # projects.tiny_demo.moving_shapes.DemoSpec
         pipeline=[...])

The first dataset built writes the whole folder (every split and the pre-training images, see
:func:`projects.tiny_demo.moving_shapes.make_demo_dataset`) unless it already holds a dataset
made with ``spec``; the next ones find it in place. In a distributed job rank 0 writes while the
other ranks wait. The splits of one run share one ``spec`` (the demo config gives all three the
same ``demo_spec``): a split asking for another one would regenerate the folder. The list file (``<data_root>/<split>_list_videos.txt``) and the video folder
are the dataset's own: a config that wants to read its own list uses ``type='VideoDataset'``
(with ``_delete_=True`` when it inherits the demo's dataset dict), so it never generates anything.
"""

import time
from pathlib import Path
from typing import Any, Dict, Optional

from mmengine.dist import barrier, get_rank
from mmengine.logging import print_log

from mmaction.datasets import VideoDataset
from mmaction.engine.runner.config_check import ConfigError
from mmaction.registry import DATASETS

from .moving_shapes import SPLITS, DemoSpec, is_complete, make_demo_dataset

def demo_spec(spec: Optional[Dict[str, Any]], where: str = "MovingShapesDataset.spec") -> DemoSpec:
    """``DemoSpec(**spec)``, a wrong key or value raised as one ConfigError naming ``where``."""
    try:
        return DemoSpec(**dict(spec or {}))
    except (TypeError, ValueError) as err:
        raise ConfigError(f"{where}: {err}") from None


def ensure_demo_dataset(data_root: str, spec: DemoSpec) -> None:
    """Makes sure ``data_root`` holds the dataset of ``spec``: rank 0 writes it (with progress
    lines) while the other ranks wait at a barrier; a no-op when it is already there.

    Raises:
        RuntimeError: on a rank that cannot see the finished dataset (no shared file system).
    """
    root = Path(data_root)
    if get_rank() == 0 and not is_complete(root, spec):
        start = time.time()
        info = make_demo_dataset(root, spec, log=True)
        print_log(f"demo dataset written to {root} ({spec.num_train} train / {spec.num_val} val / "
                  f"{spec.num_test} test videos, content sha256 {str(info['content_sha256'])[:12]}) "
                  f"in {time.time() - start:.1f} s", logger="current")
    barrier()
    if not is_complete(root, spec):
        raise RuntimeError(f"MovingShapesDataset: rank {get_rank()} sees no finished demo dataset in {root} "
                           "(rank 0 writes it; the ranks need a shared folder)")


@DATASETS.register_module()
class MovingShapesDataset(VideoDataset):
    """The demo's videos of one split; the folder is generated when it is missing or was made
    with another ``spec``.

    Args:
        data_root: folder of the generated dataset.
        split: ``'train'``, ``'val'`` or ``'test'``.
        spec: :class:`~projects.tiny_demo.moving_shapes.DemoSpec` fields (sizes, counts, seed).
        kwargs: :class:`VideoDataset` arguments (``pipeline``, ``test_mode`` ...), but not
            ``ann_file`` or ``data_prefix``, which the dataset sets itself.

    Raises:
        ConfigError: a wrong ``split``, ``spec`` field or an ``ann_file``/``data_prefix`` given
            (checked before anything is written).
    """

    def __init__(self, data_root: str, split: str, spec: Optional[Dict[str, Any]] = None, **kwargs) -> None:
        if split not in SPLITS:
            raise ConfigError(f"MovingShapesDataset.split must be one of {list(SPLITS)}, got {split!r}")
        own = sorted(k for k in ("ann_file", "data_prefix") if k in kwargs)
        if own:
            raise ConfigError(
                f"MovingShapesDataset: {', '.join(own)} given, but the demo dataset writes and reads its own list "
                f"({data_root}/{split}_list_videos.txt); to read your own list use type='VideoDataset' "
                "(with _delete_=True in a config that inherits the demo's dataset)")
        demo = demo_spec(spec)
        ensure_demo_dataset(data_root, demo)
        self.demo_root, self.split, self.spec = str(data_root), split, demo
        super().__init__(ann_file=str(Path(data_root) / f"{split}_list_videos.txt"),
                         data_prefix=dict(video=str(data_root)), **kwargs)
