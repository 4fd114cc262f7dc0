"""VideoDataset: a list of video files with their labels (MMAction2 format)."""

from typing import List, Optional

from mmaction.registry import DATASETS

from .base_action_dataset import BaseActionDataset
from .list_file import AnnotationError


@DATASETS.register_module()
class VideoDataset(BaseActionDataset):
    """Videos listed one per line as ``relative/path.mp4 label``.

    Multi-label lists (``multi_class=True``) put several labels after the path:
    ``path.mp4 3 17 42``. Paths are joined to ``data_prefix`` (``dict(video=folder)`` or, as in
    MMAction2 0.x configs, a string) and made absolute. Each item before the pipeline is::

        dict(filename=<absolute path>, label=<int or list of ints>, sample_idx=i,
             start_index=0, modality='RGB')

    Args:
        ann_file: the list file.
        pipeline: transforms.
        data_prefix: folder of the videos.
        suffix: appended to every path that does not already end with it (lists that omit the
            extension, e.g. ``'.webm'`` for SSv2 ids).
        kwargs: see :class:`BaseActionDataset` (``multi_class``, ``num_classes``, ``label_map``,
            ``test_mode``, ``start_index``, ``decode_timeout`` ...).
    """

    PREFIX_KEY = "video"

    def __init__(self, ann_file: str, pipeline=(), data_prefix=None, suffix: Optional[str] = None, **kwargs) -> None:
        self.suffix = suffix
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix, **kwargs)

    def parse_line(self, fields: List[str], where: str) -> dict:
        if len(fields) < 2:
            raise AnnotationError(f"{where}: expected 'path label', got {' '.join(fields)!r}")
        if not self.multi_class and len(fields) != 2:
            raise AnnotationError(
                f"{where}: expected 'path label' (2 fields), got {len(fields)} fields {fields!r}; a path with "
                "spaces needs another delimiter (e.g. delimiter='\\t'), several labels need multi_class=True"
            )
        path = fields[0]
        if self.suffix and not path.endswith(self.suffix):
            path += self.suffix
        return dict(filename=self.join_prefix(path), label=self.parse_labels(fields[1:], where))
