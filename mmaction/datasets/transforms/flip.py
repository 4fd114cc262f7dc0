"""Flip: mirror every frame of the clip, with a probability."""

from typing import Dict, Optional

import numpy as np
import torchvision.transforms.v2.functional as F

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .unimplemented_args import warn_unimplemented
from .video_tensor import get_video, set_video


@TRANSFORMS.register_module()
class Flip(BaseTransform):
    """Flips all frames (same decision for the whole clip) with probability ``flip_ratio``.

    Args:
        flip_ratio: probability of flipping.
        direction: ``'horizontal'`` or ``'vertical'``.
        flip_label_map: ``{label: label_when_flipped}`` (e.g. "moving left" <-> "moving right").
        left_kp, right_kp: MMAction2 keypoint arguments; accepted, unused (no keypoints here).
        lazy: MMAction2 argument; accepted, ignored.
    """

    def __init__(
        self,
        flip_ratio: float = 0.5,
        direction: str = "horizontal",
        flip_label_map: Optional[Dict[int, int]] = None,
        left_kp=None,
        right_kp=None,
        lazy: bool = False,
    ) -> None:
        if direction not in ("horizontal", "vertical"):
            raise ValueError(f"Flip: direction must be 'horizontal' or 'vertical', got {direction!r}")
        if not 0.0 <= float(flip_ratio) <= 1.0:
            raise ValueError(f"Flip: flip_ratio must be in [0, 1], got {flip_ratio}")
        self.flip_ratio = float(flip_ratio)
        self.direction = direction
        self.flip_label_map = flip_label_map
        self.left_kp = left_kp
        self.right_kp = right_kp
        self.lazy = lazy
        warn_unimplemented(self, "left_kp", left_kp, None, "there are no keypoints to swap")
        warn_unimplemented(self, "right_kp", right_kp, None, "there are no keypoints to swap")
        warn_unimplemented(self, "lazy", lazy, False, "the flip runs at once")

    def transform(self, results: dict) -> dict:
        flip = self.flip_ratio > 0 and np.random.rand() < self.flip_ratio
        results["flip"] = bool(flip)
        results["flip_direction"] = self.direction
        if not flip:
            return results
        video = get_video(results, "Flip")
        video = F.horizontal_flip(video) if self.direction == "horizontal" else F.vertical_flip(video)
        set_video(results, video)
        if self.flip_label_map is not None and isinstance(results.get("label"), (int, np.integer)):
            results["label"] = self.flip_label_map.get(int(results["label"]), results["label"])
        return results
