"""RandomResizedCrop and RandomCrop: random boxes, the same for every frame (crop only)."""

from typing import Sequence, Tuple

import numpy as np

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .unimplemented_args import warn_unimplemented
from .video_tensor import check_crop_fits, crop_video, get_video, set_video


def random_area_box(
    img_h: int,
    img_w: int,
    area_range: Tuple[float, float],
    aspect_ratio_range: Tuple[float, float],
    max_attempts: int = 10,
) -> Tuple[int, int, int, int]:
    """Draws a box of random area and aspect ratio (MMAction2's ``get_crop_bbox``).

    Ten candidates are drawn at once (aspect ratio log-uniform, area uniform); the first that
    fits is placed at a uniformly random position. If none fits, the centred square of side
    ``min(img_h, img_w)`` is used.

    Returns:
        (left, top, right, bottom) in pixels.
    """
    area = img_h * img_w
    lo, hi = aspect_ratio_range
    ratios = np.exp(np.random.uniform(np.log(lo), np.log(hi), size=max_attempts))
    areas = np.random.uniform(*area_range, size=max_attempts) * area
    widths = np.round(np.sqrt(areas * ratios)).astype(np.int64)
    heights = np.round(np.sqrt(areas / ratios)).astype(np.int64)
    for cw, ch in zip(widths, heights):
        if 0 < ch <= img_h and 0 < cw <= img_w:
            left = np.random.randint(0, img_w - cw + 1)
            top = np.random.randint(0, img_h - ch + 1)
            return int(left), int(top), int(left + cw), int(top + ch)
    side = min(img_h, img_w)
    left, top = (img_w - side) // 2, (img_h - side) // 2
    return left, top, left + side, top + side


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crops one random box (area and aspect ratio drawn at random) out of every frame.

    Like MMAction2's, it only crops: follow it with ``Resize(scale=(224, 224), keep_ratio=False)``.

    Args:
        area_range: fraction of the frame area, (min, max).
        aspect_ratio_range: width/height ratio range, drawn log-uniformly.
        lazy: MMAction2 argument; accepted, ignored.
    """

    def __init__(
        self,
        area_range: Sequence[float] = (0.08, 1.0),
        aspect_ratio_range: Sequence[float] = (3 / 4, 4 / 3),
        lazy: bool = False,
    ) -> None:
        area_range, aspect_ratio_range = tuple(area_range), tuple(aspect_ratio_range)
        if len(area_range) != 2 or not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(f"RandomResizedCrop: area_range must satisfy 0 < min <= max <= 1, got {area_range}")
        if len(aspect_ratio_range) != 2 or not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError(f"RandomResizedCrop: aspect_ratio_range must satisfy 0 < min <= max, got {aspect_ratio_range}")
        self.area_range = area_range
        self.aspect_ratio_range = aspect_ratio_range
        self.lazy = lazy
        warn_unimplemented(self, "lazy", lazy, False, "the crop runs at once")

    def transform(self, results: dict) -> dict:
        video = get_video(results, "RandomResizedCrop")
        h, w = int(video.shape[-2]), int(video.shape[-1])
        left, top, right, bottom = random_area_box(h, w, self.area_range, self.aspect_ratio_range)
        set_video(results, crop_video(video, left, top, right - left, bottom - top))
        results["crop_bbox"] = np.array([left, top, right, bottom])
        return results


@TRANSFORMS.register_module()
class RandomCrop(BaseTransform):
    """Crops a random ``size`` x ``size`` square, the same for every frame.

    Args:
        size: side of the square.
        lazy: MMAction2 argument; accepted, ignored.
    """

    def __init__(self, size: int, lazy: bool = False) -> None:
        if not isinstance(size, int) or size < 1:
            raise TypeError(f"RandomCrop: size must be a positive int, got {size!r}")
        self.size = size
        self.lazy = lazy
        warn_unimplemented(self, "lazy", lazy, False, "the crop runs at once")

    def transform(self, results: dict) -> dict:
        video = get_video(results, "RandomCrop")
        h, w = int(video.shape[-2]), int(video.shape[-1])
        check_crop_fits("RandomCrop", (h, w), (self.size, self.size), results)
        top = np.random.randint(0, h - self.size + 1)
        left = np.random.randint(0, w - self.size + 1)
        set_video(results, crop_video(video, left, top, self.size, self.size))
        results["crop_bbox"] = np.array([left, top, left + self.size, top + self.size])
        return results
