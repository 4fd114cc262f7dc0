"""RawframeDataset: videos stored as folders of frame images (MMAction2 format)."""

from typing import List

from mmaction.registry import DATASETS

from .base_action_dataset import BaseActionDataset
from .list_file import AnnotationError


@DATASETS.register_module()
class RawframeDataset(BaseActionDataset):
    """Frame folders listed one per line as ``frame_dir total_frames label``.

    With ``with_offset=True`` lines are ``frame_dir offset total_frames label`` (a clip of a longer
    frame folder starting after ``offset`` frames). Multi-label lists put several labels at the end.
    Frames are files ``filename_tmpl.format(i)`` for ``i`` from ``start_index`` (default 1:
    ``img_00001.jpg``). Each item before the pipeline is::

        dict(frame_dir=<absolute path>, total_frames=n, label=..., filename_tmpl=...,
             offset=0, sample_idx=i, start_index=1, modality='RGB')

    Args:
        ann_file: the list file.
        pipeline: transforms.
        data_prefix: folder of the frame folders (``dict(img=folder)`` or a string).
        filename_tmpl: frame file name template.
        with_offset: lines carry an offset.
        start_index: index of the first frame file.
        kwargs: see :class:`BaseActionDataset`.
    """

    PREFIX_KEY = "img"

    def __init__(
        self,
        ann_file: str,
        pipeline=(),
        data_prefix=None,
        filename_tmpl: str = "img_{:05d}.jpg",
        with_offset: bool = False,
        start_index: int = 1,
        **kwargs,
    ) -> None:
        try:
            filename_tmpl.format(1)
        except (IndexError, KeyError, ValueError) as e:
            raise ValueError(f"RawframeDataset: filename_tmpl {filename_tmpl!r} does not format an int ({e})") from None
        self.filename_tmpl = filename_tmpl
        self.with_offset = with_offset
        super().__init__(ann_file, pipeline=pipeline, data_prefix=data_prefix, start_index=start_index, **kwargs)

    def _count(self, text: str, what: str, where: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise AnnotationError(f"{where}: {what} {text!r} is not an integer") from None
        if value < 0:
            raise AnnotationError(f"{where}: {what} {value} is negative")
        return value

    def parse_line(self, fields: List[str], where: str) -> dict:
        head = 3 if self.with_offset else 2
        layout = "'frame_dir offset total_frames label'" if self.with_offset else "'frame_dir total_frames label'"
        if len(fields) < head + 1 or (not self.multi_class and len(fields) != head + 1):
            raise AnnotationError(f"{where}: expected {layout}, got {len(fields)} fields {fields!r}")
        info = dict(frame_dir=self.join_prefix(fields[0]), filename_tmpl=self.filename_tmpl)
        if self.with_offset:
            info["offset"] = self._count(fields[1], "offset", where)
        info["total_frames"] = self._count(fields[head - 1], "total_frames", where)
        if info["total_frames"] == 0:
            raise AnnotationError(f"{where}: total_frames is 0")
        info["label"] = self.parse_labels(fields[head:], where)
        return info

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        if info.get("offset"):
            info["start_index"] = info["start_index"] + info["offset"]
        return info
