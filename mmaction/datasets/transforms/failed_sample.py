"""Placeholders for a test-time sample whose video cannot be read.

At test time the dataset does not drop an unreadable video (that would change the denominator
of the accuracy). It runs the pipeline again with ``results['decode_failed'] = True``; the
loading steps then skip the file and emit black frames of ``results['failed_frame_shape']``
(default (256, 340), the common Kinetics size), so the later resize/crop steps produce the same
output shape as for a readable video. ``PackActionInputs`` copies ``decode_failed`` into the
data sample's metainfo and the metric counts the video as wrong.
"""

import numpy as np
import torch
from torchvision import tv_tensors

DEFAULT_FAILED_FRAME_SHAPE = (256, 340)


def is_failed(results: dict) -> bool:
    """Whether the dataset marked this sample as unreadable."""
    return bool(results.get("decode_failed", False))


def black_frames(results: dict, num_frames: int) -> tv_tensors.Video:
    """``num_frames`` black RGB frames of the placeholder size.

    Args:
        results: the pipeline's dict (may hold ``failed_frame_shape`` = (H, W)).
        num_frames: N.

    Returns:
        tv_tensors.Video: uint8 zeros (N, 3, H, W).
    """
    h, w = results.get("failed_frame_shape", DEFAULT_FAILED_FRAME_SHAPE)
    return tv_tensors.Video(torch.zeros((int(num_frames), 3, int(h), int(w)), dtype=torch.uint8))


def placeholder_total_frames(results: dict) -> int:
    """The frame count to sample from when the real one is unknown (at least 1)."""
    total = results.get("total_frames")
    return int(total) if isinstance(total, (int, np.integer)) and total > 0 else 1
