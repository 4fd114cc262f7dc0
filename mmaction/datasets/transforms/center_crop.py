"""CenterCrop: the central box of every frame."""

from typing import Sequence, Union

import numpy as np

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .unimplemented_args import warn_unimplemented
from .video_tensor import as_pair, check_crop_fits, crop_video, get_video, set_video


@TRANSFORMS.register_module()
class CenterCrop(BaseTransform):
    """Crops ``crop_size`` (int or (w, h)) at ``((W - w) // 2, (H - h) // 2)``.

    Args:
        crop_size: side, or (w, h).
        lazy: MMAction2 argument; accepted, ignored.
    """

    def __init__(self, crop_size: Union[int, Sequence[int]], lazy: bool = False) -> None:
        self.crop_size = as_pair(crop_size, "crop_size", "CenterCrop")
        self.lazy = lazy
        warn_unimplemented(self, "lazy", lazy, False, "the crop runs at once")

    def transform(self, results: dict) -> dict:
        video = get_video(results, "CenterCrop")
        h, w = int(video.shape[-2]), int(video.shape[-1])
        cw, ch = self.crop_size
        check_crop_fits("CenterCrop", (h, w), (cw, ch), results)
        left, top = (w - cw) // 2, (h - ch) // 2
        set_video(results, crop_video(video, left, top, cw, ch))
        results["crop_bbox"] = np.array([left, top, left + cw, top + ch])
        return results
