"""RandomErasing: erase one random box (the same box in every frame), timm-style."""

import math
from typing import Optional, Sequence

import numpy as np
import torch

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .unimplemented_args import warn_unimplemented
from .video_tensor import get_video, set_video

CLIP_MEAN = (122.769, 116.74, 104.04)
CLIP_STD = (68.493, 66.63, 70.321)


@TRANSFORMS.register_module()
class RandomErasing(BaseTransform):
    """timm's RandomErasing with AIM's arguments, applied identically to every frame of the clip.

    AIM applied timm's RandomErasing after normalisation, where ``mode='const'`` writes 0, i.e.
    the mean colour, and ``'rand'``/``'pixel'`` write N(0, 1) noise per channel / per pixel.
    Frames stay uint8 here (normalisation is on the device), so the same values are written on
    the 0-255 scale: ``mean`` (const) or ``clip(mean + std * N(0, 1))``. ``mean``/``std`` default
    to the ones a preceding ``Normalize`` recorded, else CLIP's.

    For each of ``count`` boxes (``count`` uniform in ``[min_count, max_count]``), up to 10
    attempts draw an area fraction in ``[min_area, max_area] / count`` and a log-uniform aspect
    ratio in ``[min_aspect, max_aspect]`` (``max_aspect`` defaults to ``1 / min_aspect``); the
    first box that fits strictly inside the frame is erased.

    Args:
        probability: chance of erasing anything.
        min_area, max_area: area fraction range.
        min_aspect, max_aspect: aspect ratio range.
        mode: ``'const'``, ``'rand'`` or ``'pixel'``.
        min_count, max_count: number of boxes.
        mean, std: RGB on the 0-255 scale (see above).
        num_splits, device: timm arguments; accepted, unused.
    """

    def __init__(
        self,
        probability: float = 0.5,
        min_area: float = 0.02,
        max_area: float = 1 / 3,
        min_aspect: float = 0.3,
        max_aspect: Optional[float] = None,
        mode: str = "const",
        min_count: int = 1,
        max_count: Optional[int] = None,
        mean: Optional[Sequence[float]] = None,
        std: Optional[Sequence[float]] = None,
        num_splits: int = 0,
        device: str = "cpu",
    ) -> None:
        if mode not in ("const", "rand", "pixel"):
            raise ValueError(f"RandomErasing: mode must be 'const', 'rand' or 'pixel', got {mode!r}")
        if not 0 <= probability <= 1:
            raise ValueError(f"RandomErasing: probability must be in [0, 1], got {probability}")
        if not 0 < min_area <= max_area <= 1:
            raise ValueError(f"RandomErasing: need 0 < min_area <= max_area <= 1, got {min_area}, {max_area}")
        self.probability = probability
        self.min_area, self.max_area = min_area, max_area
        max_aspect = max_aspect or 1 / min_aspect
        self.min_aspect, self.max_aspect = min_aspect, max_aspect
        self._log_aspect = (math.log(min_aspect), math.log(max_aspect))
        self.mode = mode
        self.min_count = min_count
        self.max_count = max_count or min_count
        self.mean, self.std = mean, std
        self.num_splits, self.device = num_splits, device
        warn_unimplemented(self, "num_splits", num_splits, 0, "every sample is erased the same way")
        warn_unimplemented(self, "device", device, "cpu", "erasing runs on the uint8 CPU frames")

    def _fill(self, results: dict, c: int, h: int, w: int) -> torch.Tensor:
        norm = results.get("img_norm_cfg", {})
        mean = torch.tensor(self.mean or norm.get("mean", CLIP_MEAN), dtype=torch.float32).view(-1, 1, 1)
        std = torch.tensor(self.std or norm.get("std", CLIP_STD), dtype=torch.float32).view(-1, 1, 1)
        if self.mode == "const":
            value = mean.expand(c, h, w)
        elif self.mode == "rand":
            value = mean + std * torch.randn(c, 1, 1)
        else:
            value = mean + std * torch.randn(c, h, w)
        return value.round().clamp(0, 255).to(torch.uint8).expand(c, h, w)

    def transform(self, results: dict) -> dict:
        if np.random.rand() >= self.probability:
            return results
        video = get_video(results, "RandomErasing")
        n, c, img_h, img_w = video.shape
        area = img_h * img_w
        count = self.min_count if self.min_count == self.max_count else np.random.randint(self.min_count, self.max_count + 1)
        out = None
        for _ in range(count):
            for _attempt in range(10):
                target = np.random.uniform(self.min_area, self.max_area) * area / count
                aspect = math.exp(np.random.uniform(*self._log_aspect))
                h = int(round(math.sqrt(target * aspect)))
                w = int(round(math.sqrt(target / aspect)))
                if 0 < w < img_w and 0 < h < img_h:
                    top = np.random.randint(0, img_h - h + 1)
                    left = np.random.randint(0, img_w - w + 1)
                    if out is None:
                        out = video.as_subclass(torch.Tensor).contiguous(memory_format=torch.channels_last).clone()
                    out[:, :, top : top + h, left : left + w] = self._fill(results, c, h, w)
                    break
        if out is not None:
            set_video(results, out)
        return results
