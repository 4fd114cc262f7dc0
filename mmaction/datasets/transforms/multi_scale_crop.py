"""MultiScaleCrop: TSN's corner/centre crops at several scales (crop only)."""

import random
from typing import Sequence, Union

import numpy as np

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .unimplemented_args import warn_unimplemented
from .video_tensor import as_pair, crop_video, get_video, set_video


@TRANSFORMS.register_module()
class MultiScaleCrop(BaseTransform):
    """Crops a box whose sides are ``min(H, W) * s`` for scales ``s``, the same for every frame.

    Candidate (w, h) pairs combine two scales whose positions in ``scales`` differ by at most
    ``max_wh_scale_gap``; a side within 3 pixels of ``input_size`` snaps to it. The box is placed
    at random (``random_crop=True``) or at one of 5 (or 13) fixed positions on a 4 x 4 grid
    (corners, centre; with 13 also edge centres and quarter points). Follow it with
    ``Resize(scale=input_size, keep_ratio=False)``.

    Args:
        input_size: (w, h) or int, the size the crop is meant to be resized to.
        scales: crop side as a fraction of the short side.
        max_wh_scale_gap: see above.
        random_crop: place at random instead of the fixed grid.
        num_fixed_crops: 5 or 13.
        lazy: MMAction2 argument; accepted, ignored.
    """

    def __init__(
        self,
        input_size: Union[int, Sequence[int]],
        scales: Sequence[float] = (1,),
        max_wh_scale_gap: int = 1,
        random_crop: bool = False,
        num_fixed_crops: int = 5,
        lazy: bool = False,
    ) -> None:
        self.input_size = as_pair(input_size, "input_size", "MultiScaleCrop")
        if not isinstance(scales, (list, tuple)) or not scales:
            raise TypeError(f"MultiScaleCrop: scales must be a non-empty tuple, got {scales!r}")
        if num_fixed_crops not in (5, 13):
            raise ValueError(f"MultiScaleCrop: num_fixed_crops must be 5 or 13, got {num_fixed_crops}")
        self.scales = tuple(scales)
        self.max_wh_scale_gap = max_wh_scale_gap
        self.random_crop = random_crop
        self.num_fixed_crops = num_fixed_crops
        self.lazy = lazy
        warn_unimplemented(self, "lazy", lazy, False, "the crop runs at once")

    def transform(self, results: dict) -> dict:
        video = get_video(results, "MultiScaleCrop")
        img_h, img_w = int(video.shape[-2]), int(video.shape[-1])
        base = min(img_h, img_w)
        sizes = [int(base * s) for s in self.scales]
        candidates = [
            [w, h]
            for i, h in enumerate(sizes)
            for j, w in enumerate(sizes)
            if abs(i - j) <= self.max_wh_scale_gap
        ]
        crop = random.choice(candidates)
        for k in range(2):
            if abs(crop[k] - self.input_size[k]) < 3:
                crop[k] = self.input_size[k]
        crop_w, crop_h = min(crop[0], img_w), min(crop[1], img_h)
        if self.random_crop:
            left = random.randint(0, img_w - crop_w)
            top = random.randint(0, img_h - crop_h)
        else:
            ws, hs = (img_w - crop_w) // 4, (img_h - crop_h) // 4
            grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2)]
            if self.num_fixed_crops == 13:
                grid += [(0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3)]
            gx, gy = random.choice(grid)
            left, top = gx * ws, gy * hs
        set_video(results, crop_video(video, left, top, crop_w, crop_h))
        results["crop_bbox"] = np.array([left, top, left + crop_w, top + crop_h])
        results["scales"] = self.scales
        return results
