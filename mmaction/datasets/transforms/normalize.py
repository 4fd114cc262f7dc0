"""Normalize: kept for old configs; the frames are NOT normalised here.

Normalising on the CPU would turn uint8 frames into float32 (4x the bytes through the
DataLoader and host-to-device copy). The preferred place is the model's data preprocessor
(``ActionDataPreprocessor(mean=..., std=...)``), which normalises on the device. This step only
records ``img_norm_cfg`` (used by ``RandomErasing`` to erase with the mean colour) and, with
``to_bgr=True``, swaps the channel order. The config loader
(:func:`mmaction.apis.config_loader.load_config`) refuses a config whose pipeline ``Normalize``
and model preprocessor disagree on mean/std (and the 0.x translation copies them over).
"""

from typing import Sequence

import numpy as np

from mmaction.registry import TRANSFORMS

from .base import BaseTransform
from .unimplemented_args import warn_unimplemented
from .video_tensor import get_video, set_video


@TRANSFORMS.register_module()
class Normalize(BaseTransform):
    """Records mean/std; frames stay uint8 (see the module docstring).

    Args:
        mean: per-channel mean, 0-255 scale.
        std: per-channel std, 0-255 scale.
        to_bgr: swap RGB to BGR.
        adjust_magnitude: MMAction2 flow argument; accepted, unused.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], to_bgr: bool = False, adjust_magnitude: bool = False) -> None:
        if not isinstance(mean, (list, tuple, np.ndarray)) or len(mean) != 3:
            raise TypeError(f"Normalize: mean must be 3 numbers, got {mean!r}")
        if not isinstance(std, (list, tuple, np.ndarray)) or len(std) != 3 or min(std) <= 0:
            raise TypeError(f"Normalize: std must be 3 positive numbers, got {std!r}")
        self.mean = [float(v) for v in mean]
        self.std = [float(v) for v in std]
        self.to_bgr = to_bgr
        self.adjust_magnitude = adjust_magnitude
        warn_unimplemented(self, "adjust_magnitude", adjust_magnitude, False, "there is no optical flow here")

    def transform(self, results: dict) -> dict:
        if self.to_bgr:
            set_video(results, get_video(results, "Normalize").flip(-3))
        results["img_norm_cfg"] = dict(mean=list(self.mean), std=list(self.std), to_bgr=self.to_bgr)
        return results
