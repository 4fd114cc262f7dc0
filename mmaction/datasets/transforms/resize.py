"""Resize: scale every frame (MMAction2/mmcv size conventions)."""

from typing import Sequence, Tuple, Union

import numpy as np
import torchvision.transforms.v2.functional as F
from torchvision.transforms import InterpolationMode

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .unimplemented_args import warn_unimplemented
from .video_tensor import get_video, set_video

INTERPOLATIONS = {
    "nearest": InterpolationMode.NEAREST,
    "bilinear": InterpolationMode.BILINEAR,
    "bicubic": InterpolationMode.BICUBIC,
}


def rescaled_size(w: int, h: int, scale: Union[float, Tuple[float, float]]) -> Tuple[int, int]:
    """mmcv's ``rescale_size``: the (w, h) of an image resized by a factor or into a box.

    Args:
        w, h: current size.
        scale: a factor, or a box ``(long_edge_max, short_edge_max)`` in any order; an infinite
            long edge means "short side = the other number".

    Returns:
        (new_w, new_h), rounded half up.
    """
    if isinstance(scale, (int, float, np.floating, np.integer)):
        factor = float(scale)
    else:
        long_max, short_max = max(scale), min(scale)
        factor = min(long_max / max(h, w), short_max / min(h, w))
    return int(w * factor + 0.5), int(h * factor + 0.5)


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resizes all frames with the same size.

    Sizes follow MMAction2: ``scale`` is ``(w, h)``.

    - ``keep_ratio=True`` with ``scale=(-1, 256)`` (or ``(256, -1)``): the short side becomes 256.
    - ``keep_ratio=True`` with ``scale=(340, 256)``: the largest size that fits the box with
      long side <= 340 and short side <= 256.
    - ``keep_ratio=False`` with ``scale=(224, 224)``: exactly 224 x 224.
    - a float ``scale``: multiply both sides (``keep_ratio`` must be True).

    New sizes are rounded half up, as mmcv does. Interpolation uses torchvision on the uint8
    frames. ``antialias=False`` (default) matches mmcv/OpenCV's ``INTER_LINEAR`` used by the
    original AIM code (within +-1 grey level); ``antialias=True`` low-pass filters when shrinking
    (and is faster on CPU for uint8).

    Args:
        scale: target, see above.
        keep_ratio: keep the aspect ratio.
        interpolation: ``'bilinear'`` (default), ``'nearest'`` or ``'bicubic'``.
        antialias: see above.
        lazy: MMAction2 argument; accepted, resizing always runs at once.
    """

    def __init__(
        self,
        scale: Union[float, Sequence[int]],
        keep_ratio: bool = True,
        interpolation: str = "bilinear",
        antialias: bool = False,
        lazy: bool = False,
    ) -> None:
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"Resize: interpolation must be one of {sorted(INTERPOLATIONS)}, got {interpolation!r}")
        if isinstance(scale, (int, float)) and not isinstance(scale, bool):
            if scale <= 0:
                raise ValueError(f"Resize: scale factor must be positive, got {scale}")
            if not keep_ratio:
                raise ValueError("Resize: a scale factor needs keep_ratio=True")
            self.scale = float(scale)
        elif isinstance(scale, (list, tuple)) and len(scale) == 2:
            w, h = scale
            if keep_ratio:
                if min(scale) == -1 and max(scale) > 0:
                    self.scale = (np.inf, float(max(scale)))
                elif min(scale) > 0:
                    self.scale = (float(w), float(h))
                else:
                    raise ValueError(f"Resize: scale {scale!r} must be positive, or -1 for one side")
            else:
                if min(scale) <= 0:
                    raise ValueError(f"Resize: keep_ratio=False needs a positive (w, h), got {scale!r}")
                self.scale = (int(w), int(h))
        else:
            raise TypeError(f"Resize: scale must be a number or a (w, h) pair, got {scale!r}")
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation
        self.antialias = antialias
        self.lazy = lazy
        warn_unimplemented(self, "lazy", lazy, False, "resizing always runs at once")

    def transform(self, results: dict) -> dict:
        video = get_video(results, "Resize")
        h, w = int(video.shape[-2]), int(video.shape[-1])
        if self.keep_ratio:
            new_w, new_h = rescaled_size(w, h, self.scale)
        else:
            new_w, new_h = self.scale
        new_w, new_h = max(new_w, 1), max(new_h, 1)
        if (new_h, new_w) != (h, w):
            video = F.resize(
                video, [new_h, new_w], interpolation=INTERPOLATIONS[self.interpolation], antialias=self.antialias
            )
        set_video(results, video)
        results["keep_ratio"] = self.keep_ratio
        results["scale_factor"] = np.array([new_w / w, new_h / h], dtype=np.float32)
        return results
