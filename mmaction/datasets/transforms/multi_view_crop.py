"""ThreeCrop and TenCrop: several spatial views per clip, for testing.

The views are stacked crop-major: ``imgs`` goes from (N, C, H, W) to (V * N, C, h, w), where the
first N frames are view 0, and so on. ``FormatShape`` turns that into ``V * num_clips`` clips.
"""

from typing import List, Sequence, Tuple, Union

import numpy as np
import torch

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .video_tensor import as_pair, check_crop_fits, crop_video, get_video, set_video


@TRANSFORMS.register_module()
class ThreeCrop(BaseTransform):
    """Three crops along the long side: left/top, right/bottom, middle (MMAction2's order).

    One side of ``crop_size`` must equal the frames' side (resize the short side to the crop
    size first, e.g. ``Resize(scale=(-1, 224))`` then ``ThreeCrop(crop_size=224)``).

    Args:
        crop_size: side, or (w, h).
    """

    def __init__(self, crop_size: Union[int, Sequence[int]]) -> None:
        self.crop_size = as_pair(crop_size, "crop_size", "ThreeCrop")

    def transform(self, results: dict) -> dict:
        video = get_video(results, "ThreeCrop")
        h, w = int(video.shape[-2]), int(video.shape[-1])
        cw, ch = self.crop_size
        check_crop_fits("ThreeCrop", (h, w), (cw, ch), results)
        if ch == h:
            step = (w - cw) // 2
            offsets = [(0, 0), (2 * step, 0), (step, 0)]
        elif cw == w:
            step = (h - ch) // 2
            offsets = [(0, 0), (0, 2 * step), (0, step)]
        else:
            raise ValueError(
                f"ThreeCrop: crop (w={cw}, h={ch}) must match the frame width or height (w={w}, h={h}); "
                "resize the short side to the crop size first"
            )
        views = [crop_video(video, x, y, cw, ch) for x, y in offsets]
        set_video(results, torch.cat(views, dim=0))
        results["crop_bbox"] = np.array([[x, y, x + cw, y + ch] for x, y in offsets])
        results["num_crops"] = 3
        return results


@TRANSFORMS.register_module()
class TenCrop(BaseTransform):
    """Five crops (4 corners + centre on a 4 x 4 grid) and their horizontal flips.

    Order: for each of upper-left, upper-right, lower-left, lower-right, centre: the crop, then
    its mirror (MMAction2's order).

    Args:
        crop_size: side, or (w, h).
    """

    def __init__(self, crop_size: Union[int, Sequence[int]]) -> None:
        self.crop_size = as_pair(crop_size, "crop_size", "TenCrop")

    def transform(self, results: dict) -> dict:
        video = get_video(results, "TenCrop")
        h, w = int(video.shape[-2]), int(video.shape[-1])
        cw, ch = self.crop_size
        check_crop_fits("TenCrop", (h, w), (cw, ch), results)
        ws, hs = (w - cw) // 4, (h - ch) // 4
        offsets: List[Tuple[int, int]] = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
        views = []
        for x, y in offsets:
            crop = crop_video(video, x, y, cw, ch)
            views += [crop, crop.flip(-1)]
        set_video(results, torch.cat(views, dim=0))
        results["crop_bbox"] = np.array([[x, y, x + cw, y + ch] for x, y in offsets for _ in range(2)])
        results["num_crops"] = 10
        return results
